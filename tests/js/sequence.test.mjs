// node --test tests/js/ : the panel's sequence and gap logic (static/telephony/js/sequence.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DUPLICATE,
  GAP,
  LineSequences,
  NEW,
  UNSEQUENCED,
  lineKey,
} from "../../static/telephony/js/sequence.js";

const event = (seq, line = "101", extra = {}) => ({
  event: "RingStarted",
  connector: "3",
  line,
  seq,
  call_id: `c${seq}`,
  ...extra,
});

function afterHello(lastSeq = { "3:101": 5, "3:102": 0 }) {
  const sequences = new LineSequences();
  sequences.fromHello({ last_seq: lastSeq, missed: [] });
  return sequences;
}

test("the next number of a line is new and taken", () => {
  const sequences = afterHello();
  assert.equal(sequences.accept(event(6)), NEW);
  assert.equal(sequences.accept(event(7)), NEW);
  assert.equal(sequences.accept(event(1, "102")), NEW);
  assert.deepEqual(sequences.last, { "3:101": 7, "3:102": 1 });
});

test("a number at or below the last one is a duplicate and changes nothing", () => {
  const sequences = afterHello();
  assert.equal(sequences.accept(event(5)), DUPLICATE);
  assert.equal(sequences.accept(event(2)), DUPLICATE);
  assert.equal(sequences.last["3:101"], 5);
});

test("a skipped number is a gap, and the line stays at its last contiguous number", () => {
  const sequences = afterHello();
  assert.equal(sequences.accept(event(8)), GAP);
  assert.equal(sequences.last["3:101"], 5);
  assert.equal(sequences.accept(event(9)), GAP); // still missing 6 and 7
  assert.equal(sequences.since(), "3:101:5");
  // A gap on one line says nothing about another.
  assert.equal(sequences.accept(event(1, "102")), NEW);
});

test("the first event of a line without history may only be number 1", () => {
  const sequences = afterHello();
  assert.equal(sequences.classify(event(2, "102")), GAP);
  assert.equal(sequences.classify(event(1, "102")), NEW);
});

test("line-level events and events of lines the hello did not name pass unfiltered", () => {
  const sequences = afterHello();
  const lineState = { event: "LineStateChanged", connector: "3", line: "101", seq: 99 };
  assert.equal(sequences.accept(lineState), UNSEQUENCED);
  assert.equal(sequences.accept({ ...event(3), seq: undefined }), UNSEQUENCED);
  assert.equal(sequences.accept(event(40, "109")), NEW);
  assert.equal(sequences.last["3:101"], 5);
});

test("since lists every line with history, for the reconnect's catch-up", () => {
  const sequences = new LineSequences();
  assert.equal(sequences.since(), "");
  sequences.fromHello({ last_seq: { "3:101": 57, "3:102": 12, "4:200": 0 } });
  assert.equal(sequences.since(), "3:101:57,3:102:12");
});

test("a hello's missed events drop what was applied and its last_seq becomes ours", () => {
  const sequences = afterHello({ "3:101": 5 });
  sequences.accept(event(6));
  const missed = sequences.fromHello({
    last_seq: { "3:101": 9 },
    missed: [event(6), event(7), event(8), event(9)],
    catch_up: "events",
  });
  assert.deepEqual(
    missed.map((item) => item.seq),
    [7, 8, 9],
  );
  assert.equal(sequences.last["3:101"], 9);
  assert.equal(sequences.accept(event(9)), DUPLICATE);
  assert.equal(sequences.accept(event(10)), NEW);
});

test("an audit finds events stored before the previous audit that never arrived", () => {
  const sequences = afterHello({ "3:101": 5, "3:102": 0 });
  // First audit: the server is ahead (an event on its way): not yet a loss.
  assert.deepEqual(sequences.audit({ "3:101": 6, "3:102": 0 }), []);
  sequences.accept(event(6)); // it arrived
  assert.deepEqual(sequences.audit({ "3:101": 7, "3:102": 0 }), []);
  // 7 was stored before that audit and is still missing one interval later: lost.
  assert.deepEqual(sequences.audit({ "3:101": 7, "3:102": 0 }), ["3:101"]);
});

test("an audit after a hello starts from the hello's numbers", () => {
  const sequences = afterHello({ "3:101": 5 });
  sequences.audit({ "3:101": 9 });
  sequences.fromHello({ last_seq: { "3:101": 9 }, missed: [] });
  assert.deepEqual(sequences.audit({ "3:101": 9 }), []);
});

test("lineKey is connector:line", () => {
  assert.equal(lineKey({ connector: 3, line: "*97" }), "3:*97");
});
