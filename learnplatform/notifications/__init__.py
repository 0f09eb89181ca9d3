"""Notifications: what concerns each person, under the bell, by e-mail and in a daily digest."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from learnplatform.notifications import models  # noqa: E402,F401
