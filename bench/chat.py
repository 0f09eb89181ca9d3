"""Delivery latency, throughput and completeness of the room chat, the app against bare Socket.IO.

Not a test: it prints figures. Run it with ``make bench-chat`` or ``.venv/bin/python bench/chat.py``
(``--clients 100,500``, ``--rate``, ``--duration``, ``--disconnects`` change the load). N member
accounts of one room log in over HTTP and connect by WebSocket; a few of them post ``--rate``
messages a second in all, each carrying its send time, and every client records each ``message``
it receives: latency from send to receipt over all receivers, deliveries a second, and, against
the room's numbering, messages lost or received twice by a receiver (both must be 0): "dup"
counts a number that came twice live or twice in catch-up pages. With ``--disconnects``, random
clients are cut off and come back during the run, joining with ``after`` = the highest number
they saw, as the page does: at the end each must hold every number. "both" counts the numbers
stored while a client was rejoining, which reach it in its catch-up page and live; the
protocol's clients keep one per number (docs/chat.md), as the page does. The app runs under
gunicorn (one gthread worker, as in production) on SQLite, with the chat's rate limit raised
(CHAT_RATE, CHAT_BURST) so that the senders are not refused; a bare python-socketio server that
only numbers and broadcasts, under the same gunicorn, takes the same load in the same run, so the
ratio says what the app itself costs whatever the machine. Clients
and servers share the machine's cores: with many clients the figures say as much about the
clients as about the server.

The clients speak Engine.IO 4 / Socket.IO 5 over simple-websocket (a dependency of the server),
as python-socketio's own client would need websocket-client or requests, which the project does
not install.
"""

import argparse
import contextlib
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import simple_websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # bench/ is not a package: imported from its folder

ROOT = pages.ROOT
BIN = pages.BIN
#: the chat's rate limit per account while the benchmark runs
CHAT_RATE = "1000"
CHAT_BURST = "1000"
PASSWORD = "benchmark password 1"  # noqa: S105 - of throwaway accounts in a temporary database
#: a join with this ``after`` gets no catch-up, only the acknowledgement with the newest number
NOTHING = 2**31 - 1
BATCH = 50

# Run inside the app with the benchmark's environment: N confirmed accounts sharing one password
# hash (Argon2 is slow on purpose), one room with all of them as members; prints the room's id.
SETUP_SNIPPET = """
import sys

from sqlalchemy import insert, select

from irooms.models import Membership, Room
from learnplatform import choices
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.passwords import hash_password
from wsgi import app

count, password = int(sys.argv[1]), sys.argv[2]
with app.app_context():
    hashed = hash_password(password)
    now = utcnow()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"bench{i}@example.org",
                "name": f"Bench member {i}",
                "password_hash": hashed,
                "country": "FR",
                "agency_type": next(iter(choices.AGENCY_TYPES)),
                "email_confirmed_at": now,
            }
            for i in range(count)
        ],
    )
    room = Room(name="Benchmark room", language="en", theme=next(iter(choices.THEMES)))
    db.session.add(room)
    db.session.flush()
    ids = db.session.scalars(select(User.id).where(User.email.like("bench%@example.org"))).all()
    db.session.execute(insert(Membership), [{"room_id": room.id, "user_id": i} for i in ids])
    db.session.commit()
    print(room.id)
"""

# The baseline: python-socketio alone, numbering messages in memory and broadcasting them, with
# the app's protocol (join with catch-up pages, send acknowledged with the number).
BARE_SERVER = """
import threading

import socketio

sio = socketio.Server(async_mode="threading", cors_allowed_origins="*")
app = socketio.WSGIApp(sio)
lock = threading.Lock()
log = []


@sio.on("join")
def join(sid, data):
    sio.enter_room(sid, "room")
    seen = data.get("after")
    if isinstance(seen, int):
        with lock:
            pending = log[seen:]
        for start in range(0, len(pending), 100):
            sio.emit("messages", pending[start : start + 100], to=sid)
    return {"ok": True, "last": len(log)}


@sio.on("send")
def send(sid, data):
    with lock:
        message = {"room": data["room"], "seq": len(log) + 1, "author": {"id": 0, "name": sid},
                   "body": data["body"], "at": "", "edited": False, "removed": False}
        log.append(message)
    sio.emit("message", message, room="room")
    return {"ok": True, "seq": message["seq"]}
"""


class DaemonThread(threading.Thread):
    """simple-websocket's reader threads, which must never keep the benchmark alive."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, daemon=True, **kwargs)


class WebSocket(simple_websocket.Client):
    """simple-websocket's client, reading at once a frame that came with the handshake's answer:
    the library leaves it unread until more data arrives (the server's ping, 25 s later), which
    looked like handshakes in a crowd never getting the Engine.IO opening."""

    def handshake(self):
        super().handshake()
        self._handle_events()


class ChatClient:
    """A minimal Socket.IO client over WebSocket that records what the room sends it."""

    def __init__(self, url: str, cookie: str, room: int) -> None:
        self.url = url
        self.cookie = cookie
        self.room = room
        self.ws = None
        self.acks: dict[int, object] = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.seqs: Counter = Counter()  # every number received, live or caught up
        self.live: Counter = Counter()
        self.caught_up: Counter = Counter()
        self.latencies: list[float] = []
        self.last_receipt = 0.0
        self.max_seq = 0
        # every number up to this one has arrived: where a rejoin starts, as on the page
        self.complete = 0
        self.connected = False

    def connect(self, timeout: float = 20.0) -> None:
        headers = {"Origin": self.url}
        if self.cookie:
            headers["Cookie"] = self.cookie
        ws = WebSocket.connect(
            self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
            headers=headers,
            thread_class=DaemonThread,
        )
        try:
            opening = ws.receive(timeout)
            if not opening or not opening.startswith("0"):
                raise ConnectionError(f"no Engine.IO opening: {opening!r}")
            ws.send("40")
            answer = ws.receive(timeout)
            if not answer or not answer.startswith("40"):
                raise ConnectionError(f"Socket.IO connection refused: {answer!r}")
        except BaseException:
            ws.close()
            raise
        self.ws = ws
        self.connected = True
        threading.Thread(target=self._read, args=(ws,), daemon=True).start()

    def close(self) -> None:
        self.connected = False
        if self.ws is not None:
            with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
                self.ws.close()

    def emit(self, event: str, data, callback=None) -> None:
        ack = ""
        if callback is not None:
            number = next(self.ids)
            self.acks[number] = callback
            ack = str(number)
        self.ws.send(f"42{ack}" + json.dumps([event, data]))

    def call(self, event: str, data, timeout: float = 30.0):
        done = threading.Event()
        answer = []

        def received(value):
            answer.append(value)
            done.set()

        self.emit(event, data, received)
        if not done.wait(timeout):
            raise TimeoutError(f"no acknowledgement of {event}")
        return answer[0]

    def _read(self, ws) -> None:
        while True:
            try:
                packet = ws.receive()
            except simple_websocket.ConnectionClosed:
                break
            if packet is None or not isinstance(packet, str):
                continue
            if packet == "2":
                try:
                    ws.send("3")
                except simple_websocket.ConnectionClosed:
                    break
            elif packet.startswith("42"):
                self._event(packet)
            elif packet.startswith("43"):
                start = packet.index("[")
                callback = self.acks.pop(int(packet[2:start]), None)
                if callback is not None:
                    values = json.loads(packet[start:])
                    callback(values[0] if values else None)
            elif packet.startswith("41") or packet.startswith("1"):
                break
        if ws is self.ws:
            self.connected = False

    def _event(self, packet: str) -> None:
        if packet.startswith(('42["presence"', '42["online"', '42["offline"')):  # not measured
            return
        now = time.perf_counter()
        name, data = json.loads(packet[packet.index("[") :])[:2]
        with self.lock:
            if name == "message":
                self.seqs[data["seq"]] += 1
                self.live[data["seq"]] += 1
                body = data["body"]
                if body.startswith("bench "):
                    self.latencies.append(now - float(body.split()[1]))
                self.last_receipt = now
                self.max_seq = max(self.max_seq, data["seq"])
            elif name == "messages":
                for message in data:
                    self.seqs[message["seq"]] += 1
                    self.caught_up[message["seq"]] += 1
                    self.max_seq = max(self.max_seq, message["seq"])
            self._advance()

    def _advance(self) -> None:
        while self.seqs[self.complete + 1]:
            self.complete += 1

    def join(self, after: int, timeout: float = 30.0) -> int:
        answer = self.call("join", {"room": self.room, "after": after}, timeout)
        if not answer or not answer.get("ok"):
            raise ConnectionError(f"join refused: {answer!r}")
        with self.lock:
            if after != NOTHING:  # what came before the answer is all here
                self.complete = max(self.complete, answer["last"])
                self._advance()
        return answer["last"]


# Servers.
def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def stop(server: subprocess.Popen | None) -> None:
    if server is None or server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def start_bare(workdir: str, port: int, threads: int, env: dict) -> subprocess.Popen:
    Path(workdir, "bare_chat.py").write_text(BARE_SERVER)
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--chdir",
            workdir,
            "bare_chat:app",
        ],
        cwd=workdir,
        env=env,
    )


# One run.
def in_batches(function, items, timeout: float, batch: int = BATCH) -> list:
    """``function`` over ``items``, ``batch`` at a time; each result is a value or the exception."""
    results = []
    with ThreadPoolExecutor(batch) as pool:
        for start in range(0, len(items), batch):
            futures = [pool.submit(function, item) for item in items[start : start + batch]]
            for future in futures:
                try:
                    results.append(future.result(timeout=timeout))
                except Exception as error:  # counted and shown, never fatal
                    results.append(error)
    return results


def run(url: str, room: int, cookies: list[str], options, disconnects: bool) -> dict:
    clients = [ChatClient(url, cookie, room) for cookie in cookies]
    started = time.monotonic()

    def connect_and_join(client: ChatClient) -> int:
        # A handshake that still gets no Engine.IO opening is tried again, as a page would.
        for attempt in range(3):
            try:
                client.connect(timeout=10)
                break
            except ConnectionError:
                client.close()
                if attempt == 2:
                    raise
        return client.join(NOTHING)

    outcomes = in_batches(connect_and_join, clients, 60)
    joined = [c for c, o in zip(clients, outcomes, strict=True) if isinstance(o, int)]
    failures = Counter(str(o)[:60] or type(o).__name__ for o in outcomes if not isinstance(o, int))
    setup_seconds = time.monotonic() - started
    result = {
        "clients": len(clients),
        "joined": len(joined),
        "failures": dict(failures),
        "setup_s": setup_seconds,
    }
    if not joined:
        return result
    start_seq = max(o for o in outcomes if isinstance(o, int))
    for client in joined:
        client.max_seq = client.complete = start_seq
    senders = joined[: max(1, min(options.senders, len(joined)))]
    others = [c for c in joined if c not in senders]
    acks = {"ok": 0, "refused": Counter(), "seqs": set(), "ack_latency": [], "sent": 0}
    ack_lock = threading.Lock()
    stop_at = time.monotonic() + options.duration
    stop_event = threading.Event()
    chaos = {"cuts": 0, "back": 0, "failed": 0}
    reconnections: list[threading.Thread] = []

    def sender(index: int, client: ChatClient) -> None:
        interval = len(senders) / options.rate
        next_at = time.monotonic() + index * interval / len(senders)
        for number in itertools.count():
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if time.monotonic() >= stop_at:
                return
            sent_at = time.perf_counter()

            def acknowledged(answer, sent_at=sent_at):
                with ack_lock:
                    if answer and answer.get("ok"):
                        acks["ok"] += 1
                        acks["seqs"].add(answer["seq"])
                        acks["ack_latency"].append(time.perf_counter() - sent_at)
                    else:
                        acks["refused"][(answer or {}).get("error", "none")] += 1

            try:
                client.emit(
                    "send",
                    {
                        "room": room,
                        "client_id": f"{index}-{number}-{sent_at}"[:64],
                        "body": f"bench {sent_at:.6f}",
                    },
                    acknowledged,
                )
                with ack_lock:
                    acks["sent"] += 1
            except simple_websocket.ConnectionClosed:
                with ack_lock:
                    acks["refused"]["closed"] += 1
            next_at += interval

    def come_back(client: ChatClient) -> None:
        time.sleep(random.uniform(0.2, 2.0))
        for _attempt in range(3):
            try:
                client.connect()
                client.join(client.complete)
                chaos["back"] += 1
                return
            except Exception:  # tried again, then counted
                client.close()
                time.sleep(1)
        chaos["failed"] += 1

    def cut_off() -> None:
        while not stop_event.wait(1 / options.disconnect_rate):
            candidates = [c for c in others if c.connected]
            if not candidates:
                continue
            client = random.choice(candidates)
            client.close()
            chaos["cuts"] += 1
            thread = threading.Thread(target=come_back, args=(client,), daemon=True)
            reconnections.append(thread)
            thread.start()

    threads = [
        threading.Thread(target=sender, args=(i, c), daemon=True) for i, c in enumerate(senders)
    ]
    if disconnects and others:
        threads.append(threading.Thread(target=cut_off, daemon=True))
    load_started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads[: len(senders)]:
        thread.join(options.duration + 30)
    stop_event.set()
    for thread in threads[len(senders) :] + reconnections:
        thread.join(30)
    # Drain: until every acknowledgement is in and every client has the newest number.
    deadline = time.monotonic() + options.drain
    while time.monotonic() < deadline:
        with ack_lock:
            pending = acks["sent"] - acks["ok"] - sum(acks["refused"].values())
        newest = max(acks["seqs"], default=start_seq)
        if pending <= 0 and all(c.max_seq >= newest for c in joined if c.connected):
            break
        time.sleep(0.1)
    try:
        last = (
            senders[0].join(NOTHING)
            if senders[0].connected
            else max(acks["seqs"], default=start_seq)
        )
    except Exception:  # the acknowledged numbers stand in
        last = max(acks["seqs"], default=start_seq)
    expected = set(range(start_seq + 1, last + 1))
    holders = [c for c in joined if c.connected]
    lost = duplicated = overlap = 0
    latencies: list[float] = []
    deliveries = 0
    last_receipt = load_started
    for client in holders:
        with client.lock:
            held = {seq for seq in client.seqs if seq > start_seq}
            lost += len(expected - held)
            # Twice in the live stream, or twice in catch-up pages: the server repeating itself.
            duplicated += sum(
                max(client.live[seq] - 1, 0) + max(client.caught_up[seq] - 1, 0)
                for seq in client.seqs
                if seq > start_seq
            )
            # Once in a catch-up page and once live: stored while the client rejoined; the
            # protocol's clients keep one per number (docs/chat.md).
            overlap += sum(
                1
                for seq in client.seqs
                if seq > start_seq and client.live[seq] and client.caught_up[seq]
            )
            latencies.extend(client.latencies)
            deliveries += sum(n for seq, n in client.live.items() if seq > start_seq)
            last_receipt = max(last_receipt, client.last_receipt)
    in_batches(ChatClient.close, clients, 30)
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    window = max(last_receipt - load_started, options.duration)
    result.update(
        {
            "messages": len(expected),
            "acked": acks["ok"],
            "refused": dict(acks["refused"]),
            "msgs_per_s": len(expected) / options.duration,
            "deliveries": deliveries,
            "deliveries_per_s": deliveries / window,
            "p50": quantiles[49] * 1000,
            "p99": quantiles[98] * 1000,
            "ack_p50": statistics.median(acks["ack_latency"]) * 1000 if acks["ack_latency"] else 0,
            "lost": lost,
            "duplicated": duplicated,
            "overlap": overlap,
            "holders": len(holders),
            **chaos,
        }
    )
    return result


def print_table(results: list[tuple[str, int, str, dict]]) -> None:
    print(
        f"{'server':<6}{'N':>5}{'variant':>12}{'joined':>8}{'msgs':>6}{'msg/s':>7}"
        f"{'deliv/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ack p50':>9}{'lost':>6}{'dup':>5}"
        f"{'both':>6}{'cut/back':>10}"
    )
    for server, n, variant, row in results:
        if "p50" not in row:
            print(f"{server:<6}{n:>5}{variant:>12}{row['joined']:>8}  no client joined")
            continue
        print(
            f"{server:<6}{n:>5}{variant:>12}{row['joined']:>8}{row['messages']:>6}"
            f"{row['msgs_per_s']:>7.1f}{row['deliveries_per_s']:>9.0f}{row['p50']:>9.1f}"
            f"{row['p99']:>9.1f}{row['ack_p50']:>9.1f}{row['lost']:>6}{row['duplicated']:>5}"
            f"{row['overlap']:>6}{row['cuts']:>5}/{row['back']:<4}"
        )
    for server, n, variant, row in results:
        notes = []
        if row["failures"]:
            notes.append(f"failed to join: {row['failures']}")
        if row.get("refused"):
            notes.append(f"sends refused: {row['refused']}")
        if row.get("failed"):
            notes.append(f"{row['failed']} clients did not come back")
        if row.get("holders", row["joined"]) < row["joined"]:
            notes.append(f"{row['joined'] - row['holders']} clients not connected at the end")
        if notes:
            print(f"{server} N={n} {variant}: " + "; ".join(notes))
    by_key = {(server, n, variant): row for server, n, variant, row in results}
    for (server, n, variant), row in by_key.items():
        bare = by_key.get(("bare", n, variant))
        if server != "app" or not bare or "p50" not in row or "p50" not in bare:
            continue
        print(
            f"app/bare N={n} {variant}: p50 latency x{row['p50'] / max(bare['p50'], 1e-9):.2f}, "
            f"deliveries/s x{row['deliveries_per_s'] / max(bare['deliveries_per_s'], 1e-9):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,500", help="numbers of clients, comma-separated")
    parser.add_argument("--rate", type=float, default=20.0, help="messages a second in all")
    parser.add_argument("--senders", type=int, default=4, help="clients that post")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per run")
    parser.add_argument("--drain", type=float, default=20.0, help="seconds to wait for stragglers")
    parser.add_argument(
        "--disconnects", action="store_true", help="also run with random forced disconnects"
    )
    parser.add_argument(
        "--disconnect-rate", type=float, default=5.0, help="forced disconnects a second"
    )
    parser.add_argument("--timeout", type=float, default=1200.0, help="overall limit in seconds")
    options = parser.parse_args()
    counts = [int(n) for n in options.clients.split(",") if n.strip()]
    most = max(counts)
    threads = most + 100  # one per WebSocket for its whole life, and some for HTTP
    servers: list[subprocess.Popen] = []

    def give_up() -> None:
        print(f"overall timeout of {options.timeout:.0f} s reached: stopping", flush=True)
        for server in servers:
            server.kill()
        os._exit(3)

    watchdog = threading.Timer(options.timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite",
            "SECRET_KEY": "benchmark secret key",
            "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
            "CHAT_RATE": CHAT_RATE,
            "CHAT_BURST": CHAT_BURST,
            # a connection for each of many joins at once, instead of waiting for one of 15
            "DATABASE_POOL_SIZE": os.environ.get("DATABASE_POOL_SIZE", "100"),
            "GUNICORN_CMD_ARGS": "--worker-connections 10000 --timeout 120 --graceful-timeout 5",
        }
        env.pop("REDIS_URL", None)
        env.pop("PUBLIC_ORIGIN", None)
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        made = subprocess.run(
            [str(BIN / "python"), "-c", SETUP_SNIPPET, str(most), PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        room = int(made.stdout.split()[-1])
        app_port, bare_port = pages.free_port(), pages.free_port()
        try:
            # The origin the clients send: simple-websocket's handshake leaves the port out of Host.
            app_env = {**env, "PUBLIC_ORIGIN": f"http://127.0.0.1:{app_port}"}
            app = pages.start_gunicorn(
                app_env, app_port, argparse.Namespace(workers=1, threads=threads)
            )
            servers.append(app)
            bare = start_bare(workdir, bare_port, threads, env)
            servers.append(bare)
            pages.wait_until_up(app_port)
            wait_for_port(bare_port, bare)
            started = time.monotonic()
            # A few at a time: each login checks an Argon2 hash, which takes the server's cores.
            logins = in_batches(
                lambda i: pages.log_in(app_port, f"bench{i}@example.org", PASSWORD),
                list(range(most)),
                120,
                batch=2 * (os.cpu_count() or 1),
            )
            cookies = [c for c in logins if isinstance(c, str)]
            print(
                f"gunicorn: 1 worker x {threads} threads (gthread), app on SQLite "
                f"({'given DATABASE_URL' if os.environ.get('DATABASE_URL') else 'WAL'}) with "
                f"CHAT_RATE={CHAT_RATE} CHAT_BURST={CHAT_BURST} (raised from 5/s, burst 10); "
                f"{os.cpu_count()} cores shared with the clients"
            )
            print(
                f"clients: WebSocket (Engine.IO 4 over simple-websocket); {len(cookies)}/{most} "
                f"logged in over HTTP in {time.monotonic() - started:.0f} s; {options.senders} "
                f"senders, {options.rate:g} messages/s in all, {options.duration:g} s per run"
                + (
                    f", {options.disconnect_rate:g} forced disconnects/s"
                    if options.disconnects
                    else ""
                )
            )
            variants = [("steady", False)] + (
                [("disconnects", True)] if options.disconnects else []
            )
            for n in counts:
                for variant, cut in variants:
                    for server, port, jar in (
                        ("app", app_port, cookies),
                        ("bare", bare_port, [""] * most),
                    ):
                        row = run(f"http://127.0.0.1:{port}", room, jar[:n], options, cut)
                        results.append((server, n, variant, row))
                        print(
                            f"  done: {server} N={n} {variant}: {row['joined']}/{n} joined "
                            f"in {row['setup_s']:.0f} s",
                            flush=True,
                        )
        finally:
            for server in servers:
                stop(server)
    watchdog.cancel()
    print_table(results)


if __name__ == "__main__":
    main()
