"""The demo modules: data files (learnplatform/data/demo/) read by learnplatform.demo_modules."""

import json
import re

from sqlalchemy import select

from courses import versions
from courses.lesson_videos import LessonVideo
from courses.models import Lesson, Module, Quiz
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.demo_modules import (
    DEMO_DIR,
    IMAGE_REFERENCE,
    MEDIA_DIR,
    MODULES_DIR,
    OUTLINES_FILE,
    VIDEO_REFERENCE,
    demo_file,
    module_specs,
    read_yaml,
)
from learnplatform.extensions import db

CBRN_LANGUAGES = {"en", "fr", "es", "ru", "ar", "zh", "pt"}
IMG = re.compile(r"<img\b[^>]*>")


def test_every_data_file_parses_and_every_file_a_lesson_names_exists():
    specs = module_specs()
    assert len(specs) == len(list(MODULES_DIR.glob("*.yaml"))) >= 20
    read_yaml(OUTLINES_FILE)
    read_yaml(MEDIA_DIR / "diagrams.yaml")
    json.loads((DEMO_DIR / "forums.json").read_text(encoding="utf-8"))
    keys = {spec["key"] for spec in specs}
    for spec in specs:
        assert spec.get("version_of", spec["key"]) in keys, spec["key"]
        assert spec["theme"] in THEMES and spec["language"] in LANGUAGES, spec["key"]
        for lesson in spec.get("lessons", ()):
            body = lesson["body"]
            names = IMAGE_REFERENCE.findall(body) + VIDEO_REFERENCE.findall(body)
            for captions in lesson.get("videos", {}).values():
                names += captions["captions"].values()
            for name in names:
                assert demo_file(name).is_file(), (spec["key"], name)
    for captions in MEDIA_DIR.glob("*.vtt"):
        assert captions.read_text(encoding="utf-8").startswith("WEBVTT\n"), captions.name


def test_demo_modules_have_lessons_of_substance_pictures_tests_and_seven_cbrn_versions(
    app, runner, client, auth
):
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        modules = db.session.scalars(select(Module)).all()
        assert {module.title for module in modules} == {spec["title"] for spec in module_specs()}
        for module in modules:
            assert 4 <= len(module.lessons) <= 8, module.title
        for quiz in db.session.scalars(select(Quiz)):
            assert 5 <= len(quiz.questions) <= 10, (quiz.module.title, quiz.kind)
            assert all(any(o.is_correct for o in q.options) for q in quiz.questions)

        pictures = 0
        for lesson in db.session.scalars(select(Lesson)):
            own = {f"/courses/attachments/{a.id}/inline" for a in lesson.attachments}
            for img in IMG.findall(lesson.body_html):
                alt = re.search(r'\balt="([^"]*)"', img)
                assert alt and alt.group(1).strip(), (lesson.title, img)
                assert re.search(r'\bsrc="([^"]*)"', img).group(1) in own, (lesson.title, img)
                pictures += 1
        assert pictures >= 17  # two in each CBRN version, three in other English modules

        cbrn = [module for module in modules if module.theme == "cbrn"]
        assert {module.language for module in cbrn} == CBRN_LANGUAGES
        english = next(module for module in cbrn if module.language == "en")
        assert {m.language for m in versions.versions_of(english)} == CBRN_LANGUAGES - {"en"}
        for module in cbrn:
            assert len(module.lessons) == 6 and module.family_id == english.family_id
            words = sum(len(lesson.body_html.split()) for lesson in module.lessons)
            assert words > 1500 or module.language == "zh", (module.language, words)

        video = db.session.scalars(select(LessonVideo)).one()
        assert video.lesson.module_id == english.id
        assert [caption.language for caption in video.captions] == ["en"]
        assert f'<figure data-video="{video.id}">' in video.lesson.body_html
        lesson_url = f"/courses/modules/{english.id}/lessons/{english.lessons[1].id}"
        picture = english.lessons[1].attachments[0].id
        drafts = [module for module in modules if not module.is_published]
        assert drafts and all(not module.is_public for module in drafts)

    # A visitor finds the CBRN module in the public catalogue, and no draft there.
    catalogue = client.get("/courses/?q=CBRN").get_data(as_text=True)
    assert english.title in catalogue
    assert all(m.title not in client.get("/courses/").get_data(as_text=True) for m in drafts)

    auth.login("trainer@example.org", "copper meadow under seven bridges")
    page = client.get(lesson_url).get_data(as_text=True)
    assert 'alt="Timeline of the universal instruments on CBRN terrorism' in page
    image = client.get(f"/courses/attachments/{picture}/inline")
    assert image.status_code == 200 and image.mimetype == "image/png"
    image.close()
