"""The demo data set behind ``make run``."""

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from courses.models import (
    Caption,
    Certificate,
    Enrolment,
    Module,
    RecordingEvent,
    Webinar,
    WebinarSeries,
)
from irooms.models import Membership, Room
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.demo import DEMO_ACCOUNTS
from learnplatform.extensions import db
from learnplatform.passwords import password_problem
from learnplatform.storage import StoredFile


def _added(output: str) -> dict[str, int]:
    return {kind: int(count) for count, kind in re.findall(r"(\d+) ([^,()]+)", output)}


def _stored_files(app) -> set[Path]:
    return {path for path in Path(app.config["STORAGE_DIR"]).rglob("*") if path.is_file()}


def test_loading_twice_adds_nothing_the_second_time(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert all(count > 0 for count in _added(first.output).values()), first.output
    files = _stored_files(app)

    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert set(_added(second.output).values()) == {0}, second.output
    assert _stored_files(app) == files

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
        assert len(files) == db.session.scalar(select(func.count(StoredFile.id)))


def test_two_series_have_recordings_captions_slides_and_counted_events(app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        series = db.session.scalars(select(WebinarSeries).order_by(WebinarSeries.id)).all()
        recorded = [s for s in series if any(w.recording_id for w in s.webinars)]
        assert len(recorded) == 2
        assert all(w.recording_id and w.starts_at < utcnow() for s in recorded for w in s.webinars)
        upcoming = next(s for s in series if s not in recorded)
        assert all(w.starts_at > utcnow() for w in upcoming.webinars)
        assert [room.name for s in series for room in s.rooms] == [
            "Sahel prosecutors: special investigative techniques"
        ]

        webinars = [w for s in recorded for w in s.webinars]
        assert {w.recording.content_type for w in webinars} == {"video/webm"}
        assert any(w.slides is not None for w in webinars)
        assert {w.slides.content_type for w in webinars if w.slides} == {"application/pdf"}
        for webinar in webinars:
            languages = {caption.language for caption in webinar.captions}
            assert languages == {"en", webinar.language}
            assert {c.stored_file.content_type for c in webinar.captions} == {"text/vtt"}
        assert db.session.scalar(select(func.count(Caption.id))) == 11

        by_kind = dict(
            db.session.execute(
                select(RecordingEvent.kind, func.count()).group_by(RecordingEvent.kind)
            ).all()
        )
        assert set(by_kind) == {"view", "download", "slides"}
        assert 200 <= sum(by_kind.values()) <= 600
        assert by_kind["view"] > by_kind["download"]
        earliest, latest = db.session.execute(
            select(func.min(RecordingEvent.at), func.max(RecordingEvent.at))
        ).one()
        assert utcnow() - timedelta(days=366) <= earliest < latest <= utcnow()
        # Nobody watches a webinar before it has taken place, nor one of a room they are not in.
        assert not db.session.scalar(
            select(func.count(RecordingEvent.id))
            .join(Webinar, Webinar.id == RecordingEvent.webinar_id)
            .where(RecordingEvent.at < Webinar.starts_at)
        )
        sahel = next(s for s in recorded if s.rooms)
        members = set(
            db.session.scalars(
                select(Membership.user_id).where(Membership.room_id == sahel.rooms[0].id)
            )
        )
        viewers = set(
            db.session.scalars(
                select(RecordingEvent.user_id)
                .join(Webinar, Webinar.id == RecordingEvent.webinar_id)
                .where(Webinar.series_id == sahel.id)
            )
        )
        assert viewers and viewers <= members


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
    webinars = client.get("/courses/webinars").get_data(as_text=True)
    assert "Countering CBRN terrorism: webinar series" in webinars
    assert "Justice pénale et terrorisme au Sahel" in webinars  # a member of its iRoom
    auth.logout()

    auth.login("practitioner2@example.org", "silent kettle beside amber river")
    webinars = client.get("/courses/webinars").get_data(as_text=True)
    assert "Countering CBRN terrorism: webinar series" in webinars
    assert "Justice pénale et terrorisme au Sahel" not in webinars


def test_demo_accounts_command_prints_where_to_log_in(runner):
    result = runner.invoke(args=["demo-accounts", "--url", "http://127.0.0.1:5000"])
    assert "http://127.0.0.1:5000" in result.output
    for account in DEMO_ACCOUNTS:
        assert account.email in result.output
        assert account.password in result.output
