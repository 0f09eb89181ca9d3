"""Private feed addresses: made and revoked from the profile, read by calendar programs.

An address ends with a random token of 43 URL-safe characters. Only its SHA-256 is stored, so a
copy of the database opens no feed, and the token is looked up by that hash. A person has at most
one working address: making a new one revokes the one before. These functions flush; the views
commit.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import after_this_request, request, session
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from learnplatform.accounts.models import User
from learnplatform.accounts.tokens import note_use
from learnplatform.audit import utcnow
from learnplatform.calendars.models import CalendarFeed
from learnplatform.extensions import db

#: the time a calendar program last read the feed is written at most this often
LAST_USED_PRECISION = timedelta(hours=1)
#: the session key holding a new address until the profile page that follows shows it, once
NEW_ADDRESS_KEY = "new_calendar_feed"
# No real token is longer; anything longer is refused before it is hashed.
_LONGEST_TOKEN = 100


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def working_feed(user) -> CalendarFeed | None:
    """The person's feed address that still works, if they have one."""
    return db.session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
        )
    )


def create_feed(user) -> tuple[str, bool]:
    """Make a feed address for ``user``, revoking the one before; returns its token, which
    exists nowhere else, and whether an address was revoked."""
    # One at a time per person (PostgreSQL), so that two clicks leave one working address.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    replaced = revoke_feed(user)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_digest(token)))
    db.session.flush()
    return token, replaced


def revoke_feed(user) -> bool:
    """Stop ``user``'s working feed address at once; ``False`` when they had none."""
    revoked = db.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return revoked > 0


def feed_owner(token: str) -> User | None:
    """Whose feed ``token`` opens: ``None`` for an unknown or revoked token and for a
    deactivated account. Notes the time of use when the last one is an hour old or more."""
    if len(token) > _LONGEST_TOKEN:
        return None
    feed = db.session.scalar(
        select(CalendarFeed)
        .options(joinedload(CalendarFeed.user))
        .where(CalendarFeed.token_hash == _digest(token))
    )
    if feed is None or feed.revoked_at is not None or not feed.user.active:
        return None
    note_use(feed, LAST_USED_PRECISION)
    return feed.user


def on_profile(user) -> dict:
    """What the profile's "Calendar feed" section needs: ``calendar_feed``, the working address
    if any, and ``new_feed_url``, the address itself on the page that follows its creation only
    (that page is then kept by no cache)."""
    new_url = session.pop(NEW_ADDRESS_KEY, None) if request.method == "GET" else None
    if new_url:

        @after_this_request
        def not_kept(response):
            response.headers["Cache-Control"] = "private, no-store"
            return response

    return {"calendar_feed": working_feed(user), "new_feed_url": new_url}
