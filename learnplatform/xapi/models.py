"""The outbox of statements, and the lease that lets one sender at a time empty it."""

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from learnplatform.audit import utcnow
from learnplatform.extensions import db


class XapiStatement(db.Model):
    """A statement written with the event it tells of, waiting to reach the LRS or sent.

    The row's ``id`` is the order in which statements leave; the statement itself, its ``id``
    included, is fixed when the row is written, so that a statement sent again (a sender that
    died before noting it sent) is the same statement to the LRS, which keeps it once.
    """

    __tablename__ = "xapi_statements"
    __table_args__ = (
        # The sender's look-up: the oldest waiting statements, however many were sent before.
        Index(
            "ix_xapi_statements_waiting",
            "id",
            postgresql_where=text("sent_at IS NULL AND next_attempt_at IS NOT NULL"),
            sqlite_where=text("sent_at IS NULL AND next_attempt_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the statement's own ``id`` (a UUID), the LRS's key to recognise it sent again
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    #: the statement as JSON text, sent byte for byte as written
    payload: Mapped[str] = mapped_column(Text)
    #: UTC time the statement was written
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time the LRS accepted it (or answered that it has it already)
    sent_at: Mapped[datetime | None]
    #: tries that failed while it was first in line
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: UTC time from which it may be sent; ``None`` once sent, or refused by the LRS for good
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    #: what the LRS or the network said at the last failure, or why it was refused
    last_error: Mapped[str | None] = mapped_column(String(500))

    @property
    def is_refused(self) -> bool:
        """Whether the LRS refused the statement as invalid: it will not be sent."""
        return self.sent_at is None and self.next_attempt_at is None


class XapiSender(db.Model):
    """The one row saying which sender empties the outbox, until when: statements leave in
    order only if one sender at a time sends them. A sender that dies leaves it to expire."""

    __tablename__ = "xapi_sender"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a random token naming the sender that holds the lease
    holder: Mapped[str | None] = mapped_column(String(32))
    #: UTC time at which the lease ends unless its holder renews it
    held_until: Mapped[datetime | None]
