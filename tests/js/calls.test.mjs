// The call store's pure rules under `node --test` (no DOM, no socket): the card headline,
// the other party and the timer. Run by tests/unit/test_javascript.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CallStore,
  distinctCalls,
  elapsed,
  headline,
  otherParty,
} from "../../static/telephony/js/calls.js";

const base = {
  event: "RingStarted",
  connector: "3",
  line: "101",
  seq: 1,
  time: 1000,
  call_id: "c1",
  direction: "incoming",
  caller_number: "+15551230002",
  caller_name: null,
  callee_number: "101",
  callee_name: "Operator Alice",
  state: "ringing",
  features: 12,
  queue: null,
};

function callOf(fields) {
  const store = new CallStore();
  return store.apply({ ...base, ...fields }).call;
}

test("the phone book's name heads the card when the PBX gave none", () => {
  const call = callOf({ contact: { id: 7, name: "Иван Петров", company: "Ромашка" } });
  assert.deepEqual(headline(call), {
    title: "Иван Петров",
    number: "+15551230002",
    source: "contact",
  });
});

test("the PBX's name comes next, then the number once", () => {
  assert.equal(headline(callOf({ caller_name: "Customer" })).title, "Customer");
  const unnamed = headline(callOf({}));
  assert.deepEqual(unnamed, { title: "+15551230002", number: "", source: "number" });
});

test("an outgoing call whose callee name is its number shows the number once", () => {
  const call = callOf({
    direction: "outgoing",
    caller_number: "101",
    caller_name: "Operator Alice",
    callee_number: "+15559990000",
    callee_name: "+15559990000",
  });
  assert.deepEqual(headline(call), { title: "+15559990000", number: "", source: "number" });
});

test("a colleague is named as in the app, not as the PBX names the line", () => {
  const call = callOf({
    direction: "internal",
    line: "102",
    caller_number: "101",
    caller_name: "Operator Alice",
    callee_number: "102",
  });
  const who = headline(call, { "3:101": "Alice Smith" });
  assert.deepEqual(who, { title: "Alice Smith", number: "101", source: "colleague" });
  // The same rule as telephony/parties.py: the line that placed it talks to the callee.
  const placed = callOf({ direction: "internal", caller_number: "101", callee_number: "102" });
  assert.equal(otherParty(placed).number, "102");
});

test("the timer counts ringing from the start, talk from the answer", () => {
  const store = new CallStore();
  const ringing = store.apply(base).call;
  assert.equal(elapsed(ringing, 1_004_000), 4000);
  store.apply({ ...base, event: "CommutationStarted", state: "connected", time: 1003, seq: 2 });
  assert.equal(elapsed(ringing, 1_010_000), 7000);
});

test("a reloaded panel's snapshot keeps the answer time", () => {
  const store = new CallStore();
  store.reset([
    {
      ...base,
      event: "ActiveCallSnapshot",
      state: "connected",
      time: 1005,
      answered: true,
      started_at: 1000,
      answered_at: 1003,
    },
  ]);
  const [call] = store.list();
  assert.equal(elapsed(call, 1_008_000), 5000);
});

test("the supervisor counts calls, not each line's part of them", () => {
  const legs = [
    { connector: "3", callId: "q1", state: "ringing" },
    { connector: "3", callId: "q1", state: "connected" }, // ring-all: one member answered
    { connector: "3", callId: "q1:2", state: "ringing" }, // the same call rung again
    { connector: "3", callId: "c2", state: "held" },
    { connector: "4", callId: "c2", state: "ringing" }, // another PBX's call id
  ];
  assert.deepEqual(distinctCalls(legs), ["connected", "held", "ringing"]);
});
