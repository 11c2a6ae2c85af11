// Who handed a call to this line: the receiving line's call events do not say, so the
// panel asks the server (telephony/web/views/cards.py) once a card appears, and again when
// the call changes, until it knows or the call is answered. Knows no DOM.
import { config } from "./session.js";

const TRIES = 3;
const tries = new Map(); // call key -> lookups made

/** Learn ``call.transferredBy``; resolves true when it changed (the card needs a redraw). */
export async function learnOrigin(call) {
  if (call.transferredBy || call.direction === "outgoing" || !config.callOriginUrl) return false;
  const made = tries.get(call.key) || 0;
  if (made >= TRIES) return false;
  tries.set(call.key, made + 1);
  const query = new URLSearchParams({ connector: call.connector, call: call.callId, line: call.line });
  try {
    const response = await fetch(`${config.callOriginUrl}?${query}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return false;
    const { transferred_by: by } = await response.json();
    if (!by) return false;
    call.transferredBy = by;
    return true;
  } catch {
    return false; // offline: the next change of the call tries again
  }
}

export function forgetOrigin(key) {
  tries.delete(key);
}
