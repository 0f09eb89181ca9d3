// The demo scenario's SCO (SCORM 2004 4th edition). The screens are the <section class="step">
// elements of index.html, in order; a question is a <form class="question"> naming its
// interaction (data-interaction) and its right answer (data-correct). Every answer is recorded
// as an interaction when it is checked; the score, completion and success are recorded on the
// result screen. Where the learner is goes in cmi.location (the step's name) and what they
// answered in cmi.suspend_data (JSON), so that "Save and leave" and coming back resume there.
// #status says what the SCO last did, also in its data-state: starting, ready, no-api, saving,
// suspended, finished or error.
(function () {
  "use strict";

  var DEFAULT_PASSING = 0.7; // the manifest's minNormalizedMeasure, if the LMS gives none
  // A platform may take only so many calls a second from a SCO in a frame of another origin:
  // calls go out at most this many at a time, this many milliseconds apart.
  var CALLS_AT_ONCE = 8;
  var CALL_INTERVAL = 250;

  var started = Date.now();
  var steps = Array.prototype.slice.call(document.querySelectorAll(".step"));
  var questions = steps.filter(function (step) {
    return formOf(step);
  });
  var state = { step: 0, answers: {} };
  var api = null;
  var passing = DEFAULT_PASSING;
  var sent = {}; // the values the platform has, so that none is sent twice
  var queue = [];
  var timer = null;
  var lastSent = 0;
  var recorded = 0; // interactions recorded in this session: cmi.interactions starts empty
  var shownAt = Date.now();
  var over = false;

  function $(id) {
    return document.getElementById(id);
  }

  function formOf(step) {
    return step.querySelector("form.question");
  }

  function stepName(index) {
    return steps[index].dataset.step;
  }

  function report(name, text) {
    $("status").dataset.state = name;
    $("status").textContent = text;
  }

  // The ADL way to find the API: up the parents, then the opener's parents.
  function search(win) {
    var tries = 0;
    try {
      while (!win.API_1484_11 && win.parent && win.parent !== win && tries < 500) {
        tries += 1;
        win = win.parent;
      }
      return win.API_1484_11 || null;
    } catch (e) {
      return null; // a window of another origin: nothing more to find up there
    }
  }

  function findApi() {
    var found = search(window);
    if (!found && window.opener) {
      found = search(window.opener);
    }
    return found;
  }

  function get(key) {
    return api ? String(api.GetValue(key)) : "";
  }

  function pump() {
    var wait = lastSent + CALL_INTERVAL - Date.now();
    if (wait > 0) {
      timer = window.setTimeout(pump, wait);
      return;
    }
    timer = null;
    lastSent = Date.now();
    queue.splice(0, CALLS_AT_ONCE).forEach(function (call) {
      var result = String(api[call.method].apply(api, call.args));
      if (call.method !== "SetValue" && result !== "true") {
        report("error", "The platform did not answer " + call.method + " (error " +
          api.GetLastError() + ").");
      } else if (call.then) {
        call.then();
      }
    });
    if (queue.length) {
      timer = window.setTimeout(pump, CALL_INTERVAL);
    }
  }

  function send(method, args, then) {
    if (!api) {
      if (then) {
        then();
      }
      return;
    }
    queue.push({ method: method, args: args, then: then });
    if (!timer) {
      pump();
    }
  }

  function set(key, value) {
    value = String(value);
    if (sent[key] !== value) {
      sent[key] = value;
      send("SetValue", [key, value]);
    }
  }

  function commit(then) {
    send("Commit", [""], then);
  }

  function duration(milliseconds) {
    var seconds = Math.max(0, Math.round(milliseconds / 1000));
    return "PT" + Math.floor(seconds / 3600) + "H" + (Math.floor(seconds / 60) % 60) + "M" +
      (seconds % 60) + "S";
  }

  // SCORM 2004's time: at most two decimals of a second before the time zone.
  function timestamp() {
    return new Date().toISOString().slice(0, 22) + "Z";
  }

  function score() {
    var right = questions.filter(function (step) {
      return state.answers[step.dataset.step] === formOf(step).dataset.correct;
    }).length;
    return { right: right, total: questions.length, scaled: right / questions.length };
  }

  // Where the learner is, for coming back: committed with the next answer or on leaving (and
  // by the platform every 30 seconds, and when the page closes).
  function remember() {
    set("cmi.location", stepName(state.step));
    set("cmi.suspend_data", JSON.stringify({ answers: state.answers }));
    set("cmi.progress_measure", (state.step / (steps.length - 1)).toFixed(2));
  }

  function showAnswer(step) {
    var form = formOf(step);
    var answer = state.answers[step.dataset.step];
    if (!answer) {
      return;
    }
    var right = form.dataset.correct;
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
      input.checked = input.value === answer;
      input.disabled = true;
      var choice = input.closest(".choice");
      choice.classList.toggle("is-right", input.value === right);
      choice.classList.toggle("is-wrong", input.value === answer && answer !== right);
      var text = input.value === right ? "Right answer" : input.value === answer ? "Your answer" : "";
      var tag = choice.querySelector(".tag");
      if (text && !tag) {
        tag = document.createElement("span");
        tag.className = "tag";
        input.nextElementSibling.appendChild(tag);
      }
      if (tag) {
        tag.textContent = text;
      }
    });
    form.querySelector(".check").hidden = true;
    var feedback = form.querySelector(".feedback");
    feedback.hidden = false;
    feedback.classList.toggle("is-right", answer === right);
    feedback.classList.toggle("is-wrong", answer !== right);
    Array.prototype.forEach.call(feedback.querySelectorAll("[data-feedback]"), function (p) {
      p.hidden = p.dataset.feedback !== answer;
    });
    var verdict = feedback.querySelector(".verdict");
    if (!verdict) {
      verdict = document.createElement("p");
      verdict.className = "verdict";
      feedback.insertBefore(verdict, feedback.firstChild);
    }
    verdict.textContent = answer === right ? "Correct." : "Not quite.";
  }

  // The result screen: the score, completion and success, shown and recorded.
  function record() {
    var result = score();
    var passed = result.scaled >= passing;
    $("result").textContent = "You answered " + result.right + " of the " + result.total +
      " questions correctly: " + Math.round(result.scaled * 100) + "%. " +
      (passed ? "You have passed." : "You need " + Math.round(passing * 100) +
        "% to pass: you can try again in a new attempt.");
    $("result").classList.toggle("is-right", passed);
    $("result").classList.toggle("is-wrong", !passed);
    set("cmi.score.raw", result.right);
    set("cmi.score.min", 0);
    set("cmi.score.max", result.total);
    set("cmi.score.scaled", result.scaled.toFixed(2));
    set("cmi.completion_status", "completed");
    set("cmi.success_status", passed ? "passed" : "failed");
  }

  function show(index, focus) {
    var step = steps[index];
    var form = formOf(step);
    var last = index === steps.length - 1;
    state.step = index;
    steps.forEach(function (other, number) {
      other.hidden = number !== index;
    });
    if (form) {
      showAnswer(step);
    }
    if (last) {
      record();
    }
    $("back").hidden = index === 0 || last;
    $("next").hidden = last || Boolean(form && !state.answers[step.dataset.step]);
    $("next").textContent = index === steps.length - 2 ? "See my result" : "Next";
    $("finish").hidden = !last;
    $("save-and-leave").hidden = last;
    $("progress-text").textContent = "Step " + (index + 1) + " of " + steps.length;
    $("progress-bar").style.width = Math.round((100 * (index + 1)) / steps.length) + "%";
    shownAt = Date.now();
    remember();
    if (focus) {
      $("welcome").hidden = true;
      step.querySelector("h2").focus();
      window.scrollTo(0, 0);
    }
  }

  function check(step, event) {
    event.preventDefault();
    var form = formOf(step);
    var chosen = form.querySelector("input:checked");
    if (!chosen || state.answers[step.dataset.step]) {
      return;
    }
    state.answers[step.dataset.step] = chosen.value;
    var prefix = "cmi.interactions." + recorded + ".";
    recorded += 1;
    set(prefix + "id", form.dataset.interaction);
    set(prefix + "type", "choice");
    set(prefix + "description", form.querySelector("legend").textContent.replace(/\s+/g, " ").trim().slice(0, 250));
    set(prefix + "timestamp", timestamp());
    set(prefix + "correct_responses.0.pattern", form.dataset.correct);
    set(prefix + "learner_response", chosen.value);
    set(prefix + "result", chosen.value === form.dataset.correct ? "correct" : "incorrect");
    set(prefix + "latency", duration(Date.now() - shownAt));
    show(state.step, false);
    form.querySelector(".feedback").focus();
    commit();
  }

  // "Save and leave" (exit suspend) or "Finish" (exit normal): the session ends.
  function leave(exit) {
    if (over) {
      return;
    }
    over = true;
    remember();
    if (exit === "suspend" && sent["cmi.completion_status"] !== "completed") {
      set("cmi.completion_status", "incomplete");
    }
    set("cmi.exit", exit);
    set("cmi.session_time", duration(Date.now() - started));
    report("saving", "Saving…");
    document.querySelector(".controls").hidden = true;
    commit();
    send("Terminate", [""], function () {
      $("scenario").classList.add("is-over");
      report(exit === "suspend" ? "suspended" : "finished", exit === "suspend"
        ? "Saved. When you come back, you start again from step " + (state.step + 1) + "."
        : "Finished. Thank you.");
      $("status").focus();
    });
  }

  function restore() {
    var saved = null;
    try {
      saved = JSON.parse(get("cmi.suspend_data") || "null");
    } catch (e) {
      saved = null; // not ours: start afresh
    }
    if (saved && saved.answers && typeof saved.answers === "object") {
      state.answers = saved.answers;
    }
    var at = steps.map(function (step) {
      return step.dataset.step;
    }).indexOf(get("cmi.location"));
    return Math.max(at, 0);
  }

  function start() {
    steps.forEach(function (step) {
      var form = formOf(step);
      if (form) {
        Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
          input.required = true; // the browser asks for an answer before checking it
        });
        form.addEventListener("submit", function (event) {
          check(step, event);
        });
      }
    });
    $("back").addEventListener("click", function () {
      show(Math.max(0, state.step - 1), true);
    });
    $("next").addEventListener("click", function () {
      var index = Math.min(steps.length - 1, state.step + 1);
      show(index, true);
      if (index === steps.length - 1) {
        commit(); // the score, completion and success
      }
    });
    $("finish").addEventListener("click", function () {
      leave("normal");
    });
    $("save-and-leave").addEventListener("click", function () {
      leave("suspend");
    });

    api = findApi();
    if (!api) {
      $("no-api").hidden = false;
      report("no-api", ""); // #no-api says so
      show(0, false);
      return;
    }
    if (String(api.Initialize("")) !== "true") {
      report("error", "The platform did not start the session (error " + api.GetLastError() + ").");
      api = null;
      show(0, false);
      return;
    }
    var resuming = get("cmi.entry") === "resume";
    var given = parseFloat(get("cmi.scaled_passing_score"));
    passing = isNaN(given) ? DEFAULT_PASSING : given;
    var at = restore();
    ["cmi.location", "cmi.suspend_data", "cmi.completion_status"].forEach(function (key) {
      sent[key] = get(key);
    });
    if (sent["cmi.completion_status"] !== "completed") {
      set("cmi.completion_status", "incomplete");
    }
    $("welcome").hidden = !(resuming && at > 0);
    show(at, false);
    report("ready", "");
  }

  start();
})();
