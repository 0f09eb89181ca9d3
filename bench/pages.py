"""Requests per second and latency of the main pages, served by gunicorn on SQLite with demo data.

Not a test: it prints figures. Run it with ``make bench`` or ``.venv/bin/python bench/pages.py``
(``--duration`` and ``--concurrency`` change the load). Each page is compared with ``/healthz``,
a trivial endpoint of the same app in the same run, so the ratio says what the page itself costs
whatever the machine.
"""

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGES = [
    ("trivial endpoint", "/healthz", False),
    ("login page", "/login", False),
    ("catalogue page", "/courses/", True),
    # The demo data's first module, in which the demo practitioner is enrolled.
    ("module page", "/courses/modules/1", True),
    ("my learning page", "/courses/my-learning", True),
    ("webinars page", "/courses/webinars", True),
    # The demo data's first iRoom, of which the demo practitioner is a member.
    ("iRoom overview", "/irooms/1", True),
    ("iRoom library", "/irooms/1/library", True),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(env: dict) -> None:
    for command in (["db", "upgrade"], ["demo-data"]):
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )


def wait_until_up(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def log_in(port: int, email: str, password: str) -> str:
    """Log in through the form and return the Cookie header of the session."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/login")
    response = connection.getresponse()
    html = response.read().decode()
    cookie = SimpleCookie(response.headers["Set-Cookie"])
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    body = urlencode({"csrf_token": token, "email": email, "password": password})
    connection.request(
        "POST",
        "/login",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"session={cookie['session'].value}",
        },
    )
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"login failed with {response.status}")
    return f"session={SimpleCookie(response.headers['Set-Cookie'])['session'].value}"


def load(port: int, path: str, cookie: str | None, duration: float, concurrency: int) -> dict:
    """Send requests from ``concurrency`` keep-alive connections for ``duration`` seconds."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker():
        nonlocal errors
        own: list[float] = []
        failed = 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
                    continue
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            own.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(own)
            errors += failed

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50": quantiles[49] * 1000,
        "p99": quantiles[98] * 1000,
    }


def start_gunicorn(env: dict, port: int, options) -> subprocess.Popen:
    """The app under gunicorn: ``options.workers`` processes of ``options.threads`` threads."""
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(options.threads),
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per page")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    options = parser.parse_args()

    from learnplatform.demo import DEMO_ACCOUNTS

    practitioner = next(account for account in DEMO_ACCOUNTS if account.role == "practitioner")
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite",
            "SECRET_KEY": "benchmark secret key",
            "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        }
        env.pop("REDIS_URL", None)
        prepare_database(env)
        port = free_port()
        server = start_gunicorn(env, port, options)
        try:
            wait_until_up(port)
            cookie = log_in(port, practitioner.email, practitioner.password)
            print(
                f"gunicorn: {options.workers} workers x {options.threads} threads (gthread); "
                f"SQLite with demo data; {options.concurrency} keep-alive client connections "
                f"on the same machine ({os.cpu_count()} cores); {options.duration:.0f} s per page"
            )
            results = {}
            for name, path, needs_login in PAGES:
                load(port, path, cookie if needs_login else None, 1.0, options.concurrency)  # warm
                results[name] = load(
                    port,
                    path,
                    cookie if needs_login else None,
                    options.duration,
                    options.concurrency,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)

    baseline = results["trivial endpoint"]["rps"]
    print(
        f"{'page':<18}{'path':<22}{'requests':>10}{'errors':>8}{'req/s':>10}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'vs trivial':>12}"
    )
    for name, path, _ in PAGES:
        row = results[name]
        print(
            f"{name:<18}{path:<22}{row['requests']:>10}{row['errors']:>8}{row['rps']:>10.0f}"
            f"{row['p50']:>9.1f}{row['p99']:>9.1f}{row['rps'] / baseline:>12.2f}"
        )


if __name__ == "__main__":
    main()
