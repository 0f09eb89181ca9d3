"""The room chat in Chromium fills the holes that live delivery can leave, without reloading: a
live message past a missing one brings the missing one at once, and messages posted through
another server process while Redis was away appear once Redis returns (docs/chat.md,
"Reconnecting")."""

import shutil

import pytest
from sqlalchemy import select

from irooms import messages
from irooms.chat import channel
from irooms.models import Membership, Room
from learnplatform.extensions import db, socketio
from tests.browser.test_chat_browser import OFFLINE_NOISE, messages_in, until
from tests.browser.test_modules_browser import log_in
from tests.irooms import processes, test_rooms

ROOM = "Sahel prosecutors: special investigative techniques"


def test_a_live_message_past_a_missing_one_brings_it(app, live_server, page, create_user):
    host = create_user(role="trainer", name="Aminata Traoré")
    member = create_user(name="Jean Ouédraogo")
    room_id = test_rooms.add_room(app, ROOM, [(host, "host"), (member, "participant")])
    log_in(page, live_server, member.email, "Jean Ouédraogo")
    page.goto(f"{live_server}/irooms/{room_id}")
    page.get_by_text("No messages yet. Start the discussion.").wait_for()

    # Two messages are stored and never sent out live (as when the message queue drops them);
    # the third is sent live.
    with app.app_context():
        room = db.session.get(Room, room_id)
        membership = db.session.scalar(
            select(Membership).where(Membership.room_id == room_id, Membership.user_id == host.id)
        )
        for number in (1, 2, 3):
            message, _ = messages.post(
                room, membership, membership.user, f"gap-{number}", f"Point {number}"
            )
        socketio.emit("message", messages.as_json(message), to=channel(room_id))

    until(lambda: messages_in(page) == ["Point 1", "Point 2", "Point 3"], "the missing messages")
    assert page.console_errors == []


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server program")
def test_messages_posted_during_a_redis_outage_appear_when_it_returns(page, tmp_path):
    port = processes.free_port()
    (tmp_path / "redis").mkdir()
    with (
        processes.own_database("", tmp_path) as (app, url),
        processes.private_redis(port, tmp_path / "redis") as first_redis,
        processes.two_servers(
            url, f"redis://127.0.0.1:{port}/0", "chat-gap-browser", tmp_path, {"CHAT_BURST": "50"}
        ) as (process_a, process_b),
    ):
        people = processes.add_people(app)
        (_, host_email), (_, member_email) = people
        room_id, _ = processes.add_room(app, people)
        host = processes.ChatClient(processes.Browser(process_a).login(host_email))
        try:
            processes.join(host, room_id, None)
            # The member's page is served by process B.
            log_in(page, process_b, member_email, "Awa Konaté")
            page.goto(f"{process_b}/irooms/{room_id}")
            page.get_by_text("Online: Amina Diallo and Awa Konaté").wait_for()
            assert processes.send(host, room_id, "Avant la coupure.")["ok"]
            until(lambda: messages_in(page) == ["Avant la coupure."], "the first message")

            # Redis dies; the host goes on posting through A, and the page hears nothing.
            first_redis.kill()
            first_redis.wait(timeout=10)
            during = [f"Pendant la coupure {number}." for number in range(1, 6)]
            for body in during:
                assert processes.send(host, room_id, body)["ok"]
            processes.wait_for(
                lambda: "Cannot receive from Redis" in (tmp_path / "gunicorn-b.log").read_text(),
                "process B noticing that Redis is gone",
                timeout=30,
            )
            assert messages_in(page) == ["Avant la coupure."]

            # Redis returns: the same page, not reloaded, shows everything in order, once.
            with processes.private_redis(port, tmp_path / "redis"):
                until(
                    lambda: messages_in(page) == ["Avant la coupure.", *during],
                    "the messages posted during the outage",
                    seconds=20,
                )
        finally:
            host.close()
        page.goto("about:blank")  # before the servers stop, which would wait for open connections
    noise = [error for error in page.console_errors if not any(n in error for n in OFFLINE_NOISE)]
    assert noise == []
    assert "Traceback" not in "".join(path.read_text() for path in tmp_path.glob("gunicorn-*.log"))
