"""The demo data set's surveys, from ``data/demo/surveys.yaml``: the end-of-module evaluation and
a three-month follow-up of the English CBRN module, and the survey one room asks after its live
sessions, with their questions in the module's or the room's language.

A survey is added when its module or room exists and has no survey for that purpose (and
months) yet, so that a second load adds nothing. No response is made up: results stay empty
until people answer.
"""

from sqlalchemy import select

from courses.models import Module
from irooms.models import Room
from learnplatform.accounts.models import User
from learnplatform.demo_modules import DEMO_DIR, read_yaml
from learnplatform.extensions import db
from learnplatform.surveys.models import (
    CHOICE_KINDS,
    PURPOSES,
    QUESTION_KINDS,
    Survey,
    SurveyChoice,
    SurveyQuestion,
)

SURVEYS_FILE = DEMO_DIR / "surveys.yaml"


def survey_specs() -> list[dict]:
    """The surveys of the data file, checked: a module or a room, a purpose, questions of known
    kinds, choices for the choice kinds only. ``ValueError`` naming the survey otherwise."""
    specs = read_yaml(SURVEYS_FILE).get("surveys") or []
    for spec in specs:
        name = spec.get("title", "?")
        if ("module" in spec) == ("room" in spec) or spec.get("purpose") not in PURPOSES:
            raise ValueError(f"{SURVEYS_FILE.name}: {name}: one module or room, and a purpose")
        if (spec["purpose"] == "session") != ("room" in spec):
            raise ValueError(f"{SURVEYS_FILE.name}: {name}: only a room has a session survey")
        for question in spec.get("questions") or []:
            kind = question.get("kind")
            if kind not in QUESTION_KINDS or bool(question.get("choices")) != (
                kind in CHOICE_KINDS
            ):
                raise ValueError(f"{SURVEYS_FILE.name}: {name}: {question.get('text')}")
    return specs


def add_surveys(author: User) -> int:
    """The demo surveys missing, made by ``author``. Returns how many were added. Flushed, not
    committed."""
    modules = {module.title: module for module in db.session.scalars(select(Module))}
    rooms = {room.name: room for room in db.session.scalars(select(Room))}
    existing = {
        (survey.module_id, survey.room_id, survey.purpose, survey.months)
        for survey in db.session.scalars(select(Survey))
    }
    added = 0
    for spec in survey_specs():
        owner = modules.get(spec["module"]) if "module" in spec else rooms.get(spec["room"])
        if owner is None:
            continue
        module_id = owner.id if isinstance(owner, Module) else None
        room_id = owner.id if isinstance(owner, Room) else None
        months = int(spec.get("months") or 0)
        if (module_id, room_id, spec["purpose"], months) in existing:
            continue
        survey = Survey(
            title=spec["title"],
            introduction=spec.get("introduction", "").strip(),
            language=spec.get("language", owner.language),
            anonymous=bool(spec.get("anonymous", True)),
            purpose=spec["purpose"],
            module_id=module_id,
            room_id=room_id,
            required=bool(spec.get("required", False)),
            months=months,
            created_by_id=author.id,
        )
        survey.questions = [
            SurveyQuestion(
                position=position,
                kind=question["kind"],
                text=question["text"],
                required=bool(question.get("required", True)),
                choices=[
                    SurveyChoice(position=number, text=text)
                    for number, text in enumerate(question.get("choices") or [], start=1)
                ],
            )
            for position, question in enumerate(spec["questions"], start=1)
        ]
        db.session.add(survey)
        existing.add((module_id, room_id, spec["purpose"], months))
        added += 1
    db.session.flush()
    return added
