"""Socket.IO events of the iRooms. The connection itself is authenticated here; room events
arrive with the live-chat work and go through the same checks."""

from flask import current_app, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError

from learnplatform.audit import log_security_event
from learnplatform.extensions import socketio


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
