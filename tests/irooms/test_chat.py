"""The room chat over Socket.IO: stored before sent, numbered, retried sends kept once, catch-up
after a gap, scroll-back by number, and every event checked against the room's members."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from irooms.models import Membership, Message, Room
from learnplatform.audit import utcnow
from learnplatform.extensions import db, socketio
from tests.helpers import Auth, post_form
from tests.irooms.test_rooms import add_room


def connect(app, user):
    """A logged-in browser's Socket.IO connection."""
    browser = app.test_client()
    Auth(browser).login(user.email)
    return socketio.test_client(app, flask_test_client=browser)


def received(connection, name: str) -> list:
    """The arguments of the ``name`` events received since last asked, in order."""
    return [
        event["args"][0] if isinstance(event["args"], list) else event["args"]
        for event in connection.get_received()
        if event["name"] == name
    ]


CLIENT_IDS = iter(range(1, 10**9))


def send(connection, room_id, body, client_id=None):
    """What the page's script sends, with a new client id unless one is given (a retry)."""
    return connection.emit(
        "send",
        {"room": room_id, "client_id": client_id or f"c-{next(CLIENT_IDS)}", "body": body},
        callback=True,
    )


@pytest.fixture
def room(app, create_user):
    """A room with a host and a participant, each connected; (room id, host, participant)."""
    host, member = create_user(role="trainer", name="Amina Diallo"), create_user(name="Awa Konaté")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    return room_id, connect(app, host), connect(app, member)


def test_a_message_is_stored_numbered_and_reaches_the_room(app, room):
    room_id, host, member = room
    joined = host.emit("join", {"room": room_id, "after": 0}, callback=True)
    assert joined["ok"] and joined["last"] == 0
    assert (joined["role"], joined["can_moderate"], joined["locked"]) == ("host", True, False)
    assert member.emit("join", {"room": room_id, "after": 0}, callback=True)["ok"]
    host.get_received(), member.get_received()

    assert send(member, room_id, "Bonjour à tous") == {"ok": True, "seq": 1}
    assert send(host, room_id, "Welcome, the session starts at 14:00.") == {"ok": True, "seq": 2}

    live = received(host, "message")
    assert [(m["seq"], m["author"]["name"], m["body"]) for m in live] == [
        (1, "Awa Konaté", "Bonjour à tous"),
        (2, "Amina Diallo", "Welcome, the session starts at 14:00."),
    ]
    assert [m["seq"] for m in received(member, "message")] == [1, 2]
    with app.app_context():
        assert db.session.scalar(select(Room.chat_seq).where(Room.id == room_id)) == 2


def test_the_author_is_the_logged_in_person_whatever_the_payload_says(app, room):
    room_id, _, member = room
    member.emit("join", {"room": room_id}, callback=True)
    reply = member.emit(
        "send",
        {"room": room_id, "client_id": "x1", "body": "hi", "author_id": 1, "author": "Host"},
        callback=True,
    )
    assert reply["ok"]
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.author.name == "Awa Konaté"


def test_a_retried_send_is_one_message(app, room):
    room_id, host, member = room
    host.emit("join", {"room": room_id}, callback=True)
    host.get_received()
    first = send(member, room_id, "Le dossier est prêt.", client_id="retry-1")
    again = send(member, room_id, "Le dossier est prêt.", client_id="retry-1")
    assert first == again == {"ok": True, "seq": 1}
    assert len(received(host, "message")) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id))) == 1


def test_sends_from_two_tabs_at_once_are_numbered_without_gaps_or_twins(app, create_user):
    app.config["CHAT_BURST"] = 100
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    tabs = [connect(app, host) for _ in range(4)]
    barrier = threading.Barrier(4)
    replies = []

    def burst(tab, number):
        barrier.wait()
        for index in range(2):
            replies.append(
                send(tab, room_id, f"tab {number} message {index}", f"t{number}-{index}")
            )
        # the same retry from every tab
        replies.append(send(tab, room_id, "once", "shared"))

    threads = [threading.Thread(target=burst, args=(tab, n)) for n, tab in enumerate(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(reply["ok"] for reply in replies)
    with app.app_context():
        numbers = db.session.scalars(select(Message.seq).order_by(Message.seq)).all()
    assert numbers == list(range(1, 10))  # 8 messages and one "once"


def test_a_reconnecting_client_gets_what_it_missed_in_order(app, room, create_user):
    room_id, host, member = room
    member.emit("join", {"room": room_id, "after": 0}, callback=True)
    send(member, room_id, "one")
    member.disconnect()
    for body in ("two", "three"):
        send(host, room_id, body)
    with app.app_context():
        # a page is 100 messages: make the gap longer than one page
        for number in range(4, 254):
            db.session.add(
                Message(
                    room_id=room_id, seq=number, author_id=None, client_id=f"s{number}", body="x"
                )
            )
        db.session.get(Room, room_id).chat_seq = 253
        db.session.commit()

    again = connect(app, db_user(app, "Awa Konaté"))
    reply = again.emit("join", {"room": room_id, "after": 1}, callback=True)
    assert reply["ok"] and reply["last"] == 253 and reply["role"] == "participant"
    pages = received(again, "messages")
    assert [len(page) for page in pages] == [100, 100, 52]
    numbers = [message["seq"] for page in pages for message in page]
    assert numbers == list(range(2, 254))
    assert pages[0][0]["body"] == "two"


def db_user(app, name):
    from learnplatform.accounts.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.name == name))
        db.session.expunge(user)
        return user


def test_numbers_too_large_for_the_database_are_taken_as_missing(app, room):
    """A client naming seq 10**12 gets an answer, not a database error (PostgreSQL refuses to
    compare a 32-bit column with it)."""
    room_id, host, member = room
    send(host, room_id, "first")
    huge = 10**12
    joined = member.emit("join", {"room": room_id, "after": huge}, callback=True)
    assert joined["ok"] and joined["last"] == 1
    member.get_received()
    history = member.emit("history", {"room": room_id, "before": huge}, callback=True)
    assert [m["body"] for m in history["messages"]] == ["first"]
    assert member.emit("edit", {"room": room_id, "seq": huge, "body": "x"}, callback=True) == {
        "ok": False,
        "error": "not_found",
    }
    assert member.emit("delete", {"room": room_id, "seq": huge}, callback=True)["ok"] is False


def test_history_scrolls_back_by_number(app, room):
    room_id, host, member = room
    for number in range(1, 8):
        send(host, room_id, f"message {number}")
    page = member.emit("history", {"room": room_id, "before": 6, "limit": 3}, callback=True)
    assert [m["body"] for m in page["messages"]] == ["message 3", "message 4", "message 5"]
    newest = member.emit("history", {"room": room_id, "limit": 2}, callback=True)
    assert [m["seq"] for m in newest["messages"]] == [6, 7]
    too_many = member.emit("history", {"room": room_id, "limit": 10**6}, callback=True)
    assert len(too_many["messages"]) == 7


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "empty"), ("   \n ", "empty"), ("x" * 4001, "too_long"), (None, "empty"), (42, "empty")],
)
def test_empty_and_too_long_messages_are_refused_with_a_reason(app, room, body, error):
    room_id, host, _ = room
    assert send(host, room_id, body) == {"ok": False, "error": error}
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id))) == 0


def test_a_100000_character_message_is_refused_and_the_server_keeps_serving(app, room):
    room_id, host, member = room
    assert send(host, room_id, "x" * 100_000) == {"ok": False, "error": "too_long"}
    assert send(member, room_id, "still here") == {"ok": True, "seq": 1}


def test_bidi_controls_are_removed_and_html_is_kept_as_text(app, room):
    room_id, host, member = room
    member.emit("join", {"room": room_id}, callback=True)
    member.get_received()
    send(host, room_id, "\u202eevil\u202c <script>alert(1)</script>")
    [message] = received(member, "message")
    assert message["body"] == "evil <script>alert(1)</script>"  # escaped by the page, never HTML


def test_posting_too_fast_is_refused_then_allowed_again(app, room):
    app.config.update(CHAT_RATE=3.0, CHAT_BURST=3)
    room_id, host, _ = room
    replies = [send(host, room_id, f"m{n}") for n in range(3)]
    assert all(reply["ok"] for reply in replies)
    assert send(host, room_id, "one more") == {"ok": False, "error": "rate_limited"}
    time.sleep(1.1)  # three a second: the first has left the window
    assert send(host, room_id, "one more")["ok"]


def test_posting_goes_on_when_the_shared_rate_limit_store_is_unreachable(app, room):
    """With Redis gone, each process counts the chat's rate limit on its own."""
    from limits.storage import MemoryStorage, RedisStorage
    from limits.strategies import MovingWindowRateLimiter

    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.extensions["irooms.chat_rate"] = (
        MovingWindowRateLimiter(RedisStorage(f"redis://127.0.0.1:{port}/0")),
        MovingWindowRateLimiter(MemoryStorage()),
    )
    app.config.update(CHAT_RATE=3.0, CHAT_BURST=3)
    room_id, host, _ = room
    assert all(send(host, room_id, f"m{n}")["ok"] for n in range(3))
    assert send(host, room_id, "one more") == {"ok": False, "error": "rate_limited"}


def test_outsiders_and_members_of_other_rooms_get_nothing(app, room, create_user):
    room_id, host, _ = room
    send(host, room_id, "private")
    other = create_user()
    add_room(app, "Central Asia", [(other, "host")])
    for person in (other, create_user()):
        connection = connect(app, person)
        for event, data in [
            ("join", {"room": room_id, "after": 0}),
            ("send", {"room": room_id, "client_id": "x", "body": "hello"}),
            ("history", {"room": room_id}),
            ("leave", {"room": room_id}),
            ("join", {"room": 999999}),
            ("join", {"room": "1"}),
            ("join", None),
        ]:
            assert connection.emit(event, data, callback=True) == {
                "ok": False,
                "error": "not_found",
            }
        assert received(connection, "messages") == received(connection, "message") == []
        send(host, room_id, "still private")
        assert received(connection, "message") == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id))) == 3


def test_a_removed_member_is_refused_at_the_next_event(app, room):
    room_id, _, member = room
    member.emit("join", {"room": room_id}, callback=True)
    with app.app_context():
        db.session.execute(
            Membership.__table__.delete().where(
                Membership.room_id == room_id, Membership.role == "participant"
            )
        )
        db.session.commit()
    assert send(member, room_id, "am I still here?") == {"ok": False, "error": "not_found"}


def test_muted_members_read_and_a_locked_chat_takes_only_hosts(app, room):
    room_id, host, member = room
    with app.app_context():
        db.session.execute(
            Membership.__table__.update()
            .where(Membership.room_id == room_id, Membership.role == "participant")
            .values(muted_at=utcnow())
        )
        db.session.commit()
    assert send(member, room_id, "hello") == {"ok": False, "error": "muted"}
    assert member.emit("history", {"room": room_id}, callback=True)["ok"]
    with app.app_context():
        db.session.execute(Membership.__table__.update().values(muted_at=None))
        db.session.get(Room, room_id).chat_locked_at = utcnow()
        db.session.commit()
    assert send(member, room_id, "hello") == {"ok": False, "error": "locked"}
    assert send(host, room_id, "Slides: page 4") == {"ok": True, "seq": 1}


# Moderation, presence, removal and the transcript.
def test_authors_edit_and_delete_within_ten_minutes(app, room):
    room_id, host, member = room
    host.emit("join", {"room": room_id}, callback=True)
    seq = send(member, room_id, "Rendez-vous à 14h")["seq"]
    host.get_received()
    edit = {"room": room_id, "seq": seq, "body": "Rendez-vous à 15h"}
    assert member.emit("edit", edit, callback=True) == {"ok": True}
    [changed] = received(host, "message")
    assert (changed["seq"], changed["body"], changed["edited"]) == (seq, "Rendez-vous à 15h", True)
    assert host.emit("edit", edit, callback=True) == {"ok": False, "error": "forbidden"}

    with app.app_context():
        message = db.session.scalar(select(Message))
        message.created_at -= timedelta(minutes=11)
        db.session.commit()
    assert member.emit("edit", edit, callback=True) == {"ok": False, "error": "too_late"}
    delete = {"room": room_id, "seq": seq}
    assert member.emit("delete", delete, callback=True) == {"ok": False, "error": "too_late"}


def test_hosts_remove_any_message_and_every_client_sees_the_mark(app, room):
    room_id, host, member = room
    member.emit("join", {"room": room_id}, callback=True)
    seq = send(member, room_id, "off-topic")["seq"]
    member.get_received()
    assert member.emit("delete", {"room": room_id, "seq": 999}, callback=True)["ok"] is False
    assert host.emit("delete", {"room": room_id, "seq": seq}, callback=True) == {"ok": True}
    [mark] = received(member, "message")
    assert (mark["seq"], mark["removed"], mark["body"]) == (seq, True, "")
    history = member.emit("history", {"room": room_id}, callback=True)["messages"]
    assert history[0]["removed"] and "off-topic" not in str(history)
    assert "chat_message_removed" in audit_actions(app)


def test_participants_cannot_moderate(app, room):
    room_id, host, member = room
    seq = send(host, room_id, "Agenda")["seq"]
    for event, data in [
        ("delete", {"room": room_id, "seq": seq}),
        ("lock", {"room": room_id, "locked": True}),
        ("mute", {"room": room_id, "user": 1, "muted": True}),
    ]:
        assert member.emit(event, data, callback=True) == {"ok": False, "error": "forbidden"}


def test_a_host_mutes_and_locks_through_the_chat_and_it_is_audited(app, room, create_user):
    room_id, host, member = room
    member.emit("join", {"room": room_id}, callback=True)
    member_id = db_user(app, "Awa Konaté").id
    member.get_received()
    assert host.emit("mute", {"room": room_id, "user": member_id, "muted": True}, callback=True)[
        "ok"
    ]
    assert received(member, "muted") == [{"room": room_id, "muted": True}]
    assert send(member, room_id, "hello") == {"ok": False, "error": "muted"}
    host.emit("mute", {"room": room_id, "user": member_id, "muted": False}, callback=True)
    assert host.emit("lock", {"room": room_id, "locked": True}, callback=True) == {"ok": True}
    assert {"room": room_id, "locked": True} in received(member, "room_state")
    assert send(member, room_id, "hello") == {"ok": False, "error": "locked"}
    assert {"chat_member_muted", "chat_member_unmuted", "chat_locked"} <= set(audit_actions(app))


def test_presence_follows_joins_and_disconnects_and_typing_reaches_others(app, room):
    room_id, host, member = room
    awa = {"id": db_user(app, "Awa Konaté").id, "name": "Awa Konaté"}
    host.emit("join", {"room": room_id}, callback=True)
    [alone] = received(host, "presence")
    assert [person["name"] for person in alone["online"]] == ["Amina Diallo"]

    # The one who joins gets the whole list; those already there hear only who arrived.
    member.emit("join", {"room": room_id}, callback=True)
    [both] = received(member, "presence")
    assert [person["name"] for person in both["online"]] == ["Amina Diallo", "Awa Konaté"]
    heard = host.get_received()
    assert [(event["name"], event["args"]) for event in heard] == [
        ("online", [{"room": room_id, "user": awa}])
    ]

    member.emit("typing", {"room": room_id}, callback=True)
    assert received(host, "typing") == [{"room": room_id, "user": awa}]
    assert received(member, "typing") == []

    # A second tab of the same person closing leaves them online; the last one, offline.
    second_tab = connect(app, db_user(app, "Awa Konaté"))
    second_tab.emit("join", {"room": room_id}, callback=True)
    received(host, "online")
    second_tab.disconnect()
    assert received(host, "offline") == []
    member.disconnect()
    assert received(host, "offline") == [{"room": room_id, "user": awa["id"]}]


def test_joining_during_a_session_records_attendance(app, room):
    from irooms.models import Attendance, LiveSession

    room_id, _, member = room
    with app.app_context():
        now = utcnow()
        db.session.add(
            LiveSession(
                room_id=room_id,
                title="Controlled deliveries",
                starts_at=now - timedelta(minutes=5),
                ends_at=now + timedelta(hours=1),
            )
        )
        db.session.commit()
    member.emit("join", {"room": room_id}, callback=True)
    member.emit("join", {"room": room_id}, callback=True)
    with app.app_context():
        marks = db.session.scalars(select(Attendance)).all()
        assert [(mark.source, mark.user.name) for mark in marks] == [("presence", "Awa Konaté")]


def test_a_removed_member_is_told_and_disconnected_at_once(app, client, room, monkeypatch):
    room_id, _, member = room
    member.emit("join", {"room": room_id}, callback=True)
    told = []
    emit = socketio.emit
    monkeypatch.setattr(
        socketio, "emit", lambda event, *a, **k: (told.append((event, *a)), emit(event, *a, **k))
    )
    with app.app_context():
        host_user = db.session.scalar(select(Membership).where(Membership.role == "host")).user
        target = db.session.scalar(select(Membership).where(Membership.role == "participant"))
        target_id = target.id
        host_email = host_user.email
    Auth(client).login(host_email)
    post_form(
        client,
        f"/irooms/{room_id}/members/{target_id}/remove",
        {},
        form_url=f"/irooms/{room_id}/members",
    )
    assert ("removed", {"room": room_id}) in told
    assert not member.is_connected()


def test_hosts_export_the_transcript_with_formulas_neutralised(app, client, room):
    room_id, _, member = room
    send(member, room_id, '=HYPERLINK("http://example.org","click")')
    send(member, room_id, "Merci, à demain")
    with app.app_context():
        host_email = db.session.scalar(
            select(Membership).where(Membership.role == "host")
        ).user.email
    Auth(client).login(host_email)
    response = client.get(f"/irooms/{room_id}/chat/transcript.csv")
    assert response.is_streamed and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK" in text and "Merci, à demain" in text
    data = client.get(f"/irooms/{room_id}/chat/transcript.json").get_json()
    assert [m["seq"] for m in data] == [1, 2] and data[1]["author"]["name"] == "Awa Konaté"
    assert "chat_transcript_exported" in audit_actions(app)
    Auth(client).logout()
    Auth(client).login(db_user(app, "Awa Konaté").email)
    assert client.get(f"/irooms/{room_id}/chat/transcript.csv").status_code == 403


def audit_actions(app) -> list[str]:
    from learnplatform.audit import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action)))


def test_an_ended_room_keeps_its_chat_as_it_was(app, room):
    from datetime import date

    room_id, host, member = room
    seq = send(member, room_id, "Dernier message")["seq"]
    with app.app_context():
        db.session.get(Room, room_id).ends_on = date.today() - timedelta(days=1)
        db.session.commit()
    refused = {"ok": False, "error": "read_only"}
    assert send(member, room_id, "encore") == refused
    assert member.emit("edit", {"room": room_id, "seq": seq, "body": "x"}, callback=True) == refused
    assert host.emit("delete", {"room": room_id, "seq": seq}, callback=True) == refused
    assert host.emit("lock", {"room": room_id, "locked": True}, callback=True) == refused
    assert member.emit("history", {"room": room_id}, callback=True)["messages"][0]["body"] == (
        "Dernier message"
    )


def test_hosts_learn_who_is_muted_when_they_join(app, room):
    room_id, host, member = room
    member_id = db_user(app, "Awa Konaté").id
    host.emit("mute", {"room": room_id, "user": member_id, "muted": True}, callback=True)
    assert host.emit("join", {"room": room_id}, callback=True)["muted_users"] == [member_id]
    assert member.emit("join", {"room": room_id}, callback=True)["muted_users"] == []
