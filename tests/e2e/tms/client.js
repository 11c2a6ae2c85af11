// A minimal Creatio MsgServiceCtiProvider look-alike, written from the TMS protocol text
// (docs/tms-compatibility.md): frames as JSON.stringify makes them, the call double-encoded
// in commands, contents decoded only where the provider decodes them. Test code only.
"use strict";

const CALL_TYPE = "Terrasoft.Messaging.Common.Call, Terrasoft.Messaging.Common";
const SERIALIZED = ["id", "databaseUId", "userContactUId", "deviceId", "callerId", "calledId",
  "direction", "callContext", "callContextType", "state", "redirectingId", "redirectionId"];
const EVENT_KEYS = ["eventType", "content", "connectionUId", "commandUId", "contentType",
  "privateData"];
const CALL_EVENTS = [5, 6, 7, 8, 9, 13, 15, 17];

class TmsProvider {
  constructor(url, connectionParams, library) {
    this.url = url;
    this.params = connectionParams;
    this.library = library;
    this.libraryInstanceUId = "";
    this.connectionUId = "";
    this.calls = new Map();
    this.events = [];
    this.violations = [];
    this.onchange = () => {};
  }

  open() {
    this.socket = new WebSocket(this.url);  // no subprotocol, as the provider
    this.socket.onopen = () => this.post("LoadLibrary", { AssemblyName: this.library });
    this.socket.onmessage = (message) => this.receive(message.data);
    this.socket.onclose = (event) => { this.closed = true; this.closeCode = event.code; this.onchange(); };
  }

  post(command, parameters, call) {
    const frame = {
      commandUId: "",
      command,
      libraryInstanceUId: this.libraryInstanceUId,
      connectionUId: this.connectionUId,
      commandExecutorId: call ? call.id : "",
      commandExecutorType: call ? CALL_TYPE : "",
      commandExecutor: call ? serialize(call) : undefined,  // omitted by JSON.stringify
      parameters,
    };
    this.socket.send(JSON.stringify(frame));
  }

  receive(data) {
    let message;
    try { message = JSON.parse(data); } catch (error) { this.violations.push("not JSON"); return; }
    const unknown = Object.keys(message).filter((key) => !EVENT_KEYS.includes(key));
    if (unknown.length) { this.violations.push("unknown keys " + unknown); return; }
    const type = message.eventType;
    if (typeof type !== "number") { this.violations.push("eventType " + type); return; }
    let content = message.content;
    if (type === 1) {
      this.libraryInstanceUId = content;  // raw
      this.post("OpenConnection", {
        connectionParams: JSON.stringify(this.params),
        sessionServiceParams: JSON.stringify({ UserUId: "u", UserContactUId: "c", ServiceUrl: "http://creatio/0" }),
      });
    } else if (type === 2) {
      this.connectionUId = message.connectionUId;
      this.post("QueryActiveCallSnapshot");
    } else if (type !== 4 && typeof content === "string") {
      content = JSON.parse(content);  // Terrasoft.decode
    }
    if (CALL_EVENTS.includes(type)) {
      const call = Object.assign(this.calls.get(content.id) || {}, content);
      this.calls.set(call.id, call);
      if (type === 6) this.calls.delete(call.id);
    } else if (type === 10) {
      this.calls = new Map(content.ActiveCalls.map((call) => [call.id, call]));
    }
    this.events.push({ type, content });
    this.onchange();
  }
}

function serialize(call) {
  const kept = {};
  for (const key of SERIALIZED) {
    if (call[key] !== undefined && call[key] !== null && call[key] !== "") kept[key] = call[key];
  }
  return JSON.stringify(kept);
}

window.TmsProvider = TmsProvider;
