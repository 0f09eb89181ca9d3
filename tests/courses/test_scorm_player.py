"""SCORM lessons through the doors people use: a trainer imports a package, a learner's lesson
page launches it from the content origin, and what the runtime commits is kept in order, as
data, until the lesson is done and the module complete."""

import io
import json
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from courses import services
from courses.models import Enrolment, Lesson, LessonProgress, Module
from courses.scorm.models import (
    ScormAttempt,
    ScormFile,
    ScormInteraction,
    ScormPackage,
    ScormTrack,
)
from learnplatform.extensions import db
from learnplatform.storage import StoredFile
from tests.helpers import csrf_token, post_form
from tests.scorm_packages import scorm_12_package, scorm_2004_package, zip_bomb_package

CONTENT = "http://content.test"


@pytest.fixture
def app(app):
    app.config["SCORM_CONTENT_ORIGIN"] = CONTENT
    return app


def new_module(app, author_id, *, title="Foreign terrorist fighters"):
    """A published module of ``author_id``'s with no lesson yet: its id."""
    with app.app_context():
        module = Module(
            title=title,
            summary="Returning fighters and their families.",
            theme="legal",
            language="en",
            created_by_id=author_id,
        )
        db.session.add(module)
        db.session.flush()
        services.set_published(module, True)
        db.session.commit()
        return module.id


def import_package(client, module_id, data: bytes, *, name="course.zip", **fields):
    url = f"/courses/manage/{module_id}/lessons/scorm"
    return post_form(
        client,
        url,
        {"file": (io.BytesIO(data), name), "title": "", "max_attempts": "0", **fields},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def player_config(page: str) -> tuple[dict, str]:
    """The runtime's configuration in a lesson page, and the page's CSRF token."""
    config = re.search(r'data-config="([^"]+)"', page)
    token = re.search(r'data-csrf="([^"]+)"', page)
    assert config and token, "no SCORM player in the page"
    return json.loads(unescape(config.group(1))), token.group(1)


def commit(client, config, token, sequence, cmi, *, session=None, terminate=False):
    return client.post(
        config["commitUrl"],
        json={
            "session": session or config["session"],
            "sequence": sequence,
            "terminate": terminate,
            "cmi": cmi,
        },
        headers={"X-CSRFToken": token},
    )


@pytest.fixture
def scorm_lesson(app, client, login_as):
    """A published module whose one lesson is an imported SCORM 2004 package; logged out."""
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    response = import_package(client, module_id, scorm_2004_package())
    assert "The package is imported as the lesson" in response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == module_id))
        return module_id, lesson.id, trainer


def enrolled_learner(app, client, login_as, module_id, **kwargs):
    learner = login_as("practitioner", **kwargs)
    post_form(
        client, f"/courses/modules/{module_id}/enrol", {}, form_url=f"/courses/modules/{module_id}"
    )
    return learner


def test_a_trainer_imports_a_package_as_a_lesson(app, client, login_as):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    response = import_package(
        client, module_id, scorm_2004_package(scos=2, edition="3rd"), max_attempts="2"
    )
    page = response.get_data(as_text=True)
    assert "SCORM 2004, 3rd edition, 2 parts to launch" in page
    assert "SCORM package" in page  # the lesson's edit page shows its package
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == module_id))
        package = lesson.package
        assert (lesson.kind, lesson.title) == ("scorm", "Returning foreign terrorist fighters")
        assert (package.version, package.edition, package.max_attempts) == ("2004", "3rd", 2)
        assert [sco.title for sco in package.scos] == ["Part 1", "Part 2"]
        assert package.scos[0].scaled_passing_score == 0.8
        assert package.scos[0].launch_data == "part=1"
        paths = set(db.session.scalars(select(ScormFile.path)))
        assert {"imsmanifest.xml", "sco1/index.html", "shared/sco.js"} <= paths
        assert db.session.get(Module, module_id).lesson_count == 1


def test_a_refused_package_says_why_and_leaves_nothing(app, client, login_as):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    response = import_package(client, module_id, zip_bomb_package())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "compressed too tightly" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Lesson.id))) == 0
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0
        assert db.session.scalar(select(func.count(ScormPackage.id))) == 0


def test_only_the_modules_authors_import(app, client, login_as, create_user):
    owner = create_user(role="trainer")
    module_id = new_module(app, owner.id)
    login_as("trainer")
    assert client.get(f"/courses/manage/{module_id}/lessons/scorm").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    login_as("practitioner")
    assert client.get(f"/courses/manage/{module_id}/lessons/scorm").status_code in {403, 404}


def test_the_lesson_page_launches_the_package_from_the_content_origin(
    app, client, login_as, scorm_lesson
):
    module_id, lesson_id, _ = scorm_lesson
    enrolled_learner(app, client, login_as, module_id)
    response = client.get(f"/courses/modules/{module_id}/lessons/{lesson_id}")
    page = response.get_data(as_text=True)
    config, _token = player_config(page)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert f"frame-src {CONTENT}" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert config["contentOrigin"] == CONTENT and config["version"] == "2004"
    assert config["cmi"]["cmi"]["entry"] == "ab-initio"
    assert config["cmi"]["cmi"]["launch_data"] == "part=1"
    assert config["cmi"]["cmi"]["scaled_passing_score"] == "0.8"
    assert "@" not in config["cmi"]["cmi"]["learner_id"]  # never the e-mail

    frame = urlsplit(config["frameUrl"])
    assert f"{frame.scheme}://{frame.netloc}" == CONTENT
    # The content origin gets no cookie of the platform's: a fresh client stands for it.
    content = app.test_client()
    answer = content.get(f"{frame.path}?{frame.query}", base_url=CONTENT)
    assert answer.status_code == 200
    assert "cross-frame-api.min.js" in answer.get_data(as_text=True)
    assert "frame-ancestors http://localhost" in answer.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in answer.headers
    base = frame.path.rsplit("/", 1)[0]

    def fetch(path, on=content, host=CONTENT):
        response = on.get(path, base_url=host)
        response.get_data()
        response.close()
        return response

    sco = fetch(f"{base}/sco1/index.html")
    assert sco.status_code == 200 and sco.mimetype == "text/html"
    assert "'unsafe-inline'" in sco.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in sco.headers
    assert fetch(f"{base}/shared/sco.js").mimetype in {"text/javascript", "application/javascript"}
    assert fetch(f"{base}/nothing.html").status_code == 404
    assert fetch(f"{base}/../../login").status_code == 404

    # Package content never answers on the platform's origin; the platform never answers on
    # the content origin (nobody can log in there).
    assert fetch(f"{base}/sco1/index.html", client, "http://localhost").status_code == 404
    assert fetch("/login").status_code == 404
    assert fetch("/courses/").status_code == 404
    # A forged ticket opens nothing.
    assert fetch("/scorm-content/forged.token/sco1/index.html").status_code == 404


def test_commits_are_kept_in_order_as_data_and_the_learner_resumes(
    app, client, login_as, scorm_lesson
):
    module_id, lesson_id, _ = scorm_lesson
    enrolled_learner(app, client, login_as, module_id)
    lesson_url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
    config, token = player_config(client.get(lesson_url).get_data(as_text=True))

    halfway = {
        "completion_status": "incomplete",
        "success_status": "unknown",
        "location": "question-2",
        "suspend_data": '{"answers":["b"]}',
        "exit": "suspend",
        "session_time": "PT2M30S",
        "interactions": {
            "0": {"id": "q1", "type": "choice", "learner_response": "b", "result": "correct"}
        },
    }
    assert commit(client, config, token, 1, halfway).json == {
        "result": "true",
        "errorCode": 0,
        "kept": True,
    }
    # A repeat of the same commit, or an older one arriving late, changes nothing.
    assert commit(client, config, token, 1, {**halfway, "location": "x"}).json["kept"] is False
    assert commit(client, config, token, 1, {"location": "late"}).json["kept"] is False
    # Without the CSRF token nothing is kept.
    refused = client.post(
        config["commitUrl"], json={"session": 1, "sequence": 9, "cmi": {"location": "csrf"}}
    )
    assert refused.status_code == 400
    forged = {"csrf_token": "forged", "session": 1, "sequence": 9, "cmi": {"location": "x"}}
    assert client.post(config["commitUrl"], data=json.dumps(forged)).status_code == 400
    # The last commit of a session comes as a beacon: text, the token in the body.
    beacon = {"csrf_token": token, "session": 1, "sequence": 2, "terminate": True, "cmi": halfway}
    sent = client.post(
        config["commitUrl"], data=json.dumps(beacon), content_type="text/plain;charset=UTF-8"
    )
    assert sent.json["kept"] is True
    # A session that was never launched cannot be claimed.
    assert commit(client, config, token, 1, halfway, session=7).json["kept"] is False

    # Coming back: the runtime starts where the learner was.
    config, token = player_config(client.get(lesson_url).get_data(as_text=True))
    assert config["session"] == 2
    cmi = config["cmi"]["cmi"]
    assert (cmi["entry"], cmi["location"]) == ("resume", "question-2")
    assert cmi["suspend_data"] == '{"answers":["b"]}'
    assert cmi["total_time"] == "PT0H2M30S"

    finished = {
        "completion_status": "completed",
        "success_status": "passed",
        "location": "question-3",
        "suspend_data": "",
        "exit": "normal",
        "session_time": "PT1M",
        "score": {"scaled": "0.9", "raw": "9", "min": "0", "max": "10"},
        "interactions": {
            "0": {"id": "q2", "type": "choice", "learner_response": "a", "result": "correct"},
            "1": {"id": "q3", "type": "choice", "learner_response": "a", "result": "incorrect"},
        },
    }
    assert commit(client, config, token, 1, finished, terminate=True).json["kept"] is True
    with app.app_context():
        track = db.session.scalar(select(ScormTrack))
        assert (track.completion_status, track.success_status) == ("completed", "passed")
        assert (track.score_scaled, track.score_raw, track.score_max) == (0.9, 9, 10)
        assert track.total_seconds == 210
        assert track.done_at is not None
        responses = db.session.execute(
            select(
                ScormInteraction.session, ScormInteraction.identifier, ScormInteraction.result
            ).order_by(ScormInteraction.session, ScormInteraction.position)
        ).all()
        assert responses == [(1, "q1", "correct"), (2, "q2", "correct"), (2, "q3", "incorrect")]
        attempt = db.session.scalar(select(ScormAttempt))
        assert (attempt.success, attempt.score_percent) == ("passed", 90)
        assert attempt.completed_at is not None
        enrolment = db.session.scalar(select(Enrolment))
        assert db.session.scalar(select(func.count(LessonProgress.id))) == 1
        assert enrolment.completed_at is not None  # the module's only lesson: complete

    # The lesson now says so, and a learner cannot mark a SCORM lesson done by hand.
    page = client.get(f"{lesson_url}?finished=1").get_data(as_text=True)
    assert "You have completed this lesson." in page
    assert "Score: 90%" in page
    assert "Start a new attempt" in page  # the trainer set no limit


def test_a_new_attempt_where_the_trainer_allows_it(app, client, login_as):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_12_package(), max_attempts="2")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == module_id))
    enrolled_learner(app, client, login_as, module_id)
    lesson_url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
    attempts_url = f"{lesson_url}/attempts"
    config, token = player_config(client.get(lesson_url).get_data(as_text=True))
    assert config["version"] == "1.2"
    assert config["cmi"]["cmi"]["student_data"]["mastery_score"] == "80"

    # Before the attempt is over, no new one.
    post_form(client, attempts_url, {}, form_url=lesson_url)
    with app.app_context():
        assert db.session.scalar(select(func.count(ScormAttempt.id))) == 1

    failed = {
        "core": {
            "lesson_status": "failed",
            "score": {"raw": "40", "min": "0", "max": "100"},
            "session_time": "00:03:00",
            "exit": "",
        }
    }
    commit(client, config, token, 1, failed, terminate=True)
    page = client.get(f"{lesson_url}?finished=1").get_data(as_text=True)
    assert "Not passed" in page and "Start a new attempt" in page
    post_form(client, attempts_url, {}, form_url=f"{lesson_url}?finished=1")
    post_form(client, attempts_url, {}, form_url=f"{lesson_url}?finished=1")  # a double click
    with app.app_context():
        assert db.session.scalar(select(func.count(ScormAttempt.id))) == 2
    config, token = player_config(client.get(lesson_url).get_data(as_text=True))
    assert config["cmi"]["cmi"]["core"]["entry"] == "ab-initio"  # a fresh start
    passed = {"core": {"lesson_status": "passed", "score": {"raw": "85"}, "exit": ""}}
    commit(client, config, token, 1, passed, terminate=True)
    page = client.get(f"{lesson_url}?finished=1").get_data(as_text=True)
    assert "Attempt 2 of 2" in page and "Passed" in page
    assert "Start a new attempt" not in page  # two were allowed
    with app.app_context():
        assert db.session.scalar(select(Enrolment.completed_at)) is not None


def test_someone_elses_track_is_not_found(app, client, login_as, scorm_lesson):
    module_id, lesson_id, _ = scorm_lesson
    enrolled_learner(app, client, login_as, module_id)
    lesson_url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
    config, _token = player_config(client.get(lesson_url).get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    enrolled_learner(app, client, login_as, module_id)
    _, other_token = player_config(client.get(lesson_url).get_data(as_text=True))
    response = commit(client, config, other_token, 1, {"location": "theirs"})
    assert response.status_code == 404


def test_an_author_previews_without_anything_recorded(app, client, login_as):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_2004_package())
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == module_id))
    page = client.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    config, _token = player_config(page)
    assert config["commitUrl"] is None
    assert "nothing you do here is recorded" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(ScormAttempt.id))) == 0


def test_without_a_content_origin_the_lesson_says_so(app, client, login_as, scorm_lesson):
    module_id, lesson_id, _ = scorm_lesson
    app.config["SCORM_CONTENT_ORIGIN"] = None
    enrolled_learner(app, client, login_as, module_id)
    page = client.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    assert "cannot be played yet" in page
    assert "data-config" not in page


def test_removing_the_lesson_removes_its_files(app, client, login_as):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_2004_package())
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == module_id))
        assert db.session.scalar(select(func.count(StoredFile.id))) > 3
    post_form(
        client,
        f"/courses/manage/{module_id}/lessons/{lesson_id}/delete",
        {},
        form_url=f"/courses/manage/{module_id}",
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(StoredFile.id))) == 0
        assert db.session.scalar(select(func.count(ScormPackage.id))) == 0
    storage = app.config["STORAGE_DIR"]
    import os

    assert not [name for _, _, names in os.walk(storage) for name in names]


@pytest.mark.parametrize(
    "content", ["http://localhost:5001", "ftp://content.example.org", "content.example.org"]
)
def test_a_content_origin_sharing_the_platforms_host_is_refused_at_start(monkeypatch, content):
    from learnplatform import create_app
    from learnplatform.config import ConfigurationError

    monkeypatch.setenv("PUBLIC_ORIGIN", "http://localhost:5000")
    monkeypatch.setenv("SCORM_CONTENT_ORIGIN", content)
    with pytest.raises(ConfigurationError, match="SCORM_CONTENT_ORIGIN"):
        create_app()
