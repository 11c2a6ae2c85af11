// Short-lived messages above the call list (#toasts). Knows nothing of calls.

const TOAST_MS = 6000;

export function toast(text, kind = "info") {
  const box = document.createElement("div");
  box.className = `toast ${kind}`;
  box.textContent = text;
  document.querySelector("#toasts").append(box);
  setTimeout(() => box.remove(), TOAST_MS);
}
