"""A server process killed while another serves: the people it held go offline, not for ever.

Two gunicorn processes share a database and a private Redis. The member's chat connection is on
process A, the host's on B. When A is killed for good, B's heartbeat finds it silent and tells
the room the member went offline within three beats; when A's worker is killed and gunicorn
starts a new one, the new worker forgets its predecessor's people at its first connection,
without waiting. Runs on SQLite (one file both processes share) and on PostgreSQL when
``TEST_DATABASE_URL`` names a server.
"""

import os
import shutil
import signal

import pytest

from tests.irooms import processes
from tests.irooms.processes import Browser, join, wait_for

chat_clients = processes.chat_clients  # the fixture, for the tests here

SERVER_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
DATABASES = ["sqlite"] + (["postgresql"] if SERVER_DATABASE_URL.startswith("postgresql") else [])

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server program"
)


@pytest.fixture(params=DATABASES)
def platform(request, tmp_path):
    """A migrated database of this test with its two people and a room, and a private Redis:
    (database url, redis url, room id, host e-mail, member e-mail)."""
    server_url = SERVER_DATABASE_URL if request.param == "postgresql" else ""
    with processes.own_database(server_url, tmp_path) as (app, url):
        people = processes.add_people(app)
        room_id, _ = processes.add_room(app, people)
        port = processes.free_port()
        (tmp_path / "redis").mkdir()
        with processes.private_redis(port, tmp_path / "redis"):
            (_, host), (_, member) = people
            yield url, f"redis://127.0.0.1:{port}/0", room_id, host, member


def online(client, room_id) -> list[str]:
    """Who the last ``presence`` event to ``client`` listed as online in the room."""
    return [person["name"] for person in client.received("presence", room_id)[-1]["online"]]


def went_offline(client, room_id) -> list[int]:
    return [event["user"] for event in client.received("offline", room_id)]


def in_the_room(platform, a, b, chat_clients):
    """The member in the room's chat through process ``a``, the host through ``b``, each seeing
    the other online: (member's connection, member's id, host's connection)."""
    _, _, room_id, host_email, member_email = platform
    member = chat_clients(Browser(a).login(member_email))
    member_id = join(member, room_id, None)["me"]
    host = chat_clients(Browser(b).login(host_email))
    join(host, room_id, None)
    assert online(host, room_id) == ["Amina Diallo", "Awa Konaté"]
    return member, member_id, host


def server_logs(folder) -> str:
    return "".join(path.read_text() for path in sorted(folder.glob("gunicorn-*.log")))


def test_the_people_of_a_killed_process_go_offline_within_three_beats(
    platform, tmp_path, chat_clients
):
    url, redis_url, room_id, host_email, _ = platform
    settings = {"CHAT_HEARTBEAT_SECONDS": "1"}
    with processes.two_servers(url, redis_url, "killed", tmp_path, settings) as (a, b):
        member, member_id, host = in_the_room(platform, a, b, chat_clients)

        worker = a.worker()
        os.kill(a.process.pid, signal.SIGKILL)  # the master first, so that nothing restarts
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: member_id in went_offline(host, room_id), "the member announced offline")
        again = chat_clients(Browser(b).login(host_email))
        join(again, room_id, None)
        assert online(again, room_id) == ["Amina Diallo"]
        member.close()
    assert "Traceback" not in server_logs(tmp_path)


def test_a_restarted_worker_forgets_the_people_of_the_one_it_replaces_at_once(
    platform, tmp_path, chat_clients
):
    """With beats ten minutes apart, only the restart can have told."""
    url, redis_url, room_id, host_email, _ = platform
    settings = {"CHAT_HEARTBEAT_SECONDS": "600"}
    with processes.two_servers(url, redis_url, "restarted", tmp_path, settings) as (a, b):
        member, member_id, host = in_the_room(platform, a, b, chat_clients)

        killed = a.worker()
        os.kill(killed, signal.SIGKILL)  # gunicorn's master starts another worker
        wait_for(lambda: a.worker() not in (None, killed) and processes.healthy(a.port), "a worker")
        on_new_worker = chat_clients(Browser(a).login(host_email))
        join(on_new_worker, room_id, None)
        assert online(on_new_worker, room_id) == ["Amina Diallo"]
        wait_for(lambda: member_id in went_offline(host, room_id), "the member announced offline")
        member.close()
    assert "Traceback" not in server_logs(tmp_path)
