// What every part of the panel page shares: its configuration (the panel-config JSON the
// view renders), the one CtiSocket and the store of live calls. Connecting is panel.js's job.
import { CallStore } from "./calls.js";
import { CtiSocket } from "./socket.js";

export let config = null;
export let socket = null;
export let store = null;

/** Read the page's configuration, make the socket and the store (panel.js calls it first). */
export function init() {
  config = JSON.parse(document.getElementById("panel-config").textContent);
  socket = new CtiSocket();
  store = new CallStore();
}

