// The SCORM runtime of a lesson page: scorm-again's Scorm12API or Scorm2004API, loaded with
// where the learner was, as window.API / window.API_1484_11. The package runs in a frame on
// another origin; scorm-again's CrossFrameLMS answers its calls, from that origin only.
// Commits go to the server as JSON with the CSRF token, numbered (session, sequence) so that
// the server keeps them in order and ignores repeats.
(function () {
  "use strict";
  var holder = document.getElementById("scorm-player");
  if (!holder) {
    return;
  }
  var config = JSON.parse(holder.dataset.config);
  var frame = document.getElementById("scorm-frame");
  var token = holder.dataset.csrf;
  var scorm12 = config.version === "1.2";
  var sequence = 0;
  var finished = false;

  function numbered(commit, metadata) {
    sequence += 1;
    // The token goes in the body too: the last commit of a session is a beacon, which
    // cannot carry a header.
    return {
      csrf_token: token,
      session: config.session,
      sequence: sequence,
      terminate: Boolean(metadata && metadata.isTerminateCommit),
      cmi: (commit && commit.cmi) || {},
    };
  }

  var Runtime = scorm12 ? window.Scorm12API : window.Scorm2004API;
  var api = new Runtime({
    autocommit: true,
    autocommitSeconds: 30,
    lmsCommitUrl: config.commitUrl || false,
    dataCommitFormat: "json",
    xhrHeaders: { "X-CSRFToken": token },
    requestHandler: numbered,
    logLevel: 4,
  });
  api.loadFromJSON(config.cmi);
  window.API = api;
  window.API_1484_11 = api;
  // Authoring tools set hundreds of values at once when a SCO ends, and each costs the frame
  // two messages: scorm-again's default of 100 a second would drop some, Terminate included.
  // A package flooding this page can only slow its own learner's tab.
  new CrossFrameLMS(api, config.contentOrigin, { rateLimit: 100000 });

  function post(url, body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    });
  }

  api.on(scorm12 ? "LMSInitialize" : "Initialize", function () {
    if (config.initializedUrl) {
      post(config.initializedUrl, { session: config.session }).catch(function () {});
    }
  });

  // The SCO is over (its own button, or it closed itself): show where the learner stands.
  api.on(scorm12 ? "LMSFinish" : "Terminate", function () {
    finished = true;
    window.setTimeout(function () {
      window.location.assign(config.finishedUrl);
    }, 50);
  });

  // Leaving the page without the SCO saying goodbye: send what it had, as its last commit.
  window.addEventListener("pagehide", function () {
    if (finished || !config.commitUrl || !api.isInitialized() || api.isTerminated()) {
      return;
    }
    finished = true;
    post(config.commitUrl, numbered(api.renderCommitCMI(true), { isTerminateCommit: true }), true);
  });

  frame.src = config.frameUrl;
})();
