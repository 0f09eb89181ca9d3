"""The statistics dashboard in Chromium: an administrator narrows it to one quarter and one
region, sees the charts change and downloads the CSV and the Excel file; a trainer sees only
their own modules; a practitioner is refused."""

import csv
import io
import time
from datetime import date

import openpyxl

from learnplatform.regions import region_of
from tests.browser.test_modules_browser import ARTIFACTS, log_in, log_out
from tests.stats.test_statistics import PEOPLE, data, expected  # noqa: F401  (a fixture)


def chart(page, chart_id: str) -> dict:
    """What a drawn chart shows: its labels and its first series, read from Chart.js."""
    deadline = time.monotonic() + 10
    while True:
        figures = page.evaluate(
            """(id) => {
                const canvas = document.getElementById(id);
                const drawn = canvas && window.Chart && Chart.getChart(canvas);
                if (!drawn) { return null; }
                return {labels: drawn.data.labels, data: drawn.data.datasets[0].data};
            }""",
            chart_id,
        )
        if figures or time.monotonic() > deadline:
            return figures
        time.sleep(0.1)


def figure(page, number: int) -> str:
    return page.locator(f"[data-figure='{number}']").inner_text()


def test_an_administrator_narrows_the_dashboard_and_downloads_what_it_shows(
    page,
    live_server,
    data,  # noqa: F811
):
    log_in(page, live_server, data["admin"].email, "Administrator")
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("link", name="Statistics", exact=True).click()
    page.get_by_role("heading", name="Statistics", exact=True).wait_for()
    everything = expected()[None]
    assert figure(page, 1) == str(everything["trained"])
    assert figure(page, 3) == str(everything["enrolments"])
    by_region = chart(page, "chart-by-region")
    assert sorted(by_region["labels"]) == ["Africa", "Americas", "Asia", "Europe"]
    page.screenshot(path=str(ARTIFACTS / "stats-everything.png"), full_page=True)

    # The second quarter of 2026, in Africa.
    page.get_by_label("From", exact=True).fill("2026-04-01")
    page.get_by_label("To", exact=True).fill("2026-06-30")
    page.get_by_label("Region", exact=True).select_option(label="Africa")
    page.get_by_role("button", name="Show").click()
    page.get_by_text("From Apr 1, 2026 to Jun 30, 2026").wait_for()
    africa = expected(
        date(2026, 4, 1), date(2026, 6, 30), lambda p, m: region_of(PEOPLE[p][0]) == "002"
    )[None]
    assert figure(page, 1) == str(africa["trained"]) == "2"
    assert figure(page, 3) == str(africa["enrolments"]) == "1"
    by_region = chart(page, "chart-by-region")
    assert by_region == {"labels": ["Africa"], "data": [africa["completions"]]}
    by_country = chart(page, "chart-by-country")
    assert sorted(by_country["labels"]) == ["Mali", "Niger"]
    assert page.get_by_role("table").filter(has_text="Mali").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "stats-africa-q2.png"), full_page=True)
    assert page.console_errors == []

    # The completion records of that slice, as CSV and as Excel.
    records = page.get_by_role("group", name="Download Completion records")
    with page.expect_download() as download:
        records.get_by_role("link", name="CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["Country"] for row in rows} == {"Mali", "Niger"}
    assert {row["Region"] for row in rows} == {"Africa"}
    assert len(rows) == 2  # p1's French module completed in April, p2's Arabic one in April
    with page.expect_download() as download:
        records.get_by_role("link", name="Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet.max_row == 1 + len(rows)
    assert {row[4].value for row in sheet.iter_rows(min_row=2)} == {"Mali", "Niger"}
    log_out(page, "Administrator")


def test_a_trainer_sees_their_modules_and_a_practitioner_is_refused(
    page,
    live_server,
    data,  # noqa: F811
):
    log_in(page, live_server, data["trainers"]["trainer_a"].email, "Trainer A")
    page.goto(f"{live_server}/stats/?group=module")
    modules = chart(page, "chart-modules")
    assert sorted(modules["labels"]) == [
        "Countering the financing of terrorism",
        "Preuves électroniques",
    ]
    page.get_by_text("The modules and webinar series you created").wait_for()
    assert page.get_by_text("Supporting victims in criminal proceedings").count() == 0
    log_out(page, "Trainer A")

    log_in(page, live_server, data["people"]["p1"].email, "Learner p1")
    assert page.get_by_role("link", name="Statistics").count() == 0
    response = page.goto(f"{live_server}/stats/")
    assert response.status == 403
    page.get_by_role("heading", name="Not allowed").wait_for()
