"""Webinars in Chromium: a trainer publishes a recording with captions; a practitioner watches
it, seeks, and downloads it; the counts go up by one view and one download."""

import time
from pathlib import Path

from sqlalchemy import func, select

from courses.models import RecordingEvent
from learnplatform.extensions import db
from tests.browser.conftest import scripts_loaded
from tests.browser.test_modules_browser import log_in, log_out, shot, status_with

SAMPLE = Path(__file__).resolve().parents[2] / "learnplatform/data/demo/webinar-sample.webm"
CAPTIONS = (
    "WEBVTT\n\n"
    "00:00:00.000 --> 00:00:05.000\nWelcome to the webinar on chemical precursors.\n\n"
    "00:00:05.000 --> 00:00:12.000\nControls at borders come first.\n"
)


def counted(app, kind: str, expected: int, timeout: float = 5.0) -> int:
    """The number of ``kind`` events, waiting a little for one recorded after a response."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            number = db.session.scalar(
                select(func.count(RecordingEvent.id)).where(RecordingEvent.kind == kind)
            )
        if number == expected or time.monotonic() > deadline:
            return number
        time.sleep(0.1)


def played_past(page, second: float, timeout: float = 15.0) -> None:
    """Wait until the player has played past ``second`` (the page's policy forbids the
    string evaluation that ``wait_for_function`` needs)."""
    deadline = time.monotonic() + timeout
    script = "document.getElementById('recording-player').currentTime"
    while page.evaluate(script) <= second:
        assert time.monotonic() < deadline, f"the player did not reach {second} s"
        page.wait_for_timeout(100)


def test_a_practitioner_watches_seeks_and_downloads_a_recording(
    app, live_server, page, create_user, tmp_path
):
    trainer = create_user(role="trainer", name="Kwame Mensah")
    learner = create_user(name="Aïcha Maïga")
    captions = tmp_path / "captions-en.vtt"
    captions.write_text(CAPTIONS)

    # The trainer: a series, a webinar, its recording and captions.
    log_in(page, live_server, trainer.email, "Kwame Mensah")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webinars").click()
    page.get_by_role("link", name="New series").click()
    page.get_by_label("Title").fill("Countering CBRN terrorism")
    page.get_by_label("Description").fill("Eleven webinars for prosecutors and investigators.")
    page.get_by_label("Theme").select_option(
        label="Chemical, biological, radiological and nuclear terrorism"
    )
    page.get_by_label("Language", exact=True).select_option(label="English")
    shot(page, "webinars-01-series-form")
    page.get_by_role("button", name="Save series").click()
    status_with(page, "The series is saved.").wait_for()
    page.get_by_role("link", name="Add a webinar").click()
    page.get_by_label("Title").fill("Chemical precursors: controls and prosecutions")
    page.get_by_label("Date and time").fill("2026-03-14T14:00")
    page.get_by_label("Speakers").fill("Dr. Amina Diallo; Judge Carlos Mendes")
    page.get_by_role("button", name="Save webinar").click()
    status_with(page, "The webinar is added.").wait_for()
    page.get_by_label("Recording").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Upload the recording").click()
    status_with(page, "webinar-sample.webm is uploaded.").wait_for()
    page.get_by_label("Captions (WebVTT)").set_input_files(str(captions))
    page.get_by_role("button", name="Upload the captions").click()
    status_with(page, "captions-en.vtt is uploaded.").wait_for()
    shot(page, "webinars-02-webinar-files")
    log_out(page, "Kwame Mensah")

    # The practitioner finds it, plays it and seeks.
    recording_statuses: list[int] = []
    page.on(
        "response",
        lambda response: (
            response.url.endswith("/recording") and recording_statuses.append(response.status)
        ),
    )
    log_in(page, live_server, learner.email, "Aïcha Maïga")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webinars").click()
    page.get_by_role("link", name="Chemical precursors: controls and prosecutions").click()
    player = page.locator("video#recording-player")
    player.wait_for()
    scripts_loaded(page)  # the player's script tells the platform of a play
    with page.expect_response(lambda r: r.url.endswith("/played")) as told:
        page.evaluate("document.getElementById('recording-player').muted = true")
        # Not awaited: play()'s promise is settled by the player, not by the page.
        page.evaluate("document.getElementById('recording-player').play(); null")
    assert told.value.ok
    played_past(page, 0.5)
    assert page.evaluate("document.getElementById('recording-player').textTracks.length") == 1
    for second in (15, 4, 10):
        page.evaluate(
            """(second) => new Promise((done) => {
                const video = document.getElementById('recording-player');
                video.addEventListener('seeked', done, { once: true });
                video.currentTime = second;
            })""",
            second,
        )
    page.evaluate("document.getElementById('recording-player').pause()")
    page.evaluate("document.getElementById('recording-player').play(); null")
    played_past(page, 10.3)
    shot(page, "webinars-03-playing")
    assert 206 in recording_statuses  # the player asked for ranges
    assert counted(app, "view", 1) == 1

    # A download through the page.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the recording").click()
    assert Path(download.value.path()).read_bytes() == SAMPLE.read_bytes()
    assert download.value.suggested_filename == "webinar-sample.webm"
    assert counted(app, "download", 1) == 1
    log_out(page, "Aïcha Maïga")

    # The trainer sees one view and one download.
    log_in(page, live_server, trainer.email, "Kwame Mensah")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webinars").click()
    page.locator("main").get_by_role("link", name="Views and downloads", exact=True).click()
    page.get_by_text("In all: 2 views and downloads (views: 1; downloads: 1).").wait_for()
    shot(page, "webinars-04-counts")
    assert page.console_errors == []


def test_the_webinars_list_shows_each_recording_on_a_phone(app, live_server, browser, create_user):
    """At 390 px the list wraps: each webinar's title, date and recording's availability in
    sight, nothing to scroll sideways."""
    from tests.browser.conftest import shots_at_widths
    from tests.courses.test_webinars import series_with_webinar
    from tests.helpers import PASSWORD

    trainer = create_user(role="trainer", name="Kwame Mensah")
    series_with_webinar(app, trainer.id)
    learner = create_user(name="Aïcha Maïga")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(learner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/courses/webinars")
    badge = page.get_by_text("Recording available")
    badge.wait_for()
    box = badge.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.get_by_role(
        "link", name="Chemical precursors: controls and prosecutions"
    ).is_visible()
    shots_at_widths(page, "webinars-list", {"phone": 390, "desktop": 1280})
    context.close()
