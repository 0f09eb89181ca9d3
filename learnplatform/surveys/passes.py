"""The link a follow-up e-mail carries: it opens one survey for one person without their password,
once, until it expires (a practitioner whose password is long forgotten can still answer).

The token exists only in the e-mail; the invitation keeps its SHA-256. Opening the link uses it
(a conditional UPDATE: two clicks at once, one use) and gives the browser a pass for that survey
alone, kept in its session for ``PASS_LIFETIME``: the pass lets it answer that survey and opens
nothing else, so the person is not logged in.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import session
from flask_login import current_user
from sqlalchemy import select, update

from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.surveys.models import Survey, SurveyInvitation

#: how long a follow-up's link may be opened after it is sent
LINK_LIFETIME = timedelta(days=30)
#: how long the browser that opened a link may answer that survey
PASS_LIFETIME = timedelta(hours=2)
_SESSION_KEY = "survey_pass"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_link_token(invitation: SurveyInvitation, now: datetime | None = None) -> str:
    """A fresh token for ``invitation`` (one sent before stops working); flushes."""
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    invitation.token_hash = _digest(raw)
    invitation.token_expires_at = max(now, utcnow()) + LINK_LIFETIME
    invitation.token_used_at = None
    db.session.flush()
    return raw


def open_link(raw: str) -> SurveyInvitation | None:
    """Use the token of a link: its invitation, with a pass given to this browser, or ``None``
    for an unknown, used or expired token (then nothing changes). The caller commits."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return None
    now = utcnow()
    invitation_id = db.session.scalar(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.token_hash == _digest(raw),
            SurveyInvitation.token_used_at.is_(None),
            SurveyInvitation.token_expires_at > now,
        )
        .values(token_used_at=now)
        .returning(SurveyInvitation.id)
        .execution_options(synchronize_session=False)
    )
    if invitation_id is None:
        return None
    invitation = db.session.get(SurveyInvitation, invitation_id)
    session[_SESSION_KEY] = {
        "invitation": invitation.id,
        "until": (now + PASS_LIFETIME).isoformat(),
    }
    return invitation


def pass_invitation(survey: Survey) -> SurveyInvitation | None:
    """The invitation to ``survey`` whose pass this browser holds, while the pass lasts and its
    person's account is active."""
    held = session.get(_SESSION_KEY)
    if not isinstance(held, dict):
        return None
    try:
        until = datetime.fromisoformat(held["until"])
        invitation_id = int(held["invitation"])
    except (KeyError, TypeError, ValueError):
        return None
    if until < utcnow():
        return None
    invitation = db.session.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.id == invitation_id, SurveyInvitation.survey_id == survey.id
        )
    )
    if invitation is None or not invitation.user.active:
        return None
    return invitation


def respondent(survey: Survey) -> tuple[User | None, int | None]:
    """Who answers ``survey`` from this browser, and on which occasion when a pass says so: the
    person of a pass for it, else the logged-in person (occasion ``None``: the page decides)."""
    invitation = pass_invitation(survey)
    if invitation is not None:
        return invitation.user, invitation.occasion
    if current_user.is_authenticated:
        return current_user._get_current_object(), None
    return None, None


def end_pass() -> None:
    """Forget this browser's pass (once its survey is answered)."""
    session.pop(_SESSION_KEY, None)
