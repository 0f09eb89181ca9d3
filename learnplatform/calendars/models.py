"""A person's private calendar feed address."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db


class CalendarFeed(db.Model):
    """A secret address from which a calendar program reads all of one person's sessions.

    Only the SHA-256 of its random token is kept; revoking it stops the address at once.
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token, hexadecimal
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time a calendar program last read it, updated at most once an hour
    last_used_at: Mapped[datetime | None]
    #: UTC time its owner revoked it; a revoked feed answers 404
    revoked_at: Mapped[datetime | None]

    user = relationship("User")
