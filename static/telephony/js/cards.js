// Call cards: one per live call this tab shows, drawn from the #call-card template, its
// buttons from the call's features bitmask only (and the connector's capabilities), the
// selection, the timers, ring and notification. Sends no commands (actions.js does).
import { elapsed, Feature, formatDuration, has, headline } from "./calls.js";
import { closeTransfer } from "./directory.js";
import { _, DIRECTIONS, format, STATES } from "./labels.js";
import { config, store } from "./session.js";
import { claim, forget } from "./tabs.js";
import * as alerts from "./alerts.js";
import { toast } from "./toasts.js";

const $ = (selector, root = document) => root.querySelector(selector);
export const cards = new Map(); // call key -> card element
export const capabilities = new Map(); // connector id -> capabilities
export let selectedKey = null;

function capsOf(call) {
  return capabilities.get(String(call.connector)) || {};
}

function render(call) {
  let card = cards.get(call.key);
  if (!card) {
    card = $("#call-card").content.firstElementChild.cloneNode(true);
    card.dataset.key = call.key;
    card.dataset.callId = call.callId;
    card.addEventListener("focus", () => select(call.key));
    cards.set(call.key, card);
    $("#calls").append(card);
  }
  const who = headline(call, config.colleagues || {});
  card.dataset.state = call.state;
  card.dataset.direction = call.direction;
  card.dataset.features = String(call.features);
  $(".direction", card).textContent = DIRECTIONS[call.direction] || call.direction;
  const state = $(".state", card);
  state.textContent = STATES[call.state] || call.state;
  state.dataset.state = call.state;
  const name = $(".party-name", card);
  name.textContent = who.title || _("Unknown caller");
  name.dataset.source = who.source;
  // The number once: as the headline when nothing names it, else as a tel: link beside it.
  const number = $(".party-number", card);
  const dialable = who.number || (who.source === "number" ? who.title : "");
  number.hidden = !who.number;
  number.textContent = who.number;
  number.href = dialable ? `tel:${dialable}` : "#";
  const contact = $(".contact", card);
  contact.hidden = !call.contact;
  if (call.contact) {
    const link = $(".contact-link", card);
    link.textContent = who.source === "contact" ? _("Contact card") : call.contact.name;
    link.href = config.contactUrl.replace("/0/", `/${call.contact.id}/`);
    $(".contact-company", card).textContent = call.contact.company || "";
  }
  const transferred = $(".transferred-by", card);
  transferred.hidden = !call.transferredBy;
  transferred.textContent = call.transferredBy
    ? format(_("transferred by %s"), [call.transferredBy.name])
    : "";
  const dtmf = $(".dtmf", card);
  dtmf.hidden = !call.dtmf;
  dtmf.textContent = call.dtmf ? format(_("keys sent: %s"), [call.dtmf]) : "";
  $(".meta-line", card).textContent = format(_("line %s"), [call.line]);
  const queue = $(".meta-queue", card);
  queue.hidden = !call.queue;
  queue.textContent = call.queue ? format(_("queue %s"), [call.queue]) : "";
  renderButtons(card, call);
  tick();
  $("#no-calls").hidden = cards.size > 0;
  if (!selectedKey || !cards.has(selectedKey)) select(call.key);
}

/** Each button shows only while the call's CallFeaturesSet (and the connector) allows it:
 * no greyed-out Answer on an answered call. */
function renderButtons(card, call) {
  const caps = capsOf(call);
  const features = call.features;
  const show = (action, allowed) => {
    const button = $(`[data-action="${action}"]`, card);
    button.hidden = !allowed;
    button.disabled = !allowed;
    return button;
  };
  show("answer", caps.answer !== false && has(features, Feature.ANSWER));
  show("drop", has(features, Feature.DROP));
  const resumes = has(features, Feature.UNHOLD);
  const hold = show("hold", resumes || has(features, Feature.HOLD));
  hold.textContent = resumes ? _("Resume") : _("Hold");
  hold.dataset.mode = resumes ? "resume" : "hold";
  show(
    "transfer",
    has(features, Feature.BLIND_TRANSFER) || has(features, Feature.MAKE_CONSULT_CALL),
  );
  const completes = has(features, Feature.COMPLETE_TRANSFER);
  show("complete", completes);
  show("cancel", completes && caps.cancel_transfer !== false);
  // No features bit says "DTMF": the keypad follows the hang-up bit of a talking call.
  const talking = call.state === "connected" || call.state === "held";
  const keypad = show("keypad", talking && has(features, Feature.DROP) && caps.dtmf !== false);
  if (keypad.hidden) $(".keypad", card).hidden = true;
}

/** Redraw ``call`` if this tab shows its card (after something only the panel learnt). */
export function redraw(call) {
  if (cards.has(call.key)) render(call);
}

export function removeCard(key) {
  const card = cards.get(key);
  if (card) card.remove();
  cards.delete(key);
  alerts.stopRing(key);
  alerts.closeNotification(key);
  forget(key);
  closeTransfer(key);
  if (selectedKey === key) {
    selectedKey = null;
    const next = cards.keys().next();
    if (!next.done) select(next.value);
  }
  $("#no-calls").hidden = cards.size > 0;
}

export function select(key) {
  selectedKey = key;
  for (const [other, card] of cards) card.classList.toggle("selected", other === key);
}

function tick() {
  const now = Date.now();
  for (const [key, card] of cards) {
    const call = store.get(key);
    if (!call) continue;
    $(".timer", card).textContent = formatDuration(elapsed(call, now));
  }
}

/** Start the cards' timers (panel.js calls it). */
export function init() {
  setInterval(tick, 1000);
}

function show(call) {
  // Every call, not only ringing ones: a call answered in another tab stays there.
  claim(call.key, () => {
    const current = store.get(call.key);
    if (!current) return;
    render(current);
    if (current.state === "ringing" && current.direction !== "outgoing") {
      alerts.startRing(current.key);
      const who = headline(current, config.colleagues || {});
      alerts.notify(
        current.key,
        format(_("Call from %s"), [who.title || _("Unknown caller")]),
        [who.number, current.contact?.company || "", format(_("line %s"), [current.line])]
          .filter(Boolean)
          .join(" · "),
        () => select(current.key),
      );
    }
  });
}

/** Draw ``call`` (new or changed) if this tab shows it; stop ringing once it stops. */
export function update(call) {
  if (cards.has(call.key)) render(call);
  else show(call);
  if (call.state !== "ringing") {
    alerts.stopRing(call.key);
    alerts.closeNotification(call.key);
  }
}

/** Show ``text`` (or clear it, when empty) in the card's error line; a toast without card. */
export function cardError(key, text) {
  const card = cards.get(key);
  const box = card ? $(".card-error", card) : null;
  if (!box) {
    toast(text, "error");
    return;
  }
  box.textContent = text;
  box.hidden = !text;
}
