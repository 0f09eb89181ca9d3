"""Statistics exports made in the background: what a person asked for, and the file made."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.storage import StoredFile

#: what went wrong, by the code kept in ``StatisticsExport.failure``, as the person is told
FAILURES = {
    "not_allowed": _l("You may no longer export statistics."),
    "filters": _l(
        "Its filters no longer fit the figures you may see (a module that is no longer yours, "
        "for example). Ask for it again from the dashboard."
    ),
    "error": _l(
        "The file could not be made. Ask for it again; if it fails again, tell an administrator."
    ),
}


class StatisticsExport(db.Model):
    """A table of the statistics dashboard that a person asked to have prepared as a file by the
    background worker, with the dashboard's filters; they are told when it is ready."""

    __tablename__ = "statistics_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: who asked: the only one who may download it, and whose scope its figures are read in
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: which table: a key of ``tables.DATASETS``
    dataset: Mapped[str] = mapped_column(String(40))
    #: csv, xlsx or json
    format: Mapped[str] = mapped_column(String(8))
    #: the dashboard's filters as its query string holds them (``Filters.as_args``), read again
    #: by the same form when the file is made
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    #: what a breakdown is by (``filters.GROUPS``), for the datasets that take it
    group_by: Mapped[str] = mapped_column(String(20))
    #: what a series over time is by (``filters.INTERVALS``), for the datasets that take it
    interval: Mapped[str] = mapped_column(String(10))
    #: waiting (asked, or being made), ready (its file was made) or failed
    status: Mapped[str] = mapped_column(String(10), default="waiting", index=True)
    #: why it failed: a key of ``FAILURES``
    failure: Mapped[str | None] = mapped_column(String(20))
    #: the file, once made; ``None`` before, and again once deleted after ``EXPORT_KEEP_DAYS``
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_files.id", ondelete="SET NULL"), index=True
    )
    #: the name its file is offered under, such as ``completions-20261202.csv``
    file_name: Mapped[str | None] = mapped_column(String(120))
    #: rows in the file, its header not counted
    row_count: Mapped[int | None]
    #: the random key of the dashboard form that asked for it, so that the form sent twice (a
    #: double click) makes one export
    form_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: UTC time it was asked for
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time a run of the job took it to make its file; another run may take it once
    #: ``background.HOLD`` has passed (a worker that died while making it)
    started_at: Mapped[datetime | None]
    #: UTC time its file was made, or it failed
    finished_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    file: Mapped[StoredFile | None] = relationship()

    @property
    def failure_message(self) -> str:
        """What the person is told of its failure."""
        return str(FAILURES.get(self.failure or "error", FAILURES["error"]))
