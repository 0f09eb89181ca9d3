"""Surveys: what trainers ask learners (an evaluation at the end of a module, a survey after each
live session of a room, follow-ups months after completion), who was asked and what they answered.

One answer per person: ``SurveyParticipation`` holds who answered which survey on which occasion
under a unique key, written in the transaction of the response, so that a second submission (a
double click, two tabs) fails on it and changes nothing. The response itself is kept apart from
that row: its key is random and it carries the day it was given, never the minute, and the
respondent's id only when the survey is identified, so that an anonymous response cannot be joined
back to its author, while it keeps the country, gender and agency type that the results are
filtered by (and that are never broken down below ``ANONYMITY_THRESHOLD`` respondents).
"""

from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db

#: why a survey is asked: at the end of a module, after each live session of a room, or a
#: number of months after completing a module
PURPOSES = ("evaluation", "session", "follow_up")
#: the kinds of question: a 1-5 agreement scale, a 0-10 recommendation scale, single and
#: multiple choice, short and long free text
QUESTION_KINDS = ("agreement", "recommendation", "single", "multiple", "short_text", "long_text")
#: the kinds answered with a number, and their range
SCALES = {"agreement": (1, 5), "recommendation": (0, 10)}
#: the kinds answered with choices
CHOICE_KINDS = ("single", "multiple")
#: the kinds answered with text
TEXT_KINDS = ("short_text", "long_text")
#: fewer respondents than this and no breakdown (by country, gender...) is shown
ANONYMITY_THRESHOLD = 5


class Survey(db.Model):
    """A questionnaire with what it is asked for: a module's evaluation or follow-up, or a room's
    survey after its live sessions. Versions in other languages share a ``family_id``, as module
    versions do (``courses.versions``)."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("family_id", "language"),
        # one evaluation per module, one follow-up per module and number of months
        UniqueConstraint("module_id", "purpose", "months"),
        # one survey after the sessions of a room
        UniqueConstraint("room_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: title shown to respondents
    title: Mapped[str] = mapped_column(String(200))
    #: what respondents read before the questions, plain text
    introduction: Mapped[str] = mapped_column(Text, default="")
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8), index=True)
    #: shared with its versions in other languages; ``None`` while it has none
    family_id: Mapped[int | None]
    #: whether responses are kept apart from who gave them (shown to respondents)
    anonymous: Mapped[bool] = mapped_column(default=True)
    #: a key of ``PURPOSES``
    purpose: Mapped[str] = mapped_column(String(20), index=True)
    #: the module evaluated or followed up
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("modules.id", ondelete="CASCADE"), index=True
    )
    #: the room whose live sessions it follows
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), index=True
    )
    #: an evaluation: whether it must be answered before the certificate is issued
    required: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: a follow-up: how many months after completion it is sent; 0 for the other purposes
    months: Mapped[int] = mapped_column(default=0, server_default="0")
    #: whether it is being asked; a survey with responses is closed rather than deleted
    is_open: Mapped[bool] = mapped_column(default=True)
    #: the trainer who created it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    module = relationship("Module")
    room = relationship("Room")
    created_by = relationship("User")
    questions: Mapped[list["SurveyQuestion"]] = relationship(
        back_populates="survey",
        order_by="(SurveyQuestion.position, SurveyQuestion.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SurveyQuestion(db.Model):
    """A question of a survey."""

    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    #: place in the survey, from 1
    position: Mapped[int]
    #: a key of ``QUESTION_KINDS``
    kind: Mapped[str] = mapped_column(String(20))
    #: the question, plain text
    text: Mapped[str] = mapped_column(Text)
    #: whether a response must answer it
    required: Mapped[bool] = mapped_column(default=True)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    choices: Mapped[list["SurveyChoice"]] = relationship(
        back_populates="question",
        order_by="(SurveyChoice.position, SurveyChoice.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SurveyChoice(db.Model):
    """One choice of a single- or multiple-choice question."""

    __tablename__ = "survey_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    #: place in the question, from 1
    position: Mapped[int]
    #: the choice, plain text
    text: Mapped[str] = mapped_column(String(300))

    question: Mapped[SurveyQuestion] = relationship(back_populates="choices")


class SurveyInvitation(db.Model):
    """A person asked to answer a survey on one occasion: the module's evaluation at completion,
    a follow-up when it falls due, the survey after a session they attended. The denominator of
    response rates; follow-ups are e-mailed (once, then one reminder) with a link that signs the
    person in for this survey only (``token_hash``: single use, expiring)."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("survey_id", "user_id", "occasion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: 0, or the live session a session survey asks about
    occasion: Mapped[int] = mapped_column(default=0)
    #: the enrolment it follows (evaluations and follow-ups)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    #: UTC time it was made (asked in the page, or due and sent)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: UTC time its notification was sent, and its one reminder
    sent_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    #: SHA-256 of the link's token, which exists only in the e-mail; the latest one sent
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: UTC time after which the link is refused, and the time it was used
    token_expires_at: Mapped[datetime | None]
    token_used_at: Mapped[datetime | None]

    survey: Mapped[Survey] = relationship()
    user = relationship("User")


class SurveyParticipation(db.Model):
    """That a person answered a survey on an occasion: one row each, by a unique key. Holds no
    time and nothing of the response, so that anonymous responses stay apart from it."""

    __tablename__ = "survey_participations"
    __table_args__ = (UniqueConstraint("survey_id", "user_id", "occasion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    occasion: Mapped[int] = mapped_column(default=0)


def _random_key() -> str:
    return uuid4().hex


class SurveyResponse(db.Model):
    """One submitted response. Its key is random and it keeps the day, not the time, so that
    nothing orders it against ``SurveyParticipation``; ``user_id`` only when identified."""

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_key)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    #: the respondent, when the survey is identified
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: 0, or the live session answered about
    occasion: Mapped[int] = mapped_column(default=0)
    #: UTC day of submission
    submitted_on: Mapped[date] = mapped_column(index=True)
    #: the respondent's country, gender and agency type when they answered (for the filters)
    country: Mapped[str] = mapped_column(String(2), default="")
    gender: Mapped[str] = mapped_column(String(20), default="")
    agency_type: Mapped[str] = mapped_column(String(40), default="")

    survey: Mapped[Survey] = relationship()
    answers: Mapped[list["SurveyAnswer"]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class SurveyAnswer(db.Model):
    """An answer to one question: a number (a scale), a choice (one row per choice ticked) or
    text."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int | None]
    choice_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_choices.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
