"""Refusing requests that waited too long in the server's queue, instead of running them late.

The front server stamps each request with the moment it passed it on (nginx:
``proxy_set_header X-Request-Start "t=${msec}"``, see ``deploy/nginx/learnplatform.conf``). Under
load a request can wait in gunicorn for a free thread long after its client has given up; a form
posted then would still be carried out, minutes later, for nobody. ``RequestQueueBound`` answers
such a request 503 with ``Retry-After`` without running the application at all.

The stamp is compared with this machine's clock: the front server and the application must share
one (the same machine, or clocks kept by NTP). A stamp in the future, a missing one and one that
cannot be read let the request through: the bound only ever refuses what it is sure of.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from functools import cache

from babel.support import Translations
from markupsafe import escape
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

logger = logging.getLogger(__name__)

#: The seconds, milliseconds or microseconds since the epoch, with an optional fraction and
#: nginx's and Apache's ``t=`` in front.
STAMP = re.compile(r"(?:t=)?(\d{1,20}(?:\.\d{1,9})?)")
#: 2000-01-01 in seconds since the epoch: a stamp read as earlier than this is in a finer unit
#: (New Relic's agents read ``X-Request-Start`` the same way).
EARLIEST_STAMP = 946_684_800
UNITS_PER_SECOND = (1_000_000, 1_000, 1)
#: How long a refused client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 5
#: The refusal page: the platform's look, the browser's language, and nothing that asks the
#: database or the session (what is busy may be them).
PAGE = """<!doctype html>
<html lang="{lang}" dir="{direction}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap{rtl}.min.css">
  <link rel="stylesheet" href="/static/css/platform.css">
</head>
<body>
  <main class="container py-5">
    <div class="card shadow-sm auth-card mx-auto">
      <div class="card-body p-4">
        <h1 class="h3">{title}</h1>
        <p>{message}</p>
        <a class="btn btn-primary" href="/">{home}</a>
      </div>
    </div>
  </main>
</body>
</html>
"""


@cache
def refusal(language: str) -> bytes:
    """The refusal page in ``language`` (one the platform speaks)."""
    from learnplatform import TRANSLATIONS

    words = Translations.load(str(TRANSLATIONS), [language])
    return PAGE.format(
        lang=language,
        direction="rtl" if language == "ar" else "ltr",
        rtl=".rtl" if language == "ar" else "",
        title=escape(words.gettext("The platform is busy")),
        message=escape(
            words.gettext(
                "Your request waited too long and was not carried out. Try again in a moment."
            )
        ),
        home=escape(words.gettext("Go to the home page")),
    ).encode()


def _language(environ: dict) -> str:
    from learnplatform import available_locales

    accepted = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
    return accepted.best_match(available_locales()) or "en"


def request_start(header: str | None) -> float | None:
    """The moment, in seconds since the epoch, that an ``X-Request-Start`` header names; None when
    it is missing or unreadable."""
    match = STAMP.fullmatch(header.strip()) if header else None
    if not match:
        return None
    number = float(match.group(1))
    for units in UNITS_PER_SECOND:
        if number / units >= EARLIEST_STAMP:
            return number / units
    return None


class RequestQueueBound:
    """WSGI middleware: a request stamped more than ``timeout`` seconds ago gets 503 and
    ``Retry-After`` instead of ``app``."""

    def __init__(self, app: Callable, timeout: float):
        self.app = app
        self.timeout = timeout

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = request_start(environ.get("HTTP_X_REQUEST_START"))
        waited = time.time() - started if started is not None else 0.0
        if waited <= self.timeout:
            return self.app(environ, start_response)
        logger.warning(
            "queue.timeout method=%s path=%s waited=%.3f limit=%s",
            json.dumps(environ.get("REQUEST_METHOD", "")),
            json.dumps(environ.get("PATH_INFO", "")),
            waited,
            self.timeout,
        )
        page = refusal(_language(environ))
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(page))),
                ("Retry-After", str(RETRY_AFTER_SECONDS)),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [page]
