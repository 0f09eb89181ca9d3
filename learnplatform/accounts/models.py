"""Accounts, their login sessions and their one-time tokens."""

from datetime import datetime
from uuid import uuid4

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db

#: what a person may choose to show in the member directories of their rooms
DIRECTORY_FIELDS = ("country", "agency_type", "organisation", "expertise", "languages")


def listed(text: str | None) -> list[str]:
    """The items of a comma-separated column such as ``User.expertise``."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


class User(UserMixin, db.Model):
    """A person with an account: a practitioner, a trainer or an administrator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e-mail address, lower-cased so that one address is one account
    email: Mapped[str] = mapped_column(String(320), unique=True)
    #: name shown to others, plain text
    name: Mapped[str] = mapped_column(String(120))
    #: Argon2id hash of the password
    password_hash: Mapped[str] = mapped_column(String(255))
    #: ISO 3166 alpha-2 code of the country the person works in
    country: Mapped[str] = mapped_column(String(2), index=True)
    #: ministry, agency, court or organisation the person works for
    organisation: Mapped[str] = mapped_column(String(200), default="")
    #: a key of ``choices.AGENCY_TYPES``
    agency_type: Mapped[str] = mapped_column(String(40), index=True)
    #: a key of ``choices.GENDERS``
    gender: Mapped[str] = mapped_column(String(20), default="undisclosed")
    #: preferred interface language, a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8), default="en")
    #: IANA time zone the person reads dates and times in, such as ``Africa/Nairobi``
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    #: practitioner, trainer or administrator
    role: Mapped[str] = mapped_column(String(20), default="practitioner", index=True)
    #: whether the account may log in; administrators deactivate and reactivate it
    active: Mapped[bool] = mapped_column(default=True)
    #: UTC time the owner proved the address is theirs; ``None`` until then
    email_confirmed_at: Mapped[datetime | None]
    #: UTC time of registration
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of the last successful login
    last_login_at: Mapped[datetime | None]
    #: fields of expertise the person names, plain text, comma-separated ("financial
    #: investigations, mutual legal assistance")
    expertise: Mapped[str] = mapped_column(String(300), default="", server_default="")
    #: languages the person works in, plain text, comma-separated ("English, Hausa")
    languages_spoken: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: what the rooms' member directories show of the person besides name and room role:
    #: names from ``DIRECTORY_FIELDS``, comma-separated; nothing unless they choose
    directory_shows: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: the opaque name that xAPI statements give the person (``learnplatform.xapi``): random,
    #: so that a Learning Record Store learns nothing from it, and kept, so that one person's
    #: statements stay together
    xapi_id: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: uuid4().hex)

    sessions: Mapped[list["LoginSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts."""
        return self.active

    @property
    def shown_in_directory(self) -> list[str]:
        """What the person chose to show in their rooms' member directories, in the order of
        ``DIRECTORY_FIELDS``."""
        chosen = set(listed(self.directory_shows))
        return [name for name in DIRECTORY_FIELDS if name in chosen]

    @property
    def is_administrator(self) -> bool:
        """Whether the person administers the whole platform."""
        return self.role == "administrator"

    @property
    def is_trainer(self) -> bool:
        """Whether the person may author modules, series and iRooms (administrators may too)."""
        return self.role in {"trainer", "administrator"}


class LoginSession(db.Model):
    """One logged-in browser. The cookie holds a random key; this row decides whether it is valid,
    so that logout, deactivation and password changes end sessions on the server."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the random key held in the session cookie
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: UTC time of the login; the absolute expiry counts from here
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of the last request, updated at most once a minute; the idle expiry counts from here
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time the session was ended by logout, deactivation or a password change
    ended_at: Mapped[datetime | None]
    #: address the login came from
    address: Mapped[str | None] = mapped_column(String(64))
    #: browser the login came from, shortened
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship(back_populates="sessions")


class AccountToken(db.Model):
    """A one-time, expiring token e-mailed to the owner of an account (reset, confirmation)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: what the token may be used for: ``reset_password`` or ``confirm_email``
    purpose: Mapped[str] = mapped_column(String(32))
    #: SHA-256 of the token; the token itself exists only in the e-mail
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: UTC time of issue
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time after which the token is refused
    expires_at: Mapped[datetime]
    #: UTC time of use; a used token is refused
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A personal token with which an administrator's own scripts call the JSON API.

    Only the SHA-256 of the token is kept: the token itself is shown once, when it is made.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: what the owner calls it ("Monthly report script"), plain text, at most 100 characters
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the token, hex; the token is looked up by it
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first 8 characters of the token, shown in lists so that people can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(8))
    #: the random key of the page form that made the token, so that the form sent twice (a double
    #: click) makes one token; ``None`` for tokens made otherwise
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of the last API call made with it, updated at most once a minute
    last_used_at: Mapped[datetime | None]
    #: UTC time it was revoked; a revoked token opens nothing
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def is_revoked(self) -> bool:
        """Whether the token has been revoked."""
        return self.revoked_at is not None
