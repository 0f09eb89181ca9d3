"""The demo's SCORM lesson in Chromium, played by the platform's runtime: a learner answers two
questions, saves and leaves, comes back where they were, finishes, and the lesson page shows
the completion and the score; every answer is kept as an interaction.

As in test_scorm_browser.py, the platform is served at http://127.0.0.1:<port> and package
content at http://localhost:<port>, as ``make run`` does.
"""

import pytest
from sqlalchemy import select

from courses.models import Module
from courses.scorm.models import ScormAttempt, ScormInteraction, ScormTrack
from learnplatform.demo import load_demo_data
from learnplatform.demo_scorm import SCORM_LESSONS
from learnplatform.extensions import db
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_modules_browser import log_in

LEARNER = "Ngozi Okafor"
LESSON_TITLE = "Scenario: an online threat and the evidence held abroad"


@pytest.fixture
def content_origin(app, live_server):
    origin = live_server.replace("127.0.0.1", "localhost")
    app.config["SCORM_CONTENT_ORIGIN"] = origin
    return origin


@pytest.fixture
def demo_module_id(app) -> int:
    with app.app_context():
        load_demo_data()
        db.session.commit()
        return db.session.scalar(select(Module.id).where(Module.title == SCORM_LESSONS[0][1]))


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"demo-scorm-{name}.png"), full_page=True)


def shots(page, name: str) -> None:
    """The page at 1280 and at 390 pixels wide."""
    shot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def sco(page):
    """The SCO: in the package's frame, inside our frame page on the content origin."""
    return page.frame_locator("#scorm-frame").frame_locator("#sco")


def open_the_lesson(page, live_server, module_id):
    page.goto(f"{live_server}/courses/modules/{module_id}")
    page.get_by_role("link", name=LESSON_TITLE).first.click()
    scenario = sco(page)
    scenario.locator("#status[data-state=ready]").wait_for(state="attached")
    return scenario


def answer(scenario, question: int, choice: str, verdict: str) -> None:
    scenario.get_by_role("heading", name=f"Question {question} of 5").wait_for()
    scenario.locator(f"#answer-q{question}-{choice}").check()
    screen = scenario.locator(f"[data-step=q{question}]")
    screen.get_by_role("button", name="Check my answer").click()
    screen.locator(".feedback").get_by_text(verdict, exact=True).wait_for()


def next_screen(scenario, heading: str) -> None:
    scenario.get_by_role("button", name="Next").click()
    scenario.get_by_role("heading", name=heading).wait_for()


def test_a_learner_plays_the_demo_scenario_leaves_comes_back_and_passes(
    app, live_server, content_origin, browser, create_user, demo_module_id
):
    learner = create_user(name=LEARNER, country="NG")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, live_server, learner.email, LEARNER)
    page.goto(f"{live_server}/courses/modules/{demo_module_id}")
    page.get_by_role("button", name="Enrol").click()

    scenario = open_the_lesson(page, live_server, demo_module_id)
    scenario.get_by_role("heading", name="The situation").wait_for()
    shots(page, "start")
    next_screen(scenario, "Four routes to data held abroad")
    next_screen(scenario, "Question 1 of 5: the first request")
    answer(scenario, 1, "emergency-disclosure", "Correct.")
    next_screen(scenario, "Question 2 of 5: keeping the data for trial")
    answer(scenario, 2, "screenshots", "Not quite.")
    scenario.locator("#answer-q2-preservation + label").get_by_text("Right answer").wait_for()
    shots(page, "feedback")
    scenario.get_by_role("button", name="Save and leave").click()
    page.get_by_text("Your place is saved.").wait_for()

    # Away, and back later: the scenario opens where the learner left it, answers kept.
    page.goto(f"{live_server}/courses/my-learning")
    scenario = open_the_lesson(page, live_server, demo_module_id)
    scenario.locator("#welcome").get_by_text("Welcome back").wait_for()
    scenario.get_by_role("heading", name="Question 2 of 5").wait_for()
    assert scenario.locator("#answer-q2-screenshots").is_checked()
    assert scenario.locator("#answer-q2-screenshots").is_disabled()
    next_screen(scenario, "Describe exactly what you need")
    next_screen(scenario, "Question 3 of 5: naming the account")
    answer(scenario, 3, "url-id-time", "Correct.")
    next_screen(scenario, "Friday: from prevention to prosecution")
    next_screen(scenario, "Question 4 of 5: the private messages")
    answer(scenario, 4, "mutual-legal-assistance", "Correct.")
    next_screen(scenario, "Question 5 of 5: drafting the request")
    answer(scenario, 5, "specific", "Correct.")
    scenario.get_by_role("button", name="See my result").click()
    scenario.get_by_text("You answered 4 of the 5 questions correctly: 80%.").wait_for()
    shots(page, "result")
    scenario.get_by_role("button", name="Finish").click()

    page.get_by_text("You have completed this lesson.").wait_for()
    page.get_by_text("Score: 80%").wait_for()
    page.get_by_text("Passed").first.wait_for()
    shots(page, "completed")
    assert not errors, errors

    with app.app_context():
        attempt = db.session.scalar(select(ScormAttempt).where(ScormAttempt.user_id == learner.id))
        assert (attempt.success, attempt.score_percent) == ("passed", 80)
        track = db.session.scalar(select(ScormTrack).where(ScormTrack.attempt_id == attempt.id))
        assert (track.completion_status, track.success_status) == ("completed", "passed")
        assert (track.score_raw, track.score_min, track.score_max) == (4, 0, 5)
        assert track.score_scaled == 0.8
        assert (track.location, track.exit) == ("result", "normal")
        assert track.launches == 2 and track.total_seconds > 0
        interactions = db.session.scalars(
            select(ScormInteraction)
            .where(ScormInteraction.track_id == track.id)
            .order_by(ScormInteraction.session, ScormInteraction.position)
        ).all()
        assert [(i.session, i.identifier, i.learner_response, i.result) for i in interactions] == [
            (1, "first-request", "emergency-disclosure", "correct"),
            (1, "keep-the-data", "screenshots", "incorrect"),
            (2, "identify-the-account", "url-id-time", "correct"),
            (2, "route-for-content", "mutual-legal-assistance", "correct"),
            (2, "draft-the-request", "specific", "correct"),
        ]
        assert all(i.kind == "choice" for i in interactions)
        assert interactions[1].correct_responses == ["preservation"]
        assert interactions[0].description.startswith("09:55. The post names Friday.")
