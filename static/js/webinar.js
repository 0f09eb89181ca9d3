// The webinar player tells the platform once when playback starts on this page. Seeking,
// pausing and playing again are the same view; the server also counts a person's plays of one
// recording once per window, so a reload does not count twice either.
(() => {
  const player = document.getElementById("recording-player");
  if (!player) {
    return;
  }
  let told = false;
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
