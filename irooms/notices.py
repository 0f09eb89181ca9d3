"""What the rooms tell their members: added to a room, sessions scheduled, moved, cancelled and
about to start, new resources in the library, their name mentioned in the chat.

Each function is called in the transaction of its event, before the view commits; the names in
a notification are those the room's pages show at that moment.
"""

import re
from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import select

from irooms.models import LiveSession, Membership, Room
from learnplatform import jobs
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.jobs import with_links
from learnplatform.notifications.models import Notification
from learnplatform.notifications.services import notify

#: reminders before a session starts, in hours, the longest first
REMINDER_LEADS = (24, 1)


def _members(room_id: int, *, but=None) -> list[User]:
    """The room's members (active accounts), but ``but`` (the person who acted)."""
    query = select(User).join(Membership, Membership.user_id == User.id)
    query = query.where(Membership.room_id == room_id, User.active.is_(True))
    if but is not None:
        query = query.where(User.id != but.id)
    return db.session.scalars(query.order_by(User.id)).all()


@with_links
def member_added(membership: Membership, actor) -> None:
    """Tell a new member which room they are in now, with which role, and who added them."""
    room = membership.room or db.session.get(Room, membership.room_id)
    notify(
        [membership.user or db.session.get(User, membership.user_id)],
        "room_member_added",
        key=f"room-member:{membership.id}",
        url=url_for("irooms.room", room_id=room.id),
        params={"actor": actor.name, "room": room.name, "role": membership.role},
    )


def _session_params(session: LiveSession, room: Room) -> dict:
    return {
        "room": room.name,
        "session": session.title,
        "starts_at": session.starts_at.isoformat(),
    }


def _with_invitation(params: dict, session: LiveSession, method: str) -> dict:
    """``params`` with what the e-mail's calendar file is made of (notifications.services
    .calendar_of): the session as it is now."""
    fields = {
        "id": session.id,
        "room_id": session.room_id,
        "title": session.title,
        "agenda": session.agenda,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "sequence": session.sequence,
        "conference_url": session.conference_url,
    }
    return {**params, "calendar": {"method": method, "session": fields}}


@with_links
def session_scheduled(session: LiveSession, actor) -> None:
    """Tell the room's members of a new session, with an invitation for their calendar."""
    _session_news(session, actor, "session_scheduled", f"session-scheduled:{session.id}")


@with_links
def session_moved(session: LiveSession, actor) -> None:
    """Tell the room's members that a session's time changed; their calendars replace it."""
    key = f"session-moved:{session.id}:{session.sequence}"
    _session_news(session, actor, "session_moved", key)


@with_links
def session_cancelled(session: LiveSession, actor) -> None:
    """Tell the room's members that a session to come is cancelled; their calendars drop it.
    Called before the session is deleted."""
    if session.ends_at <= utcnow():
        return  # a past session deleted from the list: nothing to cancel
    session.sequence += 1  # RFC 5546: a cancellation is a revision of the event
    key = f"session-cancelled:{session.id}"
    _session_news(session, actor, "session_cancelled", key, method="CANCEL")


def _session_news(session: LiveSession, actor, kind: str, key: str, method="REQUEST") -> None:
    """Tell the room's members (but who acted) of ``session``, with its calendar invitation;
    a cancelled session's notification leads to the room's sessions."""
    room = db.session.get(Room, session.room_id)
    url = (
        url_for("irooms.sessions", room_id=room.id)
        if method == "CANCEL"
        else url_for("irooms.session", room_id=room.id, session_id=session.id)
    )
    params = _with_invitation(_session_params(session, room), session, method)
    notify(_members(room.id, but=actor), kind, key=key, url=url, params=params)


@jobs.periodic(jobs.every_minute)
def send_reminders(now: datetime | None = None) -> int:
    """Remind the members of each room of its sessions 24 hours and 1 hour before they start;
    how many people were reminded. Each reminder goes once per person and time of the session
    (a moved session is reminded of again), and only the latest one due: a session scheduled
    three hours ahead gets the one-hour reminder alone."""
    now = now or utcnow()
    longest = timedelta(hours=REMINDER_LEADS[0])
    coming = db.session.scalars(
        select(LiveSession)
        .where(LiveSession.starts_at > now, LiveSession.starts_at <= now + longest)
        .order_by(LiveSession.starts_at, LiveSession.id)
    ).all()
    reminded = 0
    for session in coming:
        hours = _reminder_due(session, now)
        if hours is None:
            continue
        key = f"session-reminder:{session.id}:{session.sequence}:{hours}"
        if db.session.scalar(select(Notification.id).where(Notification.key == key).limit(1)):
            continue  # sent, to the whole room at once: the next minutes cost one look-up
        room = db.session.get(Room, session.room_id)
        reminded += notify(
            _members(room.id),
            "session_reminder",
            key=key,
            url=url_for("irooms.session", room_id=room.id, session_id=session.id),
            params=_session_params(session, room),
        )
        db.session.commit()
    return reminded


def _reminder_due(session: LiveSession, now: datetime) -> int | None:
    """The lead, in hours, of the reminder due now for ``session``, if any: the shortest whose
    time has come, unless the session was scheduled after that time (its members were just told)."""
    due = [hours for hours in REMINDER_LEADS if now >= session.starts_at - timedelta(hours=hours)]
    if not due:
        return None
    hours = min(due)
    if session.created_at > session.starts_at - timedelta(hours=hours):
        return None
    return hours


@with_links
def resource_added(resource, actor) -> None:
    """Tell the room's members of a new item in its library (in their digest, by default)."""
    room = db.session.get(Room, resource.room_id)
    notify(
        _members(room.id, but=actor),
        "resource_added",
        key=f"resource:{resource.id}",
        url=url_for("irooms.library", room_id=room.id),
        params={"room": room.name, "title": resource.title},
    )


_WORD = re.compile(r"\w", re.UNICODE)


def mentioned(room_id: int, body: str, *, author_id: int) -> list[User]:
    """The room's members named in ``body`` as ``@Name``, not the author."""
    if "@" not in body:
        return []
    return named_in(body, _members(room_id), author_id=author_id)


def named_in(body: str, people: list[User], *, author_id: int) -> list[User]:
    """Those of ``people`` named in ``body`` as ``@Name`` (their name as shown, any case): the
    longest name that follows each ``@``, and not the author."""
    by_length = sorted(people, key=lambda person: len(person.name), reverse=True)
    folded = body.casefold()
    found: dict[int, User] = {}
    for at in (match.start() for match in re.finditer("@", folded)):
        after = folded[at + 1 :]
        for person in by_length:
            name = person.name.casefold()
            if name and after.startswith(name):
                following = after[len(name) : len(name) + 1]
                if not following or not _WORD.match(following):
                    found.setdefault(person.id, person)
                    break
    found.pop(author_id, None)
    return list(found.values())


@with_links
def chat_mentions(room: Room, message, author) -> None:
    """Tell the members named in a chat message."""
    people = mentioned(room.id, message.body, author_id=author.id)
    if not people:
        return
    excerpt = message.body if len(message.body) <= 140 else message.body[:139] + "…"
    notify(
        people,
        "mention",
        key=f"mention:chat:{message.id}",
        url=url_for("irooms.room", room_id=room.id) + f"#message-{message.seq}",
        params={"actor": author.name, "room": room.name, "excerpt": excerpt},
    )
