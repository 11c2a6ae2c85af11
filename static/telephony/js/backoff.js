// When the panel's socket tries again after a close (docs/websocket-api.md, "Reconnecting"):
// full-jitter exponential backoff with a cap, so that thousands of panels dropped at once
// (a web tier restart) come back spread out instead of in one wave; longer after the
// server's "come back later" (4503), and never after a close that retrying cannot fix.
// Pure: no DOM, no timers, no side effects on import; tests/js/backoff.test.mjs runs it.

export const CLOSE_TRY_LATER = 4503;
export const CLOSE_TOO_SLOW = 4408;
export const CLOSE_REPLACED = 4409;
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_FORBIDDEN = 4403;

export const DEFAULTS = Object.freeze({
  baseMs: 500, // first ceiling: the first retry comes within half a second
  capMs: 10000, // no ceiling above this (a restarted server sees everyone back within it)
  busyMinMs: 2000, // after 4503, never sooner than this...
  busyBaseMs: 2000, // ...plus a full-jitter wait from this growing ceiling
});

/** Closes after which retrying cannot help (log in again, get a line, or the user opened
 * too many panels and this one was the oldest). */
export function isFinal(code) {
  return code === CLOSE_UNAUTHENTICATED || code === CLOSE_FORBIDDEN || code === CLOSE_REPLACED;
}

/** Milliseconds to wait before try number `attempt` + 1 (0 after the first failure), given
 * the close code of the last socket; `random` returns a number in [0, 1). */
export function retryDelay(attempt, code, { random = Math.random, ...options } = {}) {
  const { baseMs, capMs, busyMinMs, busyBaseMs } = { ...DEFAULTS, ...options };
  const step = Math.min(Math.max(0, Math.floor(attempt)), 30); // 2 ** 30 overflows no cap
  if (code === CLOSE_TRY_LATER) {
    const ceiling = Math.min(capMs - busyMinMs, busyBaseMs * 2 ** step);
    return busyMinMs + Math.floor(random() * Math.max(0, ceiling));
  }
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** step));
}
