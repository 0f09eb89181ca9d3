"""What trainers use: writing modules, their lessons and quizzes, and deciding enrolments."""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from courses import access, bp, lesson_video_views, notices, services, versions
from courses.forms import (
    QUESTION_KIND_LABELS,
    AttachmentForm,
    InviteForm,
    LessonForm,
    ModuleForm,
    QuestionForm,
    QuizForm,
    TellsLearners,
)
from courses.models import Enrolment, LessonAttachment, Module, Question
from courses.scorm import authoring as scorm_authoring
from learnplatform.access import trainer_required
from learnplatform.accounts.models import User
from learnplatform.audit import record
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.extensions import db
from learnplatform.security import upload_quota
from learnplatform.storage import ATTACHMENT_TYPES, StorageRefused, save_upload

QUIZ_TITLES = {"pre_test": "Pre-test", "post_test": "Post-test"}


@bp.get("/manage")
@trainer_required
def manage():
    """The modules the trainer authors (every module for administrators), drafts included."""
    query = select(Module).order_by(Module.is_published, Module.title, Module.id)
    if not current_user.is_administrator:
        query = query.where(Module.created_by_id == current_user.id)
    requests = (
        select(Enrolment.module_id, func.count(Enrolment.id))
        .where(Enrolment.status == "requested")
        .group_by(Enrolment.module_id)
    )
    waiting = {module_id: count for module_id, count in db.session.execute(requests)}
    enrolled = (
        select(Enrolment.module_id, func.count(Enrolment.id))
        .where(Enrolment.status == "active")
        .group_by(Enrolment.module_id)
    )
    learners = {module_id: count for module_id, count in db.session.execute(enrolled)}
    return render_template(
        "courses/manage/index.html",
        modules=db.session.scalars(query).all(),
        waiting=waiting,
        learners=learners,
        themes=THEMES,
        languages=LANGUAGES,
    )


def _module_form(module: Module) -> tuple[ModuleForm, dict[str, Module]]:
    """The settings form of ``module``, offering the modules it can be a version of: those the
    trainer authors."""
    form = ModuleForm(obj=module if module.id else None)
    query = select(Module).order_by(Module.title, Module.id)
    if not current_user.is_administrator:
        query = query.where(Module.created_by_id == current_user.id)
    candidates = {str(candidate.id): candidate for candidate in db.session.scalars(query)}
    versions.offer_versions(form, module, candidates)
    return form, candidates


def _saved(form: ModuleForm, module: Module, candidates: dict[str, Module]) -> bool:
    """Apply the form to ``module`` and link its language versions; False, with the reason on the
    form, when a version in that language already exists (and then nothing is saved)."""
    module.title = form.title.data.strip()
    module.summary = form.summary.data.strip()
    module.theme = form.theme.data
    module.language = form.language.data
    module.estimated_minutes = form.estimated_minutes.data
    module.enrolment_mode = form.enrolment_mode.data
    module.is_public = form.is_public.data
    db.session.add(module)
    return versions.save_version_of(form, module, candidates)


@bp.route("/manage/new", methods=["GET", "POST"])
@trainer_required
def new_module():
    """Start a module as a draft."""
    module = Module(created_by_id=current_user.id, is_published=False)
    form, candidates = _module_form(module)
    if form.validate_on_submit() and _saved(form, module, candidates):
        db.session.commit()
        flash(_("The module is saved as a draft. Add its lessons, then publish it."), "success")
        return redirect(url_for("courses.edit_module", module_id=module.id))
    return render_template("courses/manage/module_form.html", form=form, module=None)


@bp.route("/manage/<int:module_id>", methods=["GET", "POST"])
@trainer_required
def edit_module(module_id):
    """A module's settings, lessons, tests and learners, in one place."""
    module = access.authored_module(module_id)
    form, candidates = _module_form(module)
    if form.validate_on_submit() and _saved(form, module, candidates):
        db.session.commit()
        flash(_("The module is saved."), "success")
        return redirect(url_for("courses.edit_module", module_id=module.id))
    requests = db.session.scalars(
        select(Enrolment)
        .options(joinedload(Enrolment.user))
        .where(Enrolment.module_id == module.id, Enrolment.status == "requested")
        .order_by(Enrolment.requested_at)
    ).all()
    counts = dict(
        db.session.execute(
            select(Enrolment.status, func.count(Enrolment.id))
            .where(Enrolment.module_id == module.id)
            .group_by(Enrolment.status)
        ).all()
    )
    completed = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.module_id == module.id, Enrolment.completed_at.is_not(None)
        )
    )
    return render_template(
        "courses/manage/module.html",
        module=module,
        form=form,
        requests=requests,
        counts=counts,
        completed=completed,
        quizzes={quiz.kind: quiz for quiz in module.quizzes},
        invite_form=InviteForm(),
        quiz_titles=QUIZ_TITLES,
    )


@bp.post("/manage/<int:module_id>/publish")
@trainer_required
def publish(module_id):
    """Publish the module, or take it back to draft."""
    module = access.authored_module(module_id)
    publish_it = request.form.get("publish") == "1"
    if publish_it and not module.lessons:
        flash(_("Add at least one lesson before publishing."), "warning")
        return redirect(url_for("courses.edit_module", module_id=module.id))
    services.set_published(module, publish_it)
    db.session.commit()
    if publish_it:
        flash(_("The module is published: it appears in the catalogue."), "success")
    else:
        flash(_("The module is back to draft: only its trainers see it."), "info")
    return redirect(url_for("courses.edit_module", module_id=module.id))


@bp.route("/manage/<int:module_id>/lessons/new", methods=["GET", "POST"])
@trainer_required
def new_lesson(module_id):
    """Add a lesson at the end of the module."""
    module = access.authored_module(module_id)
    form = LessonForm()
    if form.validate_on_submit():
        lesson = services.add_lesson(
            module, title=form.title.data.strip(), body_html=form.body.data or ""
        )
        tell_learners(form, module, lesson)
        db.session.commit()
        flash(_("The lesson is added. You can attach files to it below."), "success")
        return redirect(url_for("courses.edit_lesson", module_id=module.id, lesson_id=lesson.id))
    return render_template("courses/manage/lesson_form.html", module=module, lesson=None, form=form)


@bp.route("/manage/<int:module_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@trainer_required
def edit_lesson(module_id, lesson_id):
    """Edit a lesson's text and its attachments."""
    module = access.authored_module(module_id)
    lesson = access.lesson_in(module, lesson_id)
    form = LessonForm(data={"title": lesson.title, "body": lesson.body_html})
    if form.validate_on_submit():
        services.edit_lesson(lesson, title=form.title.data.strip(), body_html=form.body.data or "")
        tell_learners(form, module, lesson)
        db.session.commit()
        flash(_("The lesson is saved."), "success")
        return redirect(url_for("courses.edit_lesson", module_id=module.id, lesson_id=lesson.id))
    return render_template(
        "courses/manage/lesson_form.html",
        module=module,
        lesson=lesson,
        form=form,
        attachment_form=AttachmentForm(),
        **scorm_authoring.lesson_form_extras(lesson, form),
        **lesson_video_views.lesson_form_extras(module, lesson),
    )


def tell_learners(form: TellsLearners, module, lesson) -> None:
    """Notify the module's learners of the lesson, when the trainer ticked the box."""
    if form.tell_learners.data and module.is_published:
        db.session.flush()
        told = notices.module_updated(module, lesson, current_user)
        flash(
            ngettext("%(num)s learner will be told.", "%(num)s learners will be told.", told),
            "info",
        )


@bp.post("/manage/<int:module_id>/lessons/<int:lesson_id>/move")
@trainer_required
def move_lesson(module_id, lesson_id):
    """Move a lesson one place up or down."""
    module = access.authored_module(module_id)
    lesson = access.lesson_in(module, lesson_id)
    services.move_lesson(lesson, -1 if request.form.get("direction") == "up" else 1)
    db.session.commit()
    return redirect(url_for("courses.edit_module", module_id=module.id) + "#lessons")


@bp.post("/manage/<int:module_id>/lessons/<int:lesson_id>/delete")
@trainer_required
def delete_lesson(module_id, lesson_id):
    """Remove a lesson; completions already recorded stay."""
    module = access.authored_module(module_id)
    lesson = access.lesson_in(module, lesson_id)
    services.remove_lesson(lesson)
    db.session.commit()
    flash(_("The lesson is removed."), "info")
    return redirect(url_for("courses.edit_module", module_id=module.id) + "#lessons")


@bp.post("/manage/<int:module_id>/lessons/<int:lesson_id>/attachments")
@upload_quota
@trainer_required
def add_attachment(module_id, lesson_id):
    """Attach a file to a lesson; its type is recognised from its content."""
    module = access.authored_module(module_id)
    lesson = access.lesson_in(module, lesson_id)
    form = AttachmentForm()
    back = url_for("courses.edit_lesson", module_id=module.id, lesson_id=lesson.id)
    if not form.validate_on_submit():
        for error in form.file.errors:
            flash(error, "danger")
        return redirect(back)
    upload = form.file.data
    try:
        stored = save_upload(
            upload.stream,
            upload.filename or "",
            allowed=ATTACHMENT_TYPES,
            uploaded_by=current_user,
        )
    except StorageRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "danger")
        return redirect(back)
    db.session.add(LessonAttachment(lesson_id=lesson.id, stored_file_id=stored.id))
    db.session.commit()
    flash(_("%(name)s is attached.", name=stored.original_name), "success")
    return redirect(back)


@bp.post("/manage/<int:module_id>/attachments/<int:attachment_id>/delete")
@trainer_required
def delete_attachment(module_id, attachment_id):
    """Remove an attachment and its file."""
    module = access.authored_module(module_id)
    attachment = db.session.get(LessonAttachment, attachment_id)
    if attachment is None or attachment.lesson.module_id != module.id:
        abort(404)
    lesson_id = attachment.lesson_id
    services.remove_attachment(attachment)
    db.session.commit()
    flash(_("The attachment is removed."), "info")
    return redirect(url_for("courses.edit_lesson", module_id=module.id, lesson_id=lesson_id))


@bp.route("/manage/<int:module_id>/<any(pre_test, post_test):kind>", methods=["GET", "POST"])
@trainer_required
def edit_quiz(module_id, kind):
    """A test's settings and its questions."""
    module = access.authored_module(module_id)
    quiz = services.quiz_of(module, kind)
    form = QuizForm(obj=quiz) if quiz else QuizForm(max_attempts=0 if kind == "pre_test" else 3)
    if form.validate_on_submit():
        quiz = quiz or services.quiz_of(module, kind, create=True)
        form.populate_obj(quiz)
        db.session.commit()
        flash(_("The test settings are saved."), "success")
        return redirect(url_for("courses.edit_quiz", module_id=module.id, kind=kind))
    if quiz is None and not form.title.data:
        form.title.data = _("Pre-test") if kind == "pre_test" else _("Post-test")
    return render_template(
        "courses/manage/quiz.html",
        module=module,
        quiz=quiz,
        kind=kind,
        form=form,
        kinds=QUESTION_KIND_LABELS,
    )


def _question_form(question: Question | None) -> QuestionForm:
    if question is None or request.method == "POST":
        return QuestionForm()
    answers = [{"text": option.text, "correct": option.is_correct} for option in question.options]
    answers += [{"text": "", "correct": False}] * (6 - len(answers))
    return QuestionForm(
        data={
            "kind": question.kind,
            "text": question.text,
            "points": question.points,
            "feedback": question.feedback,
            "answers": answers[:6],
        }
    )


@bp.route(
    "/manage/<int:module_id>/<any(pre_test, post_test):kind>/questions/new",
    methods=["GET", "POST"],
    defaults={"question_id": None},
)
@bp.route(
    "/manage/<int:module_id>/<any(pre_test, post_test):kind>/questions/<int:question_id>",
    methods=["GET", "POST"],
)
@trainer_required
def edit_question(module_id, kind, question_id):
    """Write or change a question and its answers."""
    module = access.authored_module(module_id)
    quiz = services.quiz_of(module, kind, create=request.method == "POST")
    question = None
    if question_id is not None:
        question = db.session.get(Question, question_id)
        if question is None or quiz is None or question.quiz_id != quiz.id:
            abort(404)
    form = _question_form(question)
    if form.validate_on_submit():
        if not quiz.title:
            quiz.title = _("Pre-test") if kind == "pre_test" else _("Post-test")
        services.save_question(
            quiz,
            question,
            kind=form.kind.data,
            text=form.text.data.strip(),
            points=form.points.data,
            feedback=(form.feedback.data or "").strip(),
            options=form.filled_answers(),
        )
        db.session.commit()
        flash(_("The question is saved."), "success")
        return redirect(url_for("courses.edit_quiz", module_id=module.id, kind=kind))
    db.session.rollback()  # a quiz created only to show the form is not kept
    return render_template(
        "courses/manage/question_form.html", module=module, kind=kind, question=question, form=form
    )


@bp.post(
    "/manage/<int:module_id>/<any(pre_test, post_test):kind>/questions/<int:question_id>/delete"
)
@trainer_required
def delete_question(module_id, kind, question_id):
    """Remove a question from a test."""
    module = access.authored_module(module_id)
    question = db.session.get(Question, question_id)
    if question is None or question.quiz.module_id != module.id or question.quiz.kind != kind:
        abort(404)
    services.remove_question(question)
    db.session.commit()
    flash(_("The question is removed."), "info")
    return redirect(url_for("courses.edit_quiz", module_id=module.id, kind=kind))


@bp.post("/manage/<int:module_id>/requests/<int:enrolment_id>")
@trainer_required
def decide_request(module_id, enrolment_id):
    """Accept or refuse a request to enrol."""
    module = access.authored_module(module_id)
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.module_id != module.id:
        abort(404)
    accept = request.form.get("decision") == "accept"
    services.decide_request(enrolment, accept, actor=current_user)
    db.session.commit()
    if accept:
        flash(_("%(name)s is enrolled.", name=enrolment.user.name), "success")
    else:
        flash(_("The request of %(name)s is refused.", name=enrolment.user.name), "info")
    return redirect(url_for("courses.edit_module", module_id=module.id) + "#learners")


@bp.post("/manage/<int:module_id>/invite")
@trainer_required
def invite(module_id):
    """Enrol existing accounts by e-mail address."""
    module = access.authored_module(module_id)
    form = InviteForm()
    back = url_for("courses.edit_module", module_id=module.id) + "#learners"
    if not form.validate_on_submit():
        flash(_("Give at least one e-mail address."), "danger")
        return redirect(back)
    addresses = {part.lower() for part in re.split(r"[\s,;]+", form.emails.data) if part}
    users = db.session.scalars(select(User).where(User.email.in_(addresses))).all()
    unknown = sorted(addresses - {user.email for user in users})
    added = services.invite(module, users, actor=current_user)
    record("enrolment.invited", actor=current_user, module_id=module.id, count=added)
    db.session.commit()
    flash(ngettext("%(num)s learner enrolled.", "%(num)s learners enrolled.", added), "success")
    if unknown:
        flash(_("No account has these addresses: %(list)s", list=", ".join(unknown)), "warning")
    return redirect(back)
