"""A trainer reads an evaluation with its French version in Chromium: from the list of results,
"All language versions" counts the responses of both under the English questions, the French
answers marked with their language; screenshots ``survey-versions-*`` at 1280 and 390 px."""

from playwright.sync_api import expect

from tests.browser.conftest import shots_at_widths
from tests.helpers import PASSWORD
from tests.surveys.test_results_versions import (  # noqa: F401 (the fixture)
    ENGLISH_ANSWERS,
    FRENCH_ANSWERS,
    family,
)

WIDTHS = {"1280": 1280, "390": 390}


def test_a_trainer_reads_an_evaluation_with_its_language_versions(app, live_server, page, family):  # noqa: F811
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(family["trainer"].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{live_server}/surveys/results/")
    english_row = page.locator(f"[data-survey='{family['english']}']")
    english_row.get_by_role("link", name="All language versions (2)").click()
    page.get_by_role("heading", name="1. The module was useful for my work.").wait_for()

    everyone = len(ENGLISH_ANSWERS) + len(FRENCH_ANSWERS)
    expect(page.locator("[data-figure='1']")).to_have_text(str(everyone))
    included = page.locator("[data-versions-included]")
    expect(included).to_contain_text("English")
    expect(included).to_contain_text("Français")
    french_answer = page.locator("[lang='fr']", has_text="Plus de cas pratiques du Sahel.")
    expect(french_answer.first).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => Chart.getChart(c))"
    )
    assert page.console_errors == []
    shots_at_widths(page, "survey-versions", WIDTHS)

    page.get_by_role("link", name="This version").click()
    expect(page.locator("[data-figure='1']")).to_have_text(str(len(ENGLISH_ANSWERS)))
    assert page.locator("[data-versions-included]").count() == 0
