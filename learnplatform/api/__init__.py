"""The JSON API for reporting tools: statistics and completion records under ``/api/v1/``,
authenticated with administrators' personal API tokens. Documented in docs/api.md."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from learnplatform.api import surveys, views  # noqa: E402,F401  (registers the routes)
