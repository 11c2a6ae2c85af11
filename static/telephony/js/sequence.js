// Per-line sequence numbers of call events (docs/websocket-api.md, "Sequence numbers and
// catch-up"): which events are new, already applied, or reveal a gap (events lost between
// the worker and this socket); the `since=` of a catch-up; and the audit that notices
// events lost at the end of a burst, which no later event would reveal.
// Pure: no DOM, no timers, no socket; tested with `node --test tests/js/`.

export const NEW = "new";
export const DUPLICATE = "duplicate";
export const GAP = "gap";
/** Line-level events (LineStateChanged) are not stored and carry no call sequence. */
export const UNSEQUENCED = "unsequenced";

/** The key of a line in `last_seq` and `since`: "3:101". */
export function lineKey(event) {
  return `${event.connector}:${event.line}`;
}

export class LineSequences {
  constructor() {
    this.last = {}; // "connector:line" -> highest seq applied, without a hole below it
    this.audited = {}; // the server's last_seq at the previous audit
  }

  /** What `event` is to this panel, without changing anything. */
  classify(event) {
    if (!event || !event.call_id || typeof event.seq !== "number") return UNSEQUENCED;
    const last = this.last[lineKey(event)];
    if (last === undefined) return NEW; // a line the hello did not name: nothing to compare
    if (event.seq <= last) return DUPLICATE;
    return event.seq === last + 1 ? NEW : GAP;
  }

  /** Classify `event` and, when it is the next one of its line, take its number. A gap is
   * not taken: the line stays at its last contiguous number, which the catch-up asks from. */
  accept(event) {
    const kind = this.classify(event);
    if (kind === NEW) this.last[lineKey(event)] = event.seq;
    return kind;
  }

  /** A hello: its `missed` events not yet applied (in order), then its `last_seq` is ours.
   * The snapshot covers every event up to `last_seq`, so anything at or below it that still
   * arrives is a duplicate. */
  fromHello(hello) {
    const missed = (hello.missed || []).filter((event) => this.classify(event) !== DUPLICATE);
    for (const [key, seq] of Object.entries(hello.last_seq || {})) {
      this.last[key] = Math.max(Number(seq) || 0, 0);
    }
    this.audited = {};
    return missed;
  }

  /** The `since` query parameter of a (re)connect: "3:101:57,3:102:12", or "" at first. */
  since() {
    return Object.entries(this.last)
      .filter(([, seq]) => seq > 0)
      .map(([key, seq]) => `${key}:${seq}`)
      .join(",");
  }

  /** Compare with the server's `last_seq` (a QueryLastSeq answer). Returns the
   * lines that are behind what the server had stored at the *previous* audit: those events
   * had a whole audit interval to arrive and did not, so they were lost. (Comparing with the
   * current answer would also catch events still on their way.) */
  audit(serverLastSeq) {
    const behind = Object.entries(this.audited)
      .filter(([key, seq]) => key in this.last && this.last[key] < seq)
      .map(([key]) => key);
    this.audited = { ...(serverLastSeq || {}) };
    return behind;
  }
}
