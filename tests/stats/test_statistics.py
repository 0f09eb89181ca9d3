"""Statistics: every figure of a hand-built data set checked against counts computed here,
independently, for several periods and slices; who sees which figures; constant query counts;
the exports."""

import csv
import io
import json
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from courses.models import Enrolment, Module
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from learnplatform.regions import region_of
from tests.helpers import Auth, QueryCounter

# (key, country, gender, agency type, organisation)
PEOPLE = {
    "p1": ("ML", "woman", "prosecution", "Pôle judiciaire spécialisé, Bamako"),
    "p2": ("NE", "man", "police", "Service central de lutte antiterroriste"),
    "p3": ("KZ", "woman", "judiciary", "Supreme Court of Kazakhstan"),
    "p4": ("FR", "undisclosed", "police", "Police nationale"),
    "p5": ("TN", "man", "prosecution", "Pôle judiciaire antiterroriste, Tunis"),
    "p6": ("BR", "woman", "customs_borders", "Receita Federal"),
}
# (key, title, theme, language, author)
MODULES = {
    "m1": ("Countering the financing of terrorism", "financing", "en", "trainer_a"),
    "m2": ("Preuves électroniques", "electronic_evidence", "fr", "trainer_a"),
    "m3": ("Supporting victims in criminal proceedings", "victims", "ar", "trainer_b"),
}
# (person, module, enrolled, completed, post-test score)
ENROLMENTS = [
    ("p1", "m1", datetime(2026, 1, 10, 9), datetime(2026, 2, 1, 10), 90),
    ("p1", "m2", datetime(2026, 2, 15, 8), datetime(2026, 4, 3, 12), 70),
    ("p2", "m1", datetime(2026, 3, 20, 14), None, None),
    ("p2", "m3", datetime(2026, 4, 1, 7), datetime(2026, 4, 20, 7), None),
    ("p3", "m1", datetime(2025, 12, 30, 16), datetime(2026, 1, 5, 9), 100),
    ("p3", "m2", datetime(2026, 5, 5, 11), datetime(2026, 6, 30, 23, 59, 59), 80),
    ("p4", "m3", datetime(2026, 6, 1, 10), None, None),
    ("p5", "m1", datetime(2026, 7, 1, 0, 0), datetime(2026, 7, 2, 6), 60),
    ("p6", "m2", datetime(2026, 2, 28, 12), datetime(2026, 3, 31, 23, 59, 59), 85),
    ("p6", "m3", datetime(2026, 4, 1, 0, 0), datetime(2026, 9, 1, 8), 75),
]


@pytest.fixture
def data(app, create_user):
    """The hand-built data set: ids of people, modules and trainers."""
    people = {
        key: create_user(name=f"Learner {key}", country=country)
        for key, (country, *_) in PEOPLE.items()
    }
    trainers = {
        "trainer_a": create_user(role="trainer", name="Trainer A"),
        "trainer_b": create_user(role="trainer", name="Trainer B"),
    }
    admin = create_user(role="administrator", name="Administrator")
    with app.app_context():
        from learnplatform.accounts.models import User

        for key, (_, gender, agency, organisation) in PEOPLE.items():
            user = db.session.get(User, people[key].id)
            user.gender, user.agency_type, user.organisation = gender, agency, organisation
        modules = {}
        for key, (title, theme, language, author) in MODULES.items():
            module = Module(
                title=title,
                theme=theme,
                language=language,
                is_published=True,
                created_by_id=trainers[author].id,
            )
            db.session.add(module)
            db.session.flush()
            modules[key] = module.id
        for person, module, enrolled, completed, score in ENROLMENTS:
            db.session.add(
                Enrolment(
                    module_id=modules[module],
                    user_id=people[person].id,
                    status="active",
                    requested_at=enrolled,
                    enrolled_at=enrolled,
                    completed_at=completed,
                    post_test_percent=score,
                    progress_percent=100 if completed else 40,
                )
            )
        # Asked to enrol, not accepted: counted nowhere.
        db.session.add(
            Enrolment(
                module_id=modules["m2"],
                user_id=people["p5"].id,
                status="pending",
                requested_at=datetime(2026, 2, 1),
            )
        )
        db.session.commit()
    return {"people": people, "modules": modules, "trainers": trainers, "admin": admin}


# The counts, computed here from the lists above.
def _group_key(group, person, module):
    country, gender, agency, organisation = PEOPLE[person]
    title, theme, language, _ = MODULES[module]
    return {
        "module": title,
        "theme": theme,
        "language": language,
        "country": country,
        "region": region_of(country),
        "subregion": region_of(country, "subregion"),
        "gender": gender,
        "agency_type": agency,
        "organisation": organisation,
    }[group]


def _period_key(moment, interval):
    if interval == "month":
        return f"{moment:%Y-%m}"
    if interval == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    return str(moment.year)


def expected(start=None, end=None, keep=lambda person, module: True, key=None):
    """{key: figures} from ENROLMENTS: ``key(person, module, moment)`` groups."""

    def inside(moment):
        return (
            moment is not None
            and (start is None or moment >= datetime.combine(start, datetime.min.time()))
            and (
                end is None
                or moment < datetime.combine(end + timedelta(days=1), datetime.min.time())
            )
        )

    groups: dict = {}

    def at(group_key):
        return groups.setdefault(
            group_key,
            {
                "enrolments": 0,
                "done": 0,
                "completions": 0,
                "people": set(),
                "countries": set(),
                "scores": [],
            },
        )

    for person, module, enrolled, completed, score in ENROLMENTS:
        if not keep(person, module):
            continue
        if inside(enrolled):
            figures = at(key(person, module, enrolled) if key else None)
            figures["enrolments"] += 1
            figures["done"] += completed is not None
        if inside(completed):
            figures = at(key(person, module, completed) if key else None)
            figures["completions"] += 1
            figures["people"].add(person)
            figures["countries"].add(PEOPLE[person][0])
            if score is not None:
                figures["scores"].append(score)
    return {
        group_key: {
            "enrolments": f["enrolments"],
            "completions": f["completions"],
            "completion_rate": round(100 * f["done"] / f["enrolments"], 1)
            if f["enrolments"]
            else None,
            "trained": len(f["people"]),
            "countries": len(f["countries"]),
            "average_score": round(sum(f["scores"]) / len(f["scores"]), 1) if f["scores"] else None,
        }
        for group_key, f in groups.items()
    }


def logged_in(app, user):
    browser = app.test_client()
    assert Auth(browser).login(user.email).status_code == 302
    return browser


def export_json(browser, dataset, **args):
    response = browser.get(f"/stats/export/{dataset}.json", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return json.loads(response.get_data(as_text=True))


FIGURES = ("enrolments", "completions", "completion_rate", "trained", "countries", "average_score")

SLICES = [
    ({}, None, None, lambda person, module: True),
    ({"quarter": "2026-Q1"}, date(2026, 1, 1), date(2026, 3, 31), lambda p, m: True),
    ({"quarter": "2026-Q2"}, date(2026, 4, 1), date(2026, 6, 30), lambda p, m: True),
    (
        {"start": "2026-02-01", "end": "2026-04-03"},
        date(2026, 2, 1),
        date(2026, 4, 3),
        lambda p, m: True,
    ),
    ({"region": "002"}, None, None, lambda p, m: region_of(PEOPLE[p][0]) == "002"),
    (
        {"region": "011", "quarter": "2026-Q2"},
        date(2026, 4, 1),
        date(2026, 6, 30),
        lambda p, m: region_of(PEOPLE[p][0], "subregion") == "011",
    ),
    ({"gender": "woman"}, None, None, lambda p, m: PEOPLE[p][1] == "woman"),
    (
        {"agency_type": "police", "language": "en"},
        None,
        None,
        lambda p, m: PEOPLE[p][2] == "police" and MODULES[m][2] == "en",
    ),
    (
        {"theme": "electronic_evidence"},
        None,
        None,
        lambda p, m: MODULES[m][1] == "electronic_evidence",
    ),
    (
        {"organisation": "pôle judiciaire"},
        None,
        None,
        lambda p, m: "Pôle judiciaire" in PEOPLE[p][3],
    ),
    (
        {"country": "BR", "start": "2026-03-31"},
        date(2026, 3, 31),
        None,
        lambda p, m: PEOPLE[p][0] == "BR",
    ),
]


@pytest.mark.parametrize(("args", "start", "end", "keep"), SLICES)
def test_every_breakdown_and_series_matches_counts_made_independently(
    app, data, args, start, end, keep
):
    admin = logged_in(app, data["admin"])
    for group in (
        "module",
        "theme",
        "language",
        "country",
        "region",
        "subregion",
        "gender",
        "agency_type",
        "organisation",
    ):
        rows = export_json(admin, "breakdown", group=group, **args)
        key_name = "module" if group == "module" else group
        got = {row[key_name]: {name: row[name] for name in FIGURES} for row in rows}
        want = expected(
            start, end, keep, key=lambda p, m, _moment, group=group: _group_key(group, p, m)
        )
        assert got == want, (group, args)
    for interval in ("month", "quarter", "year"):
        rows = export_json(admin, "periods", interval=interval, **args)
        got = {row["period"]: {name: row[name] for name in FIGURES} for row in rows}
        want = expected(
            start,
            end,
            keep,
            key=lambda p, m, moment, interval=interval: _period_key(moment, interval),
        )
        assert got == want, (interval, args)
        assert [row["period"] for row in rows] == sorted(got)


def test_the_headline_figures_are_those_of_the_whole_slice(app, data):
    admin = logged_in(app, data["admin"])
    page = admin.get("/stats/?quarter=2026-Q2").get_data(as_text=True)
    want = expected(date(2026, 4, 1), date(2026, 6, 30))[None]
    # Q2 2026: enrolled p2-m3, p3-m2, p4-m3, p6-m3; completed p1-m2, p2-m3, p3-m2.
    assert want == {
        "enrolments": 4,
        "completions": 3,
        "completion_rate": 75.0,
        "trained": 3,
        "countries": 3,
        "average_score": 75.0,
    }
    assert 'data-figure="1">3<' in page  # learners trained
    assert 'data-figure="2">3<' in page  # completions
    assert 'data-figure="3">4<' in page  # enrolments
    assert 'data-figure="4">75 %<' in page  # completion rate
    assert 'data-figure="5">75 %<' in page  # average score
    assert "From 1 Apr 2026 to 30 Jun 2026" in page or "From Apr 1, 2026 to Jun 30, 2026" in page


def test_completion_records_hold_one_row_per_enrolment_of_the_period(app, data):
    admin = logged_in(app, data["admin"])
    rows = export_json(admin, "completions", quarter="2026-Q1")
    in_q1 = [
        e
        for e in ENROLMENTS
        if datetime(2026, 1, 1) <= e[2] < datetime(2026, 4, 1)
        or (e[3] is not None and datetime(2026, 1, 1) <= e[3] < datetime(2026, 4, 1))
    ]
    assert len(rows) == len(in_q1) == 5
    first = rows[0]
    assert set(first) == {
        "enrolment_id",
        "learner_id",
        "learner",
        "country_code",
        "country",
        "region",
        "subregion",
        "gender",
        "agency_type",
        "organisation",
        "module_id",
        "module",
        "theme",
        "language",
        "enrolled_at",
        "completed_at",
        "score",
        "scorm_score",
    }
    by_learner = {(row["learner"], row["module"]): row for row in rows}
    row = by_learner[("Learner p1", "Countering the financing of terrorism")]
    assert row["enrolled_at"] == "2026-01-10T09:00:00Z"
    assert row["completed_at"] == "2026-02-01T10:00:00Z"
    assert (row["score"], row["country_code"], row["region"], row["subregion"]) == (
        90,
        "ML",
        "002",
        "011",
    )
    assert [row["enrolment_id"] for row in rows] == sorted(row["enrolment_id"] for row in rows)


# Who sees what.
def test_a_trainer_sees_only_the_figures_of_their_own_modules(app, data):
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    rows = export_json(trainer, "breakdown", group="module")
    assert {row["module"] for row in rows} == {
        "Countering the financing of terrorism",
        "Preuves électroniques",
    }
    own = expected(keep=lambda p, m: MODULES[m][3] == "trainer_a")[None]
    page = trainer.get("/stats/").get_data(as_text=True)
    assert f'data-figure="3">{own["enrolments"]}<' in page
    assert "Supporting victims in criminal proceedings" not in page
    records = export_json(trainer, "completions")
    assert {row["module"] for row in records} == {
        "Countering the financing of terrorism",
        "Preuves électroniques",
    }
    # Filtering by another trainer's module is refused, as an unknown module.
    assert trainer.get(f"/stats/?module={data['modules']['m3']}").status_code == 400


def test_practitioners_get_no_figures(app, data):
    practitioner = logged_in(app, data["people"]["p1"])
    for path in ("/stats/", "/stats/export/completions.csv", "/stats/export/breakdown.json"):
        assert practitioner.get(path).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/stats/").status_code == 302
    assert anonymous.get("/stats/export/completions.csv").status_code == 302


def test_bad_filters_get_a_clear_message_and_no_figures(app, data):
    admin = logged_in(app, data["admin"])
    cases = {
        "start=2026-05-01&end=2026-01-01": "The end of the period comes before its start.",
        "start=yesterday": "Not a valid date value.",
        "region=999": "Not a valid choice.",
        "country=XX": "Not a valid choice.",
        "quarter=2026-Q5": "Choose a quarter from the list.",
        "module=999999": "Choose a module from the list.",
    }
    for query, message in cases.items():
        response = admin.get(f"/stats/?{query}")
        assert response.status_code == 400, query
        page = response.get_data(as_text=True)
        assert message in page, query
        assert "data-figure" not in page
        assert admin.get(f"/stats/export/completions.csv?{query}").status_code == 400
    assert admin.get("/stats/export/nothing.csv").status_code == 404
    assert admin.get("/stats/export/completions.pdf").status_code == 404
    assert admin.get("/stats/export/breakdown.csv?group=password").status_code == 400


# Exports.
def test_exports_are_inert_in_spreadsheets_keep_numbers_and_are_audited(app, data):
    with app.app_context():
        from learnplatform.accounts.models import User

        db.session.get(User, data["people"]["p1"].id).name = '=HYPERLINK("http://evil.example")'
        db.session.get(User, data["people"]["p3"].id).organisation = "@SUM(1+1)"
        db.session.commit()
    admin = logged_in(app, data["admin"])
    response = admin.get("/stats/export/completions.csv")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="completions-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Enrolment id", "Learner id", "Learner", "Country code"]
    names = {row[2] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert "'@SUM(1+1)" in {row[9] for row in rows[1:]}
    assert "Mali" in {row[4] for row in rows[1:]} and "Western Africa" in {
        row[6] for row in rows[1:]
    }

    workbook = openpyxl.load_workbook(io.BytesIO(admin.get("/stats/export/completions.xlsx").data))
    sheet = workbook.active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert not [cell for cell in cells if cell.data_type == "f"]
    scores = [row[16].value for row in sheet.iter_rows(min_row=2) if row[16].value is not None]
    assert scores and all(isinstance(score, int) for score in scores)
    assert '=HYPERLINK("http://evil.example")' in {
        row[2].value for row in sheet.iter_rows(min_row=2)
    }

    breakdown = openpyxl.load_workbook(
        io.BytesIO(admin.get("/stats/export/breakdown.xlsx?group=region").data)
    ).active
    header = [cell.value for cell in next(breakdown.iter_rows())]
    assert header[:3] == ["Region", "Enrolments", "Completions"]
    assert {row[0].value for row in breakdown.iter_rows(min_row=2)} >= {"Africa", "Asia", "Europe"}

    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "statistics_exported")
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.details["dataset"], e.details["format"]) for e in events] == [
            ("completions", "csv"),
            ("completions", "xlsx"),
            ("by-region", "xlsx"),
        ]
        assert events[0].actor_id == data["admin"].id


def test_the_dashboard_costs_the_same_queries_for_ten_rows_as_for_hundreds(app, data, create_user):
    admin = logged_in(app, data["admin"])
    with app.app_context():
        engine = db.engine

    def queries_for(path):
        with QueryCounter(engine) as counter:
            assert admin.get(path).status_code == 200
        return counter.count

    paths = [
        "/stats/",
        "/stats/?group=module&interval=quarter&region=002",
        "/stats/?group=organisation",
    ]
    before = [queries_for(path) for path in paths]
    people = [create_user(country=country) for country in ("ML", "KZ", "PE", "ID", "EG") * 8]
    with app.app_context():
        for number, person in enumerate(people):
            for module in data["modules"].values():
                moment = datetime(2025, 1, 1) + timedelta(days=(number * 7) % 600)
                db.session.add(
                    Enrolment(
                        module_id=module,
                        user_id=person.id,
                        status="active",
                        enrolled_at=moment,
                        completed_at=moment + timedelta(days=9) if number % 3 else None,
                        post_test_percent=70 + number % 30,
                    )
                )
        db.session.commit()
    assert [queries_for(path) for path in paths] == before
