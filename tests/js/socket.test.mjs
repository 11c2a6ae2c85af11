// node --test tests/js/ : the panel socket's audit (static/telephony/js/socket.js) against a
// scripted server: it asks QueryLastSeq (never the snapshot) and reconnects with since= when
// a line is still behind what the server had stored one audit earlier.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CtiSocket } from "../../static/telephony/js/socket.js";

globalThis.WebSocket ??= { OPEN: 1 }; // node 20 has none; command() reads WebSocket.OPEN

/** A connected CtiSocket whose server answers each QueryLastSeq with the next of `answers`. */
function scripted(answers) {
  const socket = new CtiSocket({ auditMs: 0 });
  const sent = [];
  socket.reconnects = 0;
  socket.connect = () => {
    socket.reconnects += 1;
  };
  socket.ws = {
    readyState: 1,
    close() {},
    send(text) {
      const message = JSON.parse(text);
      sent.push(message);
      const reply = { type: "result", id: message.id, ok: true, last_seq: answers.shift() };
      queueMicrotask(() => socket.onMessage(JSON.stringify(reply)));
    },
  };
  socket.onHello({ type: "hello", last_seq: { "3:101": 5 }, missed: [], snapshot: [] });
  return { socket, sent };
}

test("the audit asks QueryLastSeq and nothing heavier", async () => {
  const { socket, sent } = scripted([{ "3:101": 5 }]);
  await socket.audit();
  assert.deepEqual(
    sent.map((message) => message.command),
    ["QueryLastSeq"],
  );
  assert.equal(socket.reconnects, 0);
});

test("a final event lost on the way is caught one audit later, with since=", async () => {
  // 6 (the call's RingFinished) was stored but never reached this socket.
  const { socket } = scripted([{ "3:101": 6 }, { "3:101": 6 }]);
  const resyncs = [];
  socket.addEventListener("resync", (event) => resyncs.push(event.detail.reason));
  await socket.audit(); // it may still be on its way: no verdict yet
  assert.equal(socket.reconnects, 0);
  await socket.audit(); // a whole interval later and still missing: lost
  assert.deepEqual(resyncs, ["audit"]);
  assert.equal(socket.reconnects, 1);
  assert.equal(socket.sequences.since(), "3:101:5");
});

test("an event that arrives between two audits is no loss", async () => {
  const { socket } = scripted([{ "3:101": 6 }, { "3:101": 6 }]);
  await socket.audit();
  socket.onEvents([{ event: "RingFinished", connector: "3", line: "101", seq: 6, call_id: "c" }]);
  await socket.audit();
  assert.equal(socket.reconnects, 0);
});
