"""Package content, served from an origin of its own (``SCORM_CONTENT_ORIGIN``).

A SCORM package is someone else's HTML and JavaScript, with inline scripts and styles. On the
platform's origin it could read pages as the learner and post their forms. So it is served
from another origin (another host name: cookies are per host, not per port), where the
platform's cookies never go and none of its pages answer, with a policy of its own; the
platform's pages keep ``script-src 'self'``. The learner's page reaches it through a capability
in the path (a signed, expiring token naming the package and the learner), and the package
reaches the runtime in the learner's page only through ``postMessage`` (scorm-again's
CrossFrameAPI in our frame page, CrossFrameLMS in the lesson page). See docs/standards.md.
"""

import mimetypes
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from courses.scorm.models import ScormFile, ScormPackage
from learnplatform.extensions import db
from learnplatform.storage import send_stored

bp = Blueprint("scorm_content", __name__)

#: what a package may do on its own origin: run its own scripts and styles (inline ones
#: too), load its own files, be framed by our frame page inside the platform's lesson page
#: (frame-ancestors names every window up to the top), post nowhere else
PACKAGE_POLICY = (
    "default-src 'self' data: blob:; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self' {platform}"
)
#: the frame page that hosts the SCO: our scripts only, framed by the platform only
FRAME_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {platform}"
)

_SALT = "scorm-content"


def content_origin() -> str | None:
    """The origin package content is served from, or None when none is set."""
    return current_app.config.get("SCORM_CONTENT_ORIGIN") or None


def _host_of(origin: str) -> str:
    return urlsplit(origin).netloc.lower()


def on_content_host() -> bool:
    """Whether this request came to the content origin."""
    origin = content_origin()
    return origin is not None and request.host.lower() == _host_of(origin)


def platform_origin() -> str:
    """The platform's own origin, as the learner's browser sees it (on the platform's host)."""
    return current_app.config.get("PUBLIC_ORIGIN") or request.host_url.rstrip("/")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def ticket(package: ScormPackage, user) -> str:
    """A capability for one learner to load one package's content for a while, from the
    platform's origin that gave it (the only one its frame page talks to)."""
    return _serializer().dumps([package.id, user.id, platform_origin()])


def _ticket_of(token: str) -> tuple[ScormPackage, str]:
    """The package a ticket opens and the platform origin it was given on; 404 when forged or
    expired."""
    hours = current_app.config["SCORM_CONTENT_HOURS"]
    try:
        package_id, _user_id, origin = _serializer().loads(token, max_age=hours * 3600)
    except (BadSignature, ValueError, TypeError):
        abort(404)
    package = db.session.get(ScormPackage, package_id)
    if package is None:
        abort(404)
    return package, origin


def frame_url(package: ScormPackage, user, href: str) -> str:
    """The address of the frame page that runs ``href`` of the package for ``user``."""
    from urllib.parse import quote

    base = content_origin().rstrip("/")
    return f"{base}/scorm-content/{ticket(package, user)}/frame?launch={quote(href, safe='')}"


@bp.before_app_request
def only_content_on_content_host() -> None:
    """On the content origin nothing of the platform answers (so no login can ever put a
    cookie there); on the platform's origin, no package content does."""
    if not content_origin():
        if request.blueprint == bp.name:
            abort(404)
        return
    content_request = request.blueprint == bp.name
    if on_content_host() != content_request and request.endpoint != "static":
        abort(404)


@bp.get("/scorm-content/<token>/frame")
def frame(token):
    """Our page around the SCO: it stands in for the SCORM API (``window.API`` and
    ``window.API_1484_11``) and relays every call to the lesson page."""
    _package, origin = _ticket_of(token)
    launch = request.args.get("launch", "")
    if not launch or launch.startswith(("/", "\\")) or "://" in launch or ".." in launch:
        abort(404)
    response = current_app.make_response(
        render_template("courses/scorm/frame.html", launch=launch, platform=origin)
    )
    response.headers["Content-Security-Policy"] = FRAME_POLICY.format(platform=origin)
    return response


@bp.get("/scorm-content/<token>/<path:path>")
def content(token, path):
    """A file of the package, with the package's own policy."""
    package, origin = _ticket_of(token)
    found = db.session.scalar(
        select(ScormFile).where(ScormFile.package_id == package.id, ScormFile.path == path)
    )
    if found is None:
        abort(404)
    response = send_stored(found.stored_file, as_attachment=False)
    guessed = mimetypes.guess_type(path)[0]
    if found.stored_file.content_type == "application/octet-stream" and guessed:
        response.mimetype = guessed
    response.headers["Content-Security-Policy"] = PACKAGE_POLICY.format(platform=origin)
    # The token in the path changes with every launch: caching within one is all it can do.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
