"""Statistics exports made by the background worker: the dashboard asks for a table as a file,
a job makes the file in storage and tells the person, and an hourly job deletes the files once
they are ``EXPORT_KEEP_DAYS`` days old.

The file holds what the dashboard's download of the same table would: the same table, written by
the same writer, in the person's language, with the filters read again by the same form, in the
scope of the person who asked *when the job runs*. A trainer who has lost a module since, or
their role, gets no figure they may no longer see.

A run of the job takes its export with a conditional UPDATE before it makes anything, so that
an export is made once however many times its job runs; the file, the export marked ready and
the notification are committed together.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from learnplatform import jobs
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.exports import FORMATS
from learnplatform.extensions import db
from learnplatform.mail import as_seen_by
from learnplatform.notifications.services import notify
from learnplatform.stats import queries, tables
from learnplatform.stats.filters import Filters
from learnplatform.stats.models import StatisticsExport
from learnplatform.storage import delete_stored, save_generated

log = logging.getLogger(__name__)

#: how long a run of the job holds the export it took before another run may take it
HOLD = timedelta(minutes=30)
#: an export still waiting this long after it was asked for has lost its place in the queue
LOST_AFTER = timedelta(minutes=10)
#: the files other packages make through these exports, by dataset (not a table of
#: ``tables.DATASETS``): a function that writes the export's file in its person's scope and
#: language, setting ``file`` and ``file_name``, and says False when the filters no longer fit
#: (the donor report's PDF, ``learnplatform.donor_report.pdf``)
MAKERS: dict[str, Callable[[StatisticsExport, User], bool]] = {}
#: what those files are called in My exports, by dataset: a function of the export
TITLES: dict[str, Callable[[StatisticsExport], str]] = {}


def ask_for_export(
    person: User,
    dataset: str,
    fmt: str,
    filters: Filters,
    group: str,
    interval: str,
    *,
    form_key: str,
) -> StatisticsExport:
    """Ask for the table ``dataset`` of the dashboard as a file in format ``fmt``, made for
    ``person`` by the job queued once the transaction commits. Flushed: a second export with
    the same ``form_key`` (the form sent twice) fails with ``IntegrityError``."""
    export = StatisticsExport(
        user_id=person.id,
        dataset=dataset,
        format=fmt,
        filters=filters.as_args(),
        group_by=group,
        interval=interval,
        form_key=form_key,
    )
    db.session.add(export)
    db.session.flush()
    prepare_export.schedule(export.id)
    return export


@jobs.job()
def prepare_export(export_id: int) -> None:
    """Make the file of an export and tell the person who asked; nothing for an export that is
    ready, has failed, or is being made by another run."""
    if not _take(export_id, utcnow()):
        return
    try:
        _make(db.session.get(StatisticsExport, export_id))
        db.session.commit()
    except Exception:
        log.exception("statistics export %s could not be made", export_id)
        db.session.rollback()  # the file written, if any, goes with the transaction
        _finish(db.session.get(StatisticsExport, export_id), failure="error")
        db.session.commit()


def _take(export_id: int, now: datetime) -> bool:
    """Hold the export for this run if it waits and no other run holds it."""
    taken = db.session.execute(
        update(StatisticsExport)
        .where(
            StatisticsExport.id == export_id,
            StatisticsExport.status == "waiting",
            or_(StatisticsExport.started_at.is_(None), StatisticsExport.started_at < now - HOLD),
        )
        .values(started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return taken == 1


def _make(export: StatisticsExport) -> None:
    """Write the export's file into storage, mark it ready and tell its person (not committed);
    or mark it failed when they may no longer have it."""
    person = export.user
    if not (person.active and person.is_trainer):
        _finish(export, failure="not_allowed")
        return
    make = MAKERS.get(export.dataset, _make_table)
    with as_seen_by(person):
        if not make(export, person):
            _finish(export, failure="filters")
            return
    _finish(export)
    notify(
        [person],
        "export_ready",
        key=f"export:{export.id}",
        url=url_for("stats.download_export", export_id=export.id),
        params={"name": export.file_name},
    )


def _make_table(export: StatisticsExport, person: User) -> bool:
    """Write the file of a table of the dashboard; False when its filters no longer fit."""
    scope, _form, filters = queries.scope_and_filters(person, MultiDict(export.filters))
    if filters is None:
        return False
    table = tables.dataset(export.dataset, filters, scope, export.group_by, export.interval)
    rows = _Counted(table.rows_for(export.format))
    name = table.file_name(export.format, export.created_at)
    export.file = save_generated(
        table.chunks(export.format, rows, binary=True), name, FORMATS[export.format]
    )
    export.file_name, export.row_count = name, rows.count
    return True


def title_of(export: StatisticsExport) -> str:
    """What an export is called in My exports."""
    if export.dataset in TITLES:
        return TITLES[export.dataset](export)
    return tables.dataset_title(export.dataset, export.group_by, export.interval)


def _finish(export: StatisticsExport, failure: str | None = None) -> None:
    export.status = "failed" if failure else "ready"
    export.failure = failure
    export.finished_at = utcnow()


class _Counted:
    """Rows passed on one by one, counted as they go."""

    def __init__(self, rows):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


@jobs.periodic(jobs.every_hour)
def delete_old_exports(now: datetime | None = None) -> int:
    """Delete the files of the exports made more than ``EXPORT_KEEP_DAYS`` days ago; how many.
    The exports stay listed, saying that their file is no longer kept."""
    now = now or utcnow()
    made_before = now - timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
    old = db.session.scalars(
        select(StatisticsExport)
        .options(joinedload(StatisticsExport.file))
        .where(StatisticsExport.file_id.is_not(None), StatisticsExport.finished_at < made_before)
        .order_by(StatisticsExport.id)
    ).all()
    for export in old:
        stored, export.file = export.file, None
        delete_stored(stored)  # the file leaves the disk once this is committed
    db.session.commit()
    return len(old)


@jobs.periodic(jobs.every_hour)
def prepare_forgotten_exports(now: datetime | None = None) -> int:
    """Queue again the exports whose job was lost: the queue was down when they were asked for,
    or the worker making them stopped; how many."""
    now = now or utcnow()
    forgotten = db.session.scalars(
        select(StatisticsExport.id).where(
            StatisticsExport.status == "waiting",
            or_(
                and_(
                    StatisticsExport.started_at.is_(None),
                    StatisticsExport.created_at < now - LOST_AFTER,
                ),
                StatisticsExport.started_at < now - HOLD,
            ),
        )
    ).all()
    for export_id in forgotten:
        prepare_export.schedule(export_id)
    db.session.commit()  # queues them
    return len(forgotten)
