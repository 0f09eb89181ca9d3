"""Webinar series and recordings: who sees them, their files, and the views and downloads counted.

A series is seen by every logged-in user, or, when it is tied to iRooms, by the members of those
rooms only; its trainer and administrators always see it. Visitors who are not logged in see the
series its trainer made public, unless it is tied to iRooms, and are sent to log in for the rest.
A series or webinar someone may not see answers exactly as one that does not exist (404).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import ColumnElement, extract, false, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage

from courses import xapi_events
from courses.models import Caption, RecordingEvent, ViewMark, Webinar, WebinarSeries
from irooms.models import Membership, Room
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.storage import (
    CAPTION_TYPES,
    PDF,
    RECORDING_TYPES,
    StoredFile,
    delete_stored,
    save_upload,
)

VIEW = "view"
DOWNLOAD = "download"
SLIDES = "slides"
EVENT_KINDS = (VIEW, DOWNLOAD, SLIDES)


# Access.
def can_manage(user, series: WebinarSeries) -> bool:
    """Administrators manage every series; trainers the series they created."""
    return user.is_administrator or (user.is_trainer and series.created_by_id == user.id)


def visible_to(user) -> ColumnElement[bool]:
    """The condition on ``WebinarSeries`` rows that ``user`` may see."""
    if not user.is_authenticated:
        return WebinarSeries.is_public & ~WebinarSeries.rooms.any()
    if user.is_administrator:
        return true()
    return or_(
        ~WebinarSeries.rooms.any(),
        WebinarSeries.rooms.any(Room.memberships.any(Membership.user_id == user.id)),
        WebinarSeries.created_by_id == user.id,
    )


def managed_by(user) -> ColumnElement[bool]:
    """The condition on ``WebinarSeries`` rows that ``user`` manages."""
    if user.is_administrator:
        return true()
    if user.is_trainer:
        return WebinarSeries.created_by_id == user.id
    return false()


def visible_series(series_id: int) -> WebinarSeries:
    """A series the current user may see; otherwise 404."""
    series = db.session.scalar(
        select(WebinarSeries).where(WebinarSeries.id == series_id, visible_to(current_user))
    )
    if series is None:
        abort(404 if current_user.is_authenticated else current_app.login_manager.unauthorized())
    return series


def managed_series(series_id: int) -> WebinarSeries:
    """A series the current user manages; 404 for everyone else, as if it did not exist."""
    series = db.session.get(WebinarSeries, series_id)
    if series is None or not can_manage(current_user, series):
        abort(404)
    return series


def visible_webinar(webinar_id: int, *, having: str | None = None) -> Webinar:
    """A webinar of a series the current user may see, and when ``having`` names a file
    (``recording``, ``slides``), one that has it; otherwise 404."""
    webinar = db.session.scalar(
        select(Webinar)
        .join(Webinar.series)
        .where(Webinar.id == webinar_id, visible_to(current_user))
        .options(joinedload(Webinar.series), joinedload(Webinar.recording))
    )
    if webinar is None or (having is not None and getattr(webinar, having) is None):
        abort(404)
    return webinar


def managed_webinar(webinar_id: int) -> Webinar:
    """A webinar of a series the current user manages; otherwise 404."""
    webinar = db.session.get(Webinar, webinar_id)
    if webinar is None or not can_manage(current_user, webinar.series):
        abort(404)
    return webinar


def rooms_for(user) -> list[Room]:
    """The iRooms ``user`` may tie a series to: every room for administrators, else those hosted."""
    query = select(Room).where(Room.archived_at.is_(None)).order_by(Room.name)
    if not user.is_administrator:
        query = query.where(
            Room.memberships.any((Membership.user_id == user.id) & (Membership.role == "host"))
        )
    return list(db.session.scalars(query))


# Files.
def attach_recording(webinar: Webinar, upload: FileStorage, user) -> StoredFile:
    """Keep ``upload`` as the webinar's recording, replacing the earlier one (its counts stay)."""
    stored = save_upload(
        upload.stream,
        upload.filename or "recording",
        allowed=RECORDING_TYPES,
        max_bytes=current_app.config["RECORDING_MAX_BYTES"],
        uploaded_by=user,
    )
    _replace(webinar, "recording", stored)
    return stored


def attach_slides(webinar: Webinar, upload: FileStorage, user) -> StoredFile:
    """Keep ``upload``, a PDF, as the webinar's slides, replacing earlier ones."""
    stored = save_upload(
        upload.stream, upload.filename or "slides.pdf", allowed={PDF}, uploaded_by=user
    )
    _replace(webinar, "slides", stored)
    return stored


def set_captions(webinar: Webinar, language: str, upload: FileStorage, user) -> Caption:
    """Keep ``upload``, a WebVTT file, as the captions in ``language``, replacing earlier ones."""
    stored = save_upload(
        upload.stream,
        upload.filename or f"captions-{language}.vtt",
        allowed=CAPTION_TYPES,
        uploaded_by=user,
    )
    return keep_captions(
        webinar.captions,
        language,
        stored,
        lambda: Caption(webinar=webinar, language=language, stored_file=stored),
    )


def captions_in(captions: list, language: str):
    """The captions in ``language`` among ``captions`` (of a recording or a lesson video), or
    None."""
    return next((c for c in captions if c.language == language), None)


def keep_captions(captions: list, language: str, stored: StoredFile, make: Callable[[], Any]):
    """The captions in ``language`` among ``captions`` (of a recording or a lesson video) now
    keep ``stored``, the earlier file deleted; or ``make()`` new ones when there were none."""
    caption = captions_in(captions, language)
    if caption is None:
        caption = make()
        db.session.add(caption)
    else:
        earlier, caption.stored_file = caption.stored_file, stored
        db.session.flush()
        delete_stored(earlier)
    db.session.flush()
    return caption


def remove_file(webinar: Webinar, what: str) -> None:
    """Remove the webinar's ``recording`` or ``slides``; events keep their counts."""
    _replace(webinar, what, None)


def remove_captions(caption: Caption) -> None:
    stored = caption.stored_file
    db.session.delete(caption)
    db.session.flush()
    delete_stored(stored)


def _replace(webinar: Webinar, what: str, stored: StoredFile | None) -> None:
    earlier = getattr(webinar, what)
    setattr(webinar, what, stored)
    db.session.flush()
    if earlier is not None:
        delete_stored(earlier)


# Counting.
def renew_view_mark(mark: type, now: datetime, **keys) -> bool:
    """Whether a view counts now for the person and file named by ``keys`` (the primary key of
    ``mark``, a model with a ``counted_at`` column): once per ``VIEW_WINDOW_MINUTES``.

    Seeking, pausing and playing again, or reloading the page, are the same view. The window is
    checked by a conditional UPDATE of the person's mark, or the INSERT of a first mark, so that
    two requests arriving together count one view.
    """
    window = timedelta(minutes=current_app.config["VIEW_WINDOW_MINUTES"])
    renewed = db.session.execute(
        update(mark)
        .where(*(getattr(mark, name) == value for name, value in keys.items()))
        .where(mark.counted_at <= now - window)
        .values(counted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if renewed:
        return True
    try:
        with db.session.begin_nested():
            db.session.add(mark(counted_at=now, **keys))
    except IntegrityError:
        return False  # counted within the window, by this request's twin or earlier
    return True


def count_view(webinar: Webinar, user) -> bool:
    """Record that ``user`` started playing the recording; returns whether it counted: once per
    person and recording within the view window (``renew_view_mark``)."""
    now = utcnow()
    if not renew_view_mark(ViewMark, now, webinar_id=webinar.id, user_id=user.id):
        return False
    db.session.add(
        RecordingEvent(
            webinar_id=webinar.id,
            kind=VIEW,
            user_id=user.id,
            stored_file_id=webinar.recording_id,
            at=now,
        )
    )
    return True


def download_recorder(webinar: Webinar, kind: str, user) -> Callable[[], None]:
    """A callback recording one download of the webinar's recording or slides, for
    ``send_stored``, with its xAPI statement (made now, in the request) in one transaction.
    It runs after the response, outside the request: it opens its own application context."""
    values = {
        "webinar_id": webinar.id,
        "kind": kind,
        "user_id": user.id,
        "stored_file_id": webinar.recording_id if kind == DOWNLOAD else webinar.slides_id,
    }
    statement = xapi_events.recording_downloaded_later(webinar, user, kind)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def record() -> None:
        with app.app_context():
            db.session.add(RecordingEvent(**values))
            statement()
            db.session.commit()

    return record


def counts(
    series_ids: list[int], start: datetime | None, end: datetime | None
) -> dict[int, dict[str, int]]:
    """Views, downloads and slide downloads per webinar of ``series_ids`` in ``[start, end)``."""
    totals: dict[int, dict[str, int]] = {}
    query = (
        select(RecordingEvent.webinar_id, RecordingEvent.kind, func.count())
        .join(Webinar, Webinar.id == RecordingEvent.webinar_id)
        .where(Webinar.series_id.in_(series_ids), *_period(start, end))
        .group_by(RecordingEvent.webinar_id, RecordingEvent.kind)
    )
    for webinar_id, kind, number in db.session.execute(query):
        totals.setdefault(webinar_id, dict.fromkeys(EVENT_KINDS, 0))[kind] = number
    return totals


def counts_by_month(
    series_ids: list[int], start: datetime | None, end: datetime | None
) -> list[tuple[int, int, dict[str, int]]]:
    """(year, month, counts by kind) for the webinars of ``series_ids``, oldest month first."""
    year = extract("year", RecordingEvent.at)
    month = extract("month", RecordingEvent.at)
    query = (
        select(year, month, RecordingEvent.kind, func.count())
        .join(Webinar, Webinar.id == RecordingEvent.webinar_id)
        .where(Webinar.series_id.in_(series_ids), *_period(start, end))
        .group_by(year, month, RecordingEvent.kind)
        .order_by(year, month)
    )
    months: dict[tuple[int, int], dict[str, int]] = {}
    for y, m, kind, number in db.session.execute(query):
        months.setdefault((int(y), int(m)), dict.fromkeys(EVENT_KINDS, 0))[kind] = number
    return [(y, m, figures) for (y, m), figures in months.items()]


def _period(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if start is not None:
        conditions.append(RecordingEvent.at >= start)
    if end is not None:
        conditions.append(RecordingEvent.at < end)
    return conditions
