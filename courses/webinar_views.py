"""Webinar series and their recordings: the pages practitioners watch, those trainers manage, and
the files, served only after the access check of ``courses.webinars``."""

import math
from datetime import datetime, time, timedelta

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from courses import bp, versions, xapi_events
from courses import webinars as service
from courses.forms import CaptionForm, RecordingForm, SeriesForm, SlidesForm, WebinarForm
from courses.models import Caption, Webinar, WebinarSeries
from learnplatform import numbers
from learnplatform.access import trainer_required
from learnplatform.audit import record, utcnow
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.extensions import db, limiter
from learnplatform.security import upload_quota
from learnplatform.storage import StorageRefused, send_stored

PAGE_SIZE = 12
#: the longest recording position a player may report (a week, in seconds)
MAX_SECONDS = 7 * 24 * 3600


@bp.get("/webinars")
def webinars():
    """Webinar series the user may see (a visitor: the public ones), with their webinars, newest
    series first."""
    page = db.paginate(
        select(WebinarSeries)
        .where(service.visible_to(current_user))
        .options(selectinload(WebinarSeries.webinars), selectinload(WebinarSeries.rooms))
        .order_by(WebinarSeries.created_at.desc(), WebinarSeries.id.desc()),
        per_page=PAGE_SIZE,
        max_per_page=50,
    )
    return render_template(
        "courses/webinars.html",
        page=page,
        versions=versions.languages_of_families(
            WebinarSeries, page.items, service.visible_to(current_user)
        ),
        themes=THEMES,
        languages=LANGUAGES,
        can_manage=service.can_manage,
    )


@bp.get("/webinars/series/<int:series_id>")
def series(series_id):
    """A series with its webinars, past and upcoming."""
    found = service.visible_series(series_id)
    return render_template(
        "courses/webinars/series.html",
        series=found,
        versions=versions.versions_of(found, service.visible_to(current_user)),
        themes=THEMES,
        languages=LANGUAGES,
        manages=current_user.is_authenticated and service.can_manage(current_user, found),
    )


@bp.route("/webinars/series/new", methods=["GET", "POST"])
@trainer_required
def new_series():
    form = SeriesForm()
    return _save_series(form, WebinarSeries(created_by_id=current_user.id))


@bp.route("/webinars/series/<int:series_id>/edit", methods=["GET", "POST"])
@trainer_required
def edit_series(series_id):
    found = service.managed_series(series_id)
    form = SeriesForm(obj=found)
    if request.method == "GET":
        form.rooms.data = [room.id for room in found.rooms]
    return _save_series(form, found)


def _save_series(form: SeriesForm, found: WebinarSeries):
    rooms = service.rooms_for(current_user)
    # Rooms already tied to the series stay offered, even to a trainer no longer hosting them.
    rooms += [room for room in found.rooms if room not in rooms]
    form.rooms.choices = [(room.id, room.name) for room in rooms]
    managed = db.session.scalars(
        select(WebinarSeries).where(service.managed_by(current_user)).order_by(WebinarSeries.title)
    )
    candidates = {str(candidate.id): candidate for candidate in managed}
    versions.offer_versions(form, found, candidates)
    if form.validate_on_submit():
        found.title = form.title.data.strip()
        found.description = (form.description.data or "").strip()
        found.theme = form.theme.data
        found.language = form.language.data
        found.is_public = form.is_public.data
        chosen = set(form.rooms.data or [])
        found.rooms = [room for room in rooms if room.id in chosen]
        db.session.add(found)
        if versions.save_version_of(form, found, candidates):
            record("webinar_series_saved", actor=current_user, series_id=found.id)
            db.session.commit()
            flash(_("The series is saved."), "success")
            return redirect(url_for("courses.series", series_id=found.id))
    return render_template("courses/webinars/series_form.html", form=form, series=found)


@bp.route("/webinars/series/<int:series_id>/webinars/new", methods=["GET", "POST"])
@trainer_required
def new_webinar(series_id):
    found = service.managed_series(series_id)
    form = WebinarForm(language=found.language)
    webinar = Webinar(series=found) if form.is_submitted() else None
    return _save_webinar(form, webinar, found)


@bp.route("/webinars/<int:webinar_id>/edit", methods=["GET", "POST"])
@trainer_required
def edit_webinar(webinar_id):
    webinar = service.managed_webinar(webinar_id)
    return _save_webinar(WebinarForm(obj=webinar), webinar, webinar.series)


def _save_webinar(form: WebinarForm, webinar: Webinar | None, found: WebinarSeries):
    if form.validate_on_submit():
        is_new = webinar.id is None
        form.populate_obj(webinar)
        webinar.title = webinar.title.strip()
        webinar.speakers = (webinar.speakers or "").strip()
        webinar.description = (webinar.description or "").strip()
        db.session.add(webinar)
        db.session.commit()
        if is_new:
            flash(
                _("The webinar is added. Upload its recording once it has taken place."), "success"
            )
        else:
            flash(_("The webinar is saved."), "success")
        return redirect(url_for("courses.edit_webinar", webinar_id=webinar.id))
    return render_template(
        "courses/webinars/webinar_form.html",
        form=form,
        webinar=webinar if webinar is not None and webinar.id else None,
        series=found,
        recording_form=RecordingForm(),
        slides_form=SlidesForm(),
        caption_form=CaptionForm(language=found.language),
        languages=LANGUAGES,
    )


@bp.get("/webinars/<int:webinar_id>")
@login_required
def webinar(webinar_id):
    """The webinar: its recording in the browser's player, with captions, and its downloads."""
    found = service.visible_webinar(webinar_id)
    manages = service.can_manage(current_user, found.series)
    figures = service.counts([found.series_id], None, None).get(found.id) if manages else None
    return render_template(
        "courses/webinars/webinar.html",
        webinar=found,
        languages=LANGUAGES,
        manages=manages,
        figures=figures or dict.fromkeys(service.EVENT_KINDS, 0),
        now=utcnow(),
    )


# Files: uploads by the series' trainers.
@bp.post("/webinars/<int:webinar_id>/recording/upload")
@upload_quota
@trainer_required
def upload_recording(webinar_id):
    """Upload or replace the recording; refused with a message, leaving nothing, if wrong."""
    return _upload(webinar_id, RecordingForm(), service.attach_recording)


@bp.post("/webinars/<int:webinar_id>/slides/upload")
@upload_quota
@trainer_required
def upload_slides(webinar_id):
    return _upload(webinar_id, SlidesForm(), service.attach_slides)


@bp.post("/webinars/<int:webinar_id>/captions/upload")
@upload_quota
@trainer_required
def upload_captions(webinar_id):
    form = CaptionForm()
    return _upload(
        webinar_id,
        form,
        lambda webinar, upload, user: (
            service.set_captions(webinar, form.language.data, upload, user).stored_file
        ),
    )


def _upload(webinar_id, form, attach):
    """Keep the form's file with ``attach``, then go back to the webinar's page of files.

    The upload script asks for JSON and follows the address itself, so that the message kept
    for the next page is still there when it arrives.
    """
    webinar = service.managed_webinar(webinar_id)
    back = url_for("courses.edit_webinar", webinar_id=webinar.id)
    go_back = (
        jsonify(redirect=back)
        if request.accept_mimetypes.best == "application/json"
        else redirect(back)
    )
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return go_back
    try:
        stored = attach(webinar, form.file.data, current_user)
    except StorageRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "danger")
        return go_back
    what = request.endpoint.rsplit("_", 1)[-1]
    record("webinar_file_uploaded", actor=current_user, webinar_id=webinar.id, what=what)
    db.session.commit()
    flash(_("%(name)s is uploaded.", name=stored.original_name), "success")
    return go_back


@bp.post("/webinars/<int:webinar_id>/<any(recording, slides):what>/remove")
@trainer_required
def remove_file(webinar_id, what):
    webinar = service.managed_webinar(webinar_id)
    service.remove_file(webinar, what)
    record("webinar_file_removed", actor=current_user, webinar_id=webinar.id, what=what)
    db.session.commit()
    flash(_("The file is removed; its views and downloads stay counted."), "info")
    return redirect(url_for("courses.edit_webinar", webinar_id=webinar.id))


@bp.post("/webinars/<int:webinar_id>/captions/<int:caption_id>/remove")
@trainer_required
def remove_captions(webinar_id, caption_id):
    webinar = service.managed_webinar(webinar_id)
    caption = db.session.get(Caption, caption_id)
    if caption is None or caption.webinar_id != webinar.id:
        abort(404)
    service.remove_captions(caption)
    db.session.commit()
    flash(_("The captions are removed."), "info")
    return redirect(url_for("courses.edit_webinar", webinar_id=webinar.id))


# Files: served to those who may see the series.
@bp.get("/webinars/<int:webinar_id>/recording")
@login_required
def recording(webinar_id):
    """The recording inline, for the player: ranges let it seek. Not counted: plays are."""
    found = service.visible_webinar(webinar_id, having="recording")
    return send_stored(found.recording, as_attachment=False)


@bp.get("/webinars/<int:webinar_id>/recording/download")
@login_required
def download_recording(webinar_id):
    """The recording as a download, counted once the last byte has been sent."""
    found = service.visible_webinar(webinar_id, having="recording")
    return send_stored(
        found.recording,
        on_complete=service.download_recorder(found, service.DOWNLOAD, current_user),
    )


@bp.get("/webinars/<int:webinar_id>/slides")
@login_required
def slides(webinar_id):
    found = service.visible_webinar(webinar_id, having="slides")
    return send_stored(
        found.slides, on_complete=service.download_recorder(found, service.SLIDES, current_user)
    )


@bp.get("/webinars/<int:webinar_id>/captions/<language>.vtt")
@login_required
def captions(webinar_id, language):
    return send_captions(service.visible_webinar(webinar_id).captions, language)


def send_captions(captions: list, language: str):
    """The WebVTT file of the captions in ``language`` among ``captions`` (of a recording or a
    lesson video), shown in the player; 404 when there are none in that language."""
    caption = service.captions_in(captions, language)
    if caption is None:
        abort(404)
    return send_stored(caption.stored_file, as_attachment=False)


@bp.post("/webinars/<int:webinar_id>/played")
@login_required
def played(webinar_id):
    """The player started: one view per person and recording within the view window."""
    found = service.visible_webinar(webinar_id, having="recording")
    counted = service.count_view(found, current_user)
    db.session.commit()
    return jsonify(counted=counted)


def _viewer() -> str:
    return f"user-{current_user.get_id()}"


@bp.post("/webinars/<int:webinar_id>/player-events")
@login_required
@limiter.limit("60 per minute", key_func=_viewer, scope="player-events")
def player_event(webinar_id):
    """The recording's player says it played, paused, seeked or reached the end, at a time:
    an xAPI statement for the person's Learning Record Store (nothing without one)."""
    found = service.visible_webinar(webinar_id, having="recording")
    verb = request.form.get("verb")
    position = _seconds(request.form.get("time"))
    if verb not in xapi_events.VIDEO_VERBS or position is None:
        abort(400)
    xapi_events.video_event(
        found,
        current_user,
        verb,
        time=position,
        time_from=_seconds(request.form.get("from")),
        length=_seconds(request.form.get("length")),
    )
    db.session.commit()
    return "", 204


def _seconds(value: str | None) -> float | None:
    """A position in a recording, in seconds, as a player reports it; None if it is not one."""
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds <= MAX_SECONDS else None


# Figures for trainers and administrators.
@bp.get("/webinars/counts")
@trainer_required
def webinar_counts():
    """Views and downloads of the recordings of the series the user manages, by period."""
    managed = db.session.scalars(
        select(WebinarSeries)
        .where(service.managed_by(current_user))
        .options(selectinload(WebinarSeries.webinars))
        .order_by(WebinarSeries.title, WebinarSeries.id)
    ).all()
    chosen_id = request.args.get("series", type=numbers.parse)
    shown = [s for s in managed if chosen_id in (None, s.id)]
    start, end, errors = _period_from(request.args)
    ids = [s.id for s in shown]
    return render_template(
        "courses/webinars/counts.html",
        managed=managed,
        shown=shown,
        chosen_id=chosen_id,
        counts=service.counts(ids, start, end),
        months=service.counts_by_month(ids, start, end),
        start=start,
        end=end,
        errors=errors,
        kinds=service.EVENT_KINDS,
    )


def _period_from(args) -> tuple[datetime | None, datetime | None, list[str]]:
    """The ``from`` and ``to`` days of the query string, ``to`` included, as UTC bounds."""
    bounds: list[datetime | None] = []
    errors = []
    for name in ("from", "to"):
        text = args.get(name, "").strip()
        if not text:
            bounds.append(None)
            continue
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            errors.append(_("%(value)s is not a date like 2026-03-31.", value=text[:20]))
            bounds.append(None)
            continue
        bounds.append(datetime.combine(day + timedelta(days=name == "to"), time.min))
    start, end = bounds
    if start is not None and end is not None and end <= start:
        errors.append(_("The end of the period comes before its start."))
        start = end = None
    return start, end, errors
