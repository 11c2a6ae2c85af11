// node --test tests/js/ : the status bar's PBX summary (static/telephony/js/links.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { LinkStates } from "../../static/telephony/js/links.js";

test("nothing known is unknown", () => {
  assert.deepEqual(new LinkStates().summary(), { state: "unknown", down: [], error: "" });
});

test("up only when every connector's link is up", () => {
  const links = new LinkStates();
  links.set(3, { connected: true });
  links.set(4, { connected: true });
  assert.equal(links.summary().state, "up");
  links.set(4, { connected: false, last_error: "Connection refused" });
  assert.deepEqual(links.summary(), { state: "down", down: ["4"], error: "Connection refused" });
});

test("a status message of one connector does not hide another that is down", () => {
  const links = new LinkStates();
  links.set(3, { connected: false, last_error: "timeout" });
  links.set("4", { connected: true });
  links.set(4, { connected: true });
  assert.equal(links.summary().state, "down");
  links.set(3, { connected: true, last_error: null });
  assert.deepEqual(links.summary(), { state: "up", down: [], error: "" });
});

test("a missing status is a link down; a closed socket forgets everything", () => {
  const links = new LinkStates();
  links.set(3, null);
  assert.equal(links.summary().state, "down");
  links.clear();
  assert.equal(links.summary().state, "unknown");
});
