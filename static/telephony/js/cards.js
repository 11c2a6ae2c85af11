// Call cards: one per live call this tab shows, drawn from the #call-card template, its
// buttons from the call's features bitmask only (and the connector's capabilities), the
// selection, the timers, ring and notification. Sends no commands (actions.js does).
import { Feature, formatDuration, has, otherParty } from "./calls.js";
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
  const party = otherParty(call);
  card.dataset.state = call.state;
  card.dataset.direction = call.direction;
  card.dataset.features = String(call.features);
  $(".direction", card).textContent = DIRECTIONS[call.direction] || call.direction;
  const state = $(".state", card);
  state.textContent = STATES[call.state] || call.state;
  state.dataset.state = call.state;
  $(".party-name", card).textContent = party.name || _("Unknown caller");
  const number = $(".party-number", card);
  number.textContent = party.number || "";
  number.href = party.number ? `tel:${party.number}` : "#";
  const contact = $(".contact", card);
  contact.hidden = !call.contact;
  if (call.contact) {
    const link = $(".contact-link", card);
    link.textContent = call.contact.name;
    link.href = config.contactUrl.replace("/0/", `/${call.contact.id}/`);
    $(".contact-company", card).textContent = call.contact.company || "";
  }
  $(".meta-line", card).textContent = format(_("line %s"), [call.line]);
  const queue = $(".meta-queue", card);
  queue.hidden = !call.queue;
  queue.textContent = call.queue ? format(_("queue %s"), [call.queue]) : "";
  renderButtons(card, call);
  tick();
  $("#no-calls").hidden = cards.size > 0;
  if (!selectedKey || !cards.has(selectedKey)) select(call.key);
}

function renderButtons(card, call) {
  const caps = capsOf(call);
  const features = call.features;
  const button = (action) => $(`[data-action="${action}"]`, card);
  const answer = button("answer");
  answer.hidden = caps.answer === false;
  answer.disabled = !has(features, Feature.ANSWER);
  button("drop").disabled = !has(features, Feature.DROP);
  const hold = button("hold");
  const resumes = has(features, Feature.UNHOLD);
  hold.textContent = resumes ? _("Resume") : _("Hold");
  hold.dataset.mode = resumes ? "resume" : "hold";
  hold.disabled = !(resumes || has(features, Feature.HOLD));
  button("transfer").disabled = !(
    has(features, Feature.BLIND_TRANSFER) || has(features, Feature.MAKE_CONSULT_CALL)
  );
  const completes = has(features, Feature.COMPLETE_TRANSFER);
  button("complete").hidden = !completes;
  button("cancel").hidden = !(completes && caps.cancel_transfer !== false);
  // No features bit says "DTMF": the keypad follows the hang-up bit of a talking call.
  const talking = call.state === "connected" || call.state === "held";
  const keypad = button("keypad");
  keypad.disabled = !(talking && has(features, Feature.DROP) && caps.dtmf !== false);
  if (keypad.disabled) $(".keypad", card).hidden = true;
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
    const since = call.state === "ringing" ? call.startedAt : call.answeredAt || call.startedAt;
    $(".timer", card).textContent = formatDuration(now - since);
  }
}
setInterval(tick, 1000);

function show(call) {
  // Every call, not only ringing ones: a call answered in another tab stays there.
  claim(call.key, () => {
    const current = store.get(call.key);
    if (!current) return;
    render(current);
    if (current.state === "ringing" && current.direction !== "outgoing") {
      alerts.startRing(current.key);
      const party = otherParty(current);
      alerts.notify(
        current.key,
        format(_("Incoming call on line %s"), [current.line]),
        [party.name || "", party.number || "", current.contact?.company || ""]
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
