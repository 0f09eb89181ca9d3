"""Asking and answering: who is asked which survey when, and one response per person, survey and
occasion. These functions write in the caller's transaction (the view or job commits)."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import exists, insert, select
from sqlalchemy.exc import IntegrityError

from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.surveys.models import (
    CHOICE_KINDS,
    SCALES,
    TEXT_KINDS,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyParticipation,
    SurveyResponse,
)

#: the longest free-text answer kept, in characters
TEXT_LENGTH = {"short_text": 300, "long_text": 5000}


class AlreadyAnswered(Exception):
    """The person has answered this survey on this occasion: nothing was changed."""


# Which survey is asked.
def evaluation_of(module_id: int) -> Survey | None:
    """The end-of-module evaluation of a module, while it is open."""
    return db.session.scalar(
        select(Survey).where(
            Survey.module_id == module_id, Survey.purpose == "evaluation", Survey.is_open
        )
    )


def follow_ups_of(module_id: int) -> list[Survey]:
    """The open follow-up surveys of a module, the soonest first."""
    return list(
        db.session.scalars(
            select(Survey)
            .where(Survey.module_id == module_id, Survey.purpose == "follow_up", Survey.is_open)
            .order_by(Survey.months)
        )
    )


def session_survey_of(room_id: int) -> Survey | None:
    """The survey a room asks after its live sessions, while it is open."""
    return db.session.scalar(
        select(Survey).where(Survey.room_id == room_id, Survey.purpose == "session", Survey.is_open)
    )


def evaluation_blocks_certificate(module_id: int, user_id: int) -> bool:
    """Whether the module's evaluation is required before its certificate and not answered yet."""
    survey = evaluation_of(module_id)
    return bool(survey and survey.required and not has_answered(survey, user_id))


def has_answered(survey: Survey, user_id: int, occasion: int = 0) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    SurveyParticipation.survey_id == survey.id,
                    SurveyParticipation.user_id == user_id,
                    SurveyParticipation.occasion == occasion,
                )
            )
        )
    )


def ask(
    survey: Survey, user_id: int, occasion: int = 0, *, enrolment_id: int | None = None
) -> SurveyInvitation | None:
    """Record that ``user_id`` is asked ``survey`` on ``occasion``, once whatever the number of
    calls: the new invitation, or ``None`` when they had been asked already."""
    row = {
        "survey_id": survey.id,
        "user_id": user_id,
        "occasion": occasion,
        "enrolment_id": enrolment_id,
        "created_at": utcnow(),
    }
    try:
        with db.session.begin_nested():
            invitation_id = db.session.scalar(
                insert(SurveyInvitation).values(**row).returning(SurveyInvitation.id)
            )
    except IntegrityError:
        return None
    return db.session.get(SurveyInvitation, invitation_id)


# Answering.
@dataclass
class Answers:
    """What a respondent sent, read and checked against the survey's questions."""

    #: question id -> a number, a list of choice ids, or text
    values: dict[int, int | list[int] | str] = field(default_factory=dict)
    #: question id -> what is wrong with its answer, in words for the respondent
    errors: dict[int, str] = field(default_factory=dict)


def read_answers(survey: Survey, form: Mapping) -> Answers:
    """The answers in ``form`` (a request's form: ``q<id>`` fields, several values for a
    multiple choice), checked: scales within their range, choices of the question, text within
    its length, required questions answered."""
    from flask_babel import gettext as _

    found = Answers()
    getlist = getattr(form, "getlist", lambda key: [form[key]] if key in form else [])
    for question in survey.questions:
        key = f"q{question.id}"
        raw = [value.strip() for value in getlist(key) if isinstance(value, str) and value.strip()]
        if not raw:
            if question.required:
                found.errors[question.id] = _("Answer this question.")
            continue
        if question.kind in SCALES:
            low, high = SCALES[question.kind]
            if len(raw) != 1 or not raw[0].isdigit() or not low <= int(raw[0]) <= high:
                found.errors[question.id] = _(
                    "Choose a value from %(low)s to %(high)s.", low=low, high=high
                )
                continue
            found.values[question.id] = int(raw[0])
        elif question.kind in CHOICE_KINDS:
            offered = {str(choice.id): choice.id for choice in question.choices}
            chosen = [offered[value] for value in raw if value in offered]
            if len(chosen) != len(raw) or (question.kind == "single" and len(chosen) != 1):
                found.errors[question.id] = _("Choose from the options given.")
                continue
            found.values[question.id] = sorted(set(chosen))
        elif question.kind in TEXT_KINDS:
            text = "\n".join(raw)
            limit = TEXT_LENGTH[question.kind]
            if len(text) > limit:
                found.errors[question.id] = _(
                    "Keep the answer under %(count)s characters.", count=limit
                )
                continue
            found.values[question.id] = text
    return found


def respond(survey: Survey, user: User, answers: Answers, occasion: int = 0) -> SurveyResponse:
    """Store a response of ``user`` (``answers`` without errors). Raises ``AlreadyAnswered`` when
    they answered before, with nothing written: the unique key of their participation decides,
    so that two submissions at once store one."""
    if answers.errors:
        raise ValueError("answers with errors are not stored")
    try:
        with db.session.begin_nested():
            db.session.add(
                SurveyParticipation(survey_id=survey.id, user_id=user.id, occasion=occasion)
            )
            db.session.flush()
    except IntegrityError as error:
        raise AlreadyAnswered from error
    response = SurveyResponse(
        survey_id=survey.id,
        user_id=None if survey.anonymous else user.id,
        occasion=occasion,
        submitted_on=utcnow().date(),
        country=user.country or "",
        gender=user.gender or "",
        agency_type=user.agency_type or "",
    )
    for question_id, value in answers.values.items():
        if isinstance(value, list):
            response.answers += [
                SurveyAnswer(question_id=question_id, choice_id=choice) for choice in value
            ]
        elif isinstance(value, int):
            response.answers.append(SurveyAnswer(question_id=question_id, number=value))
        else:
            response.answers.append(SurveyAnswer(question_id=question_id, text=value))
    db.session.add(response)
    db.session.flush()
    return response
