"""A trainer reads the learners' results of a SCORM lesson in Chromium, on a wide screen and on
a phone (390 px): the figures, the table, a filter and one learner's answers. Full-page
screenshots are kept in test-artifacts/ under names starting with ``scorm-results-``."""

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_modules_browser import log_in
from tests.courses.test_scorm_player import CONTENT
from tests.courses.test_scorm_reports import XSS_RESPONSE, scorm_class

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def app(app):
    app.config["SCORM_CONTENT_ORIGIN"] = CONTENT
    return app


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"scorm-results-{name}.png"), full_page=True)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_trainer_reads_the_learners_results(
    app, client, login_as, create_user, live_server, browser
):
    data = scorm_class(app, client, login_as, create_user)
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, live_server, data["trainer"].email, "Kwame Mensah")

    # From the module's page, beside the SCORM lesson.
    page.goto(f"{live_server}/courses/manage/{data['module_id']}")
    page.get_by_role("link", name="Results of Returning foreign terrorist fighters").click()
    page.get_by_role("heading", name="Learners' results").wait_for()
    table = page.get_by_role("table", name="Learners' results in")
    assert table.get_by_role("row").count() == 5  # the header and four learners
    assert page.locator("[data-summary=average]").inner_text() == "65 %"
    shot(page, "1280")

    page.set_viewport_size(PHONE)
    assert page_width(page) <= PHONE["width"], "the page scrolls sideways on a phone"
    shot(page, "390")
    page.set_viewport_size(WIDE)

    page.get_by_label("Status").select_option(label="Not passed")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("1 learner", exact=True).wait_for()
    assert table.get_by_role("row").count() == 2

    page.get_by_role("link", name="Clear").click()
    page.get_by_role("link", name="Amina Yusuf").click()
    page.get_by_role("heading", name="Attempt 1").wait_for()
    # The learner's answer, sent by the package, is text on the page and never ran.
    assert page.get_by_text(XSS_RESPONSE).count() == 1
    shot(page, "learner-1280")
    page.set_viewport_size(PHONE)
    assert page_width(page) <= PHONE["width"], "the learner's page scrolls sideways on a phone"
    shot(page, "learner-390")
    assert not errors, errors
    context.close()
