"""A SCORM lesson through the production stack (``make production``): the lesson page on
https://localhost:8443, the package from the content origin https://127.0.0.1:8443 (the same
nginx, another host name), its files sent by nginx (X-Accel-Redirect) with the package's own
policy, and the learner's commits reaching the processes behind it.

Runs when ``TEST_STACK`` names the stack's environment file (``.ci/run`` starts the stack and
sets it); skipped otherwise.
"""

import ssl
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from courses.models import Enrolment
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from tests.browser.test_modules_browser import log_in
from tests.browser.test_scorm_browser import import_through_the_form, sco
from tests.browser.test_stack_browser import tab_on  # noqa: F401
from tests.courses.test_scorm_player import new_module
from tests.irooms import processes
from tests.scorm_packages import CORRECT_ANSWERS, scorm_2004_package

pytestmark = pytest.mark.skipif(
    not processes.STACK, reason="runs through the stack of `make production` (TEST_STACK)"
)


def test_a_scorm_lesson_through_nginx_and_the_content_origin(tab_on):  # noqa: F811
    settings = processes.stack_settings()
    content = settings["SCORM_CONTENT_ORIGIN"]
    assert content != settings["PUBLIC_ORIGIN"]
    with processes.stack_database() as (app, _):
        (trainer_id, trainer_email), (learner_id, learner_email) = processes.add_people(app)
        module_id = new_module(app, trainer_id, title="Returning fighters (stack)")
    on_a, on_b = processes.stack_servers()
    trainer, learner = tab_on(on_a), tab_on(on_b)
    log_in(trainer, on_a, trainer_email, "Amina Diallo")
    import_through_the_form(trainer, on_a, module_id, scorm_2004_package(), "stack.zip")

    log_in(learner, on_b, learner_email, "Awa Konaté")
    learner.goto(f"{on_b}/courses/modules/{module_id}")
    learner.get_by_role("button", name="Enrol").click()
    learner.get_by_role("link", name="Returning foreign terrorist fighters").first.click()
    quiz = sco(learner)
    quiz.locator("#status[data-state=ready]").wait_for()
    frame_url = learner.locator("#scorm-frame").get_attribute("src")
    assert frame_url.startswith(f"{content}/scorm-content/")
    for number, letter in CORRECT_ANSWERS.items():
        quiz.locator(f"#answer-{number}-{letter}").click()
        if number < len(CORRECT_ANSWERS):
            quiz.locator("#next").click()
    quiz.locator("#finish").click()
    learner.get_by_text("You have completed this lesson.").wait_for()
    learner.get_by_text("Score: 100%").wait_for()
    assert not [e for e in learner.console_errors if "Content Security Policy" in e]

    with processes.stack_database() as (app, _), app.app_context():
        enrolment = db.session.scalar(
            select(Enrolment).where(
                Enrolment.module_id == module_id, Enrolment.user_id == learner_id
            )
        )
        assert enrolment.completed_at is not None
        assert db.session.get(User, learner_id).email == learner_email

    # A package file, as nginx sends it: the package's policy, no cookie, and not on the
    # platform's own host.
    tls = ssl.create_default_context(cafile=settings["TLS_CA_FILE"])
    base = frame_url.split("/frame?", 1)[0]
    with urllib.request.urlopen(f"{base}/sco1/index.html", context=tls) as answer:  # noqa: S310
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "'unsafe-inline'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Set-Cookie"] is None or "session" not in answer.headers["Set-Cookie"]
    on_platform = base.replace(content, settings["PUBLIC_ORIGIN"], 1)
    for address in (f"{on_platform}/sco1/index.html", f"{content}/login"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(address, context=tls)  # noqa: S310
        refused.value.close()
        assert refused.value.code == 404, address
