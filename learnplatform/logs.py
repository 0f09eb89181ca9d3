"""The platform's log: one line per record on standard error, each request's records under its
id, and one access line per request (docs/operations.md).

``LOG_FORMAT=json`` (production's default) writes each line as one JSON object: ``time`` (ISO
8601, UTC), ``level``, ``logger``, ``message``, ``request_id``, and on access lines ``method``,
``endpoint``, ``path``, ``status``, ``duration_ms``, ``user_id`` and ``address``. ``text`` writes
``time level logger request-id message``.

A request's id is its ``X-Request-ID`` header when that is 8 to 64 letters, digits and hyphens
(nginx sends its ``$request_id``), else a new one; the answer carries it back in ``X-Request-ID``.
Socket.IO events are logged under the id of the request that opened their connection.

The access line's ``path`` is the route's rule (``/password/reset/<token>``), never the address
asked for, which may carry a secret or a query string; a request that matched no route has none
(nginx's log, under the same id, has the address).
"""

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request, request_finished
from flask.logging import default_handler

from learnplatform.audit import UTCFormatter
from learnplatform.network import client_address

REQUEST_ID = "learnplatform.request_id"
REQUEST_STARTED = "learnplatform.request_started"
#: what an id given by the front server may look like (nginx's ``$request_id``: 32 hex digits)
GIVEN_ID = re.compile(r"[A-Za-z0-9-]{8,64}")

access_logger = logging.getLogger("learnplatform.access")
#: the id of the request being served, also where Flask is not (the middlewares around it)
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIds:
    """WSGI middleware: gives every request its id (the front server's, else a new one) and
    returns it in the ``X-Request-ID`` header of the answer."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if GIVEN_ID.fullmatch(given) else secrets.token_hex(16)
        environ[REQUEST_ID] = request_id
        environ[REQUEST_STARTED] = time.perf_counter()

        def start_with_id(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Request-ID", request_id)], exc_info)

        token = current_request_id.set(request_id)
        try:
            return self.wsgi_app(environ, start_with_id)
        finally:
            current_request_id.reset(token)


def _add_request_id(record: logging.LogRecord) -> bool:
    """Give a record made while a request (or a Socket.IO event) is served that request's id."""
    if hasattr(record, "request_id"):
        return True
    # A chat event's context is the request that opened its connection, not the one running.
    in_flask = request.environ.get(REQUEST_ID) if has_request_context() else None
    request_id = in_flask or current_request_id.get()
    if request_id:
        record.request_id = request_id
    return True


class JSONFormatter(logging.Formatter):
    """One JSON object a line; a traceback goes in ``exception``, within the line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            **getattr(record, "access", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


TEXT = UTCFormatter(
    "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s", defaults={"request_id": "-"}
)


class StandardErrorHandler(logging.StreamHandler):
    """Writes to standard error as it is when each record comes, as Flask's own handler does
    (gunicorn's, or a test's capture)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # always the current standard error


#: the handler of the platform's loggers: ``learnplatform`` and below (security, access, storage)
handler = StandardErrorHandler()
handler.addFilter(_add_request_id)


def init_app(app: Flask) -> None:
    """Log ``app``'s records and requests in its ``LOG_FORMAT``, each request with its id.

    The handler is the process's: the last app configured sets its format (a process serves one).
    """
    app.wsgi_app = RequestIds(app.wsgi_app)
    handler.setFormatter(JSONFormatter() if app.config["LOG_FORMAT"] == "json" else TEXT)
    app.logger.removeHandler(default_handler)
    if handler not in app.logger.handlers:
        app.logger.addHandler(handler)
    app.logger.setLevel(logging.INFO)
    request_finished.connect(_log_access, app)


def route() -> str | None:
    """The URL rule the request matched (``/password/reset/<token>``), never its path, which may
    carry a secret: what every log line says of where a request went. None when none matched."""
    return request.url_rule.rule if request.url_rule is not None else None


def _log_access(sender: Flask, response: Response, **extra) -> None:
    started = request.environ.get(REQUEST_STARTED)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    rule = route()
    # The person only if the request loaded them: loading them here would cost a query (and
    # could end an idle session) on pages that never asked who is there.
    person = g.get("_login_user")
    user_id = person.id if person is not None and person.is_authenticated else None
    access_logger.info(
        "%s %s %s %s ms user=%s address=%s",
        request.method,
        rule or "-",
        response.status_code,
        duration_ms,
        user_id or "-",
        client_address(),
        extra={
            "access": {
                "method": request.method,
                "endpoint": request.endpoint,
                "path": rule,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id,
                "address": client_address(),
            }
        },
    )
