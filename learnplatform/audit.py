"""The audit log of security events, and the security log that operators read."""

import json
import logging
from datetime import UTC, datetime

from flask import has_request_context
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.extensions import db
from learnplatform.network import client_address

security_logger = logging.getLogger("learnplatform.security")


def utcnow() -> datetime:
    """The current time in UTC, naive, as every timestamp column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


class AuditEvent(db.Model):
    """One security-relevant event: who, what, from where and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: UTC time of the event
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: dotted name such as ``login.failure`` or ``account.deactivate``
    action: Mapped[str] = mapped_column(String(64), index=True)
    #: the account the event is about, when there is one
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: who did it, when that is someone else (an administrator changing a role)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the client's address
    address: Mapped[str | None] = mapped_column(String(64))
    #: JSON object with the details that matter for the action
    detail: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", foreign_keys=[user_id])
    actor = relationship("User", foreign_keys=[actor_id])

    @property
    def details(self) -> dict:
        """The details as a mapping."""
        return json.loads(self.detail) if self.detail else {}


def log_security_event(action: str, **fields) -> None:
    """Write one line to the security log; every value is JSON-encoded so that a newline in a
    name cannot start a forged line."""
    if has_request_context():
        fields.setdefault("address", client_address())
    parts = " ".join(
        f"{key}={json.dumps(value, ensure_ascii=True)}" for key, value in fields.items()
    )
    security_logger.warning("%s %s", action, parts)


def record(action: str, *, user=None, actor=None, log: bool = False, **detail) -> AuditEvent:
    """Add an audit event to the current transaction (the view commits it)."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None else None,
        actor_id=actor.id if actor is not None else None,
        address=client_address() if has_request_context() else None,
        detail=json.dumps(detail, ensure_ascii=False) if detail else None,
    )
    db.session.add(event)
    if log:
        log_security_event(action, user_id=event.user_id, **detail)
    return event


class UTCFormatter(logging.Formatter):
    """Log records stamped in UTC, ISO 8601."""

    converter = staticmethod(lambda seconds: datetime.fromtimestamp(seconds, UTC).timetuple())
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


def configure_security_log() -> None:
    """Keep the security log's lines whatever the level of the platform's log; they go out
    through its handler (learnplatform.logs): standard error, UTC, with the request's id, one
    JSON object a line where ``LOG_FORMAT=json``."""
    security_logger.setLevel(logging.INFO)
