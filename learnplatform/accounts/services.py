"""Account operations. They flush; the view that calls them commits."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from blinker import Namespace
from flask import current_app, g, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager

from learnplatform import audit
from learnplatform.accounts.models import AccountToken, LoginSession, User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.mail import send_mail
from learnplatform.network import client_address
from learnplatform.passwords import hash_password, needs_rehash, verify_password

SESSION_KEY = "login_key"

#: Sent when login sessions end on the server, with ``user_id`` and, when only one browser
#: session ended, ``login_session_id``; live connections (chat) listen to close themselves.
sessions_ended = Namespace().signal("sessions-ended")
#: Sent when an account is created, with ``user`` and ``next_url``, the page the person was on
#: the way to when they registered (an iRoom invitation link), if any: the rooms keep the
#: invitation with the account until its address is confirmed.
registered = Namespace().signal("registered")
#: Sent when the owner of an account proves the address is theirs (the confirmation link, or a
#: password reset), with ``user``: what waited for the address (iRoom invitations) is handed
#: over; each receiver returns the ``Welcome`` lines to show the person.
address_proven = Namespace().signal("address-proven")


@dataclass(frozen=True)
class Welcome:
    """What to tell a person whose address was just proven, and a page to go to next."""

    message: str
    category: str = "success"
    url: str | None = None


def normalise_email(email: str) -> str:
    """One form of an address, so that ``A@X.org`` and ``a@x.org`` are one account."""
    return email.strip().lower()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_user_by_email(email: str) -> User | None:
    """The account registered with ``email``, if any."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


@dataclass
class Registration:
    """What a person typed into the registration form."""

    name: str
    email: str
    password: str
    country: str
    organisation: str
    agency_type: str
    gender: str
    language: str
    time_zone: str = "UTC"
    #: the page on the platform the person was on the way to (an iRoom invitation link)
    next_url: str | None = None


def register(form: Registration) -> None:
    """Create an unconfirmed account and e-mail a confirmation link.

    When the address already has an account, its owner gets an e-mail saying so instead; the
    person registering sees the same page either way, so registration tells nobody which
    addresses have accounts.
    """
    email = normalise_email(form.email)
    password_hash = hash_password(form.password)  # hashed either way: the same time either way
    existing = find_user_by_email(email)
    if existing is not None:
        send_mail(
            existing,
            _l("Someone tried to register with your address"),
            "already_registered",
            login_url=url_for("accounts.login", _external=True),
            reset_url=url_for("accounts.request_reset", _external=True),
        )
        return
    user = User(
        email=email,
        name=form.name.strip(),
        password_hash=password_hash,
        country=form.country,
        organisation=form.organisation.strip(),
        agency_type=form.agency_type,
        gender=form.gender,
        language=form.language,
        time_zone=form.time_zone,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", user=user)
    registered.send(current_app._get_current_object(), user=user, next_url=form.next_url)
    send_confirmation(user, form.next_url)


def send_confirmation(user: User, next_url: str | None = None) -> None:
    """E-mail a link that confirms the address is the owner's; with ``next_url`` (a page of the
    platform the person was on the way to), the link leads there after the login, whichever
    browser opens it."""
    token = issue_token(user, "confirm_email")
    send_mail(
        user,
        _l("Confirm your e-mail address"),
        "confirm_email",
        confirm_url=url_for(
            "accounts.confirm_email", token=token, next=next_url or None, _external=True
        ),
        hours=current_app.config["TOKEN_HOURS"]["confirm_email"],
    )


def issue_token(user: User, purpose: str) -> str:
    """Create a one-time token for ``purpose``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    hours = current_app.config["TOKEN_HOURS"][purpose]
    db.session.add(
        AccountToken(
            user=user,
            purpose=purpose,
            token_hash=_digest(token),
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    db.session.flush()
    return token


def usable_token(token: str, purpose: str) -> AccountToken | None:
    """The unused, unexpired token for ``purpose``; ``None`` for anything else."""
    row = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _digest(token), AccountToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    if not row.user.active:
        return None
    return row


def consume_token(token: str, purpose: str) -> User | None:
    """Mark the token used and return its account, or ``None`` if it may not be used.

    The update is conditional on the token still being unused, so two requests racing with one
    token cannot both succeed.
    """
    row = usable_token(token, purpose)
    if row is None:
        return None
    claimed = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    return row.user


def confirm_email(token: str) -> User | None:
    """Confirm the address the token was sent to."""
    user = consume_token(token, "confirm_email")
    if user is not None and user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record("account.confirm_email", user=user)
    return user


def hand_over(user: User) -> list[Welcome]:
    """Give ``user``, whose address was just proven, what waited for it (iRoom invitations);
    what to tell them."""
    answers = address_proven.send(current_app._get_current_object(), user=user)
    return [welcome for _receiver, welcomes in answers for welcome in welcomes or ()]


class LoginRefused(Exception):
    """The credentials do not open an account; ``reason`` is for the log, not the person."""

    def __init__(self, reason: str, user: User | None = None):
        super().__init__(reason)
        self.reason = reason
        self.user = user


def authenticate(email: str, password: str) -> User:
    """The account these credentials open, or ``LoginRefused``.

    An unknown address costs the same password verification as a known one.
    """
    user = find_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        raise LoginRefused("bad credentials" if user else "unknown email", user)
    if not user.active:
        raise LoginRefused("account deactivated", user)
    if user.email_confirmed_at is None:
        raise LoginRefused("email not confirmed", user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User) -> None:
    """Log ``user`` in on this browser with a new session: whatever the session held before is
    dropped, so nothing planted before login survives it."""
    session.clear()
    key = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user=user,
            key_hash=_digest(key),
            address=client_address(),
            user_agent=(request.user_agent.string or "")[:200],
        )
    )
    session[SESSION_KEY] = key
    session.permanent = True
    login_user(user)
    user.last_login_at = utcnow()


def load_session_user(user_id: str) -> User | None:
    """The user of the current browser session if the server still holds it valid."""
    key = session.get(SESSION_KEY)
    if not key or not user_id.isdigit():
        return None
    # The person comes with their session in the same query: every page asks for both.
    login = db.session.scalar(
        select(LoginSession)
        .join(LoginSession.user)
        .options(contains_eager(LoginSession.user))
        .where(LoginSession.key_hash == _digest(key), LoginSession.ended_at.is_(None))
    )
    if login is None or login.user_id != int(user_id) or not login.user.active:
        return None
    now = utcnow()
    config = current_app.config
    idle_limit = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute_limit = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    if now - login.last_seen_at > idle_limit or now - login.created_at > absolute_limit:
        login.ended_at = now
        db.session.commit()
        return None
    if now - login.last_seen_at > timedelta(minutes=1):
        login.last_seen_at = now
        db.session.commit()
    g.login_session_id = login.id
    return login.user


def end_current_session() -> None:
    """Log out this browser and end its session on the server."""
    key = session.get(SESSION_KEY)
    if key:
        login = db.session.scalar(
            select(LoginSession).where(
                LoginSession.key_hash == _digest(key), LoginSession.ended_at.is_(None)
            )
        )
        if login is not None:
            login.ended_at = utcnow()
            sessions_ended.send(
                current_app._get_current_object(), user_id=login.user_id, login_session_id=login.id
            )
    logout_user()
    session.clear()


def end_all_sessions(user: User) -> int:
    """End every session of ``user`` on every browser, live connections included; returns how
    many were open."""
    ended = db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
    sessions_ended.send(current_app._get_current_object(), user_id=user.id, login_session_id=None)
    return ended


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every session, this one included; the view starts a new one."""
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)
    audit.record("password.change", user=user)


def request_password_reset(email: str) -> None:
    """E-mail a reset link if the address has an active account; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = issue_token(user, "reset_password")
    send_mail(
        user,
        _l("Reset your password"),
        "reset_password",
        reset_url=url_for("accounts.reset_password", token=token, _external=True),
        hours=current_app.config["TOKEN_HOURS"]["reset_password"],
    )


def reset_password(token: str, new_password: str) -> User | None:
    """Use a reset token: set the password, end every session, confirm the address."""
    user = consume_token(token, "reset_password")
    if user is None:
        return None
    user.password_hash = hash_password(new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link proved the address, as a confirmation does
    end_all_sessions(user)
    audit.record("password.reset", user=user)
    return user


def set_role(user: User, role: str, *, actor: User) -> None:
    """Give ``user`` another platform role."""
    if user.role == role:
        return
    previous, user.role = user.role, role
    audit.record("role.change", user=user, actor=actor, previous=previous, role=role)


def set_active(user: User, active: bool, *, actor: User) -> None:
    """Deactivate (ending every session at once) or reactivate an account."""
    if user.active == active:
        return
    user.active = active
    if not active:
        end_all_sessions(user)
    audit.record("account.reactivate" if active else "account.deactivate", user=user, actor=actor)


def create_administrator(*, email: str, name: str, password: str, country: str) -> User:
    """Create a confirmed administrator account, or promote the existing one (CLI)."""
    user = find_user_by_email(email)
    if user is None:
        user = User(
            email=normalise_email(email),
            name=name,
            country=country,
            agency_type="international_organisation",
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.role = "administrator"
    user.active = True
    db.session.flush()
    audit.record("role.change", user=user, role="administrator", via="cli")
    return user
