"""The knowledge gain section of the statistics dashboard in Chromium, wide and on a phone: its
charts draw the figures of its tables."""

from tests.browser.test_modules_browser import ARTIFACTS, log_in
from tests.browser.test_stats_browser import chart
from tests.stats.test_knowledge_gain import BAND_NAMES, MODULES, expected, tests_taken  # noqa: F401
from tests.stats.test_statistics import data  # noqa: F401  (a fixture)


def test_an_administrator_reads_the_knowledge_gain_wide_and_on_a_phone(
    page,
    live_server,
    data,  # noqa: F811
    tests_taken,  # noqa: F811
):
    log_in(page, live_server, data["admin"].email, "Administrator")
    want = expected(group="module")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/stats/?group=module")
        section = page.locator("#knowledge-gain")
        section.get_by_role("heading", name="Knowledge gain by module").wait_for()
        scores = chart(page, "chart-knowledge-gain")
        assert sorted(scores["labels"]) == sorted(want)
        assert scores["data"] == [want[label]["average_pre"] for label in scores["labels"]]
        bands = chart(page, "chart-knowledge-gain-distribution")
        assert bands["labels"] == BAND_NAMES
        assert sum(bands["data"]) == sum(figures["learners"] for figures in want.values())
        assert section.get_by_role("row", name=MODULES["m3"][0]).count() == 1
        section.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        section.screenshot(path=str(ARTIFACTS / f"stats-knowledge-gain-{width}.png"))
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
    assert page.console_errors == []
