"""E-mail: sent through SMTP when a server is configured, otherwise kept in the outbox table."""

import smtplib
from datetime import datetime
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from learnplatform.audit import utcnow
from learnplatform.extensions import db


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


def send_mail(user, subject, template: str, **context) -> OutboxMessage:
    """Render ``templates/email/<template>.txt`` for ``user`` and send it, or keep it in the outbox.

    The subject (a lazy string) and the body are written in the recipient's own interface
    language, whoever's request sends them. E-mails are plain text, so whatever a user typed
    (a name, a room title) reaches the recipient as text and never as markup.
    """
    recipient = user.email
    with force_locale(user.language or "en"):
        subject = str(subject)
        body = render_template(f"email/{template}.txt", user=user, **context)
    message = OutboxMessage(recipient=recipient, subject=subject, body=body)
    db.session.add(message)
    config = current_app.config
    if config["MAIL_SERVER"]:
        email = EmailMessage()
        email["From"] = config["MAIL_SENDER"]
        email["To"] = recipient
        email["Subject"] = subject
        email.set_content(body)
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(email)
        message.sent_at = utcnow()
    return message
