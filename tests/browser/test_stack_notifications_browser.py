"""Notifications through the production stack (``make production``): a host on one process
schedules a session and the bell of a member held by the other process rises, through Redis;
the e-mail leaves through the worker, whose queue is Redis, into the stack's mail catcher; and a
reminder made by the worker's own periodic job (not by a request) reaches the member's bell too.

Runs when ``TEST_STACK`` names the stack's environment file (``.ci/run`` starts the stack and
sets it); skipped otherwise.
"""

import mailbox
import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from irooms.models import LiveSession
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from tests.browser.test_stack_browser import host_and_member_apart, tab_on  # noqa: F401
from tests.irooms import processes

pytestmark = pytest.mark.skipif(
    not processes.STACK, reason="runs through the stack of `make production` (TEST_STACK)"
)

#: the worker's reminders run every minute
WORKER_PATIENCE = 150


def mails_to(address: str) -> list:
    """Subjects of the messages the stack's mail catcher kept for ``address``."""
    folder = Path(processes.STACK).parent / "mail"
    if not folder.exists():
        return []
    return [message["Subject"] for message in mailbox.Maildir(folder) if message["To"] == address]


def until(condition, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(1)
    return found


def test_the_bell_and_the_mail_cross_processes_and_the_worker(tab_on):  # noqa: F811
    room_id, host, member, on_a, on_b, member_email = host_and_member_apart(tab_on)
    member.goto(f"{on_b}/irooms/")
    count = member.locator("[data-notification-bell]:visible [data-unread-count]")
    expect(count).to_be_hidden()

    title = f"Stack session {time.time_ns()}"
    host.goto(f"{on_a}/irooms/{room_id}/sessions/new")
    host.get_by_label("Title").fill(title)
    host.get_by_label("Start time").fill("2031-03-14T14:00")
    host.get_by_label("End time").fill("2031-03-14T16:00")
    host.get_by_role("button", name="Save the session").click()
    expect(host.get_by_role("status")).to_contain_text("The session is scheduled.")
    expect(count).to_have_text("1", timeout=15_000)  # from process A to B through Redis
    subjects = until(lambda: mails_to(member_email), "e-mail in the catcher", 60)
    assert any(title in subject for subject in subjects), subjects

    # A reminder the worker's periodic job finds on its own, a minute or so from now.
    with processes.stack_database() as (app, _), app.app_context():
        now = utcnow()
        db.session.add(
            LiveSession(
                room_id=room_id,
                title=f"{title}, reminded",
                starts_at=now + timedelta(hours=24, seconds=20),
                ends_at=now + timedelta(hours=25),
                created_at=now - timedelta(days=1),
            )
        )
        db.session.commit()
    expect(count).to_have_text("2", timeout=WORKER_PATIENCE * 1000)
    until(
        lambda: [s for s in mails_to(member_email) if s.startswith("Reminder")],
        "reminder e-mail",
        60,
    )
