"""The donor report in Chromium: an administrator opens it from the statistics dashboard,
chooses a quarter and a module, reads it in English and then in Arabic (right to left) at a
desktop's and a phone's width, and asks for the PDF, listed in My exports."""

from tests.browser.conftest import shots_at_widths
from tests.browser.test_modules_browser import log_in
from tests.donor_report.test_donor_report import surveyed, tests_taken  # noqa: F401  (fixtures)
from tests.stats.test_activity_figures import activity  # noqa: F401  (a fixture)
from tests.stats.test_statistics import data  # noqa: F401  (a fixture)

WIDTHS = {"1280": 1280, "390": 390}


def figure(page, key: str) -> str:
    return page.locator(f"#figure-{key} dd").inner_text()


def test_an_administrator_reads_the_report_in_english_and_arabic_and_asks_for_the_pdf(
    page,
    live_server,
    data,  # noqa: F811
    activity,  # noqa: F811
    tests_taken,  # noqa: F811
    surveyed,  # noqa: F811
):
    log_in(page, live_server, data["admin"].email, "Administrator")
    page.goto(f"{live_server}/stats/")
    page.get_by_role("link", name="Donor report").click()
    page.get_by_role("heading", name="Donor report", exact=True).wait_for()

    page.get_by_label("Quarter").select_option("2026-Q2")
    page.get_by_label("Countering the financing of terrorism").check()
    page.get_by_label("Supporting victims in criminal proceedings").check()
    page.get_by_role("button", name="Show the report").click()
    page.get_by_text("From April 1, 2026 to June 30, 2026").wait_for()
    # In April to June, of m1 and m3: p2 and p6 completed m3 (p6 in September: not counted),
    # p5 enrolled in m1 in July: Learner p2 alone was trained, a man from Niger.
    assert figure(page, "trained") == "1"
    assert figure(page, "countries") == "1"
    assert figure(page, "women") == "0%"
    assert "Preuves électroniques" not in page.locator("#report-selection").inner_text()
    shots_at_widths(page, "donor-report-en", WIDTHS)

    page.get_by_label("Language of the report").select_option("ar")
    page.get_by_role("button", name="Show the report").click()
    report = page.locator("#donor-report")
    page.locator("#donor-report[dir='rtl'][lang='ar']").wait_for()
    assert "البلدان" in report.inner_text()
    assert figure(page, "trained") == "1"
    shots_at_widths(page, "donor-report-ar", WIDTHS)

    page.get_by_role("button", name="Prepare as PDF and notify me").click()
    page.get_by_role("heading", name="My exports").wait_for()
    listed = page.locator("#export-list li").first
    assert "Donor report (العربية)" in listed.inner_text()
    assert listed.get_by_role("link", name="Download").is_visible()
