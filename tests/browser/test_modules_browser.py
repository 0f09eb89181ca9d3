"""A trainer writes and publishes a module; a practitioner takes it to the certificate, in Chromium.

Every step goes through the pages: links, buttons, fields. A full-page screenshot of each main
step is kept in test-artifacts/ under a name starting with ``modules-``.
"""

import re

from courses import services
from courses.models import Module
from learnplatform.extensions import db
from tests.browser.conftest import ARTIFACTS, scripts_loaded
from tests.helpers import PASSWORD

MODULE_TITLE = "Requesting electronic evidence across borders"
OTHER_TITLE = "Countering the financing of terrorism"
TRAINER_NAME = "Kwame Mensah"
LEARNER_NAME = "Aïcha Maïga"
QUESTION = "Which request keeps data held by a provider until a formal request arrives?"
RIGHT_ANSWER = "A preservation request"
WRONG_ANSWER = "A press release"
LESSON_TWO_BODY = (
    "<h2>Emergency disclosure</h2>"
    "<p>Providers may disclose data at once when a life is at risk.</p>"
    "<script>window.lessonScriptRan = true; alert('script');</script>"
    '<p><a href="javascript:alert(1)">Open the checklist</a></p>'
)


def shot(page, name: str) -> None:
    """A full-page screenshot of the current step, kept in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"modules-{name}.png"), full_page=True)


def log_in(page, live_server: str, email: str, name: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Welcome, {name}").wait_for()
    scripts_loaded(page)


def log_out(page, name: str) -> None:
    scripts_loaded(page)  # the menu opens through Bootstrap
    page.get_by_role("button", name=name).click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You have logged out.").wait_for()


def status_with(page, text: str):
    """The status message (flash or result box) that contains ``text``."""
    return page.get_by_role("status").filter(has_text=text)


def visual_editor(page):
    """The lesson editor, once its script has taken the place of the HTML field (waited for:
    until then the field is the one labelled "Lesson text")."""
    editor = page.locator("#lesson-editor .ql-editor")
    editor.wait_for(state="visible")
    label = page.locator("label[for=body]")
    assert editor.get_attribute("aria-labelledby") == label.get_attribute("id")
    assert label.inner_text() == "Lesson text"
    return editor


def write_first_lesson(page) -> None:
    """A heading, a paragraph with bold words, a list and a link, typed with the toolbar."""
    toolbar = page.get_by_role("toolbar", name="Formatting")
    visual_editor(page).click()
    toolbar.get_by_role("button", name="Heading", exact=True).click()
    page.keyboard.type("Key points")
    page.keyboard.press("Enter")
    page.keyboard.type("Data held abroad can vanish within days. ")
    toolbar.get_by_role("button", name="Bold").click()
    page.keyboard.type("Act at once.")
    toolbar.get_by_role("button", name="Bold").click()
    page.keyboard.press("Enter")
    toolbar.get_by_role("button", name="Bulleted list").click()
    page.keyboard.type("Preserve the data")
    page.keyboard.press("Enter")
    page.keyboard.type("Request its disclosure")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("the practical guide")
    page.keyboard.press("Shift+Home")
    toolbar.get_by_role("button", name="Link").click()
    page.get_by_label("Link address").fill("https://example.org/guide")
    page.get_by_label("Link address").press("Enter")


def back_to_module(page) -> None:
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=MODULE_TITLE).click()
    page.get_by_role("heading", name=MODULE_TITLE).wait_for()


def publish_another_module(app) -> None:
    """A published module of another theme, which the theme filter must leave out."""
    with app.app_context():
        module = Module(
            title=OTHER_TITLE,
            summary="How terrorist groups raise, move and use funds.",
            theme="financing",
            language="en",
            estimated_minutes=90,
            enrolment_mode="open",
        )
        db.session.add(module)
        db.session.flush()
        services.add_lesson(module, title="Sources of funds", body_html="<p>Body</p>")
        services.set_published(module, True)
        db.session.commit()


def test_a_trainer_publishes_a_module_and_a_practitioner_earns_its_certificate(
    app, live_server, page, create_user
):
    trainer = create_user(role="trainer", name=TRAINER_NAME)
    learner = create_user(name=LEARNER_NAME)
    publish_another_module(app)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # 1. The trainer writes the module as a draft.
    log_in(page, live_server, trainer.email, TRAINER_NAME)
    main = page.get_by_role("navigation", name="Main")
    main.get_by_role("button", name="Manage").click()
    main.get_by_role("link", name="Authoring").click()
    page.get_by_role("link", name="New module").click()
    page.get_by_role("heading", name="New module").wait_for()
    page.get_by_label("Title").fill(MODULE_TITLE)
    page.get_by_label("Summary").fill(
        "Preservation requests, emergency disclosure and mutual legal assistance for "
        "prosecutors and investigators."
    )
    page.get_by_label("Theme").select_option(label="Electronic evidence")
    page.get_by_label("Language", exact=True).select_option(label="English")
    page.get_by_label("Duration (minutes)").fill("180")
    page.get_by_label("Enrolment").select_option(value="open")
    shot(page, "01-new-module-form")
    page.get_by_role("button", name="Save module").click()
    status_with(page, "The module is saved as a draft.").wait_for()
    page.get_by_role("heading", name=MODULE_TITLE).wait_for()
    shot(page, "02-draft-module")

    # The first lesson is written in the visual editor.
    page.get_by_role("link", name="Add a lesson").click()
    page.get_by_label("Lesson title").fill("Why data held abroad matters")
    write_first_lesson(page)
    shot(page, "03-lesson-editor")
    page.get_by_role("button", name="Save lesson").click()
    status_with(page, "The lesson is added.").wait_for()
    back_to_module(page)

    # The second is pasted as HTML with a script and a javascript: link that must not survive.
    page.get_by_role("link", name="Add a lesson").click()
    page.get_by_label("Lesson title").fill("Emergency disclosure")
    page.get_by_role("button", name="Edit the HTML").click()
    page.get_by_role("textbox", name="Lesson text").fill(LESSON_TWO_BODY)
    page.get_by_role("button", name="Save lesson").click()
    status_with(page, "The lesson is added.").wait_for()
    shot(page, "03-lesson-saved")
    back_to_module(page)

    # A single-choice post-test question with three answers, one correct.
    page.locator("#tests").get_by_role("link", name="Post-test").click()
    page.get_by_role("heading", name="Post-test", exact=True).wait_for()
    page.get_by_role("link", name="Add a question").click()
    page.get_by_label("Type").select_option(label="Single choice")
    page.get_by_label("Question", exact=True).fill(QUESTION)
    for number, answer in enumerate(
        (WRONG_ANSWER, RIGHT_ANSWER, "A search warrant for the suspect's home"), start=1
    ):
        page.get_by_label(f"Answer {number}", exact=True).fill(answer)
    page.get_by_label("Answer 2 is correct").check()
    page.get_by_label("Feedback after submission").fill(
        "A preservation request keeps the data; disclosure needs another request."
    )
    shot(page, "04-question-form")
    page.get_by_role("button", name="Save question").click()
    status_with(page, "The question is saved.").wait_for()
    page.get_by_role("link", name=QUESTION).wait_for()
    shot(page, "05-post-test-questions")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=MODULE_TITLE).click()
    page.get_by_role("button", name="Publish").click()
    status_with(page, "The module is published").wait_for()
    assert page.locator(".badge", has_text="Published").is_visible()
    assert page.locator("#tests").get_by_text("1 question").is_visible()
    shot(page, "06-module-published")

    # 2. The trainer leaves; the practitioner finds the module by its theme.
    log_out(page, TRAINER_NAME)
    log_in(page, live_server, learner.email, LEARNER_NAME)
    page.get_by_role("link", name="Catalogue", exact=True).click()
    page.get_by_role("heading", name="E-learning modules").wait_for()
    assert page.get_by_role("link", name=OTHER_TITLE).is_visible()
    page.get_by_label("Theme").select_option(label="Electronic evidence")
    page.locator("main").get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"theme=electronic_evidence"))
    status_with(page, "1 module").wait_for()
    assert page.get_by_role("link", name=OTHER_TITLE).count() == 0
    card = page.locator("article.card", has_text=MODULE_TITLE)
    assert card.get_by_text("2 lessons").is_visible()
    shot(page, "07-catalogue-filtered")

    card.get_by_role("link", name=MODULE_TITLE).click()
    page.get_by_role("heading", name=MODULE_TITLE).wait_for()
    shot(page, "08-module-before-enrolment")
    page.get_by_role("button", name="Enrol").click()
    status_with(page, "You are enrolled.").wait_for()
    shot(page, "09-module-enrolled")
    page.get_by_role("link", name="Start the first lesson").click()

    page.get_by_role("heading", name="Why data held abroad matters").wait_for()
    assert page.get_by_text("Lesson 1 of 2").is_visible()
    lesson = page.locator("article.lesson-body")
    assert lesson.get_by_role("heading", name="Key points", level=2).is_visible()
    assert lesson.locator("strong", has_text="Act at once.").is_visible()
    assert lesson.locator("ul > li").all_inner_texts() == [
        "Preserve the data",
        "Request its disclosure",
    ]
    link = lesson.get_by_role("link", name="the practical guide")
    assert link.get_attribute("href") == "https://example.org/guide"
    assert "&nbsp;" not in lesson.inner_html()
    shot(page, "10-lesson-1")
    page.get_by_role("button", name="Mark as done and continue").click()

    page.get_by_role("heading", name="Emergency disclosure", level=1).wait_for()
    body = page.locator("article.lesson-body")
    assert body.get_by_text("Providers may disclose data at once").is_visible()
    assert body.locator("script").count() == 0
    assert page.locator('a[href^="javascript:" i]').count() == 0
    assert "alert(1)" not in page.content()
    assert page.evaluate("window.lessonScriptRan") is None
    shot(page, "11-lesson-2-sanitised")
    page.get_by_role("button", name="Mark as done", exact=True).click()

    page.get_by_role("heading", name=MODULE_TITLE).wait_for()
    assert page.locator(".syllabus .badge", has_text="Done").count() == 2
    shot(page, "12-module-lessons-done")
    page.locator(".syllabus").get_by_role("link", name="Post-test").click()

    # A wrong answer first, then the right one.
    page.get_by_role("heading", name="Post-test").wait_for()
    shot(page, "13-post-test-rules")
    page.get_by_role("button", name="Start an attempt").click()
    page.get_by_label(WRONG_ANSWER).check()
    shot(page, "14-attempt-1-form")
    page.get_by_role("button", name="Submit your answers").click()
    status_with(page, "Not passed").wait_for()
    assert page.get_by_text("correct answer").is_visible()
    shot(page, "15-attempt-1-not-passed")

    page.get_by_role("link", name="Back to the test").click()
    page.get_by_role("cell", name="Not passed").wait_for()
    shot(page, "16-post-test-after-failure")
    page.get_by_role("button", name="Try again").click()
    page.get_by_label(RIGHT_ANSWER).check()
    page.get_by_role("button", name="Submit your answers").click()
    status_with(page, "You passed").wait_for()
    shot(page, "17-attempt-2-passed")

    # The certificate, from "My learning".
    page.get_by_role("link", name="My learning").click()
    page.get_by_role("heading", name="Completed").wait_for()
    shot(page, "18-my-learning")
    page.get_by_role("link", name="View and print").click()
    page.get_by_role("heading", name="Certificate of completion").wait_for()
    certificate = page.locator("article.certificate")
    assert certificate.get_by_text(LEARNER_NAME).is_visible()
    assert certificate.get_by_text(MODULE_TITLE).is_visible()
    code = certificate.locator("strong.font-monospace").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{10,}", code), code
    shot(page, "19-certificate")
    assert page.console_errors == []
    assert dialogs == []

    # An attachment address the practitioner may not reach is simply not found.
    response = page.goto(f"{live_server}/courses/attachments/999")
    assert response is not None and response.status == 404
    page.get_by_role("heading", name="Page not found").wait_for()
    shot(page, "20-attachment-not-found")

    # Anyone can check the code, logged out.
    log_out(page, LEARNER_NAME)
    page.goto(f"{live_server}/certificates/verify/{code}")
    status_with(page, "This certificate is genuine.").wait_for()
    assert page.get_by_text(LEARNER_NAME).is_visible()
    assert page.get_by_text(MODULE_TITLE).is_visible()
    shot(page, "21-certificate-verified")
    assert [e for e in page.console_errors if "status of 404" not in e] == []
    assert dialogs == []
