// Every panel module imports under node with no DOM: importing only defines things, and a
// module that touches the page does so in its init(), which panel.js calls.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";

const dir = new URL("../../static/telephony/js/", import.meta.url);
// Entry modules start their page when loaded; tel.js and zone.js are classic scripts.
const ENTRIES = new Set(["panel.js", "supervisor.js", "tel.js", "zone.js"]);
const STARTED = [
  "actions.js",
  "alerts.js",
  "cards.js",
  "consult.js",
  "dialbox.js",
  "directory.js",
  "keyboard.js",
  "session.js",
  "statusbar.js",
  "tabs.js",
];

test("every module but the entries imports without a page", async () => {
  assert.equal(typeof globalThis.document, "undefined");
  const names = readdirSync(dir).filter((name) => name.endsWith(".js") && !ENTRIES.has(name));
  assert.ok(names.length >= 15, names.join(" "));
  for (const name of names) await import(new URL(name, dir));
});

test("the modules that touch the page start in init()", async () => {
  for (const name of STARTED) {
    const module = await import(new URL(name, dir));
    assert.equal(typeof module.init, "function", name);
  }
});

test("the session is empty until init()", async () => {
  const session = await import(new URL("session.js", dir));
  assert.equal(session.config, null);
  assert.equal(session.socket, null);
  assert.equal(session.store, null);
});
