// The webinar player tells the platform once when playback starts on this page. Seeking,
// pausing and playing again are the same view; the server also counts a person's plays of one
// recording once per window, so a reload does not count twice either.
//
// Where the platform sends xAPI statements to a Learning Record Store (the page then gives
// data-events-url), the player also tells each play, pause, seek (once the seeking stops) and
// the end, with the position in the recording.
(() => {
  const player = document.getElementById("recording-player");
  if (!player) {
    return;
  }
  let told = false;
  const eventsUrl = player.dataset.eventsUrl;
  if (eventsUrl) {
    let sending = Promise.resolve();
    const send = (verb, time, extra = {}) => {
      const body = new URLSearchParams({ verb, time: time.toFixed(3), ...extra });
      if (Number.isFinite(player.duration)) {
        body.set("length", player.duration.toFixed(3));
      }
      // One after another, so that they arrive in the order they happened; one lost with the
      // network is not worth a retry loop.
      sending = sending
        .then(() =>
          fetch(eventsUrl, {
            method: "POST",
            headers: { "X-CSRFToken": player.dataset.csrf },
            body,
            credentials: "same-origin",
          }),
        )
        .catch(() => {});
    };
    let position = 0; // where playback was before a seek began
    let seek = null; // a seek not told yet: { from, to }, told once the seeking stops
    let seekTimer = null;
    const tellSeek = () => {
      clearTimeout(seekTimer);
      // A move of less than a second is the player's own adjustment (Chromium makes one when
      // playback starts), not the viewer's.
      if (seek && Math.abs(seek.to - seek.from) >= 1) {
        send("seeked", seek.to, { from: seek.from.toFixed(3) });
      }
      seek = null;
    };
    const tell = (verb) => {
      tellSeek(); // what came first is told first
      send(verb, player.currentTime);
    };
    player.addEventListener("timeupdate", () => {
      if (!player.seeking && !seek) {
        position = player.currentTime;
      }
    });
    player.addEventListener("play", () => tell("played"));
    player.addEventListener("pause", () => {
      if (!player.ended && !player.seeking) {
        tell("paused");
      }
    });
    player.addEventListener("seeking", () => {
      seek = { from: seek ? seek.from : position, to: player.currentTime };
    });
    player.addEventListener("seeked", () => {
      seek = { from: seek ? seek.from : position, to: player.currentTime };
      position = player.currentTime;
      clearTimeout(seekTimer);
      seekTimer = setTimeout(tellSeek, 500);
    });
    player.addEventListener("ended", () => tell("completed"));
  }
  player.addEventListener("play", () => {
    if (told) {
      return;
    }
    told = true;
    fetch(player.dataset.playedUrl, {
      method: "POST",
      headers: { "X-CSRFToken": player.dataset.csrf },
      credentials: "same-origin",
    }).catch(() => {
      told = false; // try again at the next play
    });
  });
})();
