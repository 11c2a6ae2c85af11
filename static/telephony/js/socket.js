// The panel's one WebSocket (/ws/cti/, docs/websocket-api.md): reconnects by itself,
// keeps the last sequence number per line, drops events it already applied, and turns
// commands into promises of their result. Knows nothing of the page.

import { CLOSE_FORBIDDEN, CLOSE_REPLACED, CLOSE_UNAUTHENTICATED, retryDelay } from "./backoff.js";

const COMMAND_TIMEOUT_MS = 15000;
export { CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED };

export class CtiSocket extends EventTarget {
  constructor({ supervise = false } = {}) {
    super();
    this.supervise = supervise;
    this.lastSeq = {}; // "connector:line" -> highest seq applied
    this.pending = new Map(); // client id -> {resolve, timer}
    this.nextId = 1;
    this.attempt = 0; // failed tries since the last hello
    this.ws = null;
    this.connected = false;
    this.stopped = false;
    this.helloCount = 0;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams();
    if (this.supervise) params.set("supervise", "1");
    const since = Object.entries(this.lastSeq)
      .filter(([, seq]) => seq > 0)
      .map(([key, seq]) => `${key}:${seq}`);
    if (since.length) params.set("since", since.join(","));
    const query = params.toString();
    return `${scheme}://${location.host}/ws/cti/${query ? "?" + query : ""}`;
  }

  connect() {
    this.stopped = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("message", (message) => this.onMessage(message.data));
    ws.addEventListener("close", (event) => this.onClose(ws, event));
  }

  close() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  onMessage(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    switch (message.type) {
      case "hello":
        this.onHello(message);
        break;
      case "call.event":
        this.onEvents([message.event]);
        break;
      case "call.events":
        this.onEvents(message.events || []);
        break;
      case "connector.status":
        this.emit("status", message);
        break;
      case "result":
        this.onResult(message);
        break;
      default:
        break;
    }
  }

  onHello(hello) {
    this.connected = true;
    this.attempt = 0;
    this.helloCount += 1;
    // What happened while we were away (e.g. a call that rang and was missed), in order.
    const missed = (hello.missed || []).filter((event) => this.isNew(event));
    // The snapshot is the truth about live calls from here on: it covers every event up
    // to last_seq, so anything at or below it that still arrives is a duplicate.
    for (const [key, seq] of Object.entries(hello.last_seq || {})) {
      this.lastSeq[key] = Math.max(seq, 0);
    }
    this.emit("hello", { hello, missed, reconnected: this.helloCount > 1 });
  }

  isNew(event) {
    // Line-level events (LineStateChanged) are not stored and carry the line's current
    // number, so only call events are filtered by sequence.
    if (!event.call_id || typeof event.seq !== "number") return true;
    const key = `${event.connector}:${event.line}`;
    return event.seq > (this.lastSeq[key] || 0);
  }

  onEvents(events) {
    for (const event of events) {
      if (!this.isNew(event)) continue;
      if (event.call_id) this.lastSeq[`${event.connector}:${event.line}`] = event.seq;
      this.emit("event", event);
    }
  }

  onResult(result) {
    const waiting = this.pending.get(result.id);
    if (waiting && !result.final) {
      clearTimeout(waiting.timer);
      this.pending.delete(result.id);
      waiting.resolve(result);
      return;
    }
    this.emit("late-result", result);
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.connected = false;
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.resolve({ id, ok: false, code: "disconnected", message: "" });
    }
    this.pending.clear();
    if (event.code === CLOSE_UNAUTHENTICATED) {
      this.emit("unauthenticated", event);
      return;
    }
    if (event.code === CLOSE_FORBIDDEN) {
      this.emit("forbidden", event);
      return;
    }
    if (event.code === CLOSE_REPLACED) {
      // The user opened more panels than allowed and this was the oldest: coming back
      // would close another one, and so on.
      this.emit("replaced", event);
      return;
    }
    this.emit("down", event);
    if (this.stopped) return;
    // Full jitter, longer after "try again later" (4503): see backoff.js. A close for not
    // reading (4408) retries like a dropped link; the URL's since= catches up.
    const delay = retryDelay(this.attempt, event.code);
    this.attempt += 1;
    setTimeout(() => this.connect(), delay);
  }

  /** Send a command; resolves with its result ({ok, code, message, ...}), never rejects. */
  command(command, fields = {}) {
    const id = `c-${this.nextId++}`;
    return new Promise((resolve) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        resolve({ id, ok: false, code: "disconnected", message: "" });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ id, ok: false, code: "timeout", message: "" });
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      this.ws.send(JSON.stringify({ id, command, ...fields }));
    });
  }
}
