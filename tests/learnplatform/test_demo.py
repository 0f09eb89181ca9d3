"""The demo data set behind ``make run``."""

import re

from sqlalchemy import func, select

from courses.models import Certificate, Enrolment, Module, WebinarSeries
from irooms.models import Membership, Room
from learnplatform.accounts.models import User
from learnplatform.demo import DEMO_ACCOUNTS
from learnplatform.extensions import db
from learnplatform.passwords import password_problem


def _added(output: str) -> dict[str, int]:
    return {kind: int(count) for count, kind in re.findall(r"(\d+) ([^,()]+)", output)}


def test_loading_twice_adds_nothing_the_second_time(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert all(count > 0 for count in _added(first.output).values()), first.output

    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert set(_added(second.output).values()) == {0}, second.output

    with app.app_context():
        practitioners = db.session.scalars(select(User).where(User.role == "practitioner")).all()
        assert len(practitioners) >= 60
        assert len({user.country for user in practitioners}) >= 30
        modules = db.session.scalars(select(Module)).all()
        assert len({module.theme for module in modules}) >= 10
        assert len({module.language for module in modules}) >= 5
        assert any(not module.is_published for module in modules)
        assert db.session.scalar(select(func.count(WebinarSeries.id))) == 3
        assert db.session.scalar(select(func.count(Room.id))) == 4
        rooms_of = {
            email: count
            for email, count in db.session.execute(
                select(User.email, func.count(Membership.id))
                .join(Membership, Membership.user_id == User.id)
                .group_by(User.email)
            )
        }
        assert rooms_of["practitioner@example.org"] >= 2
        assert rooms_of["trainer@example.org"] >= 2
        published = [module for module in modules if module.is_published]
        assert all(module.lesson_count >= 2 for module in published)
        stages = db.session.execute(select(Enrolment)).scalars().all()
        assert any(enrolment.status == "requested" for enrolment in stages)
        assert any(
            enrolment.status == "active" and not enrolment.started_at for enrolment in stages
        )
        assert any(0 < enrolment.progress_percent < 100 for enrolment in stages)
        assert any(
            enrolment.post_test_percent == 0 and not enrolment.completed_at for enrolment in stages
        )
        assert db.session.scalar(select(func.count(Certificate.id))) >= 10


def test_every_demo_account_logs_in_and_finds_its_pages(app, runner, client, auth):
    runner.invoke(args=["demo-data"])
    for account in DEMO_ACCOUNTS:
        with app.app_context():
            problem = password_problem(account.password, email=account.email, name=account.name)
        assert problem is None, account.email
        assert auth.login(account.email, account.password).status_code == 302, account.email
        assert client.get("/irooms/").status_code == 200
        auth.logout()

    auth.login("practitioner@example.org", "granite orchard beneath winter stars")
    my_rooms = client.get("/irooms/").get_data(as_text=True)
    assert "Sahel prosecutors: special investigative techniques" in my_rooms
    catalogue = client.get("/courses/").get_data(as_text=True)
    assert "Countering the financing of terrorism" in catalogue
    assert "Special investigative techniques in terrorism cases" not in catalogue  # a draft


def test_demo_accounts_command_prints_where_to_log_in(runner):
    result = runner.invoke(args=["demo-accounts", "--url", "http://127.0.0.1:5000"])
    assert "http://127.0.0.1:5000" in result.output
    for account in DEMO_ACCOUNTS:
        assert account.email in result.output
        assert account.password in result.output
