"""What the platform told each person, and how each wants to be told."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db

#: how a person wants to hear of a kind of event by e-mail; the bell shows every notification
DELIVERIES = ("now", "digest", "off")


class Notification(db.Model):
    """One thing one person was told: shown under the bell, e-mailed by their preference.

    Its words are written when it is shown, in the reader's language of the moment, from its
    kind and ``params``: the names of things as they were when it happened.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        # The same event told twice to one person (a job run twice) is one notification.
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        # What the e-mail job has yet to write: a few rows among millions.
        Index(
            "ix_notifications_to_mail",
            "created_at",
            postgresql_where=text("mailed_at IS NULL AND delivery = 'now'"),
            sqlite_where=text("mailed_at IS NULL AND delivery = 'now'"),
        ),
        # Who waits for a digest, and with what.
        Index(
            "ix_notifications_for_digest",
            "user_id",
            postgresql_where=text("digest_id IS NULL AND delivery = 'digest'"),
            sqlite_where=text("digest_id IS NULL AND delivery = 'digest'"),
        ),
        # One event's notifications, for the job that e-mails them.
        Index("ix_notifications_key", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: a key of ``notifications.kinds.KINDS``
    kind: Mapped[str] = mapped_column(String(40))
    #: what the kind's sentence names: room, module, session titles, the person who acted...
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the platform page it is about, a path
    url: Mapped[str] = mapped_column(String(500), default="/")
    #: the event, once per recipient: ``session-moved:12:3`` for the third move of session 12
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time the person opened it or marked it read
    read_at: Mapped[datetime | None]
    #: ``now`` (e-mailed with it), ``digest`` (waits for the daily digest) or ``off``
    delivery: Mapped[str] = mapped_column(String(10), default="now")
    #: UTC time its e-mail was written into the outbox (``now`` only), by the job that the
    #: event's commit queues, or by the one that looks every minute for what that one missed
    mailed_at: Mapped[datetime | None]
    #: the daily digest that carried it, once one has
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_digests.id", ondelete="SET NULL"), index=True
    )

    user = relationship("User")


class NotificationPreference(db.Model):
    """How one person wants to hear of one kind of event by e-mail, when not the default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    #: one of ``DELIVERIES``
    delivery: Mapped[str] = mapped_column(String(10))


class NotificationDigest(db.Model):
    """One person's daily digest e-mail: at most one per day of their own calendar."""

    __tablename__ = "notification_digests"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: the date in the person's time zone
    day: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
