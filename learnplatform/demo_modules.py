"""The demo data set's modules: one YAML file per module version in ``data/demo/modules/`` (its
title, summary and settings, its lessons and its tests), the pictures its lessons show in
``data/demo/media/``, and ``data/demo/outlines.yaml`` for modules that have no lessons of their
own (see data/demo/README.md, "Demo modules").

A lesson shows a picture by naming a file of ``media/`` where the platform wants the address of
the lesson's attachment (``<img src="media:cbrn-layers.en.png" alt="...">``): the file is stored
as a trainer's upload is, attached to the lesson, and the reference becomes that attachment's
address before the body is cleaned. A video is named the same way in the reference the lesson
page plays (``<figure data-video="webinar-sample.webm">``, docs/lesson-video.md), from
``media/`` or the demo folder, and becomes one of the lesson's videos, with the captions the
lesson's ``videos`` lists for it.

A module is looked up by its title and added when missing; lessons and tests are given to a
module that has no lesson yet.
"""

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from courses import lesson_videos, versions
from courses import services as courses
from courses.models import Lesson, LessonAttachment, Module, Quiz
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.storage import ATTACHMENT_TYPES, save_upload

DEMO_DIR = Path(__file__).parent / "data" / "demo"
MODULES_DIR = DEMO_DIR / "modules"
MEDIA_DIR = DEMO_DIR / "media"
OUTLINES_FILE = DEMO_DIR / "outlines.yaml"

#: the keys every module file has; ``published_days_ago``, ``version_of``, ``lessons``,
#: ``pre_test`` and ``post_test`` are optional
REQUIRED = ("title", "theme", "language", "minutes", "published", "enrolment", "summary")

#: a picture of ``media/`` in a lesson body, where an attachment's address goes
IMAGE_REFERENCE = re.compile(r'\bsrc="media:([\w.-]+)"')
#: a video of the demo in a lesson body, where the id of the lesson's video goes
VIDEO_REFERENCE = re.compile(r'\bdata-video="([\w-][\w.-]*)"')


def read_yaml(path: Path) -> dict:
    """A data file of the demo, read; ``ValueError`` naming the file when it is not a mapping."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping of keys to values")
    return data


def module_specs() -> list[dict]:
    """Every module file, read, with its ``key`` (the file's name without ``.yaml``, as
    ``version_of`` names it): the longest published first, as they are added, drafts last."""
    specs = []
    for path in sorted(MODULES_DIR.glob("*.yaml")):
        spec = read_yaml(path)
        missing = [key for key in REQUIRED if key not in spec]
        if missing:
            raise ValueError(f"{path.name}: missing {', '.join(missing)}")
        specs.append({**spec, "key": path.stem})
    return sorted(specs, key=lambda spec: (-spec.get("published_days_ago", -1), spec["key"]))


def add_modules(author: User) -> int:
    """The demo modules missing, by title, each linked as a version of its ``version_of``.
    Returns how many were added. Flushed, not committed."""
    specs = module_specs()
    existing = set(db.session.scalars(select(Module.title)))
    now = datetime.now(UTC).replace(tzinfo=None)
    added = 0
    for spec in specs:
        if spec["title"] in existing:
            continue
        published = bool(spec["published"])
        db.session.add(
            Module(
                title=spec["title"],
                summary=spec["summary"],
                theme=spec["theme"],
                language=spec["language"],
                estimated_minutes=spec["minutes"],
                is_published=published,
                is_public=published and bool(spec.get("public", False)),
                enrolment_mode=spec["enrolment"],
                created_by=author,
                published_at=now - timedelta(days=spec["published_days_ago"])
                if published
                else None,
            )
        )
        added += 1
    db.session.flush()
    by_title = {module.title: module for module in db.session.scalars(select(Module))}
    title_of = {spec["key"]: spec["title"] for spec in specs}
    for spec in specs:
        translation = by_title[spec["title"]]
        if "version_of" in spec and translation.family_id is None:
            versions.link(translation, by_title[title_of[spec["version_of"]]])
    return added


def add_lessons_and_tests(author: User, rng: random.Random) -> int:
    """Give every demo module that has no lesson yet its lessons and tests: its own, or the
    outline of its language (with the outline's tests for English modules). Returns how many
    lessons and tests were added. Flushed, not committed."""
    outlines = read_yaml(OUTLINES_FILE)
    specs = {spec["title"]: spec for spec in module_specs()}
    added = 0
    for module in db.session.scalars(select(Module).where(Module.lesson_count == 0)):
        spec = specs.get(module.title)
        if spec is None:
            continue
        if "lessons" in spec:
            lessons, tests = spec["lessons"], spec
        else:
            lessons = outlines["lessons"].get(module.language, outlines["lessons"]["en"])
            lessons = [
                {**lesson, "body": f"<p><strong>{module.summary}</strong></p>" + lesson["body"]}
                if number == 0
                else lesson
                for number, lesson in enumerate(lessons)
            ]
            tests = outlines if module.language == "en" else {}
        for lesson in lessons:
            _add_lesson(module, lesson, author)
            added += 1
        for kind in ("pre_test", "post_test"):
            if kind in tests:
                _add_test(module, kind, tests[kind], rng)
                added += 1
    db.session.flush()
    return added


def _add_lesson(module: Module, spec: dict, author: User) -> Lesson:
    """The lesson, with the pictures its body names as its attachments and the videos it names
    as its videos (with their captions)."""
    lesson = courses.add_lesson(module, title=spec["title"], body_html="")
    addresses = {}
    for name in dict.fromkeys(IMAGE_REFERENCE.findall(spec["body"])):
        with demo_file(name).open("rb") as stream:
            stored = save_upload(stream, name, allowed=ATTACHMENT_TYPES, uploaded_by=author)
        attachment = LessonAttachment(lesson_id=lesson.id, stored_file_id=stored.id)
        db.session.add(attachment)
        db.session.flush()
        addresses[name] = f"/courses/attachments/{attachment.id}/inline"
    videos = {}
    for name in dict.fromkeys(VIDEO_REFERENCE.findall(spec["body"])):
        with demo_file(name).open("rb") as stream:
            video = lesson_videos.add_video(lesson, stream, name, user=author)
        captions = spec.get("videos", {}).get(name, {}).get("captions", {})
        for language, captions_name in captions.items():
            with demo_file(captions_name).open("rb") as stream:
                lesson_videos.set_captions(video, language, stream, captions_name, user=author)
        videos[name] = video.id
    body = IMAGE_REFERENCE.sub(lambda found: f'src="{addresses[found.group(1)]}"', spec["body"])
    body = VIDEO_REFERENCE.sub(lambda found: f'data-video="{videos[found.group(1)]}"', body)
    courses.edit_lesson(lesson, title=spec["title"], body_html=body)
    return lesson


def demo_file(name: str) -> Path:
    """A file a lesson names: in ``media/``, else in the demo folder (its sample recording)."""
    path = MEDIA_DIR / name
    return path if path.is_file() else DEMO_DIR / name


def _add_test(module: Module, kind: str, spec: dict, rng: random.Random) -> Quiz:
    """The module's pre-test or post-test, with its questions."""
    quiz = courses.quiz_of(module, kind, create=True)
    quiz.title = spec["title"]
    if "pass_mark" in spec:
        quiz.pass_mark = spec["pass_mark"]
    if kind == "post_test":
        quiz.shuffle = rng.random() < 0.5
    for question in spec["questions"]:
        courses.save_question(
            quiz,
            None,
            kind=question["kind"],
            text=question["text"],
            points=1,
            feedback=question["feedback"],
            options=[(text, bool(correct)) for text, correct in question["options"]],
        )
    return quiz
