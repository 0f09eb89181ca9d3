"""Requests per second and latency of the main pages under gunicorn, measured with ``wrk``.

Not a test: it prints figures. Run it with ``make bench`` or ``.venv/bin/python bench/pages.py``
(``--duration``, ``--connections`` and ``--database sqlite|postgresql|both`` change it). The
platform is served as in production, by ``gunicorn -c deploy/gunicorn.conf.py``: one process,
one gevent worker, on a fresh database with the demo data (SQLite, and PostgreSQL in a database
of its own that is dropped afterwards). The load comes from Debian's ``wrk`` (``apt-get install
wrk``; ``make bench`` installs it where missing), a C program, so that the client does not take
the cores from the interpreter it measures as a Python client did.

Each page is fetched by the demo practitioner (their session cookie given to ``wrk``), or by a
visitor for the login page, and compared with ``/healthz``, a trivial endpoint of the same
process in the same run: the ratio says what the page itself costs whatever the machine. The
load averages of the machine are printed with the figures, for other work shares its cores, and
so is the processor time the server spent on each request (``CPU ms``), which that work changes
little: the figure to compare between two runs on a busy machine.

``--profile DIR`` instead serves each page a few hundred times inside this process under
pyinstrument (``pip install pyinstrument``; not a dependency of the platform) and writes one
profile per page into DIR, as HTML and as text.
"""

import argparse
import http.client
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
#: (name, path, who asks for it); the ids are those of the demo data on a fresh database.
PAGES = [
    ("trivial endpoint", "/healthz", None),
    ("login page", "/login", None),
    ("home", "/", "practitioner"),
    ("catalogue", "/courses/", "practitioner"),
    # The demo data's first module, in which the demo practitioner is enrolled, and its first
    # lesson (whose id differs between databases: found on the module page).
    ("module page", "/courses/modules/1", "practitioner"),
    ("lesson", "/courses/modules/1/lessons/{lesson}", "practitioner"),
    ("my learning", "/courses/my-learning", "practitioner"),
    ("webinars", "/courses/webinars", "practitioner"),
    ("my iRooms", "/irooms/", "practitioner"),
    # The demo data's first iRoom, of which the demo practitioner is a member.
    ("iRoom overview", "/irooms/1", "practitioner"),
    ("iRoom library", "/irooms/1/library", "practitioner"),
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


def start_gunicorn(env: dict, port: int, options) -> subprocess.Popen:
    """The app under gunicorn on threads: ``options.workers`` processes of ``options.threads``
    gthread threads (the other benchmarks' set-up)."""
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


def serve(env: dict, port: int, log) -> subprocess.Popen:
    """The app as production serves it: ``gunicorn -c deploy/gunicorn.conf.py``, one process with
    one gevent worker; its output goes to ``log``."""
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "warning"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def find_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench: wrk is missing: apt-get install wrk (make bench does it as root)")
    return wrk


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(port: int, path: str, cookie: str | None, duration: float, connections: int) -> dict:
    """Requests per second, p50 and p99 in ms and the failures of ``wrk`` against ``path``."""
    command = [
        find_wrk(),
        "--latency",
        f"--threads={min(2, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=10s",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if len(percentiles) != 2:
        raise RuntimeError(f"wrk's output without its percentiles:\n{output}")
    requests = int(re.search(r"^\s+(\d+) requests in", output, re.MULTILINE).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    errors = int(failed.group(1)) if failed else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return {
        "requests": requests,
        "errors": errors,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _milliseconds(percentiles["50"]),
        "p99": _milliseconds(percentiles["99"]),
    }


def cpu_seconds(root: int) -> float:
    """The processor time (user and system) used so far by the process ``root`` and its children:
    a page's cost that other work on the machine barely changes, unlike its latency."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(entry.name) == root or int(fields[1]) == root:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def check_page(port: int, path: str, cookie: str | None) -> str:
    """The page, which answers 200 to whom it is measured for rather than a redirect or an error."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    html = response.read().decode()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}, not 200")
    return html


def first_lesson(port: int, cookie: str) -> str:
    """The id of the first lesson the first module's page links to."""
    html = check_page(port, "/courses/modules/1", cookie)
    return re.search(r'href="/courses/modules/1/lessons/(\d+)"', html).group(1)


def load_averages() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def environment(url: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "benchmark secret key",
        "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
    }
    env.pop("REDIS_URL", None)
    return env


def measure(url: str, workdir: Path, options) -> dict:
    """Serve the demo data from ``url`` and load every page in turn."""
    from learnplatform.demo import DEMO_ACCOUNTS

    accounts = {account.role: account for account in reversed(DEMO_ACCOUNTS)}
    env = environment(url)
    prepare_database(env)
    port = free_port()
    with (workdir / "gunicorn.log").open("wb") as log:
        server = serve(env, port, log)
    try:
        wait_until_up(port)
        cookies = {
            role: log_in(port, accounts[role].email, accounts[role].password)
            for role in {who for _, _, who in PAGES if who}
        }
        lesson = first_lesson(port, cookies["practitioner"])
        results = {"before": load_averages()}
        for name, path, who in PAGES:
            cookie = cookies.get(who)
            path = path.format(lesson=lesson)
            check_page(port, path, cookie)
            wrk(port, path, cookie, 1, options.connections)  # warm
            used = cpu_seconds(server.pid)
            results[name] = wrk(port, path, cookie, options.duration, options.connections)
            used = cpu_seconds(server.pid) - used
            results[name]["path"] = path
            results[name]["cpu_ms"] = used * 1000 / max(1, results[name]["requests"])
        results["after"] = load_averages()
    except Exception:
        print((workdir / "gunicorn.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def print_table(database: str, results: dict) -> None:
    print(flush=True)
    print(f"{database}: before {results['before']}; after {results['after']}")
    print(
        f"{'page':<18}{'path':<30}{'requests':>9}{'errors':>7}{'req/s':>8}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'x healthz':>10}{'CPU ms':>8}"
    )
    baseline = results["trivial endpoint"]["rps"]
    for name, _, _ in PAGES:
        row = results[name]
        print(
            f"{name:<18}{row['path']:<30}{row['requests']:>9}{row['errors']:>7}{row['rps']:>8.0f}"
            f"{row['p50']:>8.1f}{row['p99']:>8.1f}{row['rps'] / baseline:>10.2f}"
            f"{row['cpu_ms']:>8.2f}",
            flush=True,
        )


def profile(url: str, folder: Path, requests: int) -> None:
    """Each page ``requests`` times through the test client under pyinstrument, in this process
    (on threads, not the loop: where the time goes, not how the loop shares it)."""
    from pyinstrument import Profiler

    from learnplatform.demo import DEMO_ACCOUNTS

    accounts = {account.role: account for account in reversed(DEMO_ACCOUNTS)}
    env = environment(url)
    prepare_database(env)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from wsgi import app

    app.config["WTF_CSRF_ENABLED"] = False
    logging.disable(logging.INFO)  # the request log: one line a request
    folder.mkdir(parents=True, exist_ok=True)
    clients = {}
    for name, path, who in PAGES:
        if who not in clients:
            client = clients[who] = app.test_client()
            if who:
                account = accounts[who]
                client.post("/login", data={"email": account.email, "password": account.password})
        client = clients[who]
        if "{lesson}" in path:
            html = client.get("/courses/modules/1").text
            lesson = re.search(r'href="/courses/modules/1/lessons/(\d+)"', html).group(1)
            path = path.format(lesson=lesson)
        for _ in range(10):
            client.get(path)
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for _ in range(requests):
                status = client.get(path).status_code
        per_request = (time.perf_counter() - started) / requests * 1000
        target = folder / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.html"
        target.write_text(profiler.output_html())
        target.with_suffix(".txt").write_text(profiler.output_text(show_all=False))
        print(f"{name:<18}{path:<30}{status:>4}{per_request:>8.1f} ms a request  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per page")
    parser.add_argument("--connections", type=int, default=8, help="wrk's connections")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="profile the pages instead")
    parser.add_argument("--requests", type=int, default=300, help="requests a page, profiling")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        if options.profile:
            profile(f"sqlite:///{workdir}/bench.sqlite", options.profile, options.requests)
            return
        find_wrk()
        print(
            f"gunicorn -c deploy/gunicorn.conf.py: 1 process, 1 gevent worker; demo data; wrk "
            f"with {options.connections} keep-alive connections on the same machine; "
            f"{options.duration:.0f} s per page after 1 s of warming"
        )
        if options.database in ("sqlite", "both"):
            url = f"sqlite:///{workdir}/bench.sqlite"
            print_table("SQLite", measure(url, workdir, options))
        if options.database in ("postgresql", "both"):
            name = f"bench_pages_{secrets.token_hex(4)}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
            try:
                print_table("PostgreSQL", measure(f"{POSTGRES}/{name}", workdir, options))
            finally:
                subprocess.run(
                    ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name], check=False
                )


if __name__ == "__main__":
    main()
