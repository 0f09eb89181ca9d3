"""The demo data set's SCORM lesson (learnplatform/demo_scorm.py)."""

import re

from sqlalchemy import func, select

from courses.models import Lesson, Module
from courses.scorm.models import ScormFile, ScormPackage
from learnplatform.demo_scorm import PACKAGES_DIR, SCORM_LESSONS, add_scorm_lessons
from learnplatform.extensions import db
from learnplatform.storage import StoredFile, path_of

FOLDER, MODULE_TITLE = SCORM_LESSONS[0]
PACKAGE_FILES = {"imsmanifest.xml", "index.html", "sco.js", "sco.css"}


def _scorm_lessons(module_title: str) -> list[Lesson]:
    return list(
        db.session.scalars(
            select(Lesson)
            .join(Module, Module.id == Lesson.module_id)
            .where(Module.title == module_title, Lesson.kind == "scorm")
        )
    )


def test_the_demo_gives_the_electronic_evidence_module_its_scorm_lesson_once(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert "1 SCORM lessons" in first.output

    with app.app_context():
        [lesson] = _scorm_lessons(MODULE_TITLE)
        module = lesson.module
        assert module.language == "en"
        assert module.lessons[-1] == lesson, "the SCORM lesson comes after the text lessons"
        assert len(module.lessons) > 1
        assert lesson.title == "Scenario: an online threat and the evidence held abroad"
        assert "you are the duty prosecutor" in lesson.body_html  # its introduction
        package = lesson.package
        assert (package.version, package.edition) == ("2004", "4th")
        assert package.max_attempts == 0
        assert package.file_name == f"{FOLDER}.zip"
        [sco] = package.scos
        assert sco.href == "index.html"
        assert sco.scaled_passing_score == 0.7
        stored = {
            path: stored
            for path, stored in db.session.execute(
                select(ScormFile.path, StoredFile)
                .join(StoredFile, StoredFile.id == ScormFile.stored_file_id)
                .where(ScormFile.package_id == package.id)
            )
        }
        assert set(stored) == PACKAGE_FILES
        for path, file in stored.items():
            assert path_of(file).read_bytes() == (PACKAGES_DIR / FOLDER / path).read_bytes()
        packages = db.session.scalar(select(func.count(ScormPackage.id)))

    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert "0 SCORM lessons" in second.output
    with app.app_context():
        assert len(_scorm_lessons(MODULE_TITLE)) == 1
        assert db.session.scalar(select(func.count(ScormPackage.id))) == packages


def test_a_module_gets_the_lesson_only_while_it_has_no_scorm_lesson(app_context, create_user):
    trainer = db.session.merge(create_user(role="trainer"))
    module = Module(title=MODULE_TITLE, summary="", theme="electronic_evidence", language="en")
    db.session.add(module)
    db.session.flush()

    assert add_scorm_lessons(trainer) == 1
    assert add_scorm_lessons(trainer) == 0
    assert [lesson.kind for lesson in module.lessons] == ["scorm"]
    assert module.lessons[0].package.imported_by_id == trainer.id


def test_the_package_is_our_own_files_and_loads_nothing_from_elsewhere():
    folder = PACKAGES_DIR / FOLDER
    assert {path.name for path in folder.rglob("*")} == PACKAGE_FILES
    for name in ("index.html", "sco.js", "sco.css"):
        text = (folder / name).read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), name
        assert "@import" not in text and "@font-face" not in text, name
    assert '<html lang="en">' in (folder / "index.html").read_text(encoding="utf-8")
