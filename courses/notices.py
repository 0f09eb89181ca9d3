"""What the modules tell people: a request to enrol (to the module's trainers), its answer (to
the learner), an enrolment by a trainer, a certificate issued or revoked, a module updated.

Each function is called in the transaction of its event, before the view commits.
"""

from flask import url_for
from sqlalchemy import select

from courses.models import Certificate, Enrolment, Module
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.jobs import with_links
from learnplatform.notifications.services import notify


def trainers_of(module: Module) -> list[User]:
    """Who answers the module's requests: the trainer who created it, or, if that account is
    gone or closed, the administrators."""
    author = db.session.get(User, module.created_by_id) if module.created_by_id else None
    if author is not None and author.active and author.is_trainer:
        return [author]
    return db.session.scalars(
        select(User).where(User.role == "administrator", User.active.is_(True)).order_by(User.id)
    ).all()


@with_links
def enrolment_requested(enrolment: Enrolment, module: Module, learner) -> None:
    notify(
        trainers_of(module),
        "enrolment_requested",
        key=f"enrolment-requested:{enrolment.id}",
        url=url_for("courses.edit_module", module_id=module.id) + "#learners",
        params={"actor": learner.name, "module": module.title},
    )


@with_links
def enrolment_decided(enrolment: Enrolment, accepted: bool) -> None:
    module = enrolment.module
    notify(
        [enrolment.user],
        "enrolment_accepted" if accepted else "enrolment_refused",
        key=f"enrolment-decided:{enrolment.id}",
        url=url_for("courses.module", module_id=module.id),
        params={"module": module.title},
    )


@with_links
def enrolled_by(enrolment: Enrolment, module: Module, learner, actor) -> None:
    notify(
        [learner],
        "enrolled_by_trainer",
        key=f"enrolled:{enrolment.id}:{enrolment.enrolled_at.isoformat()}",
        url=url_for("courses.module", module_id=module.id),
        params={"actor": actor.name, "module": module.title},
    )


@with_links
def certificate_issued(certificate: Certificate, learner) -> None:
    notify(
        [learner],
        "certificate_issued",
        key=f"certificate:{certificate.id}",
        url=url_for("courses.certificate", certificate_id=certificate.id),
        params={"module": certificate.module_title},
    )


@with_links
def certificate_revoked(certificate: Certificate, learner) -> None:
    # The reason is not sent: the learner's certificate page, where the link goes, says it.
    notify(
        [learner],
        "certificate_revoked",
        key=f"certificate-revoked:{certificate.id}",
        url=url_for("courses.certificate", certificate_id=certificate.id),
        params={"module": certificate.module_title},
    )


@with_links
def module_updated(module: Module, lesson, actor) -> int:
    """Tell the module's active learners that ``lesson`` was added or changed (a trainer's
    choice, when saving it); how many were told."""
    learners = db.session.scalars(
        select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.module_id == module.id, Enrolment.status == "active", User.id != actor.id)
        .order_by(User.id)
    ).all()
    return notify(
        learners,
        "module_updated",
        key=f"module-updated:{lesson.id}:{lesson.updated_at.isoformat()}",
        url=url_for("courses.lesson", module_id=module.id, lesson_id=lesson.id),
        params={"module": module.title, "lesson": lesson.title},
    )
