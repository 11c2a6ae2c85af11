// The panel's words (labels.js) without Django's catalog: the English texts, and what a
// failed command says to the operator.
import assert from "node:assert/strict";
import { test } from "node:test";

import { _, errorText, STATES } from "../../static/telephony/js/labels.js";

test("without a catalog the words are the English source", () => {
  assert.equal(_("idle"), "idle");
  assert.equal(STATES.held, "on hold");
  assert.equal(STATES.dnd, "do not disturb");
});

test("a known error code is said in words, else the message, else the code", () => {
  assert.equal(errorText({ code: "not-your-call" }), "This call is not on your line.");
  assert.equal(errorText({ code: "pbx-error", message: "busy here" }), "busy here");
  assert.equal(errorText({ code: "odd-code" }), "odd-code");
  assert.equal(errorText({}), "The command failed.");
});

test("every line state has a label", async () => {
  const { lineState } = await import("../../static/telephony/js/linestate.js");
  for (const [calls, dnd] of [[[], false], [[], true], [["ringing"], false], [["held"], false]]) {
    assert.ok(STATES[lineState(calls, dnd)], `${calls} ${dnd}`);
  }
});
