"""Survey results read with the survey's language versions (``versions=all``): an English and a
French evaluation of the same questions counted together against counts made here, a version
whose questions differ refused with the question named, the anonymity threshold on the
combination, who may see it, the free-text answers labelled by language, the exports and the
API."""

import csv
import io
import json
import re
from datetime import date

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from courses import versions
from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from learnplatform.surveys import services
from learnplatform.surveys.models import Survey
from tests.courses.test_modules import build_module
from tests.helpers import count_queries
from tests.surveys.test_results import QUESTIONS, api_get, log_in, questions_from

WITHHELD = "may have come from fewer than 5 people, so no results are shown"
COMBINED_WITHHELD = "One of these language versions is anonymous"

#: the French version of ``QUESTIONS``: the same kinds, the same number of choices
FRENCH = [
    ("agreement", "Le module m'a été utile dans mon travail.", ()),
    ("recommendation", "Le recommanderiez-vous à un collègue ?", ()),
    ("single", "Quelle partie vous a le plus aidé ?", ("Leçons", "Études de cas", "Post-test")),
    ("multiple", "Qu'allez-vous utiliser ?", ("Listes", "Modèles", "Contacts")),
    ("long_text", "Que changeriez-vous ?", ()),
]

#: responses: (agreement, recommendation, single choice, [multiple choices], text); choices by
#: their position from 0
ENGLISH_ANSWERS = [
    (5, 10, 0, [0, 1], "More case studies from the Sahel."),
    (4, 9, 1, [0], None),
    (3, 7, 0, [2], "Shorter videos."),
    (2, 0, 2, [], None),
    (5, 9, 0, [1], None),
    (4, 6, 1, [0], None),
]
FRENCH_ANSWERS = [
    (5, 10, 1, [0], "Plus de cas pratiques du Sahel."),
    (3, 8, 1, [1, 2], None),
    (1, 2, 2, [0], "Des vidéos plus courtes."),
    (4, 9, 0, [], None),
]


def build_version(app, module_id, *, language="en", questions=QUESTIONS, anonymous=True, of=None):
    """A survey of ``questions`` evaluating ``module_id``; a version of ``of`` when given."""
    with app.app_context():
        survey = Survey(
            title="Évaluation du module" if language == "fr" else f"Module evaluation {language}",
            language=language,
            anonymous=anonymous,
            purpose="evaluation",
            module_id=module_id,
        )
        survey.questions = questions_from(questions)
        db.session.add(survey)
        db.session.flush()
        if of is not None:
            versions.link(survey, db.session.get(Survey, of))
        db.session.commit()
        return survey.id


def respond(app, survey_id, user, values, *, day=date(2026, 3, 10), asked=True):
    """``user`` answers ``values`` (choices by position) through ``services.respond``."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        questions = survey.questions
        agreement, recommendation, single, multiple, text = values
        form = MultiDict(
            [
                (f"q{questions[0].id}", str(agreement)),
                (f"q{questions[1].id}", str(recommendation)),
                (f"q{questions[2].id}", str(questions[2].choices[single].id)),
                *((f"q{questions[3].id}", str(questions[3].choices[i].id)) for i in multiple),
                *([(f"q{questions[4].id}", text)] if text else []),
            ]
        )
        if asked:
            services.ask(survey, user.id)
        read = services.read_answers(survey, form)
        assert not read.errors, read.errors
        response = services.respond(survey, db.session.get(User, user.id), read)
        response.submitted_on = day
        db.session.commit()


def ask_only(app, survey_id, users):
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        for user in users:
            services.ask(survey, user.id)
        db.session.commit()


def labelled(text: str, language: str, name: str) -> str:
    """A free-text answer as a page lists it with the language of its version."""
    return (
        f'<span class="text-break" lang="{language}">{text}</span> '
        f'<span class="small text-body-secondary" data-language>· {name}</span>'
    )


def figure(html: str, number: int) -> str:
    """The headline figure ``number`` of a results page (1: responses)."""
    return re.search(rf'data-figure="{number}">([^<]*)<', html).group(1).strip()


@pytest.fixture
def family(app, create_user):
    """A trainer's English module and its French version, each evaluated by an anonymous
    survey of the same questions, linked as language versions: six answered in English (eight
    asked), four in French (five asked)."""
    trainer = create_user(role="trainer", email="trainer@example.org")
    other = create_user(role="trainer", email="other@example.org")
    admin = create_user(role="administrator", email="admin@example.org")
    english_module = build_module(app, trainer.id)
    french_module = build_module(app, trainer.id, language="fr", title="Financement du terrorisme")
    english = build_version(app, english_module)
    french = build_version(app, french_module, language="fr", questions=FRENCH, of=english)
    for values in ENGLISH_ANSWERS:
        respond(app, english, create_user(country="KE"), values)
    for values in FRENCH_ANSWERS:
        respond(app, french, create_user(country="SN"), values)
    ask_only(app, english, [create_user() for _ in range(2)])
    ask_only(app, french, [create_user()])
    return {
        "trainer": trainer,
        "other": other,
        "admin": admin,
        "english_module": english_module,
        "english": english,
        "french": french,
    }


# Figures.
def test_the_versions_are_counted_together(app, client, auth, family):
    everyone = ENGLISH_ANSWERS + FRENCH_ANSWERS
    url = f"/api/v1/surveys/{family['english']}/results"
    alone = api_get(app, family["admin"], url).json
    assert alone["respondents"] == 6 and [v["language"] for v in alone["versions"]] == ["en"]

    found = api_get(app, family["admin"], f"{url}?versions=all").json
    assert [version["language"] for version in found["versions"]] == ["en", "fr"]
    assert found["respondents"] == len(everyone) == 10
    assert (found["asked"], found["answered"]) == (8 + 5, 10)
    assert found["response_rate"] == round(100 * 10 / 13, 1)
    agreement, recommendation, single, multiple, text = found["questions"]
    assert agreement["text"] == QUESTIONS[0][1]  # as the English version asks it

    scores = [values[0] for values in everyone]
    assert agreement["answered"] == 10
    assert agreement["average"] == round(sum(scores) / 10, 2)
    assert [o["count"] for o in agreement["distribution"]] == [scores.count(v) for v in range(1, 6)]

    marks = [values[1] for values in everyone]
    promoters = sum(mark >= 9 for mark in marks)
    detractors = sum(mark <= 6 for mark in marks)
    assert recommendation["average"] == round(sum(marks) / 10, 2)
    assert recommendation["recommendation_score"] == round(100 * (promoters - detractors) / 10)

    picked = [values[2] for values in everyone]
    assert [(o["label"], o["count"]) for o in single["distribution"]] == [
        (label, picked.count(place)) for place, label in enumerate(QUESTIONS[2][2])
    ]
    ticking = [values[3] for values in everyone if values[3]]
    assert multiple["answered"] == len(ticking) == 8
    assert [(o["label"], o["count"], o["percent"]) for o in multiple["distribution"]] == [
        (
            label,
            sum(place in ticked for ticked in ticking),
            round(100 * sum(place in ticked for ticked in ticking) / 8, 1),
        )
        for place, label in enumerate(QUESTIONS[3][2])
    ]
    assert text["answered"] == sum(1 for values in everyone if values[4])

    # the French version read with its versions: the same figures, under its own questions
    from_french = api_get(
        app, family["admin"], f"/api/v1/surveys/{family['french']}/results?versions=all"
    ).json
    assert [version["language"] for version in from_french["versions"]] == ["fr", "en"]
    assert from_french["respondents"] == 10
    assert from_french["questions"][2]["distribution"][0]["label"] == "Leçons"
    assert [o["count"] for o in from_french["questions"][2]["distribution"]] == [
        o["count"] for o in single["distribution"]
    ]


def test_the_page_offers_both_readings_and_lists_the_versions(app, client, auth, family):
    log_in(client, auth, family["trainer"])
    base = f"/surveys/{family['english']}/results"
    alone = client.get(base).get_data(as_text=True)
    assert "This version" in alone and "All language versions (2)" in alone
    assert figure(alone, 1) == "6" and figure(alone, 2) == "8"
    assert "Plus de cas pratiques du Sahel." not in alone
    assert "data-versions-included" not in alone

    html = client.get(f"{base}?versions=all&country=&start=").get_data(as_text=True)
    assert figure(html, 1) == "10" and figure(html, 2) == "13" and figure(html, 3) == "10"
    included = html.split("data-versions-included")[1].split("</ul>")[0]
    assert "Module evaluation en</span> · English" in included
    assert "Évaluation du module</span> · Français" in included
    # the first free-text answers of both, each with its language
    assert "More case studies from the Sahel." in html
    assert labelled("Plus de cas pratiques du Sahel.", "fr", "Français") in html
    # the filters, the free-text page and the downloads keep the reading
    assert '<input type="hidden" name="versions" value="all">' in html
    assert re.search(r'href="[^"]*/texts\?versions=all"', html)
    assert re.search(r'href="[^"]*/export/responses\.csv\?versions=all"', html)

    # a filter applies to the responses of every version
    senegal = client.get(f"{base}?versions=all&country=SN").get_data(as_text=True)
    assert WITHHELD in senegal and COMBINED_WITHHELD in senegal  # four, anonymous
    kenya = client.get(f"{base}?versions=all&country=KE").get_data(as_text=True)
    assert figure(kenya, 1) == "6"

    # a survey without versions offers no choice, and ignores the argument
    lone = build_version(app, build_module(app, family["trainer"].id, title="Alone"))
    page = client.get(f"/surveys/{lone}/results?versions=all").get_data(as_text=True)
    assert "All language versions" not in page and "data-versions-included" not in page


def test_the_free_text_page_lists_the_answers_of_every_version(app, client, auth, family):
    log_in(client, auth, family["trainer"])
    with app.app_context():
        question_id = db.session.get(Survey, family["english"]).questions[4].id
    url = f"/surveys/{family['english']}/results/questions/{question_id}/texts"
    alone = client.get(url).get_data(as_text=True)
    assert "Shorter videos." in alone and "Des vidéos plus courtes." not in alone
    assert "data-language" not in alone

    html = client.get(f"{url}?versions=all").get_data(as_text=True)
    for text in ("More case studies from the Sahel.", "Shorter videos."):
        assert labelled(text, "en", "English") in html
    assert labelled("Des vidéos plus courtes.", "fr", "Français") in html
    assert '<input type="hidden" name="versions" value="all">' in html

    searched = client.get(f"{url}?versions=all&q=sahel").get_data(as_text=True)
    assert "More case studies from the Sahel." in searched
    assert "Plus de cas pratiques du Sahel." in searched
    assert "Shorter videos." not in searched


# Questions that differ.
@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (
            lambda questions: [
                questions[0],
                questions[1],
                questions[3],
                questions[2],
                questions[4],
            ],
            "question 3 is “Multiple choice” in Évaluation du module · Français but “Single "
            "choice” in this one.",
        ),
        (
            lambda questions: questions[:4],
            "Évaluation du module · Français has no question 5.",
        ),
        (
            lambda questions: [*questions, ("short_text", "Autre chose ?", ())],
            "Évaluation du module · Français has a question 6, which this one does not have.",
        ),
        (
            lambda questions: [
                *questions[:2],
                ("single", "Quelle partie ?", ("Leçons", "Cas")),
                *questions[3:],
            ],
            "question 3 has 2 choices in Évaluation du module · Français but 3 in this one.",
        ),
    ],
)
def test_versions_whose_questions_differ_are_not_read_together(
    app, client, auth, create_user, change, sentence
):
    trainer = create_user(role="trainer")
    english = build_version(app, build_module(app, trainer.id))
    french = build_version(
        app,
        build_module(app, trainer.id, language="fr"),
        language="fr",
        questions=change(FRENCH),
        of=english,
    )
    for values in ENGLISH_ANSWERS:
        respond(app, english, create_user(), values)
    log_in(client, auth, trainer)
    base = f"/surveys/{english}/results"
    refused = client.get(f"{base}?versions=all")
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "The language versions cannot be read together: " + sentence in html
    assert "data-figure" not in html and "<canvas" not in html
    assert "All language versions (2)" in html  # the way back to one version is offered

    alone = client.get(base).get_data(as_text=True)
    assert "cannot be read together" not in alone and figure(alone, 1) == "6"

    exported = client.get(f"{base}/export/distribution.csv?versions=all")
    assert exported.status_code == 302
    assert exported.headers["Location"].endswith(f"{base}?versions=all")
    assert client.get(f"{base}/export/distribution.csv").status_code == 200

    admin = create_user(role="administrator")
    api = api_get(app, admin, f"/api/v1/surveys/{english}/results?versions=all")
    assert api.status_code == 400 and api.json["error"] == "versions_differ"
    assert sentence in api.json["message"]
    assert api_get(app, admin, f"/api/v1/surveys/{french}/results").status_code == 200


# Anonymity.
def test_the_threshold_applies_to_the_versions_together(app, client, auth, create_user):
    """Three anonymous responses in English and three in French: shown together (six), nothing
    of either version alone."""
    trainer = create_user(role="trainer")
    english = build_version(app, build_module(app, trainer.id))
    french = build_version(
        app,
        build_module(app, trainer.id, language="fr"),
        language="fr",
        questions=FRENCH,
        of=english,
    )
    for values in ENGLISH_ANSWERS[:3]:
        respond(app, english, create_user(), values)
    for values in FRENCH_ANSWERS[:3]:
        respond(app, french, create_user(), values)
    admin = create_user(role="administrator")
    log_in(client, auth, trainer)
    for survey_id in (english, french):
        html = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
        assert WITHHELD in html and "data-figure" not in html
        assert "Shorter videos." not in html and "Des vidéos plus courtes." not in html
        api = api_get(app, admin, f"/api/v1/surveys/{survey_id}/results").json
        assert api["withheld"] is True and api["respondents"] is None
        export = client.get(f"/surveys/{survey_id}/results/export/responses.csv")
        assert export.status_code == 302

        together = client.get(f"/surveys/{survey_id}/results?versions=all").get_data(as_text=True)
        assert WITHHELD not in together and figure(together, 1) == "6"
        assert "Shorter videos." in together and "Des vidéos plus courtes." in together
        api = api_get(app, admin, f"/api/v1/surveys/{survey_id}/results?versions=all").json
        assert api["withheld"] is False and api["respondents"] == 6 and api["anonymous"] is True

    # a filter that leaves fewer than five of all of them together shows nothing
    html = client.get(f"/surveys/{english}/results?versions=all&start=2026-03-11").get_data(
        as_text=True
    )
    assert COMBINED_WITHHELD in html


def test_one_anonymous_version_makes_the_combination_anonymous(app, client, auth, create_user):
    """The English version identifies its respondents, the French one does not: together, the
    responses are read as anonymous ones (no day, no name, no language per response), and the
    threshold holds."""
    trainer = create_user(role="trainer")
    english = build_version(app, build_module(app, trainer.id), anonymous=False)
    french = build_version(
        app,
        build_module(app, trainer.id, language="fr"),
        language="fr",
        questions=FRENCH,
        of=english,
    )
    named = [create_user(name=f"Named learner {n}") for n in range(3)]
    for learner, values in zip(named, ENGLISH_ANSWERS, strict=False):
        respond(app, english, learner, values)
    log_in(client, auth, trainer)
    alone = client.get(f"/surveys/{english}/results").get_data(as_text=True)
    assert figure(alone, 1) == "3" and "Shorter videos." in alone  # identified: shown
    assert COMBINED_WITHHELD in client.get(f"/surveys/{english}/results?versions=all").get_data(
        as_text=True
    )  # 3 + 0 with an anonymous version: withheld

    for values in FRENCH_ANSWERS[:2]:
        respond(app, french, create_user(), values)
    html = client.get(f"/surveys/{english}/results?versions=all").get_data(as_text=True)
    assert figure(html, 1) == "5"
    assert "Anonymous: results are shown only when" in html
    assert "2026" not in html.split('data-question="5"')[1].split("</section>")[0]  # no day
    sheet = client.get(f"/surveys/{english}/results/export/responses.csv?versions=all")
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [text for _kind, text, _choices in QUESTIONS]  # answers only
    assert len(rows) == 6
    assert not any(learner.name in sheet.get_data(as_text=True) for learner in named)


# Who may see them.
def test_only_the_versions_in_scope_are_counted(app, client, auth, family, create_user):
    log_in(client, auth, family["other"])
    for survey_id in (family["english"], family["french"]):
        base = f"/surveys/{survey_id}/results"
        assert client.get(f"{base}?versions=all").status_code == 404
        assert client.get(f"{base}/export/responses.csv?versions=all").status_code == 404
        texts = f"{base}/questions/1/texts?versions=all"
        assert client.get(texts).status_code == 404

    # a Spanish version of the family made by the other trainer: counted for the administrator,
    # neither offered nor counted for the first trainer, who may not see it
    spanish = build_version(
        app,
        build_module(app, family["other"].id, language="es"),
        language="es",
        of=family["french"],
    )
    for values in ENGLISH_ANSWERS[:2]:
        respond(app, spanish, create_user(), values)
    log_in(client, auth, family["trainer"])
    html = client.get(f"/surveys/{family['english']}/results?versions=all").get_data(as_text=True)
    assert "All language versions (2)" in html and figure(html, 1) == "10"
    assert "Module evaluation es" not in html
    every = api_get(
        app, family["admin"], f"/api/v1/surveys/{family['english']}/results?versions=all"
    ).json
    assert every["respondents"] == 12
    assert [version["language"] for version in every["versions"]] == ["en", "fr", "es"]
    log_in(client, auth, family["other"])
    theirs = client.get(f"/surveys/{spanish}/results?versions=all").get_data(as_text=True)
    assert "All language versions" not in theirs  # the others are not theirs
    assert "All language versions" not in client.get("/surveys/results/").get_data(as_text=True)
    # in the list of results, each version offers the family as far as the reader sees it
    log_in(client, auth, family["trainer"])
    listed = client.get("/surveys/results/").get_data(as_text=True)
    for survey_id in (family["english"], family["french"]):
        row = listed.split(f'data-survey="{survey_id}"')[1].split("</tr>")[0]
        assert f"/surveys/{survey_id}/results?versions=all" in row
        assert "All language versions (2)" in row
    log_in(client, auth, family["admin"])
    listed = client.get("/surveys/results/").get_data(as_text=True)
    assert listed.count("All language versions (3)") == 3


# Exports and API.
def test_the_exports_hold_every_version(app, client, auth, family):
    log_in(client, auth, family["trainer"])
    base = f"/surveys/{family['english']}/results/export"
    everyone = ENGLISH_ANSWERS + FRENCH_ANSWERS

    distribution = json.loads(client.get(f"{base}/distribution.json?versions=all").data)
    lessons = next(row for row in distribution if row["answer"] == "Lessons")
    assert lessons["count"] == sum(values[2] == 0 for values in everyone)
    assert not any(row["answer"] == "Leçons" for row in distribution)
    questions = json.loads(client.get(f"{base}/questions.json?versions=all").data)
    assert questions[0]["answered"] == 10
    assert questions[0]["average"] == round(sum(values[0] for values in everyone) / 10, 2)

    sheet = client.get(f"{base}/responses.csv?versions=all")
    assert "-versions-" in sheet.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [text for _kind, text, _choices in QUESTIONS]  # anonymous: answers only
    assert len(rows) == 11
    # a French response under the English questions, its choices as the English ones
    assert ["3", "8", "Case studies", "Templates; Contacts", ""] in rows[1:]
    assert ["1", "2", "Post-test", "Checklists", "Des vidéos plus courtes."] in rows[1:]

    texts = client.get(f"{base}/texts.csv?versions=all").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(texts.lstrip("\ufeff"))))
    assert table[0] == ["Question number", "Question", "Answer", "Language"]
    assert ["5", QUESTIONS[4][1], "Des vidéos plus courtes.", "Français"] in table
    assert ["5", QUESTIONS[4][1], "Shorter videos.", "English"] in table
    coded = json.loads(client.get(f"{base}/texts.json?versions=all&q=sahel").data)
    assert sorted((row["answer"], row["language"]) for row in coded) == [
        ("More case studies from the Sahel.", "en"),
        ("Plus de cas pratiques du Sahel.", "fr"),
    ]
    workbook = client.get(f"{base}/responses.xlsx?versions=all")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"

    alone = client.get(f"{base}/responses.csv")
    assert len(list(csv.reader(io.StringIO(alone.get_data(as_text=True))))) == 7
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "statistics_exported")
        ).all()
        details = [json.loads(event.detail) for event in exported]
    assert [family["english"], family["french"]] in [d.get("versions") for d in details]


def test_an_identified_combinations_responses_say_their_language(app, client, auth, family):
    with app.app_context():
        db.session.execute(update(Survey).values(anonymous=False))
        db.session.commit()
    log_in(client, auth, family["trainer"])
    rows = json.loads(
        client.get(f"/surveys/{family['english']}/results/export/responses.json?versions=all").data
    )
    assert len(rows) == 10
    assert sorted(row["language"] for row in rows) == ["en"] * 6 + ["fr"] * 4
    assert {row["country"] for row in rows if row["language"] == "fr"} == {"SN"}


# Queries.
def test_the_combined_pages_ask_as_many_queries_for_many_responses_and_versions(
    app, client, auth, family, create_user
):
    log_in(client, auth, family["trainer"])
    with app.app_context():
        question_id = db.session.get(Survey, family["english"]).questions[4].id
    page = f"/surveys/{family['english']}/results?versions=all"
    texts = f"/surveys/{family['english']}/results/questions/{question_id}/texts?versions=all"
    few = count_queries(app, client, page)
    few_texts = count_queries(app, client, texts)
    for values in ENGLISH_ANSWERS:
        respond(app, family["english"], create_user(), values)
        respond(app, family["french"], create_user(), values)
    spanish = build_version(
        app,
        build_module(app, family["trainer"].id, language="es"),
        language="es",
        of=family["english"],
    )
    for values in ENGLISH_ANSWERS:
        respond(app, spanish, create_user(), values)
    html = client.get(page).get_data(as_text=True)
    assert "All language versions (3)" in html and figure(html, 1) == "28"
    assert count_queries(app, client, page) == few
    assert count_queries(app, client, texts) == few_texts
