"""Survey results: the figures of each question against counts made here, response rates, who
responded, the free-text answers (paged, searched without accents), the anonymity threshold (a
filter cannot single a person out), who may see them, the exports and the API."""

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from irooms.models import Membership, Room
from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from learnplatform.stats import queries
from learnplatform.stats.filters import Filters
from learnplatform.surveys import results, services
from learnplatform.surveys.models import (
    Survey,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
)
from tests.api.test_api import token_of
from tests.courses.test_modules import build_module
from tests.helpers import count_queries

BASE = "https://learning.example.org"
WITHHELD = "may have come from fewer than 5 people, so no results are shown"

#: (kind, text, choices) of the survey the tests build
QUESTIONS = [
    ("agreement", "The module was useful for my work.", ()),
    ("recommendation", "How likely are you to recommend it to a colleague?", ()),
    ("single", "Which part helped most?", ("Lessons", "Case studies", "Post-test")),
    ("multiple", "What will you use?", ("Checklists", "Templates", "Contacts")),
    ("long_text", "What would you change?", ()),
]


def build_survey(
    app, *, module_id=None, room_id=None, purpose="evaluation", anonymous=True, months=0
) -> int:
    """A survey of ``QUESTIONS`` (the last two optional), as the builder would save it."""
    with app.app_context():
        survey = Survey(
            title=f"Survey {purpose} {months}",
            language="en",
            anonymous=anonymous,
            purpose=purpose,
            module_id=module_id,
            room_id=room_id,
            months=months,
        )
        survey.questions = questions_from(QUESTIONS)
        db.session.add(survey)
        db.session.commit()
        return survey.id


def questions_from(questions) -> list[SurveyQuestion]:
    """``SurveyQuestion`` rows with their choices from ``(kind, text, choices)``, the multiple
    choice and long text optional."""
    return [
        SurveyQuestion(
            position=position,
            kind=kind,
            text=text,
            required=kind not in ("multiple", "long_text"),
            choices=[
                SurveyChoice(position=number, text=choice)
                for number, choice in enumerate(choices, start=1)
            ],
        )
        for position, (kind, text, choices) in enumerate(questions, start=1)
    ]


def answer(app, survey_id, user, values, *, day=None, asked=True, occasion=0):
    """``user`` answers through ``services.respond``: ``values`` is (agreement, recommendation,
    single choice, [multiple choices], text or None); ``day`` backdates the response;
    ``occasion`` is the live session a session survey is answered about."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        questions = survey.questions
        choice = {c.text: str(c.id) for q in questions for c in q.choices}
        agreement, recommendation, single, multiple, text = values
        form = MultiDict(
            [
                (f"q{questions[0].id}", str(agreement)),
                (f"q{questions[1].id}", str(recommendation)),
                (f"q{questions[2].id}", choice[single]),
                *((f"q{questions[3].id}", choice[item]) for item in multiple),
                *([(f"q{questions[4].id}", text)] if text else []),
            ]
        )
        if asked:
            services.ask(survey, user.id, occasion)
        read = services.read_answers(survey, form)
        assert not read.errors, read.errors
        response = services.respond(survey, db.session.get(User, user.id), read, occasion)
        if day:
            response.submitted_on = day
        db.session.commit()


def set_profile(app, user, **values):
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(**values))
        db.session.commit()


#: six responses: (agreement, recommendation, single, multiple, text)
SIX = [
    (5, 10, "Lessons", ["Checklists", "Templates"], "More case studies from the Sahel."),
    (4, 9, "Case studies", ["Checklists"], "Rien à changer, très utile."),
    (4, 9, "Case studies", [], None),
    (3, 7, "Lessons", ["Contacts"], "Shorter videos."),
    (5, 3, "Post-test", ["Templates"], '=HYPERLINK("http://evil.example")'),
    (2, 0, "Lessons", ["Checklists"], "A glossary of électronique terms."),
]


@pytest.fixture
def world(app, create_user):
    """A trainer's module with an anonymous evaluation answered by six Kenyan prosecutors
    (eight asked), an administrator and another trainer."""
    trainer = create_user(role="trainer", email="trainer@example.org")
    other = create_user(role="trainer", email="other@example.org")
    admin = create_user(role="administrator", email="admin@example.org")
    module_id = build_module(app, trainer.id)
    survey_id = build_survey(app, module_id=module_id)
    learners = [create_user(country="KE") for _ in range(8)]
    for learner, values in zip(learners, SIX, strict=False):
        answer(app, survey_id, learner, values, day=date(2026, 3, 10))
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        for learner in learners[6:]:
            services.ask(survey, learner.id)
        db.session.commit()
    return {
        "trainer": trainer,
        "other": other,
        "admin": admin,
        "module_id": module_id,
        "survey_id": survey_id,
        "learners": learners,
    }


def hosted_room(app, host) -> int:
    """A room hosted by ``host``, its id."""
    with app.app_context():
        room = Room(name="Sahel prosecutors", description="", language="fr", theme="cooperation")
        room.memberships = [Membership(user_id=host.id, role="host")]
        db.session.add(room)
        db.session.commit()
        return room.id


def log_in(client, auth, user):
    """Log out whoever is logged in, then log ``user`` in."""
    if client.get("/account").status_code == 200:
        auth.logout()
    assert auth.login(user.email).status_code == 302


def api_get(app, user, path):
    token = token_of(app, user)
    return app.test_client().get(path, base_url=BASE, headers={"Authorization": f"Bearer {token}"})


# Figures.
def test_each_question_is_counted_as_the_responses_say(app, client, auth, world):
    log_in(client, auth, world["trainer"])
    page = client.get(f"/surveys/{world['survey_id']}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "The module was useful for my work." in html
    assert "More case studies from the Sahel." in html
    assert 'data-chart="bar"' in html

    figures = api_get(app, world["admin"], f"/api/v1/surveys/{world['survey_id']}/results").json
    assert figures["respondents"] == 6
    assert (figures["asked"], figures["answered"], figures["response_rate"]) == (8, 6, 75.0)
    agreement, recommendation, single, multiple, text = figures["questions"]

    scores = [values[0] for values in SIX]
    assert agreement["answered"] == 6
    assert agreement["average"] == round(sum(scores) / 6, 2)  # 3.83
    assert {o["label"]: o["count"] for o in agreement["distribution"]} == {
        str(v): scores.count(v) for v in range(1, 6)
    }
    assert agreement["distribution"][3]["percent"] == round(100 * 2 / 6, 1)  # two gave 4

    marks = [values[1] for values in SIX]
    promoters = sum(mark >= 9 for mark in marks)
    detractors = sum(mark <= 6 for mark in marks)
    assert recommendation["average"] == round(sum(marks) / 6, 2)
    assert recommendation["recommendation_score"] == round(100 * (promoters - detractors) / 6)
    assert len(recommendation["distribution"]) == 11

    assert [(o["label"], o["count"]) for o in single["distribution"]] == [
        ("Lessons", 3),
        ("Case studies", 2),
        ("Post-test", 1),
    ]
    # five answered the multiple choice (one ticked nothing); percents are of those five
    assert multiple["answered"] == 5
    assert [(o["label"], o["count"], o["percent"]) for o in multiple["distribution"]] == [
        ("Checklists", 3, 60.0),
        ("Templates", 2, 40.0),
        ("Contacts", 1, 20.0),
    ]
    assert text["answered"] == 5 and text["distribution"] == []
    assert f"data-recommendation-score>{recommendation['recommendation_score']}" in html


def test_the_period_filters_responses_by_their_day(app, client, auth, world, create_user):
    late = [create_user(country="KE") for _ in range(5)]
    for learner in late:
        answer(app, world["survey_id"], learner, SIX[0], day=date(2026, 5, 2))
    found = api_get(
        app,
        world["admin"],
        f"/api/v1/surveys/{world['survey_id']}/results?start=2026-05-01&end=2026-05-31",
    ).json
    assert found["respondents"] == 5
    assert found["questions"][0]["average"] == 5.0
    everything = api_get(app, world["admin"], f"/api/v1/surveys/{world['survey_id']}/results")
    assert everything.json["respondents"] == 11


# Anonymity.
def test_an_anonymous_survey_with_four_responses_shows_nothing(app, client, auth, create_user):
    trainer = create_user(role="trainer")
    survey_id = build_survey(app, module_id=build_module(app, trainer.id))
    for values in SIX[:4]:
        answer(app, survey_id, create_user(), values)
    log_in(client, auth, trainer)
    html = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
    assert WITHHELD in html
    assert "More case studies from the Sahel." not in html
    assert "data-average" not in html and "data-breakdown" not in html
    assert "<canvas" not in html
    for dataset in ("responses", "texts"):  # withheld on a count of the responses alone
        exported = client.get(f"/surveys/{survey_id}/results/export/{dataset}.csv")
        assert exported.status_code == 302
    questions = client.get(f"/surveys/{survey_id}/results/export/distribution.json")
    assert questions.status_code == 302
    with app.app_context():
        question_id = db.session.get(Survey, survey_id).questions[4].id
    texts = client.get(f"/surveys/{survey_id}/results/questions/{question_id}/texts")
    assert WITHHELD in texts.get_data(as_text=True)
    assert "Shorter videos." not in texts.get_data(as_text=True)

    # identified, the same four are shown
    with app.app_context():
        db.session.execute(update(Survey).where(Survey.id == survey_id).values(anonymous=False))
        db.session.commit()
    assert "Shorter videos." in client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)


def test_a_filter_cannot_single_out_a_respondent(app, client, auth, world, create_user):
    """Six Kenyans and two Malian women answered: filtering on Mali, on women, or on the Malians'
    agency type shows nothing of them; the breakdowns hide the two among the others."""
    malians = [create_user(country="ML") for _ in range(2)]
    for learner in malians:
        set_profile(app, learner, gender="woman", agency_type="judiciary")
        answer(app, world["survey_id"], learner, (1, 1, "Post-test", ["Contacts"], "Secret Bamako"))
    log_in(client, auth, world["trainer"])
    base = f"/surveys/{world['survey_id']}/results"
    for attack in ("country=ML", "gender=woman", "agency_type=judiciary", "region=011"):
        html = client.get(f"{base}?{attack}").get_data(as_text=True)
        assert WITHHELD in html, attack
        assert "Secret Bamako" not in html and "data-average" not in html
        api = api_get(app, world["admin"], f"/api/v1/surveys/{world['survey_id']}/results?{attack}")
        assert api.json["withheld"] is True and api.json["questions"] == []
        assert api.json["respondents"] is None

    html = client.get(base).get_data(as_text=True)
    assert "Mali" not in html.split("Who responded")[1]
    assert "Other (fewer than 5 each)" not in html  # two, fewer than five: left out too
    assert "Kenya" in html.split("Who responded")[1]


def test_small_groups_are_merged_into_one_row_once_it_reaches_five(
    app, client, auth, world, create_user
):
    for country in ("ML", "ML", "NE", "SN", "TD"):
        answer(app, world["survey_id"], create_user(country=country), SIX[0])
    log_in(client, auth, world["trainer"])
    who = client.get(f"/surveys/{world['survey_id']}/results").get_data(as_text=True)
    who = who.split("Who responded")[1]
    assert "Other (fewer than 5 each)" in who
    assert "Niger" not in who and "Mali" not in who


def test_five_answers_of_one_person_after_five_sessions_show_nothing(
    app, client, auth, create_user
):
    """A session survey is answered once per live session: one Malian's five responses are
    not five respondents, and show nothing of her anywhere; four Kenyans more make five people,
    and the breakdowns still hide her among them."""
    host = create_user(role="trainer")
    room_id = hosted_room(app, host)
    survey_id = build_survey(app, room_id=room_id, purpose="session")
    regular = create_user(country="ML")
    for session in range(1, 6):
        values = (1, 1, "Post-test", [], f"Secret of session {session}")
        answer(app, survey_id, regular, values, occasion=session)
    log_in(client, auth, host)
    base = f"/surveys/{survey_id}/results"
    html = client.get(base).get_data(as_text=True)
    assert WITHHELD in html and "Secret of session" not in html
    assert "data-average" not in html and "data-breakdown" not in html
    for dataset in ("responses", "texts", "distribution"):
        assert client.get(f"{base}/export/{dataset}.csv").status_code == 302
    api = api_get(app, create_user(role="administrator"), f"/api/v1{base}")
    assert api.json["withheld"] is True and api.json["questions"] == []
    with app.app_context():
        scope = queries.scope_of(db.session.get(User, host.id))
        assert results.satisfaction(Filters(), scope)["withheld"] is True

    for _ in range(4):
        answer(app, survey_id, create_user(country="KE"), SIX[1], occasion=1)
    html = client.get(base).get_data(as_text=True)
    assert "data-withheld" not in html and "Secret of session" in html
    who = html.split("Who responded")[1]
    assert "Mali" not in who and "Kenya" not in who  # five responses each: fewer than five people
    assert "Other (fewer than 5 each)" in who  # nine responses of at least five people
    with app.app_context():
        assert results.satisfaction(Filters(), scope)["withheld"] is False


@pytest.mark.parametrize(
    ("answers_per_person", "responses", "people"),
    [
        ({}, 3, 3),  # nobody's participation left: one each
        ({1: 40}, 7, 7),
        ({1: 40, 3: 2}, 7, 3),  # the two who answered thrice, and one more
        ({5: 1, 1: 4}, 9, 5),
        ({2: 3}, 10, 5),  # four beyond the participations, as if of people who answered twice
        ({2: 3}, 0, 0),
    ],
)
def test_the_fewest_people_who_can_have_given_some_responses(answers_per_person, responses, people):
    assert results.fewest_people(answers_per_person, responses) == people


# Free text.
def test_free_text_answers_are_paged_and_searched_without_accents(app, client, auth, world):
    log_in(client, auth, world["trainer"])
    with app.app_context():
        survey = db.session.get(Survey, world["survey_id"])
        question = survey.questions[4]
        url = f"/surveys/{survey.id}/results/questions/{question.id}/texts"
        first, following = results.texts(survey, question, Filters(), limit=2)
        second, last = results.texts(survey, question, Filters(), after=following, limit=2)
        third, none = results.texts(survey, question, Filters(), after=last, limit=2)
        assert len(first) == len(second) == 2 and len(third) == 1 and none is None
        seen = [text for _key, text, _day in first + second + third]
        assert sorted(seen) == sorted(values[4] for values in SIX if values[4])
        assert all(day is None for *_, day in first)  # anonymous: no day beside the text
    html = client.get(f"{url}?q=ELECTRONIQUE").get_data(as_text=True)
    assert "A glossary of électronique terms." in html and "Shorter videos." not in html
    html = client.get(f"{url}?q=tres+rien").get_data(as_text=True)
    assert "Rien à changer, très utile." in html
    assert "No answer matches." in client.get(f"{url}?q=nowhere").get_data(as_text=True)
    assert client.get(f"{url}?q=%25").status_code == 200


# Who may see them.
def test_only_the_modules_trainer_and_administrators_see_the_results(app, client, auth, world):
    url = f"/surveys/{world['survey_id']}/results"
    log_in(client, auth, world["other"])
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/export/responses.csv").status_code == 404
    listed = client.get("/surveys/results/").get_data(as_text=True)
    assert f'data-survey="{world["survey_id"]}"' not in listed
    log_in(client, auth, world["learners"][0])
    assert client.get(url).status_code == 404
    assert client.get("/surveys/results/").status_code == 403
    log_in(client, auth, world["admin"])
    assert client.get(url).status_code == 200
    assert client.get("/surveys/999999/results").status_code == 404


def test_a_rooms_host_sees_its_session_survey(app, client, auth, world, create_user):
    host = create_user(role="trainer")
    room_id = hosted_room(app, host)
    survey_id = build_survey(app, room_id=room_id, purpose="session")
    log_in(client, auth, host)
    listed = client.get("/surveys/results/").get_data(as_text=True)
    assert f'data-survey="{survey_id}"' in listed
    assert f'data-survey="{world["survey_id"]}"' not in listed
    assert client.get(f"/surveys/{survey_id}/results").status_code == 200
    assert client.get(f"/surveys/{world['survey_id']}/results").status_code == 404


# Queries.
def test_the_page_asks_as_many_queries_for_many_responses_as_for_few(
    app, client, auth, world, create_user
):
    log_in(client, auth, world["trainer"])
    url = f"/surveys/{world['survey_id']}/results?country=KE"
    few = count_queries(app, client, url)
    for values in SIX * 2:
        answer(app, world["survey_id"], create_user(country="KE"), values)
    assert count_queries(app, client, url) == few
    with app.app_context():
        question_id = db.session.get(Survey, world["survey_id"]).questions[4].id
    texts = f"/surveys/{world['survey_id']}/results/questions/{question_id}/texts?q=case"
    assert count_queries(app, client, texts) == count_queries(app, client, texts)


# Exports.
def test_the_exports_hold_the_figures_texts_and_responses(app, client, auth, world):
    log_in(client, auth, world["trainer"])
    base = f"/surveys/{world['survey_id']}/results/export"
    figures = json.loads(client.get(f"{base}/distribution.json").get_data(as_text=True))
    lessons = [row for row in figures if row["answer"] == "Lessons"]
    assert lessons[0]["count"] == 3 and lessons[0]["percent"] == 50.0
    questions = json.loads(client.get(f"{base}/questions.json").get_data(as_text=True))
    assert questions[0]["average"] == 3.83

    sheet = client.get(f"{base}/responses.csv")
    assert sheet.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [text for _kind, text, _choices in QUESTIONS]  # anonymous: answers only
    assert len(rows) == 7
    assert sorted(row[0] for row in rows[1:]) == sorted(str(values[0]) for values in SIX)
    assert ["4", "9", "Case studies", "", ""] in rows[1:]
    assert [
        "5",
        "10",
        "Lessons",
        "Checklists; Templates",
        "More case studies from the Sahel.",
    ] in rows[1:]
    assert not any(learner.name in sheet.get_data(as_text=True) for learner in world["learners"])
    assert "'=HYPERLINK" in sheet.get_data(as_text=True)  # inert in a spreadsheet

    texts = client.get(f"{base}/texts.csv?q=sahel").get_data(as_text=True)
    assert "More case studies from the Sahel." in texts and "Shorter videos." not in texts
    workbook = client.get(f"{base}/texts.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    assert client.get(f"{base}/nothing.csv").status_code == 404
    assert client.get(f"{base}/texts.pdf").status_code == 404
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "statistics_exported")
        ).all()
        assert {json.loads(event.detail)["dataset"] for event in exported} == {
            "survey-distribution",
            "survey-questions",
            "survey-responses",
            "survey-texts",
        }


def test_an_identified_surveys_responses_name_the_respondents(app, client, auth, world):
    with app.app_context():
        db.session.execute(
            update(Survey).where(Survey.id == world["survey_id"]).values(anonymous=False)
        )
        db.session.execute(update(SurveyResponse).values(user_id=world["learners"][0].id))
        db.session.commit()
    log_in(client, auth, world["trainer"])
    sheet = client.get(f"/surveys/{world['survey_id']}/results/export/responses.json")
    rows = json.loads(sheet.get_data(as_text=True))
    assert rows[0]["learner"] == world["learners"][0].name
    assert rows[0]["country"] == "KE" and rows[0]["submitted_on"] == "2026-03-10"


# API.
def test_the_api_lists_the_surveys_with_their_counts(app, world):
    listed = api_get(app, world["admin"], "/api/v1/surveys").json["surveys"]
    assert [(s["id"], s["respondents"], s["asked"], s["answered"]) for s in listed] == [
        (world["survey_id"], 6, 8, 6)
    ]
    for missing in ("999999", str(2**31), str(10**30), "x"):
        answer = api_get(app, world["admin"], f"/api/v1/surveys/{missing}/results")
        assert (answer.status_code, answer.json["error"]) == (404, "not_found")
    assert (
        api_get(
            app, world["admin"], f"/api/v1/surveys/{world['survey_id']}/results?country=XX"
        ).status_code
        == 400
    )
    assert app.test_client().get("/api/v1/surveys", base_url=BASE).status_code == 401


# For the donor report.
def test_satisfaction_and_follow_ups_for_the_donor_report(app, world, create_user):
    follow_up = build_survey(app, module_id=world["module_id"], purpose="follow_up", months=3)
    for values in SIX[:5]:
        answer(app, follow_up, create_user(), values)
    with app.app_context():
        scope = queries.scope_of(db.session.get(User, world["trainer"].id))
        found = results.satisfaction(Filters(), scope)
        marks = [values[1] for values in SIX]
        assert found["respondents"] == 6 and not found["withheld"]
        assert found["agreement_average"] == 3.83
        assert found["recommendation_average"] == round(sum(marks) / 6, 1)
        assert found["recommendation_score"] == round(100 * (3 - 2) / 6)
        nobody = results.satisfaction(Filters(country="ML"), scope)
        assert nobody["respondents"] == 0 and nobody["agreement_average"] is None
        few = results.satisfaction(Filters(), scope, module_ids=[world["module_id"]])
        assert few["respondents"] == 6
        assert results.satisfaction(Filters(), scope, module_ids=[])["respondents"] == 0

        (only,) = results.follow_up_figures(Filters(), scope)
        assert (only["months"], only["respondents"], only["asked"]) == (3, 5, 5)
        assert only["questions"][0]["average"] == round(sum(v[0] for v in SIX[:5]) / 5, 2)
        assert results.follow_up_figures(Filters(country="ML"), scope)[0]["questions"] == []
        other = queries.scope_of(db.session.get(User, world["other"].id))
        assert results.follow_up_figures(Filters(), other) == []
        assert results.satisfaction(Filters(), other)["respondents"] == 0


def test_the_dashboard_links_to_the_survey_results(app, client, auth, world):
    log_in(client, auth, world["trainer"])
    assert 'href="/surveys/results/"' in client.get("/stats/").get_data(as_text=True)
    listed = client.get("/surveys/results/").get_data(as_text=True)
    assert f'href="/surveys/{world["survey_id"]}/results"' in listed
    assert "75" in listed.split(f'data-survey="{world["survey_id"]}"')[1]  # 6 of 8 asked
