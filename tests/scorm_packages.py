"""SCORM packages made in memory for the tests: good ones, and the bad ones attackers and sloppy
tools make. Everything in them is written here; no third-party content is copied.

The SCO is a short quiz of three questions, one per screen, in HTML with its JavaScript in
``shared/sco.js`` and a small inline script giving its settings. Element ids a browser test uses:
``answer-<question>-<letter>`` (``answer-1-a`` ... ``answer-3-c``), ``next``, ``save-and-leave``,
``finish``; ``question`` (the screen's heading, "Question 2 of 3"), ``welcome`` ("Welcome back",
shown on resuming), ``status`` (what the SCO last did, also in its ``data-state``: ``ready``,
``suspended``, ``finished``, ``no-api`` or ``error``) and ``result`` (the score once finished).
The malicious SCO writes what it managed into ``<pre id="findings">`` as JSON, and sets
``data-done="true"`` on it once every attempt has ended.
"""

import io
import json
import stat
import struct
import warnings
import zipfile
from html import escape
from xml.sax.saxutils import quoteattr

#: the quiz's right answers, by question
CORRECT_ANSWERS = {1: "b", 2: "a", 3: "c"}

QUESTIONS = [
    {
        "text": "Which Security Council resolution (2017) addresses returning foreign terrorist "
        "fighters?",
        "answers": {"a": "Resolution 1373", "b": "Resolution 2396", "c": "Resolution 1267"},
    },
    {
        "text": "What should a practitioner do first when a colleague reports signs of "
        "radicalisation?",
        "answers": {
            "a": "Record the facts and follow the referral procedure",
            "b": "Confront the person publicly",
            "c": "Ignore it until there is proof",
        },
    },
    {
        "text": "Which principle must every counter-terrorism measure respect?",
        "answers": {
            "a": "Speed over legality",
            "b": "Secrecy over oversight",
            "c": "Human rights and the rule of law",
        },
    },
]

NAMESPACES_2004 = (
    'xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" '
    'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" '
    'xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3" '
    'xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3" '
    'xmlns:imsss="http://www.imsglobal.org/xsd/imsss"'
)
NAMESPACES_12 = (
    'xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" '
    'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"'
)
SCHEMA_VERSIONS = {"2nd": "CAM 1.3", "3rd": "2004 3rd Edition", "4th": "2004 4th Edition"}

SCO_JS = r"""// A SCO of the platform's tests: a quiz of three questions that talks to the LMS.
(function () {
  "use strict";
  var config = window.SCO_CONFIG;
  var v2004 = config.version === "2004";
  var names = v2004 ? {
    entry: "cmi.entry", location: "cmi.location", exit: "cmi.exit",
    sessionTime: "cmi.session_time", raw: "cmi.score.raw", min: "cmi.score.min",
    max: "cmi.score.max", passing: "cmi.scaled_passing_score",
    response: "learner_response", wrong: "incorrect"
  } : {
    entry: "cmi.core.entry", location: "cmi.core.lesson_location", exit: "cmi.core.exit",
    sessionTime: "cmi.core.session_time", raw: "cmi.core.score.raw", min: "cmi.core.score.min",
    max: "cmi.core.score.max", passing: "cmi.student_data.mastery_score",
    response: "student_response", wrong: "wrong"
  };
  var started = Date.now();
  var api = null;
  var state = { question: 1, answers: {} };

  // The ADL API discovery algorithm: up the parents to the top, then the opener's.
  function search(win, name) {
    var tries = 0;
    try {
      while (!win[name] && win.parent && win.parent !== win && tries < 500) {
        tries += 1;
        win = win.parent;
      }
      return win[name] || null;
    } catch (e) {
      return null; // a window of another origin: nothing more to find up there
    }
  }
  function findApi(name) {
    var found = search(window, name);
    if (!found && window.opener) found = search(window.opener, name);
    return found;
  }

  var lms = v2004 ? {
    initialize: function () { return api.Initialize(""); },
    get: function (key) { return api.GetValue(key); },
    set: function (key, value) { return api.SetValue(key, String(value)); },
    commit: function () { return api.Commit(""); },
    terminate: function () { return api.Terminate(""); },
    error: function () { return api.GetLastError(); }
  } : {
    initialize: function () { return api.LMSInitialize(""); },
    get: function (key) { return api.LMSGetValue(key); },
    set: function (key, value) { return api.LMSSetValue(key, String(value)); },
    commit: function () { return api.LMSCommit(""); },
    terminate: function () { return api.LMSFinish(""); },
    error: function () { return api.LMSGetLastError(); }
  };

  function $(id) { return document.getElementById(id); }
  function report(stateName, text) {
    $("status").dataset.state = stateName;
    $("status").textContent = text;
  }
  function call(what, result) {
    if (String(result) !== "true") {
      throw new Error(what + " failed (error " + lms.error() + ")");
    }
  }
  function set(key, value) { call("SetValue " + key, lms.set(key, value)); }

  function sessionTime() {
    var seconds = Math.max(0, Math.round((Date.now() - started) / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    if (v2004) return "PT" + h + "H" + m + "M" + s + "S";
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(h) + ":" + two(m) + ":" + two(s);
  }

  function show() {
    var number = state.question;
    var question = config.questions[number - 1];
    $("question").textContent = "Question " + number + " of " + config.questions.length;
    $("question-text").textContent = question.text;
    var list = $("answers");
    list.textContent = "";
    Object.keys(question.answers).forEach(function (letter) {
      var button = document.createElement("button");
      button.type = "button";
      button.id = "answer-" + number + "-" + letter;
      button.textContent = question.answers[letter];
      button.setAttribute("aria-pressed", String(state.answers[number] === letter));
      button.addEventListener("click", function () {
        state.answers[number] = letter;
        show();
      });
      var item = document.createElement("li");
      item.appendChild(button);
      list.appendChild(item);
    });
    var last = number === config.questions.length;
    $("next").hidden = last;
    $("finish").hidden = !last;
  }

  function saveAndLeave() {
    try {
      set(names.location, state.question);
      set("cmi.suspend_data", JSON.stringify({ answers: state.answers }));
      set(names.exit, "suspend");
      set(names.sessionTime, sessionTime());
      call("Commit", lms.commit());
      call("Terminate", lms.terminate());
      $("quiz").hidden = true;
      report("suspended", "Saved. You can come back later and go on from question " +
        state.question + ".");
    } catch (e) {
      report("error", e.message);
    }
  }

  function finish() {
    try {
      var total = config.questions.length, right = 0;
      config.questions.forEach(function (question, index) {
        var number = index + 1, prefix = "cmi.interactions." + index + ".";
        var answer = state.answers[number];
        var correct = answer === config.correct[number];
        if (correct) right += 1;
        set(prefix + "id", "question-" + number);
        set(prefix + "type", "choice");
        set(prefix + "correct_responses.0.pattern", config.correct[number]);
        if (answer) set(prefix + names.response, answer);
        set(prefix + "result", correct ? "correct" : names.wrong);
      });
      // As authoring tools do at the end: many values at once (config.burst more interactions).
      for (var extra = 0; extra < (config.burst || 0); extra += 1) {
        var more = "cmi.interactions." + (config.questions.length + extra) + ".";
        set(more + "id", "extra-" + extra);
        set(more + "type", "choice");
        set(more + names.response, "a");
        set(more + "result", "correct");
      }
      var percent = Math.round(100 * right / total);
      var passing = parseFloat(lms.get(names.passing));
      if (isNaN(passing)) passing = v2004 ? config.passing / 100 : config.passing;
      var passed = v2004 ? percent / 100 >= passing : percent >= passing;
      set(names.raw, percent);
      set(names.min, 0);
      set(names.max, 100);
      if (v2004) {
        set("cmi.score.scaled", (percent / 100).toFixed(2));
        set("cmi.completion_status", "completed");
        set("cmi.success_status", passed ? "passed" : "failed");
        set(names.exit, "normal");
      } else {
        set("cmi.core.lesson_status", passed ? "passed" : "failed");
        set(names.exit, "");
      }
      set(names.location, total);
      set("cmi.suspend_data", JSON.stringify({ answers: state.answers }));
      set(names.sessionTime, sessionTime());
      call("Commit", lms.commit());
      call("Terminate", lms.terminate());
      $("quiz").hidden = true;
      $("result").textContent = "Score: " + percent + "% (" + right + " of " + total + "), " +
        (passed ? "passed" : "failed") + ".";
      report("finished", "Finished: " + (passed ? "passed" : "failed") + " with " +
        percent + "%.");
    } catch (e) {
      report("error", e.message);
    }
  }

  function start() {
    $("next").addEventListener("click", function () {
      state.question = Math.min(state.question + 1, config.questions.length);
      show();
    });
    $("save-and-leave").addEventListener("click", saveAndLeave);
    $("finish").addEventListener("click", finish);
    api = findApi(v2004 ? "API_1484_11" : "API");
    if (!api) {
      report("no-api", "No LMS API found: nothing will be recorded.");
      return;
    }
    try {
      call("Initialize", lms.initialize());
      if (lms.get(names.entry) === "resume") {
        var saved = JSON.parse(lms.get("cmi.suspend_data") || "{}");
        state.answers = saved.answers || {};
        state.question = Math.min(
          Math.max(parseInt(lms.get(names.location), 10) || 1, 1), config.questions.length);
        $("welcome").hidden = false;
      }
      if (v2004) {
        if (lms.get("cmi.completion_status") !== "completed") {
          set("cmi.completion_status", "incomplete");
        }
      } else if (lms.get("cmi.core.lesson_status") === "not attempted") {
        set("cmi.core.lesson_status", "incomplete");
      }
      $("quiz").hidden = false;
      show();
      report("ready", "Connected to the LMS (SCORM " + config.version + ").");
    } catch (e) {
      report("error", e.message);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
"""

SCO_CSS = """body { font-family: sans-serif; margin: 1.5rem; line-height: 1.5; }
button[aria-pressed="true"] { outline: 3px solid #1d4ed8; }
#answers { list-style: none; padding: 0; }
#answers li { margin: 0.25rem 0; }
"""

SCO_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{shared}sco.css">
<style>#welcome {{ font-weight: bold; }}</style>
<script>window.SCO_CONFIG = {config};</script>
<script src="{shared}sco.js"></script>
</head>
<body>
<h1>{title}</h1>
<p id="welcome" hidden>Welcome back</p>
<div id="quiz" hidden>
<h2 id="question"></h2>
<p id="question-text"></p>
<ul id="answers"></ul>
<p>
<button type="button" id="next">Next</button>
<button type="button" id="finish" hidden>Finish</button>
<button type="button" id="save-and-leave">Save and leave</button>
</p>
</div>
<p id="result"></p>
<p id="status" role="status" data-state="loading">Loading…</p>
</body>
</html>
"""


def zip_of(entries: dict[str, bytes | str]) -> bytes:
    """A zip archive holding ``entries`` in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sco_page(
    title: str, version: str, passing: float, *, shared: str = "../shared/", burst: int = 0
) -> str:
    """The quiz SCO's page; ``passing`` is the percentage it passes with when the LMS gives none;
    ``burst`` more interactions are set at once when it finishes."""
    config = {
        "version": version,
        "passing": passing,
        "questions": QUESTIONS,
        "correct": CORRECT_ANSWERS,
        "burst": burst,
    }
    # "</" cannot end the inline script early.
    config_json = json.dumps(config).replace("</", "<\\/")
    return SCO_HTML.format(title=escape(title), shared=shared, config=config_json)


def _files(
    version: str, scos: int, titles: list[str], passing: float, burst: int = 0
) -> dict[str, str]:
    files = {"shared/sco.js": SCO_JS, "shared/sco.css": SCO_CSS}
    for number in range(1, scos + 1):
        files[f"sco{number}/index.html"] = sco_page(
            titles[number - 1], version, passing, burst=burst
        )
    return files


def _package(manifest: str, files: dict, nested_folder: str | None, extra_files: dict | None):
    entries = {"imsmanifest.xml": manifest, **files, **(extra_files or {})}
    prefix = f"{nested_folder.strip('/')}/" if nested_folder else ""
    return zip_of({prefix + name: data for name, data in entries.items()})


def _item_attributes(number: int, parameters: str | None) -> str:
    extra = f" parameters={quoteattr(parameters)}" if parameters is not None else ""
    return f'identifier="ITEM-{number}" identifierref="RES-{number}"{extra}'


def scorm_2004_package(
    *,
    title: str = "Returning foreign terrorist fighters",
    scos: int = 1,
    edition: str = "4th",
    scaled_passing_score: float | None = 0.8,
    nested_folder: str | None = None,
    extra_files: dict[str, bytes | str] | None = None,
    parameters: str | None = None,
    group_title: str | None = None,
    burst: int = 0,
) -> bytes:
    """A SCORM 2004 package (``edition`` "2nd", "3rd" or "4th") of ``scos`` quiz SCOs titled
    "Part 1", "Part 2"...; ``scaled_passing_score`` goes into each item's primary objective;
    ``nested_folder`` zips the package inside that folder; ``parameters`` is each item's
    ``parameters`` attribute; ``group_title`` puts the SCOs under one grouping item; ``burst``
    more interactions are set at once when the quiz finishes."""
    titles = [f"Part {n}" for n in range(1, scos + 1)]
    items = []
    for number, item_title in enumerate(titles, 1):
        sequencing = ""
        if scaled_passing_score is not None:
            sequencing = (
                "<imsss:sequencing><imsss:objectives>"
                '<imsss:primaryObjective objectiveID="PRIMARY" satisfiedByMeasure="true">'
                f"<imsss:minNormalizedMeasure>{scaled_passing_score}</imsss:minNormalizedMeasure>"
                "</imsss:primaryObjective></imsss:objectives></imsss:sequencing>"
            )
        items.append(
            f"<item {_item_attributes(number, parameters)}>"
            f"<title>{escape(item_title)}</title>"
            f"<adlcp:dataFromLMS>part={number}</adlcp:dataFromLMS>{sequencing}</item>"
        )
    body = "".join(items)
    if group_title is not None:
        body = f'<item identifier="GROUP-1"><title>{escape(group_title)}</title>{body}</item>'
    resources = "".join(
        f'<resource identifier="RES-{n}" type="webcontent" adlcp:scormType="sco" '
        f'href="sco{n}/index.html"><file href="sco{n}/index.html"/>'
        '<dependency identifierref="SHARED"/></resource>'
        for n in range(1, scos + 1)
    )
    manifest = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="org.example.ct-course" version="1" {NAMESPACES_2004}>
  <metadata><schema>ADL SCORM</schema><schemaversion>{SCHEMA_VERSIONS[edition]}</schemaversion>
  </metadata>
  <organizations default="ORG-1">
    <organization identifier="ORG-1"><title>{escape(title)}</title>{body}</organization>
  </organizations>
  <resources>{resources}
    <resource identifier="SHARED" type="webcontent" adlcp:scormType="asset">
      <file href="shared/sco.js"/><file href="shared/sco.css"/>
    </resource>
  </resources>
</manifest>
"""
    passing = 100 * scaled_passing_score if scaled_passing_score is not None else 80
    files = _files("2004", scos, titles, passing, burst)
    return _package(manifest, files, nested_folder, extra_files)


def scorm_12_package(
    *,
    title: str = "Recognising radicalisation",
    scos: int = 1,
    mastery_score: float | None = 80,
    nested_folder: str | None = None,
    extra_files: dict[str, bytes | str] | None = None,
    parameters: str | None = None,
) -> bytes:
    """A SCORM 1.2 package of ``scos`` quiz SCOs titled "Part 1", "Part 2"...;
    ``mastery_score`` (0-100) is each item's ``adlcp:masteryscore``; the other options as for
    :func:`scorm_2004_package`."""
    titles = [f"Part {n}" for n in range(1, scos + 1)]
    mastery = (
        f"<adlcp:masteryscore>{mastery_score:g}</adlcp:masteryscore>"
        if mastery_score is not None
        else ""
    )
    items = "".join(
        f"<item {_item_attributes(number, parameters)}>"
        f"<title>{escape(item_title)}</title>{mastery}"
        f"<adlcp:datafromlms>part={number}</adlcp:datafromlms></item>"
        for number, item_title in enumerate(titles, 1)
    )
    resources = "".join(
        f'<resource identifier="RES-{n}" type="webcontent" adlcp:scormtype="sco" '
        f'href="sco{n}/index.html"><file href="sco{n}/index.html"/>'
        '<file href="shared/sco.js"/><file href="shared/sco.css"/></resource>'
        for n in range(1, scos + 1)
    )
    manifest = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="org.example.ct-course-12" version="1.0" {NAMESPACES_12}>
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG-1">
    <organization identifier="ORG-1"><title>{escape(title)}</title>{items}</organization>
  </organizations>
  <resources>{resources}</resources>
</manifest>
"""
    files = _files("1.2", scos, titles, mastery_score if mastery_score is not None else 80)
    return _package(manifest, files, nested_folder, extra_files)


# Bad packages.


def package_without_manifest() -> bytes:
    """A zip of web pages with no imsmanifest.xml."""
    return zip_of({"index.html": "<!doctype html><title>Course</title>", "app.js": "//"})


def aicc_package() -> bytes:
    """An AICC course structure (.crs, .au, .des, .cst) and no manifest."""
    return zip_of(
        {
            "course.crs": "[Course]\nCourse_ID=CT101\n",
            "course.au": '"System_ID","Type","File_Name"\n"A1","","index.html"\n',
            "course.des": '"System_ID","Title"\n"A1","Lesson"\n',
            "course.cst": '"Block","Member"\n"Root","A1"\n',
            "index.html": "<!doctype html><title>Course</title>",
        }
    )


def xapi_package(kind: str = "tincan") -> bytes:
    """An xAPI (``kind="tincan"``: tincan.xml) or cmi5 (``kind="cmi5"``: cmi5.xml) package."""
    return zip_of(
        {
            f"{kind}.xml": '<?xml version="1.0"?><courseStructure/>',
            "index.html": "<!doctype html><title>Course</title>",
        }
    )


def _manifest_package(manifest: str, files: dict | None = None) -> bytes:
    return zip_of({"imsmanifest.xml": manifest, **(files or {})})


def _simple_manifest(href: str, *, version: str = "1.2") -> str:
    namespaces = NAMESPACES_12 if version == "1.2" else NAMESPACES_2004
    attribute = "scormtype" if version == "1.2" else "scormType"
    return (
        f'<?xml version="1.0"?><manifest identifier="M" {namespaces}>'
        '<organizations default="O"><organization identifier="O"><title>Course</title>'
        '<item identifier="I" identifierref="R"><title>Lesson</title></item>'
        "</organization></organizations><resources>"
        f'<resource identifier="R" type="webcontent" adlcp:{attribute}="sco" '
        f"href={quoteattr(href)}/></resources></manifest>"
    )


def package_with_broken_manifest() -> bytes:
    """A manifest that is not well-formed XML (an element never closed)."""
    return _manifest_package(
        '<?xml version="1.0"?><manifest identifier="M"><organizations>',
        {"index.html": "<!doctype html>"},
    )


def package_with_entity_expansion() -> bytes:
    """A manifest declaring nested entities ("billion laughs")."""
    return _manifest_package(
        '<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><manifest identifier="M">&b;</manifest>'
    )


def package_with_missing_launch_file() -> bytes:
    """A manifest launching ``lesson/start.html``, which the zip does not hold."""
    return _manifest_package(_simple_manifest("lesson/start.html"), {"lesson/other.html": "x"})


def package_with_href(href: str) -> bytes:
    """A package whose only SCO launches ``href`` (``../../outside.html``,
    ``http://evil.example/x.html``...)."""
    return _manifest_package(_simple_manifest(href), {"index.html": "<!doctype html>"})


def package_with_entry(name: str, data: bytes = b"owned") -> bytes:
    """A good SCORM 1.2 package with one more entry named ``name`` (zip slip: ``../evil.txt``,
    ``/etc/x``, ``C:\\x``)."""
    buffer = io.BytesIO(scorm_12_package())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about odd names: they are the point
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


def package_with_symlink() -> bytes:
    """A good package with a symbolic link entry pointing out of it."""
    buffer = io.BytesIO(scorm_12_package())
    info = zipfile.ZipInfo("shared/passwd.txt")
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(info, "../../../../etc/passwd")
    return buffer.getvalue()


def zip_bomb_package(megabytes: int = 20) -> bytes:
    """A good package plus one entry of ``megabytes`` MB of zeros, compressed about 1000 to 1."""
    buffer = io.BytesIO(scorm_12_package())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("shared/video.bin", bytes(megabytes * 1024 * 1024))
    return buffer.getvalue()


def package_with_lying_header(declared: int = 1000, actual: int = 200_000) -> bytes:
    """A good package plus ``shared/data.bin``, whose headers say it unpacks to ``declared``
    bytes while it holds ``actual`` (the CRC is that of the real content)."""
    content = bytes(range(256)) * (actual // 256)
    buffer = io.BytesIO(scorm_12_package())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("shared/data.bin", content)
    data = bytearray(buffer.getvalue())
    real = struct.pack("<I", len(content))
    name = b"shared/data.bin"
    # Local header: size at 22; central directory entry: size at 24; both just before the name.
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        if data[local + 30 : local + 30 + len(name)] == name:
            assert data[local + 22 : local + 26] == real
            data[local + 22 : local + 26] = struct.pack("<I", declared)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        if data[central + 46 : central + 46 + len(name)] == name:
            assert data[central + 24 : central + 28] == real
            data[central + 24 : central + 28] = struct.pack("<I", declared)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def package_with_many_entries(count: int = 10_001) -> bytes:
    """A good package plus ``count`` small files."""
    buffer = io.BytesIO(scorm_12_package())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as archive:
        for number in range(count):
            archive.writestr(f"shared/images/{number}.txt", b"x")
    return buffer.getvalue()


MALICIOUS_JS = r"""// A SCO that tries what a hostile package would try, and writes what it managed.
(function () {
  "use strict";
  var target = window.MALICIOUS_CONFIG.target;
  var navigateTo = window.MALICIOUS_CONFIG.navigateTo;
  var findings = {};
  function write(done) {
    var pre = document.getElementById("findings");
    pre.textContent = JSON.stringify(findings, null, 2);
    if (done) pre.dataset.done = "true";
  }
  function attempt(name, read) {
    try {
      findings[name] = { ok: true, value: String(read()) };
    } catch (e) {
      findings[name] = { ok: false, error: e.name + ": " + e.message };
    }
  }
  attempt("document_cookie", function () { return document.cookie; });
  attempt("parent_cookie", function () { return window.parent.document.cookie; });
  attempt("top_cookie", function () { return window.top.document.cookie; });
  attempt("parent_csrf_token", function () {
    var field = window.parent.document.querySelector("[name=csrf_token], meta[name=csrf-token]");
    return field ? (field.value || field.content) : "";
  });
  attempt("parent_local_storage", function () {
    return JSON.stringify(window.parent.localStorage);
  });
  attempt("api_1484_11", function () { return typeof window.parent.API_1484_11; });
  write(false);

  function request(name, options) {
    return fetch(target, options).then(function (response) {
      return response.text().then(function (body) {
        findings[name] = {
          ok: true, status: response.status, type: response.type, body: body.slice(0, 200)
        };
      });
    }, function (e) {
      findings[name] = { ok: false, error: e.name + ": " + e.message };
    });
  }
  Promise.all([
    request("fetch_get", { credentials: "include" }),
    request("fetch_post", {
      method: "POST", credentials: "include",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "display_name=Owned&role=administrator"
    }),
    request("fetch_post_no_cors", {
      method: "POST", credentials: "include", mode: "no-cors",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "display_name=Owned&role=administrator"
    })
  ]).then(function () {
    findings.top_navigation = { ok: false, error: "not tried yet" };
    write(true);
    try {
      window.top.location.href = navigateTo;
      findings.top_navigation = { ok: true, value: "assigned" };
    } catch (e) {
      findings.top_navigation = { ok: false, error: e.name + ": " + e.message };
    }
    write(true);
  });
})();
"""


def malicious_package(target_url: str, *, navigate_to: str = "https://evil.example/") -> bytes:
    """A SCORM 2004 package whose SCO tries to read ``document.cookie`` (its own, its parent's,
    the top window's), the parent's CSRF token and storage, to GET and POST ``target_url`` (a
    page of the platform) with the learner's credentials, and to send the top window to
    ``navigate_to``; it writes what it managed into ``<pre id="findings">`` as JSON."""
    config = json.dumps({"target": target_url, "navigateTo": navigate_to}).replace("</", "<\\/")
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Malicious lesson</title>
<script>window.MALICIOUS_CONFIG = {config};</script>
</head>
<body>
<h1>Malicious lesson</h1>
<pre id="findings">{{}}</pre>
<script src="malicious.js"></script>
</body>
</html>
"""
    manifest = _simple_manifest("index.html", version="2004")
    return _manifest_package(manifest, {"index.html": page, "malicious.js": MALICIOUS_JS})
