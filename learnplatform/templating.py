"""What every template can use."""

from datetime import date, datetime

from babel.dates import format_skeleton
from flask import Flask, current_app, g
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
    """A month of a year in words, as the interface language writes it (CLDR's ``yMMMM``):
    "March 2026", "marzo de 2026", "2026年3月"."""
    return format_skeleton("yMMMM", date(year, month, 1), locale=get_locale() or "en")


def format_moment(moment: datetime, date_style: str = "medium") -> str:
    """A UTC time as the viewer reads it: date, clock time and zone, in their own time zone.

    "Saturday, March 14, 2026, 3:00 PM +0100"; the zone is written so that a time copied into an
    e-mail or a chat message keeps its meaning.
    """
    return "{}, {} {}".format(
        format_date(moment, date_style), format_time(moment, "short"), format_time(moment, "z")
    )


def has_endpoint(endpoint: str) -> bool:
    """Whether the application has a route named ``endpoint``: a page links to a feature only
    where it is there."""
    return endpoint in current_app.view_functions


def request_translations():
    """Flask-Babel's ``get_translations()``, looked up once a request rather than at every string.

    A page translates fifty strings or more, and each ``get_translations()`` walks Flask-Babel's
    context, domain and locale again (some 20 µs, for a dictionary look-up of 0.2 µs). The catalogue
    is kept where Flask-Babel keeps its own per-request state, under the name its ``refresh()``
    deletes and its ``force_locale()`` empties and restores, so either still changes the language.
    """
    if not g:
        return get_translations()  # no application context: Flask-Babel's own answer
    state = g.get("_flask_babel")
    translations = getattr(state, "babel_translations", None)
    if translations is None:
        translations = get_translations()  # creates g._flask_babel when missing
        g._flask_babel.babel_translations = translations
    return translations


@pass_context
def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
    """Jinja's ``ngettext`` (and ``{% trans %}`` plurals) with ``%(num)s`` written the way the
    interface language writes numbers: "1 234 modules" in French, not "1234"."""
    variables.setdefault("num", format_decimal(num))
    text = request_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        # As Jinja's own: the catalogue's text is ours; the variables are escaped by Markup's %.
        text = Markup(text)  # noqa: S704
    return text % variables


def init_app(app: Flask) -> None:
    """Register template globals on ``app``; replaces the translation functions Flask-Babel
    installed with ones that find the request's catalogue once (the same strings come out)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: request_translations().ugettext(string),
        ngettext=lambda singular, plural, num: request_translations().ungettext(
            singular, plural, num
        ),
        newstyle=True,
        pgettext=lambda context, string: request_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, num: request_translations().unpgettext(
            context, singular, plural, num
        ),
    )
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
        has_endpoint=has_endpoint,
        LANGUAGES=LANGUAGES,
        THEMES=THEMES,
        ROLES=ROLES,
        AGENCY_TYPES=AGENCY_TYPES,
    )
