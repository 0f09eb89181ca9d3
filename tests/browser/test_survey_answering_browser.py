"""A learner answers a module's required evaluation in a real browser: the error summary for a
required question left blank, then the certificate once answered; the page at 1280 and 390 px in
English and in Arabic (right to left)."""

from courses import services
from courses.models import Module
from learnplatform.extensions import db
from tests.browser.conftest import shots_at_widths, tr
from tests.browser.test_modules_browser import log_in
from tests.courses.test_modules import build_module
from tests.helpers import PASSWORD
from tests.surveys.test_answering import add_survey

WIDTHS = {"1280": 1280, "390": 390}


def completed_module(app, learner, **survey_fields) -> dict:
    """A one-lesson module with a required evaluation, completed by ``learner``."""
    module_id = build_module(app, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id, required=True, **survey_fields)
    with app.app_context():
        module = db.session.get(Module, module_id)
        enrolment = services.enrol(module, learner)
        services.mark_done(enrolment, module.lessons[0])
        db.session.commit()
    return {**survey, "module_id": module_id}


def test_a_learner_answers_the_evaluation_and_receives_the_certificate(
    app, live_server, page, create_user
):
    learner = create_user(name="Amina Diallo")
    survey = completed_module(app, learner)
    log_in(page, live_server, learner.email, "Amina Diallo")
    page.goto(f"{live_server}/courses/modules/{survey['module_id']}")
    page.get_by_text("Answer the evaluation to receive your certificate.").wait_for()
    page.get_by_role("link", name="Evaluate this module").click()
    page.get_by_role("heading", name="How useful was the module?").wait_for()
    shots_at_widths(page, "survey-respond-en", WIDTHS)

    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    page.wait_for_function("() => document.activeElement.hasAttribute('data-error-summary')")
    assert "Answer this question." in summary.inner_text()
    shots_at_widths(page, "survey-respond-errors-en", WIDTHS)

    page.get_by_role("radio", name="Agree", exact=True).check()
    page.get_by_text("9", exact=True).click()
    page.get_by_role("checkbox", name="The case studies").check()
    page.get_by_label("What was missing?").fill("Cases from the Sahel.")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_text("Thank you: your answers are recorded.").wait_for()
    page.get_by_role("link", name="View your certificate").click()
    page.get_by_text("Countering the financing of terrorism").first.wait_for()
    assert page.console_errors == []


def test_the_respond_page_in_arabic_reads_right_to_left(app, live_server, page, create_user):
    learner = create_user(name="Layla Haddad", language="ar")
    survey = completed_module(app, learner, title="ما مدى فائدة الوحدة؟", language="ar")
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(learner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role(
        "heading", name=tr(app, "ar", "Welcome, %(name)s", name="Layla Haddad")
    ).wait_for()
    page.goto(f"{live_server}/surveys/{survey['id']}/respond")
    page.get_by_role("heading", name="ما مدى فائدة الوحدة؟").wait_for()
    assert page.locator("html").get_attribute("dir") == "rtl"
    shots_at_widths(page, "survey-respond-ar", WIDTHS)
    page.get_by_role("button", name=tr(app, "ar", "Send my answers")).click()
    page.locator("[data-error-summary]").wait_for()
    shots_at_widths(page, "survey-respond-errors-ar", WIDTHS)
    assert page.console_errors == []
