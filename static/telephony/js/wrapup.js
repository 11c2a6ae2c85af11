// Wrap-up after a call: a small form under the calls where the operator tags the call's
// result and writes a note; saved by telephony/web/views/wrapup.py. Sends no commands.
import { headline } from "./calls.js";
import { _, format } from "./labels.js";
import { config } from "./session.js";
import { toast } from "./toasts.js";

const $ = (selector, root = document) => root.querySelector(selector);
const KEEP = 5; // open wrap-up forms at most; the oldest goes first (history still has it)

/** Offer a wrap-up form for ``call``, which just ended after being answered here. */
export function offerWrapUp(call) {
  const box = $("#wrapups");
  if (!call.answeredAt || !config.wrapUpUrl || !box) return;
  const form = $("#wrapup-card").content.firstElementChild.cloneNode(true);
  form.dataset.callId = call.callId;
  const who = headline(call, config.colleagues || {});
  $(".wrapup-title", form).textContent = format(_("Wrap up the call with %s"), [
    who.title || _("Unknown caller"),
  ]);
  const select = $(".wrapup-tag", form);
  select.append(new Option(_("no tag"), ""));
  for (const tag of config.wrapUpTags || []) select.append(new Option(tag.name, String(tag.id)));
  $("[data-wrapup=skip]", form).addEventListener("click", () => form.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $(".card-error", form);
    const saved = await save(call, select.value, $(".wrapup-note", form).value);
    if (saved.ok) {
      form.remove();
      toast(_("Wrap-up saved."), "ok");
    } else {
      error.textContent =
        saved.code === "invalid" ? _("Choose a result tag or write a note.") : _("Not saved.");
      error.hidden = false;
    }
  });
  box.prepend(form);
  while (box.children.length > KEEP) box.lastElementChild.remove();
}

async function save(call, tag, note) {
  const csrf = document.cookie.match(/csrftoken=([^;]+)/)?.[1] || "";
  try {
    const response = await fetch(config.wrapUpUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({
        connector: Number(call.connector),
        call: call.callId,
        line: call.line,
        tag: tag ? Number(tag) : null,
        note,
      }),
    });
    return await response.json();
  } catch {
    return { ok: false, code: "offline" };
  }
}
