// Keyboard shortcuts of the panel (listed in panel.html's "Keyboard shortcuts"): answer,
// hang up, hold, transfer, keypad digits, dial box, moving the selection between cards.
import { act, callCommand } from "./actions.js";
import { cards, select, selectedKey } from "./cards.js";
import { store } from "./session.js";

const $ = (selector, root = document) => root.querySelector(selector);

function ringingKey() {
  return store.list().find((call) => call.state === "ringing" && cards.has(call.key))?.key;
}

/** Listen for the shortcuts (panel.js calls it). */
export function init() {
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, select, textarea, dialog");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    const keypadOpen = selectedKey && !$(".keypad", cards.get(selectedKey))?.hidden;
    if (keypadOpen && /^[0-9*#]$/.test(key)) {
      callCommand(selectedKey, "SendDtmf", { digits: key });
      return;
    }
    const lower = key.toLowerCase();
    if (lower === "a") {
      const ringing = ringingKey();
      if (ringing) act(ringing, "answer");
    } else if (lower === "h" && event.shiftKey) {
      if (selectedKey) act(selectedKey, "hold");
    } else if (lower === "h") {
      if (selectedKey) act(selectedKey, "drop");
    } else if (key === " ") {
      if (selectedKey) {
        event.preventDefault();
        act(selectedKey, "hold");
      }
    } else if (lower === "t") {
      if (selectedKey) act(selectedKey, "transfer");
    } else if (lower === "k") {
      if (selectedKey) act(selectedKey, "keypad");
    } else if (lower === "d" || key === "/") {
      event.preventDefault();
      $("#dial-number").focus();
    } else if (key === "ArrowDown" || key === "ArrowUp") {
      const keys = [...cards.keys()];
      if (!keys.length) return;
      const at = keys.indexOf(selectedKey);
      const step = key === "ArrowDown" ? 1 : -1;
      select(keys[(at + step + keys.length) % keys.length]);
      event.preventDefault();
    }
  });
}
