"""A room's library through its pages: adding each kind of resource, searching, downloads
counted, versions, removal, refused uploads and addresses, and who may see and do what."""

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from courses.models import Module, WebinarSeries
from irooms.models import Membership, Resource, ResourceDownload, ResourceVersion, Room
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from learnplatform.storage import ATTACHMENT_TYPES, StoredFile, path_of, save_upload
from tests.helpers import (
    Auth,
    count_queries,
    csrf_token,
    in_parallel,
    post_form,
    without_tokens,
)
from tests.learnplatform.test_storage import PDF, compressed_too_tightly, docx, png

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(46) + b"PE\x00\x00"
#: a PDF long enough for ranges
LONG_PDF = PDF + b"%" + bytes(range(256)) * 20


def add_room(app, members, *, name="Sahel prosecutors: electronic evidence", ends_on=None):
    """A room whose ``members`` are (user, role) pairs."""
    with app.app_context():
        room = Room(name=name, language="fr", theme="cooperation", ends_on=ends_on)
        room.memberships = [Membership(user_id=user.id, role=role) for user, role in members]
        db.session.add(room)
        db.session.commit()
        return room.id


def library_of(room_id) -> str:
    return f"/irooms/{room_id}/library"


def add_resource(client, room_id, fields: dict, **kwargs):
    """Fill in and send the form that adds a resource, as a host or an expert does."""
    data = {"title": "A resource", "language": "en", "category": "manual", "tags": ""} | fields
    return post_form(client, f"{library_of(room_id)}/new", data, **kwargs)


def a_file(data: bytes = PDF, name: str = "Manual.pdf"):
    return (io.BytesIO(data), name)


def resources(app) -> list[Resource]:
    with app.app_context():
        found = db.session.scalars(select(Resource).order_by(Resource.id)).all()
        db.session.expunge_all()
        return found


def stored_files(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(StoredFile.id)))


def storage_entries(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def downloads(app) -> list[ResourceDownload]:
    with app.app_context():
        found = db.session.scalars(select(ResourceDownload).order_by(ResourceDownload.id)).all()
        db.session.expunge_all()
        return found


def audit(app, action) -> list[dict]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [{"actor_id": event.actor_id, **event.details} for event in events]


def read_all(response) -> bytes:
    body = response.get_data()
    response.close()
    return body


def a_module(app, *, published=True, title="Electronic evidence across borders") -> int:
    with app.app_context():
        module = Module(title=title, summary="For prosecutors.", theme="cooperation", language="en")
        module.is_published = published
        db.session.add(module)
        db.session.commit()
        return module.id


def a_series(app, title="Countering CBRN terrorism") -> int:
    with app.app_context():
        series = WebinarSeries(title=title, theme="cbrn", language="en")
        db.session.add(series)
        db.session.commit()
        return series.id


def stored_resource(app, room_id, title, *, kind="file", data=PDF, **fields) -> int:
    """A resource put straight into the database, its file stored as an upload would be."""
    with app.app_context():
        resource = Resource(
            room_id=room_id,
            title=title,
            language=fields.pop("language", "en"),
            category=fields.pop("category", "report"),
            kind=kind,
            **fields,
        )
        if kind == "file":
            stored = save_upload(io.BytesIO(data), f"{title}.pdf", allowed=ATTACHMENT_TYPES)
            resource.versions = [ResourceVersion(number=1, stored_file=stored)]
        db.session.add(resource)
        db.session.commit()
        return resource.id


@pytest.fixture
def host_room(app, login_as, create_user):
    """A room the logged-in trainer hosts, with a participant; (room id, host, participant)."""
    host = login_as("trainer", name="Amina Diallo")
    participant = create_user(name="Carlos Mendes")
    room_id = add_room(app, [(host, "host"), (participant, "participant")])
    return room_id, host, participant


# Adding each kind of resource.
def test_a_host_adds_a_file_a_module_a_series_and_an_address(app, client, host_room):
    room_id, host, _ = host_room
    module_id = a_module(app)
    series_id = a_series(app)
    for fields in [
        {"title": "Digital evidence manual", "file": a_file(docx(), "Manual.docx")},
        {"title": "The e-learning module", "category": "module", "module_id": module_id},
        {"title": "The webinars", "category": "series", "series_id": series_id},
        {"title": "Budapest Convention", "category": "key_resolution"}
        | {"url": "https://www.coe.int/en/web/cybercrime/the-budapest-convention"},
    ]:
        response = add_resource(client, room_id, fields)
        assert response.status_code == 302, response.get_data(as_text=True)

    found = resources(app)
    assert [r.kind for r in found] == ["file", "module", "series", "link"]
    assert {r.room_id for r in found} == {room_id}
    assert {r.created_by_id for r in found} == {host.id}
    assert (found[1].module_id, found[2].series_id) == (module_id, series_id)
    assert found[3].url == "https://www.coe.int/en/web/cybercrime/the-budapest-convention"
    assert [event["resource_id"] for event in audit(app, "resource_added")] == [r.id for r in found]
    assert audit(app, "resource_added")[0] == {
        "actor_id": host.id,
        "room_id": room_id,
        "resource_id": found[0].id,
        "kind": "file",
    }

    page = client.get(library_of(room_id)).get_data(as_text=True)
    assert "DOCX · " in page
    assert "E-learning module: Electronic evidence across borders" in page
    assert "Webinar series: Countering CBRN terrorism" in page
    assert "Web address: <span" in page and "Key resolution" in page

    pages = [client.get(f"{library_of(room_id)}/{r.id}").get_data(as_text=True) for r in found]
    assert f'href="/irooms/{room_id}/library/{found[0].id}/download"' in pages[0]
    assert f'href="/courses/modules/{module_id}"' in pages[1]
    assert f'href="/courses/webinars/series/{series_id}"' in pages[2]
    assert (
        '<a href="https://www.coe.int/en/web/cybercrime/the-budapest-convention" class="text-break"'
        ' rel="noopener noreferrer nofollow" target="_blank">'
        "https://www.coe.int/en/web/cybercrime/the-budapest-convention</a>"
    ) in pages[3]


def test_an_expert_adds_and_an_administrator_too(app, client, login_as, create_user):
    expert = login_as()
    room_id = add_room(app, [(expert, "expert")])
    assert add_resource(client, room_id, {"file": a_file()}).status_code == 302
    Auth(client).logout()
    login_as("administrator")  # not a member
    assert add_resource(client, room_id, {"url": "https://www.unodc.org"}).status_code == 302
    assert [r.kind for r in resources(app)] == ["file", "link"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Give one of them: a file, an e-learning module, a webinar series or an address."),
        (
            {"file": a_file(), "url": "https://www.unodc.org"},
            "Give only one of them: a file, an e-learning module, a webinar series or an address.",
        ),
        (
            {"category": "module", "url": "https://www.unodc.org"},
            "Choose the e-learning module below for this category.",
        ),
        (
            {"category": "series", "file": a_file()},
            "Choose the webinar series below for this category.",
        ),
        ({"title": ""}, "This field is required."),
    ],
)
def test_a_resource_is_one_thing_of_the_kind_its_category_says(
    app, client, host_room, fields, message
):
    room_id, *_ = host_room
    if "title" not in fields:
        fields = {"title": "Report"} | fields
    response = add_resource(client, room_id, fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert resources(app) == [] and stored_files(app) == 0 and storage_entries(app) == []


def test_only_published_modules_can_be_linked(app, client, host_room):
    room_id, *_ = host_room
    draft_id = a_module(app, published=False, title="Draft module")
    assert "Draft module" not in client.get(f"{library_of(room_id)}/new").get_data(as_text=True)
    response = add_resource(client, room_id, {"category": "module", "module_id": draft_id})
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert resources(app) == []


# Search and filters.
def test_members_search_by_words_and_filter_by_category_and_language(
    app, client, login_as, create_user
):
    me = login_as()
    room_id = add_room(app, [(me, "participant")])
    stored_resource(
        app,
        room_id,
        "Mutual legal assistance guide",
        category="guide",
        language="fr",
        tags="mla,cooperation",
    )
    stored_resource(
        app,
        room_id,
        "Annual report",
        description="Terrorist financing cases of 2025.",
        tags="cft",
    )
    stored_resource(
        app,
        room_id,
        "Resolution 2396 (2017)",
        kind="link",
        url="https://undocs.org/S/RES/2396(2017)",
        category="key_resolution",
        tags="foreign terrorist fighters,100%_sure",
    )

    def titles(query: str) -> list[str]:
        page = client.get(f"{library_of(room_id)}?{query}").get_data(as_text=True)
        found = [t for t in ("Mutual legal", "Annual report", "Resolution 2396") if t in page]
        if not found:
            assert "No resource matches your search." in page
        return found

    assert sorted(titles("")) == ["Annual report", "Mutual legal", "Resolution 2396"]
    assert titles("q=GUIDE") == ["Mutual legal"]  # title, any case
    assert titles("q=financing") == ["Annual report"]  # description
    assert titles("q=fighters") == ["Resolution 2396"]  # tags
    assert titles("q=cooperation+mutual") == ["Mutual legal"]  # every word
    assert titles("q=cooperation+annual") == []
    assert titles("category=guide") == ["Mutual legal"]
    assert titles("language=fr") == ["Mutual legal"]
    assert titles("language=en&category=report") == ["Annual report"]
    # LIKE wildcards and SQL are words like any other (SECURITY.md 23).
    assert titles("q=%25") == ["Resolution 2396"]
    assert titles("q=_") == ["Resolution 2396"]
    assert titles("q=%27+OR+1%3D1+--") == []
    assert titles("category=report%27+OR+%271%27%3D%271") == [
        "Mutual legal",
        "Annual report",
        "Resolution 2396",
    ]


def test_the_newest_come_first_and_the_list_has_pages(app, client, login_as):
    me = login_as()
    room_id = add_room(app, [(me, "participant")])
    for number in range(23):
        stored_resource(
            app, room_id, f"Report number {number:02d}", kind="link", url="https://x.org"
        )
    page = client.get(library_of(room_id)).get_data(as_text=True)
    assert page.index("Report number 22") < page.index("Report number 21")
    assert "Report number 02" not in page
    assert f'href="/irooms/{room_id}/library?page=2"' in page
    page = client.get(f"{library_of(room_id)}?page=2").get_data(as_text=True)
    assert "Report number 02" in page and "Report number 03" not in page


def test_an_empty_library_says_what_to_do(app, client, host_room):
    room_id, _, participant = host_room
    page = client.get(library_of(room_id)).get_data(as_text=True)
    assert "The library is empty." in page and "Add the first resource" in page
    Auth(client).logout()
    Auth(client).login(participant.email)
    page = client.get(library_of(room_id)).get_data(as_text=True)
    assert "The hosts and experts of this room add" in page
    assert "Add the first resource" not in page and "/library/new" not in page


# Downloads.
def test_every_whole_download_is_counted_and_only_hosts_see_the_counts(
    app, client, login_as, create_user
):
    host = create_user(role="trainer")
    expert = create_user()
    me = login_as()
    room_id = add_room(app, [(host, "host"), (expert, "expert"), (me, "participant")])
    resource_id = stored_resource(app, room_id, "Handbook", data=LONG_PDF)
    url = f"{library_of(room_id)}/{resource_id}/download"

    response = client.get(url)
    assert read_all(response) == LONG_PDF
    assert parse_options_header(response.headers["Content-Disposition"]) == (
        "attachment",
        {"filename": "Handbook.pdf"},
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    read_all(client.get(url, headers={"Range": "bytes=0-99"}))  # the start of a resumed one
    read_all(client.head(url))
    for impossible in ("bytes=0-9,20-29", f"bytes={len(LONG_PDF)}-"):
        response = client.get(url, headers={"Range": impossible})
        read_all(response)
        assert response.status_code == 416
    assert len(downloads(app)) == 1
    read_all(client.get(url, headers={"Range": "bytes=100-"}))  # its end
    counted = downloads(app)
    assert len(counted) == 2
    assert {(d.resource_id, d.user_id) for d in counted} == {(resource_id, me.id)}
    assert counted[0].version_id is not None and counted[0].at is not None

    for person in (me, expert):
        Auth(client).logout()
        Auth(client).login(person.email)
        assert "downloads" not in client.get(library_of(room_id)).get_data(as_text=True)
        detail = client.get(f"{library_of(room_id)}/{resource_id}").get_data(as_text=True)
        assert "2 downloads" not in detail and "data-downloads" not in detail
    Auth(client).logout()
    Auth(client).login(host.email)
    assert f'data-downloads="{resource_id}">2 downloads<' in client.get(
        library_of(room_id)
    ).get_data(as_text=True)
    detail = client.get(f"{library_of(room_id)}/{resource_id}").get_data(as_text=True)
    assert f'data-downloads="{resource_id}">2 downloads<' in detail
    assert 'data-version-downloads="1">2<' in detail


def test_a_new_version_keeps_the_earlier_ones_downloadable(app, client, host_room):
    room_id, host, _ = host_room
    add_resource(client, room_id, {"title": "Guide", "file": a_file(PDF, "Guide 2024.pdf")})
    (resource,) = resources(app)
    page_url = f"{library_of(room_id)}/{resource.id}"
    response = post_form(
        client,
        f"{page_url}/replace",
        {"file": a_file(PDF + b"% 2025 edition", "Guide 2025.pdf")},
        form_url=page_url,
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Version 2 is uploaded." in page
    assert "Download version 1" in page and "Download version 2" in page
    assert "Guide 2025.pdf" in page

    response = client.get(f"{page_url}/download")
    assert read_all(response) == PDF + b"% 2025 edition"
    with app.app_context():
        versions = db.session.scalars(
            select(ResourceVersion).order_by(ResourceVersion.number)
        ).all()
        assert [v.number for v in versions] == [1, 2]
        assert {v.uploaded_by_id for v in versions} == {host.id}
        first_id, second_id = versions[0].id, versions[1].id
    response = client.get(f"{page_url}/versions/{first_id}/download")
    assert read_all(response) == PDF
    assert parse_options_header(response.headers["Content-Disposition"])[1] == {
        "filename": "Guide 2024.pdf"
    }
    assert [d.version_id for d in downloads(app)] == [second_id, first_id]
    assert stored_files(app) == 2 and len(storage_entries(app)) == 2
    assert audit(app, "resource_replaced") == [
        {"actor_id": host.id, "room_id": room_id, "resource_id": resource.id, "version": 2}
    ]


def test_new_versions_uploaded_at_the_same_moment_keep_distinct_numbers(app, host_room):
    room_id, host, _ = host_room
    resource_id = stored_resource(app, room_id, "Guide")
    page_url = f"{library_of(room_id)}/{resource_id}"

    def prepare(browser):
        token = csrf_token(browser, page_url)
        return lambda: (
            browser.post(
                f"{page_url}/replace", data={"csrf_token": token, "file": a_file()}
            ).status_code
        )

    assert in_parallel(app, host.email, 3, prepare) == [302] * 3
    with app.app_context():
        numbers = db.session.scalars(select(ResourceVersion.number)).all()
    assert sorted(numbers) == list(range(1, len(numbers) + 1)) and len(numbers) >= 2
    assert stored_files(app) == len(numbers) == len(storage_entries(app))
    assert len(audit(app, "resource_replaced")) == len(numbers) - 1


def test_removing_a_resource_deletes_its_files(app, client, host_room):
    room_id, host, _ = host_room
    add_resource(client, room_id, {"title": "Guide", "file": a_file()})
    (resource,) = resources(app)
    page_url = f"{library_of(room_id)}/{resource.id}"
    post_form(client, f"{page_url}/replace", {"file": a_file(png(), "map.png")}, form_url=page_url)
    assert len(storage_entries(app)) == 2
    page = client.get(page_url).get_data(as_text=True)
    assert 'data-confirm="Remove Guide from the library, with every version of its file?"' in page
    assert "js/confirm.js" in page

    response = post_form(client, f"{page_url}/remove", {}, form_url=page_url)
    assert response.headers["Location"] == library_of(room_id)
    assert resources(app) == [] and stored_files(app) == 0 and storage_entries(app) == []
    assert audit(app, "resource_removed") == [
        {"actor_id": host.id, "room_id": room_id, "resource_id": resource.id, "title": "Guide"}
    ]
    assert client.get(page_url).status_code == 404


def test_editing_changes_the_description_and_cleans_the_tags(app, client, host_room):
    room_id, *_ = host_room
    add_resource(client, room_id, {"title": "Draft", "url": "https://www.unodc.org"})
    (resource,) = resources(app)
    edit_url = f"{library_of(room_id)}/{resource.id}/edit"
    response = post_form(
        client,
        edit_url,
        {
            "title": "UNODC",
            "description": "The office.\r\n\r\nIts publications.",
            "language": "fr",
            "category": "other",
            "tags": " Terrorism ,  Criminal   JUSTICE,, terrorism,\u202erlo",
            "url": "https://www.unodc.org/unodc/en/terrorism/",
        },
    )
    assert response.status_code == 302
    (resource,) = resources(app)
    assert (resource.title, resource.language, resource.category) == ("UNODC", "fr", "other")
    assert resource.tags == "terrorism,criminal justice,rlo"
    assert resource.description == "The office.\n\nIts publications."
    assert resource.url == "https://www.unodc.org/unodc/en/terrorism/"
    page = client.get(f"{library_of(room_id)}/{resource.id}").get_data(as_text=True)
    assert "<p>The office.</p><p>Its publications.</p>" in page
    form = client.get(edit_url).get_data(as_text=True)
    assert 'value="terrorism, criminal justice, rlo"' in form


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (",".join(f"tag{n}" for n in range(11)), "Give at most 10 tags."),
        ("x" * 41, "is longer than 40 characters."),
    ],
)
def test_too_many_or_too_long_tags_are_refused(app, client, host_room, tags, message):
    room_id, *_ = host_room
    response = add_resource(client, room_id, {"url": "https://www.unodc.org", "tags": tags})
    assert message in response.get_data(as_text=True)
    assert resources(app) == []


def test_a_file_resource_stays_a_file_when_edited(app, client, host_room):
    room_id, *_ = host_room
    add_resource(client, room_id, {"title": "Guide", "file": a_file()})
    (resource,) = resources(app)
    edit_url = f"{library_of(room_id)}/{resource.id}/edit"
    form = client.get(edit_url).get_data(as_text=True)
    assert 'name="url"' not in form and 'value="module"' not in form
    response = post_form(
        client,
        edit_url,
        {"title": "Guide", "language": "en", "category": "report", "url": "https://evil.example"},
    )
    assert response.status_code == 302
    (resource,) = resources(app)
    assert (resource.kind, resource.url, resource.category) == ("file", None, "report")


# Refused uploads and addresses leave nothing (SECURITY.md 26, 28).
@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (HTML, "report.pdf", "This kind of file is not accepted here."),
        (WINDOWS_EXE, "report.docx", "This kind of file is not accepted here."),
        (
            compressed_too_tightly(),
            "report.docx",
            "The document holds a part compressed too tightly to be safe.",
        ),
        (b"", "report.pdf", "The file is empty."),
    ],
    ids=["html-as-pdf", "exe-as-docx", "zip-bomb", "empty"],
)
def test_a_refused_file_is_said_why_and_leaves_nothing(app, client, host_room, data, name, message):
    room_id, *_ = host_room
    response = add_resource(client, room_id, {"title": "Report", "file": a_file(data, name)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and 'value="Report"' in page
    assert resources(app) == [] and stored_files(app) == 0 and storage_entries(app) == []
    assert audit(app, "resource_added") == []


def test_an_oversized_file_is_refused_with_the_limit_and_leaves_nothing(app, client, host_room):
    app.config["ATTACHMENT_MAX_BYTES"] = 5000
    room_id, *_ = host_room
    # Within the request's slack for the other fields: stopped while it is copied.
    response = add_resource(client, room_id, {"file": a_file(PDF + bytes(6000))})
    assert "The file is larger than 4.9 KB, the most accepted here." in response.get_data(
        as_text=True
    )
    # Far above it: refused before the body is read.
    response = add_resource(client, room_id, {"file": a_file(PDF + bytes(200_000))})
    assert response.status_code == 413
    assert resources(app) == [] and stored_files(app) == 0 and storage_entries(app) == []


def test_a_refused_new_version_leaves_the_current_one(app, client, host_room):
    room_id, *_ = host_room
    add_resource(client, room_id, {"title": "Guide", "file": a_file()})
    (resource,) = resources(app)
    page_url = f"{library_of(room_id)}/{resource.id}"
    response = post_form(
        client,
        f"{page_url}/replace",
        {"file": a_file(HTML, "guide.pdf")},
        form_url=page_url,
        follow_redirects=True,
    )
    assert "This kind of file is not accepted here." in response.get_data(as_text=True)
    assert stored_files(app) == 1 and len(storage_entries(app)) == 1
    assert audit(app, "resource_replaced") == []
    assert read_all(client.get(f"{page_url}/download")) == PDF


@pytest.mark.parametrize(
    "address",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "ftp://files.example.org/report.pdf",
        "//evil.example/x",
        "https:evil.example",
        "www.unodc.org",
        "http://[::1",
    ],
)
def test_only_web_addresses_are_accepted(app, client, host_room, address):
    room_id, *_ = host_room
    response = add_resource(client, room_id, {"url": address})
    assert "Only web addresses starting with https:// or http:// can be added." in (
        response.get_data(as_text=True)
    )
    assert resources(app) == []


# Who may see and do what (SECURITY.md 14, 15, 18, 30).
def test_a_participant_may_not_add_change_or_remove(app, client, login_as, create_user):
    host = create_user(role="trainer")
    me = login_as()
    room_id = add_room(app, [(host, "host"), (me, "participant")])
    resource_id = stored_resource(app, room_id, "Guide")
    token = csrf_token(client, library_of(room_id))
    base = f"{library_of(room_id)}/{resource_id}"
    assert client.get(f"{library_of(room_id)}/new").status_code == 403
    assert client.get(f"{base}/edit").status_code == 403
    for url, data in [
        (f"{library_of(room_id)}/new", {"title": "Mine", "language": "en", "category": "other"}),
        (f"{base}/edit", {"title": "Mine", "language": "en", "category": "other"}),
        (f"{base}/replace", {"file": a_file()}),
        (f"{base}/remove", {}),
    ]:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    page = client.get(base).get_data(as_text=True)
    assert "Remove from the library" not in page and "Upload the new version" not in page
    assert [r.title for r in resources(app)] == ["Guide"] and stored_files(app) == 1


def test_an_ended_room_can_be_read_but_nothing_added(app, client, login_as):
    host = login_as("trainer")
    room_id = add_room(app, [(host, "host")], ends_on=date.today() - timedelta(days=1))
    resource_id = stored_resource(app, room_id, "Guide")
    base = f"{library_of(room_id)}/{resource_id}"
    assert client.get(f"{library_of(room_id)}/new").status_code == 403
    token = csrf_token(client, library_of(room_id))
    response = client.post(
        f"{library_of(room_id)}/new",
        data={"csrf_token": token, "title": "Late", "language": "en", "category": "other"}
        | {"url": "https://www.unodc.org"},
    )
    assert response.status_code == 403
    for action in ("replace", "remove"):
        assert client.post(f"{base}/{action}", data={"csrf_token": token}).status_code == 403
    page = client.get(library_of(room_id)).get_data(as_text=True)
    assert "Add a resource" not in page and "Guide" in page
    assert read_all(client.get(f"{base}/download")) == PDF
    assert [r.title for r in resources(app)] == ["Guide"]


def test_outsiders_and_members_of_another_room_get_404_everywhere(
    app, client, login_as, create_user
):
    host = create_user(role="trainer")
    room_id = add_room(app, [(host, "host")])
    resource_id = stored_resource(app, room_id, "Confidential case file")
    with app.app_context():
        version_id = db.session.scalar(select(ResourceVersion.id))
    me = login_as("trainer")
    my_room = add_room(app, [(me, "host")], name="Another room")

    def urls(room):
        base = f"{library_of(room)}/{resource_id}"
        return [
            library_of(room),
            f"{library_of(room)}/new",
            base,
            f"{base}/edit",
            f"{base}/download",
            f"{base}/versions/{version_id}/download",
            f"{library_of(room)}/{resource_id + 1}",
        ]

    missing = without_tokens(client.get(f"{library_of(room_id + 100)}").get_data(as_text=True))
    # Outside the room; and the resource under the URL of my own room.
    for url in [*urls(room_id), *urls(my_room)[2:6]]:
        response = client.get(url, headers={"Range": "bytes=0-9"})
        assert response.status_code == 404, url
        assert "Content-Range" not in response.headers
        assert without_tokens(read_all(response).decode()) == missing, url
    token = csrf_token(client, library_of(my_room))
    for room in (room_id, my_room):
        base = f"{library_of(room)}/{resource_id}"
        for url in (f"{library_of(room)}/new", f"{base}/edit", f"{base}/replace", f"{base}/remove"):
            data = {"csrf_token": token, "title": "x", "language": "en", "category": "other"}
            if room == room_id or not url.endswith("/new"):
                assert client.post(url, data=data).status_code == 404, url
    assert downloads(app) == [] and [r.title for r in resources(app)] == ["Confidential case file"]
    assert stored_files(app) == 1
    # Nor may I get at the file with the version id of another resource.
    mine = stored_resource(app, my_room, "Mine")
    url = f"{library_of(my_room)}/{mine}/versions/{version_id}/download"
    assert client.get(url).status_code == 404


def test_a_removed_member_loses_the_library_at_the_next_request(app, client, login_as, create_user):
    me = login_as()
    room_id = add_room(app, [(me, "participant")])
    resource_id = stored_resource(app, room_id, "Guide")
    url = f"{library_of(room_id)}/{resource_id}/download"
    assert read_all(client.get(url)) == PDF
    with app.app_context():
        db.session.execute(Membership.__table__.delete())
        db.session.commit()
    assert client.get(url, headers={"Range": "bytes=0-9"}).status_code == 404
    assert client.get(library_of(room_id)).status_code == 404


def test_extra_fields_do_not_choose_the_room_or_the_author(app, client, host_room, create_user):
    room_id, host, _ = host_room
    other = create_user(role="trainer")
    other_room = add_room(app, [(other, "host")], name="Someone else's room")
    response = add_resource(
        client,
        room_id,
        {"url": "https://www.unodc.org"}
        | {"room_id": other_room, "created_by_id": other.id, "kind": "file", "id": 999},
    )
    assert response.status_code == 302
    (resource,) = resources(app)
    assert (resource.room_id, resource.created_by_id, resource.kind) == (room_id, host.id, "link")
    assert resource.id != 999


# What was typed or uploaded is shown as text (SECURITY.md 22, 24, 27).
def test_html_in_titles_tags_and_file_names_is_shown_as_text(app, client, host_room):
    room_id, *_ = host_room
    add_resource(
        client,
        room_id,
        {
            "title": '<img src=x onerror="alert(1)">Guide',
            "description": "<script>alert(2)</script>",
            "tags": "<b>bold</b>",
            "file": a_file(PDF, "<svg onload=alert(3)>.pdf"),
        },
    )
    (resource,) = resources(app)
    for url in (library_of(room_id), f"{library_of(room_id)}/{resource.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in page and "&lt;img src=x" in page, url
        assert "<script>alert(2)" not in page and "&lt;script&gt;alert(2)" in page
        assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<svg" not in page and "&lt;svg onload=alert(3)&gt;.pdf" in page


def test_bidi_controls_are_removed_from_file_names(app, client, host_room):
    room_id, *_ = host_room
    add_resource(
        client,
        room_id,
        {"title": "Invoice\u202e", "file": a_file(PDF, "../../invoice\u202efdp.exe\u2066.pdf")},
    )
    (resource,) = resources(app)
    with app.app_context():
        stored = db.session.scalar(select(StoredFile))
        assert stored.original_name == "invoicefdp.exe.pdf"
        assert "invoice" not in stored.storage_key and path_of(stored).read_bytes() == PDF
    assert resource.title == "Invoice"
    page = client.get(f"{library_of(room_id)}/{resource.id}").get_data(as_text=True)
    assert "\u202e" not in page and "\u2066" not in page and "invoicefdp.exe.pdf" in page
    response = client.get(f"{library_of(room_id)}/{resource.id}/download")
    read_all(response)
    disposition = response.headers["Content-Disposition"]
    assert "\u202e" not in disposition and "/" not in disposition and ".." not in disposition


# Queries.
def test_the_library_costs_as_many_queries_for_3_resources_as_for_30(
    app, client, login_as, create_user
):
    host = login_as("trainer")
    room_id = add_room(app, [(host, "host")])
    module_id = a_module(app)
    series_id = a_series(app)
    kinds = [
        {"kind": "file"},
        {"kind": "module", "module_id": module_id, "category": "module"},
        {"kind": "series", "series_id": series_id, "category": "series"},
        {"kind": "link", "url": "https://www.unodc.org"},
    ]

    def grow_to(count):
        existing = len(resources(app))
        for number in range(existing, count):
            resource_id = stored_resource(app, room_id, f"Resource {number}", **kinds[number % 4])
            with app.app_context():
                db.session.add(ResourceDownload(resource_id=resource_id, user_id=host.id))
                db.session.commit()

    grow_to(3)
    few = count_queries(app, client, library_of(room_id))
    grow_to(30)
    many = count_queries(app, client, library_of(room_id))
    assert few == many
    assert count_queries(app, client, f"{library_of(room_id)}?q=resource&language=en") == many


def test_the_room_has_a_library_tab(app, client, host_room):
    room_id, *_ = host_room
    page = client.get(library_of(room_id)).get_data(as_text=True)
    assert f'aria-current="page" href="/irooms/{room_id}/library">Library</a>' in page


def test_a_burst_of_uploads_from_one_account_is_refused_past_the_quota(
    app, client, host_room, create_user
):
    """SECURITY item 31: every upload view shares one quota per account."""
    app.config["UPLOAD_LIMIT_PER_ACCOUNT"] = "3 per hour"
    room_id, _, _ = host_room
    statuses = [
        add_resource(client, room_id, {"title": f"Manual {n}", "file": a_file()}).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert len(resources(app)) == 3 and stored_files(app) == 3
    assert len(storage_entries(app)) == 3

    # Another host of the room still uploads.
    colleague = create_user(role="trainer")
    with app.app_context():
        db.session.add(Membership(room_id=room_id, user_id=colleague.id, role="host"))
        db.session.commit()
    browser = app.test_client()
    Auth(browser).login(colleague.email)
    assert add_resource(browser, room_id, {"title": "Guide", "file": a_file()}).status_code == 302
