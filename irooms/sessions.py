"""A room's live sessions: scheduling them, who attended, and the attendance export.

Hosts and administrators schedule sessions and mark attendance; every member sees the sessions,
their video-conference address and, once there is one, their recording. Times are stored and
entered in UTC; pages show them in UTC and ``static/js/local-time.js`` rewrites them in each
viewer's time zone.
"""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from courses import webinars  # as a module: courses.webinars imports this package's models
from courses.models import Webinar, WebinarSeries
from irooms import bp, notices, xapi_events
from irooms.access import Place, managed_place, place_in
from irooms.labels import ROLE_LABELS
from irooms.models import Attendance, LiveSession, Membership
from irooms.sections import room_section
from learnplatform import numbers
from learnplatform.accounts.models import User
from learnplatform.audit import record, utcnow
from learnplatform.choices import country_name
from learnplatform.datetimes import LocalDateTimeField
from learnplatform.exports import csv_lines, download
from learnplatform.extensions import db

room_section("sessions", _l("Live sessions"), "irooms.sessions")

#: past sessions per page
PAGE_SIZE = 20
#: the longest a session may last
LONGEST = timedelta(hours=24)

SOURCE_LABELS = {
    "host": _l("Marked by a host"),
    "presence": _l("Online in the room"),
}


# The form.
class SessionForm(FlaskForm):
    """A live session's details, its times in UTC."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    agenda = TextAreaField(
        _l("Agenda"),
        validators=[Length(max=10_000)],
        description=_l("What the session covers, who speaks, what to prepare. Plain text."),
        render_kw={"rows": 6},
    )
    starts_at = LocalDateTimeField(
        _l("Start time"),
        validators=[InputRequired(_l("Give the start, for example 2026-03-14 14:00."))],
    )
    ends_at = LocalDateTimeField(
        _l("End time"),
        validators=[InputRequired(_l("Give the end, for example 2026-03-14 16:00."))],
    )
    conference_url = StringField(
        _l("Video-conference address"),
        validators=[Length(max=2000)],
        description=_l("The https:// link members follow to join, if the session is online."),
    )
    webinar_id = SelectField(
        _l("Recording"),
        coerce=numbers.optional_id,
        description=_l(
            "A webinar of one of your series, with its recording. Members see the recording if "
            "the series is open to them."
        ),
    )
    submit = SubmitField(_l("Save the session"))

    def validate_ends_at(self, field):
        """The end comes after the start, within a day."""
        start = self.starts_at.data
        if start is None or field.data is None:
            return
        if field.data <= start:
            raise ValidationError(_l("The end must come after the start."))
        if field.data - start > LONGEST:
            raise ValidationError(_l("A session lasts at most 24 hours."))

    def validate_conference_url(self, field):
        """Only web addresses: no ``javascript:`` or ``data:`` that would run in members' pages."""
        address = (field.data or "").strip()
        field.data = address or None
        if not address:
            return
        parts = urlsplit(address)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or any(character.isspace() or ord(character) < 32 for character in address)
        ):
            raise ValidationError(
                _(
                    "Give an address starting with https:// or http://, such as %(example)s.",
                    example="https://meet.example.org/room",
                )
            )


def recordings_offered(user, current_id: int | None) -> list[tuple[int | str, str]]:
    """The select's options: webinars with a recording in series ``user`` manages, newest first,
    plus the session's current one, which stays offered to a host who does not manage it."""
    offered = webinars.managed_by(user) & Webinar.recording_id.is_not(None)
    if current_id is not None:
        offered = offered | (Webinar.id == current_id)
    rows = db.session.execute(
        select(Webinar.id, Webinar.title, Webinar.starts_at, WebinarSeries.title)
        .join(Webinar.series)
        .where(offered)
        .order_by(Webinar.starts_at.desc(), Webinar.id.desc())
    ).all()
    choices: list[tuple[int | str, str]] = [("", _("No recording"))]
    for webinar_id, title, starts_at, series_title in rows:
        choices.append((webinar_id, f"{series_title}: {title} ({starts_at:%Y-%m-%d})"))
    return choices


# Operations, for these views and the rest of the package.
def _coming(now: datetime) -> ColumnElement[bool]:
    """Sessions not over at ``now``: those to come and the one under way."""
    return LiveSession.ends_at > now


def upcoming(room_id: int, limit: int = 3) -> list[LiveSession]:
    """The next ``limit`` sessions of a room that are not over, soonest first."""
    return list(
        db.session.scalars(
            select(LiveSession)
            .where(LiveSession.room_id == room_id, _coming(utcnow()))
            .order_by(LiveSession.starts_at, LiveSession.id)
            .limit(limit)
        )
    )


def next_sessions(room_ids: list[int], limit_per_room: int) -> dict[int, list[LiveSession]]:
    """The next sessions of each of ``room_ids``, at most ``limit_per_room`` each, in one query."""
    rank = (
        func.row_number()
        .over(
            partition_by=LiveSession.room_id,
            order_by=(LiveSession.starts_at, LiveSession.id),
        )
        .label("rank")
    )
    ranked = (
        select(LiveSession.id, rank)
        .where(LiveSession.room_id.in_(room_ids), _coming(utcnow()))
        .subquery()
    )
    found: dict[int, list[LiveSession]] = {room_id: [] for room_id in room_ids}
    for session in db.session.scalars(
        select(LiveSession)
        .join(ranked, ranked.c.id == LiveSession.id)
        .where(ranked.c.rank <= limit_per_room)
        .order_by(LiveSession.starts_at, LiveSession.id)
    ):
        found[session.room_id].append(session)
    return found


def attendance_counts(session_ids: list[int]) -> dict[int, int]:
    """How many people attended each session, by session id, in one query."""
    if not session_ids:
        return {}
    query = (
        select(Attendance.session_id, func.count(Attendance.id))
        .where(Attendance.session_id.in_(session_ids))
        .group_by(Attendance.session_id)
    )
    return {session_id: number for session_id, number in db.session.execute(query)}


def _add_once(attendance: Attendance) -> bool:
    """Insert ``attendance`` unless the person is already marked; a twin request inserting the
    same row at the same moment meets the unique constraint and changes nothing."""
    try:
        with db.session.begin_nested():
            db.session.add(attendance)
    except IntegrityError:
        return False
    return True


def mark_presence(session: LiveSession, user) -> bool:
    """Record that ``user`` was online in the room during ``session``, unless they are already
    marked; returns whether a row was added. The caller checks membership."""
    added = _add_once(Attendance(session_id=session.id, user_id=user.id, source="presence"))
    if added:
        xapi_events.attended(session, user)
    return added


def set_attendance(
    session: LiveSession, present_ids: Iterable[int], host
) -> tuple[list[int], list[int]]:
    """Make the current members marked present exactly those of ``present_ids``; ids of anyone
    who is not a member are ignored, and former members stay marked. Returns the user ids
    marked and unmarked."""
    members = set(
        db.session.scalars(select(Membership.user_id).where(Membership.room_id == session.room_id))
    )
    wanted = members.intersection(present_ids)
    recorded = set(
        db.session.scalars(select(Attendance.user_id).where(Attendance.session_id == session.id))
    )
    marked = [
        user_id
        for user_id in sorted(wanted - recorded)
        if _add_once(
            Attendance(session_id=session.id, user_id=user_id, source="host", marked_by_id=host.id)
        )
    ]
    for user_id in marked:
        xapi_events.attended(session, db.session.get(User, user_id))
    unmarked = sorted((recorded & members) - wanted)
    if unmarked:
        db.session.execute(
            delete(Attendance).where(
                Attendance.session_id == session.id, Attendance.user_id.in_(unmarked)
            )
        )
    db.session.flush()
    return marked, unmarked


# Spreadsheet exports.
def attendance_rows(session: LiveSession):
    """Who attended, by name: (name, e-mail, country code, organisation, room role or None for a
    former member, source, UTC time), fetched in batches."""
    return db.session.execute(
        select(
            User.name,
            User.email,
            User.country,
            User.organisation,
            Membership.role,
            Attendance.source,
            Attendance.at,
        )
        .join(User, User.id == Attendance.user_id)
        .outerjoin(
            Membership,
            and_(Membership.room_id == session.room_id, Membership.user_id == Attendance.user_id),
        )
        .where(Attendance.session_id == session.id)
        .order_by(User.name, User.id)
        .execution_options(yield_per=500)
    )


def _file_name(session: LiveSession) -> str:
    """``attendance-2026-03-14-sahel-prosecutors-meeting.csv``: ASCII letters, digits, hyphens."""
    words = re.sub(r"[^A-Za-z0-9]+", "-", session.title).strip("-").lower()[:60].strip("-")
    return f"attendance-{session.starts_at:%Y-%m-%d}{'-' + words if words else ''}.csv"


# Views.
def _session_in(place: Place, session_id: int) -> LiveSession:
    """Session ``session_id`` of the place's room; a session of another room is 404."""
    session = db.session.get(LiveSession, session_id)
    if session is None or session.room_id != place.room.id:
        abort(404)
    return session


@bp.get("/<int:room_id>/sessions")
@login_required
def sessions(room_id):
    """The room's sessions: those to come, soonest first, then past ones, latest first."""
    place = place_in(room_id)
    now = utcnow()
    coming = db.session.scalars(
        select(LiveSession)
        .where(LiveSession.room_id == room_id, _coming(now))
        .order_by(LiveSession.starts_at, LiveSession.id)
    ).all()
    past = db.paginate(
        select(LiveSession)
        .where(LiveSession.room_id == room_id, ~_coming(now))
        .order_by(LiveSession.starts_at.desc(), LiveSession.id.desc()),
        per_page=PAGE_SIZE,
        max_per_page=PAGE_SIZE,
    )
    counts = attendance_counts([s.id for s in [*coming, *past.items]]) if place.manages else {}
    return render_template(
        "irooms/sessions/sessions.html",
        place=place,
        coming=coming,
        past=past,
        counts=counts,
        now=now,
    )


@bp.route("/<int:room_id>/sessions/new", methods=["GET", "POST"])
@login_required
def new_session(room_id):
    """Schedule a session (hosts and administrators)."""
    place = managed_place(room_id)
    return _save(place, LiveSession(room_id=place.room.id, created_by_id=current_user.id))


@bp.route("/<int:room_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(room_id, session_id):
    """Change a session's details (hosts and administrators)."""
    place = managed_place(room_id)
    return _save(place, _session_in(place, session_id))


def _save(place: Place, session: LiveSession):
    form = SessionForm(obj=session if session.id else None)
    form.webinar_id.choices = recordings_offered(current_user, session.webinar_id)
    if form.validate_on_submit():
        is_new = session.id is None
        moved = not is_new and (session.starts_at, session.ends_at) != (
            form.starts_at.data,
            form.ends_at.data,
        )
        if moved:
            session.sequence += 1  # calendars replace the event they hold
        session.title = form.title.data.strip()
        session.agenda = (form.agenda.data or "").strip()
        session.starts_at = form.starts_at.data
        session.ends_at = form.ends_at.data
        session.conference_url = form.conference_url.data
        session.webinar_id = form.webinar_id.data
        db.session.add(session)
        db.session.flush()
        record(
            "live_session_scheduled" if is_new else "live_session_edited",
            actor=current_user,
            room_id=place.room.id,
            session_id=session.id,
        )
        if is_new:
            notices.session_scheduled(session, current_user)
        elif moved:
            notices.session_moved(session, current_user)
        db.session.commit()
        flash(_("The session is scheduled.") if is_new else _("The session is saved."), "success")
        return redirect(url_for("irooms.session", room_id=place.room.id, session_id=session.id))
    return render_template(
        "irooms/sessions/session_form.html",
        place=place,
        form=form,
        session=session if session.id else None,
    )


@bp.get("/<int:room_id>/sessions/<int:session_id>")
@login_required
def session(room_id, session_id):
    """A session's details; for hosts, the members with who attended."""
    place = place_in(room_id)
    found = _session_in(place, session_id)
    members, marked = [], {}
    if place.manages:
        members = db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .options(contains_eager(Membership.user))
            .where(Membership.room_id == room_id)
            .order_by(User.name, User.id)
        ).all()
        marked = {
            attendance.user_id: attendance
            for attendance in db.session.scalars(
                select(Attendance).where(Attendance.session_id == found.id)
            )
        }
    return render_template(
        "irooms/sessions/session.html",
        place=place,
        session=found,
        members=members,
        marked=marked,
        former=len(set(marked) - {m.user_id for m in members}),
        sources=SOURCE_LABELS,
        now=utcnow(),
    )


@bp.post("/<int:room_id>/sessions/<int:session_id>/attendance")
@login_required
def session_attendance(room_id, session_id):
    """Save who attended, as ticked by a host; posting the same list again changes nothing."""
    place = managed_place(room_id)
    found = _session_in(place, session_id)
    marked, unmarked = set_attendance(
        found, request.form.getlist("present", type=numbers.parse), current_user
    )
    if marked or unmarked:
        record(
            "live_session_attendance_changed",
            actor=current_user,
            room_id=place.room.id,
            session_id=found.id,
            marked=marked,
            unmarked=unmarked,
        )
    db.session.commit()
    flash(_("The attendance is saved."), "success")
    return redirect(url_for("irooms.session", room_id=place.room.id, session_id=found.id))


@bp.post("/<int:room_id>/sessions/<int:session_id>/delete")
@login_required
def delete_session(room_id, session_id):
    """Delete a session with its attendance (hosts and administrators)."""
    place = managed_place(room_id)
    found = _session_in(place, session_id)
    record(
        "live_session_deleted",
        actor=current_user,
        room_id=place.room.id,
        session_id=found.id,
        title=found.title,
    )
    notices.session_cancelled(found, current_user)
    db.session.delete(found)
    db.session.commit()
    flash(_("The session is deleted."), "info")
    return redirect(url_for("irooms.sessions", room_id=place.room.id))


@bp.get("/<int:room_id>/sessions/<int:session_id>/attendance.csv")
@login_required
def attendance_csv(room_id, session_id):
    """Who attended, as a CSV file streamed row by row (hosts and administrators)."""
    place = managed_place(room_id, writing=False)
    found = _session_in(place, session_id)
    record("attendance_exported", actor=current_user, room_id=place.room.id, session_id=found.id)
    db.session.commit()
    header = [
        _("Name"),
        _("E-mail"),
        _("Country"),
        _("Organisation"),
        _("Room role"),
        _("Source"),
        _("Marked at (UTC)"),
    ]

    def rows():
        # Read as the file is sent, after the hooks that end the request's own transaction:
        # on PostgreSQL the rows come from a server-side cursor that a commit would close.
        for name, email, country, organisation, role, source, at in attendance_rows(found):
            yield (
                name,
                email,
                country_name(country),
                organisation,
                ROLE_LABELS[role] if role else _("No longer a member"),
                SOURCE_LABELS.get(source, source),
                at.isoformat(timespec="seconds") + "Z",
            )

    return download(csv_lines(header, rows()), "csv", _file_name(found), private=True)
