"""Certificates seen from outside and by those who issue them: the public verification of a code
(no login), and a module's certificates with their revocation (its trainers, administrators)."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from courses import access, bp, certificates, verify_bp
from courses.forms import RevokeCertificateForm
from courses.models import Certificate, Enrolment, Module
from learnplatform.access import trainer_required
from learnplatform.audit import log_security_event
from learnplatform.errors import render_error
from learnplatform.extensions import db, limiter

PAGE_SIZE = 50
#: what the verification form gives back of what was typed, so that a typo can be mended
TYPED_MAX_LENGTH = 40


def _log_throttled(limit) -> None:
    # Someone past the limit may be trying codes at random: operators should hear of it.
    log_security_event("certificate.verify.throttled", limit=str(limit.limit))


@verify_bp.get("/certificates/verify/", defaults={"code": None})
@verify_bp.get("/certificates/verify/<code>")
@limiter.limit(
    lambda: current_app.config["VERIFY_LIMIT_PER_ADDRESS"],
    scope="certificate-verification",
    on_breach=_log_throttled,
)
def verify(code):
    """Anyone may check a certificate's code, typed in the form or carried by the address (links
    and QR codes): who completed which module and when, or that the code is unknown or that the
    certificate was revoked. An unknown code and a malformed one answer alike."""
    if code is None:
        code = request.args.get("code", "")
    code = code.strip()
    if not code:
        return render_template("courses/verify.html", certificate=None, code="")
    found = certificates.certificate_by_code(code)
    page = render_template(
        "courses/verify.html",
        certificate=found,
        code=code[:TYPED_MAX_LENGTH],
        checked=True,
        issuer=certificates.issuing_office(),
    )
    return page, 200 if found else 404


@verify_bp.errorhandler(429)
def too_many_checks(error):
    """Past the limit of checks per address: say so, and when to try again."""
    return render_error(
        429,
        _("You have checked many codes in a short time. Wait a minute, then try again."),
    )


def _certificate_of(module: Module, certificate_id: int) -> Certificate:
    """A certificate of ``module``; 404 for one of another module, as for one that does not
    exist."""
    found = db.session.scalar(
        select(Certificate)
        .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .options(joinedload(Certificate.enrolment).joinedload(Enrolment.user))
        .where(Certificate.id == certificate_id, Enrolment.module_id == module.id)
    )
    if found is None:
        abort(404)
    return found


@bp.get("/manage/<int:module_id>/certificates")
@trainer_required
def module_certificates(module_id):
    """The certificates issued for a module, newest first, each with its state."""
    module = access.authored_module(module_id)
    query = (
        select(Certificate)
        .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .options(joinedload(Certificate.enrolment).joinedload(Enrolment.user))
        .where(Enrolment.module_id == module.id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    page = db.paginate(query, per_page=PAGE_SIZE, max_per_page=PAGE_SIZE)
    return render_template("courses/manage/certificates.html", module=module, page=page)


@bp.route(
    "/manage/<int:module_id>/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"]
)
@trainer_required
def revoke_certificate(module_id, certificate_id):
    """Revoke a certificate of the module, with a reason: asked on a page of its own, done once."""
    module = access.authored_module(module_id)
    certificate = _certificate_of(module, certificate_id)
    back = url_for("courses.module_certificates", module_id=module.id)
    if certificate.revoked_at is not None:
        flash(_("This certificate was already revoked."), "info")
        return redirect(back)
    form = RevokeCertificateForm()
    if form.validate_on_submit():
        if certificates.revoke(certificate, reason=form.reason.data, actor=current_user):
            flash(
                _(
                    "The certificate of %(name)s is revoked.",
                    name=certificate.learner_name,
                ),
                "success",
            )
        else:
            flash(_("This certificate was already revoked."), "info")
        db.session.commit()
        return redirect(back)
    return render_template(
        "courses/manage/revoke_certificate.html",
        module=module,
        certificate=certificate,
        form=form,
    )
