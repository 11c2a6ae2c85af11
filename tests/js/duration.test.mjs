// The card's timer text (calls.js formatDuration): m:ss, then h:mm:ss; never negative.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatDuration } from "../../static/telephony/js/calls.js";

test("durations read as m:ss, then h:mm:ss", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(8_999), "0:08");
  assert.equal(formatDuration(65_000), "1:05");
  assert.equal(formatDuration(3_600_000 + 62_000), "1:01:02");
});

test("a clock behind the call's start shows zero, not a negative time", () => {
  assert.equal(formatDuration(-5_000), "0:00");
});
