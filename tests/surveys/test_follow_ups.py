"""Follow-ups as practitioners get them: e-mailed (through a real SMTP server) a number of
calendar months after completing a module, with a link that opens that survey alone without a
password, once and not after it expires; one reminder a week later, none after an answer."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from courses.models import Enrolment
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.notifications.models import Notification
from learnplatform.surveys import asking
from learnplatform.surveys.models import SurveyInvitation, SurveyResponse
from tests.courses.test_modules import build_module, lesson_ids
from tests.helpers import csrf_token
from tests.surveys.test_answering import add_survey, answers_to, complete, logged_in

LINK = re.compile(r"https?://[^/\s]+(/surveys/answer/[^\s]+)")


@pytest.fixture
def app(mailing_app):
    """The platform sending its e-mails to ``mail_server``."""
    return mailing_app


def completed_by(app, *learners) -> tuple[int, dict, datetime]:
    """A module with a three-month follow-up, completed by ``learners``; the survey and when
    the last of them completed."""
    module_id = build_module(app, lessons=1, post_test=False)
    survey = add_survey(app, "follow_up", module_id=module_id, months=3, title="Three months on")
    lesson_id = lesson_ids(app, module_id)[0]
    for learner in learners:
        complete(logged_in(app, learner), module_id, lesson_id)
    # On the 10th of this month, so that three calendar months on is a plain date.
    completed = utcnow().replace(day=10, hour=9, minute=30, second=0, microsecond=0)
    with app.app_context():
        for enrolment in db.session.scalars(
            select(Enrolment).where(Enrolment.module_id == module_id)
        ):
            enrolment.completed_at = completed
        db.session.commit()
    return module_id, survey, completed


def three_months_after(moment: datetime) -> datetime:
    year, month = divmod(moment.year * 12 + moment.month - 1 + 3, 12)
    return moment.replace(year=year, month=month + 1)


def run_follow_ups(app, now) -> int:
    with app.app_context():
        return asking.send_follow_ups.call_local(now=now)


def link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def open_link(browser, path):
    """Open the e-mail's link and press "Open the survey"."""
    page = browser.get(path)
    assert "Open the survey" in page.get_data(as_text=True)
    return browser.post(path, data={"csrf_token": csrf_token(browser, path)})


def test_months_before_keeps_to_calendar_months():
    assert asking.months_before(datetime(2026, 5, 31, 9), 3) == datetime(2026, 2, 28, 9)
    assert asking.months_before(datetime(2028, 5, 31), 3) == datetime(2028, 2, 29)
    assert asking.months_before(datetime(2026, 2, 15), 3) == datetime(2025, 11, 15)


def test_a_follow_up_is_sent_three_calendar_months_on_and_its_link_opens_it_once(
    app, mail_server, create_user
):
    learner = create_user()
    _, survey, completed = completed_by(app, learner)
    mail_server.wait_for(1)  # the certificate
    due = three_months_after(completed)
    assert run_follow_ups(app, due - timedelta(days=1)) == 0
    assert run_follow_ups(app, due) == 1
    assert run_follow_ups(app, due + timedelta(hours=1)) == 0  # once
    message = mail_server.wait_for(2)[-1]
    assert message["To"] == learner.email
    assert "Three months on" in message["Subject"]
    path = link_in(message)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        invitation = db.session.scalar(select(SurveyInvitation))
        assert invitation.sent_at == due and invitation.token_hash not in (None, token)
        notice = db.session.scalar(
            select(Notification).where(Notification.kind == "survey_follow_up")
        )
        assert token not in notice.url and token not in str(notice.params)
        assert notice.url == f"/surveys/{survey['id']}/respond"

    stranger = app.test_client()  # the practitioner's browser, long logged out
    opened = open_link(stranger, path)
    assert opened.status_code == 302
    assert opened.headers["Location"] == f"/surveys/{survey['id']}/respond"
    url = f"/surveys/{survey['id']}/respond"
    form = stranger.get(url).get_data(as_text=True)
    assert "Three months on" in form and "Send my answers" in form
    assert stranger.get("/courses/my-learning").status_code == 302  # not logged in
    sent = stranger.post(
        url,
        data={"csrf_token": csrf_token(stranger, url), **answers_to(survey)},
        follow_redirects=True,
    )
    assert "Thank you: your answers are recorded." in sent.get_data(as_text=True)
    again = stranger.post(
        url, data={"csrf_token": csrf_token(stranger, "/login"), **answers_to(survey)}
    )
    assert "You have already answered this survey" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1

    # The link works once: a second time it says so, and offers to log in.
    refused = app.test_client().get(path)
    assert refused.status_code == 410
    page = refused.get_data(as_text=True)
    assert "This link no longer opens the survey" in page and "Log in to answer" in page
    assert "/login?next=/surveys/" in page
    unknown = app.test_client().get("/surveys/answer/" + "x" * 43)
    assert unknown.status_code == 404 and "Log in to answer" in unknown.get_data(as_text=True)
    # No reminder once answered.
    assert run_follow_ups(app, due + timedelta(days=8)) == 0


def test_one_reminder_a_week_on_to_those_who_have_not_answered(app, mail_server, create_user):
    answering, silent = create_user(), create_user()
    _, survey, completed = completed_by(app, answering, silent)
    mail_server.wait_for(2)
    sent_on = completed + timedelta(days=100)
    assert run_follow_ups(app, sent_on) == 2
    first = {message["To"]: link_in(message) for message in mail_server.wait_for(4)[2:]}
    browser = app.test_client()
    open_link(browser, first[answering.email])
    url = f"/surveys/{survey['id']}/respond"
    browser.post(url, data={"csrf_token": csrf_token(browser, url), **answers_to(survey)})

    assert run_follow_ups(app, sent_on + timedelta(days=6)) == 0
    assert run_follow_ups(app, sent_on + timedelta(days=7)) == 1
    assert run_follow_ups(app, sent_on + timedelta(days=8)) == 0  # one reminder
    reminder = mail_server.wait_for(5)[-1]
    assert reminder["To"] == silent.email and "Reminder" in reminder["Subject"]
    with app.app_context():
        reminded = db.session.scalars(
            select(SurveyInvitation.user_id).where(SurveyInvitation.reminded_at.is_not(None))
        ).all()
        assert reminded == [silent.id]
    # The reminder's link is a fresh one; the first e-mail's stops working.
    replaced = app.test_client().get(first[silent.email])
    assert replaced.status_code == 404 and "Log in to answer" in replaced.get_data(as_text=True)
    late = app.test_client()
    assert open_link(late, link_in(reminder)).status_code == 302
    assert "Send my answers" in late.get(url).get_data(as_text=True)


def test_an_expired_link_is_refused(app, mail_server, create_user):
    learner = create_user()
    _, survey, completed = completed_by(app, learner)
    mail_server.wait_for(1)
    run_follow_ups(app, completed + timedelta(days=100))
    path = link_in(mail_server.wait_for(2)[-1])
    with app.app_context():
        invitation = db.session.scalar(select(SurveyInvitation))
        invitation.token_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    browser = app.test_client()
    token = csrf_token(browser, "/login")
    refused = browser.post(path, data={"csrf_token": token})
    assert refused.status_code == 410
    assert "Log in to answer" in refused.get_data(as_text=True)
    assert browser.get(f"/surveys/{survey['id']}/respond").status_code == 302  # to log in
