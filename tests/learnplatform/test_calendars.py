"""Calendars through the pages: "Add to calendar" files of sessions and webinars, the private feed
made and revoked on the profile, and the files themselves, parsed as a calendar program would."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select, update
from werkzeug.http import parse_options_header

from courses.models import Webinar, WebinarSeries
from irooms.models import LiveSession, Room
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.calendars import ics
from learnplatform.calendars.models import CalendarFeed
from learnplatform.extensions import db
from tests.helpers import QueryCounter, post_form
from tests.irooms.test_rooms import add_room
from tests.irooms.test_sessions import add_session, as_user, audit_events

NEW_ADDRESS = re.compile(r'id="new-feed-url"[^>]*value="([^"]+)"')


def add_webinar(app, title="Preservation requests", *, starts_in=timedelta(days=5), room_ids=()):
    """A webinar of a series of its own starting ``starts_in`` from now; the series is seen only
    by the members of ``room_ids`` when given, by everyone otherwise."""
    with app.app_context():
        series = WebinarSeries(title="Digital evidence", theme="cbrn", language="en")
        series.rooms = [db.session.get(Room, room_id) for room_id in room_ids]
        webinar = Webinar(
            series=series,
            title=title,
            starts_at=utcnow().replace(second=0, microsecond=0) + starts_in,
            speakers="Judge Carlos Mendes",
            language="en",
            description="How to ask a provider abroad to keep data.",
        )
        db.session.add(webinar)
        db.session.commit()
        return webinar.id


def live_session(app, session_id) -> LiveSession:
    with app.app_context():
        found = db.session.get(LiveSession, session_id)
        db.session.expunge(found)
        return found


def parsed(response) -> Calendar:
    """The calendar a program would read from ``response``, after checking it says it is one."""
    assert response.status_code == 200, response.status
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.get_data())


def the_event(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def in_utc(event, name) -> datetime:
    """An event's time as the naive UTC time the database keeps."""
    return event.decoded(name).astimezone(UTC).replace(tzinfo=None)


def time_zones(calendar: Calendar) -> set[str]:
    return {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}


def make_feed_address(client) -> str:
    """Press "Make my calendar address" on the profile; the path of the address it shows once."""
    response = post_form(client, "/calendar/feed", {}, form_url="/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account#calendar-feed"
    page = client.get("/account")
    assert page.headers["Cache-Control"] == "private, no-store"
    match = NEW_ADDRESS.search(page.get_data(as_text=True))
    assert match, "no new address on the profile"
    assert match.group(1).startswith("http://localhost/calendar/feed/")
    return match.group(1).removeprefix("http://localhost")


# "Add to calendar": one session.
def test_members_add_a_session_in_their_own_time_zone_at_the_same_instant(app, create_user):
    in_tokyo = create_user(time_zone="Asia/Tokyo")
    in_new_york = create_user(time_zone="America/New_York")
    room_id = add_room(app, "Sahel prosecutors", [(in_tokyo, "participant"), (in_new_york, "host")])
    session_id = add_session(app, room_id, title="Mutual legal assistance")
    session = live_session(app, session_id)

    read = {}
    for person, zone in ((in_tokyo, "Asia/Tokyo"), (in_new_york, "America/New_York")):
        response = as_user(app, person).get(f"/calendar/sessions/{session_id}.ics")
        kind, options = parse_options_header(response.headers["Content-Disposition"])
        assert kind == "attachment"
        day = session.starts_at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
        assert options["filename"] == f"{day:%Y-%m-%d} Mutual legal assistance.ics"
        calendar = parsed(response)
        assert (calendar["VERSION"], calendar["METHOD"], calendar["CALSCALE"]) == (
            "2.0",
            "PUBLISH",
            "GREGORIAN",
        )
        assert calendar["PRODID"]
        event = the_event(calendar)
        assert event["DTSTART"].params["TZID"] == zone
        assert event["DTEND"].params["TZID"] == zone
        assert time_zones(calendar) == {zone}
        assert in_utc(event, "DTSTART") == session.starts_at
        assert in_utc(event, "DTEND") == session.ends_at
        read[zone] = event

    tokyo, new_york = read["Asia/Tokyo"], read["America/New_York"]
    assert tokyo.decoded("DTSTART") == new_york.decoded("DTSTART")  # the same instant
    assert tokyo.decoded("DTSTART").hour != new_york.decoded("DTSTART").hour  # written locally
    assert str(tokyo["UID"]) == str(new_york["UID"]) == f"room-session-{session_id}@learnplatform"
    assert tokyo["SEQUENCE"] == 0
    assert str(tokyo["SUMMARY"]) == "Mutual legal assistance"
    page = f"http://localhost/irooms/{room_id}/sessions/{session_id}"
    assert str(tokyo["DESCRIPTION"]) == f"Requests, channels, deadlines.\n\n{page}"
    assert str(tokyo["LOCATION"]) == str(tokyo["URL"]) == "https://meet.example.org/mla"
    assert "ORGANIZER" not in tokyo and "STATUS" not in tokyo


def test_pages_offer_add_to_calendar_for_sessions_to_come_only(app, client, login_as):
    me = login_as()
    room_id = add_room(app, "Sahel prosecutors", [(me, "participant")])
    coming = add_session(app, room_id, title="Coming", starts_in=timedelta(days=2))
    past = add_session(app, room_id, title="Past", starts_in=timedelta(days=-2))

    listing = client.get(f"/irooms/{room_id}/sessions").get_data(as_text=True)
    assert f'href="/calendar/sessions/{coming}.ics"' in listing
    assert f"/calendar/sessions/{past}.ics" not in listing
    page = client.get(f"/irooms/{room_id}/sessions/{coming}").get_data(as_text=True)
    assert f'href="/calendar/sessions/{coming}.ics">Add to calendar</a>' in page
    assert 'href="/account#calendar-feed"' in page
    page = client.get(f"/irooms/{room_id}/sessions/{past}").get_data(as_text=True)
    assert "Add to calendar" not in page
    # A past session's file is still there for whoever has its address; in UTC, the zone of
    # whoever has not chosen one, its times need no VTIMEZONE.
    calendar = parsed(client.get(f"/calendar/sessions/{past}.ics"))
    assert time_zones(calendar) == set()
    event = the_event(calendar)
    assert event["DTSTART"].to_ical().endswith(b"Z") and "TZID" not in event["DTSTART"].params
    assert in_utc(event, "DTSTART") == live_session(app, past).starts_at


def test_outsiders_get_404_and_visitors_are_asked_to_log_in(app, client, login_as, create_user):
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(member, "participant")])
    session_id = add_session(app, room_id)

    response = client.get(f"/calendar/sessions/{session_id}.ics")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")

    login_as()
    assert client.get(f"/calendar/sessions/{session_id}.ics").status_code == 404
    assert client.get(f"/calendar/sessions/{session_id + 1000}.ics").status_code == 404
    administrator = as_user(app, create_user(role="administrator"))
    assert administrator.get(f"/calendar/sessions/{session_id}.ics").status_code == 200


def test_a_title_with_commas_semicolons_newlines_and_arabic_comes_back_whole(app, client, login_as):
    me = login_as(time_zone="Asia/Riyadh")
    room_id = add_room(app, "Sahel prosecutors", [(me, "participant")])
    title = "Suivi, étapes; preuves\nالتحقيقات المالية, الجزء 2\u202e"  # noqa: RUF001
    session_id = add_session(app, room_id, title=title)
    with app.app_context():
        db.session.execute(
            update(LiveSession)
            .where(LiveSession.id == session_id)
            .values(agenda="1. Cadre: lois, traités;\n2. مناقشة")
        )
        db.session.commit()

    response = client.get(f"/calendar/sessions/{session_id}.ics")
    assert b"SUMMARY:Suivi\\, \xc3\xa9tapes\\; preuves\\n" in response.get_data()
    assert all(len(line) <= 75 for line in response.get_data().split(b"\r\n"))
    event = the_event(parsed(response))
    assert str(event["SUMMARY"]) == title  # as the host typed it

    assert str(event["DESCRIPTION"]).startswith("1. Cadre: lois, traités;\n2. مناقشة\n\n")
    assert event["DTSTART"].params["TZID"] == "Asia/Riyadh"
    _kind, options = parse_options_header(response.headers["Content-Disposition"])
    assert options["filename"].endswith("Suivi, étapes; preuves التحقيقات المالية, الجزء 2.ics")


def test_invitations_and_cancellations_are_written_outside_a_request(app, create_user):
    """What the background job attaches to e-mails: no request, the public origin from the
    configuration, the organiser from the sending address, the sequence of the moves."""
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(member, "participant")])
    session_id = add_session(app, room_id, title="Controlled deliveries")
    app.config.update(
        PUBLIC_ORIGIN="https://learn.example.org", MAIL_SENDER="CT Platform <notify@example.org>"
    )
    with app.app_context():
        session = db.session.get(LiveSession, session_id)
        session.sequence = 3
        session.conference_url = None
        invitation = Calendar.from_ical(
            ics.session_calendar(session, method="REQUEST", time_zone="Europe/Paris")
        )
        cancellation = Calendar.from_ical(
            ics.session_calendar(session, method="CANCEL", time_zone="Europe/Paris")
        )

    page = f"https://learn.example.org/irooms/{room_id}/sessions/{session_id}"
    for calendar, method in ((invitation, "REQUEST"), (cancellation, "CANCEL")):
        assert calendar["METHOD"] == method
        assert time_zones(calendar) == {"Europe/Paris"}
        event = the_event(calendar)
        assert str(event["UID"]) == f"room-session-{session_id}@learn.example.org"
        assert event["SEQUENCE"] == 3
        assert str(event["ORGANIZER"]) == "mailto:notify@example.org"
        assert event["ORGANIZER"].params["CN"] == "CT Platform"
        assert str(event["LOCATION"]) == str(event["URL"]) == page
        assert str(event["DESCRIPTION"]).endswith(page)
        assert in_utc(event, "DTSTART") == session.starts_at
    assert "STATUS" not in the_event(invitation)
    with app.app_context():
        session = db.session.get(LiveSession, session_id)
        for not_a_zone in ("", "Mars/Olympus_Mons"):
            calendar = Calendar.from_ical(ics.session_calendar(session, time_zone=not_a_zone))
            assert time_zones(calendar) == set()
            assert in_utc(the_event(calendar), "DTSTART") == session.starts_at
    assert the_event(cancellation)["STATUS"] == "CANCELLED"


# "Add to calendar": one webinar.
def test_a_webinar_to_come_can_be_added_by_those_who_see_it(app, client, login_as, create_user):
    me = login_as(time_zone="Africa/Nairobi")
    my_room = add_room(app, "Sahel prosecutors", [(me, "participant")])
    coming = add_webinar(app, "Preservation requests", room_ids=[my_room])
    past = add_webinar(app, "Earlier", starts_in=timedelta(days=-5))
    elsewhere = add_webinar(app, "Not mine", room_ids=[add_room(app, "Central Asia", [])])

    page = client.get(f"/courses/webinars/{coming}").get_data(as_text=True)
    assert f'href="/calendar/webinars/{coming}.ics">Add to calendar</a>' in page
    assert "Add to calendar" not in client.get(f"/courses/webinars/{past}").get_data(as_text=True)

    response = client.get(f"/calendar/webinars/{coming}.ics")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    calendar = parsed(response)
    event = the_event(calendar)
    with app.app_context():
        starts_at = db.session.get(Webinar, coming).starts_at
    assert str(event["UID"]) == f"webinar-{coming}@learnplatform"
    assert str(event["SUMMARY"]) == "Preservation requests"
    assert event["DTSTART"].params["TZID"] == "Africa/Nairobi"
    assert time_zones(calendar) == {"Africa/Nairobi"}
    assert in_utc(event, "DTSTART") == starts_at
    assert event.decoded("DURATION") == timedelta(hours=1)
    assert str(event["DESCRIPTION"]) == (
        "Speakers: Judge Carlos Mendes\n\nHow to ask a provider abroad to keep data.\n\n"
        f"http://localhost/courses/webinars/{coming}"
    )

    assert client.get(f"/calendar/webinars/{elsewhere}.ics").status_code == 404
    assert app.test_client().get(f"/calendar/webinars/{coming}.ics").status_code == 302


# The feed.
def test_the_feed_address_is_shown_once_and_a_new_one_revokes_the_old(app, client, login_as):
    login_as()
    page = client.get("/account").get_data(as_text=True)
    assert "Calendar feed" in page and "Make my calendar address" in page
    assert "Revoke the address" not in page

    first = make_feed_address(client)
    again = client.get("/account").get_data(as_text=True)
    assert first not in again and "new-feed-url" not in again  # shown once
    assert "Revoke the address" in again and "No calendar program has read it yet." in again
    calendar_program = app.test_client()
    response = calendar_program.get(first)
    assert parsed(response)["X-WR-CALNAME"] == "CT Learning Platform"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert "Content-Disposition" not in response.headers
    assert "A calendar program last read it on" in client.get("/account").get_data(as_text=True)

    second = make_feed_address(client)
    assert second != first
    assert calendar_program.get(first).status_code == 404
    assert calendar_program.get(second).status_code == 200
    with app.app_context():
        feeds = db.session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)).all()
        assert [feed.revoked_at is None for feed in feeds] == [False, True]
        assert second.removeprefix("/calendar/feed/").removesuffix(".ics") not in {
            feed.token_hash for feed in feeds
        }

    response = post_form(client, "/calendar/feed/revoke", {}, form_url="/account")
    assert response.headers["Location"] == "/account#calendar-feed"
    assert "Your calendar feed address is revoked" in client.get("/account").get_data(as_text=True)
    assert calendar_program.get(second).status_code == 404
    assert calendar_program.get("/calendar/feed/not-a-token.ics").status_code == 404
    assert calendar_program.get(f"/calendar/feed/{'x' * 5000}.ics").status_code == 404
    assert [(action, details) for action, details in audit_events(app, "calendar_feed")] == [
        ("calendar_feed_created", {"replaced": False}),
        ("calendar_feed_created", {"replaced": True}),
        ("calendar_feed_revoked", {}),
    ]


def test_the_forms_of_the_feed_need_their_csrf_token(app, client, login_as):
    login_as()
    assert client.post("/calendar/feed").status_code == 400
    assert client.post("/calendar/feed/revoke").status_code == 400
    with app.app_context():
        assert db.session.scalars(select(CalendarFeed)).all() == []


def test_the_feed_of_a_deactivated_account_answers_404(app, client, login_as):
    me = login_as()
    address = make_feed_address(client)
    with app.app_context():
        db.session.execute(update(User).where(User.id == me.id).values(active=False))
        db.session.commit()
    assert app.test_client().get(address).status_code == 404


def test_the_feed_lists_my_rooms_sessions_and_the_webinars_to_come_i_may_see(
    app, client, login_as, create_user
):
    me = login_as(time_zone="Asia/Tokyo", language="fr")
    someone = create_user()
    room_a = add_room(app, "Sahel prosecutors", [(me, "participant")])
    room_b = add_room(app, "Financial investigators", [(me, "host"), (someone, "participant")])
    room_c = add_room(app, "Central Asia", [(someone, "participant")])
    listed = {
        add_session(app, room_a, title="Next week", starts_in=timedelta(days=7)),
        add_session(app, room_b, title="Last month", starts_in=timedelta(days=-30)),
        add_session(app, room_b, title="Next year", starts_in=timedelta(days=400)),
    }
    add_session(app, room_a, title="Long ago", starts_in=timedelta(days=-120))
    add_session(app, room_c, title="Not my room", starts_in=timedelta(days=3))
    webinars = {
        add_webinar(app, "Open to all"),
        add_webinar(app, "For my room", room_ids=[room_a]),
    }
    add_webinar(app, "Over", starts_in=timedelta(days=-1))
    add_webinar(app, "For another room", room_ids=[room_c])

    calendar = parsed(app.test_client().get(make_feed_address(client)))
    assert "METHOD" not in calendar
    assert time_zones(calendar) == {"Asia/Tokyo"}
    uids = {str(event["UID"]) for event in calendar.walk("VEVENT")}
    assert uids == {f"room-session-{n}@learnplatform" for n in listed} | {
        f"webinar-{n}@learnplatform" for n in webinars
    }
    for event in calendar.walk("VEVENT"):
        assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
        if str(event["UID"]).startswith("room-session-"):
            session = live_session(app, int(str(event["UID"]).split("-")[2].split("@")[0]))
            assert in_utc(event, "DTSTART") == session.starts_at
            assert in_utc(event, "DTEND") == session.ends_at
    # In the owner's language, whoever's program reads it.
    assert calendar["X-WR-CALNAME"] == "Plateforme d’apprentissage LCT"  # noqa: RUF001


def test_the_time_a_calendar_program_read_the_feed_is_written_at_most_hourly(app, client, login_as):
    me = login_as()
    address = make_feed_address(client)
    calendar_program = app.test_client()

    def last_used():
        with app.app_context():
            return db.session.scalar(
                select(CalendarFeed.last_used_at).where(CalendarFeed.user_id == me.id)
            )

    def set_last_used(moment):
        with app.app_context():
            db.session.execute(update(CalendarFeed).values(last_used_at=moment))
            db.session.commit()

    assert last_used() is None
    calendar_program.get(address)
    assert utcnow() - last_used() < timedelta(minutes=1)
    half_an_hour_ago = utcnow() - timedelta(minutes=30)
    set_last_used(half_an_hour_ago)
    calendar_program.get(address)
    assert last_used() == half_an_hour_ago
    set_last_used(utcnow() - timedelta(hours=2))
    calendar_program.get(address)
    assert utcnow() - last_used() < timedelta(minutes=1)


def test_the_feed_takes_as_many_queries_for_30_sessions_as_for_3(
    app, client, login_as, create_user
):
    def queries_for_feed_with(number: int) -> int:
        person = create_user()
        browser = as_user(app, person)
        rooms = [
            add_room(app, f"Room {n} of {person.name}", [(person, "participant")]) for n in (1, 2)
        ]
        for n in range(number):
            add_session(app, rooms[n % 2], title=f"Session {n}", starts_in=timedelta(days=n - 5))
            add_webinar(app, f"Webinar {n}", room_ids=[rooms[n % 2]])
        address = make_feed_address(browser)
        calendar_program = app.test_client()
        assert calendar_program.get(address).status_code == 200  # writes the time of use
        with app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            calendar = parsed(calendar_program.get(address))
        assert len(calendar.walk("VEVENT")) == 2 * number
        return counter.count

    # The feed and its owner, the sessions, the webinars.
    assert queries_for_feed_with(30) == queries_for_feed_with(3) == 3
