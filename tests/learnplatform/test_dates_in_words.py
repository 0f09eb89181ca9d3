"""Dates in words: months as each language writes a month of a year (CLDR's skeleton ``yMMMM``),
in the webinar counts and the statistics' periods; moments alike on every page."""

import pytest
from flask_babel import force_locale

from learnplatform.stats.tables import period_name
from learnplatform.templating import format_month


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "December 2025"),
        ("fr", "décembre 2025"),
        ("es", "diciembre de 2025"),
        ("ru", "декабрь 2025\u202fг."),  # noqa: RUF001 - a narrow no-break space, then "year"
        ("ar", "ديسمبر 2025"),
        ("zh", "2025年12月"),
        ("pt", "dezembro de 2025"),
    ],
)
def test_a_month_reads_as_its_language_writes_it(app, language, written):
    with app.test_request_context(), force_locale(language):
        assert format_month(2025, 12) == written
        assert period_name("2025-12") == written


def test_moments_read_alike_on_every_page(client, login_as):
    """A date and time reads one way: day, hours and minutes, and the zone; never seconds."""
    import re

    login_as(time_zone="Africa/Lagos")
    page = client.get("/account").get_data(as_text=True)
    (member_since,) = re.findall(r"<dt>Member since</dt><dd>([^<]+)</dd>", page)
    assert re.fullmatch(r"\w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M \+0100", member_since), (
        member_since
    )
