"""Forum activity on the statistics dashboard in Chromium: an administrator narrows it to one
quarter, sees each forum's chart and table (the module discussions labelled as such), on a wide
screen and a phone, and downloads the CSV beside it."""

import csv
import io
from datetime import date

from tests.browser.conftest import ARTIFACTS, shots_at_widths
from tests.browser.test_modules_browser import log_in
from tests.browser.test_stats_browser import chart
from tests.stats.test_forum_activity import expected, forums  # noqa: F401  (a fixture)
from tests.stats.test_statistics import data  # noqa: F401  (a fixture)


def test_an_administrator_reads_and_downloads_the_forum_activity_of_a_quarter(
    page,
    live_server,
    data,  # noqa: F811
    forums,  # noqa: F811
):
    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    log_in(page, live_server, data["admin"].email, "Administrator")
    page.goto(f"{live_server}/stats/?quarter=2026-Q2")
    section = page.get_by_role("region", name="Forum activity")
    section.wait_for()
    drawn = chart(page, "chart-forum-activity")
    assert drawn == {
        "labels": [title for _, title in want],
        "data": [figures["topics"] for figures in want.values()],
    }
    table = section.get_by_role("table")
    assert table.get_by_role("row").count() == 1 + len(want)
    assert (
        table.get_by_role("row", name="Supporting victims")
        .get_by_role("cell", name="Module discussion")
        .is_visible()
    )
    # Each width: the whole page, with no sideways scrolling, and the section alone, to read.
    for width in (390, 1280):
        shots_at_widths(page, "forum-stats", {str(width): width})
        section.screenshot(path=str(ARTIFACTS / f"forum-stats-section-{width}.png"))
        assert section.bounding_box()["width"] <= width
    assert page.console_errors == []

    with page.expect_download() as download:
        page.get_by_role("group", name="Download Forum activity").get_by_role(
            "link", name="CSV"
        ).click()
    assert download.value.suggested_filename.startswith("forum-activity-")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert {(row["Kind"], row["Forum"]): int(row["Replies"]) for row in rows} == {
        ({"iroom": "iRoom forum", "module": "Module discussion"}[kind], title): figures["replies"]
        for (kind, title), figures in want.items()
    }
