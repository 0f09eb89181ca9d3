"""Administration: accounts, roles and the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from learnplatform.admin import embeds, views  # noqa: E402,F401  (registers the routes)
