"""Two server processes as in production, and clients that talk to them over HTTP and Socket.IO.

Shared by the tests of the chat across processes: ``test_chat_processes``, and the Redis outages of
``test_chat_queue_outage`` and ``tests/browser/test_chat_gap_browser``. A migrated database of the
tests' own (PostgreSQL when ``TEST_DATABASE_URL`` names one, else a SQLite file that both processes
share), two gunicorn processes on it, a private Redis server that a test may stop and start again,
and clients.

The virtual environment has neither ``requests`` nor ``websocket-client``, which
``socketio.Client`` needs; ``ChatClient`` below speaks Engine.IO 4 over a WebSocket opened with
``simple-websocket`` (a dependency of the platform), with python-socketio's own packet encoding.
"""

import contextlib
import http.client
import itertools
import json
import os
import random
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
import simple_websocket
from socketio import packet
from sqlalchemy import select
from sqlalchemy.engine import make_url

from deploy.stack import read_environment
from irooms.models import Membership, Room
from learnplatform import create_app
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.passwords import hash_password
from tests.helpers import CSRF_PATTERN, PASSWORD

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


# The database.
@contextlib.contextmanager
def own_database(server_url: str, folder: Path):
    """A migrated database of its own, as (app, url): a new one on the PostgreSQL server of
    ``server_url`` (dropped at the end), else a SQLite file in ``folder``, which two processes
    share in WAL mode."""
    if server_url.startswith("postgresql"):
        made = _postgresql_database(server_url)
    else:
        made = contextlib.nullcontext(f"sqlite:///{folder / 'chat.sqlite'}")
    with made as url:
        app = seeding_app(url)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
        yield app, url
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def seeding_app(url: str):
    """A platform on database ``url`` through which a test writes what its servers will read."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "seeding only",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SOCKETIO_MESSAGE_QUEUE": None,
        }
    )


@contextlib.contextmanager
def _postgresql_database(server_url: str):
    """A new database on the PostgreSQL server of ``server_url``: its URL; dropped at the end."""

    def admin_connection():
        url = make_url(server_url).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    name = f"chat_processes_{secrets.token_hex(6)}"
    with admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_people(app) -> tuple:
    """A trainer who hosts the rooms and a participant: (host, member) as (id, e-mail), with
    addresses of their own (the stack's database keeps those of earlier runs)."""
    password_hash = hash_password(PASSWORD)
    made = []
    tag = secrets.token_hex(4)
    with app.app_context():
        for email, name, role in (
            (f"host-{tag}@example.org", "Amina Diallo", "trainer"),
            (f"member-{tag}@example.org", "Awa Konaté", "practitioner"),
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


def add_room(app, people) -> tuple[int, int]:
    """A new room with the host and the member of ``add_people``: (room id, the member's
    membership id).

    Its id is random: Socket.IO's Redis channel is shared by every process on the Redis server,
    whatever its database number, and another platform's room 1 must not be this one."""
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


class Server(str):
    """A server process's base URL, with ``process``, its gunicorn master (a ``Popen``); behind
    the stack's nginx, the ``cookies`` that route to one process and the ``tls`` context that
    trusts the stack's certificate."""

    def __new__(
        cls,
        url: str,
        process: subprocess.Popen | None,
        cookies: dict | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        server = super().__new__(cls, url)
        server.process = process
        server.cookies = cookies or {}
        server.tls = tls
        return server

    @property
    def port(self) -> int:
        return urlsplit(self).port

    def worker(self) -> int | None:
        """The pid of the master's worker, the process that serves; None between two."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # pid (comm) state ppid ...: comm may hold spaces, so read after its ")"
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid and fields[0] != "Z":
                    return int(stat.parent.name)
        return None


@contextlib.contextmanager
def two_servers(
    url: str,
    redis_url: str,
    redis_prefix: str,
    workdir,
    settings: dict | None = None,
    names: tuple[str, ...] = ("a", "b"),
):
    """Two gunicorn processes (one per name of ``names``) on database ``url`` and Redis
    ``redis_url``, with more environment ``settings``: their base URLs (:class:`Server`). Each
    writes its output to ``workdir/gunicorn-<name>.log``."""
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
            **(settings or {}),
        }
    )
    processes, logs, urls = [], [], []
    try:
        for name in names:
            port = free_port()
            log = open(workdir / f"gunicorn-{name}.log", "wb")  # noqa: SIM115
            logs.append(log)
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [
                        str(BIN / "gunicorn"),
                        "--config",
                        str(ROOT / "deploy" / "gunicorn.conf.py"),  # gevent, as in production
                        "--bind",
                        f"127.0.0.1:{port}",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(Server(f"http://127.0.0.1:{port}", processes[-1]))
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


# The production stack of deploy/stack.py (``make production``), when ``TEST_STACK`` names its
# environment file: the tests above run through its nginx, on its database and Redis.
STACK = os.environ.get("TEST_STACK", "")
ROUTE = "lp_route"  # nginx's route cookie (deploy/nginx/learnplatform.conf)


def stack_settings() -> dict[str, str]:
    return read_environment(Path(STACK))


@contextlib.contextmanager
def stack_database():
    """The stack's database as (app, url), as ``own_database`` gives its own; its connections
    closed at the end."""
    url = stack_settings()["DATABASE_URL"]
    app = seeding_app(url)
    try:
        yield app, url
    finally:
        with app.app_context():
            db.engine.dispose()


def _connection(base_url: str, tls: ssl.SSLContext | None) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    if tls is None:
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=PATIENCE)
    return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=PATIENCE, context=tls)


def engine_io_session(server: Server) -> str:
    """Open an Engine.IO session by long-polling (no login needed): its id."""
    status, text = Browser(server).request("GET", "/socket.io/?EIO=4&transport=polling")
    assert status == 200 and text.startswith("0"), (status, text)
    return json.loads(text[1:])["sid"]


def closes_session(server: Server, sid: str) -> bool:
    """Whether the process ``server`` reaches holds Engine.IO session ``sid``: it closes it when
    asked (packet 1), where another process answers 400."""
    connection = _connection(server, server.tls)
    try:
        connection.request(
            "POST",
            f"/socket.io/?EIO=4&transport=polling&sid={sid}",
            body="1",
            headers={"Cookie": Browser(server).cookie_header, "Content-Type": "text/plain"},
        )
        response = connection.getresponse()
        response.read()
        return response.status == 200
    finally:
        connection.close()


def stack_servers() -> tuple[Server, Server]:
    """The stack's address twice, each with a route cookie that nginx sends to a different
    process: an Engine.IO session opened through the first is unknown through the second."""
    settings = stack_settings()
    tls = ssl.create_default_context(cafile=settings["TLS_CA_FILE"])
    origin = settings["PUBLIC_ORIGIN"]
    first = Server(origin, None, {ROUTE: secrets.token_hex(16)}, tls)
    for _ in range(64):  # each try reaches the other of two processes with odds of one half
        other = Server(origin, None, {ROUTE: secrets.token_hex(16)}, tls)
        sid = engine_io_session(first)
        if not closes_session(other, sid):
            assert closes_session(first, sid), "the first route led elsewhere the second time"
            return first, other
    raise AssertionError("every route led to the same process: is the stack balancing?")


# A browser: HTTP with cookies, and a Socket.IO connection.
class Browser:
    """Cookies kept across requests to one server process, as a browser keeps them."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies: dict[str, str] = dict(getattr(base_url, "cookies", {}))
        self.tls = getattr(base_url, "tls", None)

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = _connection(self.base_url, self.tls)
        try:
            headers = {"Cookie": self.cookie_header} if self.cookies else {}
            if self.tls:  # over HTTPS, Flask-WTF wants the page the form came from
                headers["Referer"] = self.base_url + path
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
    compares the origin with it), closing its socket when the handshake is refused, and reading
    at once what came with the handshake's answer."""

    def handshake(self):
        self.host = f"{self.host}:{self.port}"
        try:
            super().handshake()
        except BaseException:
            self.sock.close()
            raise
        # simple-websocket takes only the handshake's event from its first read: a frame that came
        # in the same read (Engine.IO's OPEN, sent at once) would wait in wsproto until more data
        # arrived, the server's first ping 25 s later. Seen as an OPEN "lost" under load.
        self._handle_events()


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
            url,
            headers={"Cookie": browser.cookie_header, "Origin": browser.base_url},
            ssl_context=browser.tls,
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

    def count(self, name: str) -> int:
        """How many ``name`` events have been received so far, whatever their room."""
        with self._lock:
            return sum(1 for event, _ in self.events if event == name)

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
        # (OSError: the socket is gone already, the server having closed it first)
        with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
            self._ws.close()
        self._ws.thread.join(timeout=PATIENCE)
        if self._ws.thread.is_alive():  # the server did not answer the close: cut it
            with contextlib.suppress(OSError):
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


@contextlib.contextmanager
def private_redis(port: int, folder: Path):
    """A Redis server of this test alone, working in ``folder``, so that it can be stopped and
    started again."""
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
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: answers(port), f"Redis on port {port}", timeout=10)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def answers(port: int) -> bool:
    """Whether a Redis server answers PING on ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False
