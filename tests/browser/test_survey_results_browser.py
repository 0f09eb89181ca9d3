"""A trainer opens a survey's results from the statistics dashboard, in Chromium: the charts are
drawn beside their tables, a filter that would single people out shows nothing, and the page
reads at 1280 and 390 px (screenshots ``survey-results-*`` in test-artifacts/)."""

from datetime import date

from tests.browser.conftest import shots_at_widths
from tests.courses.test_modules import build_module
from tests.helpers import PASSWORD
from tests.surveys.test_results import SIX, answer, build_survey, set_profile

WIDTHS = {"1280": 1280, "390": 390}


def test_a_trainer_reads_a_surveys_results(app, live_server, page, create_user):
    trainer = create_user(role="trainer", name="Kwame Mensah")
    survey_id = build_survey(app, module_id=build_module(app, trainer.id))
    for values in SIX:
        answer(app, survey_id, create_user(country="KE"), values, day=date(2026, 3, 10))
    for values in SIX[:2]:
        learner = create_user(country="ML")
        set_profile(app, learner, gender="woman")
        answer(app, survey_id, learner, values, day=date(2026, 3, 11))

    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(trainer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{live_server}/stats/")
    page.get_by_role("link", name="Survey results").click()
    page.get_by_role("link", name="Survey evaluation 0").click()
    page.get_by_role("heading", name="1. The module was useful for my work.").wait_for()

    charts = page.locator("canvas[data-chart]")
    assert charts.count() == 4  # agreement, recommendation, single and multiple choice
    page.wait_for_function(
        # (the chart library may still be loading: no Chart yet is not drawn yet)
        "() => window.Chart && [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => Chart.getChart(c))"
    )
    assert page.locator("[data-figure='1']").inner_text() == "8"
    assert page.get_by_text("More case studies from the Sahel.").first.is_visible()
    assert page.console_errors == []
    shots_at_widths(page, "survey-results", WIDTHS)

    page.get_by_label("Country").select_option("ML")
    page.get_by_role("button", name="Show").click()
    page.locator("[data-withheld]").wait_for()
    assert page.locator("canvas").count() == 0
    assert page.get_by_text("More case studies from the Sahel.").count() == 0
    shots_at_widths(page, "survey-results-withheld", WIDTHS)
