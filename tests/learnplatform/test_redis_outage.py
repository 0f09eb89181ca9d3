"""Redis stopped and started again under the platform: every limit counts in the process
meanwhile, so logins, forms, the API and the chat go on, and go back to the shared count after.

A load run with Redis stopped for 30 s had every login answer 500: the login throttle's Redis
storage raised ``ConnectionError``. A private Redis server is stopped and restarted here.
"""

import logging
import shutil
import time

import pytest
import redis

from tests.api.test_api import token_of
from tests.conftest import platform_on_own_database
from tests.helpers import Auth, post_form
from tests.irooms.processes import answers, free_port, private_redis, wait_for
from tests.irooms.test_chat import connect, send
from tests.irooms.test_rooms import add_room

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server program"
)


@pytest.fixture
def redis_port():
    return free_port()


@pytest.fixture
def app(migrated_database, tmp_path, redis_port):
    """The platform keeping its rate limits in a Redis server of this test alone."""
    url = f"redis://127.0.0.1:{redis_port}/0"
    with private_redis(redis_port, tmp_path):
        platform = platform_on_own_database(migrated_database, tmp_path, RATELIMIT_STORAGE_URI=url)
        with platform as app:
            app.redis_folder = tmp_path
            yield app


def shared_keys(port: int) -> int:
    """How many limit counters the Redis server holds."""
    client = redis.Redis(port=port, socket_connect_timeout=1)
    try:
        return len(client.keys("*"))
    finally:
        client.close()


def test_limits_count_in_the_process_while_redis_is_down_and_in_redis_again_after(
    app, redis_port, create_user, caplog
):
    caplog.set_level(logging.WARNING)
    person = create_user()
    admin = create_user(role="administrator")
    token = token_of(app, admin)
    client = app.test_client()
    auth = Auth(client)
    assert auth.login(person.email, "a wrong password").status_code == 200
    assert shared_keys(redis_port) >= 1

    # Redis goes away (the fixture's server is this test's alone: stop it by its port).
    redis.Redis(port=redis_port).shutdown(nosave=True)
    wait_for(lambda: not answers(redis_port), "Redis to stop")

    # Logins, the forms with their own limits and the API answer as usual.
    assert auth.login(person.email).status_code == 302
    assert client.get("/").status_code == 200
    auth.logout()
    forgot = post_form(client, "/password/reset", {"email": person.email})
    assert forgot.status_code == 302
    api = client.get("/api/v1/statistics", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200

    # The throttle still holds, counting in this process: five wrong passwords, then 429.
    statuses = [auth.login(person.email, "a wrong password").status_code for _ in range(6)]
    assert statuses[-1] == 429
    assert 500 not in statuses
    assert "falling back to in-memory storage" in caplog.text

    # The chat goes on, with its own limit counted here too.
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    chat = connect(app, host)
    assert chat.emit("join", {"room": room_id}, callback=True)["ok"]
    assert send(chat, room_id, "Redis est en panne.")["ok"]

    # Redis returns on the same port: the limits go back to the shared count.
    with private_redis(redis_port, app.redis_folder):
        assert shared_keys(redis_port) == 0

        def counted_in_redis():
            time.sleep(0.5)
            Auth(app.test_client()).login(admin.email, "another wrong password")
            return shared_keys(redis_port) > 0

        wait_for(counted_in_redis, "the limits counted in Redis again", timeout=30)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
