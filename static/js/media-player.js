// The platform's media player: webinar recordings and the videos in lessons
// (templates/_media_player.html). Each player on the page:
//
// - tells the platform once when playback starts on this page (data-played-url). Seeking,
//   pausing and playing again are the same view; the server also counts a person's plays of one
//   file once per window, so a reload does not count twice either;
// - shows a transcript built from its captions (the language shown, else the default one): each
//   line a button that seeks to its moment, the line being spoken marked;
// - where the platform sends xAPI statements to a Learning Record Store (the player then has
//   data-events-url), tells each play, pause, seek (once the seeking stops) and the end, with the
//   position in the recording.
(() => {
  const tellEvents = (player, eventsUrl) => {
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
  };

  const tellPlayed = (player) => {
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
  };

  const clock = (seconds) => {
    const whole = Math.floor(seconds);
    const hours = Math.floor(whole / 3600);
    const minutes = Math.floor((whole % 3600) / 60);
    const rest = String(whole % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
  };

  const showTranscript = (player, box) => {
    const list = box.querySelector("[data-transcript-lines]");
    const elements = [...player.querySelectorAll("track")];
    let shown = null; // the track whose cues the list holds
    const chosen = () => {
      const tracks = [...player.textTracks];
      const index = elements.findIndex((element) => element.default);
      return (
        tracks.find((track) => track.mode === "showing") ||
        (shown && tracks.includes(shown) ? shown : null) ||
        tracks[Math.max(index, 0)] ||
        null
      );
    };
    const fill = () => {
      const track = chosen();
      if (!track) {
        return;
      }
      if (track.mode === "disabled") {
        track.mode = "hidden"; // loads its cues without drawing them over the picture
      }
      if (!track.cues || (track === shown && list.childElementCount)) {
        return;
      }
      shown = track;
      list.lang = track.language;
      list.replaceChildren(
        ...[...track.cues].map((cue) => {
          const item = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "media-transcript-line";
          button.dataset.start = String(cue.startTime);
          const time = document.createElement("span");
          time.className = "media-transcript-time";
          time.textContent = clock(cue.startTime);
          const words = document.createElement("span");
          words.dir = "auto";
          words.textContent = cue.getCueAsHTML().textContent;
          button.append(time, " ", words);
          button.addEventListener("click", () => {
            player.currentTime = cue.startTime;
          });
          item.append(button);
          return item;
        }),
      );
      box.hidden = list.childElementCount === 0;
    };
    const mark = () => {
      const now = player.currentTime;
      let current = null;
      list.querySelectorAll("button").forEach((button) => {
        const starts = Number(button.dataset.start);
        if (starts <= now + 0.05) {
          current = button;
        }
        button.removeAttribute("aria-current");
      });
      if (current) {
        current.setAttribute("aria-current", "true");
      }
    };
    elements.forEach((element) => element.addEventListener("load", fill));
    player.textTracks.addEventListener("change", fill);
    player.addEventListener("timeupdate", mark);
    player.addEventListener("seeked", mark);
    fill();
  };

  document.querySelectorAll("[data-media-player]").forEach((box) => {
    const player = box.querySelector("video, audio");
    if (!player) {
      return;
    }
    tellPlayed(player);
    if (player.dataset.eventsUrl) {
      tellEvents(player, player.dataset.eventsUrl);
    }
    const transcript = box.querySelector("[data-transcript]");
    if (transcript) {
      showTranscript(player, transcript);
    }
  });
})();
