// The frame page on the content origin, around a SCO. It stands in for the SCORM API
// (window.API for SCORM 1.2, window.API_1484_11 for 2004) with scorm-again's CrossFrameAPI,
// which answers the SCO at once from its copy of the data model and relays every call to the
// runtime in the lesson page through postMessage, to that page's origin only.
(function () {
  "use strict";
  var body = document.body;
  var api = new CrossFrameAPI(body.dataset.platformOrigin, window.parent);
  window.API = api;
  window.API_1484_11 = api;

  function start() {
    // Resolved against this page: the package's files sit beside it, under the same token.
    document.getElementById("sco").src = body.dataset.launch;
  }

  // The SCO reads where the learner was right after Initialize, before any answer could come
  // back: fill the copy of the data model first, then start the SCO.
  api._post("getFlattenedCMI", [])
    .then(function (all) {
      Object.keys(all || {}).forEach(function (key) {
        var value = all[key];
        if (value !== null && typeof value !== "object") {
          api._cache.set(key, String(value));
        }
      });
    })
    .catch(function () {})
    .then(start);
})();
