"""Fixtures shared by every test: a migrated database, the app, clients and factories.

The database is SQLite by default. With ``TEST_DATABASE_URL`` set (``.ci/run`` sets it to the
PostgreSQL server) the same tests run on PostgreSQL, and with ``TEST_REDIS_URL`` the rate limits
are kept in Redis.

Under pytest-xdist (``make test`` runs ``-n 2``) each worker has a PostgreSQL database and a Redis
database number of its own, derived from those two URLs (see ``worker_database_url`` and
``worker_redis_url``); SQLite files and every other file of a test are under the worker's own
temporary folder already.
"""

import os
import shutil
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from courses.credentials import create_key
from learnplatform import create_app
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db, limiter
from learnplatform.passwords import hash_password
from tests.helpers import PASSWORD, Auth

#: this process's pytest-xdist worker (``gw0``, ``gw1``...), or "" when the tests run in one process
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_database_url(url: str | None) -> str | None:
    """The database of this worker on the server of ``url``: ``test`` becomes ``test_gw0`` and so
    on, so that one worker emptying its tables never empties those of another's test."""
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


def worker_redis_url(url: str | None) -> str | None:
    """The Redis database of this worker's rate limits: the number in ``url`` for the first, two
    more for each next one (``limiter.reset()`` empties the limits of the whole database, between
    tests). The number just after each stays free: test_chat_processes keeps its own limits on the
    number after the suite's."""
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) + 2 * int(WORKER.removeprefix("gw"))
    if number > 15:
        raise RuntimeError(f"{WORKER}: Redis has 16 databases; run fewer workers (pytest -n)")
    return parts._replace(path=f"/{number}").geturl()


SERVER_DATABASE_URL = worker_database_url(os.environ.get("TEST_DATABASE_URL"))
REDIS_URL = worker_redis_url(os.environ.get("TEST_REDIS_URL"))


def _base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test secret key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": REDIS_URL or "memory://",
        "SOCKETIO_MESSAGE_QUEUE": None,
        "CHAT_HEARTBEAT_SECONDS": 0,  # tests beat themselves (irooms.presence.beat)
        "JOBS_IMMEDIATE": True,  # jobs run as they are queued, in the test's process
    }


@pytest.fixture(autouse=True)
def no_tracebacks_logged(request, caplog):
    """Fails a test during which the platform logged a traceback: an error nobody handled, even
    one that a page or event survived (a chat event's error handler, a background task), unless
    the test is marked ``logs_traceback``."""
    yield
    if request.node.get_closest_marker("logs_traceback"):
        return
    logged = [
        record
        for phase in ("setup", "call")
        for record in caplog.get_records(phase)
        if record.exc_info
    ]
    if logged:
        pytest.fail(
            "tracebacks were logged:\n"
            + "\n".join(f"{r.name}: {r.getMessage()} ({r.exc_info[1]!r})" for r in logged)
        )


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A database brought to the newest schema by the migrations, once per test run."""
    if SERVER_DATABASE_URL:
        url = SERVER_DATABASE_URL
        created_if_missing(url)
        app = create_app(_base_config(url))
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            upgrade()
            db.engine.dispose()
        yield url
    else:
        path = tmp_path_factory.mktemp("db") / "template.sqlite"
        app = create_app(_base_config(f"sqlite:///{path}"))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield path


def created_if_missing(url: str) -> None:
    """Creates the database of ``url`` on its server unless it is there (a worker's, the first time
    it runs), through the server's ``postgres`` database."""
    parsed = make_url(url)
    server = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as admin:
        found = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not found:
            admin.execute(f'CREATE DATABASE "{parsed.database}"')


@contextmanager
def platform_on_own_database(migrated_database, folder, **config):
    """The platform on a database of its own (SQLite, a copy in ``folder``) or emptied afterwards
    (PostgreSQL), with its files under ``folder``; ``config`` overrides settings."""
    if SERVER_DATABASE_URL:
        url = SERVER_DATABASE_URL
    else:
        copy = folder / "test.sqlite"
        shutil.copyfile(migrated_database, copy)
        url = f"sqlite:///{copy}"
    key_file = folder / "keys" / "credentials-ed25519.pem"
    create_key(key_file)  # as `flask credentials-key` does at set-up
    files = {"STORAGE_DIR": str(folder / "storage"), "CREDENTIALS_KEY_FILE": str(key_file)}
    app = create_app({**_base_config(url), **files, **config})
    with app.app_context():
        limiter.reset()  # limits never carry over from one test into the next
    yield app
    with app.app_context():
        db.session.remove()
        connections_returned(db.engine)
        if SERVER_DATABASE_URL:
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


def connections_returned(engine, seconds: float = 10) -> None:
    """Waits until no connection is checked out: a thread still serving the test (a request, a
    background task) gives its connection back to the pool before the pool goes. One given back
    to a disposed pool stays open there until the garbage collector warns about it, failing
    whichever test is running then."""
    deadline = time.monotonic() + seconds
    while engine.pool.checkedout() > 0 and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def app(migrated_database, tmp_path):
    """The platform on a database of its own (SQLite) or emptied after the test (PostgreSQL)."""
    with platform_on_own_database(migrated_database, tmp_path) as platform:
        yield platform


@pytest.fixture
def mail_server():
    """A real SMTP server (tests/mailserver.py); the ``mailing_app`` fixture sends to it."""
    from tests.mailserver import MailServer

    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailing_app(migrated_database, tmp_path, mail_server):
    """The platform sending its e-mails through ``mail_server``. A module whose tests all mail
    makes it its ``app``: ``app = mailing_app`` does not work, a fixture named app does."""
    with platform_on_own_database(migrated_database, tmp_path, **mail_server.config) as platform:
        yield platform


@pytest.fixture(scope="session")
def lrs_server(tmp_path_factory):
    """Ralph, a real Learning Record Store (tests/lrs.py), started once for the run."""
    from tests.lrs import INSTALLED, LearningRecordStore

    if not INSTALLED.exists():
        pytest.skip("Ralph is not installed in .lrs-venv: `make test` installs it")
    server = LearningRecordStore(tmp_path_factory.mktemp("lrs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lrs(lrs_server):
    """The LRS, running and holding no statement; a test may stop it (and start it again)."""
    if lrs_server.process is None:
        lrs_server.start()
    lrs_server.clear()
    return lrs_server


@pytest.fixture
def lrs_app(migrated_database, tmp_path, lrs):
    """The platform sending its xAPI statements to ``lrs``. A module whose tests all send
    statements makes it its ``app`` (as with ``mailing_app``)."""
    with platform_on_own_database(migrated_database, tmp_path, **lrs.config) as platform:
        yield platform


@pytest.fixture
def client(app):
    """A browser-like HTTP client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """The ``flask`` command line."""
    return app.test_cli_runner()


@pytest.fixture
def app_context(app):
    """An application context for tests that call services or query the database."""
    with app.app_context():
        yield


@pytest.fixture
def create_user(app):
    """Factory: ``create_user(email=..., role=..., password=...)`` makes a confirmed account."""
    counter = iter(range(1, 1_000_000))
    hashes: dict[str, str] = {}

    def create(
        email: str | None = None,
        *,
        name: str | None = None,
        password: str = PASSWORD,
        role: str = "practitioner",
        country: str = "KE",
        active: bool = True,
        confirmed: bool = True,
        language: str = "en",
        time_zone: str = "UTC",
    ) -> User:
        number = next(counter)
        if password not in hashes:
            hashes[password] = hash_password(password)
        with app.app_context():
            user = User(
                email=(email or f"person{number}@example.org").lower(),
                name=name or f"Person {number}",
                password_hash=hashes[password],
                country=country,
                organisation="Office of the Prosecutor General",
                agency_type="prosecution",
                role=role,
                active=active,
                language=language,
                time_zone=time_zone,
                email_confirmed_at=utcnow() if confirmed else None,
            )
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return create


@pytest.fixture
def auth(client):
    """Log the test client in and out."""
    return Auth(client)


@pytest.fixture
def login_as(client, auth, create_user):
    """Create an account with ``role`` and log the test client in as it."""

    def login(role: str = "practitioner", **kwargs) -> User:
        user = create_user(role=role, **kwargs)
        response = auth.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login
