// The dial box (#dial-form), tel: links handed over by other tabs (tabs.js) or pages
// (tel.js through window.ctiDial), and ?dial= in the panel's address.
import { _, errorText, format } from "./labels.js";
import { socket } from "./session.js";
import { serveDialRequests } from "./tabs.js";
import { toast } from "./toasts.js";

const $ = (selector, root = document) => root.querySelector(selector);
let dialledFromQuery = false;

/** Ask the PBX to call ``number`` from the operator's (chosen) line. */
export async function dial(number) {
  const target = String(number || "").trim();
  if (!target) return;
  const fields = { targetAddress: target };
  const choice = $("#dial-line");
  if (choice) {
    const [connector, line] = choice.value.split(":");
    Object.assign(fields, { connector: Number(connector), line });
  }
  const result = await socket.command("MakeCall", fields);
  if (result.ok) {
    toast(format(_("Calling %s…"), [target]), "ok");
    $("#dial-number").value = "";
  } else {
    toast(errorText(result), "error");
  }
}
/** Take dial requests from other tabs, pages (tel.js) and the dial box (panel.js calls it). */
export function init() {
  window.ctiDial = dial;
  serveDialRequests(dial);
  $("#dial-form").addEventListener("submit", (event) => {
    event.preventDefault();
    dial($("#dial-number").value);
  });
}

/** Dial the page's ?dial= number once, when the socket first says hello. */
export function dialFromQuery() {
  const number = new URLSearchParams(location.search).get("dial");
  if (!number || dialledFromQuery) return;
  dialledFromQuery = true;
  history.replaceState(null, "", location.pathname);
  dial(number);
}
