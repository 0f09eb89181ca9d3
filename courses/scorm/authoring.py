"""Trainers' side of SCORM lessons: importing a package as a lesson, its settings, and what
goes when the lesson goes."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import delete, insert, select
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange

from courses import access, bp, services
from courses.forms import TellsLearners
from courses.scorm.importing import ImportedPackage, read_package
from courses.scorm.models import ScormFile, ScormPackage, ScormSco
from learnplatform.access import trainer_required
from learnplatform.extensions import db
from learnplatform.security import upload_quota
from learnplatform.storage import StorageRefused, StoredFile, clean_file_name, delete_stored

VERSION_NAMES = {"1.2": "SCORM 1.2", "2004": "SCORM 2004"}
#: SCORM 2004's editions as a whole phrase each, so that each language writes its ordinal
EDITIONS = {"2nd": _l("2nd edition"), "3rd": _l("3rd edition"), "4th": _l("4th edition")}


class ScormImportForm(TellsLearners):
    """A SCORM package to add to the module as a lesson."""

    file = FileField(
        _l("SCORM package (.zip)"),
        validators=[FileRequired(_l("Choose the package's zip file."))],
        render_kw={"accept": ".zip,application/zip"},
        description=_l(
            "A SCORM 1.2 or SCORM 2004 package, as Articulate Storyline, Adobe Captivate, "
            "iSpring and other authoring tools export it."
        ),
    )
    title = StringField(
        _l("Lesson title"),
        validators=[Length(max=200)],
        description=_l("Leave it empty to use the package's own title."),
    )
    max_attempts = IntegerField(
        _l("Attempts allowed"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        render_kw={"min": 0, "max": 100},
        description=_l("0 means no limit. A new attempt can start once the last one is over."),
    )
    submit = SubmitField(_l("Import the package"))


class ScormSettingsForm(FlaskForm):
    """A SCORM lesson's settings."""

    max_attempts = IntegerField(
        _l("Attempts allowed"),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        description=_l("0 means no limit. A new attempt can start once the last one is over."),
    )
    submit = SubmitField(_l("Save the settings"))


def add_package_lesson(
    module, imported: ImportedPackage, *, file_name: str, title: str, max_attempts: int, actor
):
    """The imported package as the module's next lesson (flushed, not committed)."""
    manifest = imported.manifest
    lesson = services.add_lesson(module, title=title or manifest.title[:200], body_html="")
    lesson.kind = "scorm"
    package = ScormPackage(
        lesson=lesson,
        version=manifest.version,
        edition=manifest.edition,
        title=manifest.title[:200],
        outline=[
            {"title": item.title, "depth": item.depth, "sco": item.sco} for item in manifest.items
        ],
        max_attempts=max_attempts,
        file_name=clean_file_name(file_name),
        size=sum(stored.size for stored in imported.files.values()),
        imported_by_id=actor.id,
    )
    db.session.add(package)
    for position, sco in enumerate(manifest.scos, start=1):
        package.scos.append(
            ScormSco(
                position=position,
                identifier=sco.identifier,
                title=sco.title[:500],
                href=sco.href,
                scorm_type=sco.scorm_type,
                mastery_score=sco.mastery_score,
                scaled_passing_score=sco.scaled_passing_score,
                completion_threshold=sco.completion_threshold,
                launch_data=sco.launch_data or "",
                max_time_allowed=(sco.max_time_allowed or "")[:40],
                time_limit_action=(sco.time_limit_action or "")[:40],
            )
        )
    db.session.flush()
    db.session.execute(
        insert(ScormFile),
        [
            {"package_id": package.id, "path": path, "stored_file_id": stored.id}
            for path, stored in imported.files.items()
        ],
    )
    return lesson


def remove_package_files(lesson) -> None:
    """Before a SCORM lesson is removed: its unpacked files go (from the disk once the removal
    is committed)."""
    package = lesson.package
    if package is None:
        return
    stored_ids = list(
        db.session.scalars(
            select(ScormFile.stored_file_id).where(ScormFile.package_id == package.id)
        )
    )
    db.session.execute(delete(ScormFile).where(ScormFile.package_id == package.id))
    for stored in db.session.scalars(select(StoredFile).where(StoredFile.id.in_(stored_ids))):
        delete_stored(stored)


def lesson_form_extras(lesson, form) -> dict:
    """What the lesson's edit page shows of its package; its text is an introduction."""
    if lesson.package is None:
        return {}
    form.body.label.text = _("Introduction")
    form.body.description = _(
        "Shown above the package: what the learner will do in it and how long it takes. "
        "Formatted text, as in other lessons."
    )
    return {
        "scorm_standard": describe(lesson.package),
        "scorm_form": ScormSettingsForm(data={"max_attempts": lesson.package.max_attempts}),
    }


def describe(package: ScormPackage) -> str:
    """The package's standard in words: "SCORM 2004, 4th edition"."""
    name = VERSION_NAMES.get(package.version, package.version)
    edition = EDITIONS.get(package.edition or "")
    return _("%(name)s, %(edition)s", name=name, edition=edition) if edition else name


@bp.route("/manage/<int:module_id>/lessons/scorm", methods=["GET", "POST"])
@upload_quota
@trainer_required
def import_scorm(module_id):
    """Import a SCORM package as the module's next lesson. A package refused leaves nothing."""
    module = access.authored_module(module_id)
    form = ScormImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            imported = read_package(upload.stream, upload.filename or "", uploaded_by=current_user)
        except StorageRefused as refusal:
            db.session.rollback()
            form.file.errors.append(str(refusal))
        else:
            lesson = add_package_lesson(
                module,
                imported,
                file_name=upload.filename or "",
                title=(form.title.data or "").strip(),
                max_attempts=form.max_attempts.data,
                actor=current_user,
            )
            from courses.manage import tell_learners  # the authoring views import this one

            tell_learners(form, module, lesson)
            db.session.commit()
            flash(
                ngettext(
                    "The package is imported as the lesson %(title)s: %(standard)s, "
                    "%(num)d part to launch.",
                    "The package is imported as the lesson %(title)s: %(standard)s, "
                    "%(num)d parts to launch.",
                    len(lesson.package.scos),
                    title=lesson.title,
                    standard=describe(lesson.package),
                ),
                "success",
            )
            return redirect(
                url_for("courses.edit_lesson", module_id=module.id, lesson_id=lesson.id)
            )
    return render_template("courses/scorm/import.html", module=module, form=form)


@bp.post("/manage/<int:module_id>/lessons/<int:lesson_id>/scorm")
@trainer_required
def scorm_settings(module_id, lesson_id):
    """Change a SCORM lesson's settings."""
    module = access.authored_module(module_id)
    lesson = access.lesson_in(module, lesson_id)
    back = url_for("courses.edit_lesson", module_id=module.id, lesson_id=lesson.id)
    form = ScormSettingsForm()
    if lesson.package is None:
        return redirect(back)
    if form.validate_on_submit():
        lesson.package.max_attempts = form.max_attempts.data
        db.session.commit()
        flash(_("The settings are saved."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
    return redirect(back)
