"""Socket.IO events of the iRooms: the authenticated connection, and the room chat.

Every event checks, in the database, that the person is still a member of the room (or an
administrator); a room they may not see answers ``not_found``, as a room that does not exist.
The author of a message is always the logged-in person, never a name in the payload.
Acknowledgements are ``{"ok": True, ...}`` or ``{"ok": False, "error": <code>}``.
"""

import functools
import json
from contextvars import ContextVar
from datetime import timedelta

from flask import (
    after_this_request,
    current_app,
    g,
    has_request_context,
    request,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from irooms import bp, messages, presence
from irooms.access import is_read_only
from irooms.models import ChatPresence, LiveSession, Membership, Message, Room, SocketConnection
from learnplatform import metrics
from learnplatform.accounts.services import sessions_ended
from learnplatform.audit import log_security_event, record, utcnow
from learnplatform.extensions import db, socketio
from learnplatform.numbers import from_payload
from learnplatform.reconnect import once_more_if_connection_lost


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
@once_more_if_connection_lost
def on_connect(auth=None):
    """Sent by every browser that opens a connection: only logged-in, active accounts from the
    platform's own pages stay."""
    accept_logged_in()
    metrics.connection_opened(request.sid)


def accept_logged_in() -> None:
    """Refuse a connection from another origin or without a login (ConnectionRefusedError);
    record the others, so that ending their login closes them in whichever process holds them.
    For the chat's namespace and the bell's (learnplatform.notifications.live)."""
    if not origin_allowed():
        log_security_event("socket.refused", reason="origin", origin=request.headers.get("Origin"))
        raise ConnectionRefusedError("origin not allowed")
    if not current_user.is_authenticated:
        log_security_event("socket.refused", reason="login")
        raise ConnectionRefusedError("login required")
    db.session.add(
        SocketConnection(
            sid=request.sid,
            user_id=current_user.id,
            login_session_id=g.login_session_id,
            process_id=presence.process_id(),
        )
    )
    db.session.commit()


@socketio.on("disconnect")
@once_more_if_connection_lost
def on_disconnect(reason=None):
    """Sent when a connection closes, from either side: it leaves every room it was in."""
    metrics.connection_closed(request.sid)
    present = db.session.execute(
        select(ChatPresence.room_id, ChatPresence.user_id).where(ChatPresence.sid == request.sid)
    ).all()
    db.session.execute(delete(ChatPresence).where(ChatPresence.sid == request.sid))
    db.session.execute(delete(SocketConnection).where(SocketConnection.sid == request.sid))
    db.session.commit()
    for room_id, user_id in present:
        announce_if_gone(room_id, user_id)


#: where a page's connections are, each needing the login that opened it: the chat's and the
#: bell's (learnplatform.notifications.live)
LOGGED_IN_NAMESPACES = ("/", "/notifications")


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
            for namespace in LOGGED_IN_NAMESPACES:  # each sid is of one of them
                socketio.server.disconnect(sid, namespace=namespace)
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
    room_id = from_payload(data.get("room"))
    room = db.session.get(Room, room_id) if room_id is not None else None
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


NOT_FOUND = {"ok": False, "error": "not_found"}
FORBIDDEN = {"ok": False, "error": "forbidden"}


@socketio.on_error_default
def on_error(error):
    """Every event is answered, even when it failed: ``unavailable`` when the database
    connection was lost after a commit (a retried ``send`` with its ``client_id`` is kept
    once), ``server_error`` for the rest, which is logged with its traceback."""
    db.session.rollback()
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return {"ok": False, "error": "unavailable"}
    # connect and disconnect handlers have no request.event
    event = getattr(request, "event", None) or {}
    current_app.logger.exception("chat event %s failed", event.get("message"))
    return {"ok": False, "error": "server_error"}


def room_event(name: str, *, moderators_only: bool = False, changes: bool = False):
    """Register a chat event of a room: the room and membership are checked in the database
    first (``not_found`` for those who may not see it), ``forbidden`` for members who may not
    moderate when ``moderators_only``, and ``read_only`` in an archived or ended room when the
    event ``changes`` something. The handler gets (room, membership or None, data)."""

    def register(handler):
        @socketio.on(name)
        @once_more_if_connection_lost
        @functools.wraps(handler)
        def checked(data=None):
            place = _place(data)
            if place is None:
                return NOT_FOUND
            room, membership = place
            if moderators_only and not _moderates(membership):
                return FORBIDDEN
            if changes and is_read_only(room):
                return {"ok": False, "error": "read_only"}
            return handler(room, membership, data)

        return checked

    return register


@room_event("join")
def on_join(room: Room, membership: Membership | None, data: dict):
    """Enter a room's chat: ``{"room": id, "after": last seq seen or null}``.

    The messages after ``after`` are sent as ``messages`` events in pages, oldest first, before
    the acknowledgement, then live ``message`` events follow; without ``after``, the newest page.
    Joining during a scheduled session of the room records the member's attendance.
    """
    join_room(channel(room.id))
    seen = from_payload(data.get("after"))
    if seen is None:
        page = messages.before(room.id, None)
        if page:
            _to_this_connection("messages", [messages.as_json(m) for m in page])
            metrics.chat_catch_up_pages.inc()
    else:
        while page := messages.after(room.id, seen):
            _to_this_connection("messages", [messages.as_json(m) for m in page])
            metrics.chat_catch_up_pages.inc()
            seen = page[-1].seq
    _enter(room, membership)
    return {
        "ok": True,
        "last": room.chat_seq,
        "me": current_user.id,
        "role": membership.role if membership else None,
        "can_moderate": _moderates(membership),
        "locked": room.chat_locked_at is not None,
        "muted": bool(membership and membership.muted_at),
        # for hosts, who is muted, so that their controls say mute or unmute
        "muted_users": _muted(room.id) if _moderates(membership) else [],
    }


def _muted(room_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.room_id == room_id, Membership.muted_at.is_not(None)
            )
        )
    )


def _to_this_connection(event: str, data) -> None:
    """Send to the connection being served, straight from this process: through the message
    queue it could arrive after the acknowledgement that follows it."""
    socketio.emit(event, data, to=request.sid, ignore_queue=True)


def _moderates(membership: Membership | None) -> bool:
    """Hosts and administrators lock the chat and mute members."""
    return current_user.is_administrator or (membership is not None and membership.role == "host")


def _removes(membership: Membership | None) -> bool:
    """Hosts, experts and administrators remove any message."""
    return _moderates(membership) or (membership is not None and membership.role == "expert")


def _enter(room: Room, membership: Membership | None) -> None:
    """Count the connection as online in the room; during a session, as attending it. The
    connection gets the list of who is online; the room hears that this person is."""
    from irooms.sessions import mark_presence
    from learnplatform.accounts.models import User

    try:
        with db.session.begin_nested():
            db.session.add(
                ChatPresence(
                    sid=request.sid,
                    room_id=room.id,
                    user_id=current_user.id,
                    process_id=presence.process_id(),
                )
            )
    except IntegrityError:
        pass  # joined again on the same connection
    if membership is not None:
        now = utcnow()
        for session in db.session.scalars(
            select(LiveSession).where(
                LiveSession.room_id == room.id,
                LiveSession.starts_at <= now,
                LiveSession.ends_at > now,
            )
        ):
            mark_presence(session, current_user)
    db.session.commit()
    online = db.session.execute(
        select(User.id, User.name)
        .where(
            User.id.in_(
                select(ChatPresence.user_id).where(ChatPresence.room_id == room.id, presence.live())
            )
        )
        .order_by(User.name)
    ).all()
    _to_this_connection(
        "presence", {"room": room.id, "online": [{"id": uid, "name": name} for uid, name in online]}
    )
    socketio.emit(
        "online",
        {"room": room.id, "user": {"id": current_user.id, "name": current_user.name}},
        to=channel(room.id),
    )


#: set while this greenlet (or thread) announces someone offline
_announcing: ContextVar[bool] = ContextVar("announcing", default=False)


def announce_if_gone(room_id: int, user_id: int) -> None:
    """Tell the room, in every process, that ``user_id`` went offline if none of their
    connections is left in it. Checked after the commit: of two tabs closing at once, the
    last to commit sees none left (both may, and a second ``offline`` changes nothing).

    Sending to a connection whose client stopped answering pings closes it on the spot, and
    its disconnect handler announces again from inside this emit: an announcement made during
    another goes to a background task, else 2,000 sockets dropping at once nest until Python's
    recursion limit (seen in bench/chat.py)."""
    if _announcing.get():
        app = current_app._get_current_object()
        socketio.start_background_task(_announce_later, app, room_id, user_id)
        return
    still_here = db.session.scalar(
        select(ChatPresence.sid)
        .where(ChatPresence.room_id == room_id, ChatPresence.user_id == user_id, presence.live())
        .limit(1)
    )
    if still_here is None:
        token = _announcing.set(True)
        try:
            socketio.emit("offline", {"room": room_id, "user": user_id}, to=channel(room_id))
        finally:
            _announcing.reset(token)


def _announce_later(app, room_id: int, user_id: int) -> None:
    with app.app_context():
        announce_if_gone(room_id, user_id)


@room_event("leave")
def on_leave(room: Room, membership: Membership | None, data: dict):
    room_id = room.id
    leave_room(channel(room_id))
    db.session.execute(
        delete(ChatPresence).where(ChatPresence.sid == request.sid, ChatPresence.room_id == room_id)
    )
    db.session.commit()
    announce_if_gone(room_id, current_user.id)
    return {"ok": True}


@room_event("send")
def on_send(room: Room, membership: Membership | None, data: dict):
    """Post ``{"room": id, "client_id": str, "body": str}``; acknowledged with its number.

    Sending again with the same ``client_id`` (a retry after a lost acknowledgement) returns the
    same number and sends nothing out twice.
    """
    if messages.rate_limited(current_user.id):
        return {"ok": False, "error": "rate_limited"}
    try:
        message, new = messages.post(
            room, membership, current_user, data.get("client_id"), data.get("body")
        )
    except messages.ChatRefused as refusal:
        return {"ok": False, "error": refusal.code}
    if new:
        metrics.chat_messages_posted.inc()
        socketio.emit("message", messages.as_json(message), to=channel(room.id))
    return {"ok": True, "seq": message.seq}


@room_event("history")
def on_history(room: Room, membership: Membership | None, data: dict):
    """Scroll back: ``{"room": id, "before": seq, "limit": n}``, at most 100, oldest first."""
    limit = min(from_payload(data.get("limit"), messages.PAGE) or messages.PAGE, messages.PAGE)
    page = messages.before(room.id, from_payload(data.get("before")), limit)
    return {"ok": True, "messages": [messages.as_json(m) for m in page]}


#: how long an author may still edit or delete their message
EDIT_WINDOW = timedelta(minutes=10)


def _message_in(room: Room, seq) -> Message | None:
    if from_payload(seq) is None:
        return None
    return db.session.scalar(select(Message).where(Message.room_id == room.id, Message.seq == seq))


@room_event("edit", changes=True)
def on_edit(room: Room, membership: Membership | None, data: dict):
    """An author changes their message within 10 minutes: ``{"room", "seq", "body"}``."""
    message = _message_in(room, data.get("seq"))
    if message is None or message.deleted_at is not None:
        return NOT_FOUND
    if message.author_id != current_user.id:
        return FORBIDDEN
    if message.created_at < utcnow() - EDIT_WINDOW:
        return {"ok": False, "error": "too_late"}
    if membership is not None and membership.muted_at is not None:
        return {"ok": False, "error": "muted"}
    try:
        message.body = messages.clean_body(data.get("body"))
    except messages.ChatRefused as refusal:
        return {"ok": False, "error": refusal.code}
    message.edited_at = utcnow()
    db.session.commit()
    socketio.emit("message", messages.as_json(message), to=channel(room.id))
    return {"ok": True}


@room_event("delete", changes=True)
def on_delete(room: Room, membership: Membership | None, data: dict):
    """Remove a message: its author within 10 minutes, or a host, expert or administrator.

    Every client replaces it with a "message removed" mark; a removal by someone else than the
    author goes to the audit log.
    """
    message = _message_in(room, data.get("seq"))
    if message is None or message.deleted_at is not None:
        return NOT_FOUND
    own = message.author_id == current_user.id
    if not own and not _removes(membership):
        return FORBIDDEN
    if own and not _removes(membership) and message.created_at < utcnow() - EDIT_WINDOW:
        return {"ok": False, "error": "too_late"}
    message.deleted_at = utcnow()
    message.deleted_by_id = current_user.id
    if not own:
        record(
            "chat_message_removed",
            actor=current_user,
            room_id=room.id,
            seq=message.seq,
            author_id=message.author_id,
        )
    db.session.commit()
    socketio.emit("message", messages.as_json(message), to=channel(room.id))
    return {"ok": True}


@room_event("typing")
def on_typing(room: Room, membership: Membership | None, data: dict):
    """Someone is typing: told to the others in the room; may be dropped, never stored."""
    socketio.emit(
        "typing",
        {"room": room.id, "user": {"id": current_user.id, "name": current_user.name}},
        to=channel(room.id),
        skip_sid=request.sid,
    )
    return {"ok": True}


@room_event("mute", moderators_only=True, changes=True)
def on_mute(room: Room, membership: Membership | None, data: dict):
    """A host mutes or unmutes a member: ``{"room", "user", "muted"}``."""
    target = db.session.scalar(
        select(Membership).where(
            Membership.room_id == room.id, Membership.user_id == from_payload(data.get("user"), -1)
        )
    )
    if target is None:
        return NOT_FOUND
    muted = bool(data.get("muted"))
    target.muted_at = utcnow() if muted else None
    record(
        "chat_member_muted" if muted else "chat_member_unmuted",
        actor=current_user,
        user=target.user,
        room_id=room.id,
    )
    db.session.commit()
    for sid in _sids_in(room.id, target.user_id):
        socketio.emit("muted", {"room": room.id, "muted": muted}, to=sid)
    return {"ok": True}


@room_event("lock", moderators_only=True, changes=True)
def on_lock(room: Room, membership: Membership | None, data: dict):
    """A host locks the chat so that only hosts post, or unlocks it: ``{"room", "locked"}``."""
    locked = bool(data.get("locked"))
    room.chat_locked_at = utcnow() if locked else None
    record("chat_locked" if locked else "chat_unlocked", actor=current_user, room_id=room.id)
    db.session.commit()
    socketio.emit("room_state", {"room": room.id, "locked": locked}, to=channel(room.id))
    return {"ok": True}


def _sids_in(room_id: int, user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(ChatPresence.sid).where(
                ChatPresence.room_id == room_id, ChatPresence.user_id == user_id
            )
        )
    )


def close_room_connections(room_id: int, user_id: int) -> None:
    """A member was removed: tell their connections in the room, then close them, in whichever
    process holds them (through the message queue). Call after the removal is committed."""
    sids = _sids_in(room_id, user_id)
    for sid in sids:
        socketio.emit("removed", {"room": room_id}, to=sid)
        socketio.server.disconnect(sid, namespace="/")


# The transcript, for hosts.
@bp.get("/<int:room_id>/chat/transcript.<any(csv, json):kind>")
@login_required
def transcript(room_id, kind):
    """The room's chat as CSV (formulas neutralised) or JSON, streamed; removed messages keep
    their number and lose their text. Exports go to the audit log."""
    from irooms.access import managed_place
    from learnplatform.exports import csv_lines, download

    managed_place(room_id, writing=False)
    record("chat_transcript_exported", actor=current_user, room_id=room_id, format=kind)
    db.session.commit()

    def rows():
        seq = 0
        while page := messages.after(room_id, seq, limit=500):
            for message in page:
                yield messages.as_json(message)
            seq = page[-1].seq

    if kind == "csv":
        header = [
            _("Number"),
            _("Time (UTC)"),
            _("Author"),
            _("Message"),
            _("Edited"),
            _("Removed"),
        ]
        lines = csv_lines(
            header,
            (
                (m["seq"], m["at"], m["author"]["name"], m["body"], m["edited"], m["removed"])
                for m in rows()
            ),
        )
    else:
        lines = _json_array(rows())
    return download(lines, kind, f"chat-room-{room_id}-{utcnow():%Y-%m-%d}.{kind}", private=True)


def _json_array(items):
    yield "["
    for number, item in enumerate(items):
        yield ("," if number else "") + json.dumps(item, ensure_ascii=False)
    yield "]"
