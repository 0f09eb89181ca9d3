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

The virtual environment has neither ``requests`` nor ``websocket-client``, which
``socketio.Client`` needs; ``ChatClient`` below speaks Engine.IO 4 over a WebSocket opened with
``simple-websocket`` (a dependency of the platform), with python-socketio's own packet encoding.
"""

import contextlib
import http.client
import itertools
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
import redis
import simple_websocket
from socketio import packet
from sqlalchemy import select
from sqlalchemy.engine import make_url

from irooms.models import Membership, Room
from learnplatform import create_app
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.passwords import hash_password
from tests.helpers import CSRF_PATTERN, PASSWORD

SERVER_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

if not (SERVER_DATABASE_URL.startswith("postgresql") and TEST_REDIS_URL):
    pytest.skip(
        "chat across processes needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL: two "
        "server processes cannot share a SQLite test database, nor Socket.IO events without Redis",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: how long anything that crosses processes may take before the test gives up
PATIENCE = 10.0


def wait_for(condition, what: str, timeout: float = PATIENCE):
    """Poll ``condition`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# The database and Redis of this module.
def admin_connection():
    url = make_url(SERVER_DATABASE_URL).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def own_redis_url() -> str:
    """The suite's Redis server, on a database number the suite does not use."""
    parts = urlsplit(TEST_REDIS_URL)
    suite_db = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{(suite_db + 1) % 16}").geturl()


@pytest.fixture(scope="module")
def database():
    """A PostgreSQL database of this module, migrated, dropped at the end."""
    name = f"chat_processes_{secrets.token_hex(6)}"
    with admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "seeding only",
                "SQLALCHEMY_DATABASE_URI": url,
                "RATELIMIT_STORAGE_URI": "memory://",
                "SOCKETIO_MESSAGE_QUEUE": None,
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
        yield app, url
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


# The two server processes.
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        connection.close()


@pytest.fixture(scope="module")
def servers(database, redis_prefix, tmp_path_factory):
    """Two gunicorn processes on the same database, Redis and secret key: their base URLs."""
    with two_servers(
        database[1], own_redis_url(), redis_prefix, tmp_path_factory.mktemp("chat-processes")
    ) as urls:
        yield urls


@contextlib.contextmanager
def two_servers(url: str, redis_url: str, redis_prefix: str, workdir):
    """Two gunicorn processes on database ``url`` and Redis ``redis_url``: their base URLs."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TEST_", "PUBLIC_ORIGIN", "SECURE_COOKIES", "TRUSTED_PROXIES"))
    }
    env.update(
        {
            "LEARNPLATFORM_ENV": "development",
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "RATELIMIT_KEY_PREFIX": redis_prefix,
            "SECRET_KEY": secrets.token_hex(32),  # the same in both: a login is valid in both
            "STORAGE_DIR": str(workdir / "storage"),
        }
    )
    processes, logs, urls = [], [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = open(workdir / f"gunicorn-{name}.log", "wb")  # noqa: SIM115
            logs.append(log)
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [
                        str(BIN / "gunicorn"),
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--worker-class",
                        "gthread",
                        "--threads",
                        "8",
                        "--workers",
                        "1",
                        "--log-level",
                        "info",
                        "--no-control-socket",
                        "wsgi:app",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for process, base in zip(processes, urls, strict=True):
            port = urlsplit(base).port
            try:
                wait_for(
                    lambda process=process, port=port: process.poll() is not None or healthy(port),
                    f"gunicorn on {base}",
                    timeout=30,
                )
                assert process.poll() is None, f"gunicorn on {base} stopped"
            except AssertionError as error:
                logs_text = "".join(path.read_text() for path in sorted(workdir.glob("*.log")))
                raise AssertionError(f"{error}; its logs:\n{logs_text}") from None
        yield tuple(urls)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def people(database):
    """A trainer who hosts the rooms and a participant: (host, member) as (id, e-mail)."""
    app, _ = database
    password_hash = hash_password(PASSWORD)
    made = []
    with app.app_context():
        for email, name, role in (
            ("host@example.org", "Amina Diallo", "trainer"),
            ("member@example.org", "Awa Konaté", "practitioner"),
        ):
            user = User(
                email=email,
                name=name,
                password_hash=password_hash,
                country="SN",
                organisation="Office of the Prosecutor General",
                agency_type="prosecution",
                role=role,
                active=True,
                email_confirmed_at=utcnow(),
            )
            db.session.add(user)
            db.session.commit()
            made.append((user.id, user.email))
        db.session.remove()
    return tuple(made)


@pytest.fixture
def room(database, people):
    """A new room with the host and the member: (room id, the member's membership id).

    Its id is random: Socket.IO's Redis channel is shared by every process on the Redis server,
    whatever its database number, and another platform's room 1 must not be this one."""
    app, _ = database
    (host_id, _), (member_id, _) = people
    with app.app_context():
        while True:
            room_id = random.randrange(10**6, 2**31 - 1)
            if db.session.get(Room, room_id) is None:
                break
        room = Room(
            id=room_id,
            name="Sahel prosecutors",
            description="A private room.",
            language="fr",
            theme="cooperation",
            region_focus="Sahel",
        )
        room.memberships = [
            Membership(user_id=host_id, role="host"),
            Membership(user_id=member_id, role="participant"),
        ]
        db.session.add(room)
        db.session.commit()
        membership_id = db.session.scalar(
            select(Membership.id).where(
                Membership.room_id == room_id, Membership.user_id == member_id
            )
        )
        db.session.remove()
    return room_id, membership_id


# A browser: HTTP with cookies, and a Socket.IO connection.
class Browser:
    """Cookies kept across requests to one server process, as a browser keeps them."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        parts = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=PATIENCE)
        try:
            headers = {"Cookie": self.cookie_header} if self.cookies else {}
            body = None
            if form is not None:
                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, text
        finally:
            connection.close()

    def post_form(self, path: str, data: dict, form_path: str) -> int:
        """Load the page of the form, then post it with its CSRF token; the status."""
        status, page = self.request("GET", form_path)
        assert status == 200, (form_path, status)
        token = CSRF_PATTERN.search(page).group(1)
        return self.request("POST", path, {"csrf_token": token, **data})[0]

    def login(self, email: str) -> "Browser":
        status = self.post_form("/login", {"email": email, "password": PASSWORD}, "/login")
        assert status == 302, f"login of {email} answered {status}"
        return self


class WebSocket(simple_websocket.Client):
    """simple-websocket's client, sending the port in ``Host`` as browsers do (Engine.IO
    compares the origin with it), and closing its socket when the handshake is refused."""

    def handshake(self):
        self.host = f"{self.host}:{self.port}"
        try:
            super().handshake()
        except BaseException:
            self.sock.close()
            raise


class ChatClient:
    """A Socket.IO client over a WebSocket, with the page's cookie and origin.

    ``events`` holds (name, first argument) in the order received; ``call`` emits and waits for
    the acknowledgement; ``connected`` turns False when the server disconnects.
    """

    def __init__(self, browser: Browser):
        self.events: list[tuple[str, object]] = []
        self.connected = False
        self._acks: dict[int, object] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        url = "ws" + browser.base_url.removeprefix("http") + "/socket.io/?EIO=4&transport=websocket"
        self._ws = WebSocket.connect(
            url, headers={"Cookie": browser.cookie_header, "Origin": browser.base_url}
        )
        try:
            opening = self._ws.receive(timeout=PATIENCE)
            assert opening and opening.startswith("0"), opening  # Engine.IO open
            self._ws.send("40")  # Socket.IO connect, default namespace
            answer = self._ws.receive(timeout=PATIENCE)
            assert answer and answer.startswith("40"), f"connection refused: {answer}"
        except BaseException:
            self.close()
            raise
        self.connected = True
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                text = self._ws.receive()
                if text == "2":  # Engine.IO ping
                    self._ws.send("3")
                    continue
                if text is None or not text.startswith("4"):
                    if text is not None and text.startswith("1"):  # Engine.IO close
                        return
                    continue
                received = packet.Packet(encoded_packet=text[1:])
                if received.packet_type == packet.EVENT:
                    name, *args = received.data
                    with self._lock:
                        self.events.append((name, args[0] if args else None))
                elif received.packet_type == packet.ACK:
                    with self._lock:
                        self._acks[received.id] = received.data[0] if received.data else None
                elif received.packet_type == packet.DISCONNECT:
                    return
        except simple_websocket.ConnectionClosed:
            return
        finally:
            self.connected = False

    def call(self, event: str, data: dict):
        """Emit ``event`` with ``data`` and wait for its acknowledgement."""
        number = next(self._ids)
        self._ws.send("4" + packet.Packet(packet.EVENT, data=[event, data], id=number).encode())
        return wait_for(lambda: self._acks.get(number), f"the acknowledgement of {event}")

    def received(self, name: str, room_id: int) -> list:
        """The ``name`` events of ``room_id`` received so far."""
        with self._lock:
            events = list(self.events)
        found = []
        for event, data in events:
            if event != name:
                continue
            if isinstance(data, list):  # a page of messages
                found.extend(m for m in data if m.get("room") == room_id)
            elif isinstance(data, dict) and data.get("room") == room_id:
                found.append(data)
        return found

    def close(self) -> None:
        """Close the connection as a closing tab does."""
        with contextlib.suppress(simple_websocket.ConnectionClosed):
            self._ws.close()
        self._ws.thread.join(timeout=PATIENCE)
        if self._ws.thread.is_alive():  # the server did not answer the close: cut it
            self._ws.sock.shutdown(socket.SHUT_RDWR)
            self._ws.thread.join(timeout=PATIENCE)
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.join(timeout=PATIENCE)


@pytest.fixture
def chat_clients():
    """Open ``ChatClient(browser)`` connections through ``open``; all closed after the test."""
    opened: list[ChatClient] = []

    def open_(browser: Browser) -> ChatClient:
        client = ChatClient(browser)
        opened.append(client)
        return client

    yield open_
    for client in opened:
        client.close()


CLIENT_IDS = (f"c-{number}" for number in itertools.count(1))


def send(client: ChatClient, room_id: int, body: str):
    return client.call("send", {"room": room_id, "client_id": next(CLIENT_IDS), "body": body})


def join(client: ChatClient, room_id: int, after: int | None):
    """Join the room and wait until this process hears the room's events from Redis.

    Each process subscribes to Redis when its first connection arrives, in a thread of its own:
    until the ``online`` event announcing this person comes back through Redis, join again (a
    second join is harmless and announces them again)."""
    answer = client.call("join", {"room": room_id, "after": after})
    assert answer["ok"], answer

    def announced():
        return any(o["user"]["id"] == answer["me"] for o in client.received("online", room_id))

    started = time.monotonic()
    while not announced():
        assert time.monotonic() - started < PATIENCE, "no presence came back through Redis"
        time.sleep(0.1)
        if not announced():
            client.call("join", {"room": room_id, "after": after})
    return answer


def seqs(client: ChatClient, room_id: int, name: str = "message") -> list[int]:
    return [m["seq"] for m in client.received(name, room_id)]


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


@contextlib.contextmanager
def private_redis(port: int):
    """A Redis server of this test alone, so that it can be stopped and started again."""
    process = subprocess.Popen(  # noqa: S603
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), f"Redis on port {port}", timeout=10)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server program")
def test_chat_resumes_when_redis_returns_and_catch_up_fills_the_gap(
    database, people, room, redis_prefix, tmp_path, chat_clients
):
    (_, host_email), (_, member_email) = people
    room_id, _ = room
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    with (
        private_redis(port) as first_redis,
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
        with private_redis(port):
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
