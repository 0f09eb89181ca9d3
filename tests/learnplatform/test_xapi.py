"""xAPI statements reach a real Learning Record Store (Ralph, tests/lrs.py) and are read back
from it as an organisation's dashboard reads them: who, what, in order, once, through outages."""

import json
import threading
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from learnplatform import xapi
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.xapi import XapiStatement, sending
from learnplatform.xapi.statements import iso_duration


@pytest.fixture
def app(lrs_app):
    """Every test here sends statements to the LRS."""
    return lrs_app


def module_activity(number: int = 7) -> dict:
    return xapi.activity(
        "module", "courses.module", module_id=number, name="Financing of terrorism", language="fr"
    )


def record(app, user_id: int, verb: str = "completed", **kwargs) -> str | None:
    """Record one statement in a transaction of its own, as a request does; its id."""
    with app.app_context():
        user = db.session.get(User, user_id)
        row = xapi.record(user, verb, kwargs.pop("activity", None) or module_activity(), **kwargs)
        db.session.commit()
        return row.statement_id if row else None


def outbox(app) -> list[XapiStatement]:
    with app.app_context():
        rows = db.session.scalars(select(XapiStatement).order_by(XapiStatement.id)).all()
        db.session.expunge_all()
        return rows


def later(minutes: int = 2):
    return utcnow() + timedelta(minutes=minutes)


def test_a_statement_names_the_person_by_an_opaque_account_never_the_email(app, lrs, create_user):
    person = create_user(email="amina.diallo@justice.example.org", name="Amina Diallo")
    statement_id = record(
        app,
        person.id,
        "passed",
        result=xapi.result(raw=8, minimum=0, maximum=10, success=True, duration=95.5),
    )

    (statement,) = lrs.statements()
    assert statement["id"] == statement_id
    assert statement["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "http://localhost", "name": person.xapi_id},
    }
    assert "amina" not in json.dumps(statement).lower()
    assert "diallo" not in json.dumps(statement).lower()
    assert statement["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/passed",
        "display": {"en-US": "passed"},
    }
    assert statement["object"] == {
        "objectType": "Activity",
        "id": "http://localhost/courses/modules/7",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/module",
            "name": {"fr": "Financing of terrorism"},
        },
    }
    assert statement["result"] == {
        "score": {"raw": 8, "min": 0, "max": 10, "scaled": 0.8},
        "success": True,
        "duration": "PT1M35.5S",
    }
    assert statement["context"] == {"platform": "learnplatform", "language": "fr"}
    assert statement["timestamp"].endswith("Z")
    assert statement["authority"]["account"]["name"] == lrs.key  # who sent it, to the LRS
    (row,) = outbox(app)
    assert row.sent_at is not None and row.next_attempt_at is None


def test_public_origin_names_the_accounts_and_activities(app, lrs, create_user):
    app.config["PUBLIC_ORIGIN"] = "https://learn.example.org"
    person = create_user()
    record(app, person.id)

    (statement,) = lrs.statements()
    assert statement["actor"]["account"]["homePage"] == "https://learn.example.org"
    assert statement["object"]["id"] == "https://learn.example.org/courses/modules/7"


def test_an_administrator_may_choose_the_email_as_actor(app, lrs, create_user):
    app.config["XAPI_ACTOR"] = "mbox"
    person = create_user(email="amina.diallo@justice.example.org", name="Amina Diallo")
    record(app, person.id)

    (statement,) = lrs.statements()
    assert statement["actor"] == {
        "objectType": "Agent",
        "name": "Amina Diallo",
        "mbox": "mailto:amina.diallo@justice.example.org",
    }


def test_each_person_has_a_stable_opaque_name_of_their_own(app, create_user):
    first, second = create_user(), create_user()
    assert len(first.xapi_id) == 32 and first.xapi_id != second.xapi_id
    with app.app_context():
        assert db.session.get(User, first.id).xapi_id == first.xapi_id


def test_statements_arrive_in_the_order_they_happened(app, lrs, create_user, monkeypatch):
    monkeypatch.setattr(sending, "BATCH", 2)  # the order holds across batches
    person = create_user()
    with app.app_context():
        user = db.session.get(User, person.id)
        ids = [
            xapi.record(user, verb, module_activity()).statement_id
            for verb in ("registered", "progressed", "progressed", "completed", "passed")
        ]
        db.session.commit()  # one job sends the five
    ids.append(record(app, person.id, "downloaded"))

    assert [statement["id"] for statement in lrs.statements()] == ids
    assert [statement["verb"]["display"]["en-US"] for statement in lrs.statements()] == [
        "registered",
        "progressed",
        "progressed",
        "completed",
        "passed",
        "downloaded",
    ]


def test_statements_wait_while_the_lrs_is_down_and_all_arrive_once_it_is_back(
    app, lrs, create_user
):
    person = create_user()
    lrs.stop()
    ids = [record(app, person.id, verb) for verb in ("registered", "progressed", "completed")]

    first, *others = outbox(app)
    assert all(row.sent_at is None for row in outbox(app))
    assert first.attempts == 1  # the first commit's job tried; the others waited behind it
    assert first.next_attempt_at > utcnow()
    assert first.last_error.startswith("no answer: URLError")
    assert all(row.attempts == 0 for row in others)

    lrs.start()
    with app.app_context():
        assert sending.send_waiting.call_local() == 0  # its next try has not come yet
        assert sending.send_waiting.call_local(later()) == 3

    assert [statement["id"] for statement in lrs.statements()] == ids
    assert all(row.sent_at is not None for row in outbox(app))


def test_the_wait_doubles_while_the_lrs_stays_away(app, lrs, create_user):
    person = create_user()
    lrs.stop()
    record(app, person.id)
    with app.app_context():
        for minutes in (2, 10, 30):
            sending.send_waiting.call_local(later(minutes))
    (row,) = outbox(app)
    assert row.attempts == 4
    assert later(30) + timedelta(minutes=7) < row.next_attempt_at < later(30 + 9)


def test_senders_at_once_or_one_after_another_send_nothing_twice(app, lrs, create_user):
    person = create_user()
    lrs.stop()
    ids = [record(app, person.id) for _ in range(30)]
    lrs.start()

    counts: list[int] = []

    def sender():
        with app.app_context():
            counts.append(sending.send_due(later()))

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        assert sending.send_waiting.call_local(later()) == 0

    assert sum(counts) == 30
    assert [statement["id"] for statement in lrs.statements()] == ids


def test_a_statement_sent_again_after_a_crash_is_kept_once_by_the_lrs(app, lrs, create_user):
    person = create_user()
    ids = [record(app, person.id) for _ in range(3)]
    with app.app_context():  # a sender died after the LRS's answer, before its commit
        db.session.execute(
            XapiStatement.__table__.update().values(sent_at=None, next_attempt_at=utcnow())
        )
        db.session.commit()
        assert sending.send_waiting.call_local() == 3

    assert [statement["id"] for statement in lrs.statements()] == ids
    assert all(row.sent_at is not None for row in outbox(app))


def test_a_statement_the_lrs_holds_differently_is_taken_as_sent(app, lrs, create_user, caplog):
    person = create_user()
    lrs.stop()
    first = record(app, person.id, "registered")
    taken = record(app, person.id, "progressed")
    last = record(app, person.id, "completed")
    lrs.start()
    (row,) = [row for row in outbox(app) if row.statement_id == taken]
    other = {**json.loads(row.payload), "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}
    assert lrs.post([other]) == 200  # another system used the id first

    with app.app_context():
        assert sending.send_waiting.call_local(later()) == 3

    assert [statement["id"] for statement in lrs.statements()] == [taken, first, last]
    assert all(row.sent_at is not None for row in outbox(app))
    (row,) = [row for row in outbox(app) if row.statement_id == taken]
    assert row.last_error.startswith("409: ")
    assert "the LRS has one with its id already" in caplog.text


def test_a_statement_the_lrs_refuses_does_not_block_the_next_ones(app, lrs, create_user, caplog):
    person = create_user()
    lrs.stop()
    first = record(app, person.id, "registered")
    with app.app_context():  # a producer's mistake: a statement without a verb
        db.session.add(
            XapiStatement(
                statement_id=str(uuid4()),
                payload=json.dumps(
                    {
                        "id": str(uuid4()),
                        "actor": {"account": {"homePage": "http://localhost", "name": "x"}},
                        "object": {"id": "http://localhost/courses/modules/7"},
                    }
                ),
            )
        )
        db.session.commit()
    last = record(app, person.id, "completed")
    lrs.start()

    with app.app_context():
        assert sending.send_waiting.call_local(later()) == 2
        assert sending.send_waiting.call_local(later(10)) == 0  # it is not tried again

    assert [statement["id"] for statement in lrs.statements()] == [first, last]
    refused = outbox(app)[1]
    assert refused.is_refused
    assert refused.last_error.startswith("422: ")
    assert "refused by the LRS, not sent" in caplog.text
    result = app.test_cli_runner().invoke(args=["xapi"])
    assert "Waiting: 0" in result.output
    assert "Refused by the LRS: 1" in result.output
    assert refused.statement_id in result.output


def test_wrong_credentials_keep_statements_waiting_not_refused(app, lrs, create_user):
    app.config["LRS_SECRET"] = "not the secret"
    person = create_user()
    record(app, person.id)

    (row,) = outbox(app)
    assert row.sent_at is None and not row.is_refused
    assert row.last_error.startswith("401: ")
    result = app.test_cli_runner().invoke(args=["xapi"])
    assert "Waiting: 1" in result.output
    assert "failed 1 times" in result.output
    assert lrs.statements() == []


def test_without_an_lrs_nothing_is_recorded(app, lrs, create_user):
    app.config["LRS_URL"] = ""
    person = create_user()
    assert record(app, person.id) is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(XapiStatement)) == 0
        assert sending.send_waiting.call_local() == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "PT0S"), (59.5, "PT59.5S"), (3600, "PT1H"), (3723.25, "PT1H2M3.25S")],
)
def test_durations_are_iso_8601(seconds, text):
    assert iso_duration(seconds) == text
    assert iso_duration(timedelta(seconds=seconds)) == text
