// Several tabs of one browser: an incoming call's card appears in one tab only (the one
// holding the call's Web Lock; another tab takes over if that one closes), and a call
// handled in one tab closes everywhere. Without Web Locks (plain http on a non-local host)
// every tab shows every call.

let channel = null;
const claims = new Map(); // call key -> {release, abort}
const listeners = new Set();

/** Open the tabs' channel and relay its messages to the listeners (panel.js calls it). */
export function init() {
  channel = "BroadcastChannel" in window ? new BroadcastChannel("cti-panel") : null;
  if (!channel) return;
  channel.addEventListener("message", (message) => {
    const data = message.data || {};
    if (data.type === "handled" || data.type === "closed" || data.type === "dnd") {
      for (const listener of listeners) listener(data);
    }
  });
}

export function onPeerMessage(listener) {
  listeners.add(listener);
}

/** Ask to show ``key``; ``show()`` runs in exactly one tab (now, or when the owner goes). */
export function claim(key, show) {
  if (claims.has(key)) return;
  if (!navigator.locks) {
    claims.set(key, { release() {}, abort() {} });
    show();
    return;
  }
  const controller = new AbortController();
  let release = () => {};
  const entry = { release: () => release(), abort: () => controller.abort() };
  claims.set(key, entry);
  navigator.locks
    .request(`cti-call:${key}`, { signal: controller.signal }, () => {
      if (!claims.has(key)) return undefined;
      show();
      return new Promise((resolve) => {
        release = resolve;
      });
    })
    .catch(() => {});
}

/** The call is gone (or handled here): let go of it in this tab. */
export function forget(key) {
  const entry = claims.get(key);
  if (!entry) return;
  claims.delete(key);
  entry.abort();
  entry.release();
}

/** Tell the other tabs the operator acted on ``key`` here. */
export function announce(type, key, fields = {}) {
  if (channel) channel.postMessage({ ...fields, type, key });
}

// tel: links of other pages ask a panel tab to dial (static/telephony/js/tel.js).
export function serveDialRequests(dial) {
  if (!channel) return;
  channel.addEventListener("message", async (message) => {
    const data = message.data || {};
    if (data.type !== "dial") return;
    const take = () => {
      channel.postMessage({ type: "dialing", id: data.id });
      dial(data.number);
    };
    if (navigator.locks) {
      await navigator.locks.request(`cti-dial:${data.id}`, { ifAvailable: true }, (lock) => {
        if (lock) take();
      });
    } else {
      take();
    }
  });
}
