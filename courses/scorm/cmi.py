"""SCORM's run-time data model (CMI) in both versions: what a commit holds, read into the columns
of a track, and what a launch gives the runtime back.

The runtime in the browser (scorm-again) has already checked every value against the standard
when the SCO set it; here every value is still treated as untrusted input (types, lengths,
numbers that are numbers), since anyone can post a commit.
"""

import math
import re
from dataclasses import dataclass, field

#: how much of each text the standard allows (SCORM 2004's limits, the larger of the two)
LOCATION_LENGTH = 1000
SUSPEND_DATA_LENGTH = 64000
RESPONSE_LENGTH = 4000
#: interactions kept from one commit; a package recording more is unusual and is cut there
MAX_INTERACTIONS = 500

_SCORM12_TIME = re.compile(r"^(\d{1,4}):([0-5]?\d):([0-5]?\d(?:\.\d{1,2})?)$")
_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_DURATION_UNITS = {
    "years": 365 * 86400,
    "months": 30 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
}


def seconds_of(duration: object) -> float:
    """Seconds in a SCORM 1.2 time span (``HHHH:MM:SS.SS``) or a SCORM 2004 ISO 8601 duration
    (``PT1H2M3.5S``); 0 for anything else."""
    text = duration.strip() if isinstance(duration, str) else ""
    if found := _SCORM12_TIME.match(text):
        hours, minutes, seconds = found.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    found = _ISO_DURATION.match(text)
    if not found or text in {"P", "PT"}:
        return 0.0
    return sum(
        float(value) * _DURATION_UNITS[unit] for unit, value in found.groupdict().items() if value
    )


def scorm12_time(seconds: float) -> str:
    """``seconds`` as SCORM 1.2's ``HHHH:MM:SS.SS``."""
    hundredths = round(max(seconds, 0) * 100)
    whole, hundredths = divmod(hundredths, 100)
    hours, rest = divmod(whole, 3600)
    minutes, seconds_left = divmod(rest, 60)
    return f"{min(hours, 9999):02d}:{minutes:02d}:{seconds_left:02d}.{hundredths:02d}"


def iso_duration(seconds: float) -> str:
    """``seconds`` as an ISO 8601 duration, as SCORM 2004 and xAPI write them."""
    hundredths = round(max(seconds, 0) * 100)
    whole, hundredths = divmod(hundredths, 100)
    hours, rest = divmod(whole, 3600)
    minutes, seconds_left = divmod(rest, 60)
    fraction = f".{hundredths:02d}" if hundredths else ""
    return f"PT{hours}H{minutes}M{seconds_left}{fraction}S"


def _text(value: object, limit: int) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        value = str(value)
    return value[:limit] if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    """A finite number from a CMI value (a string such as ``"0.8"``), or None when empty."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _indexed(value: object) -> list[tuple[int, dict]]:
    """The members of a CMI collection (``{"0": {...}, "1": {...}}`` or a list), in order."""
    if isinstance(value, list):
        items = list(enumerate(value))
    else:
        items = [
            (int(key), item)
            for key, item in _mapping(value).items()
            if isinstance(key, str) and key.isdigit() and len(key) < 6
        ]
    return sorted((index, item) for index, item in items if isinstance(item, dict))


@dataclass(frozen=True)
class Interaction:
    position: int
    identifier: str
    kind: str
    description: str
    learner_response: str
    correct_responses: list[str]
    result: str
    weighting: float | None
    latency: str
    timestamp: str


@dataclass(frozen=True)
class Snapshot:
    """What one commit says about a SCO, in the columns of a track."""

    lesson_status: str | None = None
    completion_status: str | None = None
    success_status: str | None = None
    score_raw: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    score_scaled: float | None = None
    progress_measure: float | None = None
    location: str = ""
    suspend_data: str = ""
    exit: str = ""
    session_seconds: float = 0.0
    interactions: list[Interaction] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def is_done(self, scorm_type: str = "sco") -> bool:
        """Completed or passed: the SCO is done."""
        return (
            scorm_type == "asset"
            or self.lesson_status in {"completed", "passed"}
            or self.completion_status == "completed"
            or self.success_status == "passed"
        )

    @property
    def success(self) -> str | None:
        """``passed`` or ``failed`` when the SCO judged, else None."""
        judged = self.success_status if self.success_status in {"passed", "failed"} else None
        if judged is None and self.lesson_status in {"passed", "failed"}:
            judged = self.lesson_status
        return judged

    @property
    def score_percent(self) -> float | None:
        """The score out of 100: the scaled score, else raw within min and max (0-100 when the
        SCO gave no range), kept between 0 and 100."""
        if self.score_scaled is not None:
            percent = self.score_scaled * 100
        elif self.score_raw is None:
            return None
        else:
            low = self.score_min if self.score_min is not None else 0.0
            high = self.score_max if self.score_max is not None else 100.0
            percent = (self.score_raw - low) * 100 / (high - low) if high > low else self.score_raw
        return min(max(percent, 0.0), 100.0)


_STATUSES_12 = {"passed", "completed", "failed", "incomplete", "browsed", "not attempted"}
_COMPLETION = {"completed", "incomplete", "not attempted", "unknown"}
_SUCCESS = {"passed", "failed", "unknown"}
_EXITS = {"time-out", "suspend", "logout", "normal", ""}


def _choice(value: object, allowed: set[str]) -> str | None:
    return value if isinstance(value, str) and value in allowed else None


def _interactions(collection: object, response_key: str, time_key: str) -> list[Interaction]:
    found = []
    for position, item in _indexed(collection)[:MAX_INTERACTIONS]:
        patterns = [
            _text(pattern.get("pattern"), RESPONSE_LENGTH)
            for _, pattern in _indexed(item.get("correct_responses"))
        ]
        found.append(
            Interaction(
                position=position,
                identifier=_text(item.get("id"), RESPONSE_LENGTH),
                kind=_text(item.get("type"), 20),
                description=_text(item.get("description"), 250),
                learner_response=_text(item.get(response_key), RESPONSE_LENGTH),
                correct_responses=patterns,
                result=_text(item.get("result"), 40),
                weighting=_number(item.get("weighting")),
                latency=_text(item.get("latency"), 40),
                timestamp=_text(item.get(time_key), 40),
            )
        )
    return found


#: where each value of a snapshot sits in a commit of each version (dotted paths in ``cmi``);
#: a value a version does not have is absent, and read as empty
_PATHS = {
    "1.2": {
        "lesson_status": "core.lesson_status",
        "score": "core.score",
        "location": "core.lesson_location",
        "exit": "core.exit",
        "session_time": "core.session_time",
        "response": "student_response",
        "time": "time",
        "extra": ("comments", "objectives", "student_preference"),
    },
    "2004": {
        "completion_status": "completion_status",
        "success_status": "success_status",
        "score": "score",
        "progress_measure": "progress_measure",
        "location": "location",
        "exit": "exit",
        "session_time": "session_time",
        "response": "learner_response",
        "time": "timestamp",
        "extra": ("comments_from_learner", "objectives", "learner_preference"),
    },
}


def _at(cmi: dict, path: str | None) -> object:
    found: object = cmi
    for part in path.split(".") if path else [None]:
        found = _mapping(found).get(part) if part else None
    return found


def read_commit(version: str, data: object) -> Snapshot:
    """The snapshot in a commit's ``cmi`` object, as scorm-again renders it for ``version``."""
    cmi = _mapping(_mapping(data).get("cmi"))
    paths = _PATHS["1.2" if version == "1.2" else "2004"]
    score = _mapping(_at(cmi, paths["score"]))
    return Snapshot(
        lesson_status=_choice(_at(cmi, paths.get("lesson_status")), _STATUSES_12),
        completion_status=_choice(_at(cmi, paths.get("completion_status")), _COMPLETION),
        success_status=_choice(_at(cmi, paths.get("success_status")), _SUCCESS),
        score_raw=_number(score.get("raw")),
        score_min=_number(score.get("min")),
        score_max=_number(score.get("max")),
        score_scaled=_number(score.get("scaled")) if version != "1.2" else None,
        progress_measure=_number(_at(cmi, paths.get("progress_measure"))),
        location=_text(_at(cmi, paths["location"]), LOCATION_LENGTH),
        suspend_data=_text(cmi.get("suspend_data"), SUSPEND_DATA_LENGTH),
        exit=_choice(_at(cmi, paths["exit"]), _EXITS) or "",
        session_seconds=seconds_of(_at(cmi, paths["session_time"])),
        interactions=_interactions(cmi.get("interactions"), paths["response"], paths["time"]),
        extra={key: cmi[key] for key in paths["extra"] if cmi.get(key)},
    )


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def launch_data(version: str, *, track, sco, learner_id: str, learner_name: str) -> dict:
    """The data model a launch starts from: who the learner is, where they were and what they
    scored, for the runtime's ``loadFromJSON``."""
    resumed = track.exit == "suspend"
    entry = "resume" if resumed else ("ab-initio" if track.updated_at is None else "")
    if version == "1.2":
        return {
            "cmi": {
                "core": {
                    "student_id": learner_id,
                    "student_name": learner_name,
                    "lesson_location": track.location or "",
                    "lesson_status": track.lesson_status or "not attempted",
                    "entry": entry,
                    "credit": "credit",
                    "lesson_mode": "normal",
                    "total_time": scorm12_time(track.total_seconds),
                    "score": {
                        "raw": _blank(track.score_raw),
                        "min": _blank(track.score_min),
                        "max": _blank(track.score_max),
                    },
                },
                "suspend_data": track.suspend_data or "",
                "launch_data": sco.launch_data or "",
                "student_data": {
                    "mastery_score": _blank(sco.mastery_score),
                    "max_time_allowed": sco.max_time_allowed or "",
                    "time_limit_action": sco.time_limit_action or "",
                },
            }
        }
    return {
        "cmi": {
            "learner_id": learner_id,
            "learner_name": learner_name,
            "location": track.location or "",
            "suspend_data": track.suspend_data or "",
            "entry": entry,
            "completion_status": track.completion_status or "unknown",
            "success_status": track.success_status or "unknown",
            "score": {
                "scaled": _blank(track.score_scaled),
                "raw": _blank(track.score_raw),
                "min": _blank(track.score_min),
                "max": _blank(track.score_max),
            },
            "progress_measure": _blank(track.progress_measure),
            "total_time": iso_duration(track.total_seconds),
            "launch_data": sco.launch_data or "",
            "scaled_passing_score": _blank(sco.scaled_passing_score),
            "completion_threshold": _blank(sco.completion_threshold),
            "max_time_allowed": sco.max_time_allowed or "",
            "time_limit_action": sco.time_limit_action or "continue,no message",
        }
    }
