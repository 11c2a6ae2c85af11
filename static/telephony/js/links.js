// The PBX links of the connectors a panel sees, from the hello and `connector.status`
// messages: one summary for the status bar, "down" as soon as any link is down.
// Pure: no DOM; tested with `node --test tests/js/`.

export class LinkStates {
  constructor() {
    this.byConnector = new Map(); // connector id (string) -> {connected, since, last_error}
  }

  set(connector, status) {
    this.byConnector.set(String(connector), status || { connected: false });
  }

  /** The socket is down: nothing is known any more. */
  clear() {
    this.byConnector.clear();
  }

  /** {state: "up" | "down" | "unknown", down: [connector ids], error: text or ""}. */
  summary() {
    if (this.byConnector.size === 0) return { state: "unknown", down: [], error: "" };
    const down = [...this.byConnector]
      .filter(([, status]) => !status.connected)
      .map(([connector]) => connector);
    const error = down
      .map((connector) => this.byConnector.get(connector).last_error)
      .filter(Boolean)
      .join("; ");
    return { state: down.length ? "down" : "up", down, error };
  }
}
