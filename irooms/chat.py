"""Socket.IO events of the iRooms. The connection itself is authenticated here; room events
arrive with the live-chat work and go through the same checks."""

from flask_login import current_user
from flask_socketio import ConnectionRefusedError

from learnplatform.extensions import socketio


@socketio.on("connect")
def on_connect(auth=None):
    """Sent by every browser that opens a connection: only logged-in, active accounts stay."""
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("login required")
