"""Statistics: the dashboard, the exports and the figures behind them."""

from flask import Blueprint

bp = Blueprint("stats", __name__)

from learnplatform.stats import views  # noqa: E402,F401  (registers the routes)
