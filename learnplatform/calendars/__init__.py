"""Calendars: an .ics for each live session and webinar, and a private feed per person."""

from flask import Blueprint

bp = Blueprint("calendars", __name__)

from learnplatform.calendars import models, views  # noqa: E402,F401  (views registers the routes)
