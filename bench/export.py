"""Export of the raw completion records, the app against the database's own export.

Not a test: it prints figures. Run it with ``make bench-export`` or ``.venv/bin/python
bench/export.py`` (``--users``, ``--enrolments`` and ``--database sqlite|postgresql`` change
it). It builds a database with ``flask demo-data`` and ``flask demo-data --users N --enrolments
M`` (100,000 and 1,000,000 by default), then writes every completion record as CSV:

- through the app over HTTP: an administrator downloads ``/stats/export/completions.csv`` from
  gunicorn (one gthread worker, as in production): time to the first byte, total time, and the
  worker's peak memory sampled while it sends;
- through the app on the command line: ``flask stats export --format csv``, its time and peak
  memory (the kernel's maximum resident set size of the process);
- with the database's own command-line export of the same SELECT (the one the app runs, with its
  values written in): ``sqlite3 -csv`` on SQLite, ``psql``'s ``\\copy ... TO ... CSV`` on
  PostgreSQL.

It checks that the three files hold the same number of rows and prints the times, the ratios to
the database's export and the peaks. The database is kept between runs with ``--keep DIR``.

Then the pages beside an export: the platform served as in production (``gunicorn -c
deploy/gunicorn.conf.py``, one process on gevent's loop), ``wrk`` loads a few pages of the demo
practitioner with ``--connections`` connections (8) alone, then again while the administrator's
CSV downloads stream from the same process, one after the other so that one always streams; it
prints each page's p50 and p99 in both cases, how many downloads overlapped the load and the
machine's load averages. ``--page-seconds`` sets each load's length; 0 leaves this part out.
"""

import argparse
import http.client
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # bench/ is not a package: imported from its folder
import recordings

ROOT = pages.ROOT
BIN = pages.BIN
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"

# Run inside the app: the SELECT of the completion records with its values written in.
SQL_SNIPPET = """
from learnplatform.extensions import db
from learnplatform.stats import queries
from learnplatform.stats.cli import _Operator
from learnplatform.stats.filters import Filters
from wsgi import app

with app.app_context():
    query = queries.completion_records(Filters(), queries.scope_of(_Operator()))
    print(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
"""


def flask(env: dict, *args: str, capture: bool = True) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else ""


def prepare(env: dict, options) -> float:
    """Migrate, load the demo data and the generated data; the seconds the generation took."""
    flask(env, "db", "upgrade")
    flask(env, "demo-data")
    started = time.perf_counter()
    flask(
        env,
        "demo-data",
        "--users",
        str(options.users),
        "--enrolments",
        str(options.enrolments),
        capture=False,
    )
    return time.perf_counter() - started


def lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))


def export_cli(env: dict, target: Path) -> dict:
    """``flask stats export`` in a process of its own: seconds and peak resident memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "stats", "export", "--format", "csv", "-o", target],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"flask stats export exited with {process.returncode}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "rows": lines(target) - 1}


def export_http(env: dict, target: Path) -> dict:
    """The administrator's download from gunicorn: first byte, total, worker's peak memory."""
    port = pages.free_port()
    options = argparse.Namespace(workers=1, threads=4)
    server = pages.start_gunicorn(env, port, options)
    try:
        recordings.wait_for_port(port, server, timeout=60)
        cookie = pages.log_in(port, "admin@example.org", "harbour lantern quietly folds")
        with recordings.MemorySampler([server.pid]) as sampler:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            started = time.perf_counter()
            connection.request("GET", "/stats/export/completions.csv", headers={"Cookie": cookie})
            response = connection.getresponse()
            first = None
            with target.open("wb") as file:
                while chunk := response.read1(1 << 16):
                    if first is None:
                        first = time.perf_counter() - started
                    file.write(chunk)
            seconds = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"export answered {response.status}")
    finally:
        recordings.stop(server)
    return {
        "seconds": seconds,
        "first_byte_ms": (first or 0) * 1000,
        "peak_mb": sampler.peak_worker,
        "rows": lines(target) - 1,
    }


#: The pages loaded beside the export: (name, path), asked for by the demo practitioner.
PAGES_BESIDE = [
    ("trivial endpoint", "/healthz"),
    ("catalogue", "/courses/"),
    ("module page", "/courses/modules/1"),
    ("iRoom library", "/irooms/1/library"),
]
EXPORT_PATH = "/stats/export/completions.csv"


class ExportsInTurn(threading.Thread):
    """The administrator's CSV download, again and again until stopped, read as fast as it comes:
    so that one always streams while the pages are loaded."""

    def __init__(self, port: int, cookie: str):
        super().__init__(daemon=True)
        self.port, self.cookie = port, cookie
        self.stopping = threading.Event()
        self.streaming = threading.Event()  # set at the first byte of the first download
        self.done: list[float] = []  # seconds of each download that ended
        self.first_bytes: list[float] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            started = time.perf_counter()
            connection.request("GET", EXPORT_PATH, headers={"Cookie": self.cookie})
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"export answered {response.status}")
            first = True
            while response.read1(1 << 16):
                if first:
                    self.first_bytes.append(time.perf_counter() - started)
                    self.streaming.set()
                    first = False
                if self.stopping.is_set():
                    break
            else:
                self.done.append(time.perf_counter() - started)
            connection.close()


def pages_beside_export(env: dict, workdir: Path, options) -> dict:
    """p50 and p99 of pages alone, then while CSV downloads stream from the same process."""
    from learnplatform.demo import DEMO_ACCOUNTS

    practitioner = next(account for account in DEMO_ACCOUNTS if account.role == "practitioner")
    port = pages.free_port()
    with (workdir / "gunicorn-beside.log").open("wb") as log:
        server = pages.serve(env, port, log)
    try:
        pages.wait_until_up(port, timeout=60)
        admin = pages.log_in(port, "admin@example.org", "harbour lantern quietly folds")
        cookie = pages.log_in(port, practitioner.email, practitioner.password)
        alone, beside = {}, {}
        for name, path in PAGES_BESIDE:
            pages.check_page(port, path, cookie)
            pages.wrk(port, path, cookie, 1, options.connections)  # warm
            alone[name] = pages.wrk(port, path, cookie, options.page_seconds, options.connections)
        load_alone = pages.load_averages()
        exports = ExportsInTurn(port, admin)
        exports.start()
        if not exports.streaming.wait(timeout=600):
            raise RuntimeError("the export sent nothing for 600 s")
        for name, path in PAGES_BESIDE:
            beside[name] = pages.wrk(port, path, cookie, options.page_seconds, options.connections)
        exports.stopping.set()
        exports.join(timeout=600)
    except Exception:
        log_text = (workdir / "gunicorn-beside.log").read_text(errors="replace")
        print(log_text[-4000:], file=sys.stderr)
        raise
    finally:
        recordings.stop(server)
    return {
        "alone": alone,
        "beside": beside,
        "load_alone": load_alone,
        "load_beside": pages.load_averages(),
        "exports_done": exports.done,
        "first_bytes": exports.first_bytes,
    }


def print_beside(results: dict, options) -> None:
    for name, result in results.items():
        beside = result.get("beside")
        if beside is None:
            continue
        done = beside["exports_done"]
        print()
        print(
            f"{name}: pages of one gevent process, wrk {options.connections} connections, "
            f"{options.page_seconds:.0f} s a page; alone ({beside['load_alone']}), then beside "
            f"CSV downloads streaming from it one after another ({beside['load_beside']}): "
            f"{len(beside['first_bytes'])} started, {len(done)} finished"
            + (f" in {', '.join(f'{seconds:.0f}' for seconds in done)} s" if done else "")
            + ", first bytes after "
            + ", ".join(f"{seconds * 1000:.0f}" for seconds in beside["first_bytes"])
            + " ms"
        )
        print(
            f"{'page':<18}{'path':<22}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'req/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}"
        )
        print(f"{'':<40}{'alone':-^24}{'beside the export':-^34}")
        for page, path in PAGES_BESIDE:
            one, two = beside["alone"][page], beside["beside"][page]
            print(
                f"{page:<18}{path:<22}{one['rps']:>8.0f}{one['p50']:>8.1f}{one['p99']:>8.1f}"
                f"{two['rps']:>10.0f}{two['p50']:>8.1f}{two['p99']:>8.1f}"
                f"{one['errors'] + two['errors']:>8}"
            )


def export_database(env: dict, url: str, target: Path) -> dict:
    """The database's own command-line export of the app's SELECT."""
    sql = subprocess.run(
        [sys.executable, "-c", SQL_SNIPPET],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    started = time.perf_counter()
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with target.open("wb") as file:
            subprocess.run(
                ["sqlite3", "-csv", "-header", path], input=sql.encode(), stdout=file, check=True
            )
        tool = "sqlite3 -csv"
    else:
        database = url.rsplit("/", 1)[1]
        one_line = " ".join(sql.split())
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                database,
                "-q",
                "-c",
                f"\\copy ({one_line}) TO '{target}' WITH (FORMAT csv, HEADER)",
            ],
            check=True,
        )
        tool = "psql \\copy"
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": lines(target) - 1, "tool": tool}


def run(name: str, url: str, workdir: Path, options) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "benchmark secret key",
        "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        "STORAGE_DIR": str(workdir / "storage"),
    }
    env.pop("REDIS_URL", None)
    marker = workdir / f"{name}.prepared"
    generation = None
    if not marker.exists():
        generation = prepare(env, options)
        marker.write_text(f"{options.users} {options.enrolments}\n")
    print(f"{name}: database ready" + (f" (generated in {generation:.0f} s)" if generation else ""))
    results = {"generation": generation}
    if not options.only_beside:
        database = export_database(env, url, workdir / f"{name}-database.csv")
        print(f"{name}: {database['tool']} {database['seconds']:.1f} s")
        cli = export_cli(env, workdir / f"{name}-cli.csv")
        print(f"{name}: flask stats export {cli['seconds']:.1f} s")
        web = export_http(env, workdir / f"{name}-http.csv")
        print(f"{name}: HTTP download {web['seconds']:.1f} s")
        results |= {"database": database, "cli": cli, "http": web}
    if options.page_seconds > 0:
        results["beside"] = pages_beside_export(env, workdir, options)
        print(f"{name}: pages beside the export measured")
    return results


def print_table(results: dict) -> None:
    if not any("database" in result for result in results.values()):
        return
    print()
    print(
        f"{'database':<11}{'export':<22}{'rows':>10}{'seconds':>9}{'x db':>7}{'first byte':>12}"
        f"{'peak MB':>9}"
    )
    for name, result in results.items():
        if "database" not in result:
            continue
        base = result["database"]["seconds"]
        rows = [
            (result["database"]["tool"], result["database"], None),
            ("app, HTTP download", result["http"], result["http"]["first_byte_ms"]),
            ("app, flask stats", result["cli"], None),
        ]
        for label, figures, first in rows:
            ratio = figures["seconds"] / base if base else 0
            first_text = f"{first:.0f} ms" if first is not None else ""
            peak = f"{figures['peak_mb']:.0f}" if "peak_mb" in figures else ""
            print(
                f"{name:<11}{label:<22}{figures['rows']:>10,}{figures['seconds']:>9.1f}"
                f"{ratio:>7.2f}{first_text:>12}{peak:>9}"
            )
        counts = {result[key]["rows"] for key in ("database", "cli", "http")}
        if len(counts) != 1:
            print(f"{name}: THE ROW COUNTS DIFFER: {sorted(counts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--keep", type=Path, help="a folder kept between runs (SQLite only)")
    parser.add_argument("--connections", type=int, default=8, help="wrk's, beside the export")
    parser.add_argument(
        "--page-seconds", type=float, default=10.0, help="each page's load beside the export"
    )
    parser.add_argument(
        "--only-beside", action="store_true", help="measure only the pages beside the export"
    )
    options = parser.parse_args()
    if options.page_seconds > 0:
        pages.find_wrk()

    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        workdir = options.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        print(
            f"{options.users:,} users, {options.enrolments:,} enrolments; "
            f"{os.cpu_count()} cores; files in {workdir}"
        )
        if options.database in ("sqlite", "both"):
            results["SQLite"] = run("sqlite", f"sqlite:///{workdir}/bench.sqlite", workdir, options)
        if options.database in ("postgresql", "both"):
            name = f"bench_export_{secrets.token_hex(4)}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
            try:
                pg_dir = Path(scratch) / "postgresql"
                pg_dir.mkdir(exist_ok=True)
                results["PostgreSQL"] = run("postgresql", f"{POSTGRES}/{name}", pg_dir, options)
            finally:
                subprocess.run(
                    ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name], check=False
                )
    print_table(results)
    print_beside(results, options)


if __name__ == "__main__":
    main()
