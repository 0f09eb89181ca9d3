"""Certificates after issue: their codes, finding one by its code (public verification), and
revoking one.

A code is twelve characters from ``CODE_ALPHABET``, which leaves out I, O, 0 and 1 so that a
printed code cannot be misread. Looking one up forgives what people do when they copy it: small
letters, spaces, dashes, full-width characters typed with a CJK input method. The look-alikes
are not guessed at: a code holding I, O, 0 or 1 is no code.
"""

import re
import secrets
import unicodedata

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from courses import notices
from courses.models import Certificate
from learnplatform.audit import record, utcnow
from learnplatform.extensions import db

#: the characters of a verification code: no I, O, 0 or 1
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
_WELL_FORMED = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
#: the longest reason a revocation may give (``Certificate.revoked_reason``)
REASON_MAX_LENGTH = 500


def new_certificate_code() -> str:
    """Twelve characters from an alphabet without look-alikes: about 60 bits of chance."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalised_code(typed: str) -> str:
    """``typed`` as a code is stored: full-width forms folded, capital letters, and nothing but
    letters and digits (spaces, dashes and dots dropped)."""
    folded = unicodedata.normalize("NFKC", typed[:200]).upper()
    return "".join(character for character in folded if character.isalnum())


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate a verification code belongs to, whether revoked or not; ``None`` for an
    unknown or malformed code alike."""
    cleaned = normalised_code(code)
    if not _WELL_FORMED.fullmatch(cleaned):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == cleaned))


def issuing_office() -> str:
    """Who issues the certificates, as they and their verification name it: the setting
    ``CERTIFICATE_ISSUER``, or else the platform's name in the current language."""
    return current_app.config.get("CERTIFICATE_ISSUER") or _("Counter-Terrorism Learning Platform")


def revoke(certificate: Certificate, *, reason: str, actor) -> bool:
    """Revoke ``certificate`` for ``reason`` (``actor`` is a trainer of its module or an
    administrator; the caller checks), audit it and tell the holder. Once: False, and nothing
    done, when it was already revoked (two clicks, two tabs)."""
    reason = reason.strip()[:REASON_MAX_LENGTH]
    if not reason:
        raise ValueError("a revocation needs a reason")
    now = utcnow()
    # Conditional, so that two requests at once revoke once.
    claimed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason, revoked_by_id=actor.id)
    ).rowcount
    db.session.refresh(certificate)
    if not claimed:
        return False
    holder = certificate.enrolment.user
    record(
        "certificate.revoke",
        user=holder,
        actor=actor,
        certificate_id=certificate.id,
        code=certificate.code,
        module=certificate.module_title,
        reason=reason,
    )
    notices.certificate_revoked(certificate, holder)
    return True
