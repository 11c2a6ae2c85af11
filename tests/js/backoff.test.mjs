// The panel's reconnect delays (static/telephony/js/backoff.js), under `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CLOSE_TRY_LATER,
  DEFAULTS,
  isFinal,
  retryDelay,
} from "../../static/telephony/js/backoff.js";

const always = (value) => () => value;
const ALMOST_ONE = 0.999999;

test("the ceiling doubles per attempt from the base and stops at the cap", () => {
  const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((attempt) =>
    retryDelay(attempt, 1006, { random: always(ALMOST_ONE) }),
  );
  assert.deepEqual(ceilings, [499, 999, 1999, 3999, 7999, 9999, 9999, 9999, 9999]);
});

test("full jitter: any wait from zero to the ceiling", () => {
  assert.equal(retryDelay(4, 1006, { random: always(0) }), 0);
  assert.equal(retryDelay(4, 1006, { random: always(0.5) }), 4000);
  const seen = new Set();
  for (let i = 0; i < 200; i += 1) {
    const delay = retryDelay(3, 1001);
    assert.ok(delay >= 0 && delay < 4000, `${delay}`);
    seen.add(Math.floor(delay / 1000));
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3]); // spread, not one wave
});

test("after try-again-later the wait is longer and never shorter than the floor", () => {
  const floor = retryDelay(0, CLOSE_TRY_LATER, { random: always(0) });
  assert.equal(floor, DEFAULTS.busyMinMs);
  assert.ok(floor > retryDelay(0, 1006, { random: always(ALMOST_ONE) }));
  assert.equal(retryDelay(1, CLOSE_TRY_LATER, { random: always(0.5) }), 2000 + 2000);
  assert.equal(retryDelay(30, CLOSE_TRY_LATER, { random: always(ALMOST_ONE) }), 9999);
});

test("options override the defaults", () => {
  const delay = retryDelay(2, 1006, { random: always(ALMOST_ONE), baseMs: 100, capMs: 300 });
  assert.equal(delay, 299);
});

test("nonsense attempts are clamped, not NaN", () => {
  assert.equal(retryDelay(-3, 1006, { random: always(ALMOST_ONE) }), 499);
  assert.equal(retryDelay(1e9, 1006, { random: always(ALMOST_ONE) }), 9999);
});

test("login, line and replaced closes are final; others retry", () => {
  assert.deepEqual([4401, 4403, 4409].map(isFinal), [true, true, true]);
  assert.deepEqual([1000, 1006, 1011, 4503, 4408].map(isFinal), [false, false, false, false, false]);
});
