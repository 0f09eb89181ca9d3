"""The learner's path to a certificate, as a newcomer walks it: the message that the certificate
is ready leads to it, "My learning" lists it with what can be downloaded, a pre-test never
claims a pass mark, "Continue" leads to the post-test once the lessons are done, and the
progress bar is full only when the module is complete."""

import re
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import func, select

from courses import services
from courses.models import Certificate, Enrolment, Lesson, Module
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.flashes import flash_with_link
from tests.courses.test_modules import (
    build_module,
    enrol_in,
    lesson_ids,
    option_ids,
    take_post_test,
)
from tests.courses.test_scorm_player import (
    CONTENT,
    commit,
    enrolled_learner,
    import_package,
    new_module,
    player_config,
)
from tests.helpers import count_queries, csrf_token, post_form
from tests.scorm_packages import scorm_2004_package


def do_lessons(client, module_id, lessons):
    """Press "Mark as done" on each of ``lessons``; the last response."""
    response = None
    for lesson_id in lessons:
        url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
        client.get(url)
        response = post_form(client, url + "/done", {}, form_url=url)
    return response


def pass_post_test(app, client, module_id):
    """Answer every question of the post-test rightly; the submission's response."""
    answers = option_ids(app, module_id)
    _, submitted = take_post_test(
        client, module_id, {question: right for question, (right, _) in answers.items()}
    )
    return submitted


def fail_post_test(app, client, module_id):
    """Answer the post-test's first question wrongly and leave the second; the response."""
    answers = option_ids(app, module_id)
    first = next(iter(answers))
    _, submitted = take_post_test(client, module_id, {first: answers[first][1][:1]})
    return submitted


def add_pre_test(app, module_id):
    """A one-question pre-test, with the default pass mark (70%) a pre-test must never show."""
    with app.app_context():
        module = db.session.get(Module, module_id)
        quiz = services.quiz_of(module, "pre_test", create=True)
        quiz.title = "What you know already"
        question = services.save_question(
            quiz,
            None,
            kind="single",
            text="Which body sets the standards on terrorist financing?",
            points=1,
            feedback="The FATF.",
            options=[("FATF", True), ("WHO", False)],
        )
        db.session.commit()
        return question.id, [option.id for option in question.options]


def status_messages(page: str) -> list[str]:
    """The text of the page's status boxes (flashes and results), tags removed."""
    boxes = re.findall(r'<div class="alert[^"]*" role="status">(.*?)</div>', page, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", box)).split()) for box in boxes]


def certificate_link(page: str) -> str | None:
    """The address of the "View your certificate" link in a status box, if there is one."""
    found = re.search(
        r'role="status">[^<]*<a class="alert-link" href="([^"]+)">View your certificate</a>', page
    )
    return found.group(1) if found else None


def progress_shown(page: str) -> tuple[int, str]:
    """The first progress bar's value and the text describing it."""
    bar = re.search(
        r'role="progressbar"[^>]*aria-describedby="([^"]+)"[^>]*aria-valuenow="(\d+)"', page
    )
    assert bar, "no progress bar"
    text = re.search(rf'id="{bar.group(1)}">(.*?)</', page, re.S).group(1)
    return int(bar.group(2)), " ".join(unescape(text).split())


def the_certificate_id(app, module_id, user_id):
    with app.app_context():
        return db.session.scalar(
            select(Certificate.id)
            .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
            .where(Enrolment.module_id == module_id, Enrolment.user_id == user_id)
        )


# --- "Your certificate is ready" leads to it ----------------------------------------------------


def test_the_last_lesson_says_the_certificate_is_ready_with_a_link_to_it(app, client, login_as):
    module_id = build_module(app, lessons=2, post_test=False)
    learner = login_as()
    enrol_in(client, module_id)
    finished = do_lessons(client, module_id, lesson_ids(app, module_id))
    page = client.get(finished.headers["Location"]).get_data(as_text=True)

    assert "You have completed this module. Your certificate is ready. View your certificate" in (
        status_messages(page)
    )
    address = certificate_link(page)
    assert address == f"/courses/certificates/{the_certificate_id(app, module_id, learner.id)}"
    assert "Certificate of completion" in client.get(address).get_data(as_text=True)


def test_passing_the_post_test_says_the_certificate_is_ready_with_a_link_to_it(
    app, client, login_as
):
    module_id = build_module(app)
    learner = login_as()
    enrol_in(client, module_id)
    do_lessons(client, module_id, lesson_ids(app, module_id))
    passed = pass_post_test(app, client, module_id)
    page = client.get(passed.headers["Location"]).get_data(as_text=True)

    assert "You passed with 100%." in status_messages(page)
    address = certificate_link(page)
    assert address == f"/courses/certificates/{the_certificate_id(app, module_id, learner.id)}"
    # A message is shown once; the module page keeps the way to the certificate.
    module_page = client.get(f"/courses/modules/{module_id}").get_data(as_text=True)
    assert certificate_link(module_page) is None
    assert f'href="{address}">View your certificate</a>' in module_page


def test_a_scorm_lesson_that_completes_the_module_leads_to_the_certificate(app, client, login_as):
    app.config["SCORM_CONTENT_ORIGIN"] = CONTENT
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_2004_package())
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    learner = enrolled_learner(app, client, login_as, module_id)
    (lesson_id,) = lesson_ids(app, module_id)
    lesson_url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
    config, token = player_config(client.get(lesson_url).get_data(as_text=True))
    finished = {"completion_status": "completed", "success_status": "passed", "exit": "normal"}
    assert commit(client, config, token, 1, finished, terminate=True).json["kept"] is True

    page = client.get(f"{lesson_url}?finished=1").get_data(as_text=True)
    certificate_id = the_certificate_id(app, module_id, learner.id)
    assert certificate_id is not None
    assert f'href="/courses/certificates/{certificate_id}">View your certificate</a>' in page


def test_a_flashed_link_leads_only_to_a_page_of_this_site(app):
    with app.test_request_context():
        for address in ("https://elsewhere.example/", "//elsewhere.example/", "javascript:x"):
            with pytest.raises(ValueError):
                flash_with_link("Ready.", link_text="Open", url=address)


def test_a_flashed_message_and_its_link_are_escaped(app, client, login_as):
    @app.get("/test-flash")
    def flash_something():
        flash_with_link('<b>"Ready"</b>', link_text="<i>Open</i>", url="/courses/?q=<x>")
        return "flashed"

    login_as()
    client.get("/test-flash")
    page = client.get("/courses/my-learning").get_data(as_text=True)
    assert "&lt;b&gt;&#34;Ready&#34;&lt;/b&gt;" in page
    assert 'href="/courses/?q=&lt;x&gt;">&lt;i&gt;Open&lt;/i&gt;</a>' in page
    assert "<b>" not in page and "<i>Open" not in page


# --- My learning lists certificates with what exists -------------------------------------------


def completed_module(app, client, login_as, **kwargs):
    """A module the logged-in learner completed: (module id, learner, certificate id)."""
    module_id = build_module(app, lessons=1, post_test=False, **kwargs)
    learner = login_as()
    enrol_in(client, module_id)
    do_lessons(client, module_id, lesson_ids(app, module_id))
    return module_id, learner, the_certificate_id(app, module_id, learner.id)


DOWNLOADS = {
    "courses.certificate_pdf": "Download as PDF",
    "courses.certificate_credential": "Download the credential (Open Badges 3.0)",
}


def test_my_learning_links_only_to_downloads_that_exist(app, client, login_as):
    for endpoint in DOWNLOADS:  # as before the PDF and the credential were there
        app.view_functions.pop(endpoint, None)
    _, _, certificate_id = completed_module(app, client, login_as)
    page = client.get("/courses/my-learning").get_data(as_text=True)

    assert re.search(rf'href="/courses/certificates/{certificate_id}">View and print</a>', page)
    for text in DOWNLOADS.values():
        assert text not in page


def test_my_learning_links_to_the_pdf_and_the_credential(app, client, login_as):
    for endpoint in DOWNLOADS:  # stand-ins where the real routes are not there (yet)
        if endpoint not in app.view_functions:
            app.add_url_rule(
                f"/courses/certificates/<int:certificate_id>/{endpoint}",
                endpoint=endpoint,
                view_func=lambda certificate_id: "",
            )
    _, _, certificate_id = completed_module(app, client, login_as)
    page = client.get("/courses/my-learning").get_data(as_text=True)

    with app.test_request_context():
        for endpoint, text in DOWNLOADS.items():
            address = url_for(endpoint, certificate_id=certificate_id)
            assert re.search(
                rf'href="{re.escape(address)}"( download)?>{re.escape(text)}</a>', page
            )


def test_a_revoked_certificate_shows_as_revoked_without_links(app, client, login_as):
    _, _, certificate_id = completed_module(app, client, login_as)
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        certificate.revoked_at = utcnow()
        certificate.revoked_reason = "Issued in error."
        db.session.commit()
    page = client.get("/courses/my-learning").get_data(as_text=True)
    completed = page[page.index(">Completed</h2>") :]

    assert "Certificate revoked" in completed
    assert f"/courses/certificates/{certificate_id}" not in completed
    assert "View and print" not in completed and "Download" not in completed


# --- A pre-test never claims a pass mark --------------------------------------------------------


def test_a_pre_test_shows_the_score_and_that_it_does_not_count(app, client, login_as):
    module_id = build_module(app)
    question, (_right, wrong) = add_pre_test(app, module_id)
    login_as()
    enrol_in(client, module_id)
    url = f"/courses/modules/{module_id}/pre_test"
    rules = client.get(url).get_data(as_text=True)
    assert "does not count towards completion" in rules and "Pass mark" not in rules

    started = post_form(client, url + "/start", {}, form_url=url)
    submitted = post_form(client, started.headers["Location"], {f"q-{question}": str(wrong)})
    result = client.get(submitted.headers["Location"]).get_data(as_text=True)
    messages = status_messages(result)
    assert "You scored 0%. The pre-test does not count towards completing the module." in messages
    assert any(message.startswith("Score: 0 of 1 point (0%).") for message in messages)
    for claim in ("pass mark", "70%", "Passed", "Not passed"):
        assert claim not in result, claim

    attempts = client.get(url).get_data(as_text=True)
    assert "0%" in attempts
    for claim in ("Result", "Passed", "Not passed", "Pass mark"):
        assert claim not in attempts, claim


def test_the_post_test_still_shows_its_pass_mark_and_result(app, client, login_as):
    module_id = build_module(app)
    login_as()
    enrol_in(client, module_id)
    failed = fail_post_test(app, client, module_id)
    result = client.get(failed.headers["Location"]).get_data(as_text=True)
    assert "You scored 0%; the pass mark is 50%." in status_messages(result)
    assert "Not passed: the pass mark is 50%." in result


# --- Continue leads to the post-test once the lessons are done ---------------------------------


def test_continue_goes_to_the_post_test_once_every_lesson_is_done(app, client, login_as):
    module_id = build_module(app, lessons=2)
    login_as()
    enrol_in(client, module_id)
    first, second = lesson_ids(app, module_id)
    resume = f"/courses/modules/{module_id}/resume"
    post_test = f"/courses/modules/{module_id}/post_test"

    do_lessons(client, module_id, [first])
    assert client.get(resume).headers["Location"].endswith(f"/lessons/{first}")
    do_lessons(client, module_id, [second])
    assert client.get(resume).headers["Location"].endswith(post_test)
    module_page = client.get(f"/courses/modules/{module_id}").get_data(as_text=True)
    assert f'href="{post_test}">Take the post-test</a>' in module_page
    learning = client.get("/courses/my-learning").get_data(as_text=True)
    assert f'href="{post_test}">Take the post-test</a>' in learning

    fail_post_test(app, client, module_id)  # not passed: still the next step
    assert client.get(resume).headers["Location"].endswith(post_test)

    pass_post_test(app, client, module_id)  # complete: back to reviewing the lessons
    assert client.get(resume).headers["Location"].endswith(f"/lessons/{second}")


def test_continue_goes_back_to_the_lessons_when_the_post_test_was_passed_first(
    app, client, login_as
):
    module_id = build_module(app, lessons=2)
    login_as()
    enrol_in(client, module_id)
    first, _ = lesson_ids(app, module_id)
    do_lessons(client, module_id, [first])
    pass_post_test(app, client, module_id)
    resume = client.get(f"/courses/modules/{module_id}/resume")
    assert resume.headers["Location"].endswith(f"/lessons/{first}")
    assert progress_shown(client.get(f"/courses/modules/{module_id}").get_data(as_text=True)) == (
        66,
        "1 of 2 lessons done · post-test passed",
    )


# --- The progress bar counts the post-test ------------------------------------------------------


def test_the_progress_bar_is_full_only_when_the_module_is_complete(app, client, login_as):
    module_id = build_module(app, lessons=4)
    login_as()
    enrol_in(client, module_id)
    lessons = lesson_ids(app, module_id)
    module_url = f"/courses/modules/{module_id}"

    assert progress_shown(client.get(module_url).get_data(as_text=True)) == (
        0,
        "0 of 4 lessons done · post-test to pass",
    )
    do_lessons(client, module_id, lessons[:2])
    assert progress_shown(client.get(module_url).get_data(as_text=True)) == (
        40,
        "2 of 4 lessons done · post-test to pass",
    )
    do_lessons(client, module_id, lessons[2:])
    for page in (module_url, "/courses/my-learning"):
        html = client.get(page).get_data(as_text=True)
        assert progress_shown(html) == (80, "4 of 4 lessons done · post-test to pass"), page
        assert "progress-80" in html and "progress-100" not in html

    pass_post_test(app, client, module_id)
    module_page = client.get(module_url).get_data(as_text=True)
    assert "Completed on" in module_page and 'role="progressbar"' not in module_page
    learning = client.get("/courses/my-learning").get_data(as_text=True)
    assert "In progress" not in learning and "Completed" in learning


def test_without_a_post_test_the_lessons_are_the_steps(app, client, login_as):
    module_id = build_module(app, lessons=4, post_test=False)
    login_as()
    enrol_in(client, module_id)
    do_lessons(client, module_id, lesson_ids(app, module_id)[:3])
    for page in (f"/courses/modules/{module_id}", "/courses/my-learning"):
        html = client.get(page).get_data(as_text=True)
        assert progress_shown(html) == (75, "3 of 4 lessons done"), page
        assert "post-test" not in html


def test_my_learning_takes_as_many_queries_for_many_modules_as_for_few(app, client, login_as):
    learner = login_as()

    def grow_to(count):
        """Modules of two lessons and a post-test: one in progress, one complete, in turn."""
        with app.app_context():
            have = db.session.scalar(select(func.count(Module.id)))
        for number in range(have, count):
            module_id = build_module(app, lessons=2, title=f"Module {number:03d}")
            with app.app_context():
                module = db.session.get(Module, module_id)
                completed = number % 2 == 1
                enrolled = Enrolment(
                    module_id=module_id,
                    user_id=learner.id,
                    lessons_done=2 if completed else 1,
                    progress_percent=100 if completed else 50,
                    last_lesson_id=module.lessons[0].id,
                    completed_at=utcnow() if completed else None,
                )
                db.session.add(enrolled)
                db.session.flush()
                if completed:
                    db.session.add(
                        Certificate(
                            enrolment_id=enrolled.id,
                            user_id=learner.id,
                            code=f"TEST{number:08d}",
                            learner_name="A learner",
                            module_title=module.title,
                        )
                    )
                db.session.commit()

    grow_to(4)
    few = count_queries(app, client, "/courses/my-learning")
    grow_to(40)
    many = count_queries(app, client, "/courses/my-learning")
    assert few == many, (few, many)
    with app.app_context():
        assert db.session.scalar(select(func.count(Lesson.id))) == 80


@pytest.mark.parametrize(
    ("lessons_done", "lesson_count", "has_post_test", "passed", "completed", "shown"),
    [
        (4, 4, True, False, False, (80, 0, True, True)),  # the post-test is the step left
        (1, 2, True, True, False, (66, 1, False, False)),  # passed before the lessons
        (3, 4, False, False, False, (75, 1, False, False)),
        (4, 4, False, False, True, (100, 0, False, False)),
        (2, 2, True, True, False, (99, 0, False, False)),  # never full before completion
        (0, 0, True, False, False, (0, 0, True, True)),  # a module that is only a test
        (0, 0, False, False, False, (0, 0, False, False)),
        (5, 3, False, False, False, (99, 0, False, False)),  # counts not yet refreshed
    ],
)
def test_progress_counts_the_post_test_as_a_step(
    lessons_done, lesson_count, has_post_test, passed, completed, shown
):
    progress = services.Progress(
        lessons_done=lessons_done,
        lesson_count=lesson_count,
        has_post_test=has_post_test,
        post_test_passed=passed,
        completed=completed,
    )
    assert (
        progress.percent,
        progress.lessons_left,
        progress.post_test_left,
        progress.post_test_next,
    ) == shown
