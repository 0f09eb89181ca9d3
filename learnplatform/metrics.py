"""Prometheus metrics of this process, in the text format at ``/metrics`` (docs/operations.md).

Every gunicorn process runs one gevent worker and is scraped on its own port
(deploy/gunicorn.conf.py), so each process counts in its own memory, in a registry of the
platform's own: prometheus-client's multiprocess mode, which shares files between the workers of
one process, is not needed. Prometheus labels each process by its address; sums across processes
are made in its queries.

``/metrics`` is not public. It answers the bearer of ``METRICS_TOKEN``, compared in constant
time; without a token configured, only a request from this machine (a loopback address) that came
through no proxy (no ``X-Forwarded-For``, no ``Forwarded``). Anyone else gets the platform's 404,
as at an address where nothing is, whatever the method.
"""

import hmac
import ipaddress
import time

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    request,
    request_finished,
    request_started,
)
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from learnplatform.extensions import csrf

registry = CollectorRegistry()
ProcessCollector(registry=registry)  # the process's memory, CPU time, open files, start time

request_duration = Histogram(
    "learnplatform_request_duration_seconds",
    "Time to answer a request, to its headers (a streamed body goes on after), by Flask "
    "endpoint ('unmatched': no route, 404 or 405), method and status class.",
    ["endpoint", "method", "status"],
    # up to gunicorn's timeout and REQUEST_QUEUE_TIMEOUT, 30 s
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=registry,
)
socket_connections = Gauge(
    "learnplatform_socketio_connections",
    "Socket.IO connections accepted by this process and not yet closed.",
    registry=registry,
)
chat_messages_posted = Counter(
    "learnplatform_chat_messages_posted",
    "Chat messages stored by this process (a retried send counts once).",
    registry=registry,
)
chat_messages_delivered = Counter(
    "learnplatform_chat_messages_delivered",
    "Chat 'message' events (new, edited, removed) handed to this process's connections.",
    registry=registry,
)
chat_catch_up_pages = Counter(
    "learnplatform_chat_catch_up_pages",
    "Pages of messages ('messages' events) sent to connections as they join a room.",
    registry=registry,
)

#: the methods that get a label of their own; any other is "other", so that a client cannot
#: make up label values
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The connections as a set of their ids rather than a number moved up and down: the disconnect
# handler may run twice (reconnect.once_more_if_connection_lost), and a closed one counts once.
_open_connections: set[str] = set()
socket_connections.set_function(lambda: len(_open_connections))


def connection_opened(sid: str) -> None:
    """Count a Socket.IO connection the platform accepted."""
    _open_connections.add(sid)


def connection_closed(sid: str) -> None:
    """Stop counting a Socket.IO connection that closed."""
    _open_connections.discard(sid)


bp = Blueprint("metrics", __name__)
csrf.exempt(bp)  # a refused POST must be the same 404 as elsewhere, not a CSRF error


@bp.route(
    "/metrics",
    methods=sorted(METHODS),  # every method, answered 404 but GET and HEAD: as if nothing were here
    provide_automatic_options=False,
)
def exposition():
    """This process's metrics for Prometheus; anyone but the scraper finds nothing here."""
    if request.method not in ("GET", "HEAD") or not _scraper_allowed():
        abort(404)
    # The classic text format (0.0.4): every Prometheus version reads it.
    return Response(
        generate_latest(registry),
        content_type=CONTENT_TYPE_PLAIN_0_0_4,
        headers={"Cache-Control": "no-store"},
    )


def _scraper_allowed() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    proxied = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return not proxied and _is_loopback(request.remote_addr)


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:  # a Unix socket, or nothing
        return False


def _request_started(sender: Flask, **extra) -> None:
    g.metrics_started_at = time.perf_counter()


def _request_finished(sender: Flask, response: Response, **extra) -> None:
    started = g.pop("metrics_started_at", None)
    if started is None:
        return
    request_duration.labels(
        endpoint=request.endpoint or "unmatched",
        method=request.method if request.method in METHODS else "other",
        status=f"{response.status_code // 100}xx",
    ).observe(time.perf_counter() - started)


def init_app(app: Flask) -> None:
    """Time every request of ``app`` and serve ``/metrics``."""
    # Signals rather than before_request: they come even when an earlier before_request
    # function answers (a CSRF failure, an expired session), and with the final response.
    request_started.connect(_request_started, app)
    request_finished.connect(_request_finished, app)
    app.register_blueprint(bp)
