"""Open Badges 3.0 credentials: the learner's download, and what anyone verifying one needs (the
issuer's profile and public key, the status list), public and at stable addresses."""

import json

from flask import Response, abort
from flask_login import current_user, login_required

from courses import bp, credentials, verify_bp
from courses.models import Certificate
from learnplatform.extensions import db

#: verifiers may keep the public documents this long; the status list for less
PUBLIC_MAX_AGE = 3600


def _json(document: dict, media_type: str = "application/json", max_age: int = PUBLIC_MAX_AGE):
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype=media_type)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers' pages fetch it too
    return response


def _published_or_abort(number: int) -> None:
    """404 unless key ``number`` is published; 410 when it was withdrawn, saying so in JSON, as
    a verifier reads it."""
    if number in credentials.key_numbers():
        return
    if number not in credentials.key_numbers(withdrawn=True):
        abort(404)
    gone = _json(
        {
            "error": "withdrawn",
            "detail": f"Key {number} of this issuer was withdrawn: what it signed does not verify.",
        }
    )
    gone.status_code = 410
    abort(gone)


# Registered in this order (decorators apply from the bottom) so that url_for gives the JSON
# one unless asked for ``as_jwt=True``.
@bp.get("/certificates/<int:certificate_id>/credential.jwt", defaults={"as_jwt": True})
@bp.get("/certificates/<int:certificate_id>/credential", defaults={"as_jwt": False})
@login_required
def certificate_credential(certificate_id, as_jwt):
    """The learner's own certificate as a signed Open Badges 3.0 credential, to keep: JSON (a VC
    2.0 envelope around the VC-JWT), or the VC-JWT alone."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.user_id != current_user.id:
        abort(404)
    token = credentials.signed_credential(certificate)
    name = f"certificate-{certificate.code}"
    if as_jwt:
        response = Response(token, mimetype=credentials.MEDIA_TYPE)
        name += ".jwt"
    else:
        body = json.dumps(credentials.enveloped(token), indent=2)
        response = Response(body, mimetype="application/json")
        name += ".json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@verify_bp.get("/credentials/issuer")
def credential_issuer():
    """Anyone: the profile of the issuer named in every credential, with its public key."""
    return _json(credentials.issuer_document(), "application/ld+json")


@verify_bp.get("/credentials/issuer/keys/<int:key_id>")
def credential_issuer_key(key_id):
    """Anyone: the public key that signatures with this ``kid`` verify against, as a JWK; 410
    for a key withdrawn (``flask credentials-key --withdraw``)."""
    _published_or_abort(key_id)
    return _json(credentials.public_key(key_id), "application/jwk+json")


@verify_bp.get("/credentials/status/<int:list_id>")
def credential_status_list(list_id):
    """Anyone: the list of revoked credentials (a Bitstring Status List) signed with the key of
    the same number, which the credentials that key signs name; 410 once it is withdrawn."""
    _published_or_abort(list_id)
    response = Response(credentials.signed_status_list(list_id), mimetype=credentials.MEDIA_TYPE)
    response.headers["Cache-Control"] = f"public, max-age={credentials.STATUS_LIST_CACHE_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
