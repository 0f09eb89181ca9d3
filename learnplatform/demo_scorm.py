"""The demo data set's SCORM lesson: our own SCORM 2004 package, kept as a folder of files under
``data/demo/scorm/`` and imported as a trainer's upload is (zipped, checked, unpacked into
storage), as the last lesson of the module whose theme it serves. See data/demo/README.md.
"""

import io
import zipfile
from pathlib import Path

from sqlalchemy import select

from courses.models import Module
from courses.scorm.authoring import add_package_lesson
from courses.scorm.importing import read_package
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.richtext import clean_lesson_html

PACKAGES_DIR = Path(__file__).parent / "data" / "demo" / "scorm"

#: (package folder under PACKAGES_DIR, title of the English demo module it is a lesson of)
SCORM_LESSONS = (("electronic-evidence", "Requesting electronic evidence across borders"),)


def zip_folder(folder: Path) -> bytes:
    """The files under ``folder`` as a zip made in memory, their paths relative to it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def add_scorm_lesson(module: Module, folder_name: str, author: User) -> bool:
    """The package in ``folder_name`` as ``module``'s last lesson, introduced by the text in
    ``<folder_name>.intro.html`` beside it, unless the module has a SCORM lesson already;
    returns whether it was added. Flushed, not committed."""
    if any(lesson.kind == "scorm" for lesson in module.lessons):
        return False
    data = zip_folder(PACKAGES_DIR / folder_name)
    file_name = f"{folder_name}.zip"
    imported = read_package(io.BytesIO(data), file_name, uploaded_by=author)
    lesson = add_package_lesson(
        module, imported, file_name=file_name, title="", max_attempts=0, actor=author
    )
    introduction = PACKAGES_DIR / f"{folder_name}.intro.html"
    if introduction.exists():
        lesson.body_html = clean_lesson_html(introduction.read_text(encoding="utf-8"))
    db.session.flush()
    return True


def add_scorm_lessons(author: User) -> int:
    """Give each demo module named in :data:`SCORM_LESSONS` its SCORM lesson, where it has none;
    returns how many were added."""
    added = 0
    for folder_name, module_title in SCORM_LESSONS:
        module = db.session.scalar(
            select(Module).where(Module.title == module_title, Module.language == "en")
        )
        if module is not None and add_scorm_lesson(module, folder_name, author):
            added += 1
    return added
