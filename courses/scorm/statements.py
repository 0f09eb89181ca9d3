"""The xAPI statements a SCORM lesson makes: launched, initialized and terminated for each
session of a SCO, and passed, failed or completed when it is first done
(``learnplatform.xapi`` sends them to the LRS).

A SCO is an activity of its own: the lesson's address with ``?sco=`` its identifier, within
the lesson and the module. Every statement of one attempt carries the same registration, so
that an LRS can tell attempts apart.
"""

from uuid import NAMESPACE_URL, uuid5

from courses.scorm.cmi import Snapshot
from courses.scorm.models import ScormTrack
from courses.xapi_events import lesson_activity, module_activity
from learnplatform import xapi


def _sco_activity(track: ScormTrack) -> dict:
    sco = track.sco
    lesson = sco.package.lesson
    return xapi.activity(
        "sco",
        "courses.lesson",
        name=sco.title,
        language=lesson.module.language,
        module_id=lesson.module_id,
        lesson_id=lesson.id,
        sco=sco.identifier,
    )


def _context(track: ScormTrack) -> dict:
    """The lesson as parent, the module as grouping, and the attempt's registration."""
    lesson = track.sco.package.lesson
    registration = uuid5(NAMESPACE_URL, lesson_activity(lesson)["id"])
    return {
        "registration": str(uuid5(registration, f"attempt-{track.attempt_id}")),
        "contextActivities": {
            "parent": [lesson_activity(lesson)],
            "grouping": [module_activity(lesson.module)],
        },
        "extensions": {"attempt": track.attempt.number},
    }


def _session_context(track: ScormTrack, session: int) -> dict:
    context = _context(track)
    context["extensions"]["session"] = f"{context['registration']}-{session}"
    return context


def launched(track: ScormTrack, user, session: int) -> None:
    xapi.record(user, "launched", _sco_activity(track), context=_session_context(track, session))


def initialized(track: ScormTrack, user, session: int) -> None:
    xapi.record(user, "initialized", _sco_activity(track), context=_session_context(track, session))


def terminated(track: ScormTrack, user, session: int) -> None:
    xapi.record(
        user,
        "terminated",
        _sco_activity(track),
        result=xapi.result(duration=track.session_seconds),
        context=_session_context(track, session),
    )


def sco_done(track: ScormTrack, user, snapshot: Snapshot) -> None:
    """A SCO completed or passed, the first time: passed or failed when it judged, else
    completed; with its score and the time spent in it."""
    verb = {"passed": "passed", "failed": "failed"}.get(snapshot.success or "", "completed")
    percent = snapshot.score_percent
    scaled = snapshot.score_scaled
    if scaled is None and percent is not None:
        scaled = round(percent / 100, 4)
    xapi.record(
        user,
        verb,
        _sco_activity(track),
        result=xapi.result(
            raw=snapshot.score_raw,
            minimum=snapshot.score_min,
            maximum=snapshot.score_max,
            scaled=scaled,
            success=None if snapshot.success is None else snapshot.success == "passed",
            completion=True,
            duration=track.total_seconds,
        ),
        context=_context(track),
    )
