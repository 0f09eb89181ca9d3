"""Notifications in Chromium: a trainer schedules a session and the members' bells rise without
a reload; the e-mail reaches a real SMTP server with an invitation that calendars read; the
reminder fires when the clock (not the wall) says so; a member who chose the daily digest gets
one digest; a practitioner's request to enrol reaches the trainer's bell and mailbox at once."""

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from playwright.sync_api import expect

from irooms import notices
from irooms.models import LiveSession
from learnplatform.extensions import db
from learnplatform.notifications.services import send_digests
from tests.browser.test_modules_browser import log_in, shot
from tests.courses.test_modules import build_module
from tests.irooms.test_rooms import add_room

SESSION = "Controlled deliveries across the Sahel"


@pytest.fixture
def app(mailing_app):
    return mailing_app


def bell(page):
    return page.locator("[data-notification-bell]:visible [data-unread-count]")


def invitation(message) -> icalendar.Event:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            return next(iter(calendar.walk("VEVENT")))
    raise AssertionError("the e-mail carries no calendar")


def test_members_are_told_live_by_email_by_reminder_and_by_digest(
    app, live_server, browser, create_user, mail_server
):
    trainer = create_user(role="trainer", name="Kwame Mensah")
    member = create_user(name="Aïcha Traoré", time_zone="Africa/Lagos")
    reader = create_user(name="Li Wei", time_zone="Asia/Shanghai")
    room_id = add_room(
        app, "Sahel prosecutors", [(trainer, "host"), (member, "participant"), (reader, "expert")]
    )
    module_id = build_module(app, trainer.id, mode="approval", title="Financial investigations")
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(3)]
    trainer_page, member_page, reader_page = (context.new_page() for context in contexts)
    try:
        # The expert chooses the daily digest for new sessions.
        log_in(reader_page, live_server, reader.email, "Li Wei")
        reader_page.get_by_role("button", name="Li Wei").click()
        reader_page.get_by_role("link", name="E-mail preferences").click()
        reader_page.get_by_label("Session scheduled: Daily digest").check()
        shot(reader_page, "notifications-01-preferences")
        reader_page.get_by_role("button", name="Save preferences").click()
        expect(reader_page.get_by_role("status")).to_contain_text("Your preferences are saved.")

        # The member waits on My iRooms, the bell at nought.
        log_in(member_page, live_server, member.email, "Aïcha Traoré")
        member_page.goto(f"{live_server}/irooms/")
        expect(bell(member_page)).to_be_hidden()

        # The trainer schedules a session.
        log_in(trainer_page, live_server, trainer.email, "Kwame Mensah")
        trainer_page.goto(f"{live_server}/irooms/{room_id}/sessions")
        trainer_page.get_by_role("link", name="Schedule a session").first.click()
        trainer_page.get_by_label("Title").fill(SESSION)
        trainer_page.get_by_label("Start time").fill("2027-03-14T14:00")
        trainer_page.get_by_label("End time").fill("2027-03-14T16:00")
        trainer_page.get_by_role("button", name="Save the session").click()
        expect(trainer_page.get_by_role("status")).to_contain_text("The session is scheduled.")

        # The member's bell rises on the page they did not reload.
        expect(bell(member_page)).to_have_text("1")
        shot(member_page, "notifications-02-bell")
        (mail,) = mail_server.wait_for(1)
        assert mail["To"] == member.email
        event = invitation(mail)
        assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 14, 14, tzinfo=UTC)
        assert event["DTSTART"].params["TZID"] == "Africa/Lagos"
        assert str(event["SUMMARY"]) == SESSION

        # The member opens the centre and follows the notification to the session.
        member_page.get_by_role("link", name="Notifications Unread: 1").click()
        item = member_page.get_by_role(
            "link", name=re.compile(f"New session in Sahel prosecutors: {SESSION}")
        )
        shot(member_page, "notifications-03-centre")
        member_page.set_viewport_size({"width": 390, "height": 844})
        shot(member_page, "notifications-04-centre-phone")
        member_page.set_viewport_size({"width": 1280, "height": 900})
        item.click()
        expect(member_page.get_by_role("heading", name=SESSION)).to_be_visible()
        expect(bell(member_page)).to_be_hidden()

        # The reminder, a day before: the clock is moved, not the wall.
        with app.app_context():
            session = db.session.query(LiveSession).one()
            starts = session.starts_at
            assert notices.send_reminders.call_local(now=starts - timedelta(hours=23)) == 3
            assert notices.send_reminders.call_local(now=starts - timedelta(hours=22)) == 0
        expect(bell(member_page)).to_have_text("1")
        reminders = [m for m in mail_server.wait_for(4) if "Reminder" in m["Subject"]]
        assert sorted(m["To"] for m in reminders) == sorted(
            [trainer.email, member.email, reader.email]
        )

        # The expert's digest: one, whenever the hourly job runs that day.
        assert not [
            m
            for m in mail_server.messages
            if m["To"] == reader.email and "New session" in m["Subject"]
        ]
        with app.app_context():
            morning = datetime(2027, 3, 10, 0, 7)  # 08:07 in Shanghai
            assert send_digests.call_local(now=morning) == 1
            assert send_digests.call_local(now=morning + timedelta(hours=1)) == 0
        digests = [m for m in mail_server.wait_for(5) if "daily digest" in m["Subject"]]
        assert [m["To"] for m in digests] == [reader.email]
        assert (
            f"New session in Sahel prosecutors: {SESSION}"
            in digests[0].get_body(("plain",)).get_content()
        )

        # A practitioner asks to enrol: the trainer hears at once, bell and e-mail.
        trainer_page.goto(f"{live_server}/irooms/")
        expect(bell(trainer_page)).to_have_text("1")  # the reminder
        before = len(mail_server.messages)
        member_page.goto(f"{live_server}/courses/modules/{module_id}")
        member_page.get_by_role("button", name="Ask to enrol").click()
        expect(bell(trainer_page)).to_have_text("2")
        asked = mail_server.wait_for(before + 1)[-1]
        assert asked["To"] == trainer.email
        assert asked["Subject"] == "Aïcha Traoré asks to enrol in Financial investigations."
        shot(trainer_page, "notifications-05-trainer-bell")
    finally:
        for context in contexts:
            context.close()
