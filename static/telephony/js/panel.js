// The operator's call panel (entry module): wires the socket's hello and events to the
// call cards, lines and toasts, then connects. Each part of the page has its own module:
// cards.js, actions.js, directory.js, dialbox.js, keyboard.js, statusbar.js.
import { otherParty } from "./calls.js";
import { handledHere } from "./actions.js";
import { capabilities, cards, removeCard, update } from "./cards.js";
import { dialFromQuery } from "./dialbox.js";
import { _, errorText, format } from "./labels.js";
import { socket, store } from "./session.js";
import { onLineState, refreshLines, showPbx } from "./statusbar.js";
import { forget, onPeerMessage } from "./tabs.js";
import { toast } from "./toasts.js";
import "./keyboard.js";

const banner = document.getElementById("banner");

onPeerMessage((message) => {
  if (message.type === "handled" && !cards.has(message.key)) forget(message.key);
});

socket.addEventListener("hello", ({ detail }) => {
  const { hello, missed, reconnected } = detail;
  banner.hidden = true;
  for (const connector of hello.connectors) {
    capabilities.set(String(connector.id), connector.capabilities || {});
    showPbx(connector.status);
  }
  for (const event of missed) {
    if (event.event === "RingFinished" && event.disposition === "missed") {
      const party = event.caller_number || "";
      toast(format(_("Missed call from %s"), [party]), "warning");
    }
  }
  // The snapshot is the truth about live calls: drop the cards of calls that ended while
  // we were away, redraw the others (the same card, never a second one).
  const { removed } = store.reset(hello.snapshot || []);
  for (const key of removed) removeCard(key);
  for (const call of store.list()) update(call);
  if (reconnected) toast(_("Reconnected."), "ok");
  dialFromQuery();
  refreshLines();
});

socket.addEventListener("event", ({ detail: event }) => {
  if (event.event === "LineStateChanged") {
    onLineState(event);
    return;
  }
  if (!event.call_id) return;
  const { kind, call } = store.apply(event);
  if (kind === "removed") {
    removeCard(call.key);
    const rejected = handledHere.delete(call.key);
    if (call.disposition === "missed" && call.direction !== "outgoing" && !rejected) {
      toast(format(_("Missed call from %s"), [otherParty(call).number || ""]), "warning");
    }
  } else {
    update(call);
  }
  refreshLines();
});

socket.addEventListener("status", ({ detail }) => showPbx(detail.status));
socket.addEventListener("late-result", ({ detail }) => {
  if (!detail.ok) toast(errorText(detail), "error");
});
socket.addEventListener("down", () => {
  banner.hidden = false;
  showPbx(null);
});
socket.addEventListener("unauthenticated", () => {
  window.location.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
});
socket.addEventListener("forbidden", () => {
  toast(_("No phone line is assigned to your account."), "error");
});
socket.addEventListener("replaced", () => {
  banner.hidden = false;
  showPbx(null);
  toast(_("This panel was closed: it is open in too many other windows."), "error");
});

socket.connect();
