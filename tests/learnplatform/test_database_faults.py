"""Database connections the server closed: noticed before use, or the request run again once.

PostgreSQL ends connections when it restarts, fails over or an administrator terminates them; a
load run that terminated every connection twice got 500s on the next request of five pages. Here
the app's own connections (named by ``application_name``) are terminated with
``pg_terminate_backend`` between two requests and in the middle of one.
"""

import contextlib
import logging
import secrets

import psycopg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from courses.models import LessonProgress
from irooms.models import Message
from learnplatform.extensions import db
from tests.conftest import SERVER_DATABASE_URL, platform_on_own_database
from tests.courses.test_modules import build_module
from tests.helpers import Auth, csrf_token
from tests.irooms.test_chat import connect
from tests.irooms.test_rooms import add_room

if not (SERVER_DATABASE_URL or "").startswith("postgresql"):
    pytest.skip(
        "terminating connections needs a database server (TEST_DATABASE_URL): SQLite has none",
        allow_module_level=True,
    )


def terminate(name: str) -> int:
    """End every connection of the application called ``name``; how many there were."""
    url = make_url(SERVER_DATABASE_URL).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (name,),
        ).fetchone()[0]


@pytest.fixture
def named_app(migrated_database, tmp_path):
    """The platform whose database connections carry a name of their own."""
    name = f"faults-{secrets.token_hex(4)}"
    options = {"pool_pre_ping": True, "connect_args": {"application_name": name}}
    with platform_on_own_database(
        migrated_database, tmp_path, SQLALCHEMY_ENGINE_OPTIONS=options
    ) as app:
        app.connection_name = name
        yield app


@pytest.fixture
def learner(named_app, create_user):
    """A practitioner logged in and enrolled in a two-lesson module: (client, module id)."""
    person = create_user()
    module_id = build_module(named_app, lessons=2)
    client = named_app.test_client()
    assert Auth(client).login(person.email).status_code == 302
    enrol = client.post(
        f"/courses/modules/{module_id}/enrol",
        data={"csrf_token": csrf_token(client, f"/courses/modules/{module_id}")},
    )
    assert enrol.status_code == 302
    return client, module_id


def lesson_ids(app, module_id):
    from courses.models import Lesson

    with app.app_context():
        return db.session.scalars(
            select(Lesson.id).where(Lesson.module_id == module_id).order_by(Lesson.position)
        ).all()


@pytest.fixture
def no_tracebacks(caplog):
    """Fails the test if anything was logged with a traceback."""
    caplog.set_level(logging.WARNING)
    yield caplog
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [r.getMessage() for r in tracebacks]


def test_pages_answer_after_their_connections_were_terminated(named_app, learner, no_tracebacks):
    client, module_id = learner
    first, second = lesson_ids(named_app, module_id)
    pages = [
        f"/courses/modules/{module_id}",
        f"/courses/modules/{module_id}/lessons/{first}",
        f"/courses/modules/{module_id}/post_test",
        "/courses/webinars",
        "/courses/",
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page
    for page in pages:
        assert terminate(named_app.connection_name) >= 1
        assert client.get(page).status_code == 200, page

    token = csrf_token(client, f"/courses/modules/{module_id}/lessons/{first}")
    assert terminate(named_app.connection_name) >= 1
    done = client.post(
        f"/courses/modules/{module_id}/lessons/{first}/done", data={"csrf_token": token}
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/lessons/{second}")
    assert progress_count(named_app) == 1


@contextlib.contextmanager
def connection_lost(app, at):
    """The app's connection is terminated (once) just before the first statement for which
    ``at(number, statement, committed)`` is true: ``number`` counts from 1, ``committed`` says
    whether a transaction was committed before it."""
    count, committed, done = 0, False, False

    def before(conn, cursor, statement, parameters, context, executemany):
        nonlocal count, done
        count += 1
        if not done and at(count, statement, committed):
            done = True
            terminate(app.connection_name)

    def commit(conn):
        nonlocal committed
        committed = True

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)


def progress_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(LessonProgress.id)))


@pytest.mark.parametrize("number", range(1, 10))
def test_a_page_whose_connection_dies_midway_is_served_all_the_same(
    named_app, learner, no_tracebacks, number
):
    """Whichever of the module page's statements finds its connection gone, the page is served:
    the request runs again on a new connection."""
    client, module_id = learner
    with connection_lost(named_app, lambda count, statement, committed: count == number):
        page = client.get(f"/courses/modules/{module_id}")
    assert page.status_code == 200
    assert "Countering the financing of terrorism" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "moment",
    [
        lambda count, statement, committed: count == 1,
        lambda count, statement, committed: statement.startswith("SAVEPOINT"),
        lambda count, statement, committed: statement.startswith("UPDATE enrolments"),
    ],
    ids=["first statement", "savepoint", "update"],
)
def test_a_form_whose_connection_dies_before_its_commit_runs_again_once(
    named_app, learner, no_tracebacks, moment
):
    """Nothing was committed, so what was written went with the connection: the lesson is
    marked done once, and the learner goes on to the next lesson."""
    client, module_id = learner
    first, second = lesson_ids(named_app, module_id)
    token = csrf_token(client, f"/courses/modules/{module_id}/lessons/{first}")
    with connection_lost(named_app, moment):
        done = client.post(
            f"/courses/modules/{module_id}/lessons/{first}/done", data={"csrf_token": token}
        )
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/lessons/{second}")
    assert progress_count(named_app) == 1


def test_a_form_whose_connection_dies_after_its_commit_says_so_and_is_not_run_twice(
    named_app, learner, no_tracebacks
):
    """What was committed stays; the request is not run again (it could do twice what is not
    idempotent). The learner is told to reload and look, and sending again changes nothing."""
    client, module_id = learner
    first, _ = lesson_ids(named_app, module_id)
    token = csrf_token(client, f"/courses/modules/{module_id}/lessons/{first}")
    with connection_lost(named_app, lambda count, statement, committed: committed):
        done = client.post(
            f"/courses/modules/{module_id}/lessons/{first}/done", data={"csrf_token": token}
        )
    assert done.status_code == 503
    assert "Reload the page" in done.get_data(as_text=True)
    assert progress_count(named_app) == 1
    again = client.post(
        f"/courses/modules/{module_id}/lessons/{first}/done", data={"csrf_token": token}
    )
    assert again.status_code == 302
    assert progress_count(named_app) == 1


@pytest.fixture
def chat(named_app, create_user):
    """A room with its host connected over Socket.IO: (room id, connection)."""
    host = create_user(role="trainer")
    room_id = add_room(named_app, "Sahel prosecutors", [(host, "host")])
    connection = connect(named_app, host)
    assert connection.emit("join", {"room": room_id}, callback=True)["ok"]
    return room_id, connection


def stored_messages(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(Message.body).order_by(Message.seq)).all()


@pytest.mark.parametrize("event", ["join", "send", "history"])
def test_a_chat_event_whose_connection_dies_before_its_commit_is_answered(
    named_app, chat, no_tracebacks, event
):
    room_id, connection = chat
    payload = {"room": room_id, "client_id": "c-1", "body": "Bonjour"}
    with connection_lost(named_app, lambda count, statement, committed: count == 1):
        answer = connection.emit(event, payload, callback=True)
    assert answer["ok"] is True
    assert stored_messages(named_app) == (["Bonjour"] if event == "send" else [])


def test_a_message_whose_connection_dies_after_its_commit_is_kept_once(
    named_app, chat, no_tracebacks
):
    """The message is stored; the sender hears ``unavailable`` instead of waiting for ever, and
    its retry with the same client id gets the same number."""
    room_id, connection = chat
    payload = {"room": room_id, "client_id": "c-1", "body": "Bonjour"}
    with connection_lost(named_app, lambda count, statement, committed: committed):
        answer = connection.emit("send", payload, callback=True)
    assert answer == {"ok": False, "error": "unavailable"}
    assert connection.emit("send", payload, callback=True) == {"ok": True, "seq": 1}
    assert stored_messages(named_app) == ["Bonjour"]
