"""Response headers that every page carries: what the browser may load and how it may cache."""

from collections.abc import Iterable

from flask import Flask, abort, current_app, request
from flask_login import current_user

from learnplatform.extensions import limiter

# Scripts, styles, fonts, images and connections from the platform itself only; no inline script,
# no plugins, no framing, no <base> rewriting.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def frame_policy(origins: Iterable[str]) -> str:
    """The platform's policy for a page that frames ``origins`` (the embeds of a lesson, a SCORM
    package's content): those origins, and only those, in ``frame-src``. Other pages frame
    nothing but the platform itself (``default-src 'self'``)."""
    listed = list(dict.fromkeys(origin.rstrip("/") for origin in origins if origin))
    if not listed:
        return CONTENT_SECURITY_POLICY
    return f"{CONTENT_SECURITY_POLICY}; frame-src {' '.join(listed)}"


def add_security_headers(response):
    """Set the security headers on ``response``."""
    headers = response.headers
    # A file served by learnplatform.storage keeps its own, stricter policy (a sandbox).
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    # Nothing may frame the platform. A response whose policy names who may frame it (SCORM
    # package content, courses.scorm.content) says so there, which browsers follow instead.
    policy = headers["Content-Security-Policy"]
    if "frame-ancestors" not in policy or "frame-ancestors 'none'" in policy:
        headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static" and "Cache-Control" not in headers:
        # Pages carry names, countries and rooms: keep them out of shared and back-button caches.
        headers["Cache-Control"] = "no-store"
    return response


#: Views that take uploads, with the setting that bounds their files; every other request is
#: bounded by ``MAX_CONTENT_LENGTH``.
UPLOAD_LIMITS = {
    "courses.add_attachment": "ATTACHMENT_MAX_BYTES",
    "courses.import_scorm": "SCORM_MAX_BYTES",
    "courses.upload_recording": "RECORDING_MAX_BYTES",
    "courses.upload_slides": "ATTACHMENT_MAX_BYTES",
    "courses.upload_captions": "ATTACHMENT_MAX_BYTES",
    "irooms.new_resource": "ATTACHMENT_MAX_BYTES",
    "irooms.replace_resource": "ATTACHMENT_MAX_BYTES",
    "irooms.check_invitation_list": "INVITATION_LIST_MAX_BYTES",
    "forums.new_topic": "ATTACHMENT_MAX_BYTES",
    "forums.reply": "ATTACHMENT_MAX_BYTES",
}


def _uploader() -> str:
    return f"user-{current_user.get_id()}"


#: Every upload view shares one quota per account (``UPLOAD_LIMIT_PER_ACCOUNT``): a burst of
#: uploads from one account is answered 429 past it, before anything is read or stored.
upload_quota = limiter.shared_limit(
    lambda: current_app.config["UPLOAD_LIMIT_PER_ACCOUNT"],
    scope="uploads",
    key_func=_uploader,
    methods=["POST"],
)


def refuse_oversized_forms() -> None:
    """Refuse a url-encoded form larger than a form can be (413) before anything parses it.

    Werkzeug limits each part of a multipart form itself, but reads a url-encoded body whole.
    Upload views accept a body as large as their files may be, plus room for the other fields.
    """
    limit = UPLOAD_LIMITS.get(request.endpoint or "")
    if limit:
        request.max_content_length = current_app.config[limit] + 64 * 1024
    if (
        request.mimetype == "application/x-www-form-urlencoded"
        and (request.content_length or 0) > current_app.config["MAX_FORM_MEMORY_SIZE"]
    ):
        abort(413)


def init_app(app: Flask) -> None:
    """Check request sizes before every view and set the headers on every response of ``app``."""
    app.before_request(refuse_oversized_forms)
    app.after_request(add_security_headers)
