"""Who may do what with a module: one place, used by every view of the package.

A module that someone may not see answers exactly as one that does not exist (404). Visitors who
are not logged in see the published modules their trainers made public; for any other module they
are sent to log in, as for every page that is not public.
"""

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import ColumnElement

from courses.models import Enrolment, Lesson, LessonAttachment, Module, QuizAttempt
from learnplatform.extensions import db


def can_author(user, module: Module) -> bool:
    """Administrators author every module; trainers the modules they created."""
    return user.is_administrator or (user.is_trainer and module.created_by_id == user.id)


def listed_to(user) -> ColumnElement[bool]:
    """The condition on ``Module`` rows the catalogue lists to ``user``: the published modules, and
    to a visitor who is not logged in only those made public."""
    if user.is_authenticated:
        return Module.is_published
    return Module.is_published & Module.is_public


def visible_module(module_id: int) -> Module:
    """A published module, or a draft for those who author it; otherwise 404. A visitor who is not
    logged in sees a public published module, and is sent to log in for any other."""
    module = db.session.get(Module, module_id)
    if not current_user.is_authenticated:
        if module is None or not (module.is_published and module.is_public):
            abort(current_app.login_manager.unauthorized())
        return module
    if module is None or not (module.is_published or can_author(current_user, module)):
        abort(404)
    return module


def authored_module(module_id: int) -> Module:
    """A module the current user authors; 404 for everyone else, as if it did not exist."""
    module = db.session.get(Module, module_id)
    if module is None or not can_author(current_user, module):
        abort(404)
    return module


def learning_access(module: Module) -> Enrolment | None:
    """The learner's active enrolment; ``None`` for an author previewing. Otherwise 404."""
    from courses.services import enrolment_of

    enrolment = enrolment_of(module, current_user)
    if enrolment is not None and enrolment.status == "active" and module.is_published:
        return enrolment
    if can_author(current_user, module):
        return None
    abort(404)


def lesson_in(module: Module, lesson_id: int) -> Lesson:
    """A lesson of the module; 404 for an id from another module."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.module_id != module.id:
        abort(404)
    return lesson


def readable_attachment(attachment_id: int) -> LessonAttachment:
    """An attachment of a lesson the current user may read; 404 otherwise."""
    attachment = db.session.get(LessonAttachment, attachment_id)
    if attachment is None:
        abort(404)
    learning_access(attachment.lesson.module)
    return attachment


def own_attempt(attempt_id: int) -> QuizAttempt:
    """One of the current user's own quiz attempts; anybody else's is 404."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt
