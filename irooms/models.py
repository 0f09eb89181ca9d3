"""Rooms, who belongs to them and how they join, their libraries and live sessions."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, text
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
    #: sequence number of the room's newest chat message, raised by one UPDATE per message
    chat_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    #: when set, only hosts post in the chat (during a presentation, for example)
    chat_locked_at: Mapped[datetime | None]

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
    #: when set, the member reads the chat but cannot post
    muted_at: Mapped[datetime | None]

    room: Mapped[Room] = relationship(back_populates="memberships")
    user = relationship("User")


RESOURCE_CATEGORIES = ("manual", "key_resolution", "report", "guide", "module", "series", "other")
#: what a resource is: a stored file, a platform module or webinar series, or an address
RESOURCE_KINDS = ("file", "module", "series", "link")


#: an invitation e-mailed to an address that nobody has used or revoked yet: one per room and
#: address, so that a list sent twice invites nobody twice
_WAITING_FOR_ADDRESS = text("email IS NOT NULL AND revoked_at IS NULL AND uses = 0")


class Invitation(db.Model):
    """A link that makes whoever opens it a member of a room, with a role, until it runs out; or,
    sent by e-mail to a named address, only the account of that address.

    Only the SHA-256 of its random token is kept; the link is shown once, when it is created, or
    exists only in the e-mail.
    """

    __tablename__ = "room_invitations"
    __table_args__ = (
        db.Index(
            "uq_room_invitations_waiting_email",
            "room_id",
            "email",
            unique=True,
            sqlite_where=_WAITING_FOR_ADDRESS,
            postgresql_where=_WAITING_FOR_ADDRESS,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token, hexadecimal
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the room role given to those who join with it
    role: Mapped[str] = mapped_column(String(20), default="participant")
    #: UTC time after which it no longer works
    expires_at: Mapped[datetime]
    #: how many people may join with it
    max_uses: Mapped[int] = mapped_column(default=1)
    #: how many have, counted by a conditional UPDATE so that two at once cannot pass the limit
    uses: Mapped[int] = mapped_column(default=0)
    #: UTC time a host revoked it
    revoked_at: Mapped[datetime | None]
    #: a note for the hosts: whom it was sent to
    note: Mapped[str] = mapped_column(String(200), default="")
    #: for an invitation e-mailed to one person, their address, normalised as accounts keep
    #: theirs: only the account of this address may use it; ``None`` for a link anyone may use
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    #: the invitee's name as the host typed it, plain text
    name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[Room] = relationship()
    created_by = relationship("User")


class HeldInvitation(db.Model):
    """An invitation link a visitor registered through, kept with their new account until they
    confirm its address, in whichever browser or device they do it."""

    __tablename__ = "room_held_invitations"
    __table_args__ = (UniqueConstraint("user_id", "invitation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("room_invitations.id", ondelete="CASCADE"), index=True
    )
    #: UTC time of the registration
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Resource(db.Model):
    """An item of a room's library: a file (with its earlier versions), a platform module or
    webinar series, or an external address."""

    __tablename__ = "room_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: plain text
    description: Mapped[str] = mapped_column(Text, default="")
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8))
    #: one of ``RESOURCE_CATEGORIES``
    category: Mapped[str] = mapped_column(String(20))
    #: lower-case words separated by commas, as typed and cleaned
    tags: Mapped[str] = mapped_column(String(400), default="")
    #: one of ``RESOURCE_KINDS``
    kind: Mapped[str] = mapped_column(String(10))
    module_id: Mapped[int | None] = mapped_column(ForeignKey("modules.id", ondelete="SET NULL"))
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("webinar_series.id", ondelete="SET NULL")
    )
    #: an http or https address
    url: Mapped[str | None] = mapped_column(String(2000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list["ResourceVersion"]] = relationship(
        back_populates="resource",
        order_by="ResourceVersion.number.desc()",
        cascade="all, delete-orphan",
    )
    module = relationship("Module")
    series = relationship("WebinarSeries")
    created_by = relationship("User")


class ResourceVersion(db.Model):
    """One file of a resource; a replacement adds a version and keeps the earlier ones."""

    __tablename__ = "room_resource_versions"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("room_resources.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the first file, then 2, 3...
    number: Mapped[int]
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resource: Mapped[Resource] = relationship(back_populates="versions")
    stored_file = relationship("StoredFile")


class ResourceDownload(db.Model):
    """One download of a resource's file: who and when."""

    __tablename__ = "room_resource_downloads"
    __table_args__ = (db.Index("ix_room_resource_downloads_resource_at", "resource_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("room_resources.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("room_resource_versions.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LiveSession(db.Model):
    """A scheduled live session of a room."""

    __tablename__ = "room_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: plain text
    agenda: Mapped[str] = mapped_column(Text, default="")
    #: UTC times
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    #: an external video-conference address, http or https
    conference_url: Mapped[str | None] = mapped_column(String(2000))
    #: the webinar holding the session's recording, once there is one
    webinar_id: Mapped[int | None] = mapped_column(ForeignKey("webinars.id", ondelete="SET NULL"))
    #: raised each time the session moves, so that calendars replace the event they hold (the
    #: SEQUENCE of RFC 5545)
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    webinar = relationship("Webinar")


class Attendance(db.Model):
    """A member present at a live session: marked by a host, or seen in the room's chat."""

    __tablename__ = "room_session_attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ``host`` (marked by a host) or ``presence`` (online in the room during the session)
    source: Mapped[str] = mapped_column(String(10), default="host")
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", foreign_keys=[user_id])


class Message(db.Model):
    """A chat message of a room, stored before it is sent out.

    ``seq`` increases by one within the room, so that a client asks for what it missed after the
    last number it saw; ``client_id`` makes a retried send the same message.
    """

    __tablename__ = "room_messages"
    __table_args__ = (
        UniqueConstraint("room_id", "seq"),
        UniqueConstraint("room_id", "author_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: chosen by the sending client, unique for its author in the room
    client_id: Mapped[str] = mapped_column(String(64))
    #: plain text, at most 4,000 characters, without bidi controls
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    #: a removed message keeps its place (its number) but not its text
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    author = relationship("User", foreign_keys=[author_id])


class ChatProcess(db.Model):
    """A server process holding Socket.IO connections, alive while it beats (irooms.presence):
    the connections and presence of a process that stopped beating go with it."""

    __tablename__ = "chat_processes"

    #: random, new at each start of a process
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of its last beat
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ChatPresence(db.Model):
    """A connection that has joined a room's chat: who is online, seen from every process."""

    __tablename__ = "room_chat_presence"
    __table_args__ = (UniqueConstraint("sid", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: the process holding the connection
    process_id: Mapped[str] = mapped_column(
        ForeignKey("chat_processes.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    #: the process holding the connection
    process_id: Mapped[str] = mapped_column(
        ForeignKey("chat_processes.id", ondelete="CASCADE"), index=True
    )
    #: UTC time of connection
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
