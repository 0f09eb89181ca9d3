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
from irooms.library import clean_tags
from irooms.models import (
    Attendance,
    Invitation,
    LiveSession,
    Membership,
    Resource,
    ResourceDownload,
    Room,
)
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.demo import DEMO_ACCOUNTS
from learnplatform.extensions import db
from learnplatform.passwords import password_problem
from learnplatform.storage import StoredFile, path_of


def _added(output: str) -> dict[str, int]:
    return {kind: int(count) for count, kind in re.findall(r"(\d+) ([^,()]+)", output)}


def _stored_files(app) -> set[Path]:
    return {path for path in Path(app.config["STORAGE_DIR"]).rglob("*") if path.is_file()}


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def test_loading_twice_adds_nothing_the_second_time(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert all(count > 0 for count in _added(first.output).values()), first.output
    files = _stored_files(app)
    rows = _row_counts(app)

    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert set(_added(second.output).values()) == {0}, second.output
    assert _stored_files(app) == files
    assert _row_counts(app) == rows

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
    my_rooms = client.get("/irooms/").get_data(as_text=True)  # in French, his language
    assert '<html lang="fr" dir="ltr" data-time-zone="Africa/Bamako">' in my_rooms
    assert "Sahel prosecutors: special investigative techniques" in my_rooms
    assert "Nouveautés depuis votre dernière visite" in my_rooms
    catalogue = client.get("/courses/").get_data(as_text=True)
    assert "Lutte contre le financement du terrorisme" in catalogue
    assert "Countering the financing of terrorism" not in catalogue  # English: not by default
    assert 'title="English" lang="en"' in catalogue  # but the French module says it exists
    catalogue = client.get("/courses/?language=").get_data(as_text=True)
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


def _members_by_role(room: Room) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for membership in room.memberships:
        found.setdefault(membership.role, set()).add(membership.user_id)
    return found


def rooms_holding(model) -> list[Room]:
    """The demo rooms with at least one row of ``model`` (resources, sessions), in order."""
    return list(
        db.session.scalars(select(Room).where(Room.id.in_(select(model.room_id))).order_by(Room.id))
    )


def test_three_rooms_have_libraries_with_files_links_versions_and_downloads(app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        now = utcnow()
        rooms = rooms_holding(Resource)
        assert len(rooms) >= 3
        for room in rooms:
            roles = _members_by_role(room)
            assert set(roles) == {"host", "expert", "participant"}, room.name
            hosts = db.session.scalars(select(User).where(User.id.in_(roles["host"]))).all()
            assert {host.role for host in hosts} == {"trainer"}
            members = set().union(*roles.values())

            resources = db.session.scalars(
                select(Resource).where(Resource.room_id == room.id)
            ).all()
            assert 6 <= len(resources) <= 10, room.name
            assert {r.kind for r in resources} == {"file", "module", "series", "link"}, room.name
            assert any(r.language == room.language for r in resources)
            for resource in resources:
                assert resource.tags and resource.tags == ",".join(clean_tags(resource.tags))
                assert resource.created_at <= resource.updated_at <= now
                assert resource.created_by_id in members
                if resource.kind == "module":
                    assert resource.category == "module" and resource.module.is_published
                elif resource.kind == "series":
                    assert resource.category == "series"
                    assert not resource.series.rooms or room in resource.series.rooms
                elif resource.kind == "link":
                    assert resource.url.startswith("https://")
                else:
                    assert resource.versions
                    assert [v.number for v in resource.versions] == list(
                        range(len(resource.versions), 0, -1)
                    )
                    for version in resource.versions:
                        assert version.stored_file.content_type == "application/pdf"
                        assert path_of(version.stored_file).read_bytes().startswith(b"%PDF-")

            files = [r for r in resources if r.kind == "file"]
            assert len(files) >= 3
            downloads = {
                r.id: db.session.scalars(
                    select(ResourceDownload).where(ResourceDownload.resource_id == r.id)
                ).all()
                for r in files
            }
            assert all(downloads.values()), room.name
            for resource in files:
                versions = {v.id: v for v in resource.versions}
                for download in downloads[resource.id]:
                    assert download.user_id in members
                    assert versions[download.version_id].created_at <= download.at <= now
            manuals = [len(downloads[r.id]) for r in files if r.category == "manual"]
            others = [len(downloads[r.id]) for r in files if r.category != "manual"]
            assert manuals and min(manuals) > max(others), room.name

        revised = db.session.scalars(select(Resource).where(Resource.versions.any(number=2))).all()
        assert revised
        for resource in revised:
            second, first = resource.versions[:2]
            assert first.created_at < second.created_at
            assert first.stored_file.sha256 != second.stored_file.sha256
            assert resource.updated_at == second.created_at


def test_rooms_have_past_sessions_with_attendance_and_upcoming_ones(app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        now = utcnow()
        rooms = rooms_holding(LiveSession)
        assert len(rooms) >= 3
        recorded = []
        for room in rooms:
            members = set().union(*_members_by_role(room).values())
            sessions = db.session.scalars(
                select(LiveSession).where(LiveSession.room_id == room.id)
            ).all()
            past = [s for s in sessions if s.ends_at < now]
            upcoming = [s for s in sessions if s.starts_at > now]
            assert 2 <= len(past) <= 3 and 1 <= len(upcoming) <= 2, room.name
            for session in sessions:
                assert session.agenda and session.conference_url.startswith("https://")
                assert session.ends_at - session.starts_at == timedelta(hours=2)
                assert session.created_at < min(session.starts_at, now)
            first = min(upcoming, key=lambda s: s.starts_at)
            assert first.starts_at.weekday() == 1  # a Tuesday
            # the first or the second Tuesday at least a week away, as each room plans it
            assert timedelta(days=7) <= first.starts_at - now < timedelta(days=21)
            for session in past:
                attendance = db.session.scalars(
                    select(Attendance).where(Attendance.session_id == session.id)
                ).all()
                present = {a.user_id for a in attendance}
                assert present and present < members, session.title
                assert {a.source for a in attendance} == {"host"}
                assert all(a.at > session.ends_at for a in attendance)
                if session.webinar_id:
                    recorded.append((room, session))
            assert not any(
                db.session.scalar(select(Attendance.id).where(Attendance.session_id == s.id))
                for s in upcoming
            )
        assert recorded
        for room, session in recorded:
            webinar = session.webinar
            assert webinar.recording_id and webinar.starts_at == session.starts_at
            assert not webinar.series.rooms or room in webinar.series.rooms


def test_every_room_has_an_active_invitation_and_one_shows_every_state(app, runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        now = utcnow()
        for room in db.session.scalars(select(Room)):
            hosts = _members_by_role(room)["host"]
            invitations = db.session.scalars(
                select(Invitation).where(Invitation.room_id == room.id)
            ).all()
            assert all(re.fullmatch(r"[0-9a-f]{64}", i.token_hash) for i in invitations)
            assert all(i.created_by_id in hosts for i in invitations)
            active = [
                i
                for i in invitations
                if i.revoked_at is None and i.expires_at > now and i.uses < i.max_uses
            ]
            assert active, room.name
        states = {
            room_id: {
                "revoked" if i.revoked_at else "expired" if i.expires_at <= now else "active"
                for i in db.session.scalars(select(Invitation).where(Invitation.room_id == room_id))
            }
            for room_id in db.session.scalars(select(Room.id))
        }
        assert {"active", "expired", "revoked"} in states.values()
