// The operator's call panel: one card per live call, buttons from the call's features
// bitmask only, dial box, transfer directory, keypad, shortcuts, ring and notifications.
import { CallStore, Feature, formatDuration, has, otherParty } from "./calls.js";
import { CtiSocket } from "./socket.js";
import { announce, claim, forget, onPeerMessage, serveDialRequests } from "./tabs.js";
import * as alerts from "./alerts.js";

const _ = window.gettext || ((text) => text);
const format = window.interpolate || ((text) => text);
const config = JSON.parse(document.getElementById("panel-config").textContent);
const $ = (selector, root = document) => root.querySelector(selector);

const socket = new CtiSocket();
const store = new CallStore();
const cards = new Map(); // call key -> card element
const capabilities = new Map(); // connector id -> capabilities
let selectedKey = null;
let transferKey = null;
const handledHere = new Set(); // calls this tab answered or hung up: no "missed" toast

const DIRECTIONS = {
  incoming: _("Incoming"),
  outgoing: _("Outgoing"),
  internal: _("Internal"),
};
const STATES = {
  ringing: _("ringing"),
  connected: _("connected"),
  held: _("on hold"),
  busy: _("busy"),
  finished: _("finished"),
  idle: _("idle"),
  dnd: _("do not disturb"),
};
const ERRORS = {
  "not-your-call": _("This call is not on your line."),
  "invalid-number": _("This number cannot be dialled."),
  "invalid-state": _("Not possible in the call's current state."),
  unsupported: _("The phone system cannot do this here."),
  "no-such-call": _("The call has already ended."),
  "pbx-unreachable": _("The phone system is not connected."),
  timeout: _("No answer from the phone system."),
  "rate-limited": _("Too many commands; wait a moment."),
  disconnected: _("Not connected to the server."),
};

function errorText(result) {
  return ERRORS[result.code] || result.message || result.code || _("The command failed.");
}

// -- toasts -----------------------------------------------------------------------------

function toast(text, kind = "info") {
  const box = document.createElement("div");
  box.className = `toast ${kind}`;
  box.textContent = text;
  $("#toasts").append(box);
  setTimeout(() => box.remove(), 6000);
}

// -- cards ------------------------------------------------------------------------------

function capsOf(call) {
  return capabilities.get(String(call.connector)) || {};
}

function render(call) {
  let card = cards.get(call.key);
  if (!card) {
    card = $("#call-card").content.firstElementChild.cloneNode(true);
    card.dataset.key = call.key;
    card.dataset.callId = call.callId;
    card.addEventListener("click", (event) => onCardClick(call.key, event));
    card.addEventListener("focus", () => select(call.key));
    cards.set(call.key, card);
    $("#calls").append(card);
  }
  const party = otherParty(call);
  card.dataset.state = call.state;
  card.dataset.direction = call.direction;
  card.dataset.features = String(call.features);
  $(".direction", card).textContent = DIRECTIONS[call.direction] || call.direction;
  const state = $(".state", card);
  state.textContent = STATES[call.state] || call.state;
  state.dataset.state = call.state;
  $(".party-name", card).textContent = party.name || _("Unknown caller");
  const number = $(".party-number", card);
  number.textContent = party.number || "";
  number.href = party.number ? `tel:${party.number}` : "#";
  const contact = $(".contact", card);
  contact.hidden = !call.contact;
  if (call.contact) {
    const link = $(".contact-link", card);
    link.textContent = call.contact.name;
    link.href = config.contactUrl.replace("/0/", `/${call.contact.id}/`);
    $(".contact-company", card).textContent = call.contact.company || "";
  }
  $(".meta-line", card).textContent = format(_("line %s"), [call.line]);
  const queue = $(".meta-queue", card);
  queue.hidden = !call.queue;
  queue.textContent = call.queue ? format(_("queue %s"), [call.queue]) : "";
  renderButtons(card, call);
  tick();
  $("#no-calls").hidden = cards.size > 0;
  if (!selectedKey || !cards.has(selectedKey)) select(call.key);
}

function renderButtons(card, call) {
  const caps = capsOf(call);
  const features = call.features;
  const button = (action) => $(`[data-action="${action}"]`, card);
  const answer = button("answer");
  answer.hidden = caps.answer === false;
  answer.disabled = !has(features, Feature.ANSWER);
  button("drop").disabled = !has(features, Feature.DROP);
  const hold = button("hold");
  const resumes = has(features, Feature.UNHOLD);
  hold.textContent = resumes ? _("Resume") : _("Hold");
  hold.dataset.mode = resumes ? "resume" : "hold";
  hold.disabled = !(resumes || has(features, Feature.HOLD));
  button("transfer").disabled = !(
    has(features, Feature.BLIND_TRANSFER) || has(features, Feature.MAKE_CONSULT_CALL)
  );
  const completes = has(features, Feature.COMPLETE_TRANSFER);
  button("complete").hidden = !completes;
  button("cancel").hidden = !(completes && caps.cancel_transfer !== false);
  // No features bit says "DTMF": the keypad follows the hang-up bit of a talking call.
  const talking = call.state === "connected" || call.state === "held";
  const keypad = button("keypad");
  keypad.disabled = !(talking && has(features, Feature.DROP) && caps.dtmf !== false);
  if (keypad.disabled) $(".keypad", card).hidden = true;
}

function removeCard(key) {
  const card = cards.get(key);
  if (card) card.remove();
  cards.delete(key);
  alerts.stopRing(key);
  alerts.closeNotification(key);
  forget(key);
  if (transferKey === key) $("#transfer-dialog").close();
  if (selectedKey === key) {
    selectedKey = null;
    const next = cards.keys().next();
    if (!next.done) select(next.value);
  }
  $("#no-calls").hidden = cards.size > 0;
}

function select(key) {
  selectedKey = key;
  for (const [other, card] of cards) card.classList.toggle("selected", other === key);
}

function tick() {
  const now = Date.now();
  for (const [key, card] of cards) {
    const call = store.get(key);
    if (!call) continue;
    const since = call.state === "ringing" ? call.startedAt : call.answeredAt || call.startedAt;
    $(".timer", card).textContent = formatDuration(now - since);
  }
}
setInterval(tick, 1000);

// -- one tab shows each call ----------------------------------------------------

function show(call) {
  // Every call, not only ringing ones: a call answered in another tab stays there.
  claim(call.key, () => {
    const current = store.get(call.key);
    if (!current) return;
    render(current);
    if (current.state === "ringing" && current.direction !== "outgoing") {
      alerts.startRing(current.key);
      const party = otherParty(current);
      alerts.notify(
        current.key,
        format(_("Incoming call on line %s"), [current.line]),
        [party.name || "", party.number || "", current.contact?.company || ""]
          .filter(Boolean)
          .join(" · "),
        () => select(current.key),
      );
    }
  });
}

function update(call) {
  if (cards.has(call.key)) render(call);
  else show(call);
  if (call.state !== "ringing") {
    alerts.stopRing(call.key);
    alerts.closeNotification(call.key);
  }
}

onPeerMessage((message) => {
  if (message.type === "handled" && !cards.has(message.key)) forget(message.key);
});

// -- socket events ---------------------------------------------------------------------------

socket.addEventListener("hello", ({ detail }) => {
  const { hello, missed, reconnected } = detail;
  $("#banner").hidden = true;
  for (const connector of hello.connectors) {
    capabilities.set(String(connector.id), connector.capabilities || {});
    showPbx(connector.status);
  }
  for (const event of missed) {
    if (event.event === "RingFinished" && event.disposition === "missed") {
      const party = event.caller_number || "";
      toast(format(_("Missed call from %s"), [party]), "warning");
    }
  }
  const { removed } = store.reset(hello.snapshot || []);
  for (const key of removed) removeCard(key);
  for (const call of store.list()) update(call);
  if (reconnected) toast(_("Reconnected."), "ok");
  dialFromQuery();
  refreshLines();
});

socket.addEventListener("event", ({ detail: event }) => {
  if (event.event === "LineStateChanged") {
    onLineState(event);
    return;
  }
  if (!event.call_id) return;
  const { kind, call } = store.apply(event);
  if (kind === "removed") {
    removeCard(call.key);
    const rejected = handledHere.delete(call.key);
    if (call.disposition === "missed" && call.direction !== "outgoing" && !rejected) {
      toast(format(_("Missed call from %s"), [otherParty(call).number || ""]), "warning");
    }
  } else {
    update(call);
  }
  refreshLines();
});

socket.addEventListener("status", ({ detail }) => showPbx(detail.status));
socket.addEventListener("late-result", ({ detail }) => {
  if (!detail.ok) toast(errorText(detail), "error");
});
socket.addEventListener("down", () => {
  $("#banner").hidden = false;
  showPbx(null);
});
socket.addEventListener("unauthenticated", () => {
  window.location.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
});
socket.addEventListener("forbidden", () => {
  toast(_("No phone line is assigned to your account."), "error");
});

function showPbx(status) {
  const pill = $("#pbx-state");
  if (!status) {
    pill.dataset.state = "unknown";
    pill.textContent = _("PBX: unknown");
  } else if (status.connected) {
    pill.dataset.state = "up";
    pill.textContent = _("PBX connected");
    pill.title = "";
  } else {
    pill.dataset.state = "down";
    pill.textContent = _("PBX disconnected");
    pill.title = status.last_error || "";
  }
}

// -- lines, DND and the directory -------------------------------------------------------------

function ownLine(connector, line) {
  return $(`.line[data-connector="${connector}"][data-line="${line}"]`);
}

function refreshLines() {
  for (const row of document.querySelectorAll("#lines .line")) {
    const calls = store.list().filter(
      (call) => String(call.connector) === row.dataset.connector && call.line === row.dataset.line,
    );
    let state = "idle";
    if (calls.some((call) => call.state !== "ringing")) state = "busy";
    else if (calls.length) state = "ringing";
    else if ($(".dnd-toggle", row).checked) state = "dnd";
    const pill = $(".line-state", row);
    pill.dataset.state = state;
    pill.textContent = STATES[state];
  }
}

function onLineState(event) {
  // Most LineStateChanged only restate the line's features after a transition (the cards
  // already carry theirs); only a queue pause (paused true/false) changes DND.
  if (event.paused === null || event.paused === undefined) return;
  const row = ownLine(event.connector, event.line);
  if (!row || (event.reason && event.reason !== "DND")) return;
  $(".dnd-toggle", row).checked = Boolean(event.paused);
  saveDnd(event.connector, event.line, Boolean(event.paused));
  refreshLines();
}

function saveDnd(connector, line, enabled) {
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)?.[1] || "";
  fetch(config.dndUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ connector: Number(connector), line, enabled }),
  }).catch(() => {});
}

for (const row of document.querySelectorAll("#lines .line")) {
  $(".dnd-toggle", row).addEventListener("change", async (event) => {
    const enabled = event.target.checked;
    const result = await socket.command("SetDnd", {
      enabled,
      line: row.dataset.line,
      connector: Number(row.dataset.connector),
    });
    if (!result.ok) {
      event.target.checked = !enabled;
      toast(errorText(result), "error");
    } else {
      saveDnd(row.dataset.connector, row.dataset.line, enabled);
    }
    refreshLines();
  });
}

async function loadDirectory() {
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
setInterval(loadDirectory, 5000);
loadDirectory();

// -- commands ---------------------------------------------------------------------------

function cardError(key, text) {
  const card = cards.get(key);
  const box = card ? $(".card-error", card) : null;
  if (!box) {
    toast(text, "error");
    return;
  }
  box.textContent = text;
  box.hidden = !text;
}

async function callCommand(key, command, fields = {}) {
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
  return result;
}

function onCardClick(key, event) {
  select(key);
  const button = event.target.closest("button");
  if (!button || button.disabled) return;
  if (button.dataset.digit) {
    callCommand(key, "SendDtmf", { digits: button.dataset.digit });
    return;
  }
  act(key, button.dataset.action);
}

function act(key, action) {
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

function openTransfer(key) {
  const call = store.get(key);
  const dialog = $("#transfer-dialog");
  transferKey = key;
  $("[data-transfer=blind]", dialog).disabled = !has(call.features, Feature.BLIND_TRANSFER);
  $("[data-transfer=consult]", dialog).disabled = !has(call.features, Feature.MAKE_CONSULT_CALL);
  $(".card-error", dialog).hidden = true;
  $("#transfer-number").value = "";
  loadDirectory();
  dialog.showModal();
  $("#transfer-number").focus();
}

for (const button of document.querySelectorAll("#transfer-dialog [data-transfer]")) {
  button.addEventListener("click", async () => {
    const dialog = $("#transfer-dialog");
    const target = $("#transfer-number").value.trim();
    const error = $(".card-error", dialog);
    if (!target || !transferKey) {
      error.textContent = _("Choose a colleague or type a number.");
      error.hidden = false;
      return;
    }
    const command = button.dataset.transfer === "blind" ? "BlindTransferCall" : "MakeConsultCall";
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
$("#transfer-dialog").addEventListener("close", () => {
  transferKey = null;
});

// -- dialling -----------------------------------------------------------------------------

async function dial(number) {
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
window.ctiDial = dial;
serveDialRequests(dial);

$("#dial-form").addEventListener("submit", (event) => {
  event.preventDefault();
  dial($("#dial-number").value);
});

let dialledFromQuery = false;
function dialFromQuery() {
  const number = new URLSearchParams(location.search).get("dial");
  if (!number || dialledFromQuery) return;
  dialledFromQuery = true;
  history.replaceState(null, "", location.pathname);
  dial(number);
}

// -- notifications ------------------------------------------------------------------------

const enable = $("#enable-notifications");
enable.hidden = !alerts.notificationsWanted();
enable.addEventListener("click", async () => {
  await alerts.askForNotifications();
  enable.hidden = !alerts.notificationsWanted();
});

// -- keyboard ----------------------------------------------------------------------------

function ringingKey() {
  return store.list().find((call) => call.state === "ringing" && cards.has(call.key))?.key;
}

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

socket.connect();
