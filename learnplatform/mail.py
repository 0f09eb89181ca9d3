"""E-mail, written in the same transaction as what it tells and handed to SMTP by a job.

Every e-mail is first a row of the outbox, written with the event it tells of, so that a
message exists exactly when the event does. After the commit a job hands it to the SMTP server
(``MAIL_SERVER``); without one, it stays in the outbox for ``flask outbox`` to print.

Delivery survives an SMTP server that is down: a failed try leaves the message waiting, tried
again 1, 2, 4... minutes later (at most every six hours, ``MAIL_MAX_ATTEMPTS`` tries), by the
job of the next minute if not sooner. A message is sent once: a sender takes it with a
conditional UPDATE before it talks to the server, and a message written twice under one ``key``
is one row. (A sender that dies between the server's "250 OK" and its own commit leaves the
message to be sent again when its hold runs out; the Message-ID is the same both times, so that
mail systems that deduplicate do.)
"""

import logging
import smtplib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app, g, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from pytz import timezone
from sqlalchemy import JSON, String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from learnplatform import jobs
from learnplatform.audit import utcnow
from learnplatform.choices import is_time_zone
from learnplatform.extensions import db

log = logging.getLogger(__name__)

#: how long a sender holds a message it took before another may take it
HOLD = timedelta(minutes=5)
#: the longest wait between two tries
LONGEST_WAIT = timedelta(hours=6)
#: messages one run of the periodic job takes at most
BATCH = 500


class OutboxMessage(db.Model):
    """An e-mail the platform wrote; ``flask outbox`` prints those not sent through SMTP."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: UTC time the message was written
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: the single recipient address
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    #: subject line, plain text
    subject: Mapped[str] = mapped_column(String(200))
    #: body, plain text
    body: Mapped[str] = mapped_column(Text)
    #: the same body as HTML, sent beside the plain text when there is one
    html: Mapped[str | None] = mapped_column(Text)
    #: further headers: ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` for notifications
    headers: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    #: an iCalendar object sent as a ``text/calendar`` part (a session's invitation)
    calendar: Mapped[str | None] = mapped_column(Text)
    #: the e-mail, once: written twice with the same key (a job run twice), it is one message
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: UTC time the SMTP server accepted it; ``None`` while it waits in the outbox
    sent_at: Mapped[datetime | None]
    #: tries so far to hand it to the SMTP server
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: UTC time of the next try; ``None`` once sent, given up, or when no SMTP server is set
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    #: a sender that took it holds it until then; another may take it after, if it is not sent
    claimed_until: Mapped[datetime | None]
    #: what the SMTP server or the network said at the last failed try
    last_error: Mapped[str | None] = mapped_column(String(500))


@dataclass(frozen=True)
class Addressee:
    """Someone written to who may have no account (an invitation): what an e-mail needs of them."""

    email: str
    name: str = ""
    language: str = "en"
    time_zone: str = "UTC"


@contextmanager
def as_seen_by(person) -> Iterator[None]:
    """Render, for the duration, in ``person``'s language and time zone (``format_datetime`` and
    the translations), whoever's request this is."""
    zone = person.time_zone if is_time_zone(getattr(person, "time_zone", None)) else "UTC"
    with force_locale(person.language or "en"):
        context = g._flask_babel  # Flask-Babel's, which force_locale has just made sure of
        before = getattr(context, "babel_tzinfo", None)
        context.babel_tzinfo = timezone(zone)
        try:
            yield
        finally:
            context.babel_tzinfo = before


def send_mail(
    recipient,
    subject,
    template: str,
    *,
    key: str | None = None,
    headers: dict | None = None,
    calendar: bytes | None = None,
    **context,
) -> OutboxMessage | None:
    """Write ``templates/email/<template>.txt`` (and ``.html`` beside it, if there is one) for
    ``recipient`` (a user, or an ``Addressee``) into the outbox, and send it after the commit.

    The subject (a lazy string) and the body are written in the recipient's own language and
    time zone, whoever's request sends them. Whatever a user typed (a name, a room title)
    reaches the recipient as text: the plain-text part is not HTML, and the HTML part is
    rendered with autoescaping. With ``key``, the message is written once whatever the number of
    calls (None is returned for the repeats).
    """
    with as_seen_by(recipient):
        # One line, whatever the names in it hold: a line break would start another header.
        subject = " ".join(str(subject).split())[:200]
        body = render_template(f"email/{template}.txt", user=recipient, **context)
        try:
            html = render_template(f"email/{template}.html", user=recipient, **context)
        except TemplateNotFound:
            html = None
    message = OutboxMessage(
        recipient=recipient.email,
        subject=subject,
        body=body,
        html=html,
        headers=headers or {},
        calendar=calendar.decode() if calendar else None,
        key=key,
        next_attempt_at=utcnow() if current_app.config["MAIL_SERVER"] else None,
    )
    if key is not None:
        try:
            with db.session.begin_nested():
                db.session.add(message)
        except IntegrityError:
            return None  # written before
    else:
        db.session.add(message)
        db.session.flush()
    if message.next_attempt_at is not None:
        deliver.schedule(message.id)
    return message


@jobs.job()
def deliver(message_id: int) -> None:
    """Hand one message to the SMTP server, if it still waits and nobody else holds it."""
    _send_due(select(OutboxMessage.id).where(OutboxMessage.id == message_id))


@jobs.periodic(jobs.every_minute)
def deliver_waiting(now: datetime | None = None) -> int:
    """Hand every message whose time has come to the SMTP server (those whose first try was
    lost, and those to try again); how many were sent."""
    now = now or utcnow()
    return _send_due(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(BATCH),
        now,
    )


def _send_due(ids_query, now: datetime | None = None) -> int:
    """Send the due messages among ``ids_query``'s over one SMTP connection, opened at the
    first; stop at the first failure to reach the server (the others wait their turn)."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return 0
    sent = 0
    now = now or utcnow()
    taken = _take(db.session.scalars(ids_query).all(), now)
    with ExitStack() as stack:
        smtp = None
        for position, message in enumerate(taken):
            try:
                if smtp is None:
                    smtp = stack.enter_context(_connect(config))
                smtp.send_message(_email(message, config))
            except (OSError, smtplib.SMTPException) as error:
                _failed(message, now, error, config["MAIL_MAX_ATTEMPTS"])
                if not isinstance(error, smtplib.SMTPRecipientsRefused):
                    _release(taken[position + 1 :])  # the server is away: they wait their turn
                    break
                continue
            message.sent_at = utcnow()
            message.next_attempt_at = message.claimed_until = None
            db.session.commit()  # each at once: a crash after it does not send it again
            sent += 1
    return sent


def _take(message_ids: list[int], now: datetime) -> list["OutboxMessage"]:
    """Hold for this sender those of the messages that wait and that nobody holds, counting a
    try for each, in one statement; the messages held, oldest first."""
    if not message_ids:
        return []
    held = db.session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + HOLD, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    if not held:
        return []
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(held)).order_by(OutboxMessage.id)
    ).all()


def _release(messages: list["OutboxMessage"]) -> None:
    """Give back messages held but not tried: their try is not counted."""
    for message in messages:
        message.claimed_until = None
        message.attempts -= 1
    db.session.commit()


def _failed(message: "OutboxMessage", now: datetime, error: Exception, most: int) -> None:
    """Note the failure and when to try again; give up after ``most`` tries."""
    wait = min(timedelta(minutes=2 ** (message.attempts - 1)), LONGEST_WAIT)
    message.next_attempt_at = now + wait if message.attempts < most else None
    message.claimed_until = None
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    db.session.commit()
    log.warning(
        "e-mail %s to the SMTP server failed (try %s): %s",
        message.id,
        message.attempts,
        message.last_error,
    )


@contextmanager
def _connect(config) -> Iterator[smtplib.SMTP]:
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    kind = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    smtp = kind(host, port, timeout=30)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        yield smtp
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):  # the server left first
            smtp.close()


def _email(message: "OutboxMessage", config) -> EmailMessage:
    """The message as MIME: plain text, HTML beside it, a calendar part, its headers."""
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    # The same at every try, so that a message sent twice after a crash can be told the same.
    email["Message-ID"] = (
        f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{_domain(config)}>"
    )
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    if message.calendar:
        email.add_attachment(
            message.calendar.encode(),
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": _calendar_method(message.calendar)},
        )
    return email


def _domain(config) -> str:
    sender = config["MAIL_SENDER"]
    return sender.rsplit("@", 1)[-1].rstrip(">").strip() or "localhost"


def _calendar_method(calendar: str) -> str:
    for line in calendar.splitlines():
        if line.startswith("METHOD:"):
            return line.split(":", 1)[1].strip()
    return "PUBLISH"
