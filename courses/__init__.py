"""E-learning modules and webinar recordings."""

from flask import Blueprint

bp = Blueprint("courses", __name__)

from courses import views  # noqa: E402,F401  (registers the routes)
