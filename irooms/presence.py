"""Who is online in a room's chat, kept true when a server process dies.

Each process that serves Socket.IO registers itself (``chat_processes``) when it takes its first
connection, and beats every ``CHAT_HEARTBEAT_SECONDS`` from a background task. Connections and
presence rows name the process that holds them. A process that has not beaten for
:data:`MISSED_BEATS` intervals is dead (killed, frozen, its machine gone): it no longer counts,
and the next beat of any process deletes it, its connections and presence with it (by cascade),
and tells each room who went offline. A process registering deletes at once the processes of its
own host whose pid is no longer running (or is its own), so that a restart never shows its
predecessor's people online. With ``CHAT_HEARTBEAT_SECONDS`` = 0 nothing beats and nothing
expires by time (the test suite's default: tests call :func:`beat` themselves).
"""

import os
import secrets
import socket
import threading
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import ColumnElement, Engine, create_engine, delete, insert, select, true, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from irooms.models import ChatPresence, ChatProcess
from learnplatform.audit import utcnow
from learnplatform.extensions import db, socketio

#: beats a process may miss before it is taken for dead
MISSED_BEATS = 3
HOST = socket.gethostname()[:255]
_registering = threading.Lock()


def process_id() -> str:
    """This process's id, registered on first use (and anew in a forked child)."""
    app = current_app._get_current_object()
    own = _registered(app)
    if own is not None:
        return own
    with _registering:
        own = _registered(app)
        if own is not None:
            return own
        own = secrets.token_hex(16)
        now = utcnow()
        with db.engine.begin() as connection:
            connection.execute(
                insert(ChatProcess).values(
                    id=own, host=HOST, pid=os.getpid(), started_at=now, seen_at=now
                )
            )
        app.extensions["irooms.process"] = (os.getpid(), own)
    _remove(_predecessors(own))
    if _interval(app):
        socketio.start_background_task(_beat_forever, app, own)
    return own


def _registered(app: Flask) -> str | None:
    pid, own = app.extensions.get("irooms.process", (None, None))
    return own if pid == os.getpid() else None


def _interval(app: Flask) -> float:
    return float(app.config["CHAT_HEARTBEAT_SECONDS"])


def live() -> ColumnElement[bool]:
    """The condition on ChatPresence rows of processes still beating."""
    if not _interval(current_app):
        return true()
    return ChatPresence.process_id.in_(
        select(ChatProcess.id).where(ChatProcess.seen_at >= _deadline(utcnow()))
    )


def _deadline(now):
    """The last beat a live process can have given: three intervals ago."""
    return now - timedelta(seconds=_interval(current_app) * MISSED_BEATS)


def beat() -> None:
    """Say this process is alive; remove the processes that are not, and tell their rooms.

    A process whose own row was removed (it stood still past the deadline, and its people were
    announced offline) registers again and asks its connections to join their rooms anew.
    """
    own = process_id()
    now = utcnow()
    # On a connection of its own, outside the pool: a process whose pool is busy serving a crowd
    # is alive all the same, and must not be taken for dead by the others (seen with 2,000
    # clients on two processes: missed beats, then every new connection refused on the foreign
    # key of a process row the other process had removed).
    with _heart(current_app).begin() as connection:
        alive = connection.execute(
            update(ChatProcess).where(ChatProcess.id == own).values(seen_at=now)
        ).rowcount
        if not alive:
            connection.execute(
                insert(ChatProcess).values(
                    id=own, host=HOST, pid=os.getpid(), started_at=now, seen_at=now
                )
            )
    if not alive:
        current_app.logger.warning("chat process %s was taken for dead: its clients rejoin", own)
        socketio.emit("resync", {}, ignore_queue=True)
    _remove(ChatProcess.seen_at < _deadline(now))


def _heart(app: Flask) -> Engine:
    """The engine of the heartbeat: the platform's database, one connection opened per beat."""
    heart = app.extensions.get("irooms.heart")
    if heart is None:
        heart = app.extensions["irooms.heart"] = create_engine(db.engine.url, poolclass=NullPool)
    return heart


def _predecessors(own: str) -> ColumnElement[bool]:
    """Processes of this host that stopped: their pid is not running, or is now this one's."""
    others = db.session.execute(
        select(ChatProcess.id, ChatProcess.pid).where(
            ChatProcess.host == HOST, ChatProcess.id != own
        )
    ).all()
    gone = [pid_of for pid_of, pid in others if pid == os.getpid() or not _running(pid)]
    return ChatProcess.id.in_(gone)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # PermissionError: it runs, as another user
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _remove(which: ColumnElement[bool]) -> None:
    """Delete the processes ``which`` with their connections and presence; tell each room
    whom none of its remaining connections holds any more."""
    from irooms.chat import announce_if_gone

    dead = select(ChatProcess.id).where(which)
    left = db.session.execute(
        select(ChatPresence.room_id, ChatPresence.user_id)
        .where(ChatPresence.process_id.in_(dead))
        .distinct()
    ).all()
    removed = db.session.execute(delete(ChatProcess).where(which)).rowcount
    db.session.commit()
    if removed:
        current_app.logger.info("chat: %d stopped process(es) removed", removed)
    for room_id, user_id in left:
        announce_if_gone(room_id, user_id)


def _beat_forever(app: Flask, own: str) -> None:
    """The background task of a process: beats until the process is another (forked)."""
    interval = _interval(app)
    while True:
        socketio.sleep(interval)
        if app.extensions.get("irooms.process") != (os.getpid(), own):
            return
        try:
            with app.app_context():
                beat()
        except SQLAlchemyError as error:  # the database is away: beat again next time
            app.logger.warning("chat heartbeat failed: %s", str(error).splitlines()[0])
        except Exception:
            app.logger.exception("chat heartbeat failed")
