"""Answering surveys: the page where a survey is answered, its thanks, and the link a follow-up
e-mail carries, which opens that one survey without a password."""

import hashlib

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from courses.models import Certificate, Enrolment
from irooms.models import LiveSession
from learnplatform import numbers
from learnplatform.audit import utcnow
from learnplatform.extensions import db, limiter
from learnplatform.surveys import asking, bp, passes, services
from learnplatform.surveys.models import Survey, SurveyInvitation, SurveyQuestion

#: the words of the 1-5 agreement scale, lowest first
AGREEMENT = (
    _l("Strongly disagree"),
    _l("Disagree"),
    _l("Neither agree nor disagree"),
    _l("Agree"),
    _l("Strongly agree"),
)
#: the words at the two ends of the 0-10 recommendation scale
RECOMMENDATION_ENDS = (_l("Not at all likely"), _l("Extremely likely"))
#: surveys this browser answered lately, remembered so that their thanks page opens and a second
#: submission says they were answered even once a follow-up's pass is gone
_ANSWERED_KEY = "surveys_answered"
_ANSWERED_KEPT = 10
#: opening follow-up links, per address
LINK_LIMIT = "20 per minute"


def _survey_or_404(survey_id: int) -> Survey:
    survey = db.session.scalar(
        select(Survey)
        .options(selectinload(Survey.questions).selectinload(SurveyQuestion.choices))
        .where(Survey.id == survey_id)
    )
    if survey is None:
        abort(404)
    return survey


def _remember_answered(survey: Survey) -> None:
    answered = [value for value in session.get(_ANSWERED_KEY, []) if value != survey.id]
    session[_ANSWERED_KEY] = [*answered, survey.id][-_ANSWERED_KEPT:]


def _answered_here(survey: Survey) -> bool:
    answered = session.get(_ANSWERED_KEY, [])
    return isinstance(answered, list) and survey.id in answered


def _asked_session(survey: Survey) -> int:
    """The live session a room's survey is answered about, from the address (``?session=``)."""
    if survey.purpose != "session":
        return 0
    return numbers.from_text(request.args.get("session"), 0, minimum=1)


def _about(survey: Survey, occasion: int) -> str | None:
    """The live session a room's survey asks about, as its page names it."""
    if survey.purpose != "session" or not occasion:
        return None
    live = db.session.get(LiveSession, occasion)
    return live.title if live is not None else None


def _state_page(survey: Survey, state: str, occasion: int = 0, status: int = 200):
    """The page that says a survey is answered (``thanks``), was answered before
    (``already``) or takes no more answers (``closed``)."""
    certificate = None
    if state in {"thanks", "already"} and survey.purpose == "evaluation":
        certificate = _own_certificate(survey)
    page = render_template(
        "surveys/answered.html",
        survey=survey,
        state=state,
        certificate=certificate,
        about=_about(survey, occasion),
    )
    return page, status


def _own_certificate(survey: Survey) -> Certificate | None:
    """The logged-in person's certificate of the module an evaluation is about."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    return db.session.scalar(
        select(Certificate)
        .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .where(Enrolment.module_id == survey.module_id, Enrolment.user_id == current_user.id)
    )


@bp.route("/<int:survey_id>/respond", methods=["GET", "POST"])
def respond(survey_id):
    """A survey to answer, for one of those it asks (logged in, or holding a follow-up link's
    pass): answered once, a second submission changing nothing and saying so."""
    survey = _survey_or_404(survey_id)
    person, occasion = passes.respondent(survey)
    by_pass = occasion is not None
    if person is None:
        if _answered_here(survey):
            return _state_page(survey, "already")
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if not by_pass:
        occasion = _asked_session(survey)
    if not asking.may_answer(survey, person.id, occasion):
        abort(404)
    if services.has_answered(survey, person.id, occasion):
        return _state_page(survey, "already", occasion)
    if not survey.is_open:
        return _state_page(survey, "closed", occasion)
    answers = services.Answers()
    if request.method == "POST":
        answers = services.read_answers(survey, request.form)
        if not answers.errors:
            try:
                services.respond(survey, person, answers, occasion)
            except services.AlreadyAnswered:
                db.session.rollback()
                return _state_page(survey, "already", occasion)
            asking.after_answer(survey, person)
            db.session.commit()
            if by_pass:
                passes.end_pass()
            _remember_answered(survey)
            return redirect(
                url_for("surveys.answered", survey_id=survey.id, **_session_arg(survey, occasion))
            )
    return render_template(
        "surveys/respond.html",
        survey=survey,
        occasion=occasion,
        about=_about(survey, occasion),
        action=asking.respond_url(survey, occasion),
        errors=answers.errors,
        form=request.form,
        agreement=AGREEMENT,
        recommendation_ends=RECOMMENDATION_ENDS,
    )


def _session_arg(survey: Survey, occasion: int) -> dict:
    return {"session": occasion} if survey.purpose == "session" and occasion else {}


@bp.get("/<int:survey_id>/answered")
def answered(survey_id):
    """Thanks, once a survey is answered from this browser; an evaluation's certificate, when it
    is issued."""
    survey = _survey_or_404(survey_id)
    if not _answered_here(survey):
        abort(404)
    return _state_page(survey, "thanks", _asked_session(survey))


def _invitation_of_link(token: str) -> SurveyInvitation | None:
    """The invitation a link's token was made for, used or not, without using it."""
    if not 20 <= len(token) <= 100:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return db.session.scalar(select(SurveyInvitation).where(SurveyInvitation.token_hash == digest))


@bp.route("/answer/<token>", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, scope="survey-links")
def answer_link(token):
    """A follow-up e-mail's link. Opening it shows a button that uses it (a POST, so that mail
    programs that visit the links of the e-mails they receive cannot use it up); using it opens
    the survey for this browser alone, once. A used, expired or unknown link says so, with a
    way to answer after logging in."""
    invitation = _invitation_of_link(token)
    usable = (
        invitation is not None
        and invitation.token_used_at is None
        and invitation.token_expires_at is not None
        and invitation.token_expires_at > utcnow()
    )
    if usable and request.method == "POST":
        invitation = passes.open_link(token)
        if invitation is not None:
            db.session.commit()
            return redirect(asking.respond_url(invitation.survey, invitation.occasion))
        usable = False
    if not usable:
        login = url_for("accounts.login")
        if invitation is not None:
            target = asking.respond_url(invitation.survey, invitation.occasion)
            login = url_for("accounts.login", next=target)
        page = render_template(
            "surveys/link_refused.html",
            survey=invitation.survey if invitation else None,
            login=login,
            days=passes.LINK_LIFETIME.days,
        )
        return page, 410 if invitation is not None else 404
    return render_template("surveys/link_open.html", survey=invitation.survey, token=token)
