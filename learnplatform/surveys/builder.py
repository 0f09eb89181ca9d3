"""The survey builder: trainers set a module's end-of-module evaluation and its follow-ups, the
hosts of an iRoom the survey asked after its live sessions; each survey's settings, its questions
and their choices, and copies of a survey for another follow-up month, module, room or language.

A module's surveys are managed by those who author the module (its creator and the
administrators), a room's by those who manage the room (its hosts and the administrators). For
anybody else a survey answers as one that does not exist (404); practitioners get 403 on a
module's pages as on every authoring page, and a room's other members 403 as on its other
management pages.

Once a survey has responses, the kinds and choices of its questions stay as they are and none is
removed, so that every response still reads against the questions it answered; the wording can
still be corrected, and questions added.
"""

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from courses import access as course_access
from courses import versions
from courses.models import Module
from irooms.access import managed_place
from irooms.models import Membership, Room
from learnplatform.access import trainer_required
from learnplatform.accounts.forms import options
from learnplatform.audit import record
from learnplatform.choices import LANGUAGES
from learnplatform.extensions import db
from learnplatform.surveys import asking, bp
from learnplatform.surveys.forms import (
    KIND_LABELS,
    PURPOSE_LABELS,
    CopyForm,
    QuestionForm,
    SurveyForm,
    choice_lines,
)
from learnplatform.surveys.models import (
    CHOICE_KINDS,
    Survey,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
)

#: the order purposes are listed in
PURPOSE_ORDER = {"evaluation": 0, "follow_up": 1, "session": 2}
#: the months offered first for a module's next follow-up
USUAL_MONTHS = (3, 6, 12)


# Who may.
def _authored_module(module_id: int) -> Module:
    """A module the current user authors: 403 for practitioners, 404 for other trainers."""
    if not current_user.is_trainer:
        abort(403)
    return course_access.authored_module(module_id)


def managed_survey(survey_id: int, *, writing: bool = False) -> Survey:
    """A survey the current user manages, through its module or its room; 404 otherwise. When
    ``writing``, a room survey of a read-only room is refused (403) as the room's other
    changes are."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        abort(404)
    if survey.room_id is not None:
        managed_place(survey.room_id, writing=writing)
    else:
        _authored_module(survey.module_id)
    return survey


def managed_surveys():
    """A query of the surveys the current user manages: every survey for administrators, the
    surveys of the modules a trainer authors and of the rooms anyone hosts."""
    query = select(Survey)
    if current_user.is_administrator:
        return query
    hosted = select(Membership.room_id).where(
        Membership.user_id == current_user.id, Membership.role == "host"
    )
    condition = Survey.room_id.in_(hosted)
    if current_user.is_trainer:
        authored = select(Module.id).where(Module.created_by_id == current_user.id)
        condition = condition | Survey.module_id.in_(authored)
    return query.where(condition)


# Counting.
def _counts(model, survey_ids: list[int]) -> dict[int, int]:
    """How many rows of ``model`` each survey has: one query whatever the number of surveys."""
    if not survey_ids:
        return {}
    query = (
        select(model.survey_id, func.count())
        .where(model.survey_id.in_(survey_ids))
        .group_by(model.survey_id)
    )
    return dict(db.session.execute(query).all())


def response_count(survey: Survey) -> int:
    """How many responses ``survey`` has."""
    return _counts(SurveyResponse, [survey.id]).get(survey.id, 0)


def _listing(surveys: list[Survey]) -> dict:
    """What a list of surveys shows besides the surveys: their questions and responses counted."""
    ids = [survey.id for survey in surveys]
    return {
        "surveys": surveys,
        "question_counts": _counts(SurveyQuestion, ids),
        "response_counts": _counts(SurveyResponse, ids),
        "purposes": PURPOSE_LABELS,
        "languages": LANGUAGES,
    }


def _slot_taken(survey: Survey, purpose: str, months: int) -> bool:
    """Whether another survey of ``survey``'s module or room has that purpose (and months)."""
    query = select(Survey.id).where(Survey.purpose == purpose)
    if survey.room_id is not None:
        query = query.where(Survey.room_id == survey.room_id)
    else:
        query = query.where(Survey.module_id == survey.module_id, Survey.months == months)
    if survey.id is not None:
        query = query.where(Survey.id != survey.id)
    return db.session.scalar(query.limit(1)) is not None


def _next_months(module_id: int) -> int:
    """The months suggested for a module's next follow-up: 3, 6 or 12 when free, else a quarter
    after the latest."""
    taken = set(
        db.session.scalars(
            select(Survey.months).where(
                Survey.module_id == module_id, Survey.purpose == "follow_up"
            )
        )
    )
    free = [months for months in USUAL_MONTHS if months not in taken]
    return free[0] if free else min(max(taken) + 3, 36)


# Lists.
@bp.get("/manage/")
@trainer_required
def manage():
    """The surveys of the modules the trainer authors and of the rooms they host."""
    surveys = db.session.scalars(
        managed_surveys().options(joinedload(Survey.module), joinedload(Survey.room))
    ).all()
    surveys = sorted(
        surveys,
        key=lambda survey: (
            (survey.module.title if survey.module else survey.room.name).casefold(),
            PURPOSE_ORDER[survey.purpose],
            survey.months,
            survey.id,
        ),
    )
    return render_template("surveys/builder/index.html", **_listing(surveys))


@bp.get("/manage/module/<int:module_id>")
@trainer_required
def module_surveys(module_id):
    """A module's end-of-module evaluation and its follow-ups."""
    module = _authored_module(module_id)
    surveys = db.session.scalars(
        select(Survey)
        .where(Survey.module_id == module.id)
        .order_by(Survey.purpose, Survey.months, Survey.id)
    ).all()
    return render_template(
        "surveys/builder/module.html",
        module=module,
        evaluation=next((s for s in surveys if s.purpose == "evaluation"), None),
        follow_ups=[s for s in surveys if s.purpose == "follow_up"],
        **_listing(list(surveys)),
    )


@bp.get("/manage/room/<int:room_id>")
@login_required
def room_surveys(room_id):
    """The survey a room asks after each live session, to those who attended."""
    place = managed_place(room_id, writing=False)
    survey = db.session.scalar(
        select(Survey).where(Survey.room_id == place.room.id, Survey.purpose == "session")
    )
    return render_template(
        "surveys/builder/room.html",
        place=place,
        survey=survey,
        **_listing([survey] if survey else []),
    )


# A survey's settings.
def _survey_form(survey: Survey) -> tuple[SurveyForm, dict[str, Survey]]:
    """The settings form of ``survey`` with the fields of its purpose, offering the surveys it can
    be a version of: those the current user manages."""
    form = SurveyForm(
        data={
            "title": survey.title,
            "introduction": survey.introduction,
            "language": survey.language,
            "anonymity": "anonymous" if survey.anonymous in (True, None) else "identified",
            "required": bool(survey.required),
            "months": survey.months or None,
            "is_open": survey.is_open is not False,
        }
    )
    if survey.purpose != "evaluation":
        del form.required
    if survey.purpose != "follow_up":
        del form.months
    query = managed_surveys().order_by(Survey.title, Survey.id)
    candidates = {str(candidate.id): candidate for candidate in db.session.scalars(query)}
    versions.offer_versions(form, survey, candidates)
    return form, candidates


def _saved(form: SurveyForm, survey: Survey, candidates: dict[str, Survey]) -> bool:
    """Apply the form to ``survey`` and link its language versions. False, with the reason on the
    form and nothing saved, when the module already has such a survey, when anonymity would
    change under responses given, or when a version in that language exists."""
    anonymous = form.anonymity.data == "anonymous"
    if survey.id is not None and anonymous != survey.anonymous and response_count(survey):
        form.anonymity.errors.append(
            _(
                "This survey has responses, given as it was: whether it is anonymous can no "
                "longer change. Close it and make a copy to ask otherwise."
            )
        )
        return False
    months = form.months.data if "months" in form else 0
    if _slot_taken(survey, survey.purpose, months):
        if survey.purpose == "follow_up":
            form.months.errors.append(
                _("The module has a follow-up after %(months)s months already.", months=months)
            )
        else:
            form.form_errors.append(_already(survey.purpose))
        return False
    survey.title = form.title.data
    survey.introduction = (form.introduction.data or "").strip()
    survey.language = form.language.data
    survey.anonymous = anonymous
    survey.months = months
    survey.required = bool(form.required.data) if "required" in form else False
    survey.is_open = bool(form.is_open.data)
    db.session.add(survey)
    if not versions.save_version_of(form, survey, candidates):
        return False
    if survey.purpose == "evaluation" and not (survey.required and survey.is_open):
        asking.release_held_certificates(survey.module_id)
    return True


def _already(purpose: str) -> str:
    if purpose == "evaluation":
        return _("The module has an end-of-module evaluation already.")
    return _("The room has its survey after live sessions already.")


def _new_survey_page(survey: Survey, owner: Module | Room, back: str):
    """The form of a new survey; once saved, its page, to add questions."""
    form, candidates = _survey_form(survey)
    if form.validate_on_submit() and _saved(form, survey, candidates):
        record(
            "survey.created",
            actor=current_user,
            survey_id=survey.id,
            purpose=survey.purpose,
            module_id=survey.module_id,
            room_id=survey.room_id,
        )
        db.session.commit()
        flash(_("The survey is saved. Add its questions."), "success")
        return redirect(url_for("surveys.edit_survey", survey_id=survey.id))
    return render_template(
        "surveys/builder/survey_form.html",
        survey=None,
        purpose=survey.purpose,
        owner_name=_owner_name(owner),
        back=back,
        form=form,
        purposes=PURPOSE_LABELS,
    )


@bp.route(
    "/manage/module/<int:module_id>/new/<any(evaluation, follow_up):purpose>",
    methods=["GET", "POST"],
)
@trainer_required
def new_module_survey(module_id, purpose):
    """Set the module's end-of-module evaluation, or add a follow-up."""
    module = _authored_module(module_id)
    back = url_for("surveys.module_surveys", module_id=module.id)
    if purpose == "evaluation":
        existing = db.session.scalar(
            select(Survey).where(Survey.module_id == module.id, Survey.purpose == "evaluation")
        )
        if existing is not None:
            flash(_already("evaluation"), "info")
            return redirect(url_for("surveys.edit_survey", survey_id=existing.id))
    survey = Survey(
        purpose=purpose,
        module_id=module.id,
        language=module.language,
        months=_next_months(module.id) if purpose == "follow_up" else 0,
        created_by_id=current_user.id,
    )
    return _new_survey_page(survey, module, back)


@bp.route("/manage/room/<int:room_id>/new", methods=["GET", "POST"])
@login_required
def new_room_survey(room_id):
    """Set the survey the room asks after each live session."""
    place = managed_place(room_id)
    existing = db.session.scalar(
        select(Survey).where(Survey.room_id == place.room.id, Survey.purpose == "session")
    )
    if existing is not None:
        flash(_already("session"), "info")
        return redirect(url_for("surveys.edit_survey", survey_id=existing.id))
    survey = Survey(
        purpose="session",
        room_id=place.room.id,
        language=place.room.language,
        created_by_id=current_user.id,
    )
    back = url_for("surveys.room_surveys", room_id=place.room.id)
    return _new_survey_page(survey, place.room, back)


def _owner_name(owner: Module | Room) -> str:
    return owner.name if isinstance(owner, Room) else owner.title


def _owner_page(survey: Survey) -> str:
    """The page of the survey's module or room surveys."""
    if survey.room_id is not None:
        return url_for("surveys.room_surveys", room_id=survey.room_id)
    return url_for("surveys.module_surveys", module_id=survey.module_id)


@bp.route("/manage/<int:survey_id>", methods=["GET", "POST"])
@login_required
def edit_survey(survey_id):
    """A survey's settings and questions."""
    survey = managed_survey(survey_id, writing=request.method == "POST")
    form, candidates = _survey_form(survey)
    if form.validate_on_submit() and _saved(form, survey, candidates):
        record("survey.changed", actor=current_user, survey_id=survey.id)
        db.session.commit()
        flash(_("The survey is saved."), "success")
        return redirect(url_for("surveys.edit_survey", survey_id=survey.id))
    if form.is_submitted():
        db.session.rollback()  # the settings refused are not kept, not even in this page
    survey = db.session.scalar(
        select(Survey)
        .options(selectinload(Survey.questions).selectinload(SurveyQuestion.choices))
        .where(Survey.id == survey_id)
    )
    return render_template(
        "surveys/builder/survey.html",
        survey=survey,
        form=form,
        responses=response_count(survey),
        back=_owner_page(survey),
        owner_name=_owner_name(survey.module or survey.room),
        purposes=PURPOSE_LABELS,
        kinds=KIND_LABELS,
        languages=LANGUAGES,
    )


@bp.post("/manage/<int:survey_id>/delete")
@login_required
def delete_survey(survey_id):
    """Delete a survey nobody has answered; one with responses is closed instead, so that its
    results stay. A required evaluation deleted issues the certificates it held."""
    survey = managed_survey(survey_id, writing=True)
    back = _owner_page(survey)
    title, purpose, module_id = survey.title, survey.purpose, survey.module_id
    versions.unlink(survey)
    # One statement that deletes only while no response exists: a response given meanwhile
    # keeps the survey (its questions, choices and invitations go with it, by foreign keys).
    deleted = db.session.execute(
        delete(Survey).where(
            Survey.id == survey.id,
            ~exists().where(SurveyResponse.survey_id == Survey.id),
        )
    ).rowcount
    if not deleted:
        db.session.rollback()
        flash(
            _(
                "This survey has responses: it cannot be deleted, so that its results stay. "
                "Close it instead."
            ),
            "danger",
        )
        return redirect(url_for("surveys.edit_survey", survey_id=survey_id))
    db.session.expunge(survey)
    if purpose == "evaluation":
        asking.release_held_certificates(module_id)
    record("survey.deleted", actor=current_user, survey_id=survey_id, title=title)
    db.session.commit()
    flash(_("The survey “%(title)s” is deleted.", title=title), "info")
    return redirect(back)


# Questions.
def _question_in(survey: Survey, question_id: int) -> SurveyQuestion:
    question = db.session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey.id:
        abort(404)
    return question


def _renumber(questions: list[SurveyQuestion]) -> None:
    for position, question in enumerate(questions, start=1):
        question.position = position


@bp.route(
    "/manage/<int:survey_id>/questions/new",
    methods=["GET", "POST"],
    defaults={"question_id": None},
)
@bp.route("/manage/<int:survey_id>/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def edit_question(survey_id, question_id):
    """Write a question, or change one: its wording always, its kind and choices only while the
    survey has no response."""
    survey = managed_survey(survey_id, writing=request.method == "POST")
    question = _question_in(survey, question_id) if question_id is not None else None
    locked = question is not None and response_count(survey) > 0
    existing = [choice.text for choice in question.choices] if question else []
    data = None
    if question is not None:
        data = {
            "kind": question.kind,
            "text": question.text,
            "required": question.required,
            "choices": "\n".join(existing),
        }
    form = QuestionForm(data=data)
    changed = False
    if locked and form.is_submitted():
        changed = request.form.get("kind", question.kind) != question.kind or (
            "choices" in request.form and choice_lines(request.form["choices"]) != existing
        )
        form.kind.data = question.kind
        form.choices.data = "\n".join(existing)
    if locked:
        form.kind.render_kw = form.choices.render_kw = {"disabled": True}
    if form.validate_on_submit() and not changed:
        if question is None:
            question = SurveyQuestion(survey=survey, position=len(survey.questions) + 1)
            db.session.add(question)
        question.text = form.text.data
        question.required = bool(form.required.data)
        if not locked:
            question.kind = form.kind.data
            choices = form.filled_choices()
            if choices != existing:
                question.choices = [
                    SurveyChoice(position=position, text=text)
                    for position, text in enumerate(choices, start=1)
                ]
        db.session.flush()
        record(
            "survey.question_saved",
            actor=current_user,
            survey_id=survey.id,
            question_id=question.id,
        )
        db.session.commit()
        flash(_("The question is saved."), "success")
        return redirect(url_for("surveys.edit_survey", survey_id=survey.id) + "#questions")
    if changed:
        form.kind.errors.append(
            _(
                "This survey has responses: the type and choices of its questions can no longer "
                "change, so that every response reads against what it answered. Correct the "
                "wording only, or close the survey and make a copy."
            )
        )
    return render_template(
        "surveys/builder/question_form.html",
        survey=survey,
        question=question,
        form=form,
        locked=locked,
        choice_kinds=CHOICE_KINDS,
    )


@bp.post("/manage/<int:survey_id>/questions/<int:question_id>/move")
@login_required
def move_question(survey_id, question_id):
    """Move a question one place up or down."""
    survey = managed_survey(survey_id, writing=True)
    question = _question_in(survey, question_id)
    questions = list(survey.questions)
    here = questions.index(question)
    there = here - 1 if request.form.get("direction") == "up" else here + 1
    if 0 <= there < len(questions):
        questions[here], questions[there] = questions[there], questions[here]
    _renumber(questions)
    db.session.commit()
    return redirect(url_for("surveys.edit_survey", survey_id=survey.id) + "#questions")


@bp.post("/manage/<int:survey_id>/questions/<int:question_id>/delete")
@login_required
def delete_question(survey_id, question_id):
    """Remove a question from a survey that has no response yet."""
    survey = managed_survey(survey_id, writing=True)
    question = _question_in(survey, question_id)
    back = url_for("surveys.edit_survey", survey_id=survey.id) + "#questions"
    if response_count(survey):
        flash(
            _(
                "This survey has responses: its questions cannot be removed, so that every "
                "response reads against what it answered. Close the survey and make a copy to "
                "ask other questions."
            ),
            "danger",
        )
        return redirect(back)
    survey.questions.remove(question)
    _renumber(survey.questions)
    record("survey.question_removed", actor=current_user, survey_id=survey.id)
    db.session.commit()
    flash(_("The question is removed."), "info")
    return redirect(back)


# Copies.
def _copy_targets(survey: Survey) -> dict[str, Module | Room]:
    """Where a copy of ``survey`` can go: the modules the current user authors for a module's
    survey, the rooms they manage (and that are not read-only) for a room's."""
    if survey.room_id is not None:
        query = (
            select(Room)
            .where(
                Room.archived_at.is_(None),
                Room.ends_on.is_(None) | (Room.ends_on >= date.today()),
            )
            .order_by(Room.name, Room.id)
        )
        if not current_user.is_administrator:
            hosted = select(Membership.room_id).where(
                Membership.user_id == current_user.id, Membership.role == "host"
            )
            query = query.where(Room.id.in_(hosted))
        return {f"room:{room.id}": room for room in db.session.scalars(query)}
    query = select(Module).order_by(Module.title, Module.id)
    if not current_user.is_administrator:
        query = query.where(Module.created_by_id == current_user.id)
    return {f"module:{module.id}": module for module in db.session.scalars(query)}


def _target_label(target: Module | Room) -> str:
    return f"{_owner_name(target)} · {LANGUAGES.get(target.language, target.language)}"


def copy_of(survey: Survey, **settings) -> Survey:
    """A new survey with ``survey``'s introduction, anonymity, questions and choices, and
    ``settings`` (purpose, module or room, title, language, months...)."""
    copy = Survey(
        introduction=survey.introduction,
        anonymous=survey.anonymous,
        required=survey.required,
        is_open=True,
        created_by_id=current_user.id,
        **settings,
    )
    copy.questions = [
        SurveyQuestion(
            position=position,
            kind=question.kind,
            text=question.text,
            required=question.required,
            choices=[
                SurveyChoice(position=number, text=choice.text)
                for number, choice in enumerate(question.choices, start=1)
            ],
        )
        for position, question in enumerate(survey.questions, start=1)
    ]
    return copy


@bp.route("/manage/<int:survey_id>/copy", methods=["GET", "POST"])
@login_required
def copy_survey(survey_id):
    """Copy a survey, with its questions and choices, for another follow-up month, another module
    or room, or as the start of its version in another language."""
    survey = managed_survey(survey_id)
    targets = _copy_targets(survey)
    own = f"room:{survey.room_id}" if survey.room_id else f"module:{survey.module_id}"
    defaults = {"target": own, "title": survey.title, "language": survey.language}
    if survey.module_id is not None:
        defaults["months"] = _next_months(survey.module_id)
    form = CopyForm(data=defaults)
    form.target.choices = options({key: _target_label(target) for key, target in targets.items()})
    if survey.room_id is not None:
        del form.purpose
        del form.months
    if form.validate_on_submit():
        copy = _copied(form, survey, targets[form.target.data])
        if copy is not None:
            record("survey.copied", actor=current_user, survey_id=copy.id, source_id=survey.id)
            db.session.commit()
            flash(_("The copy is saved: check its title, introduction and questions."), "success")
            return redirect(url_for("surveys.edit_survey", survey_id=copy.id))
    return render_template(
        "surveys/builder/copy_form.html",
        survey=survey,
        form=form,
        back=url_for("surveys.edit_survey", survey_id=survey.id),
    )


def _copied(form: CopyForm, survey: Survey, target: Module | Room) -> Survey | None:
    """The copy the form asks for, added and linked as a version of ``survey`` when in another
    language; ``None`` with the reason on the form, and nothing kept, when its place is taken or
    its language version exists."""
    if isinstance(target, Room):
        settings = {"purpose": "session", "room_id": target.id, "months": 0}
    else:
        purpose = form.purpose.data
        months = form.months.data if purpose == "follow_up" else 0
        settings = {"purpose": purpose, "module_id": target.id, "months": months}
    copy = copy_of(survey, title=form.title.data, language=form.language.data, **settings)
    if copy.purpose != "evaluation":
        copy.required = False
    if _slot_taken(copy, copy.purpose, copy.months):
        if copy.purpose == "follow_up":
            form.months.errors.append(
                _("The module has a follow-up after %(months)s months already.", months=months)
            )
        else:
            form.target.errors.append(_already(copy.purpose))
        return None
    db.session.add(copy)
    try:
        if copy.language != survey.language:
            versions.set_version_of(copy, survey)
        else:
            db.session.flush()
    except (versions.LanguageTaken, IntegrityError):
        db.session.rollback()
        language = LANGUAGES.get(form.language.data, form.language.data)
        form.language.errors.append(
            _(
                "The original has a version in %(language)s already, or the same survey was "
                "just made: nothing was copied.",
                language=language,
            )
        )
        return None
    return copy
