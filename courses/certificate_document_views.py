"""The learner's certificate as a PDF document, in any of the platform's languages."""

from flask import abort, request
from flask_login import current_user, login_required

from courses import bp, certificate_documents
from courses.models import Certificate
from learnplatform.choices import LANGUAGES
from learnplatform.extensions import db
from learnplatform.storage import send_stored


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def certificate_pdf(certificate_id):
    """The holder's certificate as a PDF in ``?lang=`` (else the language it was issued in),
    made now when it has not been yet; 404 for anyone else and for a revoked certificate."""
    found = db.session.get(Certificate, certificate_id)
    if found is None or found.user_id != current_user.id or found.revoked_at is not None:
        abort(404)
    language = request.args.get("lang") or (found.language if found.language in LANGUAGES else "en")
    if language not in LANGUAGES:
        abort(404)
    document = certificate_documents.document_for(found, language)
    db.session.commit()
    return send_stored(
        document.stored_file,
        download_name=certificate_documents.file_name(found, language),
    )
