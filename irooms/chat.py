"""Socket.IO events of the iRooms. The connection itself is authenticated here; room events
arrive with the live-chat work and go through the same checks."""

from flask import after_this_request, current_app, g, has_request_context, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError
from sqlalchemy import delete, select

from irooms.models import SocketConnection
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
