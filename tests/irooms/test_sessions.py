"""Live sessions of a room through the pages: scheduling, times, recordings, attendance marked by
hosts and by presence, the attendance export, and who may see or change what."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.http import parse_options_header

from irooms import sessions as service
from irooms.models import Attendance, LiveSession, Membership, Room
from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent, utcnow
from learnplatform.extensions import db
from tests.courses.test_webinars import series_with_webinar
from tests.helpers import Auth, count_queries, csrf_token, in_parallel, post_form
from tests.irooms.test_rooms import add_room

FORM = {
    "title": "Special investigative techniques: controlled deliveries",
    "agenda": "1. Legal basis\n2. Cases from Niger and Mali",
    "starts_at": "2026-03-14T14:00",
    "ends_at": "2026-03-14T16:00",
    "conference_url": "https://meet.example.org/sahel-prosecutors",
    "webinar_id": "",
}


def add_session(app, room_id, *, title="Mutual legal assistance", starts_in=timedelta(days=3)):
    """A two-hour session of ``room_id`` starting ``starts_in`` from now (negative: past)."""
    with app.app_context():
        starts_at = utcnow().replace(second=0, microsecond=0) + starts_in
        session = LiveSession(
            room_id=room_id,
            title=title,
            agenda="Requests, channels, deadlines.",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            conference_url="https://meet.example.org/mla",
        )
        db.session.add(session)
        db.session.commit()
        return session.id


def sessions_of(app, room_id) -> list[LiveSession]:
    with app.app_context():
        found = db.session.scalars(
            select(LiveSession).where(LiveSession.room_id == room_id).order_by(LiveSession.id)
        ).all()
        db.session.expunge_all()
        return found


def attendance(app, session_id) -> dict[int, str]:
    """Who is marked present at the session, with how: user id to source."""
    with app.app_context():
        rows = db.session.execute(
            select(Attendance.user_id, Attendance.source).where(Attendance.session_id == session_id)
        )
        return {user_id: source for user_id, source in rows}


def audit_events(app, prefix="") -> list[tuple[str, dict]]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        ).all()
        return [(event.action, event.details) for event in events]


def as_user(app, user):
    browser = app.test_client()
    Auth(browser).login(user.email)
    return browser


def mark(client, room_id, session_id, *user_ids, **extra):
    """Tick the boxes of ``user_ids`` on the session's page and save."""
    return post_form(
        client,
        f"/irooms/{room_id}/sessions/{session_id}/attendance",
        {"present": [str(user_id) for user_id in user_ids], **extra},
        form_url=f"/irooms/{room_id}/sessions/{session_id}",
    )


def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    response.close()
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# Scheduling, editing, deleting.
def test_a_host_schedules_edits_and_deletes_a_session(app, client, login_as, create_user):
    host = login_as("trainer")
    participant = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (participant, "participant")])

    response = post_form(client, f"/irooms/{room_id}/sessions/new", FORM)
    assert response.status_code == 302
    (session,) = sessions_of(app, room_id)
    assert response.headers["Location"] == f"/irooms/{room_id}/sessions/{session.id}"
    assert (session.starts_at, session.ends_at) == (
        datetime(2026, 3, 14, 14, 0),
        datetime(2026, 3, 14, 16, 0),
    )
    assert session.conference_url == FORM["conference_url"]
    assert session.created_by_id == host.id and session.webinar_id is None

    page = as_user(app, participant).get(f"/irooms/{room_id}/sessions/{session.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<time datetime="2026-03-14T14:00:00Z" data-local-time="full">' in text
    assert "Saturday, March 14, 2026, 2:00\u202fPM UTC" in text and "4:00\u202fPM UTC" in text
    assert "/static/js/local-time.js" in text
    assert "1. Legal basis\n2. Cases from Niger and Mali" in text
    assert "Edit the session" not in text and "Download attendance" not in text

    response = post_form(
        client,
        f"/irooms/{room_id}/sessions/{session.id}/edit",
        FORM | {"title": "Controlled deliveries across borders", "conference_url": ""},
    )
    assert response.status_code == 302
    (edited,) = sessions_of(app, room_id)
    assert edited.title == "Controlled deliveries across borders"
    assert edited.conference_url is None

    with app.app_context():
        db.session.add(Attendance(session_id=session.id, user_id=participant.id))
        db.session.commit()
    response = post_form(
        client,
        f"/irooms/{room_id}/sessions/{session.id}/delete",
        {},
        form_url=f"/irooms/{room_id}/sessions/{session.id}",
        follow_redirects=True,
    )
    assert "The session is deleted." in response.get_data(as_text=True)
    assert sessions_of(app, room_id) == []
    assert attendance(app, session.id) == {}
    assert [action for action, _ in audit_events(app, "live_session")] == [
        "live_session_scheduled",
        "live_session_edited",
        "live_session_deleted",
    ]


def test_members_see_sessions_to_come_soonest_first_then_past_ones(
    app, client, login_as, create_user
):
    me = login_as()
    room_id = add_room(app, "Sahel prosecutors", [(me, "participant")])
    add_session(app, room_id, title="Later", starts_in=timedelta(days=9))
    add_session(app, room_id, title="Sooner", starts_in=timedelta(days=2))
    add_session(app, room_id, title="Under way now", starts_in=timedelta(minutes=-30))
    add_session(app, room_id, title="Long ago", starts_in=timedelta(days=-60))
    add_session(app, room_id, title="Last week", starts_in=timedelta(days=-7))

    page = client.get(f"/irooms/{room_id}/sessions").get_data(as_text=True)
    order = ["Under way now", "Sooner", "Later", "Past sessions", "Last week", "Long ago"]
    positions = [page.index(title) for title in order]
    assert positions == sorted(positions)
    assert "Under way" in page
    assert "Join the video conference" in page
    assert "Schedule a session" not in page
    assert "attended" not in page  # counts are for hosts


def test_the_overview_offers_the_next_sessions(app, client, login_as):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    with app.app_context():
        assert service.upcoming(room_id) == []
    add_session(app, room_id, title="Past", starts_in=timedelta(days=-3))
    ids = [
        add_session(app, room_id, title=f"Session {n}", starts_in=timedelta(days=n))
        for n in (4, 1, 3, 2)
    ]
    other_room = add_room(app, "Central Asia", [(host, "host")])
    add_session(app, other_room, title="Elsewhere", starts_in=timedelta(days=1))
    with app.app_context():
        assert [s.title for s in service.upcoming(room_id)] == [
            "Session 1",
            "Session 2",
            "Session 3",
        ]
        assert [s.title for s in service.upcoming(room_id, limit=1)] == ["Session 1"]
        by_room = service.next_sessions([room_id, other_room], 2)
        assert [s.title for s in by_room[room_id]] == ["Session 1", "Session 2"]
        assert [s.title for s in by_room[other_room]] == ["Elsewhere"]
    page = client.get(f"/irooms/{room_id}").get_data(as_text=True)
    assert "Next sessions" in page
    assert f"/irooms/{room_id}/sessions/{ids[1]}" in page  # Session 1
    assert f"/irooms/{room_id}/sessions/{ids[0]}" not in page  # Session 4, beyond three
    assert "data-local-time" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ends_at": "2026-03-14T13:00"}, "The end must come after the start."),
        ({"ends_at": "2026-03-14T14:00"}, "The end must come after the start."),
        ({"ends_at": "2026-03-15T14:01"}, "A session lasts at most 24 hours."),
        ({"starts_at": ""}, "Give the start, for example 2026-03-14 14:00."),
        ({"starts_at": "14/03/2026"}, "Not a valid datetime value."),
        ({"title": "   "}, "This field is required."),
        ({"conference_url": "javascript:alert(document.cookie)"}, "starting with https://"),
        ({"conference_url": " JavaScript:alert(1)"}, "starting with https://"),
        ({"conference_url": "data:text/html,<script>alert(1)</script>"}, "starting with https://"),
        ({"conference_url": "ftp://files.example.org/"}, "starting with https://"),
        ({"conference_url": "https:///no-host"}, "starting with https://"),
        ({"conference_url": "https://meet.example.org/a b"}, "starting with https://"),
    ],
)
def test_wrong_details_are_refused_with_a_message_and_change_nothing(
    app, client, login_as, fields, message
):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    response = post_form(client, f"/irooms/{room_id}/sessions/new", FORM | fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert sessions_of(app, room_id) == []
    assert audit_events(app, "live_session") == []


def test_a_24_hour_session_and_an_http_address_are_accepted(app, client, login_as):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    fields = {"ends_at": "2026-03-15T14:00", "conference_url": "http://meet.example.org/x"}
    assert post_form(client, f"/irooms/{room_id}/sessions/new", FORM | fields).status_code == 302
    (session,) = sessions_of(app, room_id)
    assert session.ends_at - session.starts_at == timedelta(hours=24)


def test_the_recording_is_chosen_among_the_hosts_webinars_with_a_recording(
    app, client, login_as, create_user
):
    host = login_as("trainer")
    participant = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (participant, "participant")])
    _, mine = series_with_webinar(app, host.id)
    _, not_recorded = series_with_webinar(app, host.id, recording=False)
    _, others = series_with_webinar(app, create_user(role="trainer").id)

    form = client.get(f"/irooms/{room_id}/sessions/new").get_data(as_text=True)
    assert f'<option value="{mine}">' in form
    assert f'value="{not_recorded}"' not in form and f'value="{others}"' not in form

    for refused in (others, not_recorded, 999_999):
        response = post_form(
            client, f"/irooms/{room_id}/sessions/new", FORM | {"webinar_id": str(refused)}
        )
        assert "Not a valid choice." in response.get_data(as_text=True)
    assert sessions_of(app, room_id) == []

    post_form(client, f"/irooms/{room_id}/sessions/new", FORM | {"webinar_id": str(mine)})
    (session,) = sessions_of(app, room_id)
    assert session.webinar_id == mine
    for path in (f"/irooms/{room_id}/sessions", f"/irooms/{room_id}/sessions/{session.id}"):
        page = as_user(app, participant).get(path).get_data(as_text=True)
        assert f'href="/courses/webinars/{mine}"' in page and "Watch the recording" in page


# Attendance.
def test_a_host_marks_and_unmarks_attendance(app, client, login_as, create_user):
    host = login_as("trainer")
    first, second, outsider = create_user(), create_user(), create_user()
    room_id = add_room(
        app, "Sahel prosecutors", [(host, "host"), (first, "participant"), (second, "expert")]
    )
    session_id = add_session(app, room_id, starts_in=timedelta(hours=-3))

    page = client.get(f"/irooms/{room_id}/sessions/{session_id}").get_data(as_text=True)
    assert f'name="present" value="{first.id}"' in page
    assert f"/irooms/{room_id}/sessions/{session_id}/attendance.csv" in page
    assert "Download attendance (CSV)" in page

    mark(client, room_id, session_id, first.id, second.id, outsider.id)
    assert attendance(app, session_id) == {first.id: "host", second.id: "host"}
    with app.app_context():
        assert {a.marked_by_id for a in db.session.scalars(select(Attendance))} == {host.id}
    page = client.get(f"/irooms/{room_id}/sessions/{session_id}").get_data(as_text=True)
    assert f'value="{first.id}" id="present-{first.id}" checked' in page
    assert "2 people marked present." in page
    assert "2 attended" in client.get(f"/irooms/{room_id}/sessions").get_data(as_text=True)

    mark(client, room_id, session_id, first.id, second.id)  # the same again: nothing changes
    mark(client, room_id, session_id, second.id)
    assert attendance(app, session_id) == {second.id: "host"}
    assert audit_events(app, "live_session_attendance") == [
        (
            "live_session_attendance_changed",
            {"room_id": room_id, "session_id": session_id, "marked": [first.id, second.id]}
            | {"unmarked": []},
        ),
        (
            "live_session_attendance_changed",
            {"room_id": room_id, "session_id": session_id, "marked": [], "unmarked": [first.id]},
        ),
    ]


def test_attendance_posted_twice_at_once_is_recorded_once(app, create_user):
    host, member = create_user(role="trainer"), create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    session_id = add_session(app, room_id, starts_in=timedelta(hours=-3))
    url = f"/irooms/{room_id}/sessions/{session_id}/attendance"

    def prepare(browser):
        token = csrf_token(browser, f"/irooms/{room_id}/sessions/{session_id}")
        return lambda: browser.post(url, data={"csrf_token": token, "present": member.id})

    results = in_parallel(app, host.email, 4, prepare)
    assert [response.status_code for response in results] == [302] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count(Attendance.id))) == 1
    assert attendance(app, session_id) == {member.id: "host"}
    assert len(audit_events(app, "live_session_attendance")) == 1


def test_presence_in_the_room_marks_attendance_once(app, client, login_as, create_user):
    host, member = login_as("trainer"), create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    session_id = add_session(app, room_id, starts_in=timedelta(minutes=-10))
    with app.app_context():
        session = db.session.get(LiveSession, session_id)
        person = db.session.get(User, member.id)
        assert service.mark_presence(session, person) is True
        assert service.mark_presence(session, person) is False
        db.session.commit()
    assert attendance(app, session_id) == {member.id: "presence"}
    page = client.get(f"/irooms/{room_id}/sessions/{session_id}").get_data(as_text=True)
    assert "Online in the room" in page

    # A host ticking the box too keeps the row as it is; unticking removes it.
    mark(client, room_id, session_id, member.id)
    assert attendance(app, session_id) == {member.id: "presence"}
    mark(client, room_id, session_id)
    assert attendance(app, session_id) == {}


def test_former_members_stay_marked_and_are_exported(app, client, login_as, create_user):
    host, former = login_as("trainer"), create_user(name="Former Member")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (former, "participant")])
    session_id = add_session(app, room_id, starts_in=timedelta(days=-2))
    mark(client, room_id, session_id, former.id)
    with app.app_context():
        db.session.execute(Membership.__table__.delete().where(Membership.user_id == former.id))
        db.session.commit()
    mark(client, room_id, session_id)
    assert attendance(app, session_id) == {former.id: "host"}
    rows = read_csv(client.get(f"/irooms/{room_id}/sessions/{session_id}/attendance.csv"))
    assert rows[1][0] == "Former Member" and rows[1][4] == "No longer a member"


# The export.
def test_the_attendance_export_is_streamed_neutralised_and_audited(
    app, client, login_as, create_user
):
    host = login_as("trainer", name="Kwame Mensah")
    hostile = create_user(name='=HYPERLINK("http://x")', email="hostile@example.org")
    others = [
        create_user(name="+cmd|' /C calc'!A0", country="ML"),
        create_user(name="@SUM(1+1)", country="NE"),
        create_user(name="-2+3", country="BF"),
        create_user(name="\tTabbed", country="TD"),
        create_user(name="Aïcha Bamba", country="SN"),
        create_user(name="-12", country="MR"),
    ]
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == hostile.id).values(organisation="-1-1 Ministry")
        )
        db.session.commit()
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [(host, "host"), (hostile, "participant"), *[(other, "expert") for other in others]],
    )
    session_id = add_session(app, room_id, title="Mutual legal assistance: <b>MLA</b>")
    mark(client, room_id, session_id, hostile.id, *[other.id for other in others])

    response = client.get(f"/irooms/{room_id}/sessions/{session_id}/attendance.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    disposition, params = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "attachment"
    day = sessions_of(app, room_id)[0].starts_at.date().isoformat()
    assert params["filename"] == f"attendance-{day}-mutual-legal-assistance-b-mla-b.csv"
    assert "no-store" in response.headers["Cache-Control"]
    rows = read_csv(response)
    assert rows[0] == [
        "Name",
        "E-mail",
        "Country",
        "Organisation",
        "Room role",
        "Source",
        "Marked at (UTC)",
    ]
    by_email = {row[1]: row for row in rows[1:]}
    assert len(by_email) == 7
    row = by_email["hostile@example.org"]
    assert row[0] == '\'=HYPERLINK("http://x")'
    assert row[2] == "Kenya"
    assert row[3] == "'-1-1 Ministry"
    assert row[4:6] == ["Participant", "Marked by a host"]
    assert datetime.fromisoformat(row[6].removesuffix("Z")) <= utcnow()
    assert row[6].endswith("Z")
    names = {row[0] for row in rows[1:]}
    assert {"'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3", "'\tTabbed", "Aïcha Bamba"} <= names
    assert "-12" in names  # a number stays a number
    assert all(row[0][:1] not in "=+@\t" for row in rows[1:])

    (event,) = audit_events(app, "attendance_exported")
    assert event[1] == {"room_id": room_id, "session_id": session_id}
    with app.app_context():
        assert (
            db.session.scalar(
                select(AuditEvent.actor_id).where(AuditEvent.action == "attendance_exported")
            )
            == host.id
        )


# Who may see and do what.
def session_urls(room_id, session_id) -> list[tuple[str, str]]:
    base = f"/irooms/{room_id}/sessions"
    return [
        ("get", base),
        ("get", f"{base}/new"),
        ("post", f"{base}/new"),
        ("get", f"{base}/{session_id}"),
        ("get", f"{base}/{session_id}/edit"),
        ("post", f"{base}/{session_id}/edit"),
        ("post", f"{base}/{session_id}/delete"),
        ("post", f"{base}/{session_id}/attendance"),
        ("get", f"{base}/{session_id}/attendance.csv"),
    ]


def request_as(browser, method, url, token):
    if method == "get":
        return browser.get(url)
    return browser.post(url, data={"csrf_token": token, **FORM})


def test_a_participant_may_read_but_not_manage(app, client, login_as, create_user):
    me = login_as()
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(me, "participant"), (host, "host")])
    session_id = add_session(app, room_id)
    token = csrf_token(client, f"/irooms/{room_id}/sessions/{session_id}")
    for method, url in session_urls(room_id, session_id):
        expected = 200 if url.endswith(("/sessions", f"/sessions/{session_id}")) else 403
        assert request_as(client, method, url, token).status_code == expected, url
    (session,) = sessions_of(app, room_id)
    assert session.title == "Mutual legal assistance"
    assert attendance(app, session_id) == {}


@pytest.mark.parametrize("who", ["outsider", "member of another room", "trainer"])
def test_outsiders_get_404_on_every_session_url(app, client, login_as, create_user, who):
    me = login_as("trainer" if who == "trainer" else "practitioner")
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    session_id = add_session(app, room_id)
    if who == "member of another room":
        add_room(app, "Central Asia", [(me, "host")])
    token = csrf_token(client, "/account")
    for method, url in [
        *session_urls(room_id, session_id),
        *session_urls(999_999, session_id),
        *session_urls(room_id, 999_999)[3:],
    ]:
        assert request_as(client, method, url, token).status_code == 404, url
    assert len(sessions_of(app, room_id)) == 1


def test_a_session_of_another_room_is_404_under_this_room(app, client, login_as, create_user):
    me = login_as("trainer")
    other_host = create_user(role="trainer")
    mine = add_room(app, "Sahel prosecutors", [(me, "host")])
    theirs = add_room(app, "Central Asia", [(other_host, "host")])
    their_session = add_session(app, theirs, title="Their session")
    with app.app_context():
        db.session.add(Attendance(session_id=their_session, user_id=other_host.id))
        db.session.commit()
    token = csrf_token(client, f"/irooms/{mine}/sessions")
    for method, url in session_urls(mine, their_session)[3:]:
        assert request_as(client, method, url, token).status_code == 404, url
    (session,) = sessions_of(app, theirs)
    assert session.title == "Their session"
    assert attendance(app, their_session) == {other_host.id: "host"}


def test_an_administrator_manages_any_rooms_sessions(app, client, login_as, create_user):
    login_as("administrator")
    room_id = add_room(app, "Sahel prosecutors", [(create_user(role="trainer"), "host")])
    assert post_form(client, f"/irooms/{room_id}/sessions/new", FORM).status_code == 302
    assert len(sessions_of(app, room_id)) == 1


def test_extra_fields_are_ignored(app, client, login_as, create_user):
    host = login_as("trainer")
    member, other_host = create_user(), create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    other_room = add_room(app, "Central Asia", [(other_host, "host")])
    extra = {
        "room_id": str(other_room),
        "created_by_id": str(other_host.id),
        "id": "777",
        "created_at": "2001-01-01T00:00:00",
        "role": "administrator",
        "is_admin": "1",
    }
    post_form(client, f"/irooms/{room_id}/sessions/new", FORM | extra)
    (session,) = sessions_of(app, room_id)
    assert session.id != 777 and session.created_by_id == host.id
    assert session.created_at.year != 2001
    assert sessions_of(app, other_room) == []

    mark(client, room_id, session.id, member.id, source="presence", user_id=str(other_host.id))
    assert attendance(app, session.id) == {member.id: "host"}
    with app.app_context():
        assert db.session.get(User, host.id).role == "trainer"


def test_html_in_titles_and_agendas_is_shown_as_text(app, client, login_as, create_user):
    host = login_as("trainer")
    member = create_user(name='<img src=x onerror="alert(1)">Moussa')
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    day = date.today() + timedelta(days=10)
    fields = {
        "title": "<script>alert('title')</script>Briefing",
        "agenda": '<a href="javascript:alert(1)">agenda</a>',
        "starts_at": f"{day}T09:00",
        "ends_at": f"{day}T10:00",
    }
    post_form(client, f"/irooms/{room_id}/sessions/new", FORM | fields)
    (session,) = sessions_of(app, room_id)
    with app.app_context():
        assert db.session.scalar(select(LiveSession.title)) == fields["title"]
    for path in (
        f"/irooms/{room_id}/sessions",
        f"/irooms/{room_id}/sessions/{session.id}",
        f"/irooms/{room_id}/sessions/{session.id}/edit",
        f"/irooms/{room_id}",
    ):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(" not in page, path
        assert "&lt;script&gt;alert(" in page, path
        assert '<a href="javascript:' not in page and "<img src=x" not in page, path
    page = client.get(f"/irooms/{room_id}/sessions/{session.id}").get_data(as_text=True)
    assert "&lt;img src=x" in page


def test_the_sessions_page_keeps_its_query_count(app, client, login_as, create_user):
    host = login_as("trainer")
    members = [create_user() for _ in range(3)]
    room_id = add_room(
        app, "Sahel prosecutors", [(host, "host"), *[(m, "participant") for m in members]]
    )
    _, webinar_id = series_with_webinar(app, host.id, recording=False)

    def add(count):
        with app.app_context():
            for number in range(count):
                starts_at = utcnow() + timedelta(days=number - count + 2)
                session = LiveSession(
                    room_id=room_id,
                    title=f"Session {number}",
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=1),
                    webinar_id=webinar_id if number % 2 else None,
                    conference_url="https://meet.example.org/x",
                )
                db.session.add(session)
                db.session.flush()
                for member in members[: number % 4]:
                    db.session.add(Attendance(session_id=session.id, user_id=member.id))
            db.session.commit()

    add(3)
    few = count_queries(app, client, f"/irooms/{room_id}/sessions")
    add(27)
    assert count_queries(app, client, f"/irooms/{room_id}/sessions") == few
    page = client.get(f"/irooms/{room_id}/sessions?page=2")
    assert page.status_code == 200


def test_a_read_only_room_refuses_changes_but_keeps_its_record(app, client, login_as, create_user):
    host, member = login_as("trainer"), create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    session_id = add_session(app, room_id, starts_in=timedelta(days=-30))
    mark(client, room_id, session_id, member.id)
    with app.app_context():
        db.session.execute(
            update(Room).where(Room.id == room_id).values(ends_on=date.today() - timedelta(days=1))
        )
        db.session.commit()

    token = csrf_token(client, f"/irooms/{room_id}/sessions")
    for method, url in session_urls(room_id, session_id):
        expected = 200 if method == "get" and not url.endswith(("/new", "/edit")) else 403
        assert request_as(client, method, url, token).status_code == expected, url
    page = client.get(f"/irooms/{room_id}/sessions").get_data(as_text=True)
    assert "Schedule a session" not in page
    page = client.get(f"/irooms/{room_id}/sessions/{session_id}").get_data(as_text=True)
    assert "<fieldset disabled>" in page and "Save the attendance" not in page
    assert attendance(app, session_id) == {member.id: "host"}
    assert len(sessions_of(app, room_id)) == 1
