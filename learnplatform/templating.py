"""What every template can use."""

from datetime import date, datetime

from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    get_timezone,
    get_translations,
)
from jinja2 import pass_context
from markupsafe import Markup

from learnplatform import available_locales
from learnplatform.choices import AGENCY_TYPES, LANGUAGES, ROLES, THEMES, country_name


def format_month(year: int, month: int) -> str:
    """A month in words, in the interface language: "March 2026"."""
    return format_date(date(year, month, 1), "LLLL y")


def format_moment(moment: datetime, date_style: str = "medium") -> str:
    """A UTC time as the viewer reads it: date, clock time and zone, in their own time zone.

    "Saturday, March 14, 2026, 3:00 PM +0100"; the zone is written so that a time copied into an
    e-mail or a chat message keeps its meaning.
    """
    return "{}, {} {}".format(
        format_date(moment, date_style), format_time(moment, "short"), format_time(moment, "z")
    )


@pass_context
def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
    """Jinja's ``ngettext`` (and ``{% trans %}`` plurals) with ``%(num)s`` written the way the
    interface language writes numbers: "1 234 modules" in French, not "1234"."""
    variables.setdefault("num", format_decimal(num))
    text = get_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        # As Jinja's own: the catalogue's text is ours; the variables are escaped by Markup's %.
        text = Markup(text)  # noqa: S704
    return text % variables


def init_app(app: Flask) -> None:
    """Register template globals on ``app``; replaces the ``ngettext`` Flask-Babel installed."""
    app.jinja_env.globals.update(
        ngettext=ngettext,
        available_locales=available_locales,
        country_name=country_name,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_moment=format_moment,
        format_month=format_month,
        format_time=format_time,
        get_locale=get_locale,
        get_timezone=get_timezone,
        LANGUAGES=LANGUAGES,
        THEMES=THEMES,
        ROLES=ROLES,
        AGENCY_TYPES=AGENCY_TYPES,
    )
