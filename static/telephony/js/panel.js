// The operator's call panel (entry module): wires the socket's hello and events to the
// call cards, lines and toasts, then connects. Each part of the page has its own module:
// cards.js, consult.js, actions.js, directory.js, dialbox.js, keyboard.js, statusbar.js.
import { headline } from "./calls.js";
import { handledHere, init as initActions } from "./actions.js";
import { init as initAlerts } from "./alerts.js";
import { capabilities, cards, init as initCards, redraw, removeCard, update } from "./cards.js";
import { init as initConsult, markConsultations } from "./consult.js";
import { dialFromQuery, init as initDialBox } from "./dialbox.js";
import { init as initDirectory } from "./directory.js";
import { init as initKeyboard } from "./keyboard.js";
import { _, errorText, format } from "./labels.js";
import { forgetOrigin, learnOrigin } from "./origin.js";
import { config, init as initSession, socket, store } from "./session.js";
import {
  init as initStatusBar,
  onLineState,
  refreshLines,
  restoreDnd,
  showPbx,
} from "./statusbar.js";
import { forget, init as initTabs, onPeerMessage } from "./tabs.js";
import { toast } from "./toasts.js";
import { offerWrapUp } from "./wrapup.js";

// Importing a module only defines things; each part of the page starts here, in this order
// (the session first: every other part uses its config, socket and store).
initSession();
initDirectory();
initTabs();
initAlerts();
initCards();
initActions();
initConsult();
initDialBox();
initStatusBar();
initKeyboard();

const banner = document.getElementById("banner");

onPeerMessage((message) => {
  if (message.type === "handled" && !cards.has(message.key)) forget(message.key);
});

socket.addEventListener("hello", ({ detail }) => {
  const { hello, missed, reconnected } = detail;
  banner.hidden = true;
  for (const connector of hello.connectors) {
    capabilities.set(String(connector.id), connector.capabilities || {});
    showPbx(connector.status, connector.id);
  }
  for (const event of missed) {
    if (event.event === "RingFinished" && event.disposition === "missed") {
      const call = store.blank(event);
      store.merge(call, event);
      toastMissed(call);
    }
  }
  // The snapshot is the truth about live calls: drop the cards of calls that ended while
  // we were away, redraw the others (the same card, never a second one).
  restoreDnd(hello.lines || []);
  const { removed } = store.reset(hello.snapshot || []);
  for (const key of removed) removeCard(key);
  for (const call of store.list()) {
    update(call);
    lookUpOrigin(call);
  }
  markConsultations();
  if (reconnected) {
    toast(_("Reconnected."), "ok");
    refreshMissedBadge();
  }
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
    if (cards.has(call.key)) offerWrapUp(call); // the tab that showed the call wraps it up
    removeCard(call.key);
    forgetOrigin(call.key);
    const rejected = handledHere.delete(call.key);
    if (call.disposition === "missed" && call.direction !== "outgoing" && !rejected) {
      toastMissed(call);
    }
  } else {
    update(call);
    if (kind === "added" || call.state === "ringing" || event.event === "CommutationStarted") {
      lookUpOrigin(call);
    }
  }
  markConsultations();
  refreshLines();
});

function toastMissed(call) {
  const who = headline(call, config.colleagues || {});
  const name = [who.title, who.number].filter(Boolean).join(" ") || _("Unknown caller");
  toast(format(_("Missed call from %s"), [name]), "warning");
  refreshMissedBadge();
}

/** The top bar's count of missed calls not yet seen: the server keeps the "seen" mark. */
async function refreshMissedBadge() {
  const badge = document.getElementById("missed-badge");
  if (!badge || !config.missedCountUrl) return;
  try {
    const response = await fetch(config.missedCountUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const { unseen } = await response.json();
    badge.textContent = String(unseen);
    badge.hidden = !unseen;
  } catch {
    // Offline: the next missed call or page load counts again.
  }
}

async function lookUpOrigin(call) {
  if (await learnOrigin(call)) redraw(call);
}

socket.addEventListener("status", ({ detail }) => showPbx(detail.status, detail.connector));
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
