"""The recording's player in Chromium tells the Learning Record Store (Ralph) what the viewer
does: played, paused, seeked (once, from where to where) and the end."""

import time

import pytest

from tests.browser.test_modules_browser import log_in
from tests.browser.test_webinars_browser import SAMPLE
from tests.courses.test_webinars import series_with_webinar


@pytest.fixture
def app(lrs_app):
    """The platform sending its statements to Ralph."""
    return lrs_app


def verbs_in(lrs, expected: int, timeout: float = 10.0) -> list[str]:
    """The verbs the LRS holds, waiting a little for those the page sent last."""
    deadline = time.monotonic() + timeout
    while True:
        verbs = [s["verb"]["display"]["en-US"] for s in lrs.statements()]
        if len(verbs) >= expected or time.monotonic() > deadline:
            return verbs
        time.sleep(0.2)


def test_the_player_s_events_reach_the_lrs(app, live_server, page, create_user, lrs):
    from werkzeug.datastructures import FileStorage

    from courses import webinars as service
    from courses.models import Webinar
    from learnplatform.extensions import db

    trainer = create_user(role="trainer")
    learner = create_user(name="Aïcha Maïga")
    _, webinar_id = series_with_webinar(app, trainer.id, recording=False)
    with app.app_context(), SAMPLE.open("rb") as sample:
        webinar = db.session.get(Webinar, webinar_id)
        service.attach_recording(webinar, FileStorage(sample, "webinar-sample.webm"), None)
        db.session.commit()

    log_in(page, live_server, learner.email, "Aïcha Maïga")
    page.goto(f"{live_server}/courses/webinars/{webinar_id}")
    page.locator("video#recording-player").wait_for()
    page.evaluate("document.getElementById('recording-player').muted = true")
    page.evaluate("document.getElementById('recording-player').play(); null")
    assert verbs_in(lrs, 1) == ["played"]
    page.evaluate("document.getElementById('recording-player').pause()")
    assert verbs_in(lrs, 2) == ["played", "paused"]
    for second in (4, 6):  # two seeks in a row are one
        page.evaluate(
            """(second) => new Promise((done) => {
                const video = document.getElementById('recording-player');
                video.addEventListener('seeked', done, { once: true });
                video.currentTime = second;
            })""",
            second,
        )
    assert verbs_in(lrs, 3) == ["played", "paused", "seeked"]
    length = page.evaluate("document.getElementById('recording-player').duration")
    page.evaluate(f"document.getElementById('recording-player').currentTime = {length - 0.2}; null")
    page.evaluate("document.getElementById('recording-player').play(); null")
    verbs = verbs_in(lrs, 6)
    assert verbs[3:] == ["seeked", "played", "completed"]

    seeked = lrs.statements()[2]["result"]["extensions"]
    video = "https://w3id.org/xapi/video/extensions/"
    assert seeked[video + "time-to"] == 6
    assert 0 <= seeked[video + "time-from"] < 4
    assert page.console_errors == []
