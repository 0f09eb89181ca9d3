"""What every template can use."""

from datetime import date

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from learnplatform.choices import AGENCY_TYPES, LANGUAGES, ROLES, THEMES, country_name


def format_month(year: int, month: int) -> str:
    """A month in words, in the interface language: "March 2026"."""
    return format_date(date(year, month, 1), "LLLL y")


def init_app(app: Flask) -> None:
    """Register template globals on ``app``."""
    app.jinja_env.globals.update(
        country_name=country_name,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_month=format_month,
        get_locale=get_locale,
        LANGUAGES=LANGUAGES,
        THEMES=THEMES,
        ROLES=ROLES,
        AGENCY_TYPES=AGENCY_TYPES,
    )
