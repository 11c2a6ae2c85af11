// The line-state rule (linestate.js), the same cases as tests/unit/test_linestate.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { lineState } from "../../static/telephony/js/linestate.js";

const cases = [
  [[], false, "idle"],
  [[], true, "dnd"],
  [["ringing"], false, "ringing"],
  [["ringing"], true, "ringing"],
  [["connected"], true, "busy"],
  [["held"], false, "busy"],
  [["busy"], false, "busy"],
  [["ringing", "connected"], false, "busy"],
  [["ringing", "ringing"], false, "ringing"],
];

test("a line is busy before ringing before dnd before idle", () => {
  for (const [calls, dnd, expected] of cases) {
    assert.equal(lineState(calls, dnd), expected, `${JSON.stringify(calls)} dnd=${dnd}`);
  }
});
