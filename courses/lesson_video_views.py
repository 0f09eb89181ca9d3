"""Videos in lessons: the trainer's uploads on the lesson's edit page, and the files and the view
count the lesson page's player asks for, served only after the access check of
``courses.lesson_videos``."""

from collections.abc import Callable
from typing import TypeVar

from flask import abort, flash, jsonify, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField

from courses import access, bp
from courses import lesson_videos as service
from courses.models import Lesson
from courses.webinar_views import send_captions
from courses.webinars import captions_in, remove_captions
from learnplatform import embeds
from learnplatform.access import trainer_required
from learnplatform.accounts.forms import options
from learnplatform.audit import record
from learnplatform.choices import LANGUAGES
from learnplatform.extensions import db
from learnplatform.security import upload_quota
from learnplatform.storage import StorageRefused, send_stored

T = TypeVar("T")


class VideoForm(FlaskForm):
    """A video for a lesson, with captions in one language if the trainer has them."""

    file = FileField(
        _l("Video (WebM or MP4)"),
        id="video-file",
        validators=[FileRequired(_l("Choose the video to upload."))],
        render_kw={"accept": "video/webm,video/mp4,.webm,.mp4"},
    )
    captions = FileField(
        _l("Captions (WebVTT), if you have them"),
        id="video-captions",
        render_kw={"accept": ".vtt,text/vtt"},
    )
    language = SelectField(
        _l("Captions language"), id="video-captions-language", choices=options(LANGUAGES)
    )
    submit = SubmitField(_l("Add the video"), id="video-submit")


class VideoCaptionForm(FlaskForm):
    """Captions of a lesson video in one more language."""

    language = SelectField(_l("Captions language"), choices=options(LANGUAGES))
    file = FileField(
        _l("Captions (WebVTT)"), validators=[FileRequired(_l("Choose a .vtt file to upload."))]
    )
    submit = SubmitField(_l("Add the captions"))


def lesson_form_extras(module, lesson: Lesson) -> dict:
    """What the lesson's edit page shows of its videos: the forms and each video's views."""
    return {
        "video_form": VideoForm(language=module.language),
        "video_caption_form": VideoCaptionForm(language=module.language),
        "video_figures": service.view_figures(lesson),
        "embed_hosts": embeds.allowed_hosts(),
        "languages": LANGUAGES,
    }


def _back(module_id: int, lesson_id: int):
    return redirect(
        url_for("courses.edit_lesson", module_id=module_id, lesson_id=lesson_id) + "#videos"
    )


def _flash_errors(form: FlaskForm) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "danger")


def _kept(keep: Callable[[], T]) -> T | None:
    """What ``keep`` stored from the uploads; None, with the refusal shown and nothing kept,
    when a file is refused."""
    try:
        return keep()
    except StorageRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "danger")
        return None


@bp.post("/manage/<int:module_id>/lessons/<int:lesson_id>/videos")
@upload_quota
@trainer_required
def add_lesson_video(module_id, lesson_id):
    """Upload a video for the lesson, with its captions; refused whole, with a message, if either
    file is wrong."""
    module = access.authored_module(module_id)
    lesson = access.lesson_in(module, lesson_id)
    form = VideoForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(module.id, lesson.id)
    upload, captions = form.file.data, form.captions.data

    def keep():
        video = service.add_video(lesson, upload.stream, upload.filename or "", user=current_user)
        if captions and captions.filename:
            service.set_captions(
                video, form.language.data, captions.stream, captions.filename, user=current_user
            )
        return video

    video = _kept(keep)
    if video is None:
        return _back(module.id, lesson.id)
    record("lesson_video.added", actor=current_user, lesson_id=lesson.id, video_id=video.id)
    db.session.commit()
    flash(
        _(
            "%(name)s is uploaded. Insert it in the text where it should play.",
            name=video.stored_file.original_name,
        ),
        "success",
    )
    return _back(module.id, lesson.id)


@bp.post("/manage/<int:module_id>/videos/<int:video_id>/captions")
@upload_quota
@trainer_required
def add_lesson_video_captions(module_id, video_id):
    """Add (or replace) the video's captions in one language."""
    module = access.authored_module(module_id)
    video = service.authored_video(module, video_id)
    form = VideoCaptionForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(module.id, video.lesson_id)
    upload = form.file.data
    kept = _kept(
        lambda: service.set_captions(
            video, form.language.data, upload.stream, upload.filename or "", user=current_user
        )
    )
    if kept is None:
        return _back(module.id, video.lesson_id)
    db.session.commit()
    flash(
        _("The captions in %(language)s are saved.", language=LANGUAGES[form.language.data]),
        "success",
    )
    return _back(module.id, video.lesson_id)


@bp.post("/manage/<int:module_id>/videos/<int:video_id>/captions/<language>/remove")
@trainer_required
def remove_lesson_video_captions(module_id, video_id, language):
    """Remove the video's captions in one language; those in the others stay."""
    module = access.authored_module(module_id)
    video = service.authored_video(module, video_id)
    caption = captions_in(video.captions, language)
    if caption is None:
        abort(404)
    record(
        "lesson_video.captions_removed",
        actor=current_user,
        lesson_id=video.lesson_id,
        video_id=video.id,
        language=language,
    )
    remove_captions(caption)
    db.session.commit()
    flash(_("The captions in %(language)s are removed.", language=LANGUAGES[language]), "info")
    return _back(module.id, video.lesson_id)


@bp.post("/manage/<int:module_id>/videos/<int:video_id>/remove")
@trainer_required
def remove_lesson_video(module_id, video_id):
    """Remove a video; where the lesson's text refers to it, nothing shows any more."""
    module = access.authored_module(module_id)
    video = service.authored_video(module, video_id)
    lesson_id = video.lesson_id
    record("lesson_video.removed", actor=current_user, lesson_id=lesson_id, video_id=video.id)
    service.remove_video(video)
    db.session.commit()
    flash(_("The video is removed."), "info")
    return _back(module.id, lesson_id)


# Served to those who may read the lesson.
@bp.get("/videos/<int:video_id>")
@login_required
def lesson_video(video_id):
    """The video inline, for the player: ranges let it seek. Not counted: plays are."""
    video = service.readable_video(video_id)
    return send_stored(video.stored_file, as_attachment=False)


@bp.get("/videos/<int:video_id>/captions/<language>.vtt")
@login_required
def lesson_video_captions(video_id, language):
    return send_captions(service.readable_video(video_id).captions, language)


@bp.post("/videos/<int:video_id>/played")
@login_required
def lesson_video_played(video_id):
    """The player started: one view per person and video within the view window."""
    video = service.readable_video(video_id)
    counted = service.count_view(video, current_user)
    db.session.commit()
    return jsonify(counted=counted)
