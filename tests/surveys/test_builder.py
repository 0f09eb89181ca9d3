"""The survey builder as trainers use it: a module's evaluation and follow-ups, a room's survey
after live sessions, questions of every kind, copies; bad input refused with nothing changed, and
nobody else reaching any of it."""

import re
from datetime import date

from sqlalchemy import func, select

from learnplatform.extensions import db
from learnplatform.surveys.models import (
    Survey,
    SurveyChoice,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)
from tests.courses.test_modules import build_module
from tests.helpers import count_queries, post_form
from tests.irooms.test_rooms import add_room

CHOICES = "Yes, often\nYes, once or twice\nNot yet\nNo: it does not apply to my work"


def surveys(app, **conditions):
    with app.app_context():
        found = db.session.scalars(select(Survey).filter_by(**conditions).order_by(Survey.id)).all()
        db.session.expunge_all()
        return found


def questions_of(app, survey_id):
    """[(position, kind, text, required, [choices])] of a survey."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        return [
            (q.position, q.kind, q.text, q.required, [c.text for c in q.choices])
            for q in survey.questions
        ]


def create(client, module_id, purpose="evaluation", **fields):
    url = f"/surveys/manage/module/{module_id}/new/{purpose}"
    data = {
        "title": "Evaluation of the module",
        "introduction": "Five minutes. Your answers improve the module.",
        "language": "en",
        "anonymity": "anonymous",
        "is_open": "y",
        "version_of": "",
        **fields,
    }
    return post_form(client, url, data)


def add_question(client, survey_id, kind, text, choices="", required=True):
    data = {"kind": kind, "text": text, "choices": choices}
    if required:
        data["required"] = "y"
    return post_form(client, f"/surveys/manage/{survey_id}/questions/new", data)


def delete(client, survey_id, *, form_url=None, **kwargs):
    """Press "Delete this survey" on the survey's page (or with a token from ``form_url``)."""
    url = f"/surveys/manage/{survey_id}"
    return post_form(client, f"{url}/delete", {}, form_url=form_url or url, **kwargs)


def respond_once(app, survey_id, user_id):
    """A response, stored as the answering pages store it (a participation and a response)."""
    with app.app_context():
        db.session.add(SurveyParticipation(survey_id=survey_id, user_id=user_id))
        db.session.add(SurveyResponse(survey_id=survey_id, submitted_on=date.today()))
        db.session.commit()


def test_trainer_sets_an_evaluation_and_a_follow_up_from_the_module_page(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id)
    page = client.get(f"/courses/manage/{module_id}").get_data(as_text=True)
    assert f'href="/surveys/manage/module/{module_id}"' in page
    page = client.get(f"/surveys/manage/module/{module_id}").get_data(as_text=True)
    assert "Create the evaluation" in page and "No follow-up yet." in page

    response = create(client, module_id, required="y")
    [evaluation] = surveys(app, module_id=module_id)
    assert response.headers["Location"] == f"/surveys/manage/{evaluation.id}"
    assert (evaluation.purpose, evaluation.required, evaluation.anonymous) == (
        "evaluation",
        True,
        True,
    )
    assert evaluation.language == "en" and evaluation.created_by_id == trainer.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The survey is saved. Add its questions." in page

    form = client.get(f"/surveys/manage/module/{module_id}/new/follow_up").get_data(as_text=True)
    assert re.search(r'name="months"[^>]*value="3"', form)  # the usual first follow-up
    assert 'name="required"' not in form
    create(client, module_id, "follow_up", title="Three months on", months="3")
    create(
        client, module_id, "follow_up", title="Six months on", months="6", anonymity="identified"
    )
    follow_ups = surveys(app, module_id=module_id, purpose="follow_up")
    assert [(s.months, s.anonymous, s.required) for s in follow_ups] == [
        (3, True, False),
        (6, False, False),
    ]
    page = client.get(f"/surveys/manage/module/{module_id}").get_data(as_text=True)
    assert "Follow-up, 3 months after completion" in page
    assert "Follow-up, 6 months after completion" in page
    assert "Create the evaluation" not in page


def test_each_kind_of_question_is_added_moved_edited_and_removed(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id)
    create(client, module_id)
    [survey] = surveys(app, module_id=module_id)
    add_question(client, survey.id, "agreement", "The module was relevant to my work.")
    add_question(client, survey.id, "recommendation", "How likely are you to recommend it?")
    add_question(client, survey.id, "single", "Have you applied it?", CHOICES + "\n\n")
    add_question(client, survey.id, "multiple", "Which parts?", "Lessons\nTests\nCase studies")
    add_question(client, survey.id, "short_text", "Your role, in a few words", required=False)
    response = add_question(client, survey.id, "long_text", "What would you change?")
    assert response.headers["Location"] == f"/surveys/manage/{survey.id}#questions"
    assert questions_of(app, survey.id) == [
        (1, "agreement", "The module was relevant to my work.", True, []),
        (2, "recommendation", "How likely are you to recommend it?", True, []),
        (3, "single", "Have you applied it?", True, CHOICES.splitlines()),
        (4, "multiple", "Which parts?", True, ["Lessons", "Tests", "Case studies"]),
        (5, "short_text", "Your role, in a few words", False, []),
        (6, "long_text", "What would you change?", True, []),
    ]
    page = client.get(f"/surveys/manage/{survey.id}").get_data(as_text=True)
    assert "Recommendation scale, 0 (not at all likely) to 10 (extremely likely)" in page

    ids = [q.id for q in db_questions(app, survey.id)]
    post_form(
        client,
        f"/surveys/manage/{survey.id}/questions/{ids[1]}/move",
        {"direction": "up"},
        form_url=f"/surveys/manage/{survey.id}",
    )
    assert [q[2][:3] for q in questions_of(app, survey.id)][:2] == ["How", "The"]

    post_form(
        client,
        f"/surveys/manage/{survey.id}/questions/{ids[3]}",
        {"kind": "single", "text": "Which part helped most?", "choices": "Lessons\nTests"},
    )
    assert questions_of(app, survey.id)[3] == (
        4,
        "single",
        "Which part helped most?",
        False,
        ["Lessons", "Tests"],
    )

    post_form(
        client,
        f"/surveys/manage/{survey.id}/questions/{ids[0]}/delete",
        {},
        form_url=f"/surveys/manage/{survey.id}",
    )
    assert [q[:2] for q in questions_of(app, survey.id)] == [
        (1, "recommendation"),
        (2, "single"),
        (3, "single"),
        (4, "short_text"),
        (5, "long_text"),
    ]


def db_questions(app, survey_id):
    with app.app_context():
        found = db.session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey_id)
            .order_by(SurveyQuestion.position)
        ).all()
        db.session.expunge_all()
        return found


def test_bad_input_is_refused_with_a_message_and_nothing_changes(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id)
    create(client, module_id, "follow_up", title="Three months on", months="3")
    [survey] = surveys(app, module_id=module_id)
    url = f"/surveys/manage/{survey.id}/questions/new"
    refusals = [
        ({"kind": "single", "text": "Applied?", "choices": "Yes"}, "Give from 2 to 20 choices"),
        (
            {"kind": "multiple", "text": "Applied?", "choices": "Yes\nNo\nyes"},
            "“yes” is given twice.",
        ),
        (
            {"kind": "single", "text": "Applied?", "choices": "\n".join(map(str, range(21)))},
            "Give from 2 to 20 choices",
        ),
        ({"kind": "single", "text": "Applied?", "choices": "Yes\n" + "x" * 301}, "at most 300"),
        ({"kind": "agreement", "text": "   "}, "This field is required."),
        ({"kind": "essay", "text": "Applied?"}, "Not a valid choice"),
    ]
    for data, message in refusals:
        response = post_form(client, url, data)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), message
    assert questions_of(app, survey.id) == []

    for months, message in (("0", "between 1 and 36"), ("37", "between 1 and 36"), ("", "")):
        response = create(client, module_id, "follow_up", title="Again", months=months)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    response = create(client, module_id, "follow_up", title="Again", months="3")
    assert "The module has a follow-up after 3 months already." in response.get_data(as_text=True)
    response = create(client, module_id, title="   ")
    assert response.status_code == 200
    assert len(surveys(app, module_id=module_id)) == 1


def test_questions_with_responses_keep_their_kind_and_choices(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id)
    create(client, module_id)
    [survey] = surveys(app, module_id=module_id)
    add_question(client, survey.id, "single", "Have you applied it?", CHOICES)
    [question] = db_questions(app, survey.id)
    respond_once(app, survey.id, trainer.id)
    url = f"/surveys/manage/{survey.id}/questions/{question.id}"

    page = client.get(url).get_data(as_text=True)
    assert re.search(
        r'<select[^>]*disabled[^>]*name="kind"|<select[^>]*name="kind"[^>]*disabled', page
    )
    for data in (
        {"kind": "multiple", "text": "Have you applied it?", "choices": CHOICES},
        {"kind": "single", "text": "Have you applied it?", "choices": "Yes\nNo"},
    ):
        response = post_form(client, url, {**data, "required": "y"})
        assert response.status_code == 200
        assert "the type and choices of its questions can no longer change" in response.get_data(
            as_text=True
        )
    # wording is corrected; the kind and choices, not sent by the disabled fields, stay
    post_form(client, url, {"text": "Have you applied what you learned at work?", "required": "y"})
    assert questions_of(app, survey.id) == [
        (1, "single", "Have you applied what you learned at work?", True, CHOICES.splitlines())
    ]
    response = post_form(
        client, f"{url}/delete", {}, form_url=f"/surveys/manage/{survey.id}", follow_redirects=True
    )
    assert "its questions cannot be removed" in response.get_data(as_text=True)
    assert len(questions_of(app, survey.id)) == 1
    # nor can its anonymity change
    response = post_form(
        client,
        f"/surveys/manage/{survey.id}",
        {"title": "Evaluation", "language": "en", "anonymity": "identified", "version_of": ""},
    )
    assert "whether it is anonymous can no longer change" in response.get_data(as_text=True)
    assert surveys(app, id=survey.id)[0].anonymous is True


def test_a_survey_nobody_answered_is_deleted_and_one_with_responses_is_kept(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id)
    create(client, module_id)
    create(client, module_id, "follow_up", title="Three months on", months="3")
    evaluation, follow_up = surveys(app, module_id=module_id)
    add_question(client, follow_up.id, "single", "Have you applied it?", CHOICES)
    copy = post_form(
        client,
        f"/surveys/manage/{follow_up.id}/copy",
        {
            "target": f"module:{module_id}",
            "title": "Trois mois après",
            "language": "fr",
            "purpose": "follow_up",
            "months": "6",
        },
    )
    assert copy.status_code == 302
    french = surveys(app, module_id=module_id, language="fr")[0]
    assert french.family_id is not None
    page = client.get(f"/surveys/manage/{follow_up.id}").get_data(as_text=True)
    assert "Delete this survey" in page

    deleted = delete(client, follow_up.id, follow_redirects=True)
    assert "The survey “Three months on” is deleted." in deleted.get_data(as_text=True)
    assert [survey.id for survey in surveys(app, module_id=module_id)] == [evaluation.id, french.id]
    assert db_questions(app, follow_up.id) == []
    assert surveys(app, id=french.id)[0].family_id is None  # its only version is gone
    with app.app_context():
        choices = db.session.scalar(select(func.count()).select_from(SurveyChoice))
        assert choices == len(CHOICES.splitlines())  # the French copy's, and no other

    respond_once(app, evaluation.id, trainer.id)
    page = client.get(f"/surveys/manage/{evaluation.id}").get_data(as_text=True)
    assert "Delete this survey" not in page
    refused = delete(client, evaluation.id, follow_redirects=True)
    assert "it cannot be deleted, so that its results stay" in refused.get_data(as_text=True)
    assert len(surveys(app, id=evaluation.id)) == 1
    missing = delete(client, follow_up.id, form_url=f"/surveys/manage/{evaluation.id}")
    assert missing.status_code == 404


def test_a_copy_has_the_questions_and_can_be_a_language_version(app, client, login_as):
    trainer = login_as("trainer")
    english = build_module(app, trainer.id, title="CBRN terrorism")
    french = build_module(app, trainer.id, title="Terrorisme NRBC", language="fr")
    create(client, english, "follow_up", title="Three months on", months="3")
    [survey] = surveys(app, module_id=english)
    add_question(client, survey.id, "single", "Have you applied it?", CHOICES)
    add_question(client, survey.id, "long_text", "How?", required=False)

    url = f"/surveys/manage/{survey.id}/copy"
    response = post_form(
        client,
        url,
        {
            "target": f"module:{english}",
            "purpose": "follow_up",
            "months": "6",
            "title": "Six months on",
            "language": "en",
        },
    )
    six = surveys(app, module_id=english, months=6)[0]
    assert response.headers["Location"] == f"/surveys/manage/{six.id}"
    assert six.family_id is None and six.id != survey.id
    assert [q[1:] for q in questions_of(app, six.id)] == [
        q[1:] for q in questions_of(app, survey.id)
    ]

    response = post_form(
        client,
        url,
        {
            "target": f"module:{french}",
            "purpose": "follow_up",
            "months": "3",
            "title": "Trois mois après",
            "language": "fr",
        },
    )
    [version] = surveys(app, module_id=french)
    assert version.family_id == surveys(app, id=survey.id)[0].family_id is not None
    assert len(questions_of(app, version.id)) == 2
    page = client.get(f"/surveys/manage/{version.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{survey.id}">', page)

    # the place is taken: nothing copied
    response = post_form(
        client,
        url,
        {
            "target": f"module:{english}",
            "purpose": "follow_up",
            "months": "6",
            "title": "Again",
            "language": "en",
        },
    )
    assert "The module has a follow-up after 6 months already." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Survey.id))) == 3
        assert db.session.scalar(select(func.count(SurveyChoice.id))) == 12


def test_room_hosts_set_the_survey_after_live_sessions(app, client, login_as, create_user):
    host = login_as("practitioner")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    page = client.get(f"/irooms/{room_id}/sessions").get_data(as_text=True)
    assert f'href="/surveys/manage/room/{room_id}"' in page
    response = post_form(
        client,
        f"/surveys/manage/room/{room_id}/new",
        {
            "title": "Après la session",
            "language": "fr",
            "anonymity": "anonymous",
            "is_open": "y",
            "version_of": "",
        },
    )
    [survey] = surveys(app, room_id=room_id)
    assert response.headers["Location"] == f"/surveys/manage/{survey.id}"
    assert (survey.purpose, survey.language, survey.months) == ("session", "fr", 0)
    assert "Après la session" in client.get(f"/surveys/manage/room/{room_id}").get_data(
        as_text=True
    )
    # a second one is not made: the room has its survey
    response = client.get(f"/surveys/manage/room/{room_id}/new")
    assert response.headers["Location"] == f"/surveys/manage/{survey.id}"


def test_nobody_else_reaches_a_survey(app, client, auth, login_as, create_user):
    author = create_user(role="trainer")
    host = create_user()
    participant = create_user()
    module_id = build_module(app, author.id)
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (participant, "participant")])
    with app.app_context():
        evaluation = Survey(title="E", language="en", purpose="evaluation", module_id=module_id)
        session = Survey(title="S", language="fr", purpose="session", room_id=room_id)
        db.session.add_all([evaluation, session])
        db.session.flush()
        db.session.add(
            SurveyQuestion(survey_id=evaluation.id, position=1, kind="short_text", text="Q")
        )
        db.session.commit()
        ids = (evaluation.id, session.id)
        question_id = db.session.scalar(select(SurveyQuestion.id))
    evaluation_pages = [
        f"/surveys/manage/module/{module_id}",
        f"/surveys/manage/module/{module_id}/new/follow_up",
        f"/surveys/manage/{ids[0]}",
        f"/surveys/manage/{ids[0]}/questions/new",
        f"/surveys/manage/{ids[0]}/questions/{question_id}",
        f"/surveys/manage/{ids[0]}/copy",
    ]
    room_pages = [
        f"/surveys/manage/room/{room_id}",
        f"/surveys/manage/room/{room_id}/new",
        f"/surveys/manage/{ids[1]}",
        f"/surveys/manage/{ids[1]}/copy",
    ]
    login_as("trainer")  # another trainer
    for url in evaluation_pages + room_pages:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/surveys/manage/{ids[0]}/questions/{question_id}/delete").status_code in (
        400,
        404,
    )
    for survey_id in ids:
        deleted = delete(client, survey_id, form_url="/surveys/manage/")
        assert deleted.status_code == 404
    listed = client.get("/surveys/manage/").get_data(as_text=True)
    assert f"/surveys/manage/{ids[0]}" not in listed and f"/surveys/manage/{ids[1]}" not in listed

    auth.logout()
    auth.login(participant.email)  # a practitioner, member of the room but not its host
    for url in evaluation_pages:
        assert client.get(url).status_code == 403, url
    for url in room_pages:
        assert client.get(url).status_code == 403, url
    assert client.get("/surveys/manage/").status_code == 403

    auth.logout()
    auth.login(host.email)
    assert client.get(f"/surveys/manage/{ids[1]}").status_code == 200
    assert client.get(f"/surveys/manage/{ids[0]}").status_code == 403

    auth.logout()
    auth.login(author.email)
    assert client.get(f"/surveys/manage/{ids[0]}").status_code == 200
    assert client.get(f"/surveys/manage/{ids[1]}").status_code == 404


def test_titles_questions_and_choices_stay_text(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id)
    create(client, module_id, title='<script>alert("t")</script>')
    [survey] = surveys(app, module_id=module_id)
    add_question(client, survey.id, "single", "<b>bold</b>?", "<img src=x onerror=alert(1)>\nNo")
    for url in (
        f"/surveys/manage/{survey.id}",
        "/surveys/manage/",
        f"/surveys/manage/module/{module_id}",
    ):
        page = client.get(url).get_data(as_text=True)
        assert '<script>alert("t")</script>' not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
    page = client.get(f"/surveys/manage/{survey.id}").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;?" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_list_takes_the_same_queries_whatever_the_number_of_surveys(app, client, login_as):
    trainer = login_as("trainer")
    first = build_module(app, trainer.id, title="First")
    create(client, first)
    fewer = count_queries(app, client, "/surveys/manage/")
    for number in range(4):
        module_id = build_module(app, trainer.id, title=f"Module {number}")
        create(client, module_id, title=f"Evaluation {number}")
        create(client, module_id, "follow_up", title=f"Follow-up {number}", months="3")
        [survey] = surveys(app, module_id=module_id, purpose="follow_up")
        add_question(client, survey.id, "agreement", "Useful?")
        respond_once(app, survey.id, trainer.id)
    page = client.get("/surveys/manage/").get_data(as_text=True)
    assert page.count("Follow-up, 3 months after completion") == 4
    assert count_queries(app, client, "/surveys/manage/") == fewer


def test_the_demo_surveys_are_added_once_in_their_owner_language(app, create_user):
    from learnplatform.demo_surveys import add_surveys, survey_specs

    trainer = create_user(role="trainer")
    specs = survey_specs()
    cbrn = next(spec["module"] for spec in specs if "module" in spec)
    module_id = build_module(app, trainer.id, title=cbrn)
    room_id = add_room(app, next(spec["room"] for spec in specs if "room" in spec), [])
    with app.app_context():
        assert add_surveys(db.session.get(type(trainer), trainer.id)) == 3
        db.session.commit()
        assert add_surveys(db.session.get(type(trainer), trainer.id)) == 0
    found = {(s.purpose, s.months): s for s in surveys(app)}
    assert set(found) == {("evaluation", 0), ("follow_up", 3), ("session", 0)}
    assert found["evaluation", 0].module_id == found["follow_up", 3].module_id == module_id
    assert (found["session", 0].room_id, found["session", 0].language) == (room_id, "fr")
    applied = questions_of(app, found["follow_up", 3].id)[0]
    assert applied[1:3] == ("single", "Have you applied what you learned at work?")
    kinds = {q[1] for s in found.values() for q in questions_of(app, s.id)}
    assert kinds == {"agreement", "recommendation", "single", "multiple", "short_text", "long_text"}
    with app.app_context():
        assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0
