"""SCORM in Chromium: a trainer imports a SCORM 2004 package; a learner answers half of it,
leaves, comes back where they were, finishes with a score; the module completes, the score
shows in the statistics and the statements arrive in a real LRS (Ralph). And a hostile
package, played the same way, reaches nothing of the learner's session.

The platform is served at http://127.0.0.1:<port> and package content at
http://localhost:<port>: another host, as SCORM_CONTENT_ORIGIN must be.
"""

import json

import pytest
from sqlalchemy import func, select

from courses.models import Enrolment
from courses.scorm.models import ScormInteraction
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_modules_browser import log_in
from tests.courses.test_scorm_player import new_module
from tests.scorm_packages import CORRECT_ANSWERS, malicious_package, scorm_2004_package

TRAINER = "Kwame Mensah"
LEARNER = "Aïcha Maïga"
PACKAGE_TITLE = "Returning foreign terrorist fighters"
MODULE_TITLE = "Foreign terrorist fighters: prosecution and reintegration"


@pytest.fixture
def app(lrs_app):
    return lrs_app


@pytest.fixture
def content_origin(app, live_server):
    origin = live_server.replace("127.0.0.1", "localhost")
    app.config["SCORM_CONTENT_ORIGIN"] = origin
    return origin


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"scorm-{name}.png"), full_page=True)


def import_through_the_form(page, live_server, module_id, data: bytes, name: str) -> None:
    page.goto(f"{live_server}/courses/manage/{module_id}")
    page.get_by_role("link", name="Import a SCORM package").click()
    page.get_by_label("SCORM package (.zip)").set_input_files(
        files=[{"name": name, "mimeType": "application/zip", "buffer": data}]
    )
    page.get_by_label("Attempts allowed").fill("2")
    page.get_by_role("button", name="Import the package").click()
    page.get_by_text("The package is imported as the lesson").wait_for()


def sco(page):
    """The SCO: in the package's frame, inside our frame page on the content origin."""
    return page.frame_locator("#scorm-frame").frame_locator("#sco")


def test_a_scorm_2004_package_from_import_to_statistics_and_the_lrs(
    app, live_server, content_origin, browser, create_user, lrs
):
    trainer = create_user(name=TRAINER, role="trainer")
    learner = create_user(name=LEARNER, country="NE")
    module_id = new_module(app, trainer.id, title=MODULE_TITLE)

    trainer_tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(trainer_tab, live_server, trainer.email, TRAINER)
    # The SCO sets 100 more interactions at once when it finishes, as authoring tools do.
    package = scorm_2004_package(burst=100)
    import_through_the_form(trainer_tab, live_server, module_id, package, "ftf.zip")
    shot(trainer_tab, "imported-1280")
    trainer_tab.get_by_text("SCORM 2004, 4th edition").first.wait_for()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, live_server, learner.email, LEARNER)
    page.goto(f"{live_server}/courses/modules/{module_id}")
    page.get_by_role("button", name="Enrol").click()
    page.get_by_role("link", name=PACKAGE_TITLE).first.click()

    quiz = sco(page)
    quiz.locator("#status[data-state=ready]").wait_for()
    quiz.get_by_text("Question 1 of 3").wait_for()
    quiz.locator(f"#answer-1-{CORRECT_ANSWERS[1]}").click()
    quiz.locator("#next").click()
    quiz.get_by_text("Question 2 of 3").wait_for()
    shot(page, "lesson-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "lesson-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    quiz.locator("#save-and-leave").click()
    # The SCO said goodbye: the lesson page shows where the learner stands.
    page.get_by_text("Your place is saved.").wait_for()
    shot(page, "suspended-1280")

    # Away, and back later: the package opens where the learner left it.
    page.goto(f"{live_server}/courses/my-learning")
    page.goto(f"{live_server}/courses/modules/{module_id}")
    page.get_by_role("link", name=PACKAGE_TITLE).first.click()
    quiz = sco(page)
    quiz.locator("#welcome").get_by_text("Welcome back").wait_for()
    quiz.get_by_text("Question 2 of 3").wait_for()
    quiz.locator(f"#answer-2-{CORRECT_ANSWERS[2]}").click()
    quiz.locator("#next").click()
    quiz.locator(f"#answer-3-{CORRECT_ANSWERS[3]}").click()
    quiz.locator("#finish").click()
    page.get_by_text("You have completed this lesson.").wait_for()
    page.get_by_text("Score: 100%").wait_for()
    page.get_by_text("Passed").first.wait_for()
    shot(page, "completed-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "completed-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not [e for e in errors if "Content Security Policy" in e], errors

    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
        assert enrolment.completed_at is not None, "the module completes with its only lesson"
        recorded = db.session.scalar(select(func.count(ScormInteraction.id)))
        assert recorded == 3 + 100, "every interaction of the burst reached the server"

    # The score in the statistics, as the module's trainer reads them.
    trainer_tab.goto(f"{live_server}/stats/")
    section = trainer_tab.get_by_role("region", name="Interactive lessons (SCORM)")
    section.get_by_text(PACKAGE_TITLE).wait_for()
    assert "100" in section.inner_text()
    shot(trainer_tab, "statistics-1280")

    # The statements, read back from the LRS.
    statements = lrs.statements()
    verbs = [statement["verb"]["id"].rsplit("/", 1)[1] for statement in statements]
    for verb in ("registered", "launched", "initialized", "terminated", "passed", "completed"):
        assert verb in verbs, (verb, verbs)
    passed = next(s for s in statements if s["verb"]["id"].endswith("/passed"))
    assert passed["result"]["score"]["scaled"] == 1
    assert verbs.index("launched") < verbs.index("initialized") < verbs.index("passed")
    assert all("mbox" not in statement["actor"] for statement in statements)


def test_a_hostile_package_reaches_nothing_of_the_learners_session(
    app, live_server, content_origin, browser, create_user
):
    trainer = create_user(name=TRAINER, role="trainer")
    learner = create_user(name=LEARNER)
    module_id = new_module(app, trainer.id, title=MODULE_TITLE)
    trainer_tab = browser.new_context().new_page()
    log_in(trainer_tab, live_server, trainer.email, TRAINER)
    hostile = malicious_package(f"{live_server}/account", navigate_to=f"{live_server}/logout")
    import_through_the_form(trainer_tab, live_server, module_id, hostile, "hostile.zip")

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, live_server, learner.email, LEARNER)
    page.goto(f"{live_server}/courses/modules/{module_id}")
    page.get_by_role("button", name="Enrol").click()
    page.get_by_role("link", name="Lesson").first.wait_for()
    page.goto(f"{live_server}/courses/modules/{module_id}")
    page.locator("a[href*='/lessons/']").first.click()
    lesson_url = page.url
    findings_box = sco(page).locator("pre#findings[data-done=true]")
    findings_box.wait_for()
    findings = json.loads(findings_box.inner_text())
    shot(page, "hostile-1280")

    # Its own cookies hold nothing of the platform's; the platform's page is out of reach.
    assert "session" not in findings["document_cookie"].get("value", "")
    assert findings["top_cookie"]["ok"] is False
    assert "SecurityError" in findings["top_cookie"]["error"]
    # Requests to the platform are refused by the package's policy (connect-src 'self'); were
    # they sent, they would go without the session (SameSite) and could not be read (CORS).
    for request in ("fetch_get", "fetch_post", "fetch_post_no_cors"):
        assert findings[request]["ok"] is False, findings[request]
    # The top window stays where it was, the learner logged in as before.
    assert findings["top_navigation"]["ok"] is False
    assert page.url == lesson_url
    page.goto(f"{live_server}/account")
    page.get_by_role("button", name=LEARNER).wait_for()  # still logged in
    with app.app_context():
        assert db.session.get(User, learner.id).name == LEARNER
        assert db.session.get(User, learner.id).role == "practitioner"
