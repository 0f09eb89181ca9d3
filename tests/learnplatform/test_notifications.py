"""Notifications as people get them: under the bell, live, by e-mail through a real SMTP server
(with the session's invitation for their calendar), in a daily digest, as they chose; and
delivery that survives the SMTP server going away in the middle of a batch."""

import re
import threading
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from courses.models import Lesson
from irooms import notices as room_notices
from irooms.models import LiveSession
from learnplatform import jobs
from learnplatform.audit import utcnow
from learnplatform.extensions import db, socketio
from learnplatform.mail import OutboxMessage, deliver, deliver_waiting
from learnplatform.notifications.models import Notification
from learnplatform.notifications.services import mail_forgotten, notify, send_digests
from tests.conftest import platform_on_own_database
from tests.courses.test_modules import build_module, enrolment
from tests.helpers import PASSWORD, Auth, QueryCounter, post_form
from tests.irooms.test_chat import connect, send
from tests.irooms.test_rooms import add_room
from tests.irooms.test_sessions import FORM, add_session


@pytest.fixture
def app(mailing_app):
    """The platform sending its e-mails to ``mail_server``."""
    return mailing_app


def logged_in(app, user):
    browser = app.test_client()
    assert Auth(browser).login(user.email, PASSWORD).status_code == 302
    return browser


def notifications_of(app, user) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        ).all()
        db.session.expunge_all()
        return rows


def outbox_rows(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def parts(message) -> dict[str, str]:
    """The e-mail's parts by content type."""
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart()
    }


def calendar_of(message) -> icalendar.Calendar:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no calendar in the e-mail")


def utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def bell_count(browser) -> str:
    page = browser.get("/notifications/").get_data(as_text=True)
    counts = set(re.findall(r"data-unread-count[^>]*>([^<]*)<", page))
    assert len(counts) == 1, counts  # the phone's bell and the wide screen's say the same
    return counts.pop()


# Sessions: scheduled, moved, cancelled.
def test_members_hear_of_a_new_session_on_the_bell_at_once_and_by_email(
    app, mail_server, create_user
):
    host = create_user(role="trainer", name="Amina Diallo")
    tokyo = create_user(name="Kenji Sato", time_zone="Asia/Tokyo")
    french = create_user(name="Claire Martin", language="fr", time_zone="Africa/Abidjan")
    room_id = add_room(
        app, "Sahel prosecutors", [(host, "host"), (tokyo, "participant"), (french, "expert")]
    )
    tokyo_browser = logged_in(app, tokyo)
    live = socketio.test_client(app, namespace="/notifications", flask_test_client=tokyo_browser)
    assert live.is_connected("/notifications")
    assert live.get_received("/notifications")[-1]["args"][0] == {"count": 0}

    host_browser = logged_in(app, host)
    form = FORM | {"starts_at": "2027-03-14T14:00", "ends_at": "2027-03-14T16:00"}
    assert post_form(host_browser, f"/irooms/{room_id}/sessions/new", form).status_code == 302

    heard = [event for event in live.get_received("/notifications") if event["name"] == "unread"]
    assert heard[-1]["args"][0] == {"count": 1}  # without reloading anything
    assert bell_count(tokyo_browser) == "1"
    page = tokyo_browser.get("/notifications/").get_data(as_text=True)
    assert "New session in Sahel prosecutors: Special investigative techniques" in page
    assert not notifications_of(app, host)  # who scheduled it knows

    received = mail_server.wait_for(2)
    assert sorted(message["To"] for message in received) == sorted([tokyo.email, french.email])
    message = mail_server.to(tokyo.email)[0]
    content = parts(message)
    assert "Special investigative techniques" in content["text/plain"]
    assert "Special investigative techniques" in content["text/html"]
    assert "/notifications/unsubscribe/" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    calendar = calendar_of(message)
    assert calendar["METHOD"] == "REQUEST"
    event = next(iter(calendar.walk("VEVENT")))
    # 14:00 in the host's time zone (UTC), as the host typed it; in Tokyo's zone in the file.
    assert utc_naive(event.decoded("DTSTART")) == datetime(2027, 3, 14, 14, 0)
    assert utc_naive(event.decoded("DTEND")) == datetime(2027, 3, 14, 16, 0)
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert int(event["SEQUENCE"]) == 0
    in_french = mail_server.to(french.email)[0]
    assert "Bonjour Claire Martin" in parts(in_french)["text/plain"]
    # Her language, and the time in her zone (Abidjan, UTC) as French writes it.
    assert in_french["Subject"].startswith("Nouvelle session dans Sahel prosecutors")
    assert "14 mars 2027" in in_french["Subject"]
    live.disconnect(namespace="/notifications")


def test_moving_a_session_sends_the_new_time_and_cancelling_it_removes_it_from_calendars(
    app, mail_server, create_user
):
    host = create_user(role="trainer")
    member = create_user(time_zone="America/New_York")
    room_id = add_room(app, "Central Asia judges", [(host, "host"), (member, "participant")])
    host_browser = logged_in(app, host)
    form = FORM | {"starts_at": "2027-03-14T14:00", "ends_at": "2027-03-14T16:00"}
    post_form(host_browser, f"/irooms/{room_id}/sessions/new", form)
    with app.app_context():
        session_id = db.session.scalar(select(LiveSession.id))
    edit = f"/irooms/{room_id}/sessions/{session_id}/edit"
    post_form(host_browser, edit, form | {"agenda": "New agenda, same time"})
    assert len(mail_server.wait_for(1)) == 1  # a new agenda moves nothing
    post_form(
        host_browser, edit, form | {"starts_at": "2027-03-15T09:00", "ends_at": "2027-03-15T10:30"}
    )
    moved = mail_server.wait_for(2)[-1]
    assert "has moved to" in moved["Subject"]
    event = next(iter(calendar_of(moved).walk("VEVENT")))
    assert utc_naive(event.decoded("DTSTART")) == datetime(2027, 3, 15, 9, 0)
    assert int(event["SEQUENCE"]) == 1
    post_form(
        host_browser,
        f"/irooms/{room_id}/sessions/{session_id}/delete",
        {},
        form_url=f"/irooms/{room_id}/sessions/{session_id}",
    )
    cancelled = mail_server.wait_for(3)[-1]
    assert "is cancelled" in cancelled["Subject"]
    calendar = calendar_of(cancelled)
    assert calendar["METHOD"] == "CANCEL"
    event = next(iter(calendar.walk("VEVENT")))
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == next(iter(calendar_of(moved).walk("VEVENT")))["UID"]
    kinds = [n.kind for n in notifications_of(app, member)]
    assert kinds == ["session_scheduled", "session_moved", "session_cancelled"]


# Reminders: the clock is moved, not the wall.
def test_reminders_come_24_hours_and_1_hour_before_once_each(app, mail_server, create_user):
    host = create_user(role="trainer")
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    session_id = add_session(app, room_id, starts_in=timedelta(days=3))
    soon_id = add_session(app, room_id, title="Short notice", starts_in=timedelta(hours=3))
    with app.app_context():
        starts = db.session.get(LiveSession, session_id).starts_at
        soon = db.session.get(LiveSession, soon_id).starts_at

    def remind(at):
        with app.app_context():
            return room_notices.send_reminders.call_local(now=at)

    assert remind(starts - timedelta(hours=25)) == 0
    assert remind(starts - timedelta(hours=23, minutes=59)) == 2  # host and member
    assert remind(starts - timedelta(hours=23)) == 0  # once
    assert remind(starts - timedelta(minutes=59)) == 2
    assert remind(starts - timedelta(minutes=30)) == 0
    assert remind(starts + timedelta(minutes=1)) == 0  # started
    # Scheduled three hours ahead: no 24-hour reminder, the one-hour one only.
    assert remind(soon - timedelta(hours=2)) == 0
    assert remind(soon - timedelta(minutes=50)) == 2
    reminders = [n for n in notifications_of(app, member) if n.kind == "session_reminder"]
    assert len(reminders) == 3
    assert len(mail_server.wait_for(6)) == 6
    assert (
        "Reminder: Mutual legal assistance (Sahel prosecutors) starts"
        in (mail_server.to(member.email)[0]["Subject"])
    )


# The daily digest.
def test_a_member_who_chose_the_digest_gets_one_a_day_with_everything_in_it(
    app, mail_server, create_user
):
    host = create_user(role="trainer")
    member = create_user(time_zone="Asia/Tokyo")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    member_browser = logged_in(app, member)
    choices = {"session_scheduled": "digest", "resource_added": "digest"}
    page = member_browser.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="session_scheduled" value="now" id="session_scheduled-now"' in page
    post_form(member_browser, "/notifications/preferences", _all_defaults(page) | choices)
    host_browser = logged_in(app, host)
    post_form(
        host_browser,
        f"/irooms/{room_id}/sessions/new",
        FORM | {"starts_at": "2027-05-01T10:00", "ends_at": "2027-05-01T11:00"},
    )
    post_form(
        host_browser,
        f"/irooms/{room_id}/sessions/new",
        FORM
        | {
            "title": "Second session",
            "starts_at": "2027-05-02T10:00",
            "ends_at": "2027-05-02T11:00",
        },
    )
    assert bell_count(member_browser) == "2"  # the bell shows them at once
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0  # nobody mailed yet

    def digests(at):
        with app.app_context():
            return send_digests.call_local(now=at)

    day = datetime(2027, 4, 1)
    assert digests(day.replace(hour=21)) == 0  # 06:00 in Tokyo: before the digest hour
    assert digests(day.replace(hour=22, minute=7)) == 1  # 07:07 in Tokyo
    assert digests(day.replace(hour=23, minute=7)) == 0  # one a day
    (digest,) = mail_server.wait_for(1)
    assert digest["To"] == member.email
    assert "2 notifications" in digest["Subject"]
    text = parts(digest)["text/plain"]
    assert "Special investigative techniques" in text and "Second session" in text
    assert digests(day.replace(hour=22) + timedelta(days=1)) == 0  # nothing new, no e-mail


def _all_defaults(page: str) -> dict:
    """The preferences form as the page shows it (the checked radio of each kind)."""
    return dict(
        re.findall(r'name="(\w+)" value="(\w+)" id="[\w-]+"\s+aria-label="[^"]*" checked', page)
    )


def test_preferences_refuse_what_is_not_a_choice_and_off_sends_no_email(
    app, mail_server, create_user
):
    host = create_user(role="trainer")
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    browser = logged_in(app, member)
    page = browser.get("/notifications/preferences").get_data(as_text=True)
    defaults = _all_defaults(page)
    assert defaults["resource_added"] == "digest" and defaults["session_scheduled"] == "now"
    refused = post_form(browser, "/notifications/preferences", defaults | {"mention": "sometimes"})
    assert "Choose one of the three answers" in browser.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    post_form(browser, "/notifications/preferences", defaults | {"session_scheduled": "off"})
    assert 'value="off" id="session_scheduled-off"' in browser.get(
        "/notifications/preferences"
    ).get_data(as_text=True)
    post_form(logged_in(app, host), f"/irooms/{room_id}/sessions/new", FORM)
    assert [n.delivery for n in notifications_of(app, member)] == ["off"]
    assert outbox_rows(app) == []


def test_one_click_unsubscribe_works_without_login_and_forged_links_do_not(
    app, mail_server, create_user
):
    host = create_user(role="trainer")
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    post_form(logged_in(app, host), f"/irooms/{room_id}/sessions/new", FORM)
    (message,) = mail_server.wait_for(1)
    link = message["List-Unsubscribe"].strip("<>")
    path = link.split("localhost", 1)[1]
    stranger = app.test_client()
    page = stranger.get(path).get_data(as_text=True)
    assert "Session scheduled" in page and '<form method="post"' in page
    # What mail programs send (RFC 8058): a POST with this body, no cookie, no CSRF token.
    answer = stranger.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert "You will no longer receive e-mails about: Session scheduled" in answer.get_data(
        as_text=True
    )
    defaults = _all_defaults(
        logged_in(app, member).get("/notifications/preferences").get_data(as_text=True)
    )
    assert defaults["session_scheduled"] == "off"
    assert defaults["session_moved"] == "now"  # that kind only
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    assert stranger.post(forged).status_code == 404
    assert stranger.get("/notifications/unsubscribe/" + "x" * 5000).status_code == 404


# The notification centre.
def test_the_centre_lists_opens_and_marks_read_and_is_only_ones_own(app, create_user):
    member = create_user()
    other = create_user()
    with app.app_context(), app.test_request_context():
        for number in range(35):
            notify(
                [db.session.get(type(member), member.id)],
                "resource_added",
                key=f"test:{number}",
                url=f"/irooms/1/library?n={number}",
                params={"room": "Sahel prosecutors", "title": f"Manual {number}"},
            )
        db.session.commit()
    browser = logged_in(app, member)
    page = browser.get("/notifications/").get_data(as_text=True)
    assert "35 unread notifications." in page
    assert "Manual 34" in page and "Manual 5" in page and "Manual 4" not in page
    older = page.split('href="/notifications/?before=')[1].split('"')[0]
    assert "Manual 4" in browser.get(f"/notifications/?before={older}").get_data(as_text=True)
    newest = notifications_of(app, member)[-1]
    opened = browser.get(f"/notifications/{newest.id}")
    assert opened.headers["Location"] == "/irooms/1/library?n=34"
    assert "34 unread notifications." in browser.get("/notifications/").get_data(as_text=True)
    assert logged_in(app, other).get(f"/notifications/{newest.id}").status_code == 404
    post_form(
        browser,
        f"/notifications/{notifications_of(app, member)[0].id}/read",
        {},
        form_url="/notifications/",
    )
    assert bell_count(browser) == "33"
    post_form(browser, "/notifications/read", {}, form_url="/notifications/")
    assert "You have read everything." in browser.get("/notifications/").get_data(as_text=True)
    assert app.test_client().get("/notifications/").status_code == 302  # visitors log in


def test_the_centre_costs_the_same_queries_for_3_or_60_notifications(app, create_user):
    def queries_with(count):
        person = create_user()
        with app.app_context(), app.test_request_context():
            user = db.session.get(type(person), person.id)
            for number in range(count):
                notify(
                    [user],
                    "resource_added",
                    key=f"q:{number}",
                    url="/",
                    params={"room": "R", "title": "T"},
                )
            db.session.commit()
        browser = logged_in(app, person)
        with app.app_context():
            engine = db.engine
        with QueryCounter(engine) as counter:
            assert browser.get("/notifications/").status_code == 200
        return counter.count

    assert queries_with(3) == queries_with(60)


# Modules.
def test_a_request_to_enrol_reaches_the_trainer_at_once_and_the_answer_the_learner(
    app, mail_server, create_user
):
    trainer = create_user(role="trainer", name="Trainer Tanaka")
    module_id = build_module(app, trainer.id, mode="approval", title="By approval")
    learner = create_user(name="Leila Haddad")
    learner_browser = logged_in(app, learner)
    post_form(
        learner_browser,
        f"/courses/modules/{module_id}/enrol",
        {},
        form_url=f"/courses/modules/{module_id}",
    )
    (asked,) = mail_server.wait_for(1)
    assert asked["To"] == trainer.email
    assert asked["Subject"] == "Leila Haddad asks to enrol in By approval."
    trainer_browser = logged_in(app, trainer)
    assert bell_count(trainer_browser) == "1"
    request_id = enrolment(app, module_id, learner.id).id
    post_form(
        trainer_browser,
        f"/courses/manage/{module_id}/requests/{request_id}",
        {"decision": "accept"},
        form_url=f"/courses/manage/{module_id}",
    )
    answer = mail_server.wait_for(2)[-1]
    assert answer["To"] == learner.email
    assert answer["Subject"] == "Your request to enrol in By approval is accepted."
    assert bell_count(learner_browser) == "1"


# Durable delivery.
def test_an_smtp_outage_in_the_middle_of_a_batch_loses_nothing_and_sends_nothing_twice(
    app, mail_server, create_user
):
    host = create_user(role="trainer")
    members = [create_user() for _ in range(30)]
    room_id = add_room(
        app, "Sahel prosecutors", [(host, "host")] + [(m, "participant") for m in members]
    )
    stopped = threading.Event()

    def stop_after_ten(count):
        if count == 10:
            threading.Thread(target=lambda: (mail_server.stop(), stopped.set())).start()

    mail_server.on_message = stop_after_ten
    post_form(logged_in(app, host), f"/irooms/{room_id}/sessions/new", FORM)
    assert stopped.wait(10)
    mail_server.on_message = None
    delivered_before = len(mail_server.messages)
    assert 10 <= delivered_before < 30  # the outage struck in the middle
    rows = outbox_rows(app)
    assert len(rows) == 30
    waiting = [row for row in rows if row.sent_at is None]
    assert len(waiting) == 30 - delivered_before
    assert all(row.next_attempt_at is not None for row in waiting)  # to be tried again
    assert any(row.last_error for row in waiting)

    with app.app_context():
        assert (
            deliver_waiting.call_local(now=utcnow() + timedelta(hours=1)) == 0
        )  # still down: kept
    mail_server.start()
    with app.app_context():
        assert (
            deliver_waiting.call_local(now=utcnow() + timedelta(hours=7)) == 30 - delivered_before
        )
        assert deliver_waiting.call_local(now=utcnow() + timedelta(hours=8)) == 0
        for row in rows:
            deliver.call_local(row.id)  # the job, run again for every message
    received = mail_server.wait_for(30)
    assert len(received) == 30
    assert sorted(m["To"] for m in received) == sorted(m.email for m in members)
    assert len({m["Message-ID"] for m in received}) == 30


def test_the_same_event_told_twice_is_one_notification_and_one_email(app, mail_server, create_user):
    member = create_user()
    with app.app_context(), app.test_request_context():
        person = db.session.get(type(member), member.id)
        for _ in range(2):
            notify(
                [person], "certificate_issued", key="certificate:1", url="/", params={"module": "M"}
            )
            db.session.commit()
    assert len(notifications_of(app, member)) == 1
    assert len(outbox_rows(app)) == 1
    assert len(mail_server.wait_for(1)) == 1


def test_the_worker_delivers_through_the_queue(migrated_database, tmp_path, mail_server):
    """With a real queue (a SQLite file) and a real consumer, not jobs run in place."""
    with platform_on_own_database(
        migrated_database,
        tmp_path,
        JOBS_IMMEDIATE=False,
        JOBS_DATABASE=str(tmp_path / "jobs.sqlite"),
        **mail_server.config,
    ) as platform:
        try:
            consumer = jobs.huey.create_consumer(workers=2, worker_type="thread", periodic=False)
            consumer.start()
            try:
                with platform.app_context(), platform.test_request_context():
                    from learnplatform.accounts.models import User

                    person = User(
                        email="queued@example.org",
                        name="Queued Person",
                        password_hash="x",
                        country="KE",
                        agency_type="police",
                    )
                    db.session.add(person)
                    db.session.flush()
                    notify(
                        [person], "certificate_issued", key="c:1", url="/", params={"module": "M"}
                    )
                    db.session.commit()
                (message,) = mail_server.wait_for(1)
                assert message["To"] == "queued@example.org"
            finally:
                consumer.stop(graceful=True)
        finally:
            jobs.huey.immediate = True


# Mentions and announcements.
def test_a_name_mentioned_in_the_chat_is_told_and_nobody_else(app, mail_server, create_user):
    host = create_user(role="trainer", name="Amina Diallo")
    named = create_user(name="Awa Konaté")
    longer = create_user(name="Awa Konaté Traoré")
    bystander = create_user(name="Olga Petrova")
    outsider = create_user(name="Li Wei")
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [(host, "host"), (named, "participant"), (longer, "participant"), (bystander, "expert")],
    )
    chat = connect(app, host)
    chat.emit("join", {"room": room_id}, callback=True)
    assert send(chat, room_id, "@awa konaté, can you share the template? cc @Li Wei @Amina Diallo")[
        "ok"
    ]
    assert send(chat, room_id, "Thanks @Awa Konaté Traoré!")["ok"]
    told = {
        person.name: [n.params["excerpt"] for n in notifications_of(app, person)]
        for person in (host, named, longer, bystander, outsider)
    }
    assert told == {
        "Amina Diallo": [],  # one's own name
        "Awa Konaté": ["@awa konaté, can you share the template? cc @Li Wei @Amina Diallo"],
        "Awa Konaté Traoré": ["Thanks @Awa Konaté Traoré!"],  # the longest name that fits
        "Olga Petrova": [],
        "Li Wei": [],  # not a member
    }
    assert mail_server.wait_for(2)[0]["Subject"].startswith("Amina Diallo mentioned you in")


def test_a_trainer_announces_a_lesson_to_the_learners_who_chose_it(app, create_user):
    trainer = create_user(role="trainer")
    module_id = build_module(app, trainer.id)
    learners = [create_user() for _ in range(3)]
    for learner in learners:
        browser = logged_in(app, learner)
        post_form(
            browser,
            f"/courses/modules/{module_id}/enrol",
            {},
            form_url=f"/courses/modules/{module_id}",
        )
    with app.app_context():
        lesson_id = db.session.scalar(
            select(func.min(Lesson.id)).where(Lesson.module_id == module_id)
        )
    browser = logged_in(app, trainer)
    edit = f"/courses/manage/{module_id}/lessons/{lesson_id}"
    post_form(browser, edit, {"title": "Lesson 1, revised", "body": "<p>New case law</p>"})
    assert all(notifications_of(app, learner) == [] for learner in learners)  # not asked
    answer = post_form(
        browser, edit, {"title": "Lesson 1, revised", "body": "<p>More</p>", "tell_learners": "y"}
    )
    assert "3 learners will be told." in browser.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    (told,) = notifications_of(app, learners[0])
    assert told.kind == "module_updated" and told.delivery == "digest"
    page = logged_in(app, learners[0]).get("/notifications/").get_data(as_text=True)
    assert (
        "Countering the financing of terrorism has been updated: see the lesson "
        "“Lesson 1, revised”." in page
    )


def test_e_mails_whose_job_was_lost_are_written_by_the_minute_job(app, mail_server, create_user):
    people = [create_user(), create_user(time_zone="Asia/Tokyo")]
    with app.app_context():
        written = utcnow() - timedelta(minutes=3)
        for person in people:  # as the event wrote them, its job never queued (Redis away)
            db.session.add(
                Notification(
                    user_id=person.id,
                    kind="certificate_issued",
                    key="certificate:7",
                    url="/courses/certificates/7",
                    params={"module": "Countering the financing of terrorism"},
                    created_at=written,
                )
            )
        db.session.commit()
        assert mail_forgotten.call_local() == 2
        assert mail_forgotten.call_local() == 0  # once
    received = mail_server.wait_for(2)
    assert sorted(m["To"] for m in received) == sorted(p.email for p in people)
    assert all("Countering the financing of terrorism" in m["Subject"] for m in received)


def test_names_with_markup_or_line_breaks_stay_text_in_e_mails(app, mail_server, create_user):
    """SECURITY.md 22: HTML in names is text in e-mails; a line break in a name cannot add a
    header to one."""
    host = create_user(role="trainer", name="<img src=x onerror=alert(1)>")
    member = create_user()
    room_id = add_room(
        app,
        "Sahel <script>alert(2)</script>\r\nBcc: victim@example.org",
        [(host, "host"), (member, "participant")],
    )
    post_form(
        logged_in(app, host), f"/irooms/{room_id}/sessions/new", FORM | {"title": "<b>bold</b>"}
    )
    (message,) = mail_server.wait_for(1)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and "Bcc: victim@example.org" in message["Subject"]
    html = parts(message)["text/html"]
    assert "<script>" not in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    text = parts(message)["text/plain"]
    assert "<b>bold</b>" in text  # plain text is not HTML: shown as typed
    page = logged_in(app, member).get("/notifications/").get_data(as_text=True)
    assert "<script>alert(2)" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_the_bell_connection_needs_a_login_and_ends_with_it(app, create_user):
    visitor = socketio.test_client(
        app, namespace="/notifications", flask_test_client=app.test_client()
    )
    assert not visitor.is_connected("/notifications")
    person = create_user()
    browser = logged_in(app, person)
    bell = socketio.test_client(app, namespace="/notifications", flask_test_client=browser)
    assert bell.is_connected("/notifications")
    post_form(browser, "/logout", {}, form_url="/account")
    assert not bell.is_connected("/notifications")
