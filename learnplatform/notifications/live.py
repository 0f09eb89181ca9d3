"""The bell's count, live: each logged-in page holds a connection to the ``/notifications``
namespace, in a Socket.IO room of its person, and hears ``unread`` when the count changes.

From a background worker the count reaches the pages through the message queue (Redis), as chat
messages do between processes; without one (``make run``) the bell shows the count of the next
page the person opens.
"""

from flask import request
from flask_login import current_user
from flask_socketio import emit, join_room
from sqlalchemy import delete

from irooms.chat import accept_logged_in
from irooms.models import SocketConnection
from learnplatform.extensions import db, socketio
from learnplatform.reconnect import once_more_if_connection_lost

NAMESPACE = "/notifications"


def channel(user_id: int) -> str:
    """The Socket.IO room holding one person's pages."""
    return f"user-{user_id}"


@socketio.on("connect", namespace=NAMESPACE)
@once_more_if_connection_lost
def on_connect(auth=None):
    """A page of a logged-in person: its connection joins the person's room and hears the
    count at once (it may have changed since the page was made)."""
    from learnplatform.notifications.services import unread_count

    accept_logged_in()
    join_room(channel(current_user.id))
    emit("unread", {"count": unread_count(current_user.id)})


@socketio.on("disconnect", namespace=NAMESPACE)
@once_more_if_connection_lost
def on_disconnect(reason=None):
    db.session.execute(delete(SocketConnection).where(SocketConnection.sid == request.sid))
    db.session.commit()


def tell_unread(counts: dict[int, int]) -> None:
    """Send each person's pages their unread count."""
    for user_id, count in counts.items():
        socketio.emit("unread", {"count": count}, to=channel(user_id), namespace=NAMESPACE)
