"""Certificates as PDF documents: one per certificate and language, rendered by WeasyPrint from
``templates/courses/certificate_pdf.html`` and its stylesheet, kept by ``learnplatform.storage``.

A document is made once (in the background when the certificate is issued, else when it is first
downloaded) and made again only when what it is made from changes: its ``template_version`` is a
digest of the page given to WeasyPrint (template, wording in its language, verification address),
the signed credential attached to it (``courses.credentials``, as the holder downloads it), the
stylesheet and WeasyPrint's version. WeasyPrint is CPU work of a second or so: it runs off
gevent's loop, and it fetches nothing (the QR code and the emblem are ``data:`` addresses).
"""

import base64
import hashlib
import json
import unicodedata
from datetime import UTC
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import segno
from flask import current_app
from flask_babel import force_locale, format_date
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from courses import certificates, credentials
from courses.models import Certificate, CertificateDocument
from learnplatform import jobs
from learnplatform.audit import utcnow
from learnplatform.choices import LANGUAGES
from learnplatform.extensions import db
from learnplatform.serving import off_loop
from learnplatform.storage import PDF, delete_stored, path_of, save_generated
from learnplatform.xapi.activities import public_url

TEMPLATE = "courses/certificate_pdf.html"
#: beside the template, so that the two are read and changed together
STYLESHEET = Path(__file__).resolve().parent.parent / "templates/courses/certificate_pdf.css"
EMBLEM = Path(__file__).resolve().parent.parent / "static/img/favicon.svg"
#: the name of the signed credential embedded in every PDF
CREDENTIAL_NAME = "credential.json"
#: languages written right to left
RIGHT_TO_LEFT = frozenset({"ar"})


def page_of(certificate: Certificate, language: str) -> str:
    """The certificate's page in ``language``: the HTML that WeasyPrint lays out."""
    verify_url = public_url("certificates.verify", code=certificate.code)
    qr_code = segno.make(verify_url, error="m").svg_data_uri(dark="#0b2545", border=0)
    emblem = "data:image/svg+xml;base64," + base64.b64encode(EMBLEM.read_bytes()).decode()
    with force_locale(language):
        return current_app.jinja_env.get_template(TEMPLATE).render(
            certificate=certificate,
            language=language,
            direction="rtl" if language in RIGHT_TO_LEFT else "ltr",
            name_direction=direction_of(certificate.learner_name),
            title_direction=direction_of(certificate.module_title),
            issued_on=format_date(issued_day(certificate), "long"),
            issuing_office=certificates.issuing_office(),  # in the document's language
            verify_url=verify_url,
            qr_code=qr_code,
            emblem=emblem,
        )


def issued_day(certificate: Certificate):
    """The day of issue in the holder's time zone (the day they saw their module complete)."""
    try:
        zone = ZoneInfo(certificate.enrolment.user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return certificate.issued_at.replace(tzinfo=UTC).astimezone(zone).date()


def direction_of(text: str) -> str:
    """``rtl`` or ``ltr`` from the first letter with a strong direction (Unicode's rule for a
    paragraph), so that a name keeps its own direction inside a page written the other way."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in {"R", "AL"}:
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def credential_json(certificate: Certificate) -> str | None:
    """The certificate's signed Open Badges credential (``courses.credentials``), as its holder
    downloads it, to embed in the PDF; ``None`` while the platform has no signing key."""
    try:
        token = credentials.signed_credential(certificate)
    except credentials.SigningKeyMissing:
        return None
    return json.dumps(credentials.enveloped(token), indent=2)


def template_version(page: str, credential: str | None = None) -> str:
    """A digest of what makes the document: its page, the credential embedded in it, the
    stylesheet and WeasyPrint's version."""
    digest = hashlib.sha256()
    parts = (page, credential or "", STYLESHEET.read_text(encoding="utf-8"), version("weasyprint"))
    for part in parts:
        digest.update(hashlib.sha256(part.encode()).digest())
    return digest.hexdigest()


def render_pdf(page: str, credential: str | None = None) -> bytes:
    """The PDF of a certificate's page, with its credential attached when there is one,
    rendered in a native thread when serving on the loop."""
    # Imported here first, in the caller's thread: loading Pango runs ldconfig in a subprocess,
    # which gevent starts only from the loop's own thread.
    import weasyprint  # noqa: F401

    return off_loop(_write_pdf, page, STYLESHEET.read_text(encoding="utf-8"), credential)


def _write_pdf(page: str, stylesheet: str, credential: str | None = None) -> bytes:
    # Imported here, not with this module: WeasyPrint loads Pango, and the rest of the platform
    # runs on a machine without it.
    import weasyprint

    # data: addresses only: a certificate never reaches the network or the disk, whatever ends
    # up in its page; any other address stops the rendering.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    attachments = []
    if credential is not None:
        attachments.append(
            weasyprint.Attachment(
                string=credential,
                url_fetcher=fetcher,
                name=CREDENTIAL_NAME,
                description="Open Badges 3.0 credential (VC-JWT in a VC 2.0 envelope)",
                relationship="Source",  # the signed data this document shows (PDF 2.0's term)
            )
        )
    return weasyprint.HTML(string=page, url_fetcher=fetcher).write_pdf(
        stylesheets=[weasyprint.CSS(string=stylesheet, url_fetcher=fetcher)],
        attachments=attachments,
        pdf_tags=True,  # a tagged PDF: screen readers and text extraction follow its structure
    )


def document_for(certificate: Certificate, language: str) -> CertificateDocument:
    """The stored PDF of ``certificate`` in ``language`` (a key of ``choices.LANGUAGES``), made
    now if there is none or if what it was made from has changed (its old file then goes).
    Flushed, not committed: the new file and the old one's deletion stand or fall with the
    transaction. Two requests making the same document at once keep one of them."""
    if language not in LANGUAGES:
        raise ValueError(f"no such language: {language!r}")
    page = page_of(certificate, language)
    credential = credential_json(certificate)
    version = template_version(page, credential)
    document = db.session.scalar(
        select(CertificateDocument).where(
            CertificateDocument.certificate_id == certificate.id,
            CertificateDocument.language == language,
        )
    )
    if (
        document is not None
        and document.template_version == version
        and path_of(document.stored_file).is_file()
    ):
        return document
    stored = save_generated([render_pdf(page, credential)], file_name(certificate, language), PDF)
    if document is None:
        try:
            with db.session.begin_nested():
                document = CertificateDocument(
                    certificate_id=certificate.id,
                    language=language,
                    stored_file_id=stored.id,
                    template_version=version,
                )
                db.session.add(document)
        except IntegrityError:  # made meanwhile by another request: theirs is kept
            delete_stored(stored)
            return _stored_document(certificate.id, language)
        return document
    previous = document.stored_file
    replaced = db.session.execute(
        update(CertificateDocument)
        .where(
            CertificateDocument.id == document.id,
            CertificateDocument.stored_file_id == previous.id,
        )
        .values(stored_file_id=stored.id, template_version=version, created_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(document)
    # The file that is no longer anyone's goes: the old one, or ours when another request made
    # the document again meanwhile.
    delete_stored(previous if replaced == 1 else stored)
    return _stored_document(certificate.id, language)


def _stored_document(certificate_id: int, language: str) -> CertificateDocument:
    return db.session.scalars(
        select(CertificateDocument)
        .where(
            CertificateDocument.certificate_id == certificate_id,
            CertificateDocument.language == language,
        )
        .execution_options(populate_existing=True)
    ).one()


def file_name(certificate: Certificate, language: str) -> str:
    """The name a document is downloaded as: the code says which certificate it is."""
    return f"certificate-{certificate.code}-{language}.pdf"


@jobs.job()
def prepare_document(certificate_id: int, language: str) -> None:
    """Make a certificate's PDF in ``language`` soon after issue, so that its first download
    does not wait for it; nothing for a certificate that is gone or revoked."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.revoked_at is not None:
        return
    document_for(certificate, language if language in LANGUAGES else "en")
    db.session.commit()
