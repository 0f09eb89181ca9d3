"""Interactive (SCORM) lessons in the statistics: the figures of a hand-built set of attempts
checked against counts made here, on the dashboard, in the exports and through the API; who sees
which lessons; each learner's score in the completion records; constant query counts."""

import csv
import html
import io
import math
import re
from datetime import date, datetime, timedelta

import pytest

from courses.models import Enrolment, Module
from courses.scorm.models import ScormAttempt, ScormPackage, ScormSco, ScormTrack
from courses.services import add_lesson
from learnplatform.extensions import db
from learnplatform.regions import region_of
from learnplatform.stats import queries, tables
from learnplatform.stats.filters import Filters
from tests.api.test_api import token_of
from tests.helpers import QueryCounter, count_queries
from tests.stats.test_statistics import (  # noqa: F401  (data is a fixture)
    ENROLMENTS,
    MODULES,
    PEOPLE,
    data,
    export_json,
    logged_in,
)

# lesson: (module, title, SCOs); m1 also gets a page lesson, which counts nowhere
LESSONS = {
    "L1": ("m1", "Following the money", 2),
    "L2": ("m1", "Hawala networks", 1),
    "L3": ("m3", "Hearing the victim", 1),
}
# (lesson, person, number, started, completed, success, score, [(earlier, session) seconds a SCO])
ATTEMPTS = [
    ("L1", "p1", 1, datetime(2026, 4, 2, 9), None, "failed", 40, [(0, 600)]),
    (
        "L1",
        "p1",
        2,
        datetime(2026, 4, 5, 9),
        datetime(2026, 4, 5, 10),
        "passed",
        85,
        [(300, 900), (0, 400)],
    ),
    ("L1", "p2", 1, datetime(2026, 5, 1, 9), datetime(2026, 5, 1, 11), "failed", 55, [(0, 1200)]),
    ("L1", "p3", 1, datetime(2026, 2, 1, 9), datetime(2026, 2, 1, 10), "passed", 90, [(0, 1800)]),
    ("L1", "p3", 2, datetime(2026, 6, 1, 9), None, None, None, [(0, 120)]),  # not judged yet
    ("L1", "p6", 1, datetime(2026, 4, 20, 9), None, None, None, []),  # opened, nothing sent
    ("L2", "p1", 1, datetime(2026, 4, 3, 9), datetime(2026, 4, 3, 9, 30), "passed", 70, [(0, 300)]),
    ("L2", "p5", 1, datetime(2026, 5, 3, 9), None, "passed", 100, [(0, 240)]),
    ("L2", "p5", 2, datetime(2026, 5, 4, 9), None, "failed", 60, [(0, 60)]),  # last judged
    ("L3", "p4", 1, datetime(2026, 4, 10, 9), datetime(2026, 4, 10, 10), "passed", 75, [(0, 900)]),
    ("L3", "p6", 1, datetime(2026, 1, 10, 9), None, "failed", 30, [(100, 200)]),
]
NO_DATA = "\N{EN DASH}"  # how the dashboard writes a figure it has no data for
FIGURES = ("learners", "completed", "passed", "failed", "average_score", "average_minutes")


def add_scorm_lesson(module: Module, title: str, scos: int) -> dict:
    """A SCORM lesson of ``module`` as an import leaves it: its package and SCOs' ids."""
    lesson = add_lesson(module, title=title, body_html="")
    lesson.kind = "scorm"
    package = ScormPackage(lesson=lesson, version="2004", title=title, outline=[])
    package.scos = [
        ScormSco(position=n, identifier=f"sco-{n}", title=f"{title}, part {n}", href="index.html")
        for n in range(1, scos + 1)
    ]
    db.session.add(package)
    db.session.flush()
    return {"lesson": lesson.id, "package": package.id, "scos": [sco.id for sco in package.scos]}


def add_attempt(lesson: dict, user_id, number, started, completed, success, score, spent):
    """An attempt of ``user_id`` with one track per SCO in ``spent`` (earlier, session seconds)."""
    attempt = ScormAttempt(
        package_id=lesson["package"],
        user_id=user_id,
        number=number,
        started_at=started,
        completed_at=completed,
        success=success,
        score_percent=score,
    )
    attempt.tracks = [
        ScormTrack(
            sco_id=sco,
            launches=1,
            earlier_seconds=earlier,
            session_seconds=session,
            completion_status="completed" if completed else "incomplete",
            success_status=success or "unknown",
            score_scaled=None if score is None else score / 100,
        )
        for sco, (earlier, session) in zip(lesson["scos"], spent, strict=False)
    ]
    db.session.add(attempt)


@pytest.fixture
def scorm(app, data):  # noqa: F811
    """SCORM lessons in two modules of two trainers, and the attempts of ATTEMPTS."""
    people = {key: user.id for key, user in data["people"].items()}
    with app.app_context():
        modules = {key: db.session.get(Module, id_) for key, id_ in data["modules"].items()}
        add_lesson(modules["m1"], title="Reading", body_html="<p>Read this first.</p>")
        lessons = {
            key: add_scorm_lesson(modules[module], title, scos)
            for key, (module, title, scos) in LESSONS.items()
        }
        for lesson, person, *attempt in ATTEMPTS:
            add_attempt(lessons[lesson], people[person], *attempt)
        db.session.commit()
    return lessons


# The figures, counted here from ATTEMPTS.
def expected(start=None, end=None, keep=lambda person: True, modules=("m1", "m2", "m3")):
    """{lesson title: figures} for the attempts started from ``start`` to ``end`` (dates,
    inclusive) by the people ``keep`` keeps, of the lessons of ``modules``."""
    found = {}
    for key, (module, title, _) in LESSONS.items():
        if module not in modules:
            continue
        attempts = [
            a
            for a in ATTEMPTS
            if a[0] == key
            and keep(a[1])
            and (start is None or a[3].date() >= start)
            and (end is None or a[3].date() <= end)
        ]
        learners = {a[1] for a in attempts}
        last_judged = {}
        for _, person, _, _, _, success, _, _ in sorted(attempts, key=lambda a: a[2]):
            if success:
                last_judged[person] = success
        best = {}
        for _, person, _, _, _, _, score, _ in attempts:
            if score is not None:
                best[person] = max(best.get(person, score), score)
        spent = {person: 0 for person in learners}
        for _, person, *_, tracks in attempts:
            spent[person] += sum(earlier + session for earlier, session in tracks)
        found[title] = {
            "learners": len(learners),
            "completed": len({a[1] for a in attempts if a[4] is not None}),
            "passed": sum(1 for outcome in last_judged.values() if outcome == "passed"),
            "failed": sum(1 for outcome in last_judged.values() if outcome == "failed"),
            "average_score": round(sum(best.values()) / len(best), 1) if best else None,
            "average_minutes": round(sum(spent.values()) / len(spent) / 60, 1) if spent else None,
        }
    return found


def test_the_counts_made_here_are_the_ones_meant():
    """The definitions, on one lesson and one quarter, in numbers a person can check."""
    figures = expected(date(2026, 4, 1), date(2026, 6, 30))["Following the money"]
    # p1 (failed, then passed at 85), p2 (failed at 55), p3 (not judged), p6 (nothing sent);
    # time: p1 600 + 1,200 + 400 s, p2 1,200 s, p3 120 s, p6 0 s.
    assert figures == {
        "learners": 4,
        "completed": 2,
        "passed": 1,
        "failed": 1,
        "average_score": 70.0,
        "average_minutes": 14.7,  # (2,200 + 1,200 + 120 + 0) s / 4 learners
    }
    # Last judged attempt: p5 passed at 100, then failed at 60: failed, best score 100.
    assert expected()["Hawala networks"]["failed"] == 1
    assert expected()["Hawala networks"]["average_score"] == 85.0


SLICES = [
    ({}, None, None, lambda p: True, ("m1", "m3")),
    ({"quarter": "2026-Q2"}, date(2026, 4, 1), date(2026, 6, 30), lambda p: True, ("m1", "m3")),
    ({"quarter": "2026-Q1"}, date(2026, 1, 1), date(2026, 3, 31), lambda p: True, ("m1", "m3")),
    (
        {"region": "002"},
        None,
        None,
        lambda p: region_of(PEOPLE[p][0]) == "002",
        ("m1", "m3"),
    ),
    ({"gender": "woman"}, None, None, lambda p: PEOPLE[p][1] == "woman", ("m1", "m3")),
    (
        {"country": "FR", "start": "2026-04-10", "end": "2026-04-10"},
        date(2026, 4, 10),
        date(2026, 4, 10),
        lambda p: PEOPLE[p][0] == "FR",
        ("m1", "m3"),
    ),
    ({"theme": "victims"}, None, None, lambda p: True, ("m3",)),
    (
        {"language": "en", "agency_type": "police"},
        None,
        None,
        lambda p: PEOPLE[p][2] == "police",
        ("m1",),
    ),
    ({"theme": "electronic_evidence"}, None, None, lambda p: True, ("m2",)),
]


@pytest.mark.parametrize(("args", "start", "end", "keep", "modules"), SLICES)
def test_each_lessons_figures_match_counts_made_here(
    app,
    data,  # noqa: F811
    scorm,
    args,
    start,
    end,
    keep,
    modules,
):
    admin = logged_in(app, data["admin"])
    rows = export_json(admin, "scorm-lessons", **args)
    got = {row["lesson"]: {name: row[name] for name in FIGURES} for row in rows}
    assert got == expected(start, end, keep, modules), args
    # Every SCORM lesson of the slice's modules, nobody's attempts or not; by module, in order.
    assert [row["lesson"] for row in rows] == [
        title for module, title, _ in LESSONS.values() if module in modules
    ]
    assert {row["module"] for row in rows} <= {MODULES[m][0] for m in modules}


def test_a_module_filter_keeps_its_lessons(app, data, scorm):  # noqa: F811
    admin = logged_in(app, data["admin"])
    rows = export_json(admin, "scorm-lessons", module=data["modules"]["m3"])
    assert [(row["lesson_id"], row["lesson"]) for row in rows] == [
        (scorm["L3"]["lesson"], "Hearing the victim")
    ]


# The dashboard.
def dashboard_rows(page: str, table: str = "scorm-lessons") -> dict[str, list[str]]:
    """The dashboard's table ``table`` (the interactive lessons') as the page shows it: {its
    first column: [the other cells as text]}."""
    section = re.search(
        rf'<section[^>]*aria-labelledby="chart-{table}-title".*?</section>', page, re.S
    )
    assert section, f"no {table} section"
    rows = {}
    for head, cells in re.findall(
        r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', section.group(0), re.S
    ):
        texts = [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells.split("</td>")
        ]
        rows[html.unescape(head)] = [text for text in texts if text]
    return rows


def shown(figures: dict) -> list[str]:
    """Figures as the dashboard writes them (English), in the table's order."""
    cells = []
    for name in ("learners", "completed", "passed", "failed", "average_score", "average_minutes"):
        value = figures[name]
        cells.append(NO_DATA if value is None else f"{value:g}")
    return cells


def test_the_dashboard_shows_each_lesson_to_those_who_may_see_it(app, data, scorm):  # noqa: F811
    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    own = {"Following the money", "Hawala networks"}

    admin = logged_in(app, data["admin"])
    page = admin.get("/stats/?quarter=2026-Q2").get_data(as_text=True)
    assert "Interactive lessons (SCORM)" in page
    rows = dashboard_rows(page)
    assert {lesson: cells[1:] for lesson, cells in rows.items()} == {
        title: shown(figures) for title, figures in want.items()
    }
    assert rows["Following the money"][0] == MODULES["m1"][0]
    assert "/stats/export/scorm-lessons.csv" in html.unescape(page)

    author = logged_in(app, data["trainers"]["trainer_a"])
    rows = dashboard_rows(author.get("/stats/?quarter=2026-Q2").get_data(as_text=True))
    assert {lesson: cells[1:] for lesson, cells in rows.items()} == {
        title: shown(want[title]) for title in own
    }

    other = logged_in(app, data["trainers"]["trainer_b"])
    page = other.get("/stats/?quarter=2026-Q2").get_data(as_text=True)
    assert set(dashboard_rows(page)) == {"Hearing the victim"}
    assert not own & set(re.findall(r"Following the money|Hawala networks", page))
    assert {row["lesson"] for row in export_json(other, "scorm-lessons")} == {"Hearing the victim"}
    assert {row["lesson"] for row in export_json(author, "scorm-lessons")} == own


def test_the_section_is_left_out_where_there_is_no_interactive_lesson(app, data, scorm):  # noqa: F811
    admin = logged_in(app, data["admin"])
    page = admin.get("/stats/?theme=electronic_evidence").get_data(as_text=True)
    assert "chart-scorm-lessons" not in page
    assert "Interactive lessons (SCORM)" not in page
    assert "chart-resources" in page  # the other sections stay, empty


# Exports and the API.
def test_the_csv_export_names_its_columns_and_says_which_attempt_judges(app, data, scorm):  # noqa: F811
    admin = logged_in(app, data["admin"])
    response = admin.get("/stats/export/scorm-lessons.csv?quarter=2026-Q2")
    assert response.status_code == 200
    assert 'filename="scorm-lessons-' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "Lesson id",
        "Lesson",
        "Module id",
        "Module",
        "Learners",
        "Learners who completed",
        "Passed (last judged attempt)",
        "Not passed (last judged attempt)",
        "Average best score (%)",
        "Average time spent (minutes)",
    ]
    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    by_lesson = {row[1]: row for row in rows[1:]}
    assert set(by_lesson) == set(want)
    figures = want["Hawala networks"]
    assert by_lesson["Hawala networks"][4:] == [
        "" if figures[name] is None else str(figures[name]) for name in FIGURES
    ]


def test_the_api_gives_the_lessons_figures(app, data, scorm):  # noqa: F811
    token = token_of(app, data["admin"])
    answer = (
        app.test_client()
        .get(
            "/api/v1/statistics/scorm-lessons?quarter=2026-Q2&region=002",
            headers={"Authorization": f"Bearer {token}"},
        )
        .get_json()
    )
    assert answer["filters"] == {"start": "2026-04-01", "end": "2026-06-30", "region": "002"}
    assert answer["columns"][:4] == ["lesson_id", "lesson", "module_id", "module"]
    got = {row["lesson"]: {name: row[name] for name in FIGURES} for row in answer["rows"]}
    assert got == expected(
        date(2026, 4, 1), date(2026, 6, 30), lambda p: region_of(PEOPLE[p][0]) == "002"
    )


# Each learner's score in the completion records.
def scorm_score(person, module):
    """The mean of the person's best scores over the module's SCORM lessons they have a score
    in, one decimal; None when there is none (a module without SCORM lessons among them)."""
    best = {}
    for lesson, who, _, _, _, _, score, _ in ATTEMPTS:
        if who == person and LESSONS[lesson][0] == module and score is not None:
            best[lesson] = max(best.get(lesson, score), score)
    return round(sum(best.values()) / len(best), 1) if best else None


def test_completion_records_carry_each_learners_interactive_lessons_score(app, data, scorm):  # noqa: F811
    assert scorm_score("p1", "m1") == 77.5  # best 85 in one lesson, 70 in the other
    want = {
        (f"Learner {person}", MODULES[module][0]): scorm_score(person, module)
        for person, module, *_ in ENROLMENTS
    }
    assert {score for score in want.values()} >= {77.5, 55.0, 90.0, 100.0, 75.0, 30.0, None}

    admin = logged_in(app, data["admin"])
    rows = export_json(admin, "completions")
    assert {(row["learner"], row["module"]): row["scorm_score"] for row in rows} == want

    response = admin.get("/stats/export/completions.csv")
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0][-2:] == ["Post-test score (%)", "Interactive lessons score (%)"]
    got = {(line[2], line[11]): line[-1] for line in lines[1:]}
    assert got == {key: "" if value is None else str(value) for key, value in want.items()}

    token = token_of(app, data["admin"])
    records = (
        app.test_client()
        .get("/api/v1/completions?limit=3", headers={"Authorization": f"Bearer {token}"})
        .get_json()["records"]
    )
    assert [record["scorm_score"] for record in records] == [
        want[(record["learner"], record["module"])] for record in records
    ]


def test_completion_records_ask_for_scores_once_a_batch(app, data, scorm):  # noqa: F811
    with app.app_context():
        scope = queries.scope_of(db.session.get(type(data["admin"]), data["admin"].id))
        engine = db.engine
        for batch in (3, 4, 5000):
            table = tables.completion_records(Filters(), scope, batch=batch)
            with QueryCounter(engine) as counter:  # the records' own query goes to the driver
                rows = list(table.rows)
            assert len(rows) == len(ENROLMENTS)
            assert counter.count == math.ceil(len(ENROLMENTS) / batch), batch


# Query counts.
def test_the_figures_cost_the_same_queries_for_two_learners_as_for_twenty(
    app,
    data,  # noqa: F811
    scorm,
    create_user,
):
    admin = logged_in(app, data["admin"])
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    with app.app_context():
        engine = db.engine

    def completions_queries():
        with QueryCounter(engine) as counter:
            response = admin.get("/stats/export/completions.csv")
            response.get_data()
        return counter.count

    def counts():
        return [
            count_queries(app, admin, "/stats/"),
            count_queries(app, admin, "/stats/?quarter=2026-Q2&region=002"),
            count_queries(app, trainer, "/stats/"),
            count_queries(app, admin, "/stats/export/scorm-lessons.json"),
            completions_queries(),
        ]

    before = counts()
    people = [create_user(country=country) for country in ("ML", "KZ", "PE") * 6]
    with app.app_context():
        for number, person in enumerate(people):
            started = datetime(2026, 4, 1) + timedelta(days=number)
            for lesson in ("L1", "L2", "L3"):
                for attempt in (1, 2):
                    add_attempt(
                        scorm[lesson],
                        person.id,
                        attempt,
                        started + timedelta(hours=attempt),
                        started + timedelta(hours=3) if attempt == 2 else None,
                        ("failed", "passed")[attempt - 1],
                        50 + number + 10 * attempt,
                        [(0, 60 * number), (30, 90)],
                    )
            for module in data["modules"].values():
                db.session.add(
                    Enrolment(
                        module_id=module,
                        user_id=person.id,
                        status="active",
                        enrolled_at=started,
                        progress_percent=50,
                    )
                )
        db.session.commit()
    assert counts() == before
    rows = export_json(admin, "scorm-lessons")
    assert {row["lesson"]: row["learners"] for row in rows} == {
        title: figures["learners"] + len(people) for title, figures in expected().items()
    }


def test_the_lessons_figures_come_from_the_command_line_and_the_background_too(
    app,
    data,  # noqa: F811
    scorm,
    tmp_path,
):
    from tests.stats.test_background_exports import prepared_sheet
    from tests.stats.test_stats_cli import exported_from_the_command_line

    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    output, rows = exported_from_the_command_line(
        app, tmp_path / "lessons.json", "--dataset", "scorm-lessons", "--quarter", "2026-Q2"
    )
    assert f"{len(want)} rows written to" in output
    assert {row["lesson"]: {name: row[name] for name in FIGURES} for row in rows} == want

    author = logged_in(app, data["trainers"]["trainer_a"])
    sheet = prepared_sheet(
        app, author, data["trainers"]["trainer_a"], "scorm-lessons", "quarter=2026-Q2"
    )
    assert sheet[0][6] == "Passed (last judged attempt)"
    assert {row[1]: row[4:] for row in sheet[1:]} == {
        title: [want[title][name] for name in FIGURES]
        for title in ("Following the money", "Hawala networks")
    }
