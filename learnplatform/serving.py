"""How the process serves: on gevent's event loop (gunicorn with ``deploy/gunicorn.conf.py``,
which monkey-patches the standard library before anything else is imported) or on threads (the
tests' in-process servers and ``flask shell``).

On the loop one greenlet serves each request and each WebSocket, and a greenlet that computes
without waiting on a socket holds every other one of the process. So the few computations that
take long run elsewhere: :func:`off_loop` hands them to gevent's pool of native threads (Argon2
releases Python's lock while it hashes), and :func:`pause` lets the loop serve others between
two pieces of a long stream. SQLite, which waits for a lock inside its C library, gets a lock of
the loop's own around writes (:func:`guard_sqlite_writes`).
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from gevent import monkey
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

T = TypeVar("T")


def on_event_loop() -> bool:
    """Whether the standard library was monkey-patched by gevent (the process serves on it)."""
    return monkey.is_module_patched("socket")


def async_mode() -> str:
    """The mode python-socketio runs in: ``gevent`` on the loop (WebSockets on simple-websocket,
    as python-socketio does without gevent-websocket), else ``threading``."""
    return "gevent" if on_event_loop() else "threading"


def off_loop(function: Callable[..., T], *args) -> T:
    """``function(*args)`` in a native thread when on the loop, so that other greenlets run
    meanwhile; directly otherwise. For CPU work that releases Python's lock (Argon2)."""
    if not on_event_loop():
        return function(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(function, args)


def pause() -> None:
    """Let the loop serve every other greenlet, its timers and sockets included (and other
    threads take Python's lock): called between the pieces of a long response, so that a large
    export does not hold the loop. ``gevent.sleep(0)`` would not do: it may run this greenlet
    again before the loop polls its sockets (measured: a 425 ms gap in a 1.4 s export)."""
    if on_event_loop():
        import gevent

        gevent.idle()
    else:
        time.sleep(0)


# SQLite and the loop. SQLite waits for another connection's write lock in its C library (the
# busy timeout), which on the loop blocks every greenlet, the one holding that lock included:
# the process would stand still until the timeout and then fail with "database is locked". So on
# the loop, a connection takes this cooperative lock before its first write and gives it back
# when its transaction ends; greenlets that want to write wait on it, the rest keep running.
# Other processes on the same file still meet SQLite's own busy timeout.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_HOLDS = "learnplatform_sqlite_write_lock"
#: as long as SQLite's own busy timeout (learnplatform.extensions): after it, SQLite decides
_WAIT = 10.0
_sqlite_writes = None  # a threading.Lock once installed


def guard_sqlite_writes() -> None:
    """Install the lock's listeners (once, on every engine; they act on SQLite on the loop)."""
    global _sqlite_writes
    if _sqlite_writes is not None or not on_event_loop():
        return
    _sqlite_writes = threading.Lock()  # gevent's, once patched
    event.listen(Engine, "before_cursor_execute", _before_write)
    event.listen(Engine, "commit", _transaction_ended)
    event.listen(Engine, "rollback", _transaction_ended)
    # A connection given back to the pool without its transaction's end passing through them
    # (an error inside the driver) must not keep the lock.
    event.listen(Pool, "checkin", _released_on_checkin)


def _before_write(connection, cursor, statement, parameters, context, executemany) -> None:
    if connection.dialect.name != "sqlite" or connection.info.get(_HOLDS):
        return
    if statement.lstrip()[:7].upper().startswith(_WRITES):
        connection.info[_HOLDS] = _sqlite_writes.acquire(timeout=_WAIT)


def _transaction_ended(connection) -> None:
    # Called just before the driver commits or rolls back, with no switch to another greenlet
    # in between: the next writer starts once this transaction is over.
    if connection.info.pop(_HOLDS, False):
        _sqlite_writes.release()


def _released_on_checkin(dbapi_connection, record) -> None:
    if record is not None and record.info.pop(_HOLDS, False):
        _sqlite_writes.release()
