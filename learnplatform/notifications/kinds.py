"""The kinds of notification: what each says, to whom it matters, and how it is e-mailed unless
the person chose otherwise.

A kind's sentence names things with ``%(...)s`` placeholders filled from the notification's
``params``. Some params are shown transformed: ``role`` as the room role in words, and those
ending in ``_at`` (UTC, ISO 8601) as a date and time in the reader's time zone.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from learnplatform.templating import format_moment


@dataclass(frozen=True)
class Kind:
    #: what the preferences page calls it
    label: LazyString
    #: the group it is listed under on the preferences page
    group: LazyString
    #: what the notification says, with ``%(param)s`` placeholders
    sentence: LazyString
    #: e-mail unless the person chose otherwise: ``now``, ``digest`` or ``off``
    default: str = "now"


ROOMS = _l("iRooms")
FORUMS = _l("Forums")
MODULES = _l("E-learning modules")
REPORTS = _l("Statistics")

KINDS: dict[str, Kind] = {
    "room_member_added": Kind(
        _l("Added to a room"), ROOMS, _l("%(actor)s added you to %(room)s as %(role)s.")
    ),
    "session_scheduled": Kind(
        _l("Session scheduled"),
        ROOMS,
        _l("New session in %(room)s: %(session)s, %(starts_at)s."),
    ),
    "session_moved": Kind(
        _l("Session moved"),
        ROOMS,
        _l("%(session)s (%(room)s) has moved to %(starts_at)s."),
    ),
    "session_cancelled": Kind(
        _l("Session cancelled"),
        ROOMS,
        _l("%(session)s (%(room)s) on %(starts_at)s is cancelled."),
    ),
    "session_reminder": Kind(
        _l("Session reminders (24 hours and 1 hour before)"),
        ROOMS,
        _l("Reminder: %(session)s (%(room)s) starts %(starts_at)s."),
    ),
    "resource_added": Kind(
        _l("New in a room's library"),
        ROOMS,
        _l("New in the library of %(room)s: %(title)s."),
        default="digest",
    ),
    "mention": Kind(
        _l("Mentioned by name"),
        ROOMS,
        _l("%(actor)s mentioned you in %(room)s: “%(excerpt)s”"),
    ),
    "forum_topic": Kind(
        _l("New topics in forums I follow"),
        FORUMS,
        _l("%(actor)s started “%(topic)s” in %(place)s."),
        default="digest",
    ),
    "forum_reply": Kind(
        _l("Replies in topics I follow"),
        FORUMS,
        _l("%(actor)s replied to “%(topic)s” in %(place)s: “%(excerpt)s”"),
    ),
    "forum_answer": Kind(
        _l("A question I follow is answered"),
        FORUMS,
        _l("%(actor)s marked the answer to “%(topic)s” in %(place)s."),
    ),
    "forum_report": Kind(
        _l("Posts reported in forums I moderate"),
        FORUMS,
        _l("%(actor)s reported a post in “%(topic)s” (%(place)s)."),
    ),
    "enrolment_requested": Kind(
        _l("Requests to enrol in my modules"),
        MODULES,
        _l("%(actor)s asks to enrol in %(module)s."),
    ),
    "enrolment_accepted": Kind(
        _l("My enrolment request accepted"),
        MODULES,
        _l("Your request to enrol in %(module)s is accepted."),
    ),
    "enrolment_refused": Kind(
        _l("My enrolment request refused"),
        MODULES,
        _l("Your request to enrol in %(module)s was refused."),
    ),
    "enrolled_by_trainer": Kind(
        _l("Enrolled by a trainer"),
        MODULES,
        _l("%(actor)s enrolled you in %(module)s."),
    ),
    "certificate_issued": Kind(
        _l("Certificate issued"),
        MODULES,
        _l("You completed %(module)s: your certificate is ready."),
    ),
    "certificate_revoked": Kind(
        _l("Certificate revoked"),
        MODULES,
        _l("Your certificate for %(module)s has been revoked."),
    ),
    "module_updated": Kind(
        _l("A module I take is updated"),
        MODULES,
        _l("%(module)s has been updated: see the lesson “%(lesson)s”."),
        default="digest",
    ),
    "survey_session": Kind(
        _l("Surveys after live sessions I attended"),
        ROOMS,
        _l("How was %(session)s (%(room)s)? Answer the survey “%(survey)s”."),
    ),
    "survey_follow_up": Kind(
        _l("Follow-up surveys of modules I completed"),
        MODULES,
        _l("You completed %(module)s a few months ago: answer the follow-up survey “%(survey)s”."),
    ),
    "survey_reminder": Kind(
        _l("Reminders of follow-up surveys"),
        MODULES,
        _l("Reminder: the follow-up survey “%(survey)s” about %(module)s waits for your answer."),
    ),
    "export_ready": Kind(
        _l("An export I asked for is ready"),
        REPORTS,
        _l("Your export %(name)s is ready to download."),
    ),
}


def sentence(kind: str, params: dict) -> str:
    """What a notification says, in the current language and time zone."""
    from irooms.labels import ROLE_LABELS

    shown = {}
    for name, value in params.items():
        if name == "role":
            value = str(ROLE_LABELS.get(value, value)).lower()
        elif name.endswith("_at") and value:
            value = format_moment(datetime.fromisoformat(value))
        shown[name] = value
    try:
        return str(KINDS[kind].sentence) % shown
    except (KeyError, TypeError, ValueError):  # a kind since removed, or params it lacks
        return str(KINDS[kind].label) if kind in KINDS else kind
