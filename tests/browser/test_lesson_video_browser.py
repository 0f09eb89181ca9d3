"""A video in a lesson, in Chromium: the trainer uploads it with captions and inserts it through
the lesson editor; a learner watches it in the lesson with captions and a transcript, seeks from
the transcript, and the view is counted once for the trainer to see (docs/lesson-video.md)."""

import time
from pathlib import Path

from sqlalchemy import func, select

from courses import services
from courses.lesson_videos import LessonVideoView
from courses.models import Lesson
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from tests.browser.conftest import shots_at_widths
from tests.browser.test_modules_browser import log_in, log_out, status_with, visual_editor
from tests.courses.test_modules import build_module, lesson_ids

SAMPLE = Path(__file__).resolve().parents[2] / "learnplatform/data/demo/webinar-sample.webm"
CAPTIONS = (
    "WEBVTT\n\n"
    "00:00:00.000 --> 00:00:06.000\nThe parcel is scanned before anyone opens it.\n\n"
    "00:00:06.000 --> 00:00:12.000\nThen the team checks the seals and the labels.\n\n"
    "00:00:12.000 --> 00:00:20.000\nEvery step is written in the custody record.\n"
)
WIDTHS = {"1280": 1280, "390": 390}
EMBED = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"


def views(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(LessonVideoView.id)))


def position(page, video: str) -> float:
    return page.evaluate("(id) => document.getElementById(id).currentTime", video)


def played_past(page, video: str, second: float, timeout: float = 15.0) -> None:
    """Wait until the player has played past ``second`` (the page's policy forbids the string
    evaluation that ``wait_for_function`` needs)."""
    deadline = time.monotonic() + timeout
    while position(page, video) <= second:
        assert time.monotonic() < deadline, f"the player did not reach {second} s"
        page.wait_for_timeout(100)


def test_a_trainer_inserts_a_video_and_a_learner_watches_it(
    app, live_server, page, create_user, tmp_path
):
    trainer = create_user(role="trainer", name="Kwame Mensah")
    learner = create_user(name="Aïcha Maïga")
    module_id = build_module(app, trainer.id, lessons=2, post_test=False)
    lesson_id = lesson_ids(app, module_id)[0]
    with app.app_context():
        lesson = db.session.get(Lesson, lesson_id)
        lesson.title = "Checking a suspicious parcel"
        lesson.body_html = "<p>Watch how the team works, then read the steps below.</p>"
        services.enrol(lesson.module, db.session.get(User, learner.id))
        db.session.commit()
    captions = tmp_path / "parcel.en.vtt"
    captions.write_text(CAPTIONS, encoding="utf-8")

    # The trainer uploads the video with its captions, then inserts it in the text.
    page.on("dialog", lambda dialog: dialog.accept("How a team checks a parcel"))
    log_in(page, live_server, trainer.email, "Kwame Mensah")
    page.goto(f"{live_server}/courses/manage/{module_id}/lessons/{lesson_id}")
    editor = visual_editor(page)
    page.get_by_label("Video (WebM or MP4)").set_input_files(str(SAMPLE))
    page.get_by_label("Captions (WebVTT), if you have them").set_input_files(str(captions))
    page.get_by_role("button", name="Add the video").click()
    status_with(page, "webinar-sample.webm is uploaded").wait_for()
    editor = visual_editor(page)
    editor.get_by_text("Watch how the team works").click()
    page.keyboard.press("End")
    page.locator("#videos").get_by_role("button", name="Insert in the text").click()
    editor.locator("figure[data-video]").wait_for()
    shots_at_widths(page, "lesson-video-editor", WIDTHS)
    page.get_by_role("button", name="Save lesson").click()
    status_with(page, "The lesson is saved.").wait_for()
    # The saved reference reopens in the editor as the same block, and is saved unchanged.
    reopened = visual_editor(page).locator("figure[data-video]")
    assert reopened.inner_text().strip().endswith("How a team checks a parcel")
    page.get_by_role("button", name="Save lesson").click()
    status_with(page, "The lesson is saved.").wait_for()
    with app.app_context():
        body = db.session.get(Lesson, lesson_id).body_html
        video_id = db.session.get(Lesson, lesson_id).videos[0].id
    assert f'<figure data-video="{video_id}"><figcaption>How a team checks a parcel' in body
    log_out(page, "Kwame Mensah")

    # The learner opens the lesson and plays the video.
    video = f"lesson-video-{video_id}"
    ranges: list[int] = []
    page.on(
        "response",
        lambda response: (
            response.url.endswith(f"/courses/videos/{video_id}") and ranges.append(response.status)
        ),
    )
    log_in(page, live_server, learner.email, "Aïcha Maïga")
    page.goto(f"{live_server}/courses/modules/{module_id}/lessons/{lesson_id}")
    player = page.locator(f"video#{video}")
    player.wait_for()
    assert page.get_by_text("How a team checks a parcel").is_visible()
    assert page.evaluate("(id) => document.getElementById(id).textTracks.length", video) == 1
    transcript = page.get_by_role("region", name="Transcript: How a team checks a parcel")
    seals = transcript.get_by_role("button", name="Then the team checks the seals")
    seals.wait_for()
    assert transcript.get_by_text("Every step is written in the custody record.").is_visible()

    with page.expect_response(lambda r: r.url.endswith("/played")) as told:
        page.evaluate("(id) => { document.getElementById(id).muted = true; }", video)
        # Not awaited: play()'s promise is settled by the player, not by the page.
        page.evaluate("(id) => { document.getElementById(id).play(); }", video)
    assert told.value.ok
    played_past(page, video, 0.5)

    # Seeking from the transcript: the video goes to the line's moment and plays on from there.
    seals.click()
    played_past(page, video, 6.2)
    assert position(page, video) < 12
    assert seals.get_attribute("aria-current") == "true"
    page.evaluate(
        """(id) => new Promise((done) => {
            const player = document.getElementById(id);
            player.addEventListener('seeked', done, { once: true });
            player.currentTime = 15;
        })""",
        video,
    )
    played_past(page, video, 15.2)
    page.evaluate("(id) => document.getElementById(id).pause()", video)
    assert 206 in ranges  # the player asked for ranges
    shots_at_widths(page, "lesson-video-lesson", WIDTHS)
    assert views(app) == 1

    # Playing again, and reloading the page, is the same view.
    page.reload()
    page.locator(f"video#{video}").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/played")) as again:
        page.evaluate("(id) => { document.getElementById(id).muted = true; }", video)
        page.evaluate("(id) => { document.getElementById(id).play(); }", video)
    assert again.value.ok
    page.evaluate("(id) => document.getElementById(id).pause()", video)
    assert views(app) == 1
    log_out(page, "Aïcha Maïga")

    # The trainer sees the view beside the video.
    log_in(page, live_server, trainer.email, "Kwame Mensah")
    page.goto(f"{live_server}/courses/manage/{module_id}/lessons/{lesson_id}")
    assert page.locator(f'[data-lesson-video="{video_id}"] [data-video-views]').inner_text() == (
        "1 view · 1 person"
    )


def test_an_administrator_allows_a_site_and_its_embed_plays_sandboxed(
    app, live_server, page, create_user
):
    admin = create_user(role="administrator", name="Lena Fischer")
    trainer = create_user(role="trainer", name="Kwame Mensah")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    (lesson_id,) = lesson_ids(app, module_id)
    # Nothing is fetched from the internet: the embedded site is answered here.
    page.route(
        "https://www.youtube-nocookie.com/**",
        lambda route: route.fulfill(
            body="<!doctype html><title>Embedded</title><h1>Interview (embedded)</h1>",
            content_type="text/html",
        ),
    )

    log_in(page, live_server, admin.email, "Lena Fischer")
    page.goto(f"{live_server}/admin/embeds")
    page.get_by_text("No site is allowed").wait_for()
    page.get_by_label("Host").fill("https://www.youtube-nocookie.com/embed/abc")
    page.get_by_role("button", name="Allow").click()
    status_with(page, "Lessons may now embed pages of www.youtube-nocookie.com").wait_for()
    assert page.get_by_role("listitem").filter(has_text="www.youtube-nocookie.com").is_visible()
    shots_at_widths(page, "lesson-video-embed-hosts", WIDTHS)
    log_out(page, "Lena Fischer")

    # The trainer embeds a page of the allowed site with the editor's button, then pastes an
    # iframe of another site as HTML: only the first stays.
    answers = iter([EMBED, "Interview"])
    page.on("dialog", lambda dialog: dialog.accept(next(answers)))
    log_in(page, live_server, trainer.email, "Kwame Mensah")
    page.goto(f"{live_server}/courses/manage/{module_id}/lessons/{lesson_id}")
    editor = visual_editor(page)
    editor.get_by_text("Body of lesson 1").click()
    page.keyboard.press("End")
    page.get_by_role("button", name="Embed a page of another site").click()
    editor.locator("figure[data-embed]").wait_for()
    page.get_by_role("button", name="Edit the HTML").click()
    field = page.locator("textarea#body")
    field.fill(field.input_value() + '<iframe src="https://evil.example/x"></iframe>')
    page.get_by_role("button", name="Save lesson").click()
    status_with(page, "The lesson is saved.").wait_for()
    response = page.goto(f"{live_server}/courses/modules/{module_id}/lessons/{lesson_id}")
    assert response.headers["content-security-policy"].endswith(
        "; frame-src https://www.youtube-nocookie.com"
    )
    frame = page.locator("iframe[title=Interview]")
    assert frame.get_attribute("sandbox") == "allow-scripts allow-same-origin allow-presentation"
    page.frame_locator("iframe[title=Interview]").get_by_role(
        "heading", name="Interview (embedded)"
    ).wait_for()
    assert page.locator("iframe").count() == 1
    shots_at_widths(page, "lesson-video-embed-lesson", WIDTHS)
