"""Webinar series and recordings through the pages: managing them, watching with seek,
downloads, exact view and download counts, and who may see what."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.http import parse_options_header

from courses.models import Caption, RecordingEvent, ViewMark, Webinar, WebinarSeries
from irooms.models import Membership, Room
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.storage import StoredFile, path_of
from tests.helpers import (
    Auth,
    count_queries,
    csrf_token,
    in_parallel,
    post_form,
    without_tokens,
)
from tests.learnplatform.test_storage import MP4, PDF

#: a recording long enough for ranges: an MP4 header, then 10,000 bytes of "picture"
RECORDING = MP4 + bytes(range(250)) * 40
CAPTIONS = b"WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nPreservation requests come first.\n"


def series_with_webinar(app, trainer_id, *, room_ids=(), recording=True) -> tuple[int, int]:
    """A series of ``trainer_id`` with one past webinar, its recording stored when asked."""
    from courses import webinars as service

    with app.app_context():
        series = WebinarSeries(
            title="Countering CBRN terrorism",
            description="Eleven webinars for prosecutors and investigators.",
            theme="cbrn",
            language="en",
            created_by_id=trainer_id,
        )
        series.rooms = [db.session.get(Room, room_id) for room_id in room_ids]
        webinar = Webinar(
            series=series,
            title="Chemical precursors: controls and prosecutions",
            starts_at=utcnow() - timedelta(days=20),
            speakers="Dr. Amina Diallo; Judge Carlos Mendes",
            language="en",
        )
        db.session.add(webinar)
        db.session.flush()
        if recording:
            from werkzeug.datastructures import FileStorage

            service.attach_recording(
                webinar, FileStorage(io.BytesIO(RECORDING), "session-3.mp4"), None
            )
        db.session.commit()
        return series.id, webinar.id


def a_room(app, *members) -> int:
    with app.app_context():
        room = Room(name="Sahel prosecutors", language="fr", theme="criminal_justice")
        db.session.add(room)
        db.session.flush()
        for user in members:
            db.session.add(Membership(room_id=room.id, user_id=user.id, role="participant"))
        db.session.commit()
        return room.id


def events(app, kind=None) -> int:
    with app.app_context():
        query = select(func.count(RecordingEvent.id))
        if kind:
            query = query.where(RecordingEvent.kind == kind)
        return db.session.scalar(query)


def stored_files(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(StoredFile.id)))


def storage_entries(app) -> list:
    from pathlib import Path

    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def play(client, webinar_id):
    """What the player's script does when playback starts."""
    token = csrf_token(client, f"/courses/webinars/{webinar_id}")
    return client.post(f"/courses/webinars/{webinar_id}/played", headers={"X-CSRFToken": token})


def read_all(response) -> bytes:
    body = response.get_data()
    response.close()
    return body


# Managing series, webinars and their files.
def test_a_trainer_publishes_a_series_with_a_recording_captions_and_slides(
    app, client, login_as, create_user
):
    trainer = login_as("trainer", name="Kwame Mensah")
    response = post_form(
        client,
        "/courses/webinars/series/new",
        {"title": "Countering CBRN terrorism", "description": "For prosecutors.", "theme": "cbrn"}
        | {"language": "en"},
    )
    assert response.status_code == 302
    with app.app_context():
        series = db.session.scalar(select(WebinarSeries))
        assert series.created_by_id == trainer.id and series.rooms == []
        series_id = series.id

    response = post_form(
        client,
        f"/courses/webinars/series/{series_id}/webinars/new",
        {
            "title": "Radiological materials at borders",
            "starts_at": "2026-03-14T14:00",
            "speakers": "Dr. Amina Diallo",
            "language": "fr",
            "description": "Detection, seizure and prosecution.",
        },
    )
    assert response.status_code == 302
    edit_url = response.headers["Location"]
    with app.app_context():
        webinar = db.session.scalar(select(Webinar))
        assert webinar.starts_at.isoformat() == "2026-03-14T14:00:00"
        webinar_id = webinar.id

    files = {
        "recording": {"file": (io.BytesIO(RECORDING), "session 1.mp4")},
        "captions": {"file": (io.BytesIO(CAPTIONS), "fr.vtt"), "language": "fr"},
        "slides": {"file": (io.BytesIO(PDF), "slides.pdf")},
    }
    for what, data in files.items():
        response = post_form(
            client, f"/courses/webinars/{webinar_id}/{what}/upload", data, form_url=edit_url
        )
        assert response.status_code == 302, what
        assert "is uploaded" in client.get(edit_url).get_data(as_text=True)

    page = client.get(f"/courses/webinars/{webinar_id}").get_data(as_text=True)
    assert f'<source src="/courses/webinars/{webinar_id}/recording" type="video/mp4">' in page
    assert f'src="/courses/webinars/{webinar_id}/captions/fr.vtt"' in page
    assert "Download the slides" in page
    assert "Radiological materials at borders" in client.get("/courses/webinars").get_data(
        as_text=True
    )
    response = client.get(f"/courses/webinars/{webinar_id}/captions/fr.vtt")
    assert read_all(response) == CAPTIONS
    assert response.mimetype == "text/vtt"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"<html><script>alert(1)</script></html>",
            "talk.mp4",
            "This kind of file is not accepted here. Accepted: MP3 audio",
        ),
        (
            b"MZ\x90\x00" + bytes(200),
            "talk.mp4",
            "This kind of file is not accepted here. Accepted: MP3 audio",
        ),
        (PDF, "talk.mp4", "This kind of file is not accepted here. Accepted: MP3 audio"),
        (b"", "talk.mp4", "The file is empty."),
    ],
)
def test_a_wrong_recording_is_refused_and_leaves_nothing(
    app, client, login_as, content, name, message
):
    trainer = login_as("trainer")
    _, webinar_id = series_with_webinar(app, trainer.id, recording=False)
    edit_url = f"/courses/webinars/{webinar_id}/edit"
    response = post_form(
        client,
        f"/courses/webinars/{webinar_id}/recording/upload",
        {"file": (io.BytesIO(content), name)},
        form_url=edit_url,
        follow_redirects=True,
    )
    assert message in response.get_data(as_text=True)
    assert stored_files(app) == 0
    assert storage_entries(app) == []


def test_an_oversized_recording_is_refused_with_its_limit_and_leaves_nothing(app, client, login_as):
    app.config["RECORDING_MAX_BYTES"] = 5000
    trainer = login_as("trainer")
    _, webinar_id = series_with_webinar(app, trainer.id, recording=False)
    edit_url = f"/courses/webinars/{webinar_id}/edit"
    upload_url = f"/courses/webinars/{webinar_id}/recording/upload"

    # Within the request's slack for the other fields: stopped while it is copied.
    response = post_form(
        client, upload_url, {"file": (io.BytesIO(RECORDING), "big.mp4")}, form_url=edit_url
    )
    assert response.status_code == 302
    assert "The file is larger than 4.9 KB, the most accepted here." in client.get(
        edit_url
    ).get_data(as_text=True)
    # Far above it: refused before the body is read.
    response = post_form(
        client,
        upload_url,
        {"file": (io.BytesIO(MP4 + bytes(200_000)), "bigger.mp4")},
        form_url=edit_url,
    )
    assert response.status_code == 413
    assert stored_files(app) == 0
    assert storage_entries(app) == []


def test_the_upload_script_gets_the_address_to_go_to(app, client, login_as):
    trainer = login_as("trainer")
    _, webinar_id = series_with_webinar(app, trainer.id, recording=False)
    edit_url = f"/courses/webinars/{webinar_id}/edit"
    response = post_form(
        client,
        f"/courses/webinars/{webinar_id}/recording/upload",
        {"file": (io.BytesIO(RECORDING), "talk.mp4")},
        form_url=edit_url,
        headers={"Accept": "application/json"},
    )
    assert response.get_json() == {"redirect": edit_url}
    assert "talk.mp4 is uploaded" in client.get(edit_url).get_data(as_text=True)


def test_a_new_recording_replaces_the_old_one_and_the_counts_stay(app, client, login_as):
    trainer = login_as("trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    with app.app_context():
        old_path = path_of(db.session.get(Webinar, webinar_id).recording)
    assert play(client, webinar_id).get_json() == {"counted": True}
    post_form(
        client,
        f"/courses/webinars/{webinar_id}/recording/upload",
        {"file": (io.BytesIO(RECORDING + b"v2"), "session-3-edited.mp4")},
        form_url=f"/courses/webinars/{webinar_id}/edit",
    )
    assert not old_path.exists()
    assert stored_files(app) == 1
    assert events(app, "view") == 1
    page = client.get(f"/courses/webinars/{webinar_id}").get_data(as_text=True)
    assert 'data-figure="view">1<' in page


# Playback with seeking, and downloads.
def test_the_player_seeks_with_ranges(app, client, login_as, create_user):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    login_as()
    url = f"/courses/webinars/{webinar_id}/recording"

    response = client.get(url, headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert read_all(response) == RECORDING[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(RECORDING)}"
    assert response.headers["Content-Disposition"].startswith("inline")

    response = client.get(url, headers={"Range": "bytes=0-9,20-29"})
    read_all(response)
    assert response.status_code == 416
    response = client.get(url, headers={"Range": f"bytes={len(RECORDING)}-"})
    read_all(response)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(RECORDING)}"
    assert events(app) == 0  # fetching bytes is not a view; starting the player is


def test_downloads_are_attachments_kept_out_of_caches(app, client, login_as, create_user):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    login_as()
    response = client.get(f"/courses/webinars/{webinar_id}/recording/download")
    assert read_all(response) == RECORDING
    assert parse_options_header(response.headers["Content-Disposition"]) == (
        "attachment",
        {"filename": "session-3.mp4"},
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        key = db.session.get(Webinar, webinar_id).recording.storage_key
    for path in (f"/static/../instance/storage/{key}", f"/storage/{key}", f"/static/{key}"):
        assert client.get(path).status_code == 404


def test_the_front_server_sends_the_bytes_only_after_the_access_check(
    app, client, login_as, create_user
):
    app.config["STORAGE_SENDFILE"] = "x-accel-redirect"
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id, room_ids=[a_room(app)])
    with app.app_context():
        key = db.session.get(Webinar, webinar_id).recording.storage_key
    url = f"/courses/webinars/{webinar_id}/recording/download"

    login_as()  # not a member of the room
    response = client.get(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response.headers

    Auth(client).logout()
    Auth(client).login(trainer.email)
    response = client.get(url)
    assert response.headers["X-Accel-Redirect"] == f"/_storage/{key}"
    assert read_all(response) == b""
    assert events(app, "download") == 1


# Counting.
def test_a_view_counts_once_per_person_within_the_window(app, client, login_as, create_user):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    login_as()
    assert play(client, webinar_id).get_json() == {"counted": True}
    # Seeking and playing again, or reloading the page: the same view.
    assert play(client, webinar_id).get_json() == {"counted": False}
    assert events(app, "view") == 1

    with app.app_context():
        db.session.execute(update(ViewMark).values(counted_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
    assert play(client, webinar_id).get_json() == {"counted": True}
    assert events(app, "view") == 2


def test_plays_from_two_tabs_at_once_count_one_view(app, create_user):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    learner = create_user()

    def prepare(browser):
        token = csrf_token(browser, f"/courses/webinars/{webinar_id}")
        return lambda: browser.post(
            f"/courses/webinars/{webinar_id}/played", headers={"X-CSRFToken": token}
        ).get_json()["counted"]

    results = in_parallel(app, learner.email, 4, prepare)
    assert sorted(results) == [False, False, False, True]
    assert events(app, "view") == 1


def test_every_completed_download_counts_and_nothing_else_does(app, create_user):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    learner = create_user()
    url = f"/courses/webinars/{webinar_id}/recording/download"

    def prepare(browser):
        return lambda: read_all(browser.get(url)) == RECORDING

    # Five downloads at once, each counted once it has been sent whole.
    assert in_parallel(app, learner.email, 5, prepare) == [True] * 5
    assert events(app, "download") == 5

    browser = app.test_client()
    Auth(browser).login(learner.email)
    read_all(browser.get(url, headers={"Range": "bytes=0-99"}))  # the start of a resumed one
    read_all(browser.head(url))
    assert events(app, "download") == 5
    read_all(browser.get(url, headers={"Range": "bytes=100-"}))  # its end
    assert events(app, "download") == 6
    with app.app_context():
        event = db.session.scalar(select(RecordingEvent).order_by(RecordingEvent.id.desc()))
        assert (event.webinar_id, event.kind) == (webinar_id, "download")
        assert event.user_id is not None and event.at is not None


def test_trainers_see_the_counts_of_their_series_by_period(app, client, login_as, create_user):
    trainer = login_as("trainer", name="Kwame Mensah")
    other = create_user(role="trainer")
    series_id, webinar_id = series_with_webinar(app, trainer.id)
    _, others_webinar = series_with_webinar(app, other.id)
    with app.app_context():
        db.session.execute(
            update(WebinarSeries)
            .where(WebinarSeries.id != series_id)
            .values(title="Someone else's series")
        )
        now = utcnow()
        for kind, at in [
            ("view", now.replace(year=2025, month=3, day=10)),
            ("view", now.replace(year=2025, month=3, day=11)),
            ("download", now.replace(year=2025, month=4, day=2)),
            ("view", now.replace(year=2025, month=4, day=3)),
        ]:
            db.session.add(RecordingEvent(webinar_id=webinar_id, kind=kind, at=at))
        db.session.add(RecordingEvent(webinar_id=others_webinar, kind="view", at=now))
        db.session.commit()

    page = client.get("/courses/webinars/counts").get_data(as_text=True)
    assert "Someone else&#39;s series" not in page
    assert "In all: 4 views and downloads (views: 3; downloads: 1)." in page
    assert "March 2025" in page and "April 2025" in page

    page = client.get("/courses/webinars/counts?from=2025-04-01&to=2025-04-30").get_data(
        as_text=True
    )
    assert "In all: 2 views and downloads" in page and "March 2025" not in page

    page = client.get("/courses/webinars/counts?from=yesterday").get_data(as_text=True)
    assert "yesterday is not a date like 2026-03-31." in page


def test_administrators_see_every_series_and_practitioners_none(app, client, login_as, create_user):
    for _ in range(2):
        series_with_webinar(app, create_user(role="trainer").id)
    login_as("administrator")
    page = client.get("/courses/webinars/counts").get_data(as_text=True)
    assert page.count('<caption class="visually-hidden">Views and downloads of') == 2
    Auth(client).logout()
    login_as()
    assert client.get("/courses/webinars/counts").status_code == 403


# Who may see what (SECURITY.md 14, 15, 30).
def test_a_series_for_an_irooms_members_is_nothing_to_anyone_else(
    app, client, login_as, create_user
):
    trainer = create_user(role="trainer")
    member = create_user()
    series_id, webinar_id = series_with_webinar(app, trainer.id, room_ids=[a_room(app, member)])
    with app.app_context():
        db.session.add(
            Caption(
                webinar_id=webinar_id,
                language="en",
                stored_file_id=db.session.get(Webinar, webinar_id).recording_id,
            )
        )
        db.session.commit()
    urls = [
        f"/courses/webinars/series/{series_id}",
        f"/courses/webinars/{webinar_id}",
        f"/courses/webinars/{webinar_id}/recording",
        f"/courses/webinars/{webinar_id}/recording/download",
        f"/courses/webinars/{webinar_id}/captions/en.vtt",
        f"/courses/webinars/{webinar_id}/slides",
    ]
    login_as()
    assert "Countering CBRN terrorism" not in client.get("/courses/webinars").get_data(as_text=True)
    for url in urls:
        response = client.get(url, headers={"Range": "bytes=0-9"})
        assert response.status_code == 404, url
        missing = client.get(f"/courses/webinars/{webinar_id + 100}").get_data(as_text=True)
        assert without_tokens(response.get_data(as_text=True)) == without_tokens(missing)
    token = csrf_token(client, "/account")
    response = client.post(f"/courses/webinars/{webinar_id}/played", headers={"X-CSRFToken": token})
    assert response.status_code == 404
    assert events(app) == 0

    Auth(client).logout()
    Auth(client).login(member.email)
    assert "Countering CBRN terrorism" in client.get("/courses/webinars").get_data(as_text=True)
    assert read_all(client.get(urls[2], headers={"Range": "bytes=0-9"})) == RECORDING[:10]


def test_only_the_series_trainer_manages_it(app, client, login_as, create_user):
    owner = create_user(role="trainer")
    series_id, webinar_id = series_with_webinar(app, owner.id)
    login_as("trainer")
    edit_urls = [
        f"/courses/webinars/series/{series_id}/edit",
        f"/courses/webinars/series/{series_id}/webinars/new",
        f"/courses/webinars/{webinar_id}/edit",
    ]
    for url in edit_urls:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/courses/webinars/series/new")
    for what in ("recording", "slides"):
        response = client.post(
            f"/courses/webinars/{webinar_id}/{what}/remove", data={"csrf_token": token}
        )
        assert response.status_code == 404
    assert stored_files(app) == 1

    Auth(client).logout()
    login_as()
    assert client.get("/courses/webinars/series/new").status_code == 403
    assert client.get(f"/courses/webinars/{webinar_id}/edit").status_code == 403


def test_extra_fields_do_not_change_the_owner_and_other_rooms_are_refused(
    app, client, login_as, create_user
):
    trainer = login_as("trainer")
    other = create_user(role="trainer")
    room_id = a_room(app)  # the trainer does not host it
    fields = {"title": "Foreign terrorist fighters", "theme": "foreign_fighters", "language": "en"}
    response = post_form(client, "/courses/webinars/series/new", fields | {"rooms": [room_id]})
    assert "is not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(WebinarSeries.id))) == 0

    post_form(client, "/courses/webinars/series/new", fields | {"created_by_id": other.id})
    with app.app_context():
        series = db.session.scalar(select(WebinarSeries))
        assert series.created_by_id == trainer.id and series.rooms == []


def test_odd_file_names_are_stored_under_generated_names_and_shown_cleaned(app, client, login_as):
    trainer = login_as("trainer")
    _, webinar_id = series_with_webinar(app, trainer.id, recording=False)
    name = "../../CON\u202e4pm.exe.mp4" + "x" * 300 + ".mp4"
    post_form(
        client,
        f"/courses/webinars/{webinar_id}/recording/upload",
        {"file": (io.BytesIO(RECORDING), name)},
        form_url=f"/courses/webinars/{webinar_id}/edit",
    )
    with app.app_context():
        stored = db.session.get(Webinar, webinar_id).recording
        assert stored.original_name.startswith("CON4pm.exe.mp4xxx")  # no path, no bidi
        assert len(stored.original_name) <= 200 and stored.original_name.endswith(".mp4")
        assert "CON" not in stored.storage_key and path_of(stored).read_bytes() == RECORDING
    response = client.get(f"/courses/webinars/{webinar_id}/recording/download")
    read_all(response)
    disposition = response.headers["Content-Disposition"]
    assert "/" not in disposition and "\u202e" not in disposition and ".." not in disposition


def test_the_webinars_page_costs_as_many_queries_for_3_series_as_for_30(
    app, client, login_as, create_user
):
    trainer = create_user(role="trainer")
    room_id = a_room(app)
    login_as()

    def grow_to(count):
        with app.app_context():
            existing = db.session.scalar(select(func.count(WebinarSeries.id)))
        for number in range(existing, count):
            series_with_webinar(app, trainer.id, room_ids=[room_id] if number % 2 else [])

    grow_to(3)
    few = count_queries(app, client, "/courses/webinars")
    grow_to(30)
    many = count_queries(app, client, "/courses/webinars")
    assert few == many
