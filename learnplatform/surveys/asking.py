"""When people are asked a survey, and who may answer one.

- A module's evaluation is asked at completion (``evaluation_holds_certificate``, from
  ``courses.services.complete_if_done``); a required one holds the certificate until it is
  answered (``after_answer`` issues it then).
- A room's survey is asked of those who attended each of its live sessions, by a periodic job,
  within ``SESSION_WINDOW`` of the session's end (``ask_after_sessions``).
- A module's follow-ups are asked ``months`` calendar months after each completion, by a periodic
  job that e-mails them with a link opening that survey alone, and reminds once those who have not
  answered after ``REMINDER_AFTER`` (``send_follow_ups``). The link's token is made when the
  e-mail is written (``MAIL_LINKS``), so that it exists nowhere but in the e-mail.

Every step is done once however often the jobs run: an invitation per person, survey and
occasion (a unique key), a notification per key, a reminder claimed by a conditional UPDATE.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import joinedload

from courses.models import Certificate, Enrolment
from irooms.models import Attendance, LiveSession, Room
from learnplatform import jobs
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.notifications.services import MAIL_LINKS, notify
from learnplatform.surveys import passes, services
from learnplatform.surveys.models import Survey, SurveyInvitation, SurveyParticipation

#: how long after a live session ends its attendees are still asked its room's survey
SESSION_WINDOW = timedelta(days=7)
#: how long after a follow-up is sent, unanswered, its one reminder goes
REMINDER_AFTER = timedelta(days=7)
#: follow-ups sent per survey and run; the next run sends the rest
FOLLOW_UP_BATCH = 500
#: surveys listed on a person's home and My learning
WAITING_SHOWN = 6


def respond_url(survey: Survey, occasion: int = 0, **kwargs) -> str:
    """The page where ``survey`` is answered (about the live session ``occasion``, if any)."""
    if survey.purpose == "session" and occasion:
        kwargs["session"] = occasion
    return url_for("surveys.respond", survey_id=survey.id, **kwargs)


# Who may answer.
def may_answer(survey: Survey, user_id: int, occasion: int) -> bool:
    """Whether ``user_id`` is one of those ``survey`` asks on ``occasion``: a module's evaluation,
    those who completed the module; a follow-up, those it was sent to; a room's survey, those
    asked after attending the session."""
    if survey.purpose == "evaluation":
        return occasion == 0 and bool(
            db.session.scalar(
                select(
                    exists().where(
                        Enrolment.module_id == survey.module_id,
                        Enrolment.user_id == user_id,
                        Enrolment.status == "active",
                        Enrolment.completed_at.is_not(None),
                    )
                )
            )
        )
    invited = [
        SurveyInvitation.survey_id == survey.id,
        SurveyInvitation.user_id == user_id,
        SurveyInvitation.occasion == occasion,
    ]
    if survey.purpose == "follow_up":
        invited.append(SurveyInvitation.sent_at.is_not(None))
    elif not occasion:
        return False
    return bool(db.session.scalar(select(exists().where(*invited))))


# Evaluations.
def _completed_enrolment(module_id: int, user_id: int) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(
            Enrolment.module_id == module_id,
            Enrolment.user_id == user_id,
            Enrolment.completed_at.is_not(None),
        )
    )


def evaluation_holds_certificate(enrolment: Enrolment) -> bool:
    """At completion: ask the learner the module's open evaluation, if it has one; whether its
    certificate waits for the answer (the evaluation is required and not answered)."""
    survey = services.evaluation_of(enrolment.module_id)
    if survey is None:
        return False
    services.ask(survey, enrolment.user_id, enrolment_id=enrolment.id)
    return survey.required and not services.has_answered(survey, enrolment.user_id)


def release_held_certificates(module_id: int) -> int:
    """Issue the certificates the module's evaluation held, once it no longer holds them (made
    optional or closed): those of its completed enrolments that have none; how many."""
    from courses.services import issue_certificate

    held = db.session.scalars(
        select(Enrolment)
        .options(joinedload(Enrolment.user), joinedload(Enrolment.module))
        .where(
            Enrolment.module_id == module_id,
            Enrolment.status == "active",
            Enrolment.completed_at.is_not(None),
            ~exists().where(Certificate.enrolment_id == Enrolment.id),
        )
    ).all()
    return sum(issue_certificate(enrolment) is not None for enrolment in held)


def evaluation_waiting(enrolment: Enrolment | None) -> Survey | None:
    """The open evaluation of a completed enrolment's module that its learner has not
    answered."""
    if enrolment is None or enrolment.completed_at is None or enrolment.status != "active":
        return None
    return evaluations_waiting(enrolment.user_id, [enrolment.module_id]).get(enrolment.module_id)


def evaluations_waiting(user_id: int, module_ids: list[int]) -> dict[int, Survey]:
    """Module id -> its open evaluation, for those of ``module_ids`` whose evaluation ``user_id``
    has not answered. One query."""
    if not module_ids:
        return {}
    surveys = db.session.scalars(
        select(Survey).where(
            Survey.module_id.in_(module_ids),
            Survey.purpose == "evaluation",
            Survey.is_open,
            ~exists().where(
                SurveyParticipation.survey_id == Survey.id,
                SurveyParticipation.user_id == user_id,
                SurveyParticipation.occasion == 0,
            ),
        )
    )
    return {survey.module_id: survey for survey in surveys}


def after_answer(survey: Survey, user: User):
    """Once ``user`` has answered ``survey``: an evaluation's certificate, if it was held for
    the answer (the new certificate, else ``None``)."""
    if survey.purpose != "evaluation":
        return None
    from courses.services import issue_certificate

    enrolment = _completed_enrolment(survey.module_id, user.id)
    if enrolment is None:
        return None
    return issue_certificate(enrolment)


# What waits for a person's answer.
@dataclass(frozen=True)
class WaitingSurvey:
    """A survey a person was asked and has not answered, with what it is about."""

    survey: Survey
    occasion: int
    #: the live session it asks about, for a room's survey
    session_title: str | None

    @property
    def about(self) -> str:
        """The module, or the live session and its room, it asks about."""
        if self.survey.purpose == "session":
            room = self.survey.room.name if self.survey.room else ""
            return f"{self.session_title} ({room})" if self.session_title else room
        return self.survey.module.title if self.survey.module else ""

    @property
    def url(self) -> str:
        return respond_url(self.survey, self.occasion)


def waiting_for(user_id: int, limit: int = WAITING_SHOWN) -> list[WaitingSurvey]:
    """The open surveys ``user_id`` was asked and has not answered, the latest asked first, at
    most ``limit``. One query."""
    rows = db.session.execute(
        select(Survey, SurveyInvitation.occasion, LiveSession.title)
        .join(SurveyInvitation, SurveyInvitation.survey_id == Survey.id)
        .outerjoin(
            LiveSession,
            and_(Survey.purpose == "session", LiveSession.id == SurveyInvitation.occasion),
        )
        .options(joinedload(Survey.module), joinedload(Survey.room))
        .where(
            SurveyInvitation.user_id == user_id,
            Survey.is_open,
            ~exists().where(
                SurveyParticipation.survey_id == SurveyInvitation.survey_id,
                SurveyParticipation.user_id == SurveyInvitation.user_id,
                SurveyParticipation.occasion == SurveyInvitation.occasion,
            ),
        )
        .order_by(SurveyInvitation.created_at.desc(), SurveyInvitation.id.desc())
        .limit(limit)
    ).all()
    return [WaitingSurvey(*row) for row in rows]


# After live sessions.
@jobs.periodic(jobs.every_hour)
def ask_after_sessions(now: datetime | None = None) -> int:
    """Ask the attendees of each live session that ended within ``SESSION_WINDOW`` the survey of
    its room, if it has an open one, and tell them; how many were asked."""
    now = now or utcnow()
    rows = db.session.execute(
        select(LiveSession, Survey, Room.name)
        .join(Room, Room.id == LiveSession.room_id)
        .join(
            Survey,
            and_(
                Survey.room_id == LiveSession.room_id, Survey.purpose == "session", Survey.is_open
            ),
        )
        .where(LiveSession.ends_at <= now, LiveSession.ends_at > now - SESSION_WINDOW)
        .order_by(LiveSession.ends_at, LiveSession.id)
    ).all()
    asked = 0
    for session, survey, room_name in rows:
        attendees = db.session.scalars(
            select(User)
            .join(Attendance, Attendance.user_id == User.id)
            .where(
                Attendance.session_id == session.id,
                User.active.is_(True),
                ~exists().where(
                    SurveyInvitation.survey_id == survey.id,
                    SurveyInvitation.user_id == User.id,
                    SurveyInvitation.occasion == session.id,
                ),
            )
            .order_by(User.id)
        ).all()
        told = []
        for person in attendees:
            invitation = services.ask(survey, person.id, session.id)
            if invitation is not None:
                invitation.sent_at = now
                told.append(person)
        if not told:
            continue
        notify(
            told,
            "survey_session",
            key=f"survey-session:{survey.id}:{session.id}",
            url=respond_url(survey, session.id),
            params={"survey": survey.title, "session": session.title, "room": room_name},
        )
        db.session.commit()
        asked += len(told)
    return asked


# Follow-ups.
def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months earlier, on the same day of the month or the
    month's last day (31 May, three months before: 28 or 29 February)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@jobs.periodic(jobs.every_hour)
def send_follow_ups(now: datetime | None = None) -> int:
    """Send each open follow-up to the learners who completed its module at least its number of
    calendar months ago and were not sent it yet, then remind once those who have not answered
    ``REMINDER_AFTER`` after; how many e-mails (follow-ups and reminders) were asked for.

    A follow-up added to a module is sent to those whose completion falls due after it exists,
    not to everyone who ever completed the module."""
    now = now or utcnow()
    sent = 0
    for survey in db.session.scalars(
        select(Survey)
        .options(joinedload(Survey.module))
        .where(Survey.purpose == "follow_up", Survey.is_open, Survey.module_id.is_not(None))
        .order_by(Survey.id)
    ).all():
        sent += _send_follow_up(survey, now)
    return sent + _send_reminders(now)


def _send_follow_up(survey: Survey, now: datetime) -> int:
    due = db.session.execute(
        select(Enrolment.id, User)
        .join(User, User.id == Enrolment.user_id)
        .where(
            Enrolment.module_id == survey.module_id,
            Enrolment.status == "active",
            Enrolment.completed_at <= months_before(now, survey.months),
            Enrolment.completed_at > months_before(survey.created_at, survey.months),
            User.active.is_(True),
            ~exists().where(
                SurveyInvitation.survey_id == survey.id,
                SurveyInvitation.user_id == Enrolment.user_id,
                SurveyInvitation.occasion == 0,
            ),
        )
        .order_by(Enrolment.completed_at, Enrolment.id)
        .limit(FOLLOW_UP_BATCH)
    ).all()
    sent = 0
    for enrolment_id, person in due:
        invitation = services.ask(survey, person.id, enrolment_id=enrolment_id)
        if invitation is None:
            continue
        invitation.sent_at = now
        sent += _tell(invitation, person, "survey_follow_up", f"survey-follow-up:{invitation.id}")
    db.session.commit()
    return sent


def _send_reminders(now: datetime) -> int:
    """Remind, once, those sent a follow-up ``REMINDER_AFTER`` ago who have not answered it."""
    waiting = db.session.scalars(
        select(SurveyInvitation.id)
        .join(Survey, Survey.id == SurveyInvitation.survey_id)
        .where(
            Survey.purpose == "follow_up",
            Survey.is_open,
            SurveyInvitation.sent_at <= now - REMINDER_AFTER,
            SurveyInvitation.reminded_at.is_(None),
            ~exists().where(
                SurveyParticipation.survey_id == SurveyInvitation.survey_id,
                SurveyParticipation.user_id == SurveyInvitation.user_id,
                SurveyParticipation.occasion == SurveyInvitation.occasion,
            ),
        )
        .order_by(SurveyInvitation.id)
        .limit(FOLLOW_UP_BATCH)
    ).all()
    reminded = 0
    for invitation_id in waiting:
        # Conditional, so that two workers running at once send one reminder.
        claimed = db.session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.id == invitation_id, SurveyInvitation.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue
        invitation = db.session.get(SurveyInvitation, invitation_id)
        reminded += _tell(
            invitation, invitation.user, "survey_reminder", f"survey-reminder:{invitation_id}"
        )
        db.session.commit()
    return reminded


def _tell(invitation: SurveyInvitation, person: User, kind: str, key: str) -> int:
    survey = invitation.survey
    return notify(
        [person],
        kind,
        key=key,
        url=respond_url(survey),
        params={
            "survey": survey.title,
            "module": survey.module.title if survey.module else "",
            "invitation": invitation.id,
        },
    )


def _answer_link(notification, person: User) -> str | None:
    """The link a follow-up's e-mail carries: a fresh token for its invitation, made as the
    e-mail is written (the one sent before stops working), or ``None`` (then the e-mail links to
    the survey's page) when the invitation is gone or answered."""
    invitation_id = notification.params.get("invitation")
    invitation = db.session.get(SurveyInvitation, invitation_id) if invitation_id else None
    if invitation is None or invitation.user_id != person.id:
        return None
    if services.has_answered(invitation.survey, person.id, invitation.occasion):
        return None
    return url_for("surveys.answer_link", token=passes.new_link_token(invitation), _external=True)


MAIL_LINKS["survey_follow_up"] = _answer_link
MAIL_LINKS["survey_reminder"] = _answer_link
