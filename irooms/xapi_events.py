"""The xAPI statements of rooms: library resources downloaded, live sessions attended.

Each event calls one function here, which builds the statement the same way every time (the
activities are the room's pages) and hands it to ``learnplatform.xapi``.
"""

from sqlalchemy import select

from irooms.models import Room
from learnplatform import xapi
from learnplatform.extensions import db


def resource_activity(resource) -> dict:
    """A library resource, by its page in the room."""
    return xapi.activity(
        "file",
        "irooms.resource",
        room_id=resource.room_id,
        resource_id=resource.id,
        name=resource.title,
        language=resource.language,
    )


def session_activity(session) -> dict:
    """A live session, by its page in the room, in the room's language."""
    language = db.session.scalar(select(Room.language).where(Room.id == session.room_id))
    return xapi.activity(
        "meeting",
        "irooms.session",
        room_id=session.room_id,
        session_id=session.id,
        name=session.title,
        language=language,
    )


def resource_downloaded_later(resource, user):
    """For a download of a resource's file: the statement, made now, to write once the last
    byte is sent (``xapi.record_later``)."""
    if not xapi.enabled():
        return lambda: None
    return xapi.record_later(user, "downloaded", resource_activity(resource))


def attended(session, user) -> None:
    """``user`` is marked present at ``session`` (seen in the room while it was on, or ticked
    by a host): said once per person and session, as the attendance row is written once."""
    if not xapi.enabled():
        return
    xapi.record(user, "attended", session_activity(session))
