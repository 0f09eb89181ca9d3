"""Telling people: a notification each, written with the event, e-mailed by their preference.

``notify`` is called in the transaction of the event it tells of (the session scheduled, the
request to enrol), so that both are written or neither. Each recipient gets one notification per
``key`` whatever the number of calls (a job run twice), and an e-mail at once, in their daily
digest, or none, as they chose for that kind.

The notification is the promise of its e-mail: a notification to e-mail at once is written with
``mailed_at`` empty, and a job writes the e-mail into the outbox (and sets ``mailed_at`` in the
same transaction) after the event's commit, or, if that job was lost, the job that looks every
minute. So the event's request writes one row per recipient, and the rendering of 500 e-mails in
500 languages and time zones, with their calendar files, happens in the worker, not on the event
loop that serves every page and socket of a web process.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import lazy_ngettext
from flask_babel.speaklater import LazyString
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from learnplatform import jobs
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.choices import is_time_zone
from learnplatform.extensions import db
from learnplatform.mail import as_seen_by, send_mail
from learnplatform.notifications.kinds import KINDS, sentence
from learnplatform.notifications.models import (
    Notification,
    NotificationDigest,
    NotificationPreference,
)

#: notifications listed per page, newest first
PAGE_SIZE = 30
#: kind -> what writes the link its e-mail carries instead of the notification's page (a
#: follow-up survey's link opening it without a password, made as the e-mail is written), or
#: returns ``None`` for that page; registered by the module that tells of the kind
MAIL_LINKS: dict[str, Callable[[Notification, User], str | None]] = {}


def notify(recipients: Iterable[User], kind: str, *, key: str, url: str, params: dict) -> int:
    """Tell each of ``recipients`` (active accounts only) of the event ``key``, of ``kind``;
    ``url`` is the page it is about, ``params`` what the kind's sentence names (and, under
    ``calendar``, the live session whose invitation the e-mail carries: see ``calendar_of``).
    How many were told."""
    people = {person.id: person for person in recipients if person.active}
    if not people:
        return 0
    told = _new_notifications(people, kind, key, url, params)
    if not told:
        return 0
    if "now" in told.values():
        mail_notifications.schedule(key)
    jobs.after_commit(_tell_unread, sorted(told))
    return len(told)


@jobs.job()
def mail_notifications(key: str) -> int:
    """Write the e-mails of the notifications of event ``key`` still to be e-mailed at once,
    each in its recipient's language and time zone, in one transaction with their ``mailed_at``;
    how many. Those another run took are left to it."""
    taken = db.session.scalars(
        update(Notification)
        .where(
            Notification.key == key,
            Notification.delivery == "now",
            Notification.mailed_at.is_(None),
        )
        .values(mailed_at=utcnow())
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not taken:
        db.session.rollback()
        return 0
    rows = db.session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(Notification.id.in_(taken))
        .order_by(Notification.id)
    ).all()
    for notification, person in rows:
        if person.active:
            _mail(notification, person)
    db.session.commit()
    return len(rows)


@jobs.periodic(jobs.every_minute)
def mail_forgotten(now: datetime | None = None) -> int:
    """E-mail the notifications whose job was lost (the queue was down when their event
    committed, or a worker died): those still waiting a minute after they were written."""
    now = now or utcnow()
    keys = db.session.scalars(
        select(Notification.key)
        .where(
            Notification.delivery == "now",
            Notification.mailed_at.is_(None),
            Notification.created_at <= now - timedelta(minutes=1),
        )
        .group_by(Notification.key)
        .order_by(func.min(Notification.created_at))
        .limit(100)
    ).all()
    return sum(mail_notifications.call_local(key) for key in keys)


def _mail(notification: Notification, person: User) -> None:
    kind, params = notification.kind, notification.params
    link_of = MAIL_LINKS.get(kind)
    link = link_of(notification, person) if link_of else None
    send_mail(
        person,
        LazyString(sentence, kind, params),
        "notification",
        key=f"notification:{notification.id}",
        headers=unsubscribe_headers(person.id, kind),
        calendar=calendar_of(params, person),
        kind=kind,
        params=params,
        link=link or _absolute(notification.url),
        **_footer(person.id, kind),
    )


def calendar_of(params: dict, person: User) -> bytes | None:
    """The invitation an e-mail carries, in ``person``'s time zone: ``params["calendar"]`` is
    ``{"method": "REQUEST" or "CANCEL", "session": <the session's fields>}`` as it was at the
    event (a cancelled session is gone from the database by the time the e-mail is written)."""
    spec = params.get("calendar")
    if not spec:
        return None
    from irooms.models import LiveSession
    from learnplatform.calendars.ics import session_calendar

    fields = dict(spec["session"])
    for name in ("starts_at", "ends_at"):
        fields[name] = datetime.fromisoformat(fields[name])
    return session_calendar(
        LiveSession(**fields), method=spec["method"], time_zone=person.time_zone
    )


def _new_notifications(people: dict, kind: str, key: str, url: str, params: dict) -> dict:
    """Write the notifications not written before; ``{user id: delivery}`` of those written."""
    already = set(
        db.session.scalars(
            select(Notification.user_id).where(
                Notification.key == key, Notification.user_id.in_(people)
            )
        )
    )
    deliveries = preferences_of(list(people), kind)
    rows = [
        {
            "user_id": person_id,
            "kind": kind,
            "params": params,
            "url": url,
            "key": key,
            "delivery": deliveries[person_id],
            "created_at": utcnow(),
        }
        for person_id in people
        if person_id not in already
    ]
    if not rows:
        return {}
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Notification), rows)
    except IntegrityError:  # the same event, told at this moment by another run: one by one
        rows = [row for row in rows if _insert_one(row)]
    return {row["user_id"]: row["delivery"] for row in rows}


def _insert_one(row: dict) -> bool:
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Notification), [row])
    except IntegrityError:
        return False
    return True


def preferences_of(user_ids: list[int], kind: str) -> dict[int, str]:
    """How each person wants to hear of ``kind`` by e-mail: their choice, else the default."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.delivery).where(
                NotificationPreference.kind == kind,
                NotificationPreference.user_id.in_(user_ids),
            )
        ).all()
    )
    return {user_id: chosen.get(user_id, KINDS[kind].default) for user_id in user_ids}


def choices_of(user_id: int) -> dict[str, str]:
    """Every kind with how the person wants to hear of it."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {kind: chosen.get(kind, spec.default) for kind, spec in KINDS.items()}


def set_preference(user_id: int, kind: str, delivery: str) -> bool:
    """Record the person's choice for ``kind``; whether it changed anything."""
    found = db.session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == kind
        )
    )
    if found is None:
        if delivery == KINDS[kind].default:
            return False
        try:
            with db.session.begin_nested():
                db.session.add(
                    NotificationPreference(user_id=user_id, kind=kind, delivery=delivery)
                )
        except IntegrityError:  # chosen at this moment in another tab: this choice wins
            return set_preference(user_id, kind, delivery)
        return True
    if found.delivery == delivery:
        return False
    found.delivery = delivery
    return True


# Reading.
def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
    )


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    """Unread notifications of each person, in one query."""
    counts = dict(
        db.session.execute(
            select(Notification.user_id, func.count(Notification.id))
            .where(Notification.user_id.in_(user_ids), Notification.read_at.is_(None))
            .group_by(Notification.user_id)
        ).all()
    )
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one of the person's notifications read, or all of them; how many changed."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    changed = db.session.execute(
        query.values(read_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        jobs.after_commit(_tell_unread, [user_id])
    return changed


def _tell_unread(user_ids: list[int]) -> None:
    """Send each person's pages their new unread count (the bell), in every process."""
    from learnplatform.notifications.live import tell_unread

    tell_unread(unread_counts(user_ids))


# Unsubscribing.
def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notifications-unsubscribe")


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A token that turns off e-mail of ``kind`` for the person, without logging in."""
    return _serializer().dumps([user_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """The person and kind of a token, or ``None`` if it is not one of ours."""
    try:
        user_id, kind = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or kind not in KINDS:
        return None
    return user_id, kind


def unsubscribe_headers(user_id: int, kind: str) -> dict:
    """RFC 2369 and RFC 8058 headers: mail programs offer "Unsubscribe", one click, no login."""
    link = url_for(
        "notifications.unsubscribe", token=unsubscribe_token(user_id, kind), _external=True
    )
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _footer(user_id: int, kind: str) -> dict:
    return {
        "unsubscribe_url": url_for(
            "notifications.unsubscribe", token=unsubscribe_token(user_id, kind), _external=True
        ),
        "preferences_url": url_for("notifications.preferences", _external=True),
    }


def _absolute(path: str) -> str:
    return url_for("main.home", _external=True).rstrip("/") + path


# Daily digests.
@jobs.periodic(jobs.every_hour)
def send_digests(now: datetime | None = None) -> int:
    """E-mail each person whose digest hour has come, in their own time zone, what waited for
    their digest since the last one: one e-mail a day at most. How many were sent."""
    now = now or utcnow()
    waiting = db.session.scalars(
        select(User)
        .where(
            User.active.is_(True),
            User.id.in_(
                select(Notification.user_id).where(
                    Notification.delivery == "digest", Notification.digest_id.is_(None)
                )
            ),
        )
        .order_by(User.id)
    ).all()
    sent = 0
    for person in waiting:
        sent += _digest_for(person, now)
    return sent


def _digest_for(person: User, now: datetime) -> int:
    zone = person.time_zone if is_time_zone(person.time_zone) else "UTC"
    local = _in_zone(now, zone)
    if local.hour < current_app.config["DIGEST_HOUR"]:
        return 0
    digest = NotificationDigest(user_id=person.id, day=local.date())
    try:
        with db.session.begin_nested():
            db.session.add(digest)
    except IntegrityError:  # today's has gone
        db.session.rollback()
        return 0
    items = db.session.scalars(
        select(Notification)
        .where(
            Notification.user_id == person.id,
            Notification.delivery == "digest",
            Notification.digest_id.is_(None),
        )
        .order_by(Notification.created_at, Notification.id)
    ).all()
    for item in items:
        item.digest_id = digest.id
    with as_seen_by(person):
        entries = [(sentence(item.kind, item.params), _absolute(item.url)) for item in items]
    send_mail(
        person,
        lazy_ngettext(
            "Your daily digest: %(num)d notification",
            "Your daily digest: %(num)d notifications",
            len(entries),
        ),
        "digest",
        key=f"digest:{person.id}:{local.date().isoformat()}",
        entries=entries,
        day=local.date(),
        preferences_url=url_for("notifications.preferences", _external=True),
    )
    db.session.commit()
    return 1


def _in_zone(moment: datetime, zone: str) -> datetime:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))
