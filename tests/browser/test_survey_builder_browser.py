"""The survey builder in a browser: a trainer sets a module's evaluation from its authoring page,
adds questions with choices, and a follow-up by copying it; the pages at 1280 and 390 px."""

from playwright.sync_api import expect

from learnplatform.extensions import db
from learnplatform.surveys.models import Survey
from tests.browser.conftest import shots_at_widths
from tests.browser.test_modules_browser import log_in
from tests.courses.test_modules import build_module

WIDTHS = {"1280": 1280, "390": 390}


def test_a_trainer_builds_an_evaluation_and_a_follow_up(app, live_server, page, create_user):
    trainer = create_user(role="trainer", name="Amina Diallo")
    module_id = build_module(
        app,
        trainer.id,
        title="The international legal framework against CBRN terrorism",
    )
    log_in(page, live_server, trainer.email, "Amina Diallo")
    page.goto(f"{live_server}/courses/manage/{module_id}")
    page.get_by_role("link", name="Evaluation and follow-ups").click()
    page.get_by_role("link", name="Create the evaluation").click()
    page.get_by_label("Title").fill("Evaluation of the module")
    page.get_by_label("Introduction").fill("Five minutes, anonymous.")
    page.get_by_label("Required before the certificate").check()
    shots_at_widths(page, "survey-builder-new", WIDTHS)
    page.get_by_role("button", name="Save survey").click()
    page.get_by_text("The survey is saved. Add its questions.").wait_for()

    for kind, text, choices in (
        (
            "Agreement scale, 1 (strongly disagree) to 5 (strongly agree)",
            "The module was relevant to my work.",
            "",
        ),
        (
            "Recommendation scale, 0 (not at all likely) to 10 (extremely likely)",
            "How likely are you to recommend this module to a colleague?",
            "",
        ),
        (
            "Multiple choice",
            "Which parts were most useful to you?",
            "The international instruments\nThe case studies\nThe tests",
        ),
        ("Long text", "What would you add or change?", ""),
    ):
        page.get_by_role("link", name="Add a question").click()
        page.get_by_label("Type").select_option(label=kind)
        page.get_by_label("Question", exact=True).fill(text)
        if choices:
            page.get_by_label("Choices").fill(choices)
        else:  # the choices are asked only of the kinds that have some
            expect(page.get_by_label("Choices")).to_be_hidden()
        if kind == "Long text":
            page.get_by_label("An answer is required").uncheck()
            shots_at_widths(page, "survey-builder-question", WIDTHS)
        page.get_by_role("button", name="Save question").click()
        page.get_by_text("The question is saved.").wait_for()
    page.get_by_role("button", name="Move question 2 up").click()
    page.get_by_role("listitem").filter(has_text="How likely").first.wait_for()
    shots_at_widths(page, "survey-builder-survey", WIDTHS)

    page.get_by_role("link", name="Copy this survey").click()
    page.get_by_label("Months after completion (follow-up)").fill("3")
    page.get_by_label("Title of the copy").fill("Three months after the module")
    shots_at_widths(page, "survey-builder-copy", WIDTHS)
    page.get_by_role("button", name="Make the copy").click()
    page.get_by_text("The copy is saved").wait_for()
    page.goto(f"{live_server}/surveys/manage/module/{module_id}")
    page.get_by_text("Follow-up, 3 months after completion").wait_for()
    shots_at_widths(page, "survey-builder-module", WIDTHS)
    page.goto(f"{live_server}/surveys/manage/")
    shots_at_widths(page, "survey-builder-list", WIDTHS)
    assert page.console_errors == []

    with app.app_context():
        follow_up = db.session.scalar(db.select(Survey).where(Survey.purpose == "follow_up"))
        assert follow_up.months == 3 and len(follow_up.questions) == 4
        assert (
            follow_up.questions[0].text
            == "How likely are you to recommend this module to a colleague?"
        )
