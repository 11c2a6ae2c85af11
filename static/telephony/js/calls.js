// Live calls as the panel knows them, built from call events and snapshots
// (docs/call-events.md). Pure data: no DOM, no socket.

export const Feature = Object.freeze({
  DIAL: 0x2,
  ANSWER: 0x4,
  DROP: 0x8,
  HOLD: 0x10,
  UNHOLD: 0x20,
  COMPLETE_TRANSFER: 0x80,
  BLIND_TRANSFER: 0x100,
  MAKE_CONSULT_CALL: 0x200,
});

export function has(features, bit) {
  return (Number(features) & bit) === bit;
}

export function callKey(event) {
  return `${event.connector}:${event.line}:${event.call_id}`;
}

/** The other party of the call as the operator sees it: {number, name}. The twin of
 * ``telephony/parties.py::other_party`` (history, recorder): change both together. */
export function otherParty(call) {
  const linePlacedIt =
    call.direction === "outgoing" ||
    (call.direction === "internal" && call.callerNumber === call.line);
  if (linePlacedIt) return { number: call.calleeNumber || "", name: call.calleeName || "" };
  return { number: call.callerNumber || "", name: call.callerName || "" };
}

/** What the card's headline says about the other party: {title, number, source}.
 * A colleague by their name in the app (``colleagues``: {"3:102": "Bob Stone"}), else the
 * phone-book contact, else the PBX's name, else the number; ``number`` is empty when the
 * title already is the number, so it never shows twice. */
export function headline(call, colleagues = {}) {
  const party = otherParty(call);
  const colleague = party.number ? colleagues[`${call.connector}:${party.number}`] : undefined;
  let title = "";
  let source = "number";
  if (colleague) {
    title = colleague;
    source = "colleague";
  } else if (call.contact?.name) {
    title = call.contact.name;
    source = "contact";
  } else if (party.name && party.name !== party.number) {
    title = party.name;
    source = "pbx";
  } else {
    title = party.number;
  }
  return { title, number: title === party.number ? "" : party.number, source };
}

function seconds(value) {
  return typeof value === "number" ? value * 1000 : null;
}

export class CallStore {
  constructor() {
    this.calls = new Map();
  }

  get(key) {
    return this.calls.get(key);
  }

  list() {
    return [...this.calls.values()].sort((a, b) => (a.startedAt || 0) - (b.startedAt || 0));
  }

  /** Replace everything with a hello's snapshot; returns {added, removed} keys. */
  reset(snapshot) {
    const before = new Set(this.calls.keys());
    const fresh = new Map();
    for (const event of snapshot) {
      const key = callKey(event);
      const call = this.calls.get(key) || this.blank(event);
      this.merge(call, event);
      if (event.started_at) call.startedAt = seconds(event.started_at);
      if (event.answered_at) call.answeredAt = seconds(event.answered_at);
      fresh.set(key, call);
    }
    this.calls = fresh;
    return {
      added: [...fresh.keys()].filter((key) => !before.has(key)),
      removed: [...before].filter((key) => !fresh.has(key)),
    };
  }

  blank(event) {
    return {
      key: callKey(event),
      connector: event.connector,
      line: event.line,
      callId: event.call_id,
      startedAt: seconds(event.time) || Date.now(),
      answeredAt: null,
      contact: null,
      transferredBy: null, // {line, name} of the colleague who handed the call here
      dtmf: "", // the digits this panel sent during the call
    };
  }

  merge(call, event) {
    call.direction = event.direction || call.direction;
    call.callerNumber = event.caller_number ?? call.callerNumber;
    call.callerName = event.caller_name ?? call.callerName;
    call.calleeNumber = event.callee_number ?? call.calleeNumber;
    call.calleeName = event.callee_name ?? call.calleeName;
    call.state = event.state || call.state;
    call.features = Number(event.features ?? call.features ?? 0);
    call.queue = event.queue ?? call.queue;
    if (event.contact) call.contact = event.contact;
    call.lastEvent = event.event;
  }

  /** Apply one call event; returns {kind: "added"|"changed"|"removed", call}. */
  apply(event) {
    const key = callKey(event);
    if (event.event === "RingFinished") {
      const call = this.calls.get(key) || this.blank(event);
      this.calls.delete(key);
      this.merge(call, event);
      call.disposition = event.disposition;
      return { kind: "removed", call };
    }
    let call = this.calls.get(key);
    const kind = call ? "changed" : "added";
    if (!call) {
      call = this.blank(event);
      this.calls.set(key, call);
    }
    this.merge(call, event);
    if (event.event === "CommutationStarted" && !call.answeredAt) {
      call.answeredAt = seconds(event.time) || Date.now();
    }
    if (event.event === "CallTransferred") call.transferredTo = event.transferred_to;
    return { kind, call };
  }
}

/** The state of each call behind the legs: one per connector and call id (``<id>:2`` is
 * the same call rung again), connected before held before ringing. */
export function distinctCalls(calls) {
  const byCall = new Map();
  for (const call of calls) {
    const key = `${call.connector}:${String(call.callId).replace(/:\d+$/, "")}`;
    const states = byCall.get(key) || new Set();
    states.add(call.state);
    byCall.set(key, states);
  }
  return [...byCall.values()].map((states) => {
    if (states.has("connected")) return "connected";
    if (states.has("held")) return "held";
    return states.has("ringing") ? "ringing" : [...states][0];
  });
}

/** Milliseconds the card's timer shows at ``now``: ring time while ringing, then talk time
 * from the answer (also after a reload: the snapshot carries ``answered_at``). */
export function elapsed(call, now) {
  const since = call.state === "ringing" ? call.startedAt : call.answeredAt || call.startedAt;
  return now - since;
}

export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}
