"""Numbers too large for the database are bad input, never a crash, wherever they enter.

Every id and count column is a 32-bit integer: from 2**31 PostgreSQL refuses the comparison and
SQLite's driver refuses 2**63 outright. Each route with an integer in its rule (read from the
app's URL map, so that a new route is covered without anyone remembering), the API's numbers and
every chat event are tried with such numbers here, on SQLite and on PostgreSQL alike; each must
answer as it does for a thing that does not exist.
"""

import re

from werkzeug.routing import AnyConverter, IntegerConverter

from learnplatform.extensions import socketio
from learnplatform.numbers import LARGEST
from tests.helpers import csrf_token, without_tokens
from tests.irooms.test_chat import connect
from tests.irooms.test_rooms import add_room

TOO_LARGE = [2**31, 2**63, 10**30]
PLACEHOLDER = re.compile(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>")


def integer_rules(app):
    """Each rule that takes an integer, with the methods it answers."""
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def address(rule, number: int) -> str:
    """The rule's address with ``number`` for each integer and a valid value for the rest."""

    def value(match):
        converter = rule._converters[match.group(2)]
        if isinstance(converter, IntegerConverter):
            return str(number)
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        return "file.pdf"

    return PLACEHOLDER.sub(value, rule.rule)


def test_the_url_map_has_integer_routes_to_try(app):
    """The walk below is not empty: it covers rooms, modules, attempts and the rest."""
    rules = {rule.rule for rule, _ in integer_rules(app)}
    for expected in (
        "/irooms/<int:room_id>",
        "/courses/modules/<int:module_id>",
        "/courses/attempts/<int:attempt_id>",
        "/admin/users/<int:user_id>",
    ):
        assert expected in rules
    assert len(rules) > 40


def test_every_integer_route_answers_a_number_too_large_as_a_missing_thing(app, client, login_as):
    """As an administrator, who may open every page: a missing room, module, attempt, webinar,
    user... answers 404 (or what that page answers for a missing thing), and so must 2**31."""
    login_as("administrator")
    token = csrf_token(client, "/account")
    checked = 0
    for rule, methods in integer_rules(app):
        for method in methods:
            missing = _answer(client, token, rule, method, LARGEST)
            for number in TOO_LARGE:
                answer = _answer(client, token, rule, method, number)
                assert answer == missing, (method, address(rule, number), answer[0], missing[0])
                checked += 1
    assert checked > 100


def _answer(client, token, rule, method, number):
    """Status and page (without its CSRF tokens) of ``method`` on ``rule`` with ``number``."""
    data = {"csrf_token": token} if method != "GET" else None
    response = client.open(address(rule, number), method=method, data=data)
    return response.status_code, without_tokens(response.get_data(as_text=True))


def test_the_apis_numbers_too_large_are_refused_with_its_json_error(app, create_user):
    from tests.api.test_api import token_of

    admin = create_user(role="administrator")
    headers = {"Authorization": f"Bearer {token_of(app, admin)}"}
    client = app.test_client()
    for number in TOO_LARGE:
        for path, code in [
            (f"/api/v1/completions?after={number}", "invalid_page"),
            (f"/api/v1/completions?limit={number}", "invalid_page"),
            (f"/api/v1/statistics?module={number}", "invalid_filters"),
            (f"/api/v1/statistics/periods?module={number}", "invalid_filters"),
        ]:
            response = client.get(path, headers=headers)
            assert response.status_code == 400, path
            assert response.get_json()["error"] == code, path


def test_numbers_too_large_in_query_strings_are_bad_input(app, client, login_as):
    """Paging the audit log, choosing a series to count or a module to report on with such a
    number answers as with a word where the number should be."""
    login_as("administrator")
    for number in TOO_LARGE:
        for path in ("/admin/audit?before=", "/courses/webinars/counts?series=", "/stats/?module="):
            answer, garbage = client.get(f"{path}{number}"), client.get(f"{path}abc")
            assert answer.status_code == garbage.status_code < 500, path
            page = without_tokens(answer.get_data(as_text=True)).replace(str(number), "N")
            assert page == without_tokens(garbage.get_data(as_text=True)).replace("abc", "N")


def chat_events() -> list[str]:
    """The events the chat answers, read from the server's handlers: a new one is covered."""
    return sorted(set(socketio.server.handlers["/"]) - {"connect", "disconnect"})


def test_every_chat_event_answers_a_room_too_large_as_a_missing_room(app, create_user):
    member = create_user(role="administrator")
    connection = connect(app, member)
    events = chat_events()
    assert {"join", "send", "history", "edit", "delete", "mute", "lock"} <= set(events)
    for event in events:
        for number in TOO_LARGE:
            payload = {"room": number, "client_id": "c-1", "body": "x", "seq": 1, "user": 1}
            answer = connection.emit(event, payload, callback=True)
            assert answer == {"ok": False, "error": "not_found"}, (event, number)


def test_every_chat_event_takes_other_numbers_too_large_as_bad_input(app, create_user):
    """``seq``, ``before``, ``after``, ``user`` and ``limit`` past the database's range: each
    event answers as it does for text where the number should be (a missing message or person,
    no position given)."""
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    connection = connect(app, host)
    connection.emit("join", {"room": room_id}, callback=True)
    connection.emit("send", {"room": room_id, "client_id": "c-1", "body": "Bonjour"}, callback=True)
    connection.get_received()
    fields = ("seq", "before", "after", "user", "limit")

    def answer(event, number):
        payload = {"room": room_id, "body": "edited", **dict.fromkeys(fields, number)}
        reply = connection.emit(event, payload, callback=True)
        return reply, [(e["name"], e["args"]) for e in connection.get_received()]

    for event in chat_events():
        if event == "send":
            continue  # it takes none of these numbers, and each call would post a message
        expected = answer(event, "x")
        for number in TOO_LARGE:
            assert answer(event, number) == expected, (event, number)


def test_numbers_too_large_in_forms_are_bad_input(app, client, login_as, create_user):
    """A host's attendance list, a quiz's answers and a module's length with such numbers: the
    form answers as for a person, a question or an option that does not exist, or says what is
    wrong; nothing is stored."""
    from datetime import timedelta

    from courses.models import AttemptAnswer
    from irooms.models import Attendance
    from learnplatform.extensions import db
    from tests.courses.test_modules import build_module, enrol_in, start_post_test
    from tests.helpers import post_form
    from tests.irooms.test_sessions import add_session, attendance, mark

    host = login_as("trainer")
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    session_id = add_session(app, room_id, starts_in=timedelta(hours=-3))
    mark(client, room_id, session_id, member.id, *TOO_LARGE)
    assert attendance(app, session_id) == {member.id: "host"}

    module = post_form(
        client,
        "/courses/manage/new",
        {"title": "Electronic evidence", "theme": "electronic_evidence", "language": "en"}
        | {"estimated_minutes": str(10**30), "enrolment_mode": "open", "summary": "x"},
    )
    assert module.status_code == 200
    assert "Number must be between 5 and 6000." in module.get_data(as_text=True)

    module_id = build_module(app, host.id)
    assert enrol_in(client, module_id).status_code == 302
    attempt_url = start_post_test(client, module_id).headers["Location"]
    answers = {f"q-{number}": [str(number)] for number in TOO_LARGE}
    submitted = post_form(client, attempt_url, answers | {"q-1": [str(2**63)]})
    assert submitted.status_code == 302
    with app.app_context():
        assert db.session.query(AttemptAnswer).count() == 0
        assert db.session.query(Attendance).count() == 1
