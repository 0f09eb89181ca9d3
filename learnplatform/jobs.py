"""Background jobs, on Huey: e-mail delivery, reminders and digests run beside the web processes.

The queue is Redis when ``REDIS_URL`` is set (production: any number of workers, on any
machine), else a SQLite file under ``instance/`` (``make run``: one worker beside the server).
``flask worker`` runs the consumer with its periodic scheduler. With ``JOBS_IMMEDIATE`` (the
tests) a job runs at once in the process that queues it, as the worker would run it.

A job is queued after the transaction that asked for it commits (``after_commit``), so that the
worker never looks for rows that are not there yet, and never runs for a transaction that was
rolled back. Queueing is only the fast path: every job looks in the database for what it has to
do and does each thing once (a conditional UPDATE, a unique key), and the periodic jobs find
what a lost queue entry left behind. So a job that runs twice, or not at all, loses and doubles
nothing.
"""

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, has_app_context, has_request_context
from huey import Huey, crontab
from huey.api import TaskWrapper
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

from learnplatform.extensions import db

log = logging.getLogger(__name__)

#: Starts in immediate mode with memory storage, so that importing it opens nothing;
#: ``init_app`` gives it the configured storage.
huey = Huey("learnplatform", immediate=True, results=False, utc=True)

_app: Flask | None = None
_PENDING = "learnplatform.jobs"


def init_app(app: Flask) -> None:
    """Point the queue at Redis or the SQLite file, or keep running jobs at once."""
    global _app
    _app = app
    if app.config["JOBS_IMMEDIATE"]:
        huey.immediate = True
        return
    redis_url = app.config["JOBS_REDIS_URL"]
    if redis_url:
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": redis_url}
    else:
        path = Path(app.config["JOBS_DATABASE"])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": str(path)}
    if huey.immediate:
        huey.immediate = False  # creates the storage
    else:
        huey.storage = huey.create_storage()


@contextmanager
def platform_request(app: Flask) -> Iterator[None]:
    """A request to the platform's public address (``PUBLIC_ORIGIN``), so that ``url_for``
    builds the links that e-mails carry where no request came in: a job, the command line."""
    with app.test_request_context("/", base_url=app.config["PUBLIC_ORIGIN"] or "http://localhost"):
        yield


def with_links(function):
    """For what tells people outside a request (a command, a job): runs ``function`` inside
    ``platform_request``, in the current application context and its transaction."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        if has_request_context():
            return function(*args, **kwargs)
        with platform_request(current_app._get_current_object()):
            return function(*args, **kwargs)

    return run


def _in_app_context(function):
    """Run ``function`` in an application context of its own (a database session of its own,
    removed afterwards, as a request has), with a request to the platform's public address, so
    that ``url_for(..., _external=True)`` writes the links that e-mails carry."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else _app
        with app.app_context(), platform_request(app):
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    return run


def job(*, retries: int = 3, retry_delay: int = 30):
    """A background job: ``some_job.schedule(args)`` queues it once the current transaction
    commits; a job that raises is tried again ``retries`` times, ``retry_delay`` seconds apart."""

    def register(function):
        task = huey.task(retries=retries, retry_delay=retry_delay, name=function.__name__)(
            _in_app_context(function)  # Huey names it <module>.<name>
        )
        task.schedule = lambda *args: after_commit(task, *args)
        return task

    return register


def periodic(schedule: crontab):
    """A job the worker's scheduler runs on ``schedule`` (a ``huey.crontab``)."""

    def register(function):
        return huey.periodic_task(schedule, name=function.__name__)(_in_app_context(function))

    return register


def _name(function) -> str:
    function = getattr(function, "func", function)  # a Huey task: the function it runs
    return f"{function.__module__}.{function.__name__}"


def after_commit(task, *args) -> None:
    """Queue ``task(*args)`` once the current database transaction commits, once however many
    times the transaction asks (a hundred statements recorded, one job to send them); ``task``
    may also be any function, run then (telling connections of a change, for example)."""
    if not isinstance(task, TaskWrapper):
        task = _in_app_context(task)  # a session of its own: this one has finished its work
    pending = db.session().info.setdefault(_PENDING, [])
    if (task, args) not in pending:
        pending.append((task, args))


@event.listens_for(Session, "after_commit")
def _queue_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy tells those too): the transaction goes on
    pending = session.info.pop(_PENDING, None)
    for task, args in pending or ():
        try:
            task(*args)
        except Exception as error:  # the queue is down: the periodic jobs will find the work
            log.warning("could not run or queue %s%r: %s", _name(task), args, error)


def run_worker(workers: int, *, periodic: bool = True) -> None:
    """Consume the queue until stopped (SIGINT or SIGTERM), with the periodic scheduler."""
    from learnplatform.logs import handler

    huey_log = logging.getLogger("huey")  # its start, each job run, retries: as the platform's
    huey_log.addHandler(handler)
    huey_log.setLevel(logging.INFO)
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=periodic, check_worker_health=True
    )
    consumer.run()


every_minute = crontab()
every_hour = crontab(minute="7")
