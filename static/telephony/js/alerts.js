// Ring tone (WebAudio, no sound file) and desktop notifications for incoming calls.

let audio = null;
const ringing = new Map(); // call key -> interval id

function context() {
  if (!audio && "AudioContext" in window) audio = new AudioContext();
  return audio;
}

/** Browsers start audio only after a gesture: any click or key press unlocks it. */
export function init() {
  for (const type of ["pointerdown", "keydown"]) {
    document.addEventListener(type, () => context()?.resume(), { once: true, capture: true });
  }
}

function burst() {
  const ctx = context();
  if (!ctx || ctx.state !== "running") return;
  const gain = ctx.createGain();
  gain.gain.value = 0.08;
  gain.connect(ctx.destination);
  // The North American ring: 440 Hz + 480 Hz, two short bursts.
  for (const frequency of [440, 480]) {
    for (const start of [0, 0.5]) {
      const tone = ctx.createOscillator();
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(ctx.currentTime + start);
      tone.stop(ctx.currentTime + start + 0.4);
    }
  }
}

export function startRing(key) {
  if (ringing.has(key)) return;
  burst();
  ringing.set(key, setInterval(burst, 3000));
}

export function stopRing(key) {
  clearInterval(ringing.get(key));
  ringing.delete(key);
}

export function notificationsWanted() {
  return "Notification" in window && Notification.permission === "default";
}

export async function askForNotifications() {
  if (!("Notification" in window)) return "unsupported";
  return Notification.requestPermission();
}

const shown = new Map();

export function notify(key, title, body, onClick) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(title, { body, tag: key, renotify: false });
  note.addEventListener("click", () => {
    window.focus();
    onClick?.();
    note.close();
  });
  shown.set(key, note);
}

export function closeNotification(key) {
  shown.get(key)?.close();
  shown.delete(key);
}
