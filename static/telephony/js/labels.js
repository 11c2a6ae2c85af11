// The panel's words: gettext from Django's JavaScript catalog (the jsi18n script that
// base.html loads before any module), state and direction names, command error texts.
// Knows no DOM and no socket.

export const _ = globalThis.gettext || ((text) => text);
export const format = globalThis.interpolate || ((text) => text);

export const DIRECTIONS = {
  incoming: _("Incoming"),
  outgoing: _("Outgoing"),
  internal: _("Internal"),
};
export const STATES = {
  ringing: _("ringing"),
  connected: _("connected"),
  held: _("on hold"),
  busy: _("busy"),
  finished: _("finished"),
  idle: _("idle"),
  dnd: _("do not disturb"),
};
const ERRORS = {
  "not-your-call": _("This call is not on your line."),
  "invalid-number": _("This number cannot be dialled."),
  "invalid-state": _("Not possible in the call's current state."),
  unsupported: _("The phone system cannot do this here."),
  "no-such-call": _("The call has already ended."),
  "pbx-unreachable": _("The phone system is not connected."),
  timeout: _("No answer from the phone system."),
  "rate-limited": _("Too many commands; wait a moment."),
  disconnected: _("Not connected to the server."),
};

/** What to tell the operator about a failed command result ({code, message}). */
export function errorText(result) {
  return ERRORS[result.code] || result.message || result.code || _("The command failed.");
}
