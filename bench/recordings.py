"""Throughput and memory of serving a large webinar recording, the app under gunicorn against nginx.

Not a test: it prints figures. Run it with ``make bench-recordings`` or
``.venv/bin/python bench/recordings.py`` (``--size-mb``, ``--duration`` and ``--concurrency``
change the load). A recording of ``--size-mb`` (1 GB by default) is served whole, as a download,
and in random 1 MiB ranges, as a player seeking asks for it; the peak memory of the servers' whole
process tree is sampled meanwhile and must stay flat whatever the file's size. Debian's nginx
serves the same file in the same run, so the ratio says what the app costs whatever the machine;
a third row puts nginx in front of the app with ``STORAGE_SENDFILE=x-accel-redirect``, the
production path, where the app only checks access and nginx sends the bytes. The clients share
the machine's cores with the servers: on a small machine the whole-download figures say as much
about them as about the server, the ranged ones what each request costs.
"""

import argparse
import hashlib
import http.client
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # bench/ is not a package: imported from its folder

ROOT = pages.ROOT
BIN = pages.BIN
MIB = 1024 * 1024
#: how much each ranged request asks for
RANGE_SIZE = MIB
#: bytes compared at each end of a range with what the file holds there
PROBE = 64
CONTENT_TYPE = "video/mp4"
FILE_NAME = "bench-recording.mp4"
NGINX_CANDIDATES = ("/usr/sbin/nginx",)

# Run inside the app with the benchmark's environment: the rows of the recording, its series (tied
# to no iRoom, so every logged-in user sees it) and its webinar; prints the webinar's id.
SETUP_SNIPPET = """
import sys
from datetime import timedelta

from sqlalchemy import select

from courses.models import Webinar, WebinarSeries
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.storage import StoredFile
from wsgi import app

storage_key, size, sha256 = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with app.app_context():
    admin = db.session.scalars(select(User).where(User.role == "administrator")).first()
    stored = StoredFile(
        storage_key=storage_key,
        original_name=sys.argv[4],
        content_type=sys.argv[5],
        size=size,
        sha256=sha256,
        uploaded_by_id=admin.id,
    )
    series = WebinarSeries(
        title="Benchmark series",
        description="Holds the recording served by bench/recordings.py.",
        theme="criminal_justice",
        language="en",
        created_by_id=admin.id,
    )
    webinar = Webinar(
        series=series,
        title="Benchmark webinar",
        starts_at=utcnow() - timedelta(days=1),
        language="en",
        recording=stored,
    )
    db.session.add_all([stored, series, webinar])
    db.session.commit()
    print(webinar.id)
"""


# The recording and the instance.
def write_recording(storage_dir: Path, size: int) -> tuple[str, str, bytes]:
    """Write ``size`` bytes (one random MiB over and over) under a generated storage key.

    Returns the key, the SHA-256 of the content and the repeated block, from which any byte's
    expected value is known without reading the file back.
    """
    name = secrets.token_hex(16)
    key = f"{name[:2]}/{name}"
    path = storage_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(MIB)
    sha256 = hashlib.sha256()
    remaining = size
    with path.open("wb") as out:
        while remaining > 0:
            chunk = block[: min(MIB, remaining)]
            out.write(chunk)
            sha256.update(chunk)
            remaining -= len(chunk)
    return key, sha256.hexdigest(), block


def add_webinar(env: dict, key: str, size: int, sha256: str) -> int:
    result = subprocess.run(
        [
            str(BIN / "python"),
            "-c",
            SETUP_SNIPPET,
            key,
            str(size),
            sha256,
            FILE_NAME,
            CONTENT_TYPE,
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(result.stdout.split()[-1])


# nginx.
def find_nginx(install: bool) -> str | None:
    """nginx's executable; installed from Debian's package when asked to and allowed to."""
    found = shutil.which("nginx") or next(
        (path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None
    )
    if found or not install:
        return found
    if os.geteuid() != 0:
        print("--install-nginx needs root: run `apt-get install -y nginx-light` as root instead.")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for package in ("nginx-light", "nginx"):
        installed = subprocess.run(["apt-get", "install", "-y", package], env=env, check=False)
        if installed.returncode == 0:
            break
    return shutil.which("nginx") or next(
        (path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None
    )


def nginx_config(workdir: Path, name: str, port: int, server_block: str) -> Path:
    """A configuration for an unprivileged foreground nginx keeping everything in ``workdir``."""
    prefix = workdir / name
    prefix.mkdir()
    # As root, the workers would run as "nobody" and could not read the private temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = prefix / "nginx.conf"
    config.write_text(
        f"""{user}worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ }}
    default_type application/octet-stream;
{temp_paths}
    server {{
        listen 127.0.0.1:{port};
{server_block}
    }}
}}
"""
    )
    return config


def start_nginx(executable: str, config: Path) -> subprocess.Popen:
    prefix = config.parent
    return subprocess.Popen(
        [
            executable,
            "-p",
            f"{prefix}/",
            "-c",
            str(config),
            "-e",
            str(prefix / "error.log"),
            "-g",
            "daemon off;",
        ]
    )


def static_block(recording_path: str, download_path: str, file: Path) -> str:
    """nginx serving the file itself at the app's two paths, inline and as an attachment."""
    return f"""        location = {recording_path} {{
            default_type {CONTENT_TYPE};
            alias {file};
        }}
        location = {download_path} {{
            default_type {CONTENT_TYPE};
            add_header Content-Disposition 'attachment; filename="{FILE_NAME}"';
            alias {file};
        }}"""


def accel_block(storage_dir: Path, upstream_port: int) -> str:
    """nginx in front of gunicorn, sending what the app hands it with X-Accel-Redirect."""
    return f"""        location /_storage/ {{
            internal;
            alias {storage_dir}/;
        }}
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}"""


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.connect()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def stop(server: subprocess.Popen | None) -> None:
    if server is None or server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# Memory.
def process_tree(roots: list[int]) -> list[tuple[int, bool]]:
    """The pids of ``roots`` and all their descendants, each with whether it is a root."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found = [(root, True) for root in roots]
    pending = list(roots)
    while pending:
        for child in children.get(pending.pop(), []):
            found.append((child, False))
            pending.append(child)
    return found


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(roots: list[int]) -> tuple[float, float]:
    """RSS in MB of the whole tree and of its largest process other than a root (a worker)."""
    sizes = [(rss_mb(pid), is_root) for pid, is_root in process_tree(roots)]
    return sum(size for size, _ in sizes), max(
        (size for size, is_root in sizes if not is_root), default=0.0
    )


class MemorySampler:
    """Samples the RSS of a process tree every 0.1 s while in use; keeps the peaks."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.peak_total = 0.0
        self.peak_worker = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total, worker = memory(self.roots)
            self.peak_total = max(self.peak_total, total)
            self.peak_worker = max(self.peak_worker, worker)
            self._stop.wait(0.1)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()


# Loads.
def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def run_threads(worker, concurrency: int) -> float:
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def whole_downloads(
    port: int, path: str, cookie: str, size: int, block: bytes, duration: float, concurrency: int
) -> dict:
    """Download the whole file over and over; a download still running at the end is cut off."""
    lock = threading.Lock()
    totals = {"bytes": 0, "completed": 0, "errors": 0}
    statuses: Counter = Counter()
    stop_at = time.monotonic() + duration

    def worker():
        view = memoryview(bytearray(MIB))
        received_total = completed = failed = 0
        seen: Counter = Counter()
        connection = connect(port)
        while time.monotonic() < stop_at:
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                seen[response.status] += 1
                if response.status != 200 or response.length != size:
                    failed += 1
                    connection.close()  # never read a wrong body, it may be the whole file
                    connection = connect(port)
                    continue
                received = 0
                intact = True
                while time.monotonic() < stop_at:
                    count = response.readinto(view)
                    if count == 0:
                        break
                    if received == 0:
                        intact = bytes(view[:PROBE]) == block[:PROBE]
                    received += count
                received_total += received
                if received == size and intact:
                    completed += 1
                elif time.monotonic() >= stop_at:
                    connection.close()  # cut off at the end of the measurement
                else:
                    failed += 1
                    connection.close()
                    connection = connect(port)
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = connect(port)
        connection.close()
        with lock:
            totals["bytes"] += received_total
            totals["completed"] += completed
            totals["errors"] += failed
            statuses.update(seen)

    elapsed = run_threads(worker, concurrency)
    return {
        "whole_mbps": totals["bytes"] / MIB / elapsed,
        "whole_done": totals["completed"],
        "whole_errors": totals["errors"],
        "whole_statuses": dict(statuses),
    }


def ranged_requests(
    port: int, path: str, cookie: str, size: int, block: bytes, duration: float, concurrency: int
) -> dict:
    """Ask for random 1 MiB ranges, checking the status, the range and the bytes at both ends."""
    lock = threading.Lock()
    latencies: list[float] = []
    totals = {"errors": 0}
    statuses: Counter = Counter()
    stop_at = time.monotonic() + duration
    # Byte ``offset`` of the file is ``block[offset % MIB]``; this saves the wrap-around.
    looped = block + block[:PROBE]

    def expected(offset: int) -> bytes:
        start = offset % MIB
        return looped[start : start + PROBE]

    def worker():
        rng = random.Random()
        view = memoryview(bytearray(RANGE_SIZE))
        own: list[float] = []
        failed = 0
        seen: Counter = Counter()
        connection = connect(port)
        while time.monotonic() < stop_at:
            first = rng.randrange(0, size - RANGE_SIZE + 1)
            last = first + RANGE_SIZE - 1
            started = time.perf_counter()
            try:
                connection.request(
                    "GET", path, headers={"Cookie": cookie, "Range": f"bytes={first}-{last}"}
                )
                response = connection.getresponse()
                seen[response.status] += 1
                if (
                    response.status != 206
                    or response.length != RANGE_SIZE
                    or response.headers.get("Content-Range") != f"bytes {first}-{last}/{size}"
                ):
                    failed += 1
                    connection.close()  # never read a wrong body, it may be the whole file
                    connection = connect(port)
                    continue
                received = 0
                while received < RANGE_SIZE:
                    count = response.readinto(view[received:])
                    if count == 0:
                        break
                    received += count
                response.read()  # nothing left; lets the connection be reused
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = connect(port)
                continue
            elapsed = time.perf_counter() - started
            if (
                received != RANGE_SIZE
                or bytes(view[:PROBE]) != expected(first)
                or bytes(view[RANGE_SIZE - PROBE :]) != expected(last + 1 - PROBE)
            ):
                failed += 1
                continue
            own.append(elapsed)
        connection.close()
        with lock:
            latencies.extend(own)
            totals["errors"] += failed
            statuses.update(seen)

    elapsed = run_threads(worker, concurrency)
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "ranged_rps": len(latencies) / elapsed,
        "ranged_mbps": len(latencies) * RANGE_SIZE / MIB / elapsed,
        "ranged_done": len(latencies),
        "p50": quantiles[49] * 1000,
        "p99": quantiles[98] * 1000,
        "ranged_errors": totals["errors"],
        "ranged_statuses": dict(statuses),
    }


def measure(port: int, paths: tuple[str, str], cookie: str, roots: list[int], options, file):
    """Both loads against one server, with the memory of its processes sampled meanwhile."""
    recording_path, download_path = paths
    size, block = file
    # Warm up: the first requests import and connect what the later ones reuse. The download's
    # last MiB finishes it, so what runs after a complete download (counting it) runs too.
    ranged_requests(port, recording_path, cookie, size, block, 1.0, options.concurrency)
    for _ in range(options.workers * options.threads):
        connection = connect(port)
        connection.request(
            "GET", download_path, headers={"Cookie": cookie, "Range": f"bytes={size - MIB}-"}
        )
        connection.getresponse().read()
        connection.close()
    before, _ = memory(roots)
    with MemorySampler(roots) as sampler:
        row = whole_downloads(
            port, download_path, cookie, size, block, options.duration, options.concurrency
        )
        row |= ranged_requests(
            port, recording_path, cookie, size, block, options.duration, options.concurrency
        )
    after, _ = memory(roots)
    return row | {
        "rss_before": before,
        "rss_peak": sampler.peak_total,
        "worker_peak": sampler.peak_worker,
        "rss_growth": sampler.peak_total - before,
        "rss_after": after,
    }


def print_table(results: dict[str, dict]) -> None:
    print(
        f"{'server':<24}{'whole MB/s':>11}{'done':>6}{'ranged req/s':>13}{'ranged MB/s':>12}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'RSS before':>11}{'peak RSS':>9}"
        f"{'worker pk':>10}{'growth':>8}"
    )
    for name, row in results.items():
        print(
            f"{name:<24}{row['whole_mbps']:>11.0f}{row['whole_done']:>6}{row['ranged_rps']:>13.0f}"
            f"{row['ranged_mbps']:>12.0f}{row['p50']:>8.1f}{row['p99']:>8.1f}"
            f"{row['whole_errors'] + row['ranged_errors']:>7}{row['rss_before']:>11.1f}"
            f"{row['rss_peak']:>9.1f}{row['worker_peak']:>10.1f}{row['rss_growth']:>8.1f}"
        )
    print("(RSS in MB: the server's whole process tree; worker pk: its largest worker)")
    for name, row in results.items():
        odd = set(row["whole_statuses"]) - {200} or set(row["ranged_statuses"]) - {206}
        if odd or row["whole_errors"] or row["ranged_errors"]:
            print(
                f"{name}: whole statuses {row['whole_statuses']}, ranged statuses "
                f"{row['ranged_statuses']}, errors {row['whole_errors']} whole, "
                f"{row['ranged_errors']} ranged"
            )
    app, nginx = results.get("app (gunicorn)"), results.get("nginx (static)")
    if app and nginx:
        print(
            f"app / nginx: whole downloads {app['whole_mbps'] / nginx['whole_mbps']:.2f}, "
            f"ranged requests {app['ranged_rps'] / nginx['ranged_rps']:.2f}"
        )
    accel = results.get("app via nginx X-Accel")
    if accel and nginx:
        print(
            f"app via nginx X-Accel / nginx: whole downloads "
            f"{accel['whole_mbps'] / nginx['whole_mbps']:.2f}, "
            f"ranged requests {accel['ranged_rps'] / nginx['ranged_rps']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the recording in MiB")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--install-nginx",
        action="store_true",
        help="install Debian's nginx-light with apt-get if nginx is missing (root only)",
    )
    parser.add_argument(
        "--no-accel", action="store_true", help="leave out nginx in front of the app"
    )
    options = parser.parse_args()
    if options.size_mb < 2:
        parser.error("--size-mb must be at least 2")

    from learnplatform.demo import DEMO_ACCOUNTS

    practitioner = next(account for account in DEMO_ACCOUNTS if account.role == "practitioner")
    nginx = find_nginx(options.install_nginx)
    if nginx is None:
        print(
            "nginx is not installed: the nginx rows are skipped. Install Debian's package with "
            "`apt-get install -y nginx-light` (or `nginx`), or pass --install-nginx as root."
        )
    size = options.size_mb * MIB
    results: dict[str, dict] = {}
    servers: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="bench-recordings-") as tmp:
        workdir = Path(tmp)
        storage_dir = workdir / "storage"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite",
            "STORAGE_DIR": str(storage_dir),
            "SECRET_KEY": "benchmark secret key",
            "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        }
        for name in ("REDIS_URL", "STORAGE_SENDFILE", "STORAGE_ACCEL_PREFIX"):
            env.pop(name, None)
        try:
            pages.prepare_database(env)
            started = time.monotonic()
            key, sha256, block = write_recording(storage_dir, size)
            written = time.monotonic() - started
            webinar_id = add_webinar(env, key, size, sha256)
            paths = (
                f"/courses/webinars/{webinar_id}/recording",
                f"/courses/webinars/{webinar_id}/recording/download",
            )
            file = (size, block)
            print(
                f"recording: {options.size_mb} MiB written in {written:.1f} s (in the page cache "
                f"from then on); gunicorn: {options.workers} workers x {options.threads} threads "
                f"(gthread); {options.concurrency} keep-alive client connections on the same "
                f"machine ({os.cpu_count()} cores); {options.duration:.0f} s per load; "
                f"ranges of {RANGE_SIZE // MIB} MiB"
            )

            # The app alone, sending the bytes itself.
            port = pages.free_port()
            app = pages.start_gunicorn(env, port, options)
            servers.append(app)
            pages.wait_until_up(port)
            cookie = pages.log_in(port, practitioner.email, practitioner.password)
            results["app (gunicorn)"] = measure(port, paths, cookie, [app.pid], options, file)
            stop(app)

            if nginx is not None:
                # nginx alone, serving the same file at the same paths.
                port = pages.free_port()
                config = nginx_config(
                    workdir, "nginx-static", port, static_block(*paths, storage_dir / key)
                )
                server = start_nginx(nginx, config)
                servers.append(server)
                wait_for_port(port, server)
                results["nginx (static)"] = measure(
                    port, paths, cookie, [server.pid], options, file
                )
                stop(server)

            if nginx is not None and not options.no_accel:
                # The production path: nginx in front, the app checking access only.
                app_port = pages.free_port()
                app = pages.start_gunicorn(
                    env | {"STORAGE_SENDFILE": "x-accel-redirect"}, app_port, options
                )
                servers.append(app)
                pages.wait_until_up(app_port)
                port = pages.free_port()
                config = nginx_config(
                    workdir, "nginx-accel", port, accel_block(storage_dir, app_port)
                )
                server = start_nginx(nginx, config)
                servers.append(server)
                wait_for_port(port, server)
                cookie = pages.log_in(port, practitioner.email, practitioner.password)
                results["app via nginx X-Accel"] = measure(
                    port, paths, cookie, [app.pid, server.pid], options, file
                )
        finally:
            for server in reversed(servers):
                stop(server)
    print_table(results)


if __name__ == "__main__":
    main()
