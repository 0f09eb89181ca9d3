"""Knowledge gain: pre-test and post-test attempts of the statistics data set's learners, the
figures checked against counts made here from the attempts, by group and slice; learners with
one test only, a pre-test taken after the post-test or no enrolment left out; the scope; the
dashboard, the exports and the API; constant query counts."""

import csv
import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import and_

from courses.models import Enrolment, Module, Quiz, QuizAttempt
from learnplatform.extensions import db
from learnplatform.regions import region_of
from learnplatform.stats import gain, queries
from learnplatform.stats.filters import Filters
from tests.api.test_api import token_of
from tests.helpers import count_queries
from tests.stats.test_statistics import (  # noqa: F401  (data: a fixture)
    MODULES,
    PEOPLE,
    data,
    export_json,
    logged_in,
)

# (person, module, test, attempt number, submitted (None: still open), score)
ATTEMPTS = [
    # First pre-test 40 (not the better second one) against the best post-test 90: +50.
    ("p1", "m1", "pre_test", 1, datetime(2026, 1, 10, 10), 40),
    ("p1", "m1", "pre_test", 2, datetime(2026, 1, 11, 10), 80),
    ("p1", "m1", "post_test", 1, datetime(2026, 2, 1, 10), 60),
    ("p1", "m1", "post_test", 2, datetime(2026, 2, 2, 10), 90),
    ("p2", "m1", "pre_test", 1, datetime(2026, 3, 21, 9), 30),
    ("p2", "m1", "post_test", 1, datetime(2026, 3, 25, 9), 35),
    ("p3", "m1", "pre_test", 1, datetime(2026, 1, 2, 9), 70),
    ("p3", "m1", "post_test", 1, datetime(2026, 1, 5, 9), 70),
    ("p5", "m1", "pre_test", 1, datetime(2026, 7, 1, 9), 50),  # no post-test
    ("p1", "m2", "pre_test", 1, datetime(2026, 2, 16, 9), 60),
    ("p1", "m2", "post_test", 1, datetime(2026, 4, 3, 12), 50),
    ("p6", "m2", "pre_test", 1, datetime(2026, 2, 28, 13), 10),
    ("p6", "m2", "post_test", 1, datetime(2026, 3, 31, 23, 59, 59), 100),
    ("p3", "m2", "pre_test", 1, None, None),  # opened, never submitted
    ("p3", "m2", "post_test", 1, datetime(2026, 6, 30, 12), 80),
    ("p2", "m3", "pre_test", 1, datetime(2026, 4, 2, 9), 20),
    ("p2", "m3", "post_test", 1, datetime(2026, 4, 20, 9), 40),
    # Two equal best post-tests: the first counts, and its date.
    ("p6", "m3", "pre_test", 1, datetime(2026, 4, 1, 9), 50),
    ("p6", "m3", "post_test", 1, datetime(2026, 5, 1, 9), 60),
    ("p6", "m3", "post_test", 2, datetime(2026, 6, 1, 9), 60),
    # The pre-test after the post-test: not what the learner knew before.
    ("p4", "m3", "post_test", 1, datetime(2026, 6, 2, 9), 70),
    ("p4", "m3", "pre_test", 1, datetime(2026, 6, 3, 9), 20),
    # Not enrolled (p4 in m1), enrolment never accepted (p5 in m2): left out.
    ("p4", "m1", "pre_test", 1, datetime(2026, 3, 1, 9), 10),
    ("p4", "m1", "post_test", 1, datetime(2026, 3, 2, 9), 90),
    ("p5", "m2", "pre_test", 1, datetime(2026, 3, 1, 9), 10),
    ("p5", "m2", "post_test", 1, datetime(2026, 3, 2, 9), 90),
]
ENROLLED = {
    ("p1", "m1"),
    ("p1", "m2"),
    ("p2", "m1"),
    ("p2", "m3"),
    ("p3", "m1"),
    ("p3", "m2"),
    ("p4", "m3"),
    ("p5", "m1"),
    ("p6", "m2"),
    ("p6", "m3"),
}
BAND_KEYS = ["lost", "same", "gain_1_10", "gain_11_25", "gain_26_50", "gain_over_50"]
BAND_NAMES = ["Lost ground", "No change", "+1 to +10", "+11 to +25", "+26 to +50", "More than +50"]
FIGURES = ["learners", "average_pre", "average_post", "average_gain", "share_improved"]


@pytest.fixture
def tests_taken(app, data):  # noqa: F811
    """The pre-tests and post-tests of the data set's modules and the attempts above."""
    with app.app_context():
        quizzes = {}
        for module_key, module_id in data["modules"].items():
            for kind in ("pre_test", "post_test"):
                quiz = Quiz(module_id=module_id, kind=kind, title=kind)
                db.session.add(quiz)
                db.session.flush()
                quizzes[module_key, kind] = quiz.id
        for person, module, kind, number, submitted, score in ATTEMPTS:
            db.session.add(
                QuizAttempt(
                    quiz_id=quizzes[module, kind],
                    user_id=data["people"][person].id,
                    number=number,
                    started_at=(submitted or datetime(2026, 6, 1)) - timedelta(minutes=20),
                    submitted_at=submitted,
                    percent=score,
                    passed=None if score is None else score >= 50,
                )
            )
        db.session.commit()
    return quizzes


# The counts, made here from the attempts.
def pairs():
    """(person, module, pre-test score, post-test score, date) of each learner who counts."""
    found = []
    for person, module in sorted(ENROLLED):
        mine = [a for a in ATTEMPTS if a[:2] == (person, module) and a[4] is not None]
        pre = sorted((a for a in mine if a[2] == "pre_test"), key=lambda a: a[3])
        post = sorted((a for a in mine if a[2] == "post_test"), key=lambda a: (-a[5], a[3]))
        if pre and post and pre[0][4] < post[0][4]:
            found.append((person, module, pre[0][5], post[0][5], post[0][4]))
    return found


def band_of(difference):
    if difference < 0:
        return "lost"
    if difference == 0:
        return "same"
    for high, key in ((10, "gain_1_10"), (25, "gain_11_25"), (50, "gain_26_50")):
        if difference <= high:
            return key
    return "gain_over_50"


def group_of(group, person, module):
    country, gender, agency, _ = PEOPLE[person]
    return {
        "module": MODULES[module][0],
        "country": country,
        "region": region_of(country),
        "gender": gender,
        "agency_type": agency,
    }[group]


def expected(start=None, end=None, keep=lambda person, module: True, group=None):
    """{group key: figures} (the key None without a group)."""
    groups: dict = {}
    for person, module, pre, post, moment in pairs():
        if not keep(person, module):
            continue
        if (start and moment.date() < start) or (end and moment.date() > end):
            continue
        key = group_of(group, person, module) if group else None
        groups.setdefault(key, []).append((pre, post))
    answer = {}
    for key, scores in groups.items():
        count = len(scores)
        differences = [post - pre for pre, post in scores]
        answer[key] = {
            "learners": count,
            "average_pre": round(sum(pre for pre, _ in scores) / count, 1),
            "average_post": round(sum(post for _, post in scores) / count, 1),
            "average_gain": round(sum(differences) / count, 1),
            "share_improved": round(100 * sum(d > 0 for d in differences) / count, 1),
            **{band: [band_of(d) for d in differences].count(band) for band in BAND_KEYS},
        }
    return answer


SLICES = [
    ({}, None, None, lambda p, m: True),
    ({"start": "2026-01-01", "end": "2026-03-31"}, date(2026, 1, 1), date(2026, 3, 31), None),
    ({"start": "2026-04-01", "end": "2026-06-30"}, date(2026, 4, 1), date(2026, 6, 30), None),
    ({"region": "002"}, None, None, lambda p, m: region_of(PEOPLE[p][0]) == "002"),
    ({"gender": "woman"}, None, None, lambda p, m: PEOPLE[p][1] == "woman"),
    ({"agency_type": "police"}, None, None, lambda p, m: PEOPLE[p][2] == "police"),
    ({"country": "BR"}, None, None, lambda p, m: PEOPLE[p][0] == "BR"),
    ({"language": "fr"}, None, None, lambda p, m: MODULES[m][2] == "fr"),
    ({"theme": "financing"}, None, None, lambda p, m: MODULES[m][1] == "financing"),
    ({"organisation": "pôle"}, None, None, lambda p, m: "Pôle" in PEOPLE[p][3]),
]
GROUPS = ["module", "country", "region", "gender", "agency_type"]


def test_the_data_set_covers_every_band_and_leaves_out_who_must_be():
    counted = {(person, module) for person, module, *_ in pairs()}
    assert counted == {
        ("p1", "m1"),
        ("p2", "m1"),
        ("p3", "m1"),
        ("p1", "m2"),
        ("p6", "m2"),
        ("p2", "m3"),
        ("p6", "m3"),
    }
    assert {band_of(post - pre) for _, _, pre, post, _ in pairs()} == set(BAND_KEYS)


@pytest.mark.parametrize("group", GROUPS)
def test_the_figures_by_group_are_those_counted_here(app, data, tests_taken, group):  # noqa: F811
    admin = logged_in(app, data["admin"])
    for args, start, end, keep in SLICES:
        rows = export_json(admin, "knowledge-gain", group=group, **args)
        label = "module" if group == "module" else group
        got = {row[label]: {k: row[k] for k in FIGURES + BAND_KEYS} for row in rows}
        assert got == expected(start, end, keep or (lambda p, m: True), group), (group, args)


def test_the_summary_for_the_donor_report(app, data, tests_taken):  # noqa: F811
    with app.app_context():
        from learnplatform.accounts.models import User

        admin = db.session.get(User, data["admin"].id)
        scope = queries.scope_of(admin)
        everything = gain.summary(Filters(), scope)
        want = expected()[None]
        assert {key: everything[key] for key in FIGURES} == {key: want[key] for key in FIGURES}
        assert everything["distribution"] == [
            {"key": key, "label": label, "learners": want[key]}
            for key, label in zip(
                BAND_KEYS,
                BAND_NAMES,
                strict=True,
            )
        ]
        # The report narrows the scope to chosen modules.
        chosen = [data["modules"]["m2"], data["modules"]["m3"]]
        narrowed = queries.Scope(
            and_(scope.modules, Module.id.in_(chosen)), scope.series, scope.rooms, False
        )
        second_quarter = gain.summary(Filters(start=date(2026, 4, 1)), narrowed)
        want = expected(date(2026, 4, 1), keep=lambda p, m: m in ("m2", "m3"))[None]
        assert {key: second_quarter[key] for key in FIGURES} == {k: want[k] for k in FIGURES}
        assert second_quarter["learners"] == 3
        nobody = gain.summary(Filters(country="FR"), scope)
        assert nobody["learners"] == 0
        assert nobody["average_gain"] is None and nobody["share_improved"] is None
        assert [band["learners"] for band in nobody["distribution"]] == [0] * 6


def test_a_trainer_sees_the_gain_of_their_own_modules(app, data, tests_taken):  # noqa: F811
    author = logged_in(app, data["trainers"]["trainer_a"])
    rows = export_json(author, "knowledge-gain", group="module")
    want = expected(keep=lambda p, m: MODULES[m][3] == "trainer_a", group="module")
    assert {row["module"]: row["learners"] for row in rows} == {
        title: figures["learners"] for title, figures in want.items()
    }
    assert MODULES["m3"][0] not in {row["module"] for row in rows}
    page = author.get("/stats/").get_data(as_text=True)
    assert MODULES["m3"][0] not in page.split('id="knowledge-gain"')[1].split("</section>")[0]


def test_the_dashboard_shows_the_totals_the_chart_and_the_distribution(
    app,
    data,  # noqa: F811
    tests_taken,
):
    admin = logged_in(app, data["admin"])
    response = admin.get("/stats/?group=gender&start=2026-01-01&end=2026-03-31")
    assert response.status_code == 200
    section = response.get_data(as_text=True).split('id="knowledge-gain"')[1].split("</section>")[0]
    want = expected(date(2026, 1, 1), date(2026, 3, 31))[None]
    assert "Knowledge gain by gender" in section
    for index, key in enumerate(FIGURES, start=1):
        shown = section.split(f'data-gain-figure="{index}">')[1].split("<")[0]
        assert shown.startswith(f"{want[key]:g}"), (key, shown)
    for band in BAND_KEYS:
        row = section.split(f'data-band="{band}">')[1].split("</tr>")[0]
        assert f'<td class="text-end">{want[band]}</td>' in row
    assert "chart-knowledge-gain" in section and "chart-knowledge-gain-distribution" in section
    assert "Woman" in section and "Man" in section
    assert "/stats/export/knowledge-gain.csv?" in section

    quiet = admin.get("/stats/?country=FR").get_data(as_text=True)
    assert "No learner took both tests of a module in this period and selection." in quiet


def test_the_spreadsheets_name_the_groups(app, data, tests_taken):  # noqa: F811
    admin = logged_in(app, data["admin"])
    response = admin.get("/stats/export/knowledge-gain.csv?group=region")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:6] == [
        "Region",
        "Learners with both tests",
        "Average pre-test score (%)",
        "Average post-test score (%)",
        "Average gain (points)",
        "Learners who improved (%)",
    ]
    assert rows[0][6] == "Gain Lost ground (learners)"
    want = expected(group="region")
    names = {"002": "Africa", "142": "Asia", "019": "Americas"}
    assert {row[0]: int(row[1]) for row in rows[1:]} == {
        names[key]: figures["learners"] for key, figures in want.items()
    }
    response = admin.get("/stats/export/knowledge-gain.xlsx?group=module")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Module id", "Module", "Learners with both tests")
    assert {row[1]: row[2] for row in values[1:]} == {
        title: figures["learners"] for title, figures in expected(group="module").items()
    }


def test_the_api_answers_the_gain(app, data, tests_taken):  # noqa: F811
    token = token_of(app, data["admin"])
    client = app.test_client()
    response = client.get(
        "/api/v1/statistics/knowledge-gain?group=country&gender=woman",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    answer = response.get_json()
    keep = lambda p, m: PEOPLE[p][1] == "woman"  # noqa: E731
    assert answer["group"] == "country"
    assert answer["filters"] == {"gender": "woman"}
    assert answer["columns"] == ["country", *FIGURES, *BAND_KEYS]
    assert {row["country"]: {k: row[k] for k in FIGURES + BAND_KEYS} for row in answer["rows"]} == (
        expected(keep=keep, group="country")
    )
    totals = expected(keep=keep)[None]
    assert {key: answer["totals"][key] for key in FIGURES} == {k: totals[k] for k in FIGURES}
    assert [band["learners"] for band in answer["totals"]["distribution"]] == [
        totals[band] for band in BAND_KEYS
    ]
    refused = client.get(
        "/api/v1/statistics/knowledge-gain?gender=somebody",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 400
    assert refused.get_json()["fields"] == {"gender": ["Not a valid choice."]}
    assert client.get("/api/v1/statistics/knowledge-gain").status_code == 401


def test_the_gain_costs_the_same_queries_for_two_learners_as_for_twenty(
    app,
    data,  # noqa: F811
    tests_taken,
    create_user,
):
    admin = logged_in(app, data["admin"])
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    token = token_of(app, data["admin"])
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def counts():
        return [
            count_queries(app, admin, "/stats/?group=module"),
            count_queries(app, admin, "/stats/?group=region&gender=woman"),
            count_queries(app, trainer, "/stats/"),
            count_queries(app, admin, "/stats/export/knowledge-gain.json?group=region"),
            count_queries(app, api, "/api/v1/statistics/knowledge-gain?group=module"),
        ]

    api.get("/api/v1/statistics/knowledge-gain")  # the token's first use is written once
    before = counts()
    people = [create_user(country=country) for country in ("ML", "KZ", "PE") * 6]
    with app.app_context():
        for number, person in enumerate(people):
            day = datetime(2026, 4, 1) + timedelta(days=number)
            for module_key, module_id in data["modules"].items():
                db.session.add(Enrolment(module_id=module_id, user_id=person.id, enrolled_at=day))
                for kind, score in (("pre_test", 20 + number), ("post_test", 40 + 2 * number)):
                    db.session.add(
                        QuizAttempt(
                            quiz_id=tests_taken[module_key, kind],
                            user_id=person.id,
                            number=1,
                            submitted_at=day + timedelta(hours=1 if kind == "pre_test" else 5),
                            percent=score,
                        )
                    )
        db.session.commit()
    assert counts() == before
    rows = export_json(admin, "knowledge-gain", group="module")
    assert sum(row["learners"] for row in rows) == len(pairs()) + 3 * len(people)
