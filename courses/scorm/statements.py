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
    lesson = track.sco.package.lesson
    module = lesson.module
    registration = uuid5(
        NAMESPACE_URL, xapi.public_url("courses.lesson", module_id=module.id, lesson_id=lesson.id)
    )
    return {
        "registration": str(uuid5(registration, f"attempt-{track.attempt_id}")),
        "contextActivities": {
            "parent": [
                xapi.activity(
                    "lesson",
                    "courses.lesson",
                    name=lesson.title,
                    language=module.language,
                    module_id=module.id,
                    lesson_id=lesson.id,
                )
            ],
            "grouping": [
                xapi.activity(
                    "module",
                    "courses.module",
                    name=module.title,
                    language=module.language,
                    module_id=module.id,
                )
            ],
        },
    }


def launched(track: ScormTrack, user, session: int) -> None:
    xapi.record(user, "launched", _sco_activity(track), context=_context(track))


def initialized(track: ScormTrack, user, session: int) -> None:
    xapi.record(user, "initialized", _sco_activity(track), context=_context(track))


def terminated(track: ScormTrack, user, session: int) -> None:
    xapi.record(
        user,
        "terminated",
        _sco_activity(track),
        result=xapi.result(duration=track.session_seconds),
        context=_context(track),
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
