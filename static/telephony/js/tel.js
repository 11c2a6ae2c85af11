// tel: links on every page of the app start a call: on the panel page directly, elsewhere
// through an open panel tab (BroadcastChannel), or by opening the panel with ?dial=.
(function () {
  "use strict";
  function numberOf(link) {
    return decodeURIComponent(link.getAttribute("href").slice(4)).split(";")[0].trim();
  }
  function viaOtherTab(number) {
    if (!("BroadcastChannel" in window)) return Promise.resolve(false);
    return new Promise(function (resolve) {
      var channel = new BroadcastChannel("cti-panel");
      var id = Date.now() + "-" + Math.random().toString(36).slice(2);
      var timer = setTimeout(function () { channel.close(); resolve(false); }, 400);
      channel.addEventListener("message", function (message) {
        if (message.data && message.data.type === "dialing" && message.data.id === id) {
          clearTimeout(timer); channel.close(); resolve(true);
        }
      });
      channel.postMessage({ type: "dial", id: id, number: number });
    });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="tel:"]');
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    var number = numberOf(link);
    if (!number) return;
    if (typeof window.ctiDial === "function") { window.ctiDial(number); return; }
    viaOtherTab(number).then(function (taken) {
      if (!taken) window.location.href = "/?dial=" + encodeURIComponent(number);
    });
  });
})();
