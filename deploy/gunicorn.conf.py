"""gunicorn's configuration for the platform: ``gunicorn -c deploy/gunicorn.conf.py``.

One worker on gevent's event loop per process: a greenlet per request and per WebSocket, so a
process holds thousands of chat connections and still answers pages. Socket.IO keeps each
connection's state in the process that opened it, so a process has one worker; more cores get
more processes, each on its own port, behind nginx's sticky balancing (deploy/nginx/).

The standard library is monkey-patched here, first, before gunicorn or the platform import
anything that opens sockets or threads: the platform then serves on the loop
(learnplatform.serving), psycopg 3 waits cooperatively (it does so by itself from 3.1.14), and so
do redis-py, smtplib and file sending, which use the patched socket module.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

wsgi_app = "wsgi:app"
bind = [os.environ.get("BIND", "127.0.0.1:8000")]
worker_class = "gevent"
workers = 1
# Requests and WebSockets served at once by the process; beyond, connections wait in the
# listen queue (backlog). A room of 2,000 people fits with room to spare.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "5000"))
backlog = 4096
# A worker whose loop does not come back within this many seconds is stuck and is replaced.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Logs: gunicorn's own lines on standard error; the platform logs its requests itself.
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
control_socket_disable = True


def post_request(worker, req, environ, resp):
    """After each request, let the loop poll its sockets before this connection's next one: a
    request that never waits on a socket (pages on SQLite) would otherwise keep the loop, and a
    keep-alive client that sends its next request at once would be served again and again while
    the others wait (p99 of 1-3 s at 8 connections for a p50 of 10 ms)."""
    from learnplatform.serving import pause

    pause()


def post_worker_init(worker):
    """Register the process for the chat (irooms.presence) as soon as it serves, rather than at
    its first connection, when a crowd reconnecting to a restarted process would wait for the
    database pool all at once while the registration asked it for one more connection."""
    from irooms.presence import process_id

    try:
        with worker.wsgi.app_context():
            process_id()
    except Exception:  # the database is away: the first connection registers it
        worker.log.exception("chat process registration failed")
