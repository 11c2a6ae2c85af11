// Consultations (MakeConsultCall): while an operator consults a colleague, the line has two
// calls of its own, the held caller and the consultation (docs/call-events.md). This module
// names each card's part in the pair ("waiting", "consultation") from the store alone; the
// buttons stay cards.js's, drawn from each call's features (Complete transfer and Cancel
// from COMPLETE_TRANSFER). Sends no commands.
import { cards } from "./cards.js";
import { _ } from "./labels.js";
import { store } from "./session.js";

const ROLES = { waiting: _("waiting"), consultation: _("consultation") };

/** Key -> "waiting" | "consultation" for lines with more than one live call: the newest
 * call of the line is the consultation, the older ones wait for it. */
export function consultRoles(calls) {
  const lines = new Map();
  for (const call of calls) {
    const line = `${call.connector}:${call.line}`;
    if (!lines.has(line)) lines.set(line, []);
    lines.get(line).push(call);
  }
  const roles = new Map();
  for (const group of lines.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => (a.startedAt || 0) - (b.startedAt || 0));
    for (const call of group) roles.set(call.key, "waiting");
    roles.set(group[group.length - 1].key, "consultation");
  }
  return roles;
}

/** Label every card with its part in a consultation (or nothing). */
export function markConsultations() {
  const roles = consultRoles(store.list());
  for (const [key, card] of cards) {
    const role = roles.get(key) || "";
    card.dataset.consult = role;
    const label = card.querySelector(".consult-role");
    if (!label) continue;
    label.hidden = !role;
    label.textContent = ROLES[role] || "";
  }
}

/** Cards appear when this tab claims them (tabs.js), after the event that made them:
 * label a card as soon as it is drawn, too. */
export function init() {
  const list = document.getElementById("calls");
  if (list) new MutationObserver(markConsultations).observe(list, { childList: true });
}
