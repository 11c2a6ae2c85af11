// What every part of the panel page shares: its configuration (the panel-config JSON the
// view renders), the one CtiSocket and the store of live calls. Connecting is panel.js's job.
import { CallStore } from "./calls.js";
import { CtiSocket } from "./socket.js";

export const config = JSON.parse(document.getElementById("panel-config").textContent);
export const socket = new CtiSocket();
export const store = new CallStore();

