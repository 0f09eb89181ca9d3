"""A request whose database connection the server closed is run again, once.

PostgreSQL closes connections when it restarts or fails over, or when an administrator
terminates them. The pool tests a connection before handing it out (``pool_pre_ping``), so a
request never starts on a closed one; a connection that dies while a request is using it fails
that request's next statement. If the request had committed nothing, whatever it wrote went
with the connection, so running it again from the start on a new connection is safe, and the
person sees their page instead of an error. Bodies larger than ``REPLAY_MAX_BYTES`` (uploads)
are not kept for a second run: those requests fail as before.
"""

import functools
import io

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from learnplatform.errors import render_error
from learnplatform.extensions import db
from learnplatform.logs import route

#: the largest request body kept so that the request can run again (forms, not uploads)
REPLAY_MAX_BYTES = 1024 * 1024

_REPLAYABLE = "learnplatform.replayable"
_RUN_AGAIN = "learnplatform.run_again"


class RunAgainOnce:
    """WSGI middleware: keeps a small request body, and runs the request a second time when the
    first run asked for it (:func:`_connection_lost`), discarding the first run's answer."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        body = _small_body(environ)
        if body is None:
            return self.wsgi_app(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        environ[_REPLAYABLE] = True
        answer = []

        def held(status, headers, exc_info=None):
            answer[:] = [status, headers, exc_info]
            return _no_write

        result = self.wsgi_app(environ, held)
        if not environ.pop(_RUN_AGAIN, False):
            start_response(*answer)
            return result
        if hasattr(result, "close"):
            result.close()
        environ["wsgi.input"] = io.BytesIO(body)
        environ[_REPLAYABLE] = False
        return self.wsgi_app(environ, start_response)


def _no_write(data: bytes) -> None:
    raise RuntimeError("the platform's responses are returned, never written")


def _small_body(environ) -> bytes | None:
    """The request's whole body if it announced a length up to REPLAY_MAX_BYTES, else None."""
    length = environ.get("CONTENT_LENGTH") or "0"
    if environ.get("HTTP_TRANSFER_ENCODING") or not length.isdecimal():
        return None
    if int(length) > REPLAY_MAX_BYTES:
        return None
    return environ["wsgi.input"].read(int(length)) if int(length) else b""


def _may_run_again(error: DBAPIError, what: str, replayable: bool = True) -> bool:
    """Whether what ``error`` interrupted may run again: the connection died and nothing was
    committed. Raises ``error`` when it is not a lost connection. Logged as one line."""
    if not error.connection_invalidated:
        raise error
    db.session.rollback()  # the session lets go of the dead connection
    again = replayable and not g.get("database_committed")
    current_app.logger.warning(
        "The database connection was lost during %s (%s); %s.",
        what,
        str(error.orig).strip(),
        "it runs again on a new connection" if again else "not run again: it had committed",
    )
    return again


def once_more_if_connection_lost(handler):
    """For Socket.IO events: run ``handler`` a second time if its connection died before it
    committed anything; after a commit the error goes on to the event's error handler."""

    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except DBAPIError as error:
            if not _may_run_again(error, f"the event {handler.__name__}"):
                raise
            return handler(*args, **kwargs)

    return run


def _connection_lost(error: DBAPIError):
    """The database connection died under this request: ask for a second run if that is safe;
    after a commit, say so (503) rather than run twice what may not bear it. Other database
    errors stay the server errors they are."""
    replayable = bool(request.environ.get(_REPLAYABLE))
    if _may_run_again(error, f"{request.method} {route()}", replayable):
        request.environ[_RUN_AGAIN] = True
        return "", 503  # never sent: the second run answers
    return render_error(503)


def _note_commit(connection) -> None:
    """A transaction was committed in the database (a savepoint released is not one)."""
    if has_request_context():
        g.database_committed = True


def init_app(app: Flask) -> None:
    app.wsgi_app = RunAgainOnce(app.wsgi_app)
    app.register_error_handler(DBAPIError, _connection_lost)
    if not event.contains(Engine, "commit", _note_commit):
        event.listen(Engine, "commit", _note_commit)
