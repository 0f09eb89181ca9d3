"""A Redis outage between two server processes costs the chat delay, never a hole.

Two gunicorn processes share a private Redis server as their message queue. Redis is killed while
the host posts through process A: the messages are stored and acknowledged, but Redis pub/sub
keeps nothing, so the member connected to process B does not get them live. When Redis returns,
B's listener subscribes again and tells its connections ``resync``; the member joins again after
the number up to which it holds every message (docs/chat.md, "Reconnecting") and then holds every
message, in order, once. Whether the outage is long (the listeners gave up reading and subscribe
again by themselves) or short (redis-py reconnected and subscribed again inside its own retries).

Runs on SQLite (one file both processes share, in WAL mode) and, when ``TEST_DATABASE_URL`` names
a PostgreSQL server, on a database of its own there too. Needs the ``redis-server`` program.
"""

import os
import shutil

import pytest

from tests.irooms import processes

chat_clients = processes.chat_clients  # the fixture, for the tests here

SERVER_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
DATABASES = ["sqlite"] + (["postgresql"] if SERVER_DATABASE_URL.startswith("postgresql") else [])
#: how long after Redis returns the clients must be told: the listener tries every 4 s at most
RESYNC_WITHIN = 15.0
#: the chat's rate limit is not what these tests are about
UNLIMITED = {"CHAT_RATE": "1000", "CHAT_BURST": "1000"}

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server program"
)


@pytest.fixture(params=DATABASES)
def database(request, tmp_path):
    """A migrated database of this test: (app, url)."""
    server_url = SERVER_DATABASE_URL if request.param == "postgresql" else ""
    with processes.own_database(server_url, tmp_path) as made:
        yield made


def logs_of(folder) -> str:
    """What the two server processes wrote, standard error included."""
    return "".join(path.read_text() for path in sorted(folder.glob("gunicorn-*.log")))


def held(client, room_id: int) -> dict[int, dict]:
    """The messages the client holds, by number, as a page keeps them: live or caught up."""
    kept = {}
    for message in client.received("messages", room_id) + client.received("message", room_id):
        kept[message["seq"]] = message
    return kept


def contiguous(kept: dict) -> int:
    """The number up to which the client holds every message."""
    seq = 0
    while seq + 1 in kept:
        seq += 1
    return seq


@pytest.mark.parametrize("outage", ["long", "short"])
def test_messages_posted_while_redis_is_away_reach_the_other_process_once_it_returns(
    database, tmp_path, chat_clients, outage
):
    app, url = database
    people = processes.add_people(app)
    (_, host_email), (_, member_email) = people
    room_id, _ = processes.add_room(app, people)
    port = processes.free_port()
    (tmp_path / "redis").mkdir()
    with (
        processes.private_redis(port, tmp_path / "redis") as first_redis,
        processes.two_servers(
            url, f"redis://127.0.0.1:{port}/0", "chat-outage", tmp_path, UNLIMITED
        ) as (
            process_a,
            process_b,
        ),
    ):
        host = chat_clients(processes.Browser(process_a).login(host_email))
        member = chat_clients(processes.Browser(process_b).login(member_email))
        processes.join(host, room_id, 0)
        processes.join(member, room_id, 0)
        assert processes.send(host, room_id, "Avant la coupure.") == {"ok": True, "seq": 1}
        processes.wait_for(
            lambda: processes.seqs(member, room_id) == [1], "message 1 live on process B"
        )
        assert member.count("resync") == 0

        # Redis dies. Messages posted through A are stored and acknowledged all the same.
        first_redis.kill()
        first_redis.wait(timeout=10)
        during = [f"Pendant la coupure, message {number}." for number in range(2, 22)]
        for seq, body in enumerate(during, start=2):
            assert processes.send(host, room_id, body) == {"ok": True, "seq": seq}
        if outage == "long":  # redis-py's own quick retries are over: both listeners said so
            processes.wait_for(
                lambda: all(
                    "Cannot receive from Redis" in (tmp_path / f"gunicorn-{name}.log").read_text()
                    for name in ("a", "b")
                ),
                "both processes noticing that Redis is gone",
                timeout=30,
            )
        assert processes.seqs(member, room_id) == [1]  # pub/sub kept nothing for B

        # Redis comes back on the same port: B tells its connections to resync.
        with processes.private_redis(port, tmp_path / "redis"):
            processes.wait_for(
                lambda: member.count("resync") >= 1, "resync on process B", timeout=RESYNC_WITHIN
            )
            after = contiguous(held(member, room_id))
            assert after == 1
            answer = member.call("join", {"room": room_id, "after": after})
            assert answer["ok"] and answer["last"] == 21

            caught_up = processes.seqs(member, room_id, "messages")
            assert caught_up == list(range(2, 22))  # in order, none twice, none already held
            kept = held(member, room_id)
            assert sorted(kept) == list(range(1, 22))
            assert [kept[seq]["body"] for seq in range(2, 22)] == during

            # Live messages flow again, and A's own connection heard its messages all along.
            assert processes.send(host, room_id, "Après la coupure.") == {"ok": True, "seq": 22}
            processes.wait_for(
                lambda: 22 in processes.seqs(member, room_id), "message 22 live on process B"
            )
            assert processes.seqs(host, room_id) == list(range(1, 23))
        for client in (host, member):
            client.close()  # before the servers stop, which would wait for open connections
    assert "Traceback" not in logs_of(tmp_path)


def test_a_process_that_could_not_publish_tells_the_others_to_resync_once_it_can(tmp_path):
    """Only this process lost Redis (its link, not the server): the others stayed subscribed and
    heard no gap. The first event it publishes afterwards is preceded by ``resync`` to them."""
    import json
    import logging

    import redis

    from irooms.queue import ResyncingRedisManager

    port = processes.free_port()
    (tmp_path / "redis").mkdir()
    with processes.private_redis(port, tmp_path / "redis"):
        others = redis.Redis(port=port).pubsub(ignore_subscribe_messages=True)
        others.subscribe("flask-socketio")
        nowhere = f"redis://127.0.0.1:{processes.free_port()}/0"
        manager = ResyncingRedisManager(
            nowhere, channel="flask-socketio", write_only=True, logger=logging.getLogger("test")
        )
        manager.emit("message", {"room": 1, "seq": 1}, namespace="/", room="iroom-1")
        manager.redis_url, manager.connected = f"redis://127.0.0.1:{port}/0", False
        manager.emit("message", {"room": 1, "seq": 2}, namespace="/", room="iroom-1")

        heard = []

        def both_heard():
            message = others.get_message(timeout=0.1)  # None for a subscription's confirmation
            if message is not None:
                heard.append(json.loads(message["data"]))
            return len(heard) == 2

        processes.wait_for(both_heard, "two events on the channel")
        assert [(m["event"], m["room"]) for m in heard] == [
            ("resync", None),
            ("message", "iroom-1"),
        ]
        assert heard[1]["data"] == [{"room": 1, "seq": 2}]
        others.close()
