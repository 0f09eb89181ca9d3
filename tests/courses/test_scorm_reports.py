"""What a trainer sees of learners' attempts at a SCORM lesson: the learners' table with its
figures and filters, one learner's attempts down to each answer, and the table as CSV. The data
is made through the doors people use: the trainer imports a package, learners enrol, open the
lesson and their runtime commits."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from courses.models import Enrolment, Lesson
from courses.scorm.models import ScormAttempt, ScormInteraction, ScormTrack
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from tests.courses.test_scorm_player import (
    CONTENT,
    commit,
    import_package,
    new_module,
    player_config,
)
from tests.helpers import Auth, count_queries, post_form
from tests.scorm_packages import scorm_2004_package

XSS_RESPONSE = "<script>alert('response')</script>"
XSS_NAME = "Dana <img src=x onerror=alert('name')>"

#: Amina: two commits in one session, the last completed and passed with two answers
AMINA = [
    {
        "completion_status": "incomplete",
        "success_status": "unknown",
        "location": "question-2",
        "exit": "suspend",
        "session_time": "PT40M",
        "interactions": {
            "0": {"id": "q1", "type": "choice", "learner_response": "b", "result": "correct"}
        },
    },
    {
        "completion_status": "completed",
        "success_status": "passed",
        "location": "question-3",
        "exit": "normal",
        "session_time": "PT1H5M",
        "score": {"scaled": "0.9", "raw": "9", "min": "0", "max": "10"},
        "interactions": {
            "0": {
                "id": "q1",
                "type": "choice",
                "description": "Which body coordinates the response?",
                "learner_response": "b",
                "correct_responses": {"0": {"pattern": "b"}},
                "result": "correct",
                "weighting": "1",
                "latency": "PT12S",
                "timestamp": "2026-03-14T10:00:00",
            },
            "1": {
                "id": "q2",
                "type": "fill-in",
                "learner_response": XSS_RESPONSE,
                "correct_responses": {"0": {"pattern": "mutual legal assistance"}},
                "result": "incorrect",
                "weighting": "2",
                "latency": "PT1M30S",
                "timestamp": "2026-03-14T10:01:00",
            },
        },
    },
]
#: Bruno: half-way, then away
BRUNO = [
    {
        "completion_status": "incomplete",
        "success_status": "unknown",
        "location": "question-1",
        "exit": "suspend",
        "session_time": "PT10M",
    }
]
#: Chen: to the end, but failed
CHEN = [
    {
        "completion_status": "completed",
        "success_status": "failed",
        "exit": "normal",
        "session_time": "PT25M30S",
        "score": {"scaled": "0.4"},
    }
]


@pytest.fixture
def app(app):
    app.config["SCORM_CONTENT_ORIGIN"] = CONTENT
    return app


def learner_who_commits(app, create_user, module_id, lesson_id, commits, **account):
    """A learner who enrols from the module page, opens the lesson (when there are ``commits``)
    and whose runtime sends them, the last one ending the session."""
    learner = create_user(**account)
    browser = app.test_client()
    Auth(browser).login(learner.email)
    module_url = f"/courses/modules/{module_id}"
    post_form(browser, f"{module_url}/enrol", {}, form_url=module_url)
    if commits:
        page = browser.get(f"{module_url}/lessons/{lesson_id}").get_data(as_text=True)
        config, token = player_config(page)
        for sequence, cmi in enumerate(commits, start=1):
            last = sequence == len(commits)
            response = commit(browser, config, token, sequence, cmi, terminate=last)
            assert response.json["kept"] is True
    return learner


def scorm_class(app, client, login_as, create_user):
    """A trainer (logged in on ``client``) whose module's SCORM lesson four learners took:
    Amina passed, Bruno is half-way, Chen failed, Dana never opened it."""
    trainer = login_as("trainer", name="Kwame Mensah")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_2004_package())
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == module_id))

    def learner(commits, name, country):
        return learner_who_commits(
            app, create_user, module_id, lesson_id, commits, name=name, country=country
        )

    return {
        "module_id": module_id,
        "lesson_id": lesson_id,
        "trainer": trainer,
        "url": f"/courses/manage/{module_id}/lessons/{lesson_id}/results",
        "amina": learner(AMINA, "Amina Yusuf", "KE"),
        "bruno": learner(BRUNO, "Bruno Costa", "BR"),
        "chen": learner(CHEN, "Chen Wei", "CN"),
        "dana": learner([], XSS_NAME, "NG"),
    }


@pytest.fixture
def scorm_results(app, client, login_as, create_user):
    return scorm_class(app, client, login_as, create_user)


def table_rows(page: str) -> list[list[str]]:
    """The learners' table as text, one list of cells per row."""
    body = re.search(r'<table[^>]*id="scorm-results".*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, "no learners' table"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


def summary(page: str) -> dict[str, str]:
    return {
        key: " ".join(unescape(re.sub(r"<[^>]+>", " ", value)).split())
        for key, value in re.findall(r'data-summary="(\w+)">(.*?)</dd>', page, re.S)
    }


def test_the_table_shows_each_learner_with_the_figures_of_their_attempts(
    app, client, scorm_results
):
    response = client.get(scorm_results["url"])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert summary(page) == {
        "learners": "4",
        "started": "3",
        "completed": "2",
        "passed": "1",
        "average": "65 %",
    }
    rows = table_rows(page)
    assert [row[:7] for row in rows] == [
        ["Amina Yusuf", "Complete", "Passed", "90 %", "1 h 05 min", "1", "Kenya"],
        ["Bruno Costa", "In progress", "—", "—", "10 min", "1", "Brazil"],
        ["Chen Wei", "Complete", "Not passed", "40 %", "25 min 30 s", "1", "China"],
        [XSS_NAME, "Not started", "—", "—", "—", "0", "Nigeria"],
    ]
    # Last access: when the learner's runtime last committed, in the viewer's time zone.
    with app.app_context():
        saved = db.session.scalar(
            select(ScormTrack.updated_at)
            .join(ScormAttempt)
            .where(ScormAttempt.user_id == scorm_results["amina"].id)
        )
    assert f'datetime="{saved.isoformat(timespec="seconds")}Z"' in page
    assert rows[0][7] and rows[3][7] == "—"
    # A learner's name is text, never markup.
    assert "<img src=x" not in page
    assert "Dana &lt;img src=x onerror=alert(" in page


def test_last_access_is_shown_in_the_viewers_time_zone(app, client, scorm_results):
    from learnplatform.accounts.models import User

    with app.app_context():
        db.session.get(User, scorm_results["trainer"].id).time_zone = "Asia/Kolkata"
        db.session.commit()
        saved = db.session.scalar(
            select(ScormTrack.updated_at)
            .join(ScormAttempt)
            .where(ScormAttempt.user_id == scorm_results["bruno"].id)
        )
    rows = table_rows(client.get(scorm_results["url"]).get_data(as_text=True))
    local = saved + timedelta(hours=5, minutes=30)
    clock = f"{local:%I:%M %p}".lstrip("0")
    assert clock in rows[1][7] and rows[1][7].endswith("+0530")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("status=completed", ["Amina Yusuf", "Chen Wei"]),
        ("status=in_progress", ["Bruno Costa"]),
        ("status=not_started", [XSS_NAME]),
        ("status=passed", ["Amina Yusuf"]),
        ("status=failed", ["Chen Wei"]),
        ("q=amin", ["Amina Yusuf"]),
        ("q=wei&status=passed", []),
        ("status=nonsense", ["Amina Yusuf", "Bruno Costa", "Chen Wei", XSS_NAME]),
    ],
)
def test_the_filters(client, scorm_results, query, names):
    page = client.get(f"{scorm_results['url']}?{query}").get_data(as_text=True)
    rows = table_rows(page)
    assert [row[0] for row in rows if len(row) > 1] == names
    if not names:
        assert "No learner matches." in page
    # The figures above stay those of every learner.
    assert summary(page)["learners"] == "4"


def test_the_learners_page_shows_each_attempt_and_the_answers(app, client, scorm_results):
    amina = scorm_results["amina"]
    response = client.get(f"{scorm_results['url']}/{amina.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Amina Yusuf" in page and "Attempt 1" in page
    assert "Completion status" in page and "Success status" in page
    assert "raw 9 (min 0, max 10) · scaled 0.9" in page
    assert "1 h 05 min" in page and "question-3" in page
    table = re.search(r'<table[^>]*class="[^"]*interactions.*?</table>', page, re.S).group(0)
    rows = [
        [" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells]
        for cells in (
            re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
        )
    ]
    # Session 1's answer was replaced by session 1's last commit, which lists them all.
    assert rows == [
        [
            "1",
            "q1 Which body coordinates the response?",
            "Choice",
            "b",
            "b",
            "Correct",
            "1",
            "12 s",
            "2026-03-14T10:00:00",
        ],
        [
            "1",
            "q2",
            "Fill in",
            XSS_RESPONSE,
            "mutual legal assistance",
            "Incorrect",
            "2",
            "1 min 30 s",
            "2026-03-14T10:01:00",
        ],
    ]
    # What the package sent is shown as text.
    assert "<script>alert('response')" not in page
    assert "&lt;script&gt;alert(&#39;response&#39;)&lt;/script&gt;" in page


def test_a_learner_who_never_opened_the_lesson(client, scorm_results):
    dana = scorm_results["dana"]
    page = client.get(f"{scorm_results['url']}/{dana.id}").get_data(as_text=True)
    assert "has not opened the lesson yet" in page
    assert "<img src=x" not in page


def test_several_attempts_are_listed_in_order(app, client, login_as, create_user):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_2004_package(), max_attempts="3")
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == module_id))
    learner = learner_who_commits(app, create_user, module_id, lesson_id, CHEN, name="Eve")
    browser = app.test_client()
    Auth(browser).login(learner.email)
    lesson_url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
    post_form(browser, f"{lesson_url}/attempts", {}, form_url=f"{lesson_url}?finished=1")
    config, token = player_config(browser.get(lesson_url).get_data(as_text=True))
    commit(browser, config, token, 1, AMINA[1], terminate=True)

    url = f"/courses/manage/{module_id}/lessons/{lesson_id}/results"
    rows = table_rows(client.get(url).get_data(as_text=True))
    # Two attempts; the last one passed, with the better score; time adds both up.
    assert rows[0][:7] == ["Eve", "Complete", "Passed", "90 %", "1 h 30 min", "2", "Kenya"]
    page = client.get(f"{url}/{learner.id}").get_data(as_text=True)
    assert page.index("Attempt 1") < page.index("Attempt 2")
    assert re.findall(r'data-attempt="(\d+)"', page) == ["1", "2"]


def test_only_the_modules_authors_and_administrators_see_the_results(
    app, client, auth, create_user, scorm_results
):
    amina = scorm_results["amina"]
    urls = [
        scorm_results["url"],
        f"{scorm_results['url']}/{amina.id}",
        f"{scorm_results['url']}.csv",
    ]
    auth.logout()
    other_trainer = create_user(role="trainer")
    auth.login(other_trainer.email)
    for url in urls:
        assert client.get(url).status_code == 404, url
    auth.logout()
    # A practitioner, even one enrolled in the module, is refused as on every authoring page.
    auth.login(amina.email)
    for url in urls:
        assert client.get(url).status_code == 403, url
    auth.logout()
    admin = create_user(role="administrator")
    auth.login(admin.email)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_what_is_not_there_is_not_found(app, client, create_user, scorm_results):
    module_id, lesson_id = scorm_results["module_id"], scorm_results["lesson_id"]
    stranger = create_user(name="Not enrolled")
    with app.app_context():
        text_lesson = Lesson(module_id=module_id, title="Reading", body_html="", position=9)
        db.session.add(text_lesson)
        db.session.commit()
        text_lesson_id = text_lesson.id
    base = f"/courses/manage/{module_id}/lessons"
    assert client.get(f"{base}/{text_lesson_id}/results").status_code == 404
    assert client.get(f"{base}/{lesson_id}/results/{stranger.id}").status_code == 404
    assert client.get(f"{base}/{lesson_id}/results/999999").status_code == 404
    other_module = new_module(app, scorm_results["trainer"].id)
    wrong = f"/courses/manage/{other_module}/lessons/{lesson_id}/results"
    assert client.get(wrong).status_code == 404


def test_the_csv_holds_the_table_with_formulas_made_inert(app, client, create_user, scorm_results):
    learner_who_commits(
        app,
        create_user,
        scorm_results["module_id"],
        scorm_results["lesson_id"],
        [],
        name='=HYPERLINK("http://evil.example")',
        country="FR",
    )
    response = client.get(f"{scorm_results['url']}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "Name",
        "Country",
        "Attempts",
        "Status of the last attempt",
        "Success (last judged attempt)",
        "Best score (%)",
        "Time spent (minutes)",
        "Last access (UTC)",
    ]
    assert (
        rows[1] == ['\'=HYPERLINK("http://evil.example")', "France", "0", "Not started"] + [""] * 4
    )
    assert rows[2][:7] == ["Amina Yusuf", "Kenya", "1", "Complete", "Passed", "90", "65.0"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[2][7])
    assert [row[0] for row in rows[3:]] == ["Bruno Costa", "Chen Wei", XSS_NAME]
    # The page's filters apply to the file.
    filtered = client.get(f"{scorm_results['url']}.csv?status=failed").get_data(as_text=True)
    assert [row[0] for row in csv.reader(io.StringIO(filtered.lstrip("\ufeff")))][1:] == [
        "Chen Wei"
    ]
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("scorm_results_exported") == 2


def test_links_lead_to_the_results(client, scorm_results):
    module_id, lesson_id = scorm_results["module_id"], scorm_results["lesson_id"]
    results = scorm_results["url"]
    module_page = client.get(f"/courses/manage/{module_id}").get_data(as_text=True)
    assert f'href="{results}"' in module_page
    lesson_page = client.get(f"/courses/manage/{module_id}/lessons/{lesson_id}")
    assert f'href="{results}"' in lesson_page.get_data(as_text=True)


def add_learners(app, module_id: int, lesson_id: int, count: int, start: int) -> None:
    """``count`` enrolled learners, each with a finished attempt of one track and two answers."""
    from learnplatform.accounts.models import User
    from learnplatform.audit import utcnow

    with app.app_context():
        package = db.session.get(Lesson, lesson_id).package
        for number in range(start, start + count):
            user = User(
                email=f"bulk{number}@example.org",
                name=f"Learner {number:03d}",
                password_hash="x",
                country="KE",
                agency_type="police",
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(Enrolment(module_id=module_id, user_id=user.id, status="active"))
            attempt = ScormAttempt(package_id=package.id, user_id=user.id, number=1)
            attempt.success, attempt.score_percent = "passed", 80
            db.session.add(attempt)
            db.session.flush()
            track = ScormTrack(
                attempt_id=attempt.id,
                sco_id=package.scos[0].id,
                launches=1,
                session=1,
                sequence=1,
                session_seconds=60,
                first_launched_at=utcnow(),
                updated_at=utcnow(),
            )
            db.session.add(track)
            db.session.flush()
            for position in range(2):
                db.session.add(ScormInteraction(track_id=track.id, session=1, position=position))
        db.session.commit()


def test_the_queries_do_not_grow_with_the_learners(app, client, login_as):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_2004_package())
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == module_id))
    url = f"/courses/manage/{module_id}/lessons/{lesson_id}/results"
    add_learners(app, module_id, lesson_id, 3, start=1)
    few = count_queries(app, client, url)
    learner_few = count_queries(app, client, f"{url}/{few_id(app, 'Learner 001')}")
    add_learners(app, module_id, lesson_id, 27, start=4)
    assert count_queries(app, client, url) == few
    page = client.get(url).get_data(as_text=True)
    assert len(table_rows(page)) == 30
    assert count_queries(app, client, f"{url}/{few_id(app, 'Learner 001')}") == learner_few


def few_id(app, name: str) -> int:
    from learnplatform.accounts.models import User

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.name == name))
