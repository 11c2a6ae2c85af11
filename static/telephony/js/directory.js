// Colleagues: the directory lists (side bar and transfer dialog), refreshed every few
// seconds, and the transfer dialog that picks a colleague or a number for a call.
import { Feature, has } from "./calls.js";
import { _, errorText, STATES } from "./labels.js";
import { config, socket, store } from "./session.js";

const REFRESH_MS = 5000;
const $ = (selector, root = document) => root.querySelector(selector);
let dialog = null; // the transfer dialog, found by init()
let transferKey = null; // the call the open dialog transfers

export async function loadDirectory() {
  try {
    const response = await fetch(config.directoryUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const { lines } = await response.json();
    for (const list of document.querySelectorAll("ul.directory")) fillDirectory(list, lines);
  } catch {
    // Offline: the banner already says so; try again on the next round.
  }
}

function fillDirectory(list, lines) {
  const pick = list.classList.contains("pick");
  list.replaceChildren(
    ...lines
      .filter((entry) => !entry.mine)
      .map((entry) => {
        const item = document.createElement("li");
        item.dataset.line = entry.line;
        item.dataset.state = entry.state;
        const label = pick ? document.createElement("button") : document.createElement("a");
        if (pick) {
          label.type = "button";
          label.addEventListener("click", () => {
            $("#transfer-number").value = entry.line;
          });
        } else {
          label.href = `tel:${entry.line}`;
        }
        label.textContent = `${entry.line} ${entry.name}`;
        const state = document.createElement("span");
        state.className = "pill";
        state.dataset.state = entry.state;
        state.textContent = STATES[entry.state] || entry.state;
        item.append(label, " ", state);
        return item;
      }),
  );
}

/** Open the transfer dialog for the call ``key``, its buttons from the call's features. */
export function openTransfer(key) {
  const call = store.get(key);
  transferKey = key;
  $("[data-transfer=blind]", dialog).disabled = !has(call.features, Feature.BLIND_TRANSFER);
  $("[data-transfer=consult]", dialog).disabled = !has(call.features, Feature.MAKE_CONSULT_CALL);
  $(".card-error", dialog).hidden = true;
  $("#transfer-number").value = "";
  loadDirectory();
  dialog.showModal();
  $("#transfer-number").focus();
}

/** The call ``key`` is gone: close the dialog if it was transferring that call. */
export function closeTransfer(key) {
  if (transferKey === key) dialog.close();
}

/** Wire the transfer dialog and start refreshing the directory (panel.js calls it). */
export function init() {
  dialog = $("#transfer-dialog");
  for (const button of dialog.querySelectorAll("[data-transfer]")) {
    button.addEventListener("click", async () => {
      const target = $("#transfer-number").value.trim();
      const error = $(".card-error", dialog);
      if (!target || !transferKey) {
        error.textContent = _("Choose a colleague or type a number.");
        error.hidden = false;
        return;
      }
      const command =
        button.dataset.transfer === "blind" ? "BlindTransferCall" : "MakeConsultCall";
      const call = store.get(transferKey);
      if (!call) return;
      const result = await socket.command(command, { callId: call.callId, targetAddress: target });
      if (result.ok) {
        dialog.close();
      } else {
        error.textContent = errorText(result);
        error.hidden = false;
      }
    });
  }
  dialog.addEventListener("close", () => {
    transferKey = null;
  });

  setInterval(loadDirectory, REFRESH_MS);
  loadDirectory();
}
