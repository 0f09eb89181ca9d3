"""Modules as trainers write them and practitioners take them: authoring, enrolment, lessons,
tests, completion and certificates, through the pages people use."""

import re

import pytest
from sqlalchemy import func, select

from courses import services
from courses.models import (
    Certificate,
    Enrolment,
    Lesson,
    LessonProgress,
    Module,
    Question,
    QuizAttempt,
)
from learnplatform.extensions import db
from tests.helpers import (
    PASSWORD,
    Auth,
    count_queries,
    csrf_token,
    in_parallel,
    post_form,
    post_later,
)

#: the post-test's questions: (kind, text, feedback, [(answer, correct)])
POST_TEST = (
    (
        "single",
        "Which body sets the international standards on terrorist financing?",
        "The Financial Action Task Force.",
        [("FATF", True), ("WHO", False), ("ICAO", False)],
    ),
    (
        "multiple",
        "Which are financial intelligence sources?",
        "Both.",
        [("Suspicious transaction reports", True), ("Cash declarations", True)],
    ),
)


def build_module(
    app,
    author_id=None,
    *,
    lessons=2,
    post_test=True,
    mode="open",
    title=None,
    language="en",
    summary="How terrorist groups raise, move and use funds.",
    lesson_titles=None,
    questions=POST_TEST,
):
    """A published module with lessons (titled ``lesson_titles``, else "Lesson 1"...) and a
    post-test of ``questions`` (pass mark 50%)."""
    lesson_titles = lesson_titles or [f"Lesson {number}" for number in range(1, lessons + 1)]
    with app.app_context():
        module = Module(
            title=title or "Countering the financing of terrorism",
            summary=summary,
            theme="financing",
            language=language,
            estimated_minutes=120,
            enrolment_mode=mode,
            created_by_id=author_id,
        )
        db.session.add(module)
        db.session.flush()
        for number, lesson_title in enumerate(lesson_titles, start=1):
            services.add_lesson(
                module, title=lesson_title, body_html=f"<p>Body of lesson {number}</p>"
            )
        if post_test:
            quiz = services.quiz_of(module, "post_test", create=True)
            quiz.title = "Post-test"
            quiz.pass_mark = 50
            for kind, text, feedback, options in questions:
                services.save_question(
                    quiz, None, kind=kind, text=text, points=1, feedback=feedback, options=options
                )
        services.set_published(module, True)
        db.session.commit()
        return module.id


def option_ids(app, module_id):
    """Question id -> ([correct option ids], [wrong option ids]) of a module's post-test."""
    with app.app_context():
        module = db.session.get(Module, module_id)
        quiz = services.quiz_of(module, "post_test")
        return {
            question.id: (
                [option.id for option in question.options if option.is_correct],
                [option.id for option in question.options if not option.is_correct],
            )
            for question in quiz.questions
        }


def lesson_ids(app, module_id):
    with app.app_context():
        return [lesson.id for lesson in db.session.get(Module, module_id).lessons]


def enrolment(app, module_id, user_id):
    with app.app_context():
        found = db.session.scalar(
            select(Enrolment).where(Enrolment.module_id == module_id, Enrolment.user_id == user_id)
        )
        if found is not None:
            db.session.expunge(found)
        return found


def enrol_in(client, module_id):
    """Press "Enrol" on the module page."""
    url = f"/courses/modules/{module_id}"
    return post_form(client, url + "/enrol", {}, form_url=url)


def start_post_test(client, module_id):
    """Press "Start an attempt" on the post-test page."""
    url = f"/courses/modules/{module_id}/post_test"
    return post_form(client, url + "/start", {}, form_url=url)


def take_post_test(client, module_id, answers: dict):
    """Start an attempt and submit ``answers`` (question id -> option ids)."""
    started = start_post_test(client, module_id)
    assert started.status_code == 302, started.get_data(as_text=True)
    attempt_url = started.headers["Location"]
    data = {
        f"q-{question}": [str(option) for option in chosen] for question, chosen in answers.items()
    }
    return attempt_url, post_form(client, attempt_url, data)


def test_a_trainer_writes_and_publishes_a_module_through_the_forms(app, client, login_as):
    login_as("trainer")
    created = post_form(
        client,
        "/courses/manage/new",
        {
            "title": "Requesting electronic evidence across borders",
            "summary": "Preservation requests, emergency disclosure and mutual legal assistance.",
            "theme": "electronic_evidence",
            "language": "en",
            "estimated_minutes": "180",
            "enrolment_mode": "open",
        },
    )
    assert created.status_code == 302
    edit_url = created.headers["Location"]
    refused = post_form(client, edit_url + "/publish", {"publish": "1"}, form_url=edit_url)
    assert "Add at least one lesson before publishing." in client.get(
        refused.headers["Location"]
    ).get_data(as_text=True)

    for title in ("Why data held abroad matters", "Preservation and disclosure"):
        added = post_form(
            client,
            edit_url + "/lessons/new",
            {
                "title": title,
                "body": "<h2>Key points</h2><p>Read <a href='https://example.org'>this</a>.</p>",
            },
        )
        assert added.status_code == 302
    question = post_form(
        client,
        edit_url + "/post_test/questions/new",
        {
            "kind": "true_false",
            "text": "A preservation request discloses the data.",
            "points": "2",
            "feedback": "Preservation only keeps the data; disclosure needs another request.",
        },
    )
    assert question.status_code == 302
    post_form(client, edit_url + "/publish", {"publish": "1"}, form_url=edit_url)
    page = client.get(edit_url).get_data(as_text=True)
    assert "Published" in page
    assert "Why data held abroad matters" in page
    assert "1 question" in page

    with app.app_context():
        module = db.session.scalar(select(Module))
        assert module.is_published and module.lesson_count == 2
        assert [lesson.title for lesson in module.lessons][1] == "Preservation and disclosure"
        quiz = services.quiz_of(module, "post_test")
        assert [(o.text, o.is_correct) for o in quiz.questions[0].options] == [
            ("True", False),
            ("False", True),
        ]


def test_a_question_needs_its_right_answers(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, post_test=False)
    page = post_form(
        client,
        f"/courses/manage/{module_id}/post_test/questions/new",
        {
            "kind": "single",
            "text": "Pick one",
            "points": "1",
            "answers-0-text": "A",
            "answers-0-correct": "y",
            "answers-1-text": "B",
            "answers-1-correct": "y",
        },
    )
    assert page.status_code == 200
    assert "A single-choice question has exactly one correct answer." in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Question.id))) == 0


def test_lessons_are_reordered_and_removed_and_progress_follows(app, client, login_as, create_user):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=3, post_test=False)
    first, second, third = lesson_ids(app, module_id)
    learner = create_user()
    with app.app_context():
        module = db.session.get(Module, module_id)
        services.mark_done(
            services.enrol(module, learner), db.session.get(type(module.lessons[0]), third)
        )
        db.session.commit()
    edit_url = f"/courses/manage/{module_id}"
    post_form(client, f"{edit_url}/lessons/{third}/move", {"direction": "up"}, form_url=edit_url)
    assert lesson_ids(app, module_id) == [first, third, second]
    assert enrolment(app, module_id, learner.id).progress_percent == 33

    post_form(client, f"{edit_url}/lessons/{first}/delete", {}, form_url=edit_url)
    assert lesson_ids(app, module_id) == [third, second]
    assert enrolment(app, module_id, learner.id).progress_percent == 50
    post_form(client, f"{edit_url}/lessons/{third}/delete", {}, form_url=edit_url)
    found = enrolment(app, module_id, learner.id)
    assert (found.lessons_done, found.progress_percent) == (0, 0)


def test_a_practitioner_completes_a_module_and_gets_a_certificate(app, client, login_as):
    module_id = build_module(app)
    learner = login_as(name="Aïcha Maïga")
    catalogue = client.get("/courses/?theme=financing").get_data(as_text=True)
    assert "Countering the financing of terrorism" in catalogue
    assert "2 lessons" in catalogue

    module_page = client.get(f"/courses/modules/{module_id}").get_data(as_text=True)
    assert "Enrol" in module_page
    enrol_in(client, module_id)
    resume = client.get(f"/courses/modules/{module_id}/resume")
    first, second = lesson_ids(app, module_id)
    assert resume.headers["Location"].endswith(f"/lessons/{first}")

    lesson_url = f"/courses/modules/{module_id}/lessons/{first}"
    assert "Body of lesson 1" in client.get(lesson_url).get_data(as_text=True)
    moved_on = post_form(client, lesson_url + "/done", {}, form_url=lesson_url)
    assert moved_on.headers["Location"].endswith(f"/lessons/{second}")
    client.get(f"/courses/modules/{module_id}/lessons/{second}")
    # Resuming goes back to where the learner was.
    assert (
        client.get(f"/courses/modules/{module_id}/resume")
        .headers["Location"]
        .endswith(f"/lessons/{second}")
    )
    stored = enrolment(app, module_id, learner.id)
    assert (stored.lessons_done, stored.progress_percent, stored.last_lesson_id) == (1, 50, second)
    second_url = f"/courses/modules/{module_id}/lessons/{second}"
    post_form(client, second_url + "/done", {}, form_url=second_url)
    stored = enrolment(app, module_id, learner.id)
    assert stored.progress_percent == 100 and stored.completed_at is None  # the post-test is left

    answers = option_ids(app, module_id)
    single, multiple = answers
    _, failed = take_post_test(client, module_id, {single: answers[single][1][:1]})
    result = client.get(failed.headers["Location"]).get_data(as_text=True)
    assert "Not passed" in result
    assert "The Financial Action Task Force." in result  # feedback after submission
    assert enrolment(app, module_id, learner.id).completed_at is None

    _, passed = take_post_test(
        client, module_id, {single: answers[single][0], multiple: answers[multiple][0]}
    )
    assert "You passed with 100%." in client.get(passed.headers["Location"]).get_data(as_text=True)
    stored = enrolment(app, module_id, learner.id)
    assert stored.completed_at is not None and stored.completion_percent == 100

    learning = client.get("/courses/my-learning").get_data(as_text=True)
    assert "Completed" in learning
    certificate_url = re.search(r'href="(/courses/certificates/\d+)"', learning).group(1)
    certificate = client.get(certificate_url).get_data(as_text=True)
    assert "Aïcha Maïga" in certificate and "Countering the financing of terrorism" in certificate
    code = re.search(r'font-monospace">([A-Z0-9]{10,})<', certificate).group(1)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    verified = client.get(f"/certificates/verify/{code}")
    assert verified.status_code == 200
    page = verified.get_data(as_text=True)
    assert "This certificate is genuine." in page and "Aïcha Maïga" in page
    assert "100%" not in page  # name, module and date only
    wrong = client.get("/certificates/verify/ABCDEFGHJK23")
    assert wrong.status_code == 404
    assert "No certificate has this code." in wrong.get_data(as_text=True)
    assert "Aïcha" not in wrong.get_data(as_text=True)


def test_the_completion_stays_when_the_module_changes(app, client, login_as, create_user):
    trainer = create_user(role="trainer")
    module_id = build_module(app, trainer.id, post_test=False, lessons=1)
    learner = login_as()
    enrol_in(client, module_id)
    (only,) = lesson_ids(app, module_id)
    url = f"/courses/modules/{module_id}/lessons/{only}"
    post_form(client, url + "/done", {}, form_url=url)
    completed = enrolment(app, module_id, learner.id)
    assert completed.completed_at is not None
    with app.app_context():
        module = db.session.get(Module, module_id)
        services.add_lesson(module, title="A new lesson", body_html="<p>New</p>")
        module.title = "Renamed"
        db.session.commit()
        certificate = db.session.scalar(select(Certificate))
        assert certificate.module_title == "Countering the financing of terrorism"
    after = enrolment(app, module_id, learner.id)
    assert after.completed_at == completed.completed_at and after.progress_percent == 100


def test_correct_answers_never_reach_the_browser_before_submission(app, client, login_as):
    module_id = build_module(app)
    login_as()
    enrol_in(client, module_id)
    started = start_post_test(client, module_id)
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "FATF" in page
    assert "correct" not in page.lower()
    assert "Financial Action Task Force" not in page  # the feedback waits too


def test_a_submitted_attempt_cannot_be_submitted_again_or_changed(app, client, login_as):
    module_id = build_module(app)
    learner = login_as()
    enrol_in(client, module_id)
    answers = option_ids(app, module_id)
    single, _ = answers
    attempt_url, _first = take_post_test(client, module_id, {single: answers[single][1][:1]})
    again = post_form(client, attempt_url, {f"q-{single}": str(answers[single][0][0])})
    assert "already submitted" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
        assert attempt.points == 0 and not attempt.passed


def test_the_attempts_limit_holds(app, client, login_as):
    module_id = build_module(app)
    login_as()
    enrol_in(client, module_id)
    for _ in range(3):
        take_post_test(client, module_id, {})
    refused = start_post_test(client, module_id)
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "You have used all the attempts this test allows." in page
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 3


# 14 and 16: nobody sees or answers another person's attempt.
def test_another_persons_attempt_is_not_found(app, client, login_as, create_user):
    module_id = build_module(app)
    login_as()
    enrol_in(client, module_id)
    started = start_post_test(client, module_id)
    attempt_url = started.headers["Location"]
    other = create_user(email="other@example.org")
    second = app.test_client()
    Auth(second).login(other.email, PASSWORD)
    assert second.get(attempt_url).status_code == 404
    token = csrf_token(second, "/account")
    assert second.post(attempt_url, data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(QuizAttempt)).submitted_at is None


# 14: lessons, attachments and drafts are reachable only by those who may read them.
def test_outsiders_reach_neither_lessons_nor_drafts_nor_authoring(
    app, client, login_as, create_user
):
    trainer = create_user(role="trainer")
    module_id = build_module(app, trainer.id)
    (first, _second) = lesson_ids(app, module_id)
    with app.app_context():
        draft = Module(title="Draft", theme="cbrn", language="en", created_by_id=trainer.id)
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    login_as()  # not enrolled
    assert client.get(f"/courses/modules/{module_id}/lessons/{first}").status_code == 404
    assert client.get(f"/courses/modules/{draft_id}").status_code == 404
    assert client.get(f"/courses/manage/{module_id}").status_code == 403
    other_trainer = app.test_client()
    someone = create_user(role="trainer", email="another.trainer@example.org")
    Auth(other_trainer).login(someone.email, PASSWORD)
    assert other_trainer.get(f"/courses/manage/{module_id}").status_code == 404
    token = csrf_token(other_trainer, "/account")
    deleted = other_trainer.post(
        f"/courses/manage/{module_id}/lessons/{first}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 404
    assert lesson_ids(app, module_id)[0] == first


# 18: extra fields naming a user, a score or a state are ignored.
def test_extra_fields_are_ignored(app, client, login_as, create_user):
    module_id = build_module(app, mode="approval")
    other = create_user(email="other@example.org")
    learner = login_as()
    post_form(
        client,
        f"/courses/modules/{module_id}/enrol",
        {"user_id": str(other.id), "status": "active", "role": "administrator"},
        form_url=f"/courses/modules/{module_id}",
    )
    assert enrolment(app, module_id, other.id) is None
    assert enrolment(app, module_id, learner.id).status == "requested"


def test_enrolment_by_approval_and_by_invitation(app, client, login_as, create_user):
    trainer = create_user(role="trainer", email="trainer@example.org")
    approval_id = build_module(app, trainer.id, mode="approval", title="By approval")
    invitation_id = build_module(app, trainer.id, mode="invitation", title="By invitation")
    learner = login_as(email="learner@example.org")
    post_form(
        client,
        f"/courses/modules/{approval_id}/enrol",
        {},
        form_url=f"/courses/modules/{approval_id}",
    )
    page = client.get(f"/courses/modules/{approval_id}").get_data(as_text=True)
    assert "waiting for a trainer to accept it" in page
    assert "Waiting for approval" in client.get("/courses/my-learning").get_data(as_text=True)
    first = lesson_ids(app, approval_id)[0]
    assert client.get(f"/courses/modules/{approval_id}/lessons/{first}").status_code == 404
    invitation_page = client.get(f"/courses/modules/{invitation_id}").get_data(as_text=True)
    assert "open by invitation only" in invitation_page

    trainer_client = app.test_client()
    Auth(trainer_client).login("trainer@example.org", PASSWORD)
    manage = trainer_client.get(f"/courses/manage/{approval_id}").get_data(as_text=True)
    assert learner.name in manage
    request_id = enrolment(app, approval_id, learner.id).id
    post_form(
        trainer_client,
        f"/courses/manage/{approval_id}/requests/{request_id}",
        {"decision": "accept"},
        form_url=f"/courses/manage/{approval_id}",
    )
    assert enrolment(app, approval_id, learner.id).status == "active"
    assert client.get(f"/courses/modules/{approval_id}/lessons/{first}").status_code == 200

    invited = post_form(
        trainer_client,
        f"/courses/manage/{invitation_id}/invite",
        {"emails": "Learner@example.org, nobody@example.org"},
        form_url=f"/courses/manage/{invitation_id}",
    )
    page = trainer_client.get(invited.headers["Location"]).get_data(as_text=True)
    assert "1 learners enrolled." in page or "1 learner" in page
    assert "nobody@example.org" in page
    assert enrolment(app, invitation_id, learner.id).status == "active"


# Double clicks and two tabs: one enrolment, one attempt, one completion, one certificate.
def test_parallel_enrol_clicks_make_one_enrolment(app, create_user):
    module_id = build_module(app)
    learner = create_user()
    url = f"/courses/modules/{module_id}"
    statuses = in_parallel(app, learner.email, 4, post_later(url + "/enrol", url))
    assert statuses == [302] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count(Enrolment.id))) == 1


def test_parallel_attempt_starts_and_lesson_clicks_make_one_each(app, create_user):
    module_id = build_module(app, lessons=1)
    learner = create_user()
    with app.app_context():
        services.enrol(db.session.get(Module, module_id), learner)
        db.session.commit()
    url = f"/courses/modules/{module_id}"
    statuses = in_parallel(
        app, learner.email, 4, post_later(url + "/post_test/start", url + "/post_test")
    )
    assert statuses == [302] * 4
    (only,) = lesson_ids(app, module_id)
    lesson_url = f"{url}/lessons/{only}"
    statuses = in_parallel(app, learner.email, 4, post_later(lesson_url + "/done", lesson_url))
    assert statuses == [302] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1
        assert db.session.scalar(select(func.count(LessonProgress.id))) == 1
        assert db.session.scalar(select(Enrolment.lessons_done)) == 1


def test_parallel_submissions_grade_once_and_certify_once(app, create_user):
    module_id = build_module(app, lessons=1)
    learner = create_user()
    with app.app_context():
        module = db.session.get(Module, module_id)
        enrolled = services.enrol(module, learner)
        services.mark_done(enrolled, module.lessons[0])
        attempt = services.start_attempt(services.quiz_of(module, "post_test"), learner)
        db.session.commit()
        attempt_url = f"/courses/attempts/{attempt.id}"
    answers = option_ids(app, module_id)
    data = {
        f"q-{question}": [str(option) for option in right]
        for question, (right, _) in answers.items()
    }

    def prepare(browser):
        token = csrf_token(browser, attempt_url)
        return lambda: browser.post(attempt_url, data={"csrf_token": token, **data}).status_code

    assert in_parallel(app, learner.email, 4, prepare) == [302] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id))) == 1
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1
        assert db.session.scalar(select(QuizAttempt.points)) == 2


@pytest.mark.parametrize(
    "path", ["/courses/", "/courses/modules/{first}", "/courses/my-learning", "/courses/manage"]
)
def test_pages_issue_as_many_queries_for_five_modules_as_for_five_hundred(
    app, client, login_as, path
):
    trainer = login_as("trainer")

    def grow_to(count):
        """Published modules of three lessons, the trainer enrolled in each, one lesson done."""
        with app.app_context():
            have = db.session.scalar(select(func.count(Module.id)))
            for number in range(have, count):
                module = Module(
                    title=f"Module {number:03d}",
                    summary="A module.",
                    theme="financing",
                    language="en",
                    is_published=True,
                    created_by_id=trainer.id,
                    lesson_count=3,
                    lessons=[Lesson(position=n, title=f"Lesson {n}") for n in (1, 2, 3)],
                )
                db.session.add(module)
                db.session.flush()
                enrolled = Enrolment(
                    module_id=module.id,
                    user_id=trainer.id,
                    lessons_done=1,
                    progress_percent=33,
                    last_lesson_id=module.lessons[0].id,
                )
                db.session.add(enrolled)
                db.session.flush()
                db.session.add(
                    LessonProgress(enrolment_id=enrolled.id, lesson_id=module.lessons[0].id)
                )
            db.session.commit()

    grow_to(5)
    with app.app_context():
        first = db.session.scalar(select(Module.id).order_by(Module.id))
    few = count_queries(app, client, path.format(first=first))
    grow_to(500)
    many = count_queries(app, client, path.format(first=first))
    assert few == many, (few, many)
