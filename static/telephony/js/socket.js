// The panel's one WebSocket (/ws/cti/, docs/websocket-api.md): reconnects by itself,
// keeps the last sequence number per line (sequence.js), drops events it already applied,
// catches up with since= when one was lost (a gap, or an audit that finds the server
// ahead), and turns commands into promises of their result. Knows nothing of the page.
import { DUPLICATE, GAP, LineSequences } from "./sequence.js";

import { CLOSE_FORBIDDEN, CLOSE_REPLACED, CLOSE_UNAUTHENTICATED, retryDelay } from "./backoff.js";

const COMMAND_TIMEOUT_MS = 15000;
/** How often the panel compares its sequence numbers with the server's (sequence.js audit). */
const AUDIT_MS = 30000;
export { CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED };

export class CtiSocket extends EventTarget {
  constructor({ supervise = false, auditMs = AUDIT_MS } = {}) {
    super();
    this.supervise = supervise;
    this.sequences = new LineSequences();
    this.auditMs = auditMs;
    this.auditTimer = null;
    this.resyncing = false;
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
    const since = this.sequences.since();
    if (since) params.set("since", since);
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
    clearInterval(this.auditTimer);
    this.auditTimer = null;
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
      case "queue.state":
        this.emit("queues", message);
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
    this.resyncing = false;
    // What happened while we were away (e.g. a call that rang and was missed), in order;
    // the snapshot is the truth about live calls from here on.
    const missed = this.sequences.fromHello(hello);
    this.emit("hello", { hello, missed, reconnected: this.helloCount > 1 });
    if (!this.auditTimer && this.auditMs > 0) {
      this.auditTimer = setInterval(() => this.audit(), this.auditMs);
    }
  }

  onEvents(events) {
    for (const event of events) {
      if (this.resyncing) return; // the catch-up's hello brings this and what follows
      const kind = this.sequences.accept(event);
      if (kind === GAP) {
        this.resync("gap");
        return;
      }
      if (kind !== DUPLICATE) this.emit("event", event);
    }
  }

  /** Events of a line were lost (published while this socket's server could not relay
   * them): reconnect at once with since=, so the hello brings them and the snapshot. */
  resync(reason) {
    if (this.resyncing || this.stopped) return;
    this.resyncing = true;
    this.emit("resync", { reason });
    const old = this.ws;
    this.ws = null; // its close is not a drop: no banner, no backoff
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.resolve({ id, ok: false, code: "disconnected", message: "" });
    }
    this.pending.clear();
    if (old) old.close(1000);
    this.connect();
  }

  /** Compare with the server's stored numbers: catches a loss no later event reveals.
   * QueryLastSeq, not the snapshot: the server answers it from one read per PBX shared by
   * every socket (telephony/web/lastseq.py). */
  async audit() {
    if (!this.connected || this.resyncing || this.stopped) return;
    const result = await this.command("QueryLastSeq");
    if (!result.ok || this.resyncing) return;
    if (this.sequences.audit(result.last_seq).length) this.resync("audit");
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
