"""Forums: asynchronous discussion in every iRoom and every module, with questions that experts
answer, unread marks, followers told of replies, and moderation by the room's hosts and experts
or the module's trainers."""

from flask import Blueprint

bp = Blueprint("forums", __name__)

from learnplatform.forums import models, views  # noqa: E402,F401
