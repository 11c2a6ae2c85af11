// The status bar: each own line's state pill and do-not-disturb switch, the PBX pill, and
// the button that asks for desktop notifications.
import { _, errorText, STATES } from "./labels.js";
import { lineState } from "./linestate.js";
import { LinkStates } from "./links.js";
import { config, socket, store } from "./session.js";
import { announce, onPeerMessage } from "./tabs.js";
import * as alerts from "./alerts.js";
import { toast } from "./toasts.js";

const $ = (selector, root = document) => root.querySelector(selector);

function ownLine(connector, line) {
  return $(`.line[data-connector="${connector}"][data-line="${line}"]`);
}

/** Recompute each line's pill from its live calls and its DND switch. */
export function refreshLines() {
  for (const row of document.querySelectorAll("#lines .line")) {
    const calls = store.list().filter(
      (call) => String(call.connector) === row.dataset.connector && call.line === row.dataset.line,
    );
    const state = lineState(
      calls.map((call) => call.state),
      $(".dnd-toggle", row).checked,
    );
    const pill = $(".line-state", row);
    pill.dataset.state = state;
    pill.textContent = STATES[state];
  }
}

export function onLineState(event) {
  // Most LineStateChanged only restate the line's features after a transition (the cards
  // already carry theirs). The switch follows only the worker's word on the line's DND (its
  // AstDB key, docs/dnd.md): a queue pause is not DND, and a supervisor resuming the member
  // must not clear the switch while the PBX still sends direct calls to busy.
  if (typeof event.dnd === "boolean") showDnd(event.connector, event.line, event.dnd);
}

/** The lines' DND switches from the hello: the server keeps DND, so a reload shows it. */
export function restoreDnd(lines) {
  for (const line of lines) showDnd(line.connector, line.line, Boolean(line.dnd));
}

function showDnd(connector, line, enabled) {
  const row = ownLine(connector, line);
  if (!row) return;
  $(".dnd-toggle", row).checked = enabled;
  refreshLines();
}

/** Wire the DND switches and the notifications button (panel.js calls it). */
export function init() {
  // Another tab of this browser switched DND: follow it at once (other browsers see it in
  // their directory and at their next hello).
  onPeerMessage((message) => {
    if (message.type === "dnd") showDnd(message.connector, message.line, message.enabled);
  });

  for (const row of document.querySelectorAll("#lines .line")) {
    $(".dnd-toggle", row).addEventListener("change", async (event) => {
      const enabled = event.target.checked;
      const connector = Number(row.dataset.connector);
      const line = row.dataset.line;
      const result = await socket.command("SetDnd", { enabled, line, connector });
      if (!result.ok) {
        event.target.checked = !enabled;
        toast(errorText(result), "error");
      } else {
        announce("dnd", `${connector}:${line}`, { connector: String(connector), line, enabled });
      }
      refreshLines();
    });
  }

  const enable = $("#enable-notifications");
  enable.hidden = !alerts.notificationsWanted();
  enable.addEventListener("click", async () => {
    await alerts.askForNotifications();
    enable.hidden = !alerts.notificationsWanted();
  });
}

const links = new LinkStates();

/** The PBX pill: ``status`` of ``connector`` from a hello or connector.status; null when
 * we cannot know (the socket is down). Down as soon as any of the user's PBXs is down. */
export function showPbx(status, connector) {
  const pill = $("#pbx-state");
  if (!status) links.clear();
  else links.set(connector, status);
  const { state, error } = links.summary();
  pill.dataset.state = state;
  if (state === "unknown") {
    pill.textContent = _("PBX: unknown");
  } else if (state === "up") {
    pill.textContent = _("PBX connected");
    pill.title = "";
  } else {
    pill.textContent = _("PBX disconnected");
    pill.title = error;
  }
}
