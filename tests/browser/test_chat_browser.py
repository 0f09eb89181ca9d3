"""The room chat in Chromium: a host and a participant, each in their own browser, talk live; HTML
stays text; the participant drops off the network, misses two messages and gets them in order on
return; the host removes a message, then the participant, whose open chat says so at once."""

import time

from sqlalchemy import select

from irooms import messages
from irooms.models import Membership, Room
from learnplatform.extensions import db
from tests.browser.test_modules_browser import log_in, shot
from tests.irooms.test_rooms import add_room

ROOM = "Sahel prosecutors: special investigative techniques"
#: what Chromium writes to the console while the network is cut: the expected part of going offline
OFFLINE_NOISE = ("ERR_INTERNET_DISCONNECTED", "WebSocket connection to", "ERR_NAME_NOT_RESOLVED")


def until(check, what: str, seconds: float = 10.0):
    """Poll ``check`` until it returns something true; page.wait_for_function needs eval, which
    the platform's CSP refuses."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def chat_log(page):
    return page.get_by_role("log", name="Messages")


def messages_in(page) -> list[str]:
    """The bodies of the messages the server has numbered, in the order shown."""
    return chat_log(page).locator(".room-chat-message[data-seq] .room-chat-body").all_inner_texts()


def waiting(page):
    """Messages written but not yet acknowledged by the server."""
    return chat_log(page).locator(".room-chat-message[data-pending]")


def say(page, text: str) -> None:
    """Type a message and send it with Enter, as people do."""
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")


def message_with(page, text: str):
    return chat_log(page).locator(".room-chat-message[data-seq]").filter(has_text=text)


def unexpected(errors: list[str]) -> list[str]:
    return [error for error in errors if not any(noise in error for noise in OFFLINE_NOISE)]


def test_a_host_and_a_participant_talk_live(app, live_server, page, browser, create_user):
    host = create_user(role="trainer", name="Aminata Traoré")
    member = create_user(name="Jean Ouédraogo")
    room_id = add_room(app, ROOM, [(host, "host"), (member, "participant")])
    room_url = f"{live_server}/irooms/{room_id}"

    log_in(page, live_server, host.email, "Aminata Traoré")
    page.goto(room_url)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    other = context.new_page()
    other_errors: list[str] = []
    other.on(
        "console", lambda message: message.type == "error" and other_errors.append(message.text)
    )
    try:
        log_in(other, live_server, member.email, "Jean Ouédraogo")
        other.goto(room_url)

        # Both are online, and each sees the other's message without reloading.
        for tab in (page, other):
            tab.get_by_text("No messages yet. Start the discussion.").wait_for()
            tab.get_by_text("Online: Aminata Traoré and Jean Ouédraogo").wait_for()
        assert page.get_by_role("button", name="Lock the chat").is_visible()
        assert not other.get_by_role("button", name="Lock the chat").is_visible()

        say(
            page,
            "Welcome! Today: controlled deliveries, see https://www.unodc.org/ for the manual.",
        )
        message_with(other, "Welcome! Today").wait_for()
        link = message_with(other, "Welcome! Today").get_by_role(
            "link", name="https://www.unodc.org/"
        )
        assert link.get_attribute("href") == "https://www.unodc.org/"
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener noreferrer nofollow"

        other.get_by_label("Your message").fill("Thank you. Does the manual cover Mali?")
        other.get_by_role("button", name="Send").click()
        message_with(page, "Does the manual cover Mali?").wait_for()
        assert other.get_by_label("Your message").input_value() == ""

        # HTML is shown as typed, never interpreted.
        say(other, "<b>x</b> <img src=x>")
        message_with(page, "<b>x</b> <img src=x>").wait_for()
        assert chat_log(page).locator("b, img").count() == 0
        assert chat_log(other).locator("b, img").count() == 0
        shot(page, "chat-01-host")
        shot(other, "chat-02-participant")

        # The participant drops off the network and writes meanwhile; the host posts twice.
        context.set_offline(True)
        other.get_by_text("Reconnecting…").wait_for(timeout=30_000)
        say(other, "Written on the road, sent when I am back.")
        waiting(other).filter(has_text="Sending…").wait_for()
        say(page, "First point while you were away.")
        message_with(page, "First point while you were away.").wait_for()
        say(page, "Second point while you were away.")
        message_with(page, "Second point while you were away.").wait_for()
        shot(other, "chat-03-participant-offline")

        # Back online: the missed messages in order, then the waiting one, sent once.
        context.set_offline(False)
        back = [
            "First point while you were away.",
            "Second point while you were away.",
            "Written on the road, sent when I am back.",
        ]
        until(lambda: messages_in(other)[-3:] == back, "the missed messages, in order", 30)
        until(lambda: messages_in(page)[-3:] == back, "the waiting message on the host's page")
        other.get_by_text("Reconnecting…").wait_for(state="hidden")
        waiting(other).first.wait_for(state="detached")
        assert messages_in(other) == messages_in(page)

        # The host removes one; everyone sees the mark in its place.
        page.on("dialog", lambda dialog: dialog.accept())
        message_with(page, "<b>x</b>").get_by_role("button", name="Remove").click()
        message_with(other, "message removed").wait_for()
        assert "<b>x</b>" not in " ".join(messages_in(other))
        until(lambda: "message removed" in messages_in(page), "the removal on the host's page")
        shot(other, "chat-04-message-removed")

        # The host removes the participant through the Members page: the open chat says so.
        members = page.context.new_page()
        members.on("dialog", lambda dialog: dialog.accept())
        members.goto(f"{room_url}/members")
        members.get_by_role("button", name="Remove Jean Ouédraogo").click()
        members.get_by_text("Jean Ouédraogo is no longer a member of the room.").wait_for()
        members.close()
        other.get_by_role("alert").filter(
            has_text="You are no longer a member of this room."
        ).wait_for()
        assert other.get_by_label("Your message").is_disabled()
        assert other.get_by_role("button", name="Send").is_disabled()
        page.get_by_text("Online: Aminata Traoré", exact=True).wait_for()
        shot(other, "chat-05-participant-removed")

        assert unexpected(other_errors) == []
        assert page.console_errors == []
    finally:
        context.close()


def earlier_messages(app, room_id: int, author, count: int) -> None:
    """``count`` messages of ``author`` posted before anyone opens the page."""
    with app.app_context():
        room = db.session.get(Room, room_id)
        membership = db.session.scalar(
            select(Membership).where(Membership.room_id == room_id, Membership.user_id == author.id)
        )
        for number in range(1, count + 1):
            messages.post(room, membership, membership.user, f"seed-{number}", f"Note {number}")


def test_scroll_back_typing_editing_lock_and_mute(app, live_server, page, browser, create_user):
    host = create_user(role="trainer", name="Aminata Traoré")
    member = create_user(name="Jean Ouédraogo")
    room_id = add_room(app, ROOM, [(host, "host"), (member, "participant")])
    earlier_messages(app, room_id, host, 130)
    room_url = f"{live_server}/irooms/{room_id}"

    log_in(page, live_server, host.email, "Aminata Traoré")
    page.goto(room_url)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    other = context.new_page()
    other_errors: list[str] = []
    other.on(
        "console", lambda message: message.type == "error" and other_errors.append(message.text)
    )
    try:
        log_in(other, live_server, member.email, "Jean Ouédraogo")
        other.goto(room_url)
        other.get_by_text("Online: Aminata Traoré and Jean Ouédraogo").wait_for()

        # The newest hundred first; earlier ones on demand, by number, until the first.
        until(lambda: len(messages_in(other)) == 100, "the newest page")
        assert messages_in(other)[0] == "Note 31"
        assert messages_in(other)[-1] == "Note 130"
        other.get_by_role("button", name="Show earlier messages").click()
        until(lambda: len(messages_in(other)) == 130, "the earlier messages")
        assert messages_in(other) == [f"Note {number}" for number in range(1, 131)]
        other.get_by_role("button", name="Show earlier messages").wait_for(state="hidden")

        # Typing shows on the other side; an empty message is refused in place.
        other.get_by_label("Your message").press_sequentially("Draft: controlled")
        page.get_by_text("Jean Ouédraogo is typing…").wait_for()
        other.get_by_label("Your message").fill("   ")
        other.get_by_label("Your message").press("Enter")
        other.get_by_role("alert").filter(has_text="Write a message first.").wait_for()

        # The author edits within ten minutes; the host sees the new text, marked edited.
        say(other, "Draft: controlled delivery")
        message_with(page, "Draft: controlled delivery").wait_for()
        page.get_by_text("Jean Ouédraogo is typing…").wait_for(state="hidden")
        message_with(other, "Draft: controlled delivery").get_by_role("button", name="Edit").click()
        other.get_by_label("Edit your message").fill("Controlled delivery: who signs the order?")
        other.get_by_role("button", name="Save").click()
        edited = message_with(page, "Controlled delivery: who signs the order?")
        edited.get_by_text("(edited)").wait_for()
        assert "Draft" not in " ".join(messages_in(page))

        # The host locks the chat: the participant reads but cannot post, until it is unlocked.
        page.get_by_role("button", name="Lock the chat").click()
        other.get_by_text("The chat is locked: only hosts can post.").wait_for()
        assert other.get_by_label("Your message").is_disabled()
        shot(other, "chat-06-locked")
        page.get_by_role("button", name="Unlock the chat").click()
        other.get_by_text("The chat is locked: only hosts can post.").wait_for(state="hidden")
        assert other.get_by_label("Your message").is_enabled()

        # The host mutes the participant from one of their messages, then lets them speak again.
        edited.get_by_role("button", name="Mute Jean Ouédraogo").click()
        other.get_by_text("A host has muted you: you can read the chat but not post.").wait_for()
        assert other.get_by_label("Your message").is_disabled()
        page.get_by_text("Jean Ouédraogo is muted: they can read but not post.").wait_for()
        shot(page, "chat-07-host-muted-someone")
        edited.get_by_role("button", name="Unmute Jean Ouédraogo").click()
        other.get_by_text("A host has muted you").wait_for(state="hidden")
        say(other, "Thank you.")
        message_with(page, "Thank you.").wait_for()

        assert other_errors == []
        assert page.console_errors == []
    finally:
        context.close()
