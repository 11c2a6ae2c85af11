// Tell the server the browser's time zone (the default for pages and the CSV until the
// user picks one in their settings): a cookie, read by telephony/web/timezones.py.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("cti_tz=" + encodeURIComponent(zone)) === -1) {
    document.cookie =
      "cti_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
  }
})();
