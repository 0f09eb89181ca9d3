"""Notifications: what concerns each person, under the bell, by e-mail and in a daily digest."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from learnplatform.notifications import (  # noqa: E402,F401
    live,
    models,
    views,
)


@bp.app_context_processor
def bell() -> dict:
    """``unread_notifications()`` for the header's bell (one query, on the pages that show it),
    and ``sentence`` for the e-mails that tell a notification."""
    from flask_login import current_user

    from learnplatform.notifications.kinds import sentence
    from learnplatform.notifications.services import unread_count

    def unread_notifications() -> int:
        return unread_count(current_user.id) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications, "sentence": sentence}
