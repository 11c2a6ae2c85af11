// The supervisor's page: every live call of every connector, each line's state, counts.
import { CallStore, formatDuration, otherParty } from "./calls.js";
import { LinkStates } from "./links.js";
import { CtiSocket } from "./socket.js";

const _ = window.gettext || ((text) => text);
const config = JSON.parse(document.getElementById("supervisor-config").textContent);
const $ = (selector) => document.querySelector(selector);
const socket = new CtiSocket({ supervise: true });
const store = new CallStore();
const STATES = {
  ringing: _("ringing"),
  connected: _("connected"),
  held: _("on hold"),
  busy: _("busy"),
  idle: _("idle"),
};
const DIRECTIONS = { incoming: _("Incoming"), outgoing: _("Outgoing"), internal: _("Internal") };

function cell(text, className = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function pill(state) {
  const span = document.createElement("span");
  span.className = "pill";
  span.dataset.state = state;
  span.textContent = STATES[state] || state;
  const td = document.createElement("td");
  td.append(span);
  return td;
}

function draw() {
  const calls = store.list();
  const rows = calls.map((call) => {
    const tr = document.createElement("tr");
    tr.dataset.state = call.state;
    const party = otherParty(call);
    const since = call.state === "ringing" ? call.startedAt : call.answeredAt || call.startedAt;
    tr.append(
      cell(call.line),
      cell(DIRECTIONS[call.direction] || call.direction),
      cell([party.name, party.number, call.contact?.name].filter(Boolean).join(" · ")),
      cell(call.queue || ""),
      pill(call.state),
      cell(formatDuration(Date.now() - since), "timer"),
    );
    return tr;
  });
  $("#call-rows").replaceChildren(...rows);
  $("#no-calls").hidden = calls.length > 0;
  $("#count-live").textContent = calls.length;
  $("#count-ringing").textContent = calls.filter((c) => c.state === "ringing").length;
  $("#count-talking").textContent = calls.filter((c) => c.state === "connected").length;
  $("#count-held").textContent = calls.filter((c) => c.state === "held").length;
  const lines = config.lines.map((line) => {
    const mine = calls.filter(
      (call) => String(call.connector) === String(line.connector) && call.line === line.line,
    );
    let state = "idle";
    if (mine.some((call) => call.state === "held")) state = "held";
    else if (mine.some((call) => call.state !== "ringing")) state = "connected";
    else if (mine.length) state = "ringing";
    const tr = document.createElement("tr");
    tr.dataset.line = line.line;
    tr.append(
      cell(`${line.line} ${line.name}`),
      cell(line.operator || "—"),
      pill(state),
      cell(String(mine.length)),
    );
    return tr;
  });
  $("#line-rows").replaceChildren(...lines);
}

const links = new LinkStates();

function showPbx() {
  const element = $("#pbx-state");
  const { state, error } = links.summary();
  element.dataset.state = state === "up" ? "up" : "down";
  element.textContent = state === "up" ? _("PBX connected") : _("PBX disconnected");
  element.title = error;
}

socket.addEventListener("hello", ({ detail }) => {
  $("#banner").hidden = true;
  store.reset(detail.hello.snapshot || []);
  links.clear();
  for (const connector of detail.hello.connectors) links.set(connector.id, connector.status);
  showPbx();
  draw();
});
socket.addEventListener("event", ({ detail }) => {
  if (detail.call_id) store.apply(detail);
  draw();
});
socket.addEventListener("status", ({ detail }) => {
  links.set(detail.connector, detail.status);
  showPbx();
});
socket.addEventListener("down", () => {
  $("#banner").hidden = false;
});
socket.addEventListener("unauthenticated", () => {
  window.location.href = "/accounts/login/?next=/supervisor/";
});
setInterval(draw, 1000);
draw();
socket.connect();
