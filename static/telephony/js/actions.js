// What the operator does to a call: card buttons and keypad digits become socket commands.
// Knows the command names of docs/websocket-api.md; drawing is cards.js's job.
import { cardError, cards, redraw, select } from "./cards.js";
import { openTransfer } from "./directory.js";
import { errorText } from "./labels.js";
import { socket, store } from "./session.js";
import { announce } from "./tabs.js";
import * as alerts from "./alerts.js";

const $ = (selector, root = document) => root.querySelector(selector);
export const handledHere = new Set(); // calls this tab answered or hung up: no "missed" toast

/** Send ``command`` for the call ``key``; its error shows on the card. */
export async function callCommand(key, command, fields = {}) {
  const call = store.get(key);
  if (!call) return null;
  cardError(key, "");
  if (command === "AnswerCall" || command === "DropCall") {
    handledHere.add(key);
    alerts.stopRing(key);
    announce("handled", key);
  }
  const result = await socket.command(command, { callId: call.callId, ...fields });
  if (!result.ok) cardError(key, errorText(result));
  else if (command === "SendDtmf") {
    // The card lists the digits sent (menu choices, extensions) for the rest of the call.
    call.dtmf = (call.dtmf || "") + fields.digits;
    redraw(call);
  }
  return result;
}

/** Press the card's ``action`` button, if it is there and enabled (shortcuts use it too). */
export function act(key, action) {
  const card = cards.get(key);
  const call = store.get(key);
  if (!card || !call) return;
  const button = $(`[data-action="${action}"]`, card);
  if (!button || button.disabled || button.hidden) return;
  switch (action) {
    case "answer":
      callCommand(key, "AnswerCall");
      break;
    case "drop":
      callCommand(key, "DropCall");
      break;
    case "hold":
      callCommand(key, "HoldCall");
      break;
    case "transfer":
      openTransfer(key);
      break;
    case "complete":
      callCommand(key, "TransferCall");
      break;
    case "cancel":
      callCommand(key, "CancelTransfer");
      break;
    case "keypad":
      $(".keypad", card).hidden = !$(".keypad", card).hidden;
      break;
    default:
      break;
  }
}

/** One listener for every card, present and future (cards come and go with calls). */
export function init() {
  $("#calls").addEventListener("click", (event) => {
    const card = event.target.closest(".call-card");
    if (!card || !cards.has(card.dataset.key)) return;
    const key = card.dataset.key;
    select(key);
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    if (button.dataset.digit) {
      callCommand(key, "SendDtmf", { digits: button.dataset.digit });
      return;
    }
    act(key, button.dataset.action);
  });
}
