"""Reading SCORM packages: what the manifest says, what is refused and why, and what is unpacked.

Packages come from tests/scorm_packages.py, built in memory; a refused one must leave neither a
file on disk nor a row in ``stored_files``.
"""

import io
import random
import tempfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from courses.scorm.importing import PackageRefused, content_type_of, read_package
from courses.scorm.manifest import ManifestError, Package, parse_manifest
from learnplatform.extensions import db
from learnplatform.storage import (
    ATTACHMENT_TYPES,
    StorageRefused,
    StoredFile,
    path_of,
    save_stream,
    save_upload,
)
from tests import scorm_packages
from tests.scorm_packages import (
    NAMESPACES_12,
    NAMESPACES_2004,
    aicc_package,
    malicious_package,
    package_with_broken_manifest,
    package_with_entity_expansion,
    package_with_entry,
    package_with_href,
    package_with_lying_header,
    package_with_many_entries,
    package_with_missing_launch_file,
    package_with_symlink,
    package_without_manifest,
    scorm_12_package,
    scorm_2004_package,
    xapi_package,
    zip_bomb_package,
)


@pytest.fixture
def request_context(app, tmp_path, monkeypatch):
    """A request of the platform, with the process's temporary files in a folder of the test's."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with app.test_request_context():
        yield


def read(data: bytes, name: str = "course.zip"):
    return read_package(io.BytesIO(data), name, uploaded_by=None)


def manifest_of(data: bytes) -> Package:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return parse_manifest(archive.read("imsmanifest.xml"))


def files_left(app) -> list[Path]:
    """Every file in storage and among the temporary files."""
    folders = [Path(app.config["STORAGE_DIR"]), Path(tempfile.gettempdir())]
    return [path for folder in folders if folder.exists() for path in folder.rglob("*")]


def stored_rows() -> list[StoredFile]:
    return db.session.scalars(select(StoredFile)).all()


def assert_refused(app, data: bytes, *words: str, name: str = "course.zip") -> str:
    """Reading ``data`` is refused with a message holding ``words``; the caller rolls back and
    nothing is left."""
    with pytest.raises(PackageRefused) as refused:
        read(data, name)
    db.session.rollback()
    message = str(refused.value)
    for expected in words:
        assert expected in message
    assert [path for path in files_left(app) if path.is_file()] == []
    assert stored_rows() == []
    return message


def manifest_xml(items: str, resources: str, *, version: str = "1.2", metadata: str = "") -> bytes:
    namespaces = NAMESPACES_12 if version == "1.2" else NAMESPACES_2004
    return (
        f'<?xml version="1.0"?><manifest identifier="M" {namespaces} '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'{metadata}<organizations default="O"><organization identifier="O"><title>Course</title>'
        f"{items}</organization></organizations><resources>{resources}</resources></manifest>"
    ).encode()


def one_sco(href: str, *, parameters: str | None = None, base: str = "", version="1.2") -> bytes:
    extra = f' parameters="{parameters}"' if parameters is not None else ""
    base_attribute = f' xml:base="{base}"' if base else ""
    return manifest_xml(
        f'<item identifier="I" identifierref="R"{extra}><title>Lesson</title></item>',
        f'<resource identifier="R" type="webcontent" adlcp:scormtype="sco" href="{href}"'
        f"{base_attribute}/>",
        version=version,
    )


# What the manifest says.


@pytest.mark.parametrize(("edition", "expected"), [("2nd", "2nd"), ("3rd", "3rd"), ("4th", "4th")])
def test_a_scorm_2004_package_is_read(edition, expected):
    package = manifest_of(scorm_2004_package(title="Prevention", scos=2, edition=edition))

    assert (package.version, package.edition) == ("2004", expected)
    assert package.title == "Prevention"
    assert package.default_organisation == "ORG-1"
    assert [(s.identifier, s.title, s.href, s.scorm_type) for s in package.scos] == [
        ("ITEM-1", "Part 1", "sco1/index.html", "sco"),
        ("ITEM-2", "Part 2", "sco2/index.html", "sco"),
    ]
    assert [s.scaled_passing_score for s in package.scos] == [0.8, 0.8]
    assert [s.launch_data for s in package.scos] == ["part=1", "part=2"]
    assert {s.mastery_score for s in package.scos} == {None}


def test_a_scorm_12_package_is_read():
    package = manifest_of(scorm_12_package(title="Radicalisation", mastery_score=75, scos=3))

    assert (package.version, package.edition, package.title) == ("1.2", None, "Radicalisation")
    assert [s.href for s in package.scos] == [f"sco{n}/index.html" for n in (1, 2, 3)]
    assert [s.mastery_score for s in package.scos] == [75.0, 75.0, 75.0]
    assert package.scos[0].launch_data == "part=1"
    assert package.scos[0].scaled_passing_score is None
    assert package.items[0].depth == 0


def test_no_passing_score_is_none():
    assert manifest_of(scorm_12_package(mastery_score=None)).scos[0].mastery_score is None
    assert (
        manifest_of(scorm_2004_package(scaled_passing_score=None)).scos[0].scaled_passing_score
        is None
    )


def test_items_are_flattened_in_order_with_their_depth():
    package = manifest_of(scorm_2004_package(scos=2, group_title="Module 1"))

    assert [(i.identifier, i.title, i.depth, i.sco) for i in package.items] == [
        ("GROUP-1", "Module 1", 0, None),
        ("ITEM-1", "Part 1", 1, "ITEM-1"),
        ("ITEM-2", "Part 2", 1, "ITEM-2"),
    ]
    assert [sco.identifier for sco in package.scos] == ["ITEM-1", "ITEM-2"]


@pytest.mark.parametrize(
    ("href", "parameters", "base", "launched"),
    [
        ("index.html", None, "", "index.html"),
        ("index.html", "?lang=fr", "", "index.html?lang=fr"),
        ("index.html", "lang=fr", "", "index.html?lang=fr"),
        ("index.html", "&amp;lang=fr", "", "index.html?lang=fr"),
        ("index.html?mode=a", "?lang=fr", "", "index.html?mode=a&lang=fr"),
        ("index.html#intro", "?lang=fr", "", "index.html?lang=fr#intro"),
        ("index.html", "#slide-3", "", "index.html#slide-3"),
        ("index.html#intro", "#slide-3", "", "index.html#intro"),
        ("sco/index.html", None, "content/", "content/sco/index.html"),
        ("sco/index.html", None, "content", "content/sco/index.html"),
        ("./a/../b/index.html", None, "", "b/index.html"),
        ("my%20course/index.html", None, "", "my%20course/index.html"),
    ],
)
def test_the_launch_address_follows_the_content_aggregation_model(href, parameters, base, launched):
    package = parse_manifest(one_sco(href, parameters=parameters, base=base))

    assert package.scos[0].href == launched


@pytest.mark.parametrize(
    ("href", "base"),
    [
        ("../../outside.html", ""),
        ("a/../../outside.html", ""),
        ("%2e%2e/outside.html", ""),
        ("http://evil.example/x.html", ""),
        ("HTTPS://evil.example/x.html", ""),
        ("//evil.example/x.html", ""),
        ("/etc/passwd", ""),
        ("file:///etc/passwd", ""),
        ("javascript:alert(1)", ""),
        ("C:\\course\\index.html", ""),
        ("C:/course/index.html", ""),
        ("lesson\\index.html", ""),
        ("lesson%00.html", ""),
        ("index.html", "../"),
        ("index.html", "http://evil.example/"),
        ("index.html", "/var/www/"),
    ],
)
def test_a_launch_address_out_of_the_package_is_refused(href, base):
    with pytest.raises(ManifestError) as refused:
        parse_manifest(one_sco(href, base=base))

    assert "not inside the package" in str(refused.value)


def test_the_version_is_inferred_from_the_namespaces_without_schemaversion():
    package_2004 = parse_manifest(one_sco("index.html", version="2004"))
    package_12 = parse_manifest(one_sco("index.html", version="1.2"))

    assert (package_2004.version, package_2004.edition) == ("2004", None)
    assert (package_12.version, package_12.edition) == ("1.2", None)


def test_sloppy_letter_case_of_authoring_tools_is_forgiven():
    manifest = manifest_xml(
        '<item identifier="I" identifierRef="R"><title>Lesson</title>'
        "<adlcp:masteryScore>70</adlcp:masteryScore>"
        "<adlcp:dataFromLms>chapter=2</adlcp:dataFromLms>"
        "<adlcp:maxTimeAllowed>00:30:00</adlcp:maxTimeAllowed>"
        "<adlcp:timeLimitAction>exit,message</adlcp:timeLimitAction></item>",
        '<resource identifier="R" type="webcontent" adlcp:scormType="SCO" href="a.html"/>',
        metadata="<metadata><schemaversion> 1.2 </schemaversion></metadata>",
    )

    sco = parse_manifest(manifest).scos[0]

    assert (sco.scorm_type, sco.mastery_score, sco.launch_data) == ("sco", 70.0, "chapter=2")
    assert (sco.max_time_allowed, sco.time_limit_action) == ("00:30:00", "exit,message")


def test_scorm_2004_thresholds_and_limits_are_read():
    items = (
        '<item identifier="A" identifierref="R"><title>Third edition</title>'
        "<adlcp:completionThreshold>0.75</adlcp:completionThreshold></item>"
        '<item identifier="B" identifierref="R"><title>Fourth edition</title>'
        '<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.6"/>'
        '<imsss:sequencing><imsss:limitConditions attemptAbsoluteDurationLimit="PT1H"/>'
        '<imsss:objectives><imsss:primaryObjective satisfiedByMeasure="true"/>'
        "</imsss:objectives></imsss:sequencing></item>"
        '<item identifier="C" identifierref="R"><title>Not by measure</title>'
        '<imsss:sequencing><imsss:objectives><imsss:primaryObjective satisfiedByMeasure="false">'
        "<imsss:minNormalizedMeasure>0.5</imsss:minNormalizedMeasure>"
        "</imsss:primaryObjective></imsss:objectives></imsss:sequencing></item>"
    )
    resource = '<resource identifier="R" type="webcontent" adlcp:scormType="asset" href="a.html"/>'

    a, b, c = parse_manifest(manifest_xml(items, resource, version="2004")).scos

    assert (a.completion_threshold, a.scaled_passing_score, a.scorm_type) == (0.75, None, "asset")
    assert (b.completion_threshold, b.scaled_passing_score) == (0.6, 1.0)
    assert b.max_time_allowed == "PT1H"
    assert c.scaled_passing_score is None


def test_the_default_organisation_is_the_one_named():
    manifest = (
        f'<?xml version="1.0"?><manifest identifier="M" {NAMESPACES_12}>'
        '<organizations default="B">'
        '<organization identifier="A"><title>First</title>'
        '<item identifier="I1" identifierref="R"><title>One</title></item></organization>'
        '<organization identifier="B"><title>Second</title>'
        '<item identifier="I2" identifierref="R"><title>Two</title></item></organization>'
        '</organizations><resources><resource identifier="R" href="a.html"/></resources>'
        "</manifest>"
    ).encode()

    package = parse_manifest(manifest)

    assert (package.default_organisation, package.title) == ("B", "Second")
    assert [sco.identifier for sco in package.scos] == ["I2"]
    assert package.scos[0].scorm_type == "asset"  # no adlcp:scormtype


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        (b"<manifest><organizations>", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY a "x">]><manifest>&a;</manifest>',
            "XML entities",
        ),
        (
            f"<manifest {NAMESPACES_12}><organizations/><resources/></manifest>".encode(),
            "no organisation",
        ),
        (
            manifest_xml('<item identifier="G"><title>Group</title></item>', ""),
            "no item that can be launched",
        ),
        (
            manifest_xml(
                '<item identifier="I" identifierref="GONE"><title>Intro</title></item>', ""
            ),
            "“Intro” points to a resource (GONE)",
        ),
        (
            manifest_xml(
                '<item identifier="I" identifierref="R"><title>Intro</title></item>',
                '<resource identifier="R" type="webcontent"/>',
            ),
            "without a launch file",
        ),
        (
            manifest_xml(
                '<item identifier="I" identifierref="R"><title>Quiz</title>'
                "<adlcp:masteryscore>high</adlcp:masteryscore></item>",
                '<resource identifier="R" href="a.html"/>',
            ),
            "“high” of “Quiz” must be a number from 0 to 100",
        ),
        (
            manifest_xml(
                '<item identifier="I" identifierref="R"><title>Quiz</title>'
                "<adlcp:masteryscore>120</adlcp:masteryscore></item>",
                '<resource identifier="R" href="a.html"/>',
            ),
            "from 0 to 100",
        ),
    ],
    ids=[
        "broken",
        "empty",
        "entities",
        "no-organisation",
        "nothing-launchable",
        "missing-resource",
        "resource-without-href",
        "mastery-not-a-number",
        "mastery-out-of-range",
    ],
)
def test_manifests_that_cannot_be_played_are_refused_in_words(manifest, words):
    with pytest.raises(ManifestError) as refused:
        parse_manifest(manifest)

    assert words in str(refused.value)


# Importing: what is refused, with what message, leaving nothing behind.

BAD_PACKAGES = {
    "not-a-zip": (lambda: b"%PDF-1.4\n%%EOF\n", "“course.zip” is not a zip archive"),
    "empty": (lambda: b"", "The file is empty."),
    "no-manifest": (package_without_manifest, "no imsmanifest.xml"),
    "aicc": (
        aicc_package,
        "AICC packages are not supported; export the course as SCORM 1.2 or 2004.",
    ),
    "tincan": (xapi_package, "xAPI (Tin Can) and cmi5 packages are not supported"),
    "cmi5": (lambda: xapi_package("cmi5"), "cmi5 packages are not supported"),
    "broken-xml": (package_with_broken_manifest, "not well-formed XML"),
    "entity-expansion": (package_with_entity_expansion, "XML entities"),
    "missing-launch-file": (
        package_with_missing_launch_file,
        "The launch file lesson/start.html of “Lesson” is not in the package.",
    ),
    "href-outside": (lambda: package_with_href("../../outside.html"), "not inside the package"),
    "href-absolute-url": (
        lambda: package_with_href("http://evil.example/x.html"),
        "not inside the package",
    ),
    "zip-slip-parent": (lambda: package_with_entry("../evil.txt"), "unsafe file paths or links"),
    "zip-slip-absolute": (lambda: package_with_entry("/etc/x"), "unsafe file paths or links"),
    "zip-slip-drive": (lambda: package_with_entry("C:\\x"), "unsafe file paths or links"),
    "zip-slip-nested": (
        lambda: package_with_entry("shared/../../evil.txt"),
        "unsafe file paths or links",
    ),
    "duplicate-name": (
        lambda: package_with_entry("sco1/index.html"),
        "unsafe file paths or links",
    ),
    "same-name-once-normalised": (
        lambda: package_with_entry("shared/./sco.js"),
        "unsafe file paths or links",
    ),
    "symlink": (package_with_symlink, "The package holds unsafe file paths or links."),
    "zip-bomb": (zip_bomb_package, "The package holds a file compressed too tightly to be safe."),
    "lying-header": (package_with_lying_header, "damaged"),
    "too-many-entries": (package_with_many_entries, "The package holds more than 10000 files."),
}


@pytest.mark.parametrize("case", BAD_PACKAGES.values(), ids=BAD_PACKAGES.keys())
def test_bad_packages_are_refused_and_leave_nothing(app, request_context, case):
    build, words = case

    assert_refused(app, build(), words)


def test_a_package_over_the_size_limit_is_refused_with_the_limit(app, request_context):
    app.config["SCORM_MAX_BYTES"] = 20 * 1024

    noise = random.Random(18).randbytes(30_000)  # does not compress

    message = assert_refused(app, scorm_12_package(extra_files={"media/noise.bin": noise}))

    assert message == "The file is larger than 20 KB, the most accepted here."


def test_a_package_too_large_once_unpacked_is_refused(app, request_context):
    app.config["SCORM_MAX_UNPACKED_BYTES"] = 64 * 1024

    assert_refused(
        app,
        scorm_12_package(extra_files={"media/clip.bin": bytes(range(256)) * 512}),
        "The package would be larger than 64 KB once unpacked.",
    )


def test_a_refusal_while_unpacking_leaves_nothing_even_if_the_caller_commits(app, request_context):
    with pytest.raises(PackageRefused):
        read(package_with_lying_header())
    db.session.commit()

    assert stored_rows() == []
    assert [path for path in files_left(app) if path.is_file()] == []


def test_office_documents_keep_their_own_words(app, request_context):
    """The same checks, worded for a document when a Word file is uploaded."""
    with pytest.raises(StorageRefused) as refused:
        save_upload(io.BytesIO(package_with_symlink()), "notes.docx", allowed=ATTACHMENT_TYPES)

    assert str(refused.value) == "The document holds unsafe file paths or links."


# Importing: what is kept.


def test_a_package_is_unpacked_under_generated_names_with_content_types(app, request_context):
    extra = {
        "media/intro.mp4": b"\x00\x00\x00\x18ftypisom",
        "media/intro.en.vtt": "WEBVTT\n",
        "fonts/body.woff2": b"wOF2",
        "fonts/body.woff": b"wOFF",
        "data/questions.json": "{}",
        "images/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "images/photo.JPG": b"\xff\xd8\xff",
        "lesson.htm": "<!doctype html>",
        "data/blob.unknownextension": b"?",
    }
    data = scorm_2004_package(extra_files=extra)

    imported = read(data)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        assert sorted(imported.files) == sorted(names)
        for path, stored in imported.files.items():
            assert path_of(stored).read_bytes() == archive.read(path)
            assert stored.size == archive.getinfo(path).file_size
            assert path not in stored.storage_key
    types = {path: stored.content_type for path, stored in imported.files.items()}
    assert types == {
        "imsmanifest.xml": "application/xml",
        "shared/sco.js": "text/javascript",
        "shared/sco.css": "text/css",
        "sco1/index.html": "text/html",
        "media/intro.mp4": "video/mp4",
        "media/intro.en.vtt": "text/vtt",
        "fonts/body.woff2": "font/woff2",
        "fonts/body.woff": "font/woff",
        "data/questions.json": "application/json",
        "images/logo.svg": "image/svg+xml",
        "images/photo.JPG": "image/jpeg",
        "lesson.htm": "text/html",
        "data/blob.unknownextension": "application/octet-stream",
    }
    assert imported.files["sco1/index.html"].original_name == "index.html"
    assert imported.manifest.scos[0].href == "sco1/index.html"
    db.session.commit()
    assert len(stored_rows()) == len(names)


def test_an_imported_package_leaves_the_disk_when_the_transaction_rolls_back(app, request_context):
    read(scorm_12_package())

    db.session.rollback()

    assert stored_rows() == []
    assert [path for path in files_left(app) if path.is_file()] == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: scorm_2004_package(nested_folder="Course export"),
        lambda: scorm_12_package(nested_folder="course", extra_files={"notes/readme.txt": "hi"}),
    ],
    ids=["2004", "1.2"],
)
def test_a_package_zipped_inside_one_folder_is_accepted(app, request_context, build):
    imported = read(build())

    assert "imsmanifest.xml" in imported.files
    assert imported.manifest.scos[0].href == "sco1/index.html"
    assert all(not path.startswith(("Course export/", "course/")) for path in imported.files)


def test_the_folder_macos_adds_beside_a_zipped_folder_is_ignored(app, request_context):
    data = scorm_12_package(nested_folder="course")
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("__MACOSX/course/._imsmanifest.xml", b"\x00\x05\x16\x07")

    imported = read(buffer.getvalue())

    assert "sco1/index.html" in imported.files
    assert not any("__MACOSX" in path for path in imported.files)


def test_a_launch_file_with_parameters_and_escapes_is_found(app, request_context):
    manifest = one_sco("my%20lesson/start.html#top", parameters="?lang=ar")
    data = scorm_packages.zip_of(
        {"imsmanifest.xml": manifest, "my lesson/start.html": "<!doctype html>"}
    )

    imported = read(data)

    assert imported.manifest.scos[0].href == "my%20lesson/start.html?lang=ar#top"
    assert "my lesson/start.html" in imported.files


def test_the_malicious_package_is_a_valid_package(app, request_context):
    """It is refused by nothing here: the player must contain it."""
    imported = read(malicious_package("http://localhost/profile"))

    assert imported.manifest.version == "2004"
    assert set(imported.files) == {"imsmanifest.xml", "index.html", "malicious.js"}


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("a/b.HTML", "text/html"), ("x.mjs", "text/javascript"), ("noextension", None)],
)
def test_content_types_come_from_the_extension(path, content_type):
    assert content_type_of(path) == (content_type or "application/octet-stream")


# save_stream: what unpacking keeps a file through.


def test_save_stream_keeps_a_file_with_the_type_given(app, request_context):
    stored = save_stream(
        io.BytesIO(b"body {}"), "../styles/main.css", content_type="text/css", max_bytes=7
    )

    assert (stored.content_type, stored.original_name, stored.size) == ("text/css", "main.css", 7)
    assert path_of(stored).read_bytes() == b"body {}"


def test_save_stream_refuses_more_than_its_bound_and_leaves_nothing(app, request_context):
    with pytest.raises(StorageRefused):
        save_stream(io.BytesIO(b"12345678"), "a.bin", content_type="x/y", max_bytes=7)
    db.session.rollback()

    assert stored_rows() == []
    assert [path for path in files_left(app) if path.is_file()] == []
