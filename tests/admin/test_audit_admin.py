"""The audit log page: filters by event, person and dates that paging keeps, and the filtered log
downloaded as CSV, Excel or JSON, itself recorded in the log."""

import csv
import io
import json
import re
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import insert, select

from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from tests.helpers import count_queries


def add_events(app, *events: dict) -> None:
    """Put events in the log as the platform would have recorded them."""
    with app.app_context():
        db.session.execute(insert(AuditEvent), list(events))
        db.session.commit()


def actions_on(page: str) -> list[str]:
    """The event names listed on an audit page, newest first."""
    return re.findall(r"<td><code>([^<]+)</code></td>", page)


def exported_events(app) -> list[dict]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit_exported").order_by(AuditEvent.id)
        ).all()
        return [{"actor_id": event.actor_id, **event.details} for event in events]


@pytest.fixture
def people(app, login_as, create_user):
    """An administrator logged in, and two people whose accounts have a history."""
    admin = login_as("administrator", name="Zara Administrator")
    amina = create_user("amina.yusuf@example.org", name="Amina Yusuf")
    ivan = create_user("ivan.petrov@example.org", name="Ivan Petrov")
    add_events(
        app,
        {"action": "test.early", "user_id": amina.id, "created_at": datetime(2026, 3, 13, 23, 59)},
        {"action": "test.first_day", "user_id": ivan.id, "created_at": datetime(2026, 3, 14)},
        {
            "action": "test.role",
            "user_id": ivan.id,
            "actor_id": amina.id,
            "created_at": datetime(2026, 3, 15, 12),
        },
        {
            "action": "test.last_day",
            "user_id": amina.id,
            "created_at": datetime(2026, 3, 15, 23, 59),
        },
        {"action": "test.late", "user_id": ivan.id, "created_at": datetime(2026, 3, 16)},
    )
    return admin, amina, ivan


def test_events_are_filtered_by_person_as_subject_or_actor(client, people):
    amina_events = actions_on(client.get("/admin/audit?user=yusuf").get_data(as_text=True))
    assert amina_events == ["test.last_day", "test.role", "test.early"]
    by_address = actions_on(client.get("/admin/audit?user=IVAN.PETROV@").get_data(as_text=True))
    assert by_address == ["test.late", "test.role", "test.first_day"]
    assert actions_on(client.get("/admin/audit?user=Ivan+Yusuf").get_data(as_text=True)) == []
    nobody = client.get("/admin/audit?user=nobody%25").get_data(as_text=True)
    assert actions_on(nobody) == []
    assert "No event matches the filters." in nobody


def test_dates_are_inclusive_days_in_utc_and_combine_with_the_other_filters(client, people):
    page = client.get("/admin/audit?from=2026-03-14&to=2026-03-15").get_data(as_text=True)
    assert actions_on(page) == ["test.last_day", "test.role", "test.first_day"]
    assert 'value="2026-03-14"' in page and 'value="2026-03-15"' in page
    one_day = client.get("/admin/audit?from=2026-03-15&to=2026-03-15&user=petrov")
    assert actions_on(one_day.get_data(as_text=True)) == ["test.role"]
    since = client.get("/admin/audit?from=2026-03-16&action=test.late").get_data(as_text=True)
    assert actions_on(since) == ["test.late"]
    assert '<option value="test.late" selected>test.late</option>' in since
    until = client.get("/admin/audit?to=2026-03-13").get_data(as_text=True)
    assert actions_on(until)[-1:] == ["test.early"]
    assert "test.first_day" not in actions_on(until)
    assert client.get("/admin/audit?to=9999-12-31").status_code == 200


def test_the_event_list_offers_the_actions_present(client, people):
    page = client.get("/admin/audit").get_data(as_text=True)
    options = re.findall(
        r'<option value="([^"]*)"', page.split('id="action"')[1].split("</select>")[0]
    )
    assert options == [
        "",
        "login.success",
        "test.early",
        "test.first_day",
        "test.last_day",
        "test.late",
        "test.role",
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=14/03/2026", "From: “14/03/2026” is not a date; use the form 2026-03-14."),
        ("to=2026-02-30", "To: “2026-02-30” is not a date"),
        ("from=2026-03-16&to=2026-03-14", "The “from” date is after the “to” date"),
    ],
)
def test_a_date_that_cannot_be_used_is_named_and_exports_nothing(
    app, client, people, query, message
):
    page = client.get(f"/admin/audit?{query}").get_data(as_text=True)
    assert message in page
    assert "test.early" in actions_on(page)  # the unusable date filters nothing
    response = client.get(f"/admin/audit/export.csv?{query}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/audit?")
    assert "Nothing was exported: correct the filters first." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert exported_events(app) == []


def test_older_pages_keep_the_filters(app, client, login_as, create_user):
    login_as("administrator")
    watched = create_user("watched@example.org")
    other = create_user("other@example.org")
    add_events(
        app,
        *(
            {"action": f"test.event{number:02d}", "user_id": (watched if number % 4 else other).id}
            for number in range(40)
        ),
    )
    first = client.get("/admin/audit?user=watched").get_data(as_text=True)
    assert len(actions_on(first)) == 25
    older = re.search(r'href="(/admin/audit\?before=[^"]+)">Older events', first).group(1)
    older = older.replace("&amp;", "&")
    assert "user=watched" in older
    rest = actions_on(client.get(older).get_data(as_text=True))
    shown = actions_on(first) + rest
    assert shown == [f"test.event{n:02d}" for n in reversed(range(40)) if n % 4]
    assert "Back to the newest" in client.get(older).get_data(as_text=True)


def test_the_audit_page_costs_the_same_queries_for_5_or_60_events(
    app, client, login_as, create_user
):
    login_as("administrator")

    def add(count):
        for _ in range(count):
            person, actor = create_user(), create_user()
            add_events(app, {"action": "test.event", "user_id": person.id, "actor_id": actor.id})

    add(5)
    few = count_queries(app, client, "/admin/audit?action=test.event&user=person")
    add(55)
    assert count_queries(app, client, "/admin/audit?action=test.event&user=person") == few


HOSTILE_ADDRESS = "=cmd|' /C calc'!A0"


@pytest.fixture
def hostile_history(app, people, create_user):
    """Events whose e-mail addresses, address and details start like spreadsheet formulas."""
    _, amina, _ = people
    trickster = create_user('=hyperlink("http://evil.example")@example.org', name="=1+1")
    add_events(
        app,
        {
            "action": "test.hostile",
            "user_id": trickster.id,
            "actor_id": amina.id,
            "address": HOSTILE_ADDRESS,
            "detail": json.dumps({"name": "=SUM(A1)", "note": "Aïcha"}),
            "created_at": datetime(2026, 3, 15, 8, 30),
        },
    )
    return trickster


def test_the_filtered_log_downloads_as_csv(app, client, people, hostile_history):
    admin, _, _ = people
    response = client.get("/admin/audit/export.csv?user=yusuf&from=2026-03-14")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "ID",
        "Time (UTC)",
        "Action",
        "User e-mail",
        "Actor e-mail",
        "Address",
        "Details",
    ]
    assert [row[2] for row in rows[1:]] == ["test.hostile", "test.last_day", "test.role"]
    hostile = rows[1]
    assert hostile[1] == "2026-03-15T08:30:00Z"
    assert hostile[3] == "'" + hostile_history.email  # inert in a spreadsheet
    assert hostile[4] == "amina.yusuf@example.org"
    assert hostile[5] == "'" + HOSTILE_ADDRESS
    assert json.loads(hostile[6]) == {"name": "=SUM(A1)", "note": "Aïcha"}
    assert exported_events(app) == [
        {
            "actor_id": admin.id,
            "format": "csv",
            "filters": {"user": "yusuf", "from": "2026-03-14"},
        }
    ]


def test_the_filtered_log_downloads_as_an_excel_file_that_runs_nothing(
    app, client, people, hostile_history
):
    response = client.get("/admin/audit/export.xlsx?action=test.hostile")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]][:3] == ["ID", "Time (UTC)", "Action"]
    assert len(rows) == 2
    assert [cell for row in rows for cell in row if cell.data_type == "f"] == []
    event = rows[1]
    assert event[0].data_type == "n"  # the id stays a number
    # Text cells, which a spreadsheet shows and never runs.
    assert (event[3].value, event[3].data_type) == (hostile_history.email, "s")
    assert (event[5].value, event[5].data_type) == (HOSTILE_ADDRESS, "s")
    assert exported_events(app)[0]["format"] == "xlsx"


def test_the_filtered_log_downloads_as_json(app, client, people):
    _, _, ivan = people
    response = client.get("/admin/audit/export.json?user=petrov&to=2026-03-15")
    assert response.mimetype == "application/json"
    events = json.loads(response.get_data(as_text=True))
    assert [event["action"] for event in events] == ["test.role", "test.first_day"]
    assert events[0] == {
        "id": events[0]["id"],
        "time": "2026-03-15T12:00:00Z",
        "action": "test.role",
        "user_email": ivan.email,
        "actor_email": "amina.yusuf@example.org",
        "address": None,
        "details": None,
    }
    assert exported_events(app)[0]["filters"] == {"user": "petrov", "to": "2026-03-15"}


def test_an_export_reads_every_matching_event_in_batches(app, client, login_as):
    login_as("administrator")
    add_events(app, *({"action": "test.bulk"} for _ in range(2500)))
    response = client.get("/admin/audit/export.csv?action=test.bulk")
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 2501
    assert len({line.split(",")[0] for line in lines[1:]}) == 2500


def test_the_page_links_to_the_three_formats_with_its_filters(client, people):
    page = client.get("/admin/audit?user=yusuf&from=2026-03-14").get_data(as_text=True)
    for fmt in ("csv", "xlsx", "json"):
        assert f'href="/admin/audit/export.{fmt}?user=yusuf&amp;from=2026-03-14"' in page


def test_practitioners_and_trainers_get_403_from_the_log_and_its_exports(
    app, client, auth, login_as
):
    for role in ("practitioner", "trainer"):
        login_as(role)
        for path in (
            "/admin/audit",
            "/admin/audit?user=a",
            "/admin/audit/export.csv",
            "/admin/audit/export.xlsx",
            "/admin/audit/export.json?action=login.success",
        ):
            assert client.get(path).status_code == 403, (role, path)
        auth.logout()
    assert client.get("/admin/audit/export.csv").headers["Location"].startswith("/login")
    assert exported_events(app) == []
