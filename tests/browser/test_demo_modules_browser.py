"""The demo CBRN module in Chromium, in English and in Arabic: a learner enrols, reads a lesson
whose diagram shows (with its alt text), and the first English lesson plays the captioned video
with its transcript. Screenshots at 1280 and 390 px are kept in test-artifacts/ as
``demo-cbrn-*``."""

import pytest
from sqlalchemy import select

from courses.models import Module
from learnplatform.demo import load_demo_data
from learnplatform.extensions import db
from tests.browser.conftest import shots_at_widths, tr
from tests.browser.test_modules_browser import log_in
from tests.helpers import PASSWORD

WIDTHS = {"1280": 1280, "390": 390}


@pytest.fixture
def cbrn(app) -> dict[str, int]:
    """The demo loaded; the CBRN module's id in each language."""
    with app.app_context():
        load_demo_data()
        db.session.commit()
        rows = db.session.execute(select(Module.language, Module.id).where(Module.theme == "cbrn"))
        return dict(rows.all())


def enrol_and_open_lesson(app, page, live_server, module_id: int, language: str, number: int):
    """Enrol from the module's page, then open its lesson ``number`` (from 1) from the syllabus."""
    page.goto(f"{live_server}/courses/modules/{module_id}")
    page.get_by_role("button", name=tr(app, language, "Enrol")).first.click()
    page.get_by_role("link", name=tr(app, language, "Start the first lesson")).first.wait_for()
    with app.app_context():
        lesson = db.session.get(Module, module_id).lessons[number - 1]
        title, lesson_id = lesson.title, lesson.id
    page.goto(f"{live_server}/courses/modules/{module_id}/lessons/{lesson_id}")
    page.get_by_role("heading", name=title).first.wait_for()


def pictures_show(page) -> list[str]:
    """The alt text of each picture in the lesson, once every one has loaded."""
    pictures = page.locator("main img[alt]")
    pictures.first.wait_for()
    for index in range(pictures.count()):
        picture = pictures.nth(index)
        picture.scroll_into_view_if_needed()
        assert picture.evaluate("(img) => img.complete && img.naturalWidth > 0")
        assert picture.bounding_box()["width"] > 200
    return [pictures.nth(index).get_attribute("alt") for index in range(pictures.count())]


def test_an_english_learner_reads_a_lesson_with_a_diagram_and_watches_the_introduction(
    app, live_server, page, create_user, cbrn
):
    learner = create_user(name="Grace Mwangi", language="en")
    log_in(page, live_server, learner.email, "Grace Mwangi")
    enrol_and_open_lesson(app, page, live_server, cbrn["en"], "en", 2)
    (alt,) = pictures_show(page)
    assert alt.startswith("Timeline of the universal instruments on CBRN terrorism")
    assert page.get_by_text("Figure 1. The instruments on CBRN terrorism").is_visible()
    shots_at_widths(page, "demo-cbrn-lesson-en", WIDTHS)

    page.get_by_role("link", name="Why CBRN terrorism is a criminal justice matter").first.click()
    page.locator("main video").wait_for()
    caption = "The module in twenty seconds"
    assert page.get_by_text(caption).first.is_visible()
    transcript = page.get_by_role("region", name=f"Transcript: {caption}", exact=False)
    transcript.get_by_text("Welcome to this module on the international").wait_for()
    shots_at_widths(page, "demo-cbrn-video-en", WIDTHS)


def test_an_arabic_learner_reads_the_arabic_lesson_right_to_left_with_its_diagram(
    app, live_server, page, create_user, cbrn
):
    learner = create_user(name="Layla Haddad", language="ar")
    page.goto(f"{live_server}/login")  # in the browser's English until she logs in
    page.get_by_label("E-mail address").fill(learner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role(
        "heading", name=tr(app, "ar", "Welcome, %(name)s", name="Layla Haddad")
    ).wait_for()
    enrol_and_open_lesson(app, page, live_server, cbrn["ar"], "ar", 5)
    assert page.locator("html").get_attribute("dir") == "rtl"
    (alt,) = pictures_show(page)
    assert alt.startswith("أربعة مستويات للتأهب")
    shots_at_widths(page, "demo-cbrn-lesson-ar", WIDTHS)
