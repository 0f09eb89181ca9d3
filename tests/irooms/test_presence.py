"""Presence outlives no process: the people a stopped process held go offline.

A load run killed one of two server processes: its 25 chat users stayed "online" for good. Here
another process is a row of ``chat_processes`` that this test makes: one that stopped beating
long ago, or one of this host whose pid no longer runs (a predecessor of a restart).
"""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from irooms import presence
from irooms.models import ChatPresence, ChatProcess, SocketConnection
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from tests.irooms.test_chat import connect, received
from tests.irooms.test_rooms import add_room


@pytest.fixture(autouse=True)
def stop_beating(app):
    """The background beat of a test's app ends with the test."""
    yield
    app.extensions.pop("irooms.process", None)


def another_process(app, room_id, user, *, seen_ago=timedelta(0), pid=None, host=presence.HOST):
    """A process other than this one, holding ``user``'s connection in the room."""
    with app.app_context():
        process = ChatProcess(
            id=f"other-{user.id}",
            host=host,
            pid=pid if pid is not None else os.getppid(),
            seen_at=utcnow() - seen_ago,
        )
        db.session.add(process)
        db.session.flush()  # the presence names it
        db.session.add(
            ChatPresence(
                sid=f"sid-{user.id}", room_id=room_id, user_id=user.id, process_id=process.id
            )
        )
        db.session.commit()


def online(joined_client, room_id):
    presence_events = received(joined_client, "presence")
    return [person["name"] for person in presence_events[-1]["online"]]


def test_people_held_by_a_process_that_stopped_beating_go_offline(app, create_user):
    app.config["CHAT_HEARTBEAT_SECONDS"] = 10
    host, ghost = create_user(role="trainer", name="Amina"), create_user(name="Ghost")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (ghost, "participant")])
    another_process(app, room_id, ghost, seen_ago=timedelta(minutes=5))

    connection = connect(app, host)
    assert connection.emit("join", {"room": room_id}, callback=True)["ok"]
    assert online(connection, room_id) == ["Amina"]  # not counted, though still a row

    with app.app_context():
        presence.beat()
        assert db.session.get(ChatProcess, f"other-{ghost.id}") is None
        assert db.session.scalar(select(func.count(ChatPresence.id))) == 1
    assert received(connection, "offline") == [{"room": room_id, "user": ghost.id}]


def test_a_process_that_beats_keeps_its_people_online(app, create_user):
    app.config["CHAT_HEARTBEAT_SECONDS"] = 10
    host, other = create_user(role="trainer", name="Amina"), create_user(name="Awa")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (other, "participant")])
    another_process(app, room_id, other, seen_ago=timedelta(seconds=5), host="elsewhere")

    connection = connect(app, host)
    connection.emit("join", {"room": room_id}, callback=True)
    assert online(connection, room_id) == ["Amina", "Awa"]
    with app.app_context():
        presence.beat()
    assert received(connection, "offline") == []


def test_a_starting_process_forgets_its_stopped_predecessors_on_this_host(app, create_user):
    """A restart: the old process's row is fresh, but its pid runs no more. The new process,
    at its first connection, removes it and its people at once, without waiting for the
    deadline; a live process of this host is left alone."""
    host, ghost, alive = (
        create_user(role="trainer", name="Amina"),
        create_user(name="Ghost"),
        create_user(name="Awa"),
    )
    room_id = add_room(
        app, "Sahel prosecutors", [(host, "host"), (ghost, "participant"), (alive, "participant")]
    )
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    another_process(app, room_id, ghost, pid=ended.pid)
    another_process(app, room_id, alive, pid=os.getppid())

    connection = connect(app, host)
    connection.emit("join", {"room": room_id}, callback=True)
    assert online(connection, room_id) == ["Amina", "Awa"]
    with app.app_context():
        assert db.session.get(ChatProcess, f"other-{ghost.id}") is None
        assert db.session.get(ChatProcess, f"other-{alive.id}") is not None
        own = db.session.scalar(select(SocketConnection.process_id))
        assert db.session.get(ChatProcess, own).pid == os.getpid()


def test_a_process_taken_for_dead_registers_again_and_its_clients_rejoin(app, create_user):
    app.config["CHAT_HEARTBEAT_SECONDS"] = 10
    host = create_user(role="trainer", name="Amina")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    connection = connect(app, host)
    connection.emit("join", {"room": room_id}, callback=True)
    with app.app_context():
        own = presence.process_id()
        db.session.execute(ChatProcess.__table__.delete())  # another process's beat did this
        db.session.commit()
        presence.beat()
        assert db.session.get(ChatProcess, own) is not None
    assert received(connection, "resync") == [{}]
    assert connection.emit("join", {"room": room_id}, callback=True)["ok"]
    assert online(connection, room_id) == ["Amina"]
