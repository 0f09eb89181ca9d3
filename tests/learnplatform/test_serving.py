"""On gevent's loop (deploy/gunicorn.conf.py), nothing a request does holds the other greenlets
of the process: Argon2 hashes in a native thread, a long export gives the loop back between its
pieces, and a SQLite writer that meets another's open transaction waits on a cooperative lock
where SQLite's own busy wait would stop the whole process (learnplatform/serving.py).

The pytest process is not monkey-patched (Playwright and the threaded test servers need real
threads), so each case runs in a Python process of its own that patches first, as gunicorn's
configuration does, and prints what it saw as JSON: how often a greenlet that only counts got
to run meanwhile, and what failed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PATCHED = """
from gevent import monkey
monkey.patch_all()
import json, sys, time
import gevent
from learnplatform import create_app
from learnplatform.extensions import db

app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                  "RATELIMIT_STORAGE_URI": "memory://", "SOCKETIO_MESSAGE_QUEUE": None})
ticks = 0

def tick():
    global ticks
    while True:
        ticks += 1
        gevent.sleep(0.001)

ticker = gevent.spawn(tick)
gevent.sleep(0.01)
"""


def run_patched(case: str, database: str) -> dict:
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PATCHED + case, database],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert output.returncode == 0, output.stderr
    return json.loads(output.stdout.strip().splitlines()[-1])


def test_the_platform_serves_on_the_loop_when_patched(tmp_path):
    seen = run_patched(
        """
from learnplatform.serving import async_mode
from learnplatform.extensions import socketio
print(json.dumps({"mode": async_mode(), "socketio": socketio.server.async_mode}))
""",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    assert seen == {"mode": "gevent", "socketio": "gevent"}


def test_other_greenlets_run_while_a_password_is_hashed(tmp_path):
    seen = run_patched(
        """
from learnplatform.passwords import hash_password, verify_password
before = ticks
hashed = [hash_password("a long passphrase of several words") for _ in range(3)]
during_hash = ticks - before
before = ticks
ok = all(verify_password(h, "a long passphrase of several words") for h in hashed)
print(json.dumps({"hash": during_hash, "verify": ticks - before, "ok": ok}))
""",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    assert seen["ok"]
    assert seen["hash"] > 0 and seen["verify"] > 0


def test_other_greenlets_run_while_an_export_streams(tmp_path):
    seen = run_patched(
        """
from learnplatform.exports import table_response
rows = ([n, f"person {n}", "FR"] for n in range(200_000))
with app.test_request_context():
    columns = ["id", "name", "country"]
    response = table_response("csv", "people", columns, rows, columns)
    before, pieces = ticks, 0
    for _ in response.response:
        pieces += 1
    print(json.dumps({"ticks": ticks - before, "pieces": pieces}))
""",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    assert seen["pieces"] > 100
    assert seen["ticks"] >= seen["pieces"] // 2


def test_a_sqlite_writer_waits_for_another_without_stopping_the_process(tmp_path):
    """Greenlet A writes and then waits on the network (here a sleep) inside its transaction;
    B writes meanwhile. Without the cooperative lock, B's SQLite busy wait would hold the loop,
    A could never commit, and B would fail with "database is locked" after the busy timeout."""
    seen = run_patched(
        """
from sqlalchemy import text
from learnplatform.accounts.models import User
errors, order = [], []

def write(name, hold):
    try:
        with app.app_context():
            db.session.execute(text("CREATE TABLE IF NOT EXISTS notes (who TEXT)"))
            db.session.execute(text("INSERT INTO notes VALUES (:who)"), {"who": name})
            gevent.sleep(hold)  # waits on something else with the write lock held
            db.session.commit()
            order.append(name)
    except Exception as error:
        errors.append(repr(error))

with app.app_context():
    db.session.execute(text("CREATE TABLE IF NOT EXISTS notes (who TEXT)"))
    db.session.commit()
a = gevent.spawn(write, "a", 0.5)
gevent.sleep(0.05)
before = ticks
b = gevent.spawn(write, "b", 0)
gevent.joinall([a, b])
with app.app_context():
    rows = [r[0] for r in db.session.execute(text("SELECT who FROM notes"))]
print(json.dumps({"errors": errors, "order": order, "rows": rows, "ticks": ticks - before}))
""",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    assert seen["errors"] == []
    assert seen["order"] == ["a", "b"] and sorted(seen["rows"]) == ["a", "b"]
    assert seen["ticks"] > 10  # the process went on while B waited for A


def test_the_database_redis_and_mail_clients_wait_cooperatively(tmp_path):
    """psycopg 3 (from 3.1.14), redis-py and smtplib (the mail sender's) wait on the patched
    sockets: a slow answer holds only the greenlet that waits for it."""
    database = os.environ.get("TEST_DATABASE_URL", "")
    seen = run_patched(
        """
import os, smtplib, socket
waited = {}

# An SMTP server that accepts the connection and never greets: smtplib waits, then gives up.
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen()
before = ticks
try:
    smtplib.SMTP("127.0.0.1", silent.getsockname()[1], timeout=0.5)
except OSError:
    pass
waited["smtp"] = ticks - before

redis_url = os.environ.get("TEST_REDIS_URL")
if redis_url:
    import redis
    before = ticks
    redis.Redis.from_url(redis_url).blpop("serving-test-nothing-here", timeout=0.5)
    waited["redis"] = ticks - before

if sys.argv[1].startswith("postgresql"):
    from sqlalchemy import text
    with app.app_context():
        before = ticks
        db.session.execute(text("SELECT pg_sleep(0.5)"))
        waited["postgresql"] = ticks - before
print(json.dumps(waited))
""",
        database if database.startswith("postgresql") else f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    # a greenlet that wakes every millisecond ran all along (tens of times in half a second)
    assert all(count > 20 for count in seen.values()), seen
    assert "smtp" in seen
    assert ("redis" in seen) == bool(os.environ.get("TEST_REDIS_URL"))
