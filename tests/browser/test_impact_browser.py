"""Measuring impact in Chromium, the whole way: a trainer sets a required end-of-module evaluation
and a three-month follow-up on a module; a learner completes it, answers the evaluation and gets
the certificate; the clock moves three months and the follow-up e-mail, caught by a real SMTP
server, leads through its single-use link to the survey, answered once; the trainer reads the
evaluation's charts and the knowledge gain, the follow-up's figures stay withheld (one anonymous
respondent), and the administrator downloads the donor report as a PDF. Every figure is checked
against counts made here. Screenshots are kept in test-artifacts/ as ``impact-*``."""

import re
import time
from datetime import timedelta
from statistics import mean

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from courses import services
from courses.models import Certificate, Enrolment, Module
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.surveys import asking
from learnplatform.surveys import services as surveys
from learnplatform.surveys.models import (
    Survey,
    SurveyInvitation,
    SurveyParticipation,
    SurveyResponse,
)
from tests.browser.conftest import shots_at_widths
from tests.browser.test_modules_browser import log_in
from tests.courses.test_certificate_pdf import pdf_text
from tests.courses.test_modules import POST_TEST, build_module

WIDTHS = {"1280": 1280, "390": 390}
MODULE = "Countering the financing of terrorism"
RELEVANT = "The module was relevant to my work."
RECOMMEND = "How likely are you to recommend this module to a colleague?"
APPLIED = "Have you applied what you learned in your work?"
APPLIED_CHOICES = ("Yes, several times", "Once", "Not yet")

#: the other learners: name, country, gender, pre-test answers right (of 2), the evaluation's
#: agreement (1-5) and recommendation (0-10)
OTHERS = [
    ("Oumar Sangaré", "ML", "man", 1, 4, 9),
    ("Fatima Zahra", "MA", "woman", 0, 4, 7),
    ("Juan Pérez", "CO", "man", 1, 3, 6),
    ("Grace Achieng", "KE", "woman", 0, 5, 10),
    ("Nadia Haddad", "LB", "woman", 2, 2, 3),
]
#: the learner in the browser: from Senegal, a woman, no pre-test answer right; gives 5 and 10
BROWSER_LEARNER = ("Aïssatou Ndiaye", "SN", "woman", 0, 5, 10)


@pytest.fixture
def app(mailing_app):
    return mailing_app


def practitioner(app, create_user, name: str, country: str, gender: str) -> User:
    """A practitioner of ``country`` and ``gender``."""
    user = create_user(name=name, country=country)
    with app.app_context():
        db.session.get(User, user.id).gender = gender
        db.session.commit()
    return user


def right_options(quiz, how_many: int) -> dict[int, set[int]]:
    """Answers to ``quiz`` with its first ``how_many`` questions right and the others wrong."""
    chosen = {}
    for index, question in enumerate(quiz.questions):
        right = {option.id for option in question.options if option.is_correct}
        wrong = {option.id for option in question.options if not option.is_correct}
        chosen[question.id] = right if index < how_many else (wrong or set())
    return chosen


def take_pre_test(module: Module, user: User, right: int) -> None:
    quiz = services.quiz_of(module, "pre_test")
    attempt = services.start_attempt(quiz, user)
    services.submit_attempt(attempt, right_options(quiz, right))


def complete(module: Module, user: User) -> Enrolment:
    """The lessons done and the post-test passed (all right), as the pages would."""
    enrolment = services.enrolment_of(module, user)
    for lesson in module.lessons:
        services.open_lesson(enrolment, lesson)
        services.mark_done(enrolment, lesson)
    quiz = services.quiz_of(module, "post_test")
    services.submit_attempt(services.start_attempt(quiz, user), right_options(quiz, 2))
    services.complete_if_done(enrolment)
    return enrolment


def answer_evaluation(survey: Survey, user: User, agreement: int, recommendation: int) -> None:
    by_text = {question.text: question for question in survey.questions}
    form = MultiDict(
        {
            f"q{by_text[RELEVANT].id}": str(agreement),
            f"q{by_text[RECOMMEND].id}": str(recommendation),
        }
    )
    answers = surveys.read_answers(survey, form)
    assert not answers.errors
    surveys.respond(survey, user, answers)
    asking.after_answer(survey, user)


def add_question(page, kind: str, text: str, choices: tuple[str, ...] = ()) -> None:
    page.get_by_role("link", name="Add a question").click()
    page.get_by_label("Type").select_option(label=kind)
    page.get_by_label("Question", exact=True).fill(text)
    if choices:
        page.get_by_label("Choices").fill("\n".join(choices))
    page.get_by_role("button", name="Save question").click()
    page.get_by_text("The question is saved.").wait_for()


def test_evaluation_follow_up_knowledge_gain_and_donor_report(
    app, live_server, browser, create_user, mail_server
):
    trainer = create_user(role="trainer", name="Kwame Mensah")
    admin = create_user(role="administrator", name="Administrator")
    name, country, gender, pre_right, agreement, recommendation = BROWSER_LEARNER
    learner = practitioner(app, create_user, name, country, gender)
    others = [
        (practitioner(app, create_user, n, c, g), right, a, r) for n, c, g, right, a, r in OTHERS
    ]
    module_id = build_module(app, trainer.id, title=MODULE)
    with app.app_context():
        module = db.session.get(Module, module_id)
        pre_test = services.quiz_of(module, "pre_test", create=True)
        pre_test.title = "Pre-test"
        for kind, text, feedback, options in POST_TEST:
            services.save_question(
                pre_test, None, kind=kind, text=text, points=1, feedback=feedback, options=options
            )
        db.session.commit()

    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(4)]
    trainer_page, learner_page, mailbox_page, admin_page = (c.new_page() for c in contexts)
    try:
        # The trainer sets a required evaluation and a three-month follow-up.
        log_in(trainer_page, live_server, trainer.email, "Kwame Mensah")
        trainer_page.goto(f"{live_server}/courses/manage/{module_id}")
        trainer_page.get_by_role("link", name="Evaluation and follow-ups").click()
        trainer_page.get_by_role("link", name="Create the evaluation").click()
        trainer_page.get_by_label("Title").fill("Evaluation of the module")
        trainer_page.get_by_label("Required before the certificate").check()
        trainer_page.get_by_role("button", name="Save survey").click()
        trainer_page.get_by_text("The survey is saved. Add its questions.").wait_for()
        add_question(
            trainer_page, "Agreement scale, 1 (strongly disagree) to 5 (strongly agree)", RELEVANT
        )
        add_question(
            trainer_page,
            "Recommendation scale, 0 (not at all likely) to 10 (extremely likely)",
            RECOMMEND,
        )
        trainer_page.goto(f"{live_server}/surveys/manage/module/{module_id}")
        trainer_page.get_by_role("link", name="Add a follow-up").click()
        trainer_page.get_by_label("Title").fill("Three months on")
        trainer_page.get_by_label("Months after completion").fill("3")
        trainer_page.get_by_role("button", name="Save survey").click()
        trainer_page.get_by_text("The survey is saved. Add its questions.").wait_for()
        add_question(trainer_page, "Single choice", APPLIED, APPLIED_CHOICES)
        trainer_page.goto(f"{live_server}/surveys/manage/module/{module_id}")
        trainer_page.get_by_text("Follow-up, 3 months after completion").wait_for()
        shots_at_widths(trainer_page, "impact-01-module-surveys", WIDTHS)

        # Five learners complete the module and answer the evaluation (made here, not typed).
        with app.app_context():
            module = db.session.get(Module, module_id)
            evaluation = surveys.evaluation_of(module_id)
            evaluation_id = evaluation.id
            people = [(db.session.get(User, learner.id), pre_right)] + [
                (db.session.get(User, person.id), right) for person, right, _, _ in others
            ]
            for person, right in people:
                services.enrol(module, person)
                take_pre_test(module, person, right)
            for (person, _), (_, _, a, r) in zip(people[1:], others, strict=True):
                complete(module, person)
                answer_evaluation(evaluation, person, a, r)
            db.session.commit()

        # The learner in the browser: every lesson done, then the post-test.
        with app.app_context():
            module = db.session.get(Module, module_id)
            enrolment = services.enrolment_of(module, db.session.get(User, learner.id))
            for lesson in module.lessons:
                services.open_lesson(enrolment, lesson)
                services.mark_done(enrolment, lesson)
            db.session.commit()
        log_in(learner_page, live_server, learner.email, name)
        learner_page.goto(f"{live_server}/courses/modules/{module_id}")
        learner_page.get_by_role("link", name="Take the post-test").click()
        learner_page.get_by_role("button", name="Start an attempt").click()
        learner_page.get_by_label("FATF").check()
        learner_page.get_by_label("Suspicious transaction reports").check()
        learner_page.get_by_label("Cash declarations").check()
        learner_page.get_by_role("button", name="Submit your answers").click()
        # The evaluation is required: no certificate until it is answered.
        learner_page.get_by_text(
            "Answer the evaluation to receive your certificate"
        ).first.wait_for()
        with app.app_context():
            assert not db.session.scalar(
                select(func.count(Certificate.id)).where(Certificate.user_id == learner.id)
            )
        learner_page.get_by_role("link", name="Evaluate this module").first.click()
        learner_page.get_by_text("Anonymous:").wait_for()
        learner_page.get_by_role("button", name="Send my answers").click()  # nothing chosen
        learner_page.get_by_text("The form could not be sent:").wait_for()
        # The same form open in a second tab, both sent: one response, and the second says so.
        second_tab = contexts[1].new_page()
        second_tab.goto(learner_page.url)
        for tab in (learner_page, second_tab):
            tab.get_by_label("Strongly agree").check()
            tab.locator("label", has_text=re.compile(r"^10$")).click()
        shots_at_widths(learner_page, "impact-02-evaluation", WIDTHS)
        learner_page.get_by_role("button", name="Send my answers").click()
        learner_page.get_by_role("link", name="View your certificate").wait_for()
        shots_at_widths(learner_page, "impact-03-answered", WIDTHS)
        second_tab.get_by_role("button", name="Send my answers").click()
        second_tab.get_by_text("You have already answered this survey").wait_for()
        with app.app_context():
            assert (
                db.session.scalar(
                    select(func.count(Certificate.id)).where(Certificate.user_id == learner.id)
                )
                == 1
            )
            assert (
                db.session.scalar(
                    select(func.count(SurveyResponse.id)).where(
                        SurveyResponse.survey_id == evaluation_id
                    )
                )
                == 6
            )
            # anonymous: no response names anyone
            assert not db.session.scalar(
                select(func.count(SurveyResponse.id)).where(SurveyResponse.user_id.is_not(None))
            )

        # Three months later, by the clock: the follow-up goes to the six who completed.
        with app.app_context():
            completed = db.session.scalar(
                select(func.max(Enrolment.completed_at)).where(Enrolment.module_id == module_id)
            )
            assert asking.send_follow_ups.call_local(now=completed + timedelta(days=60)) == 0
            later = completed + timedelta(days=93)
            assert asking.send_follow_ups.call_local(now=later) == 6
            assert asking.send_follow_ups.call_local(now=later + timedelta(hours=1)) == 0

        def follow_up_links(mails) -> dict[str, list[str]]:
            links = {}
            for message in mails:
                body = message.get_body(("plain",)).get_content()
                found = re.findall(r"https?://\S+/surveys/answer/\S+", body)
                if found:
                    links.setdefault(message["To"], []).extend(found)
            return links

        sent = len(mail_server.messages)
        deadline = time.monotonic() + 10
        while len(follow_up_links(mail_server.messages)) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        links = follow_up_links(mail_server.messages)
        assert sorted(links) == sorted([learner.email] + [person.email for person, *_ in others]), (
            sent
        )
        (link,) = links[learner.email]
        link = re.sub(r"^https?://[^/]+", live_server, link)

        # The link opens the survey without a password, in a browser never logged in.
        mailbox_page.goto(link)
        # (a button uses the link, so that a mail program opening links does not use it up)
        mailbox_page.get_by_role("button", name="Open the survey").click()
        mailbox_page.get_by_role("heading", name="Three months on").wait_for()
        mailbox_page.get_by_label("Yes, several times").check()
        shots_at_widths(mailbox_page, "impact-04-follow-up", WIDTHS)
        mailbox_page.get_by_role("button", name="Send my answers").click()
        mailbox_page.get_by_text("Thank you").first.wait_for()
        # It opens nothing else, and not twice.
        mailbox_page.goto(f"{live_server}/courses/my-learning")
        assert "/login" in mailbox_page.url
        mailbox_page.goto(link)
        assert mailbox_page.get_by_role("link", name="Log in to answer").is_visible()
        shots_at_widths(mailbox_page, "impact-05-link-used", WIDTHS)
        with app.app_context():
            follow_up = db.session.scalar(select(Survey).where(Survey.purpose == "follow_up"))
            follow_up_id = follow_up.id
            assert (
                db.session.scalar(
                    select(func.count(SurveyParticipation.id)).where(
                        SurveyParticipation.survey_id == follow_up_id
                    )
                )
                == 1
            )
            assert (
                db.session.scalar(
                    select(func.count(SurveyInvitation.id)).where(
                        SurveyInvitation.survey_id == follow_up_id
                    )
                )
                == 6
            )

        # The trainer reads the evaluation's results: figures as counted here.
        agreements = [agreement] + [a for _, _, a, _ in others]
        recommendations = [recommendation] + [r for _, _, _, r in others]
        promoters = sum(r >= 9 for r in recommendations)
        detractors = sum(r <= 6 for r in recommendations)
        trainer_page.goto(f"{live_server}/surveys/{evaluation_id}/results")
        headline = trainer_page.locator("[data-figure]")
        assert headline.nth(0).inner_text() == "6"  # responses
        assert headline.nth(1).inner_text() == "6"  # people asked (each at completion)
        relevant = trainer_page.locator("[data-question='1']")
        assert relevant.locator("[data-average]").inner_text() == f"{mean(agreements):.2f}"
        recommend = trainer_page.locator("[data-question='2']")
        score = round(100 * (promoters - detractors) / len(recommendations))
        assert recommend.locator("[data-recommendation-score]").inner_text() == str(score)
        assert trainer_page.locator("canvas[data-chart]").count() == 2
        shots_at_widths(trainer_page, "impact-06-evaluation-results", WIDTHS)
        # Filtered down to one country, one respondent: nothing is shown.
        trainer_page.goto(f"{live_server}/surveys/{evaluation_id}/results?country=SN")
        trainer_page.locator("[data-withheld]").wait_for()
        assert trainer_page.locator("[data-question]").count() == 0
        # The follow-up has one anonymous respondent: withheld too.
        trainer_page.goto(f"{live_server}/surveys/{follow_up_id}/results")
        trainer_page.locator("[data-withheld]").wait_for()
        assert "Yes, several times" not in trainer_page.content()

        # The knowledge gain on the statistics dashboard: first pre-test against best post-test.
        pre = [50 * pre_right] + [50 * right for _, right, _, _ in others]
        post = [100] * 6
        gains = [b - a for a, b in zip(pre, post, strict=True)]
        trainer_page.goto(f"{live_server}/stats/?group=module")
        gain = trainer_page.locator("#knowledge-gain")
        assert gain.locator("[data-gain-figure='1']").inner_text() == "6"
        assert gain.locator("[data-gain-figure='2']").inner_text() == f"{round(mean(pre), 1):g} %"
        average_gain = gain.locator("[data-gain-figure='4']").inner_text()
        assert average_gain == f"{round(mean(gains), 1):g} points"
        gain.scroll_into_view_if_needed()
        shots_at_widths(trainer_page, "impact-07-knowledge-gain", WIDTHS)

        # The administrator downloads the donor report as a PDF.
        log_in(admin_page, live_server, admin.email, "Administrator")
        admin_page.goto(f"{live_server}/stats/donor-report/")
        today = utcnow().date()
        admin_page.get_by_label("From").fill((today - timedelta(days=30)).isoformat())
        admin_page.get_by_label("To").fill(today.isoformat())
        admin_page.get_by_role("button", name="Show the report").click()
        admin_page.locator("#donor-report").wait_for()
        assert admin_page.locator("#figure-trained dd").inner_text() == "6"
        assert admin_page.locator("#figure-countries dd").inner_text() == "6"
        women = sum(g == "woman" for _, _, g, *_ in [BROWSER_LEARNER, *OTHERS])
        assert admin_page.locator("#figure-women dd").inner_text() == f"{round(100 * women / 6)}%"
        shots_at_widths(admin_page, "impact-08-donor-report", WIDTHS)
        admin_page.get_by_role("button", name="Prepare as PDF and notify me").click()
        admin_page.get_by_role("heading", name="My exports").wait_for()
        href = (
            admin_page.locator("#export-list li")
            .first.get_by_role("link", name="Download")
            .get_attribute("href")
        )
        answer = admin_page.request.get(f"{live_server}{href}")
        assert answer.ok and answer.headers["content-type"] == "application/pdf"
        text = pdf_text(answer.body())
        assert MODULE in text
        assert "6 learners completed at least one module in this period." in text
        assert f"Women are {round(100 * women / 6)}% of them." in text
        flat = " ".join(text.split())
        assert (
            f"Their average score went from {round(mean(pre))}% before the training to 100% after "
            f"it, a change of +{round(mean(gains), 1):g} percentage points" in flat
        )
        assert f"their answers average {mean(agreements):.2f}" in flat
        assert f"a recommendation score of +{score}" in flat
        # the follow-up's one anonymous answer is not shown
        assert "Of the 6 people asked, 1 answered (17%)" in flat
        assert "Yes, several times" not in flat
    finally:
        for context in contexts:
            context.close()
