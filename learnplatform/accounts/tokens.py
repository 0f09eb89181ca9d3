"""Personal API tokens of administrators: made, revoked, and looked up by the JSON API.

A token is ``lp_`` followed by 43 random URL-safe characters. Only its SHA-256 is stored, so a
copy of the database opens nothing; it is looked up by that hash, so checking one takes the
same time whichever characters it shares with a real one. These functions flush; the view that
calls them commits, except ``user_for_token``, which commits the time of use itself.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from learnplatform import audit
from learnplatform.accounts.models import ApiToken, User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.text import without_hidden

TOKEN_PREFIX = "lp_"  # noqa: S105  (the mark every token starts with, not a secret)
#: the longest name a token may have
NAME_LENGTH = 100
#: how many leading characters of a token are kept to tell tokens apart
SHOWN_CHARACTERS = 8
#: the time of last use is written at most this often, so that API calls do not all write
LAST_USED_PRECISION = timedelta(minutes=1)
# No real token is longer; anything longer is refused before it is hashed.
_LONGEST_TOKEN = 100


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def clean_name(name: str | None) -> str:
    """A token name as it is kept: bidi and control characters removed, spaces collapsed."""
    return " ".join(without_hidden(name).split())


def create_token(
    user: User, name: str, actor: User, *, form_key: str | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns it with the raw token, which exists nowhere else.

    ``form_key`` is the random key of the form that asked for it: a second token with the same
    key fails on flush with ``IntegrityError``, so a form sent twice makes one token.
    """
    name = clean_name(name)
    if not name or len(name) > NAME_LENGTH:
        raise ValueError(f"a token name has 1 to {NAME_LENGTH} characters")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=_digest(raw),
        prefix=raw[:SHOWN_CHARACTERS],
        form_key=form_key,
    )
    db.session.add(token)
    db.session.flush()
    audit.record("api_token_created", user=user, actor=actor, name=name, prefix=token.prefix)
    return token, raw


def revoke_token(token: ApiToken, actor: User) -> bool:
    """Revoke ``token`` at once; ``False`` when it was already revoked (then nothing changes).

    The update is conditional, so two revocations at the same moment record one event.
    """
    now = utcnow()
    revoked = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if revoked != 1:
        return False
    token.revoked_at = now
    audit.record(
        "api_token_revoked",
        user=token.user,
        actor=actor,
        name=token.name,
        prefix=token.prefix,
    )
    return True


def user_for_token(raw: str) -> User | None:
    """The administrator a raw token belongs to, or ``None``: for an unknown or revoked token,
    and when its owner is deactivated or no longer an administrator.

    Writes and commits the time of use when the last one is older than a minute, as the session
    loader does, so that read-only API requests keep it too.
    """
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or len(raw) > _LONGEST_TOKEN:
        return None
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == _digest(raw))
    )
    if token is None or token.is_revoked:
        return None
    owner = token.user
    if not owner.active or not owner.is_administrator:
        return None
    if note_use(token, LAST_USED_PRECISION):
        db.session.commit()
    return owner


def note_use(row, precision: timedelta) -> bool:
    """Write the time of use of ``row`` (an API token, a calendar feed: any model with an ``id``
    and a ``last_used_at``) when the last one is older than ``precision``; conditional, so that
    uses at the same moment write once between them. Whether it wrote."""
    model, now = type(row), utcnow()
    if row.last_used_at is not None and now - row.last_used_at < precision:
        return False
    written = db.session.execute(
        update(model)
        .where(
            model.id == row.id,
            or_(model.last_used_at.is_(None), model.last_used_at <= now - precision),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(written)
