"""What every template can use."""

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from learnplatform.choices import AGENCY_TYPES, LANGUAGES, ROLES, THEMES, country_name


def init_app(app: Flask) -> None:
    """Register template globals on ``app``."""
    app.jinja_env.globals.update(
        country_name=country_name,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        get_locale=get_locale,
        LANGUAGES=LANGUAGES,
        THEMES=THEMES,
        ROLES=ROLES,
        AGENCY_TYPES=AGENCY_TYPES,
    )
