"""The room chat across two server processes that share PostgreSQL and Redis, as in production.

Two gunicorn processes serve the same database; Socket.IO events cross between them through
Redis. Each member logs in over HTTP on a different process and holds a real Socket.IO
connection there: messages posted through one process reach the other live, a reconnecting client
catches up through the other process, and removing a member closes their connection in whichever
process holds it.

Runs only with both ``TEST_DATABASE_URL`` (PostgreSQL) and ``TEST_REDIS_URL`` set (``.ci/run``
sets them): two processes cannot share a SQLite file of a test meaningfully, nor Socket.IO events
without Redis. The test works on a database of its own, created and dropped here, and on a Redis
database number the suite does not use, under a key prefix of its own.

With ``TEST_STACK`` naming the environment file of ``make production`` (deploy/stack.py), the
same tests run through the production stack instead: its nginx, which each client reaches with a
route cookie that leads to one of its two processes, on its database and Redis.

The servers and clients are those of ``tests/irooms/processes.py``.
"""

import contextlib
import os
import secrets
import shutil
import time
from urllib.parse import urlsplit

import pytest
import redis
import simple_websocket
from socketio import packet

from tests.irooms import processes
from tests.irooms.processes import (
    Browser,
    add_people,
    add_room,
    free_port,
    join,
    own_database,
    private_redis,
    send,
    seqs,
    stack_database,
    stack_servers,
    two_servers,
    wait_for,
)

chat_clients = processes.chat_clients  # the fixture, for the tests here

SERVER_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

if not ((SERVER_DATABASE_URL.startswith("postgresql") and TEST_REDIS_URL) or processes.STACK):
    pytest.skip(
        "chat across processes needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL: two "
        "server processes cannot share a SQLite test database, nor Socket.IO events without Redis",
        allow_module_level=True,
    )


# The database and Redis of this module.
def own_redis_url() -> str:
    """The suite's Redis server, on a database number the suite does not use; the stack's."""
    if processes.STACK:
        return processes.stack_settings()["REDIS_URL"]
    parts = urlsplit(TEST_REDIS_URL)
    suite_db = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{(suite_db + 1) % 16}").geturl()


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A PostgreSQL database of this module, migrated, dropped at the end: (app, url); the
    stack's own through the stack."""
    if processes.STACK:
        with stack_database() as made:
            yield made
        return
    with own_database(SERVER_DATABASE_URL, tmp_path_factory.mktemp("database")) as made:
        yield made


@pytest.fixture(scope="module")
def redis_prefix():
    """A key prefix of this module's rate limits; its keys are deleted at the end.

    Socket.IO keeps no keys, only the pub/sub channel (``flask-socketio``); pub/sub is not
    scoped by database number, which is why rooms here get random ids (see ``room``).
    """
    prefix = f"chat-processes-{secrets.token_hex(6)}"
    yield prefix
    client = redis.Redis.from_url(own_redis_url())
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def servers(database, redis_prefix, tmp_path_factory):
    """Two gunicorn processes on the same database, Redis and secret key: their base URLs; the
    stack's nginx, routed to each of its processes, through the stack."""
    if processes.STACK:
        yield stack_servers()
        return
    with two_servers(
        database[1], own_redis_url(), redis_prefix, tmp_path_factory.mktemp("chat-processes")
    ) as urls:
        yield urls


@pytest.fixture(scope="module")
def people(database):
    """A trainer who hosts the rooms and a participant: (host, member) as (id, e-mail)."""
    return add_people(database[0])


@pytest.fixture
def room(database, people):
    """A new room with the host and the member: (room id, the member's membership id)."""
    return add_room(database[0], people)


# The tests.
def test_messages_cross_processes_live_and_on_catch_up(servers, people, room, chat_clients):
    process_a, process_b = servers
    (_, host_email), (_, member_email) = people
    room_id, _ = room
    host = chat_clients(Browser(process_a).login(host_email))
    member_browser = Browser(process_b).login(member_email)
    member = chat_clients(member_browser)
    join(host, room_id, 0)
    join(member, room_id, 0)
    wait_for(
        lambda: any(o["user"]["id"] == people[1][0] for o in host.received("online", room_id)),
        "the host hearing that the member is online",
    )

    # A message posted through A reaches B live, and one posted through B reaches A.
    assert send(host, room_id, "Bienvenue, la session commence à 14h.") == {"ok": True, "seq": 1}
    wait_for(lambda: 1 in seqs(member, room_id), "message 1 on process B")
    assert send(member, room_id, "Bonjour à tous") == {"ok": True, "seq": 2}
    wait_for(lambda: 2 in seqs(host, room_id), "message 2 on process A")
    wait_for(lambda: len(seqs(member, room_id)) == 2, "message 2 back on process B")
    wait_for(lambda: len(seqs(host, room_id)) == 2, "message 1 back on process A")
    assert seqs(host, room_id) == seqs(member, room_id) == [1, 2]
    [first, second] = member.received("message", room_id)
    assert (first["author"]["name"], first["body"]) == (
        "Amina Diallo",
        "Bienvenue, la session commence à 14h.",
    )
    assert (second["author"]["name"], second["body"]) == ("Awa Konaté", "Bonjour à tous")

    # The member's tab closes; meanwhile the host posts through A.
    member.close()
    assert not member.connected
    assert send(host, room_id, "Le dossier est prêt.") == {"ok": True, "seq": 3}
    assert send(host, room_id, "Rendez-vous à 15h.") == {"ok": True, "seq": 4}

    # Back on B, joining after the last number seen brings what was missed, in order.
    again = chat_clients(member_browser)
    answer = again.call("join", {"room": room_id, "after": 2})
    assert answer["ok"] and answer["last"] == 4 and answer["role"] == "participant"
    wait_for(lambda: seqs(again, room_id, "messages") == [3, 4], "the missed messages on B")
    assert [m["body"] for m in again.received("messages", room_id)] == [
        "Le dossier est prêt.",
        "Rendez-vous à 15h.",
    ]
    assert seqs(again, room_id) == []  # nothing came twice as a live message


def test_removing_a_member_closes_their_connection_in_the_other_process(
    servers, people, room, chat_clients
):
    process_a, process_b = servers
    (_, host_email), (_, member_email) = people
    room_id, membership_id = room
    host_browser = Browser(process_a).login(host_email)
    host = chat_clients(host_browser)
    member = chat_clients(Browser(process_b).login(member_email))
    join(host, room_id, None)
    join(member, room_id, None)

    members_page = f"/irooms/{room_id}/members"
    status = host_browser.post_form(
        f"/irooms/{room_id}/members/{membership_id}/remove", {}, form_path=members_page
    )
    assert status == 302

    wait_for(lambda: not member.connected, "process B closing the removed member's connection")
    assert member.received("removed", room_id) == [{"room": room_id}]
    assert host.connected
    # The host's own connection, on A, stays and hears that the member left.
    wait_for(
        lambda: host.received("offline", room_id) == [{"room": room_id, "user": people[1][0]}],
        "the member going offline",
    )
    # And a new connection of the member is refused the room.
    retry = chat_clients(Browser(process_b).login(member_email))
    assert retry.call("join", {"room": room_id, "after": None}) == {
        "ok": False,
        "error": "not_found",
    }


def test_a_two_megabyte_frame_closes_only_its_own_connection(servers, people, room, chat_clients):
    """SECURITY item 25: a 2 MB Socket.IO frame is refused (max_http_buffer_size); the server
    goes on serving the others."""
    process_a, _ = servers
    (_, host_email), (_, member_email) = people
    room_id, _ = room
    host = chat_clients(Browser(process_a).login(host_email))
    attacker = chat_clients(Browser(process_a).login(member_email))
    join(host, room_id, None)
    frame = packet.Packet(
        packet.EVENT, data=["send", {"room": room_id, "client_id": "big", "body": "x" * 2_000_000}]
    )
    with contextlib.suppress(simple_websocket.ConnectionClosed):
        attacker._ws.send("4" + frame.encode())
    wait_for(lambda: not attacker.connected, "the connection that sent 2 MB being closed")
    assert send(host, room_id, "Still here.")["ok"]
    assert "x" * 1000 not in str(host.events)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server program")
@pytest.mark.skipif(bool(processes.STACK), reason="stops a Redis of its own, not the stack's")
def test_chat_resumes_when_redis_returns_and_catch_up_fills_the_gap(
    database, people, room, redis_prefix, tmp_path, chat_clients
):
    (_, host_email), (_, member_email) = people
    room_id, _ = room
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    with (
        private_redis(port, tmp_path) as first_redis,
        two_servers(database[1], redis_url, redis_prefix, tmp_path) as (process_a, process_b),
    ):
        host = chat_clients(Browser(process_a).login(host_email))
        member = chat_clients(Browser(process_b).login(member_email))
        join(host, room_id, None)
        join(member, room_id, None)
        first = send(host, room_id, "Avant la coupure.")["seq"]
        wait_for(lambda: first in seqs(member, room_id), "a message across processes")

        # Redis goes away: messages are still stored and acknowledged.
        first_redis.terminate()
        first_redis.wait(timeout=10)
        during = send(host, room_id, "Pendant la coupure.")
        assert during["ok"]

        # Redis comes back on the same address: live messages flow again, with no restart.
        with private_redis(port, tmp_path):
            sent = []

            def live_again() -> bool:
                time.sleep(0.3)  # within the chat's rate limit
                sent.append(send(host, room_id, f"Après la coupure {len(sent) + 1}.")["seq"])
                return any(seq in seqs(member, room_id) for seq in sent)

            wait_for(live_again, "live messages after Redis returned", timeout=60)
            # What the outage kept from the member comes with a catch-up from their last seen.
            again = chat_clients(Browser(process_b).login(member_email))
            join(again, room_id, first)
            wait_for(
                lambda: during["seq"] in seqs(again, room_id, "messages"),
                "the message sent during the outage, on catch-up",
            )
            caught_up = seqs(again, room_id, "messages")
            assert caught_up == sorted(set(caught_up))
            assert caught_up[0] == during["seq"]
