"""A SCORM lesson as the learner meets it: the player in the lesson page, the commits its
runtime sends, and new attempts."""

import json
from collections.abc import Iterable

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import ValidationError, validate_csrf

from courses import access, bp, services
from courses.scorm import cmi, content, statements, tracking
from courses.scorm.models import ScormPackage, ScormSco, ScormTrack
from learnplatform.extensions import csrf, db
from learnplatform.security import frame_policy


def learner_name(user) -> str:
    return user.name or ""


def learner_id(user) -> str:
    """What the package is told the learner's id is: an opaque one, never the e-mail."""
    return getattr(user, "xapi_id", None) or str(user.id)


def _chosen_sco(package: ScormPackage, tracks: dict[int, ScormTrack]) -> ScormSco | None:
    """The SCO asked for (``?sco=``), else the first not done, else the first."""
    asked = request.args.get("sco", "")
    for sco in package.scos:
        if asked and sco.identifier == asked:
            return sco
    for sco in package.scos:
        track = tracks.get(sco.id)
        if track is None or track.done_at is None:
            return sco
    return package.scos[0] if package.scos else None


def player(module, lesson, enrolment) -> dict:
    """What the lesson page needs to play the lesson's package for the current user.

    An author previewing (no enrolment) gets the package with nothing recorded. After the SCO
    terminated (``?finished=1``) the page shows where the learner stands instead of launching.
    """
    package = lesson.package
    state: dict = {"package": package, "attempts": [], "tracks": {}, "config": None}
    if package is None:
        return state
    origin = content.content_origin()
    state["no_origin"] = origin is None
    attempt = None
    if enrolment is not None:
        attempt = tracking.current_attempt(package, current_user)
        state["attempts"] = tracking.attempts_of(package, current_user)
        state["tracks"] = tracking.tracks_of(attempt)
        state["may_start_another"] = tracking.may_start_another(package, state["attempts"])
    state["attempt"] = attempt
    sco = _chosen_sco(package, state["tracks"])
    state["sco"] = sco
    if sco is None or origin is None or request.args.get("finished"):
        # The summary after the SCO ends leads to the certificate when it completed the module.
        state["certificate"] = services.certificate_of(enrolment)
        db.session.commit()
        return state
    if attempt is not None:
        track = tracking.track_of(attempt, sco)
        session = tracking.launch(track, current_user)
        state["tracks"] = tracking.tracks_of(attempt)
        commit_url = url_for("courses.scorm_commit", track_id=track.id)
        initialized_url = url_for("courses.scorm_initialized", track_id=track.id)
    else:
        track, session, commit_url, initialized_url = ScormTrack(), 0, None, None
        track.earlier_seconds = track.session_seconds = 0
    db.session.commit()
    state["config"] = {
        "version": package.version,
        "session": session,
        "commitUrl": commit_url,
        "initializedUrl": initialized_url,
        "cmi": cmi.launch_data(
            package.version,
            track=track,
            sco=sco,
            learner_id=learner_id(current_user),
            learner_name=learner_name(current_user),
        ),
        "contentOrigin": origin.rstrip("/"),
        "frameUrl": content.frame_url(package, current_user, sco.href),
        "finishedUrl": url_for(
            "courses.lesson",
            module_id=module.id,
            lesson_id=lesson.id,
            sco=sco.identifier,
            finished=1,
        ),
    }
    return state


def page_policy(frames: Iterable[str] = ()) -> str:
    """The lesson page's policy: the platform's, with the content origin (and ``frames``, the
    origins of the lesson's embeds) allowed in frames."""
    return frame_policy([content.content_origin() or "", *frames])


def _own_track(track_id: int) -> ScormTrack:
    """One of the current user's tracks, while they may still learn in its module; else 404."""
    track = db.session.get(ScormTrack, track_id)
    if track is None or track.attempt.user_id != current_user.id:
        abort(404)
    module = track.sco.package.lesson.module
    if access.learning_access(module) is None:
        abort(404)
    return track


def _whole_number(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        return None
    return value


def _json_body() -> dict | None:
    """The request's JSON object, whatever its declared type: scorm-again sends the last
    commit of a session with ``navigator.sendBeacon``, as text."""
    try:
        body = json.loads(request.get_data(cache=True, as_text=True) or "null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _checked_csrf(body: dict) -> bool:
    """The CSRF token, from the header or, for a beacon (which cannot set headers), the body."""
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or body.get("csrf_token"))
    except ValidationError:
        return False
    return True


@bp.post("/scorm/tracks/<int:track_id>/commit")
@csrf.exempt  # checked below, where the token may be in the body
@login_required
def scorm_commit(track_id):
    """What the runtime commits (JSON with the CSRF token): kept when it comes after the
    commit kept, ignored when it is a repeat or late. Answers as scorm-again expects."""
    track = _own_track(track_id)
    body = _json_body()
    if body is None or not _checked_csrf(body):
        return {"result": "false", "errorCode": 101}, 400
    session, sequence = _whole_number(body.get("session")), _whole_number(body.get("sequence"))
    if session is None or sequence is None or not isinstance(body.get("cmi"), dict):
        return {"result": "false", "errorCode": 101}, 400
    snapshot = cmi.read_commit(track.sco.package.version, {"cmi": body["cmi"]})
    kept = tracking.store_commit(
        track,
        current_user,
        session=session,
        sequence=sequence,
        snapshot=snapshot,
        terminate=body.get("terminate") is True,
    )
    db.session.commit()
    return {"result": "true", "errorCode": 0, "kept": kept}


@bp.post("/scorm/tracks/<int:track_id>/initialized")
@login_required
def scorm_initialized(track_id):
    """The SCO called Initialize: recorded for the learning record."""
    track = _own_track(track_id)
    body = request.get_json(silent=True) or {}
    session = _whole_number(body.get("session")) if isinstance(body, dict) else None
    if session is None or session > track.launches:
        return {"result": "false"}, 400
    statements.initialized(track, current_user, session)
    db.session.commit()
    return {"result": "true"}


@bp.post("/modules/<int:module_id>/lessons/<int:lesson_id>/attempts")
@login_required
def scorm_new_attempt(module_id, lesson_id):
    """Start a new attempt at the lesson's package, where the trainer allows another."""
    module = access.visible_module(module_id)
    enrolment = access.learning_access(module)
    lesson = access.lesson_in(module, lesson_id)
    if lesson.package is None or enrolment is None:
        abort(404)
    if tracking.start_new_attempt(lesson.package, current_user) is None:
        flash(_("You cannot start another attempt at this lesson."), "warning")
    else:
        flash(_("A new attempt has started."), "success")
    db.session.commit()
    return redirect(url_for("courses.lesson", module_id=module.id, lesson_id=lesson.id))
