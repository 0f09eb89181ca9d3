"""Plain error pages (never a traceback) and the security log of refusals."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from learnplatform.audit import log_security_event
from learnplatform.extensions import db
from learnplatform.logs import route

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Page not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    410: (_l("Link no longer valid"), _l("This link has expired or has already been used.")),
    413: (_l("Too large"), _l("What you sent is larger than the platform accepts.")),
    429: (
        _l("Too many attempts"),
        _l("There have been too many attempts. Wait a few minutes, then try again."),
    ),
    500: (_l("Something went wrong"), _l("The error has been logged. Try again in a moment.")),
    503: (
        _l("Interrupted"),
        _l(
            "The platform lost its connection to the database while answering. Reload the page "
            "to see where things stand before you try again."
        ),
    ),
}


def _who() -> int | None:
    return current_user.id if current_user and current_user.is_authenticated else None


def render_error(code: int, message=None):
    """The error page for ``code``."""
    title, default_message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    return render_template(
        "error.html", code=code, title=title, message=message or default_message, error_page=True
    ), code


def init_app(app: Flask) -> None:
    """Register the error handlers on ``app``."""

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        log_security_event("csrf.failure", user_id=_who(), path=route(), reason=error.description)
        return render_error(
            400,
            _l("The form expired or came from another site. Reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 403:
            log_security_event("access.refused", user_id=_who(), path=route())
        return render_error(error.code or 500)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        # The error may have been a statement that failed, after which PostgreSQL refuses the
        # rest of the transaction: the page (the bell reads the notifications) starts afresh.
        db.session.rollback()
        return render_error(500)
