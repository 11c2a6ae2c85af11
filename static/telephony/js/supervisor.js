// The supervisor's page: every live call of every connector, each line's state, counts
// per call (not per line's part of it), and listen / whisper / barge / hang up on a call.
import {
  CallStore,
  distinctCalls,
  elapsed,
  Feature,
  formatDuration,
  has,
  headline,
} from "./calls.js";
import { errorText } from "./labels.js";
import { lineState } from "./linestate.js";
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
  dnd: _("do not disturb"),
  paused: _("paused"),
  available: _("available"),
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

const SPY = [
  ["ListenCall", _("Listen")],
  ["WhisperCall", _("Whisper")],
  ["BargeCall", _("Barge in")],
];
const rowsByKey = new Map(); // call key -> <tr>, kept so buttons survive redraws

async function act(call, command) {
  const result = await socket.command(command, {
    callId: call.callId,
    line: call.line,
    connector: Number(call.connector),
  });
  const status = $("#supervisor-result");
  status.textContent = result.ok ? _("Done: your phone rings.") : errorText(result);
  if (command === "DropCall" && result.ok) status.textContent = _("The call was hung up.");
  status.dataset.ok = String(Boolean(result.ok));
}

function button(label, command, call) {
  const element = document.createElement("button");
  element.type = "button";
  element.dataset.command = command;
  element.textContent = label;
  element.addEventListener("click", () => act(store.get(call.key) || call, command));
  return element;
}

function callRow(call) {
  let tr = rowsByKey.get(call.key);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.key = call.key;
    tr.dataset.callId = call.callId;
    tr.dataset.line = call.line;
    tr.append(cell(""), cell(""), cell(""), cell(""), pill(""), cell("", "timer"));
    const actions = document.createElement("td");
    actions.className = "supervise-actions";
    for (const [command, label] of SPY) actions.append(button(label, command, call));
    actions.append(button(_("Hang up"), "DropCall", call));
    tr.append(actions);
    rowsByKey.set(call.key, tr);
  }
  const who = headline(call, {});
  const cells = tr.children;
  tr.dataset.state = call.state;
  cells[0].textContent = call.line;
  cells[1].textContent = DIRECTIONS[call.direction] || call.direction;
  cells[2].textContent = [who.title, who.number, call.contact?.company].filter(Boolean).join(" · ");
  cells[3].textContent = call.queue || "";
  const state = cells[4].firstElementChild;
  state.dataset.state = call.state;
  state.textContent = STATES[call.state] || call.state;
  const talking = call.state === "connected" || call.state === "held";
  for (const spy of cells[6].querySelectorAll("[data-command$=Call]:not([data-command=DropCall])")) {
    spy.hidden = !talking;
  }
  cells[6].querySelector("[data-command=DropCall]").hidden = !has(call.features, Feature.DROP);
  return tr;
}

function tick() {
  const now = Date.now();
  for (const [key, tr] of rowsByKey) {
    const call = store.get(key);
    if (call) tr.querySelector(".timer").textContent = formatDuration(elapsed(call, now));
  }
}

function draw() {
  const calls = store.list();
  const live = new Set(calls.map((call) => call.key));
  for (const key of [...rowsByKey.keys()]) if (!live.has(key)) rowsByKey.delete(key);
  $("#call-rows").replaceChildren(...calls.map(callRow));
  tick();
  $("#no-calls").hidden = calls.length > 0;
  const states = distinctCalls(calls);
  $("#count-live").textContent = states.length;
  $("#count-ringing").textContent = states.filter((state) => state === "ringing").length;
  $("#count-talking").textContent = states.filter((state) => state === "connected").length;
  $("#count-held").textContent = states.filter((state) => state === "held").length;
  const lines = config.lines.map((line) => {
    const mine = calls.filter(
      (call) => String(call.connector) === String(line.connector) && call.line === line.line,
    );
    let state = lineState(
      mine.map((call) => call.state),
      line.dnd,
    );
    // The supervisor tells a busy line's held call from a talking one.
    if (state === "busy") state = mine.some((call) => call.state === "held") ? "held" : "connected";
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

// -- queues: waiting callers and their wait, members and their pauses -----------------------

const boards = new Map(); // connector -> {connector, at, queues}, the newest seen
const reasonDrafts = new Map(); // "connector:queue:interface" -> the reason being typed

/** Keep the newer of a board from the socket and one fetched (both carry the worker's `at`). */
function showQueues(board) {
  if (!board || board.connector === undefined) return;
  const key = String(board.connector);
  const known = boards.get(key);
  if (known && known.at > board.at) return;
  boards.set(key, board);
  drawQueues();
}

async function fetchQueues() {
  try {
    const response = await fetch(config.queuesUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const { connectors } = await response.json();
    for (const board of connectors) showQueues(board);
  } catch {
    // Offline: the socket's next queue.state redraws.
  }
}

async function pauseMember(connector, queue, member, enabled, reason) {
  const fields = { line: member.line, connector: Number(connector), enabled, queue: queue.queue };
  if (enabled && reason) fields.reason = reason;
  const result = await socket.command("PauseQueueMember", fields);
  const status = $("#queue-result");
  status.textContent = result.ok ? "" : errorText(result);
  status.dataset.ok = String(Boolean(result.ok));
}

function memberRow(connector, queue, member) {
  const tr = document.createElement("tr");
  tr.className = "member";
  tr.dataset.interface = member.interface;
  tr.dataset.line = member.line || "";
  tr.dataset.paused = String(member.paused);
  const state = pill(member.paused ? "paused" : "available");
  if (member.paused && member.reason) state.append(` ${member.reason}`);
  const actions = document.createElement("td");
  actions.className = "member-actions";
  if (member.line) {
    const button = document.createElement("button");
    button.type = "button";
    if (member.paused) {
      button.dataset.command = "resume";
      button.textContent = _("Resume");
      button.addEventListener("click", () => pauseMember(connector, queue, member, false));
    } else {
      const draft = `${connector}:${queue.queue}:${member.interface}`;
      const reason = document.createElement("input");
      reason.className = "pause-reason";
      reason.maxLength = 80;
      reason.placeholder = _("Reason");
      reason.setAttribute("aria-label", _("Reason"));
      reason.dataset.draft = draft;
      reason.value = reasonDrafts.get(draft) || "";
      reason.addEventListener("input", () => reasonDrafts.set(draft, reason.value));
      button.dataset.command = "pause";
      button.textContent = _("Pause");
      button.addEventListener("click", () => {
        reasonDrafts.delete(draft);
        pauseMember(connector, queue, member, true, reason.value.replace(/[\r\n]+/g, " ").trim());
      });
      actions.append(reason);
    }
    actions.append(button);
  }
  tr.append(cell(member.name), cell(member.line || member.interface), state, actions);
  return tr;
}

function callerRow(caller) {
  const tr = document.createElement("tr");
  tr.className = "caller";
  tr.dataset.uniqueId = caller.unique_id;
  const who = [caller.name, caller.number].filter(Boolean).join(" · ") || _("Unknown caller");
  const wait = cell("", "wait");
  wait.dataset.joinedAt = String(caller.joined_at);
  tr.append(cell(String(caller.position)), cell(who), wait);
  return tr;
}

function table(headings, rows, className) {
  const element = document.createElement("table");
  element.className = `grid ${className}`;
  const head = document.createElement("tr");
  for (const text of headings) {
    const th = document.createElement("th");
    th.textContent = text;
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  const tbody = document.createElement("tbody");
  tbody.append(...rows);
  element.append(thead, tbody);
  return element;
}

function queueBoard(connector, queue) {
  const article = document.createElement("article");
  article.className = "queue-board";
  article.dataset.queue = queue.queue;
  article.dataset.connector = String(connector);
  const title = document.createElement("h3");
  title.textContent = `${queue.queue} · ${queue.callers.length} ${_("waiting")}`;
  const waiting = document.createElement("div");
  if (queue.callers.length) {
    const rows = queue.callers.map(callerRow);
    waiting.append(table(["#", _("Caller"), _("Waiting")], rows, "queue-callers"));
  } else {
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = _("Nobody waiting.");
    waiting.append(empty);
  }
  const members = document.createElement("div");
  const rows = queue.members.map((member) => memberRow(connector, queue, member));
  members.append(table([_("Member"), _("Line"), _("State"), ""], rows, "queue-members"));
  article.append(title, waiting, members);
  return article;
}

function drawQueues() {
  const focused = document.activeElement?.dataset?.draft;
  const articles = [];
  for (const board of boards.values()) {
    for (const queue of board.queues) articles.push(queueBoard(board.connector, queue));
  }
  $("#queue-boards").replaceChildren(...articles);
  $("#no-queues").hidden = articles.length > 0;
  if (focused) document.querySelector(`[data-draft="${CSS.escape(focused)}"]`)?.focus();
  tickQueues();
}

function tickQueues() {
  const now = Date.now() / 1000;
  for (const wait of document.querySelectorAll("#queue-boards .wait")) {
    wait.textContent = formatDuration((now - Number(wait.dataset.joinedAt)) * 1000);
  }
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
  fetchQueues();
});
socket.addEventListener("queues", ({ detail }) => showQueues(detail));
let todayTimer = null;
/** Refetch today's counts shortly after calls are answered or end (one fetch per burst). */
function refreshToday() {
  clearTimeout(todayTimer);
  todayTimer = setTimeout(async () => {
    try {
      const response = await fetch(config.todayUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const today = await response.json();
      $("#today-total").textContent = today.total;
      $("#today-answered").textContent = today.answered;
      $("#today-missed").textContent = today.missed;
      $("#today-abandoned").textContent = today.abandoned;
      const seconds = (value) => (value === null ? "—" : formatDuration(value * 1000));
      $("#today-avg-wait").textContent = seconds(today.avg_wait);
      $("#today-avg-talk").textContent = seconds(today.avg_talk);
    } catch {
      // Offline: the banner says so; the next event refreshes again.
    }
  }, 300);
}

socket.addEventListener("event", ({ detail }) => {
  if (detail.call_id) store.apply(detail);
  if (detail.event === "LineStateChanged" && typeof detail.dnd === "boolean") {
    // The worker read or set the line's DND on the PBX (docs/dnd.md).
    for (const line of config.lines) {
      if (String(line.connector) === String(detail.connector) && line.line === detail.line) {
        line.dnd = detail.dnd;
      }
    }
  }
  if (["RingStarted", "CommutationStarted", "RingFinished"].includes(detail.event)) refreshToday();
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
setInterval(() => {
  tick();
  tickQueues();
}, 1000);
draw();
socket.connect();
