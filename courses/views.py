"""What learners use: the catalogue, module pages, lessons, quizzes, "My learning", certificates,
and the webinar recordings."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from courses import access, bp, lesson_videos, services, versions
from courses.models import Certificate, Enrolment, Module, Quiz
from courses.scorm import player as scorm_player
from learnplatform import numbers
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.extensions import db
from learnplatform.flashes import flash_with_link
from learnplatform.network import from_this_site
from learnplatform.search import folded_matching_every_word
from learnplatform.security import frame_policy
from learnplatform.storage import send_stored
from learnplatform.surveys import asking

PAGE_SIZE = 12


@bp.get("/")
def catalogue():
    """Published modules, searchable by words and filtered by theme and language; visitors who are
    not logged in see the public ones.

    Until the person chooses a language, the catalogue shows the modules in their interface
    language, when there are any; every card lists the languages its module exists in. Words match
    whatever their case and accents ("nucleaire" finds "nucléaire").
    """
    words = request.args.get("q", "").strip()[:200]
    theme = request.args.get("theme", "")
    language = request.args.get("language")
    listed = access.listed_to(current_user)
    published = select(Module).where(listed)
    if language is None:
        own = str(get_locale())
        offered = db.session.scalar(published.where(Module.language == own).limit(1))
        language = own if offered is not None else ""
    query = published.where(*folded_matching_every_word(words, Module.search_text))
    if theme in THEMES:
        query = query.where(Module.theme == theme)
    if language in LANGUAGES:
        query = query.where(Module.language == language)
    page = db.paginate(query.order_by(Module.title, Module.id), per_page=PAGE_SIZE, max_per_page=50)
    return render_template(
        "courses/catalogue.html",
        page=page,
        words=words,
        theme=theme if theme in THEMES else "",
        language=language if language in LANGUAGES else "",
        chose_language="language" in request.args,
        versions=versions.languages_of_families(Module, page.items, listed),
        themes=THEMES,
        languages=LANGUAGES,
    )


@bp.app_template_global()
def public_modules(limit: int = 6) -> dict:
    """For the visitors' home: the public modules published last, the languages each exists in,
    and how many public modules there are."""
    listed = access.listed_to(current_user)
    newest = db.session.scalars(
        select(Module)
        .where(listed)
        .order_by(Module.published_at.desc().nulls_last(), Module.id.desc())
        .limit(limit)
    ).all()
    return {
        "modules": newest,
        "versions": versions.languages_of_families(Module, newest, listed),
        "total": db.session.scalar(select(func.count()).select_from(Module).where(listed)),
    }


@bp.get("/modules/<int:module_id>")
def module(module_id):
    """A module's description and syllabus, with the enrol button its enrolment mode calls for;
    a visitor's button leads through login or registration and back, enrolled."""
    found = access.visible_module(module_id)
    signed_in = current_user.is_authenticated
    enrolment = services.enrolment_of(found, current_user) if signed_in else None
    # The quizzes that have questions, in one query rather than every question of every quiz.
    quizzes = {
        quiz.kind: quiz
        for quiz in db.session.scalars(
            select(Quiz).where(Quiz.module_id == found.id, Quiz.questions.any())
        )
    }
    progress = None
    if enrolment is not None and enrolment.status == "active":
        progress = services.progress_in(enrolment, quizzes.get("post_test"))
    listed = access.listed_to(current_user)
    return render_template(
        "courses/module.html",
        module=found,
        enrolment=enrolment,
        progress=progress,
        done=services.done_lesson_ids(enrolment),
        quizzes=quizzes,
        certificate=services.certificate_of(enrolment),
        evaluation=asking.evaluation_waiting(enrolment),
        can_author=signed_in and access.can_author(current_user, found),
        versions=versions.versions_of(found, listed),
        # the public versions, for search engines' language alternates
        alternates=versions.versions_of(found, Module.is_published, Module.is_public)
        if found.is_public and found.is_published
        else [],
        themes=THEMES,
        languages=LANGUAGES,
    )


@bp.post("/modules/<int:module_id>/enrol")
@login_required
def enrol(module_id):
    """Enrol, or ask to, depending on the module's enrolment mode."""
    return _enrol(access.visible_module(module_id))


@bp.get("/modules/<int:module_id>/join")
@login_required
def join(module_id):
    """Where a visitor's "Enrol" leads once logged in or registered: enrolled (or asked), then
    back to the module.

    A GET, so that it can be the page login returns to; it enrols only when the browser says one
    of the platform's own pages led to it (the login form), so that a link from another site
    cannot enrol anybody: such a link shows the module with its button.
    """
    found = access.visible_module(module_id)
    if not from_this_site():
        return redirect(url_for("courses.module", module_id=found.id))
    return _enrol(found)


def _enrol(found: Module):
    """Enrol the current user in ``found`` or ask its trainers, once however often it is asked,
    and go back to the module saying which."""
    try:
        enrolment = services.enrol(found, current_user)
    except services.NotAllowed:
        flash(_("This module is open by invitation only."), "warning")
        return redirect(url_for("courses.module", module_id=found.id))
    db.session.commit()
    if enrolment.status == "requested":
        flash(_("Your request has been sent to the module's trainers."), "info")
    elif enrolment.status == "active":
        flash(_("You are enrolled. Start with the first lesson when you are ready."), "success")
    return redirect(url_for("courses.module", module_id=found.id))


@bp.get("/modules/<int:module_id>/resume")
@login_required
def resume(module_id):
    """Where to carry on: the post-test once every lesson is done and the test is left, else the
    lesson opened last, else the first not yet done."""
    found = access.visible_module(module_id)
    enrolment = access.learning_access(found)
    post_test = services.quiz_of(found, "post_test")
    if enrolment is not None and services.progress_in(enrolment, post_test).post_test_next:
        return redirect(url_for("courses.quiz", module_id=found.id, kind="post_test"))
    last_lesson_id = enrolment.last_lesson_id if enrolment is not None else None
    target = services.next_lesson(
        found.lessons, last_lesson_id, services.done_lesson_ids(enrolment)
    )
    if target is None:
        return redirect(url_for("courses.module", module_id=found.id))
    return redirect(url_for("courses.lesson", module_id=found.id, lesson_id=target.id))


@bp.get("/modules/<int:module_id>/lessons/<int:lesson_id>")
@login_required
def lesson(module_id, lesson_id):
    """A lesson, with the syllabus beside it; opening it is remembered for resuming."""
    found = access.visible_module(module_id)
    enrolment = access.learning_access(found)
    shown = access.lesson_in(found, lesson_id)
    if enrolment is not None and enrolment.last_lesson_id != shown.id:
        services.open_lesson(enrolment, shown)
        db.session.commit()
    lessons = found.lessons
    index = lessons.index(shown)
    scorm = scorm_player.player(found, shown, enrolment) if shown.kind == "scorm" else None
    body, frames = lesson_videos.lesson_body(shown)
    response = make_response(
        render_template(
            "courses/lesson.html",
            module=found,
            lesson=shown,
            body=body,
            enrolment=enrolment,
            scorm=scorm,
            done=services.done_lesson_ids(enrolment),
            files=services.listed_attachments(shown),
            previous=lessons[index - 1] if index > 0 else None,
            following=lessons[index + 1] if index + 1 < len(lessons) else None,
            post_test=services.quiz_of(found, "post_test"),
        )
    )
    if scorm is not None:
        response.headers["Content-Security-Policy"] = scorm_player.page_policy(frames)
    elif frames:
        response.headers["Content-Security-Policy"] = frame_policy(frames)
    return response


@bp.post("/modules/<int:module_id>/lessons/<int:lesson_id>/done")
@login_required
def lesson_done(module_id, lesson_id):
    """Mark a lesson as done and go on to the next one (or back to the module at the end)."""
    found = access.visible_module(module_id)
    enrolment = access.learning_access(found)
    done = access.lesson_in(found, lesson_id)
    if done.kind == "scorm":
        flash(_("This lesson is done once you complete it."), "info")
        return redirect(url_for("courses.lesson", module_id=found.id, lesson_id=done.id))
    if enrolment is not None:
        services.mark_done(enrolment, done)
        db.session.commit()
        if enrolment.completed_at is not None:
            _flash_certificate_ready(enrolment)
    lessons = found.lessons
    index = lessons.index(done)
    if index + 1 < len(lessons):
        following = lessons[index + 1]
        return redirect(url_for("courses.lesson", module_id=found.id, lesson_id=following.id))
    return redirect(url_for("courses.module", module_id=found.id))


def _flash_certificate_ready(enrolment: Enrolment) -> None:
    """Tell the learner the module is complete, with a link to the certificate it earned, or to
    the evaluation that its certificate waits for; and offer the evaluation, if it has one."""
    certificate = services.certificate_of(enrolment)
    evaluation = asking.evaluation_waiting(enrolment)
    evaluate = _("Evaluate this module")
    if certificate is None and evaluation is not None:
        flash_with_link(
            _("You have completed this module. Answer the evaluation to receive your certificate."),
            link_text=evaluate,
            url=asking.respond_url(evaluation),
            category="success",
        )
        return
    message = _("You have completed this module. Your certificate is ready.")
    if certificate is None:
        flash(message, "success")
    else:
        flash_with_link(
            message,
            link_text=_("View your certificate"),
            url=url_for("courses.certificate", certificate_id=certificate.id),
            category="success",
        )
    if evaluation is not None:
        flash_with_link(
            _("Tell the trainers what you thought of it: it takes a few minutes."),
            link_text=evaluate,
            url=asking.respond_url(evaluation),
        )


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id):
    """A lesson's attachment, for those who may read the lesson, as a download."""
    found = access.readable_attachment(attachment_id)
    return send_stored(found.stored_file)


@bp.get("/attachments/<int:attachment_id>/inline")
@login_required
def attachment_inline(attachment_id):
    """An image attached to a lesson, shown inside the lesson."""
    found = access.readable_attachment(attachment_id)
    if not found.stored_file.content_type.startswith("image/"):
        abort(404)
    return send_stored(found.stored_file, as_attachment=False)


def _quiz(module: Module, kind: str) -> Quiz:
    quiz = services.quiz_of(module, kind) if kind in {"pre_test", "post_test"} else None
    if quiz is None or not quiz.questions:
        abort(404)
    return quiz


@bp.get("/modules/<int:module_id>/<any(pre_test, post_test):kind>")
@login_required
def quiz(module_id, kind):
    """A quiz's rules and the learner's attempts so far."""
    found = access.visible_module(module_id)
    enrolment = access.learning_access(found)
    shown = _quiz(found, kind)
    attempts = services.attempts_of(shown, current_user)
    return render_template(
        "courses/quiz.html",
        module=found,
        quiz=shown,
        enrolment=enrolment,
        attempts=attempts,
        lessons_left=(found.lesson_count - enrolment.lessons_done) if enrolment else 0,
    )


@bp.post("/modules/<int:module_id>/<any(pre_test, post_test):kind>/start")
@login_required
def start_attempt(module_id, kind):
    """Start an attempt (or go back to the one already open)."""
    found = access.visible_module(module_id)
    access.learning_access(found)
    shown = _quiz(found, kind)
    try:
        attempt = services.start_attempt(shown, current_user)
    except services.NotAllowed as refusal:
        message = {
            "attempts": _("You have used all the attempts this test allows."),
            "passed": _("You have already passed this test."),
        }[refusal.message]
        flash(message, "warning")
        return redirect(url_for("courses.quiz", module_id=found.id, kind=kind))
    db.session.commit()
    return redirect(url_for("courses.attempt", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id):
    """An open attempt as a form (no answer marked), or a submitted one with its feedback."""
    shown = access.own_attempt(attempt_id)
    quiz = shown.quiz
    questions = services.questions_of(shown)
    return render_template(
        "courses/attempt.html",
        attempt=shown,
        quiz=quiz,
        module=quiz.module,
        questions=[(question, services.option_order(shown, question)) for question in questions],
        chosen=services.chosen_options(shown) if shown.submitted_at else set(),
    )


@bp.post("/attempts/<int:attempt_id>")
@login_required
def submit_attempt(attempt_id):
    """Submit an attempt: graded on the server, once."""
    shown = access.own_attempt(attempt_id)
    chosen: dict[int, set[int]] = {}
    for key in request.form:
        question_id = numbers.from_text(key.removeprefix("q-")) if key.startswith("q-") else None
        if question_id is not None:
            values = (numbers.from_text(value) for value in request.form.getlist(key))
            chosen[question_id] = {value for value in values if value is not None}
    try:
        services.submit_attempt(shown, chosen)
    except services.NotAllowed:
        flash(_("This attempt was already submitted; it cannot be changed."), "warning")
        return redirect(url_for("courses.attempt", attempt_id=shown.id))
    db.session.commit()
    enrolment = services.enrolment_of(shown.quiz.module, current_user)
    if shown.quiz.kind == "pre_test":
        # A pre-test only shows what the learner knew: no pass mark, no pass or fail.
        flash(
            _(
                "You scored %(percent)d%%. The pre-test does not count towards completing the "
                "module.",
                percent=shown.percent,
            ),
            "info",
        )
    elif shown.passed:
        flash(_("You passed with %(percent)d%%.", percent=shown.percent), "success")
        if enrolment is not None and enrolment.completed_at is not None:
            _flash_certificate_ready(enrolment)
    else:
        flash(
            _(
                "You scored %(percent)d%%; the pass mark is %(mark)d%%.",
                percent=shown.percent,
                mark=shown.quiz.pass_mark,
            ),
            "warning",
        )
    return redirect(url_for("courses.attempt", attempt_id=shown.id))


@bp.get("/my-learning")
@login_required
def my_learning():
    """The learner's modules: waiting for approval, in progress, completed, with certificates."""
    rows = db.session.execute(
        select(Enrolment, Certificate, *services.post_test_columns())
        .options(joinedload(Enrolment.module), joinedload(Enrolment.last_lesson))
        .outerjoin(Certificate, Certificate.enrolment_id == Enrolment.id)
        .where(Enrolment.user_id == current_user.id, Enrolment.status != "refused")
        .order_by(Enrolment.last_activity_at.desc().nulls_last(), Enrolment.id.desc())
    ).all()
    groups = {"requested": [], "in_progress": [], "completed": []}
    for enrolment, certificate, has_post_test, post_test_passed in rows:
        progress = services.progress_of(
            enrolment, has_post_test=has_post_test, post_test_passed=post_test_passed
        )
        if enrolment.status == "requested":
            groups["requested"].append((enrolment, None, progress))
        elif enrolment.completed_at is not None:
            groups["completed"].append((enrolment, certificate, progress))
        else:
            groups["in_progress"].append((enrolment, None, progress))
    completed = [enrolment.module_id for enrolment, *_ in groups["completed"]]
    return render_template(
        "courses/my_learning.html",
        groups=groups,
        themes=THEMES,
        evaluations=asking.evaluations_waiting(current_user.id, completed),
        surveys=asking.waiting_for(current_user.id),
    )


@bp.get("/certificates/<int:certificate_id>")
@login_required
def certificate(certificate_id):
    """The learner's own certificate, ready to print."""
    found = db.session.get(Certificate, certificate_id)
    if found is None or found.user_id != current_user.id:
        abort(404)
    return render_template("courses/certificate.html", certificate=found)
