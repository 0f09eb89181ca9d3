"""Delivery latency, throughput and completeness of the room chat, the app against bare Socket.IO.

Not a test: it prints figures. Run it with ``make bench-chat`` or ``.venv/bin/python bench/chat.py``
(``--help`` for the load). The defaults give the table of issue 16 on SQLite: 100, 500, 1,000 and
2,000 members of one room connected at once, 20 messages a second in all, each size without and
with 50 forced disconnects, then 1,000 members at 4 messages a second. ``--database`` (a
PostgreSQL URL: the database is created if missing and then dropped) and ``--redis`` give the same
table on PostgreSQL and Redis, followed by 2,000 members spread over two processes behind nginx.

The servers run as in production: ``gunicorn -c deploy/gunicorn.conf.py``, one gevent worker,
monkey-patched, with the platform's own limits (the chat's rate limit too: the senders take turns,
so no one posts more than a message a second). The bare server is python-socketio alone under the
same gunicorn set-up, numbering and broadcasting messages in memory with the same join, send and
catch-up, without the database, presence or checks; it takes the same load in the same run, so
the ratio app/bare says what the platform itself costs whatever the machine.

The clients are a separate Node.js process, ``bench/chat-load.mjs``, with the official
``socket.io-client`` on WebSocket: one event loop holds thousands of sockets, and its CPU time is
printed beside the servers' so that it can be seen not to be the bottleneck. Each client
behaves as the room's page does (docs/chat.md) and records every message it receives; each
message body carries its id and send time. A run: the members connect and join, 100 at a time
("joined": how many, and when the last did); the room announces each arrival to everyone
(``online``), so the load waits until that wave has passed ("settle": 2 s without any event);
``--duration`` seconds of messages; then the drain, until every member holds every number or
nothing has arrived for ``--drain`` seconds. Latency is from send to each live receipt;
deliveries/s are live receipts a second; "lost" counts the numbers of the room a member still
lacks after the drain, live or caught up; "dup" a number received twice live or twice in catch-up
pages; "both" a number received once in a catch-up page and once live, which the protocol allows
while a client rejoins and its clients keep once (docs/chat.md). A forced disconnect destroys a
client's TCP socket without a close frame; socket.io-client reconnects and joins with ``after``
= the number up to which it holds everything, so what it missed comes back as catch-up. The
clients do not offer permessage-deflate (``--deflate`` to offer it, as browsers do): ws inflates
each frame on Node's small thread pool, and with it the clients, not the servers, set the pace
(at 500 members, 95% of the clients' event loop and p50 of half a second for the bare server).

Each app process first takes one lone connection (the cookie check below): on PostgreSQL, a
crowd arriving at a process that has not yet registered itself for presence exhausts the
database pool (each connect holds a connection while ``irooms.presence.process_id`` asks for one
more) and waits 30 s for it, connect after connect; ``--cold`` leaves that out to show it.

The members are real accounts of a real room, made in the server's database with the platform's
models. Their session cookies are minted rather than obtained through the login form: each
login checks an Argon2 hash on purpose slowly, and 2,000 of them would take the server's cores
for minutes before the first message. Minting does what the login view does after the password
check, ``start_session`` (a login session row, its key and Flask-Login's fields in the Flask
session), inside a request context of an app built on the same database, and signs the session
with the app's own serializer and the servers' SECRET_KEY; one cookie opens a page as its member
before the runs, or the benchmark stops.
"""

import argparse
import contextlib
import functools
import importlib.util
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

BIN = Path(sys.executable).parent
LOAD_SCRIPT = ROOT / "bench" / "chat-load.mjs"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
NGINX = "/usr/sbin/nginx"
#: the clients' browser, also in the minted sessions (Flask-Login compares it)
USER_AGENT = "chat-load (bench/chat.py)"
TICKS = os.sysconf("SC_CLK_TCK")
#: environment that would change how the servers serve or name their cookie
UNWANTED = ("PUBLIC_ORIGIN", "SECURE_COOKIES", "TRUSTED_PROXIES", "LEARNPLATFORM_ENV", "BIND")

# The baseline: python-socketio alone under the same gunicorn set-up, numbering the messages of
# each room in memory and broadcasting them, with the app's join (catch-up pages) and send.
BARE_CONFIG = """
from gevent import monkey

monkey.patch_all()

wsgi_app = "bare_chat:app"
worker_class = "gevent"
workers = 1
worker_connections = 5000
backlog = 4096
timeout = 30
errorlog = "-"
loglevel = "warning"
control_socket_disable = True
"""
BARE_SERVER = """
import socketio

sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")
app = socketio.WSGIApp(sio)
logs = {}


@sio.on("join")
def join(sid, data):
    room = data["room"]
    sio.enter_room(sid, room)
    log = logs.setdefault(room, [])
    seen = data.get("after")
    if isinstance(seen, int):
        pending = log[seen:]
        for start in range(0, len(pending), 100):
            sio.emit("messages", pending[start : start + 100], to=sid)
    return {"ok": True, "last": len(log)}


@sio.on("send")
def send(sid, data):
    log = logs.setdefault(data["room"], [])
    message = {"room": data["room"], "seq": len(log) + 1, "author": {"id": 0, "name": sid},
               "body": data["body"], "at": "", "edited": False, "removed": False}
    log.append(message)
    sio.emit("message", message, room=data["room"])
    return {"ok": True, "seq": message["seq"]}
"""


# The database: accounts, rooms and minted sessions.
@contextlib.contextmanager
def database(url: str | None, folder: Path):
    """The URL of the benchmark's database: a SQLite file in ``folder``, or the PostgreSQL
    database of ``url``, created if missing and then dropped."""
    if not url:
        yield f"sqlite:///{folder / 'bench.sqlite'}"
        return
    name = make_url(url).database
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as link:
        made = not link.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if made:
            link.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        if made:
            with psycopg.connect(
                admin.render_as_string(hide_password=False), autocommit=True
            ) as link:
                link.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Platform:
    """The platform's app on the benchmark's database, for what the servers will find there."""

    def __init__(self, url: str, secret_key: str) -> None:
        from learnplatform import create_app

        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": secret_key,
                "REDIS_URL": None,
                "RATELIMIT_STORAGE_URI": "memory://",
                "SOCKETIO_MESSAGE_QUEUE": None,
            }
        )
        self.cookie_name = self.app.config["SESSION_COOKIE_NAME"]
        self.user_ids: list[int] = []

    def migrate(self) -> None:
        from flask_migrate import upgrade

        from learnplatform.extensions import db

        with self.app.app_context():
            upgrade()
            db.engine.dispose()

    def add_members(self, count: int) -> None:
        """``count`` confirmed accounts sharing one password hash (Argon2 is slow on purpose)."""
        from learnplatform import choices
        from learnplatform.accounts.models import User
        from learnplatform.audit import utcnow
        from learnplatform.extensions import db
        from learnplatform.passwords import hash_password

        with self.app.app_context():
            hashed, now = hash_password(secrets.token_hex(16)), utcnow()
            db.session.execute(
                insert(User),
                [
                    {
                        "email": f"bench{number}@example.org",
                        "name": f"Bench member {number}",
                        "password_hash": hashed,
                        "country": "FR",
                        "agency_type": next(iter(choices.AGENCY_TYPES)),
                        "email_confirmed_at": now,
                    }
                    for number in range(count)
                ],
            )
            db.session.commit()
            self.user_ids = list(
                db.session.scalars(
                    select(User.id).where(User.email.like("bench%@example.org")).order_by(User.id)
                )
            )
            db.session.remove()

    def add_room(self, members: int) -> int:
        """A new room with the first ``members`` accounts as participants: its id. The id is
        random: Socket.IO's Redis channel is shared by every platform on the Redis server."""
        from irooms.models import Membership, Room
        from learnplatform import choices
        from learnplatform.extensions import db

        with self.app.app_context():
            room_id = random.randrange(10**6, 2**31 - 1)
            db.session.add(
                Room(
                    id=room_id,
                    name=f"Benchmark room of {members}",
                    language="en",
                    theme=next(iter(choices.THEMES)),
                )
            )
            db.session.flush()
            db.session.execute(
                insert(Membership),
                [{"room_id": room_id, "user_id": i} for i in self.user_ids[:members]],
            )
            db.session.commit()
            db.session.remove()
        return room_id

    def mint_cookies(self) -> list[str]:
        """A ``Cookie`` header per account, as the login view would have set it."""
        from flask import session

        from learnplatform.accounts.models import User
        from learnplatform.accounts.services import start_session
        from learnplatform.extensions import db

        serializer = self.app.session_interface.get_signing_serializer(self.app)
        cookies = []
        with self.app.app_context():
            for user in db.session.scalars(select(User).where(User.id.in_(self.user_ids))):
                with self.app.test_request_context(
                    "/login",
                    method="POST",
                    headers={"User-Agent": USER_AGENT},
                    environ_base={"REMOTE_ADDR": "127.0.0.1"},
                ):
                    start_session(user)
                    cookies.append(f"{self.cookie_name}={serializer.dumps(dict(session))}")
            db.session.commit()
            db.session.remove()
        return cookies


def opens_page_as_member(base_url: str, room_id: int, cookie: str, name: str) -> None:
    """Stop unless ``cookie`` opens the room's page as member ``name`` (and nothing does
    without it)."""

    def page(headers: dict) -> tuple[int, str]:
        request = urllib.request.Request(f"{base_url}/irooms/{room_id}", headers=headers)
        opener = urllib.request.build_opener(NoRedirects)
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    status, html = page({"Cookie": cookie, "User-Agent": USER_AGENT})
    anonymous, _ = page({"User-Agent": USER_AGENT})
    if status != 200 or name not in html or anonymous == 200:
        raise SystemExit(
            f"a minted cookie does not open /irooms/{room_id} as {name}: {status} "
            f"(without it: {anonymous})"
        )


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# Servers.
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn master with one gevent worker, its output in ``log``."""

    def __init__(self, name: str, port: int, command: list[str], env: dict, cwd: Path) -> None:
        self.name, self.port, self.log = name, port, env_folder(env) / f"{name}.log"
        command = [*command, "--bind", f"127.0.0.1:{port}"]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        self.log_read = 0

    def wait_until_up(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} stopped: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.name} did not start: {self.log.read_text()[-3000:]}")

    def worker(self) -> int | None:
        """The pid of the master's worker, the process that serves."""
        pid = self.process.pid
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            return int(children[0]) if children else None
        return None

    def cpu_seconds(self) -> float:
        """CPU time of the worker so far (user and system)."""
        pid = self.worker()
        if pid is None:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def new_complaints(self) -> list[str]:
        """The log's lines since the last call that say something went wrong."""
        text = self.log.read_text(errors="replace")
        fresh, self.log_read = text[self.log_read :], len(text)
        return [
            line
            for line in fresh.splitlines()
            if re.search(r"error|exception|traceback|warning|critical|timed out", line, re.I)
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def env_folder(env: dict) -> Path:
    """The benchmark's working folder, where the servers' logs go."""
    return Path(env["STORAGE_DIR"]).parent


def start_app(name: str, env: dict, port: int | None = None) -> Server:
    command = [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONFIG)]
    return Server(name, port or free_port(), command, env, ROOT)


def start_bare(env: dict) -> Server:
    folder = env_folder(env)
    (folder / "bare_chat.py").write_text(BARE_SERVER)
    (folder / "bare.conf.py").write_text(BARE_CONFIG)
    command = [str(BIN / "gunicorn"), "-c", str(folder / "bare.conf.py"), "--chdir", str(folder)]
    return Server("bare", free_port(), command, env, folder)


def nginx_site(ports: list[int], port: int, folder: Path) -> tuple[Path, str, str | None]:
    """An nginx before the processes on ``ports``, listening on ``port``: (its configuration,
    its origin, the certificate to trust).

    The production site as deploy/stack.py renders it (HTTPS, sticky routing), with this
    benchmark's ports and folders; if that module is not there, a minimal site of its own
    (plain HTTP, a consistent hash on the session cookie), enough with WebSocket-only clients.
    """
    folder.mkdir(exist_ok=True)
    try:
        stack = _deploy_stack()
        certificate, key = stack.self_signed_certificate(folder)
        replacements = {
            "listen 80;": f"listen 127.0.0.1:{free_port()};",
            "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
            "/etc/ssl/learnplatform/fullchain.pem": str(certificate),
            "/etc/ssl/learnplatform/privkey.pem": str(key),
            "/srv/learnplatform/static/": f"{ROOT / 'static'}/",
            "/srv/learnplatform/instance/storage/": f"{folder / 'storage'}/",
            **stack.upstream_servers(ports),
        }
        configuration = stack.nginx_configuration(folder, stack.site(replacements), 8192)
        return configuration, f"https://localhost:{port}", str(certificate)
    except (ImportError, AttributeError, ValueError) as error:
        print(f"  (deploy/stack.py not usable: {error}; nginx with the benchmark's own site)")
        return _own_nginx_configuration(ports, port, folder), f"http://127.0.0.1:{port}", None


@contextlib.contextmanager
def nginx(configuration: Path, port: int):
    """Debian's nginx with ``configuration``, until the block ends."""
    folder = configuration.parent
    process = subprocess.Popen(
        [NGINX, "-p", f"{folder}/", "-c", str(configuration), "-e", str(folder / "error.log"),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"nginx did not start: {(folder / 'error.log').read_text()}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _deploy_stack():
    spec = importlib.util.spec_from_file_location("deploy_stack", ROOT / "deploy" / "stack.py")
    if spec is None or not spec.origin or not Path(spec.origin).exists():
        raise ImportError("no deploy/stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _own_nginx_configuration(ports: list[int], port: int, folder: Path) -> Path:
    servers = "".join(f"        server 127.0.0.1:{p};\n" for p in ports)
    user = "user root;\n" if os.geteuid() == 0 else ""
    configuration = folder / "nginx.conf"
    configuration.write_text(
        f"{user}pid {folder}/nginx.pid;\nworker_rlimit_nofile 20000;\n"
        "events { worker_connections 8192; }\n"
        f"http {{\n    access_log off;\n    client_body_temp_path {folder}/body;\n"
        f"    proxy_temp_path {folder}/proxy;\n"
        f"    upstream platform {{\n        hash $cookie_session consistent;\n{servers}    }}\n"
        f"    server {{\n        listen 127.0.0.1:{port};\n        location / {{\n"
        "            proxy_pass http://platform;\n            proxy_http_version 1.1;\n"
        "            proxy_set_header Host $http_host;\n"
        "            proxy_set_header Upgrade $http_upgrade;\n"
        '            proxy_set_header Connection "upgrade";\n'
        "            proxy_read_timeout 90s;\n            proxy_buffering off;\n"
        "        }\n    }\n}\n"
    )
    return configuration


# One run.
def load(url: str, room: int, cookies: list[str], options, rate: float, disconnects: int,
         ca: str | None = None, origin: str | None = None,
         duration: float | None = None) -> dict:  # fmt: skip
    """The clients of chat-load.mjs against ``url`` (pages of ``origin``, ``url`` unless said):
    their results, with their CPU time as the operating system counted it."""
    settings = {
        "url": url,
        "origin": origin or url,
        "ca": ca,
        "room": room,
        "cookies": cookies,
        "userAgent": USER_AGENT,
        "rate": rate,
        "duration": options.duration if duration is None else duration,
        "drain": options.drain,
        "drainMax": options.drain_max,
        "settleMax": options.settle_max,
        "deflate": getattr(options, "deflate", False),
        "disconnects": disconnects,
        "connectConcurrency": options.connect_concurrency,
        "joinTimeout": options.join_timeout,
        "ackTimeout": 30,
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    finished = subprocess.run(
        [shutil.which("node") or "node", str(LOAD_SCRIPT)],
        input=json.dumps(settings),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=options.join_timeout * 3 + options.settle_max + options.drain_max + 600,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode:
        raise SystemExit(f"chat-load.mjs failed:\n{finished.stderr[-3000:]}")
    result = json.loads(finished.stdout.splitlines()[-1])
    result["load_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def behind_nginx(clients: int, label: str, platform, cookies, env, options, servers) -> dict:
    """The row of ``clients`` members spread by nginx over two app processes."""
    ports, port = [free_port(), free_port()], free_port()
    configuration, origin, ca = nginx_site(ports, port, env_folder(env) / "nginx")
    # As in production: the origin is nginx's, which says who connected (X-Forwarded-For).
    env = {**env, "PUBLIC_ORIGIN": origin, "TRUSTED_PROXIES": "1"}
    pair = [start_app(f"app-{name}", env, p) for name, p in zip("ab", ports, strict=True)]
    servers += pair
    room = platform.add_room(clients)
    for server in pair:
        server.wait_until_up("/healthz")
        if not options.cold:
            first_connection(server, room, cookies[0], origin)
    with nginx(configuration, port):
        result = measured(
            pair, lambda: load(origin, room, cookies[:clients], options, options.rate, 0, ca)
        )
    return {
        "clients": clients,
        "database": label + " 2 proc",
        "rate": options.rate,
        "disconnects": 0,
        "app": result,
    }


def first_connection(server: "Server", room: int, cookie: str, origin: str | None = None) -> None:
    """One member connects and joins alone before the crowd, so that the process registers
    itself for presence (irooms.presence.process_id) on a quiet pool: see ``--cold``."""
    options = argparse.Namespace(
        duration=0, drain=5, drain_max=5, settle_max=0, connect_concurrency=1, join_timeout=60
    )
    url = f"http://127.0.0.1:{server.port}"
    result = load(url, room, [cookie], options, 1, 0, origin=origin, duration=0)
    if result["joined"] != 1:
        raise SystemExit(f"a minted cookie could not join on {server.name}: {result}")


def measured(servers: list[Server], run) -> dict:
    """``run()``'s result, with the servers' CPU time during it and what their logs said."""
    for server in servers:
        server.new_complaints()
    cpu = sum(server.cpu_seconds() for server in servers)
    result = run()
    result["server_cpu_s"] = sum(server.cpu_seconds() for server in servers) - cpu
    result["complaints"] = [line for server in servers for line in server.new_complaints()]
    result["load_average"] = os.getloadavg()
    return result


# Output.
def ms(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def ratio(app, bare) -> str:
    return "-" if app is None or not bare else f"x{app / bare:.1f}"


def print_table(rows: list[dict]) -> None:
    print(
        f"{'clients':>7} {'database':<22}{'rate':>5}{'cuts':>6}{'joined':>13}{'p50':>7}{'p99':>7}"
        f"{'deliv/s':>9}{'lost':>7}{'dup':>5}{'both':>6}{'ackfail':>8}"
        f"{'bare p50/p99':>14}{'ratio p50/p99':>15}"
    )
    for row in rows:
        app, bare = row["app"], row.get("bare") or {}
        join = f"{app['joined']} {app['join_seconds'] or 0:.0f}s"
        cuts = f"{app['cuts']}/{app['reconnected']}"
        print(
            f"{row['clients']:>7} {row['database']:<22}{row['rate']:>5g}"
            f"{cuts:>6}{join:>13}{ms(app['p50_ms']):>7}"
            f"{ms(app['p99_ms']):>7}{app['deliveries_per_s']:>9.0f}{app['lost']:>7}"
            f"{app['duplicated']:>5}{app['both']:>6}{sum(app['ack_failures'].values()):>8}"
            f"{ms(bare.get('p50_ms')) + '/' + ms(bare.get('p99_ms')):>14}"
            f"{ratio(app['p50_ms'], bare.get('p50_ms')) + '/' + ratio(app['p99_ms'], bare.get('p99_ms')):>15}"  # noqa: E501
        )
    print()
    print(
        f"{'clients':>7} {'database':<22}{'rate':>5}{'cuts':>5}  {'server':<6}{'sent':>6}"
        f"{'last':>6}{'joined':>13}{'settle':>7}{'lost':>7}{'rejoin r/s/g':>14}"
        f"{'CPU srv':>9}{'CPU load':>9}{'load busy':>10}  load avg"
    )
    for row in rows:
        for server in ("app", "bare"):
            result = row.get(server)
            if not result:
                continue
            join = f"{result['joined']} {result['join_seconds'] or 0:.0f}s"
            rejoins = "{reconnect}/{resync}/{gap}".format(**result["rejoins"])
            print(
                f"{row['clients']:>7} {row['database']:<22}{row['rate']:>5g}"
                f"{result['cuts']:>5}  {server:<6}{result['sent']:>6}{result['last']:>6}"
                f"{join:>13}{result['settle_seconds']:>6.0f}s{result['lost']:>7}{rejoins:>14}"
                f"{result['server_cpu_s']:>8.1f}s{result['load_cpu_s']:>8.1f}s"
                f"{result['loop_utilisation_load']:>9.0%}"
                f"  {' '.join(f'{x:.2f}' for x in result['load_average'])}"
            )
    for row in rows:
        for server in ("app", "bare"):
            result = row.get(server) or {}
            notes = []
            if result.get("join_failures"):
                notes.append(f"join failures {result['join_failures']}")
            if result.get("ack_failures"):
                notes.append(f"sends not acknowledged {result['ack_failures']}")
            if result.get("lost"):
                notes.append(f"{result['lost']} lost at {result['lost_clients']} clients")
            if result.get("complaints"):
                distinct = list(
                    dict.fromkeys(re.sub(r"^\S+ \S+ ", "", c) for c in result["complaints"])
                )
                notes.append(
                    f"{len(result['complaints'])} log lines of trouble, e.g. "
                    + " | ".join(line[:300] for line in distinct[:3])
                )
            if notes:
                print(f"{server} {row['clients']} {row['database']} {row['rate']:g}/s "
                      f"{row['disconnects']} cuts: " + "; ".join(notes))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients", default="100,500,1000,2000", help="room sizes, comma-separated"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="messages a second in all")
    parser.add_argument(
        "--disconnects", default="0,50", help="forced disconnects per run, e.g. 0,50"
    )
    parser.add_argument("--slow", default="1000@4", help="one more run, CLIENTS@RATE ('' for none)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of messages per run")
    parser.add_argument(
        "--drain",
        type=float,
        default=10.0,
        help="after the load, seconds without news before what is missing counts as lost",
    )
    parser.add_argument("--drain-max", type=float, default=180.0, help="longest drain in seconds")
    parser.add_argument(
        "--settle-max",
        type=float,
        default=300.0,
        help="longest wait, after the joins, for their announcements to quiet down",
    )
    parser.add_argument("--database", help="a PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--redis", help="a Redis URL for the app's message queue and limits")
    parser.add_argument(
        "--two-processes", type=int, default=2000, help="clients of the run behind nginx (0: none)"
    )
    parser.add_argument("--no-bare", action="store_true", help="skip the bare server")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--join-timeout", type=float, default=60.0)
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="clients offer permessage-deflate, as browsers do (then they are the bottleneck)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no lone first connection: the crowd meets each process before it has registered",
    )
    parser.add_argument("--logs", help="keep the servers' logs in this folder")
    options = parser.parse_args()
    counts = [int(n) for n in options.clients.split(",") if n.strip()]
    cuts = [int(n) for n in options.disconnects.split(",") if n.strip()]
    plan = [(n, options.rate, c) for n in counts for c in cuts]
    if options.slow:
        slow_clients, slow_rate = options.slow.split("@")
        plan.append((int(slow_clients), float(slow_rate), 0))
    two = options.two_processes if options.redis else 0
    most = max([n for n, _, _ in plan] + [two])
    label = "PostgreSQL+Redis" if options.database else "SQLite"
    if options.redis and not options.database:
        label = "SQLite+Redis"
    # Stopped from outside, the servers and the database go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for name in UNWANTED:
        os.environ.pop(name, None)
    os.environ.pop("REDIS_URL", None)
    secret_key = secrets.token_hex(32)
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} cores shared by servers, clients and whatever else runs")  # fmt: skip
    rows: list[dict] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-chat-") as folder,
        database(options.database, Path(folder)) as url,
    ):
        workdir = Path(folder)
        platform = Platform(url, secret_key)
        platform.migrate()
        started = time.monotonic()
        platform.add_members(most)
        cookies = platform.mint_cookies()
        print(f"{len(cookies)} members made and their sessions minted in "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": secret_key,
            "STORAGE_DIR": str(workdir / "storage"),
            "RATELIMIT_KEY_PREFIX": f"bench-chat-{secrets.token_hex(4)}",
            "LOG_LEVEL": "warning",
        }
        if options.redis:
            env["REDIS_URL"] = options.redis
        servers: list[Server] = []
        try:
            app = start_app("app", env)
            servers.append(app)
            bare = None if options.no_bare else start_bare(env)
            servers += [bare] if bare else []
            app.wait_until_up("/healthz")
            if bare:
                bare.wait_until_up("/socket.io/?EIO=4&transport=polling")
            check_room = platform.add_room(1)
            opens_page_as_member(
                f"http://127.0.0.1:{app.port}", check_room, cookies[0], "Bench member 0"
            )
            print("a minted cookie opens the room's page as its member")
            if not options.cold:
                first_connection(app, check_room, cookies[0])
                print("a minted cookie connects and joins the room's chat")
            for n, rate, disconnects in plan:
                row = {"clients": n, "database": label, "rate": rate, "disconnects": disconnects}
                room = platform.add_room(n)
                for name, server in (("app", app), ("bare", bare)):
                    if server is None:
                        continue
                    origin = f"http://127.0.0.1:{server.port}"
                    row[name] = result = measured(
                        [server],
                        functools.partial(
                            load, origin, room, cookies[:n], options, rate, disconnects
                        ),
                    )
                    print(
                        f"  {name} {n} clients {rate:g}/s {disconnects} cuts: "
                        f"{result['joined']} joined in {result['join_seconds'] or 0:.0f} s, "
                        f"p50 {ms(result['p50_ms'])} p99 {ms(result['p99_ms'])} ms, "
                        f"lost {result['lost']}, dup {result['duplicated']}",
                        flush=True,
                    )
                rows.append(row)
            if two:
                for server in servers:
                    server.stop()
                rows.append(behind_nginx(two, label, platform, cookies, env, options, servers))
        finally:
            for server in servers:
                server.stop()
            if options.logs:
                Path(options.logs).mkdir(parents=True, exist_ok=True)
                for log in workdir.glob("*.log"):
                    shutil.copy(log, Path(options.logs) / log.name)
            with contextlib.suppress(Exception):
                from learnplatform.extensions import db

                with platform.app.app_context():
                    db.engine.dispose()
    print()
    print_table(rows)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
