"""Rooms and who belongs to them."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db

ROOM_ROLES = ("host", "expert", "participant")


class Room(db.Model):
    """A private iRoom. Nobody outside it can see that it exists."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: name shown to members, plain text
    name: Mapped[str] = mapped_column(String(200))
    #: what the room is for, plain text
    description: Mapped[str] = mapped_column(Text, default="")
    #: working language of the room, a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8))
    #: a key of ``choices.THEMES``
    theme: Mapped[str] = mapped_column(String(40))
    #: country or region the room serves, as shown ("Sahel", "Central Asia")
    region_focus: Mapped[str] = mapped_column(String(120), default="")
    #: after this date the room is read-only
    ends_on: Mapped[date | None]
    #: UTC time the room was archived; archived rooms are hidden from "My iRooms"
    archived_at: Mapped[datetime | None]
    #: the trainer who created it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="room", cascade="all, delete-orphan"
    )


class Membership(db.Model):
    """One person's place in one room, with their room role."""

    __tablename__ = "room_memberships"
    __table_args__ = (UniqueConstraint("room_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: host, expert or participant
    role: Mapped[str] = mapped_column(String(20), default="participant")
    #: UTC time the person joined
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of the person's last visit, for "what is new since"
    last_visit_at: Mapped[datetime | None]

    room: Mapped[Room] = relationship(back_populates="memberships")
    user = relationship("User")


class SocketConnection(db.Model):
    """An open Socket.IO connection, so that ending a login session can close it in any process."""

    __tablename__ = "socket_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Socket.IO session id
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the browser login the connection was opened from
    login_session_id: Mapped[int] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    #: UTC time of connection
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
