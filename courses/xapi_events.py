"""The xAPI statements of modules, lessons, tests and webinar recordings.

Each event of ``courses.services`` and ``courses.webinars`` that a Learning Record Store should
hear of calls one function here, which builds the statement the same way every time (the
activities are the platform's pages) and hands it to ``learnplatform.xapi``. Nothing here runs
when no LRS is configured beyond a look at the setting.
"""

from learnplatform import xapi
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.xapi import vocabulary

# Activities: what the statements are about, named by the pages people see them on.


def module_activity(module) -> dict:
    """A module, by its page."""
    return xapi.activity(
        "module", "courses.module", module_id=module.id, name=module.title, language=module.language
    )


def lesson_activity(lesson) -> dict:
    """A lesson, by its page."""
    return xapi.activity(
        "lesson",
        "courses.lesson",
        module_id=lesson.module_id,
        lesson_id=lesson.id,
        name=lesson.title,
        language=lesson.module.language,
    )


def quiz_activity(quiz) -> dict:
    """A module's pre- or post-test, by its page."""
    return xapi.activity(
        "assessment",
        "courses.quiz",
        module_id=quiz.module_id,
        kind=quiz.kind,
        name=quiz.title,
        language=quiz.module.language,
    )


def recording_activity(webinar) -> dict:
    """A webinar's recording, by the webinar's page (where its player is)."""
    return xapi.activity(
        "video",
        "courses.webinar",
        webinar_id=webinar.id,
        name=webinar.title,
        language=webinar.language,
    )


def lesson_context(lesson, *, extensions: dict | None = None) -> dict:
    """The context of a statement about a lesson (or something in it): its module is the
    parent; ``extensions`` as ``xapi.record`` takes them."""
    context: dict = {"contextActivities": {"parent": [module_activity(lesson.module)]}}
    if extensions:
        context["extensions"] = extensions
    return context


# Events.


def registered(enrolment) -> None:
    """An enrolment became active (open module, request accepted, trainer's invitation)."""
    if not xapi.enabled():
        return
    xapi.record(
        enrolment.user,
        "registered",
        module_activity(enrolment.module),
        timestamp=enrolment.enrolled_at,
    )


def lesson_done(enrolment, lesson) -> None:
    """A lesson done for the first time: the lesson completed, and the module progressed."""
    if not xapi.enabled():
        return
    xapi.record(
        enrolment.user,
        "completed",
        lesson_activity(lesson),
        result=xapi.result(completion=True),
        context=lesson_context(lesson),
    )
    xapi.record(
        enrolment.user,
        "progressed",
        module_activity(enrolment.module),
        result=xapi.result(
            completion=enrolment.progress_percent >= 100,
            extensions={"progress": enrolment.progress_percent},
        ),
    )


def module_completed(enrolment) -> None:
    """The module's completion rules are met (with the post-test's score, if it has one)."""
    if not xapi.enabled():
        return
    percent = enrolment.completion_percent
    xapi.record(
        enrolment.user,
        "completed",
        module_activity(enrolment.module),
        result=xapi.result(
            completion=True,
            **({"raw": percent, "minimum": 0, "maximum": 100} if percent is not None else {}),
        ),
        timestamp=enrolment.completed_at,
    )


def quiz_graded(attempt) -> None:
    """A pre- or post-test graded: passed or failed, with the score."""
    if not xapi.enabled():
        return
    quiz = attempt.quiz
    started = attempt.started_at
    xapi.record(
        db.session.get(User, attempt.user_id),
        "passed" if attempt.passed else "failed",
        quiz_activity(quiz),
        result=xapi.result(
            raw=attempt.points,
            minimum=0,
            maximum=attempt.max_points,
            success=bool(attempt.passed),
            completion=True,
            duration=(attempt.submitted_at - started) if started else None,
        ),
        context={"contextActivities": {"parent": [module_activity(quiz.module)]}},
        timestamp=attempt.submitted_at,
    )


def recording_downloaded_later(webinar, user, kind: str):
    """For a download of the recording or the slides: the statement, made now, to write
    once the last byte is sent (``xapi.record_later``)."""
    if not xapi.enabled():
        return lambda: None
    activity = recording_activity(webinar)
    if kind != "download":  # the slides: a file of the webinar
        activity = xapi.activity(
            "file",
            "courses.slides",
            webinar_id=webinar.id,
            name=webinar.title,
            language=webinar.language,
        )
    return xapi.record_later(user, "downloaded", activity)


#: what the recording's player reports, and the extensions each carries
VIDEO_VERBS = {"played", "paused", "seeked", "completed"}


def video_event(webinar, user, verb: str, *, time: float, time_from=None, length=None) -> None:
    """The recording's player says ``verb`` at ``time`` seconds (``time_from`` for a seek);
    ``length`` is the recording's duration, when the player knows it."""
    if not xapi.enabled():
        return
    extensions = {"video_time_to" if verb == "seeked" else "video_time": round(time, 3)}
    if verb == "seeked" and time_from is not None:
        extensions["video_time_from"] = round(time_from, 3)
    context_extensions = {}
    if length:
        context_extensions[vocabulary.extension("video_length")] = round(length, 3)
        if verb == "completed":
            extensions["video_progress"] = 1
    xapi.record(
        user,
        verb,
        recording_activity(webinar),
        result=xapi.result(completion=True if verb == "completed" else None, extensions=extensions),
        context={"extensions": context_extensions} if context_extensions else None,
    )
