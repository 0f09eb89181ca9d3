"""Socket.IO events of the iRooms: the authenticated connection, and the room chat.

Every event checks, in the database, that the person is still a member of the room (or an
administrator); a room they may not see answers ``not_found``, as a room that does not exist.
The author of a message is always the logged-in person, never a name in the payload.
Acknowledgements are ``{"ok": True, ...}`` or ``{"ok": False, "error": <code>}``.
"""

from flask import after_this_request, current_app, g, has_request_context, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from sqlalchemy import delete, select

from irooms import messages
from irooms.models import Membership, Room, SocketConnection
from learnplatform.accounts.services import sessions_ended
from learnplatform.audit import log_security_event
from learnplatform.extensions import db, socketio


def origin_allowed() -> bool:
    """Whether the connection comes from a page of the platform itself.

    Engine.IO checks the origin of real connections too (``cors_allowed_origins``); checking it
    here as well keeps the rule in the platform's code, where the tests can reach it.
    """
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser page: the session cookie is still required
        return True
    return origin == (current_app.config["PUBLIC_ORIGIN"] or request.host_url.rstrip("/"))


@socketio.on("connect")
def on_connect(auth=None):
    """Sent by every browser that opens a connection: only logged-in, active accounts from the
    platform's own pages stay."""
    if not origin_allowed():
        log_security_event("socket.refused", reason="origin", origin=request.headers.get("Origin"))
        raise ConnectionRefusedError("origin not allowed")
    if not current_user.is_authenticated:
        log_security_event("socket.refused", reason="login")
        raise ConnectionRefusedError("login required")
    db.session.add(
        SocketConnection(
            sid=request.sid, user_id=current_user.id, login_session_id=g.login_session_id
        )
    )
    db.session.commit()


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Sent when a connection closes, from either side."""
    db.session.execute(delete(SocketConnection).where(SocketConnection.sid == request.sid))
    db.session.commit()


@sessions_ended.connect
def close_connections(app, user_id: int, login_session_id: int | None = None) -> None:
    """Close the live connections of ended login sessions, in whichever process holds them."""
    query = select(SocketConnection.sid).where(SocketConnection.user_id == user_id)
    if login_session_id is not None:
        query = query.where(SocketConnection.login_session_id == login_session_id)
    sids = db.session.scalars(query).all()
    if not sids:
        return

    def disconnect_all(response=None):
        for sid in sids:
            socketio.server.disconnect(sid, namespace="/")
        return response

    if has_request_context():
        # After the view has committed: the disconnect handlers write to the database too.
        after_this_request(disconnect_all)
    else:
        disconnect_all()


# The room chat.
def channel(room_id: int) -> str:
    """The Socket.IO room of an iRoom's chat."""
    return f"iroom-{room_id}"


def _place(data) -> tuple[Room, Membership | None] | None:
    """The room named in ``data`` and the person's membership, or None if they may not see it."""
    if not current_user.is_authenticated or not isinstance(data, dict):
        return None
    room_id = data.get("room")
    if not isinstance(room_id, int) or isinstance(room_id, bool):
        return None
    room = db.session.get(Room, room_id)
    if room is None:
        return None
    membership = db.session.scalar(
        select(Membership).where(
            Membership.room_id == room.id, Membership.user_id == current_user.id
        )
    )
    if membership is None and not current_user.is_administrator:
        return None
    return room, membership


def _number(value, default=None):
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
    )


NOT_FOUND = {"ok": False, "error": "not_found"}


@socketio.on("join")
def on_join(data):
    """Enter a room's chat: ``{"room": id, "after": last seq seen or null}``.

    The messages after ``after`` are sent as ``messages`` events in pages, oldest first, before
    the acknowledgement, then live ``message`` events follow; without ``after``, the newest page.
    """
    place = _place(data)
    if place is None:
        return NOT_FOUND
    room, _ = place
    join_room(channel(room.id))
    seen = _number(data.get("after"))
    if seen is None:
        page = messages.before(room.id, None)
        if page:
            socketio.emit("messages", [messages.as_json(m) for m in page], to=request.sid)
    else:
        while page := messages.after(room.id, seen):
            socketio.emit("messages", [messages.as_json(m) for m in page], to=request.sid)
            seen = page[-1].seq
    return {"ok": True, "last": room.chat_seq}


@socketio.on("leave")
def on_leave(data):
    place = _place(data)
    if place is None:
        return NOT_FOUND
    leave_room(channel(place[0].id))
    return {"ok": True}


@socketio.on("send")
def on_send(data):
    """Post ``{"room": id, "client_id": str, "body": str}``; acknowledged with its number.

    Sending again with the same ``client_id`` (a retry after a lost acknowledgement) returns the
    same number and sends nothing out twice.
    """
    place = _place(data)
    if place is None:
        return NOT_FOUND
    room, membership = place
    if not messages.rate_limit.allow(current_user.id):
        return {"ok": False, "error": "rate_limited"}
    try:
        message, new = messages.post(
            room, membership, current_user, data.get("client_id"), data.get("body")
        )
    except messages.ChatRefused as refusal:
        return {"ok": False, "error": refusal.code}
    if new:
        socketio.emit("message", messages.as_json(message), to=channel(room.id))
    return {"ok": True, "seq": message.seq}


@socketio.on("history")
def on_history(data):
    """Scroll back: ``{"room": id, "before": seq, "limit": n}``, at most 100, oldest first."""
    place = _place(data)
    if place is None:
        return NOT_FOUND
    limit = min(_number(data.get("limit"), messages.PAGE) or messages.PAGE, messages.PAGE)
    page = messages.before(place[0].id, _number(data.get("before")), limit)
    return {"ok": True, "messages": [messages.as_json(m) for m in page]}
