"""Answering surveys as learners do: a module's evaluation at completion (a required one holding
the certificate until it is answered), one response per person whatever they press, a room's
survey asked of those who attended a live session, anonymity kept."""

import re
import threading
from datetime import timedelta

from sqlalchemy import func, select

from courses.models import Certificate
from irooms.models import Attendance
from learnplatform.extensions import db
from learnplatform.notifications.models import Notification
from learnplatform.surveys import asking
from learnplatform.surveys.models import (
    Survey,
    SurveyChoice,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from tests.courses.test_modules import build_module, enrol_in, lesson_ids
from tests.helpers import PASSWORD, Auth, csrf_token, post_form
from tests.irooms.test_rooms import add_room
from tests.irooms.test_sessions import add_session


def add_survey(app, purpose="evaluation", *, module_id=None, room_id=None, **fields) -> dict:
    """An open survey of four questions: an agreement scale (required), a recommendation scale
    (required), a multiple choice (optional) and a long text (optional). Its id and the ids of
    its questions and choices."""
    with app.app_context():
        survey = Survey(
            title=fields.pop("title", "How useful was the module?"),
            introduction="Five minutes: your answers shape the next modules.",
            language=fields.pop("language", "en"),
            purpose=purpose,
            module_id=module_id,
            room_id=room_id,
            **fields,
        )
        survey.questions = [
            SurveyQuestion(
                position=1, kind="agreement", text="The module was relevant to my work."
            ),
            SurveyQuestion(
                position=2,
                kind="recommendation",
                text="How likely are you to recommend it to a colleague?",
            ),
            SurveyQuestion(
                position=3,
                kind="multiple",
                text="What did you use since?",
                required=False,
                choices=[
                    SurveyChoice(position=1, text="The checklists"),
                    SurveyChoice(position=2, text="The case studies"),
                ],
            ),
            SurveyQuestion(position=4, kind="long_text", text="What was missing?", required=False),
        ]
        db.session.add(survey)
        db.session.commit()
        agreement, recommendation, multiple, text = survey.questions
        return {
            "id": survey.id,
            "agreement": f"q{agreement.id}",
            "recommendation": f"q{recommendation.id}",
            "multiple": f"q{multiple.id}",
            "choices": [str(choice.id) for choice in multiple.choices],
            "text": f"q{text.id}",
        }


def answers_to(survey: dict) -> dict:
    return {
        survey["agreement"]: "4",
        survey["recommendation"]: "9",
        survey["multiple"]: survey["choices"],
        survey["text"]: "A session on seizing crypto-assets.",
    }


def logged_in(app, user):
    browser = app.test_client()
    assert Auth(browser).login(user.email, PASSWORD).status_code == 302
    return browser


def complete(browser, module_id, lesson_id):
    """Enrol and mark the module's only lesson done; the page the learner lands on."""
    enrol_in(browser, module_id)
    url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
    return post_form(browser, url + "/done", {}, form_url=url, follow_redirects=True)


def count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_a_required_evaluation_holds_the_certificate_until_it_is_answered(app, create_user):
    learner = create_user()
    module_id = build_module(app, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id, required=True)
    browser = logged_in(app, learner)
    page = complete(browser, module_id, lesson_ids(app, module_id)[0]).get_data(as_text=True)
    assert "Answer the evaluation to receive your certificate" in page
    assert "Your certificate is ready" not in page and "View your certificate" not in page
    assert "Evaluate this module" in page
    assert count(app, Certificate) == 0
    assert count(app, SurveyInvitation, SurveyInvitation.user_id == learner.id) == 1
    listed = browser.get("/courses/my-learning").get_data(as_text=True)
    assert "Answer the evaluation to receive your certificate" in listed
    assert "Surveys waiting for your answer" in listed
    assert "Surveys waiting for your answer" in browser.get("/").get_data(as_text=True)

    url = f"/surveys/{survey['id']}/respond"
    form = browser.get(url).get_data(as_text=True)
    assert "How useful was the module?" in form and "Five minutes" in form
    assert "your answers are kept apart from your name" in form
    for words in ("Strongly disagree", "Neither agree nor disagree", "Strongly agree"):
        assert words in form
    assert "Not at all likely" in form and "Extremely likely" in form
    assert form.count('type="radio"') == 5 + 11 and form.count('type="checkbox"') == 2

    # A required question left blank: the error summary and the question marked, nothing kept.
    wrong = post_form(browser, url, {survey["recommendation"]: "11"})
    assert wrong.status_code == 200
    page = wrong.get_data(as_text=True)
    assert "data-error-summary" in page and f'href="#{survey["agreement"]}"' in page
    assert "Answer this question." in page and "Choose a value from 0 to 10." in page
    assert 'aria-invalid="true"' in page
    assert count(app, SurveyResponse) == 0

    sent = post_form(browser, url, answers_to(survey), follow_redirects=True)
    thanks = sent.get_data(as_text=True)
    assert "Thank you: your answers are recorded." in thanks
    assert "View your certificate" in thanks
    assert count(app, Certificate, Certificate.user_id == learner.id) == 1
    module_page = browser.get(f"/courses/modules/{module_id}").get_data(as_text=True)
    assert "View your certificate" in module_page and "Evaluate this module" not in module_page

    # The back button and submit again: nothing changes, and the page says so.
    again = post_form(browser, url, {**answers_to(survey), survey["agreement"]: "1"})
    assert "You have already answered this survey; your first answers are kept." in (
        again.get_data(as_text=True)
    )
    assert "already answered" in browser.get(url).get_data(as_text=True)
    with app.app_context():
        (response,) = db.session.scalars(select(SurveyResponse)).all()
        assert response.user_id is None  # anonymous
        numbers = sorted(answer.number for answer in response.answers if answer.number is not None)
        assert numbers == [4, 9]
        assert len([answer for answer in response.answers if answer.choice_id]) == 2
        assert [answer.text for answer in response.answers if answer.text] == [
            "A session on seizing crypto-assets."
        ]
    assert count(app, Certificate) == 1


def test_an_optional_evaluation_is_offered_beside_the_certificate(app, create_user):
    learner = create_user()
    module_id = build_module(app, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id, anonymous=False)
    browser = logged_in(app, learner)
    page = complete(browser, module_id, lesson_ids(app, module_id)[0]).get_data(as_text=True)
    assert "Your certificate is ready" in page and "Evaluate this module" in page
    assert count(app, Certificate) == 1
    form = browser.get(f"/surveys/{survey['id']}/respond").get_data(as_text=True)
    assert "your answers are recorded with your name" in form
    post_form(browser, f"/surveys/{survey['id']}/respond", answers_to(survey))
    with app.app_context():
        assert db.session.scalar(select(SurveyResponse.user_id)) == learner.id  # identified
    assert count(app, Certificate) == 1
    listed = browser.get("/courses/my-learning").get_data(as_text=True)
    assert "Evaluate this module" not in listed and "Surveys waiting" not in listed


def test_two_submissions_at_once_store_one_response(app, create_user):
    learner = create_user()
    module_id = build_module(app, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id)
    complete(logged_in(app, learner), module_id, lesson_ids(app, module_id)[0])
    url = f"/surveys/{survey['id']}/respond"
    tabs = [logged_in(app, learner) for _ in range(2)]
    tokens = [csrf_token(tab, url) for tab in tabs]
    start = threading.Barrier(2)
    statuses = []

    def submit(tab, token):
        start.wait()
        answer = tab.post(url, data={"csrf_token": token, **answers_to(survey)})
        statuses.append((answer.status_code, answer.get_data(as_text=True)))

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(tabs, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in statuses) == [200, 302]
    assert any("You have already answered" in page for _, page in statuses)
    assert count(app, SurveyResponse) == 1


def test_only_those_asked_may_answer(app, client, create_user):
    learner = create_user()
    module_id = build_module(app, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id)
    url = f"/surveys/{survey['id']}/respond"
    visitor = client.get(url)
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
    browser = logged_in(app, learner)
    enrol_in(browser, module_id)
    assert browser.get(url).status_code == 404  # not completed
    assert post_form(browser, url, answers_to(survey), form_url="/account").status_code == 404
    assert browser.get("/surveys/999999/respond").status_code == 404
    assert browser.get(f"/surveys/{survey['id']}/answered").status_code == 404
    assert count(app, SurveyResponse) == 0


def test_a_closed_survey_says_so(app, create_user):
    learner = create_user()
    module_id = build_module(app, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id)
    browser = logged_in(app, learner)
    complete(browser, module_id, lesson_ids(app, module_id)[0])
    url = f"/surveys/{survey['id']}/respond"
    token = csrf_token(browser, url)
    with app.app_context():
        db.session.get(Survey, survey["id"]).is_open = False
        db.session.commit()
    assert "This survey is closed" in browser.get(url).get_data(as_text=True)
    answer = browser.post(url, data={"csrf_token": token, **answers_to(survey)})
    assert "This survey is closed" in answer.get_data(as_text=True)
    assert count(app, SurveyResponse) == 0


def test_a_rooms_survey_is_asked_of_those_who_attended_the_session(app, create_user):
    host = create_user(role="trainer")
    present, absent = create_user(), create_user()
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [(host, "host"), (present, "participant"), (absent, "participant")],
    )
    session_id = add_session(app, room_id, starts_in=-timedelta(hours=3))  # ended an hour ago
    survey = add_survey(app, "session", room_id=room_id, anonymous=False, title="The session")
    with app.app_context():
        db.session.add(Attendance(session_id=session_id, user_id=present.id))
        db.session.commit()

    def ask(**moved):
        with app.app_context():
            return asking.ask_after_sessions.call_local(**moved)

    assert ask() == 1
    assert ask() == 0  # once
    with app.app_context():
        notices = db.session.scalars(
            select(Notification).where(Notification.kind == "survey_session")
        ).all()
        assert [notice.user_id for notice in notices] == [present.id]
        assert notices[0].url == f"/surveys/{survey['id']}/respond?session={session_id}"

    attendee = logged_in(app, present)
    assert "The session" in attendee.get("/").get_data(as_text=True)
    url = f"/surveys/{survey['id']}/respond?session={session_id}"
    form = attendee.get(url).get_data(as_text=True)
    assert "About the live session Mutual legal assistance" in form
    assert attendee.get(f"/surveys/{survey['id']}/respond").status_code == 404  # which session?
    assert logged_in(app, absent).get(url).status_code == 404
    thanks = post_form(attendee, url, answers_to(survey), follow_redirects=True)
    assert "Thank you" in thanks.get_data(as_text=True)
    with app.app_context():
        response = db.session.scalar(select(SurveyResponse))
        assert (response.user_id, response.occasion) == (present.id, session_id)
    # A session that ended more than a week ago is not asked about any more.
    old_id = add_session(app, room_id, title="Old", starts_in=-timedelta(days=9))
    with app.app_context():
        db.session.add(Attendance(session_id=old_id, user_id=absent.id))
        db.session.commit()
    assert ask() == 0
    assert re.search("Surveys waiting", attendee.get("/").get_data(as_text=True)) is None


def test_certificates_held_by_an_evaluation_are_issued_once_it_is_made_optional(app, create_user):
    trainer = create_user(role="trainer")
    learners = [create_user() for _ in range(2)]
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id, required=True)
    lesson_id = lesson_ids(app, module_id)[0]
    for learner in learners:
        complete(logged_in(app, learner), module_id, lesson_id)
    assert count(app, Certificate) == 0

    settings = {
        "title": "How useful was the module?",
        "language": "en",
        "anonymity": "anonymous",
        "is_open": "y",
    }
    author = logged_in(app, trainer)
    post_form(author, f"/surveys/manage/{survey['id']}", {**settings, "required": "y"})
    assert count(app, Certificate) == 0  # still required: still held
    post_form(author, f"/surveys/manage/{survey['id']}", settings)
    assert count(app, Certificate) == 2
    post_form(author, f"/surveys/manage/{survey['id']}", settings)
    assert count(app, Certificate) == 2


def test_certificates_held_by_an_evaluation_are_issued_when_it_is_deleted(app, create_user):
    trainer = create_user(role="trainer")
    learner = create_user()
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    survey = add_survey(app, module_id=module_id, required=True)
    complete(logged_in(app, learner), module_id, lesson_ids(app, module_id)[0])
    assert count(app, Certificate) == 0

    author = logged_in(app, trainer)
    url = f"/surveys/manage/{survey['id']}"
    response = post_form(author, f"{url}/delete", {}, form_url=url)
    assert response.status_code == 302
    assert count(app, Certificate) == 1
    assert count(app, SurveyInvitation) == 0  # the learner was asked; the asking goes with it
