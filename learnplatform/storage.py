"""One place where files are kept: lesson attachments, recordings, room resources, and the files
the platform makes (statistics exports made in the background).

Files live under ``STORAGE_DIR`` (outside ``static/``) with generated names; what was uploaded is
recognised from its content, never from its name; they are served only through views that check
access first.

A file written by :func:`save_upload`, :func:`save_generated` or :func:`save_stream` stays on disk
only if the transaction that holds its row is committed, and a file given to :func:`delete_stored`
leaves the disk only once the deletion is committed: the database and the folder never disagree
after a failed request. Zip archives (Office documents, e-learning packages) are checked by
:func:`open_checked_archive` before any entry is unpacked.
"""

import codecs
import hashlib
import logging
import os
import re
import secrets
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import quote as url_quote

import filetype
from flask import Response, abort, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.http import dump_options_header

from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.text import HIDDEN_CATEGORIES, without_hidden

if TYPE_CHECKING:
    from learnplatform.accounts.models import User

logger = logging.getLogger(__name__)


class StoredFile(db.Model):
    """A file kept by the platform, known by a generated name."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: generated name of the file under ``STORAGE_DIR``; nothing of the uploaded name is in it
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    #: the name the file was uploaded with, cleaned, for the download's Content-Disposition only
    original_name: Mapped[str] = mapped_column(String(255))
    #: media type recognised from the content
    content_type: Mapped[str] = mapped_column(String(120))
    #: size in bytes
    size: Mapped[int]
    #: SHA-256 of the content, hexadecimal
    sha256: Mapped[str] = mapped_column(String(64))
    #: who uploaded it
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: UTC time of upload
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StorageRefused(ValueError):
    """An upload was refused; ``str()`` of it is a message to show the person who uploaded it."""


# Media types, as recognised from the content and sent back in Content-Type.
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
TEXT = "text/plain"
WEBVTT = "text/vtt"

#: office documents and plain text; legacy binary .doc/.xls/.ppt are left out on purpose: they
#: cannot be told apart reliably from their first bytes and are where macros usually hide
DOCUMENT_TYPES = frozenset({PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP, TEXT})
#: raster images a browser shows; never SVG, which is a document that can run script
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: sound: MP3, WAV, M4A, Ogg (Vorbis or Opus)
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/wav", "audio/mp4", "audio/ogg"})
#: moving pictures: MP4, WebM, Ogg (Theora)
VIDEO_TYPES = frozenset({"video/mp4", "video/webm", "video/ogg"})
#: what a webinar recording may be: a video, or only its sound
RECORDING_TYPES = VIDEO_TYPES | AUDIO_TYPES
#: captions of a recording
CAPTION_TYPES = frozenset({WEBVTT})
#: what a lesson attachment may be
ATTACHMENT_TYPES = DOCUMENT_TYPES | IMAGE_TYPES | AUDIO_TYPES | VIDEO_TYPES

# Each type in words, in the order a refusal lists them, with the extensions its download may
# carry (the first is added to a name that has none of them).
_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    PDF: (_l("PDF"), (".pdf",)),
    DOCX: (_l("Word (.docx)"), (".docx",)),
    XLSX: (_l("Excel (.xlsx)"), (".xlsx",)),
    PPTX: (_l("PowerPoint (.pptx)"), (".pptx",)),
    ODT: (_l("OpenDocument text (.odt)"), (".odt",)),
    ODS: (_l("OpenDocument spreadsheet (.ods)"), (".ods",)),
    ODP: (_l("OpenDocument presentation (.odp)"), (".odp",)),
    TEXT: (_l("plain text (.txt)"), (".txt",)),
    WEBVTT: (_l("WebVTT captions (.vtt)"), (".vtt",)),
    "image/png": (_l("PNG image"), (".png",)),
    "image/jpeg": (_l("JPEG image"), (".jpg", ".jpeg")),
    "image/gif": (_l("GIF image"), (".gif",)),
    "image/webp": (_l("WebP image"), (".webp",)),
    "audio/mpeg": (_l("MP3 audio"), (".mp3",)),
    "audio/wav": (_l("WAV audio"), (".wav",)),
    "audio/mp4": (_l("M4A audio"), (".m4a",)),
    "audio/ogg": (_l("Ogg audio"), (".ogg", ".oga", ".opus")),
    "video/mp4": (_l("MP4 video"), (".mp4", ".m4v")),
    "video/webm": (_l("WebM video"), (".webm",)),
    "video/ogg": (_l("Ogg video"), (".ogv", ".ogg")),
}

# What the filetype library calls the types it recognises, in the names used here.
_FILETYPE_NAMES = {
    "application/pdf": PDF,
    "image/png": "image/png",
    "image/apng": "image/png",  # an animated PNG is a PNG to every browser
    "image/jpeg": "image/jpeg",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "audio/mpeg": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/mp4": "audio/mp4",
    "audio/ogg": "audio/ogg",
    "video/mp4": "video/mp4",
    "video/webm": "video/webm",
}

_OOXML_PARTS = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}
_ODF_TYPES = frozenset({ODT, ODS, ODP})
_ZIP_BASED_TYPES = frozenset(_OOXML_PARTS.values()) | _ODF_TYPES

CHUNK_SIZE = 1024 * 1024
#: how much of a file is read at a time while it is sent
SEND_CHUNK_SIZE = 256 * 1024
#: how much of the start of a file its type is recognised from (filetype reads as much)
_HEAD_SIZE = 8192
#: an entry unpacking to more than this many bytes may not be more than _MAX_RATIO times its
#: packed size; below it, a well-compressed XML part is ordinary
_RATIO_CHECKED_FROM = 1024 * 1024
_MAX_RATIO = 100
#: room per entry in the central directory for a long name and extra fields; bounds what
#: opening an archive parses before its entries can be counted
_DIRECTORY_BYTES_PER_ENTRY = 1024

# Executables, by their first bytes: ELF, Windows PE (MZ), Mach-O (both byte orders, 32 and 64
# bit, and universal), and scripts with an interpreter line.
_EXECUTABLE_STARTS = (
    b"\x7fELF",
    b"MZ",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
# Text in which a browser, an old one included, could find a document or a script.
_MARKUP_IN_TEXT = re.compile(
    r"<\s*(?:!doctype|html|head|body|script|iframe|frame|svg|math|object|embed|\?xml|\?php)",
    re.IGNORECASE,
)
_MARKUP_WINDOW = 1024

_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in [*"0123456789", "¹", "²", "³"]}
)
_NAME_LENGTH = 200
_EXTENSION_LENGTH = 16

# Keys of Session.info that carry files along with the transaction that wrote or deleted them.
_WRITTEN = "learnplatform.storage.written"
_DOOMED = "learnplatform.storage.doomed"


def clean_file_name(name: str) -> str:
    """The name to show and offer on download for a file uploaded as ``name``.

    Only the last path component is kept; control and bidi characters go; Windows device names
    get a prefix; at most 200 characters, keeping the extension; ``"file"`` when nothing is left.
    """
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", name or "")[-1])
    name = without_hidden(name, categories=HIDDEN_CATEGORIES | {"Zl", "Zp"})
    name = _trim(name)
    if len(name) > _NAME_LENGTH:
        stem, extension = os.path.splitext(name)
        if len(extension) > _EXTENSION_LENGTH:
            stem, extension = name, ""
        name = _trim(stem[: _NAME_LENGTH - len(extension)]) + extension
    if name.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        name = f"file-{name}"
    return name or "file"


def _trim(name: str) -> str:
    return re.sub(r"^[\s.]+|[\s.]+$", "", name)


def save_upload(
    stream: IO[bytes],
    original_name: str,
    *,
    allowed: Collection[str],
    max_bytes: int | None = None,
    uploaded_by: "User | None" = None,
) -> StoredFile:
    """Keep the file read from ``stream`` if its content is one of the ``allowed`` media types.

    The stream is copied in chunks, never held in memory, and read no further than one byte past
    ``max_bytes`` (default ``ATTACHMENT_MAX_BYTES``). The row is added and flushed, not committed.
    Raises :class:`StorageRefused`, leaving neither a file nor a row, when the file is too large,
    empty, of a type not allowed, or an unsafe archive.
    """
    limit = current_app.config["ATTACHMENT_MAX_BYTES"] if max_bytes is None else max_bytes
    if limit < 0:
        raise ValueError("max_bytes must not be negative")  # read(-n) would read everything
    root = _storage_root()
    descriptor, temporary_name = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=".part")
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            size, sha256, is_text = copy_limited(stream, out, limit)
        if size == 0:
            raise StorageRefused(_l("The file is empty."))
        content_type = _recognise(temporary, is_text=is_text, allowed=allowed)
        if content_type not in allowed:
            raise StorageRefused(_not_accepted(allowed))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return _keep(
        temporary,
        original_name=_name_for(clean_file_name(original_name), content_type),
        content_type=content_type,
        size=size,
        sha256=sha256,
        uploaded_by=uploaded_by,
    )


def save_generated(chunks: Iterable[bytes], name: str, content_type: str) -> StoredFile:
    """Keep a file the platform makes (an export), written from ``chunks`` as they come, never
    held in memory; it is offered on download as ``name``. As with ``save_upload``, the row is
    added and flushed, not committed, and the file stays only if the transaction commits."""
    descriptor, temporary_name = tempfile.mkstemp(
        dir=_storage_root(), prefix=".generated-", suffix=".part"
    )
    temporary = Path(temporary_name)
    size, sha256 = 0, hashlib.sha256()
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                sha256.update(chunk)
                out.write(chunk)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return _keep(
        temporary,
        original_name=clean_file_name(name),
        content_type=content_type,
        size=size,
        sha256=sha256.hexdigest(),
    )


def save_stream(
    stream: IO[bytes],
    original_name: str,
    *,
    content_type: str,
    max_bytes: int,
    uploaded_by: "User | None" = None,
    flush: bool = True,
) -> StoredFile:
    """Keep the file read from ``stream`` as ``content_type``, a type the caller has established
    (a file unpacked from a checked archive), offered on download as ``original_name``.

    As with ``save_upload``, the stream is copied in chunks and read no further than one byte past
    ``max_bytes``; more raises :class:`StorageRefused`, leaving neither a file nor a row. The row
    is added and flushed (``flush=False``: only added, for a caller keeping many files that
    flushes once), not committed, and the file stays only if the transaction commits.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")  # read(-n) would read everything
    descriptor, temporary_name = tempfile.mkstemp(
        dir=_storage_root(), prefix=".stream-", suffix=".part"
    )
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            size, sha256, _ = copy_limited(stream, out, max_bytes)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return _keep(
        temporary,
        original_name=clean_file_name(original_name),
        content_type=content_type,
        size=size,
        sha256=sha256,
        uploaded_by=uploaded_by,
        flush=flush,
    )


def _keep(
    temporary: Path,
    *,
    original_name: str,
    content_type: str,
    size: int,
    sha256: str,
    uploaded_by: "User | None" = None,
    flush: bool = True,
) -> StoredFile:
    """Move ``temporary``, complete and checked, to a generated name beside it and add its row
    (flushed unless ``flush`` is false); the file leaves again if the transaction does not
    commit."""
    name = secrets.token_hex(16)
    storage_key = f"{name[:2]}/{name}"
    final = temporary.parent / storage_key
    try:
        final.parent.mkdir(exist_ok=True)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    try:
        stored = StoredFile(
            storage_key=storage_key,
            original_name=original_name,
            content_type=content_type,
            size=size,
            sha256=sha256,
            uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
        )
        db.session.info.setdefault(_WRITTEN, []).append(final)
        db.session.add(stored)
        if flush:
            db.session.flush()
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return stored


def path_of(stored: StoredFile) -> Path:
    """Where the content of ``stored`` is; ``ValueError`` for a key that would leave the folder."""
    root = Path(current_app.config["STORAGE_DIR"]).resolve()
    key = stored.storage_key or ""
    if "\x00" in key:
        raise ValueError("storage key holds a NUL character")
    path = (root / key).resolve()
    if path == root or not path.is_relative_to(root):
        raise ValueError("storage key points outside STORAGE_DIR")
    return path


def delete_stored(stored: StoredFile) -> None:
    """Delete the row of ``stored`` (flushed) and its file once the deletion is committed.

    A missing file is fine; if the transaction is rolled back instead, the file stays.
    """
    path = path_of(stored)
    db.session.delete(stored)
    db.session.flush()
    db.session.info.setdefault(_DOOMED, []).append(path)


def send_stored(
    stored: StoredFile,
    *,
    as_attachment: bool = True,
    download_name: str | None = None,
    on_complete: Callable[[], None] | None = None,
) -> Response:
    """Send ``stored`` to a person the calling view has already allowed to have it.

    ``download_name`` (cleaned like an uploaded name) replaces the name it was uploaded with.
    One byte range is answered with 206; several ranges, or one outside the file, with 416.
    The body is read in chunks as it is sent, so memory stays flat whatever the size; with
    ``STORAGE_SENDFILE`` set, the front web server sends the bytes instead (X-Accel-Redirect for
    nginx, X-Sendfile for Apache) and answers the range itself.
    ``on_complete`` is called, outside the request, once the response has sent the file's last
    byte (a whole download, or the range that finishes a resumed one); with the front server
    sending, it is called when such a request is handed over.
    The headers keep the file out of shared caches and stop a browser from sniffing it or
    running script in it, even inline. A file missing from the disk is a 404, logged.
    """
    path = path_of(stored)
    if not path.is_file():
        logger.error("stored file %s is missing from %s", stored.id, path)
        abort(404)
    response = Response(mimetype=stored.content_type)
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cache-Control"] = "private, no-store"
    headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    headers["Accept-Ranges"] = "bytes"
    headers["Content-Disposition"] = _disposition(
        "attachment" if as_attachment else "inline",
        clean_file_name(download_name) if download_name else stored.original_name,
    )
    response.set_etag(stored.sha256)
    response.last_modified = stored.created_at
    if request.if_none_match.contains(stored.sha256):
        response.status_code = 304
        return response
    asked = _requested_range(stored)
    if asked is None:
        response.status_code = 416
        headers["Content-Range"] = f"bytes */{stored.size}"
        return response
    start, end, ranged = asked
    if ranged:
        response.status_code = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{stored.size}"

    sendfile = current_app.config["STORAGE_SENDFILE"]
    if sendfile:
        # The front server reads the Range header itself; the refusals above still stand.
        response.status_code = 200
        headers.pop("Content-Range", None)
        if sendfile == "x-sendfile":
            headers["X-Sendfile"] = str(path)
        else:
            headers["X-Accel-Redirect"] = current_app.config["STORAGE_ACCEL_PREFIX"] + (
                stored.storage_key
            )
        # Counted as the application counts: a request for the file's end, not a probe.
        if on_complete is not None and request.method != "HEAD" and end == stored.size:
            on_complete()
        return response

    response.response = _FileBody(
        path, start, end - start, on_complete if end == stored.size else None
    )
    response.direct_passthrough = True
    response.content_length = end - start
    return response


def row_when_sent(model: type, **values) -> Callable[[], None]:
    """An ``on_complete`` for ``send_stored`` that records a ``model(**values)`` row, such as a
    download. It runs after the response, outside the request, so it opens its own application
    context and transaction."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def record() -> None:
        with app.app_context():
            db.session.add(model(**values))
            db.session.commit()

    return record


class _FileBody:
    """The bytes ``[start, start + length)`` of a file, read a chunk at a time as they are sent.

    ``on_complete`` runs when the server closes the body after every byte went out.
    """

    def __init__(
        self, path: Path, start: int, length: int, on_complete: Callable[[], None] | None
    ) -> None:
        self.file = path.open("rb")
        self.file.seek(start)
        self.remaining = length
        self.on_complete = on_complete

    def __iter__(self) -> Iterator[bytes]:
        while self.remaining > 0:
            chunk = self.file.read(min(SEND_CHUNK_SIZE, self.remaining))
            if not chunk:
                return
            self.remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self.file.close()
        if self.remaining == 0 and self.on_complete is not None:
            callback, self.on_complete = self.on_complete, None
            callback()


def _requested_range(stored: StoredFile) -> tuple[int, int, bool] | None:
    """The ``[start, end)`` bytes asked for and whether a range was asked for (206 even when it
    covers the whole file, as players expect), or ``None`` for 416 (several ranges, or one
    outside the file).

    A Range header that cannot be parsed is ignored, as HTTP says; so is one whose If-Range no
    longer matches the file.
    """
    whole = (0, stored.size, False)
    if "Range" not in request.headers:
        return whole
    if_range = request.if_range
    if if_range.etag is not None and if_range.etag != stored.sha256:
        return whole
    modified = stored.created_at.replace(microsecond=0, tzinfo=UTC)
    if if_range.date is not None and if_range.date != modified:
        return whole
    asked = request.range
    if asked is None or asked.units != "bytes":
        return whole
    found = asked.range_for_length(stored.size) if len(asked.ranges) == 1 else None
    return None if found is None else (*found, True)


def _disposition(kind: str, name: str) -> str:
    """A Content-Disposition header value: the name in ASCII, and in UTF-8 when it needs it."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        # The fallback keeps the extension and never becomes ".mp4" (hidden) or " .mp4": a name
        # in another script has nothing left in ASCII but its extension.
        stem, extension = os.path.splitext(name)
        simple = _trim(re.sub(r"\s+", " ", _in_ascii(stem))) or "file"
        extension = _in_ascii(extension)
        simple += extension if _trim(extension) else ""
        quoted = url_quote(name, safe="!#$&+-.^_`|~")
        return dump_options_header(kind, {"filename": simple, "filename*": f"UTF-8''{quoted}"})
    return dump_options_header(kind, {"filename": name})


def _in_ascii(text: str) -> str:
    """``text`` with accents dropped and whatever has no ASCII form left out."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _storage_root() -> Path:
    root = Path(current_app.config["STORAGE_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def copy_limited(stream: IO[bytes], out: IO[bytes], limit: int) -> tuple[int, str, bool]:
    """Copy ``stream`` into ``out`` a chunk at a time, reading no further than one byte past
    ``limit`` (:class:`StorageRefused` then): the size, the SHA-256 and whether it is all UTF-8
    text."""
    size = 0
    sha256 = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_text = True
    while chunk := stream.read(min(CHUNK_SIZE, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            raise StorageRefused(
                _l(
                    "The file is larger than %(size)s, the most accepted here.",
                    size=size_in_words(limit),
                )
            )
        sha256.update(chunk)
        if is_text:
            is_text = b"\x00" not in chunk and _decodes(decoder, chunk)
        out.write(chunk)
    if is_text:
        is_text = _decodes(decoder, b"", final=True)
    return size, sha256.hexdigest(), is_text


def _decodes(decoder: codecs.IncrementalDecoder, chunk: bytes, *, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def size_in_words(size: int) -> str:
    """``size`` bytes for a person to read: ``"1.5 GB"``, ``"500 MB"``, ``"12 bytes"``."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _not_accepted(allowed: Collection[str]) -> str:
    kinds = ", ".join(str(label) for kind, (label, _) in _KINDS.items() if kind in allowed)
    return _l("This kind of file is not accepted here. Accepted: %(kinds)s.", kinds=kinds)


def _name_for(name: str, content_type: str) -> str:
    """``name`` with an extension matching ``content_type``, so the download opens as what it is.

    A PDF uploaded as ``notes.html`` is offered as ``notes.html.pdf``.
    """
    extensions = _KINDS[content_type][1]
    if name.lower().endswith(extensions):
        return name
    stem = _trim(name[: _NAME_LENGTH - len(extensions[0])]) or "file"
    return stem + extensions[0]


def _recognise(path: Path, *, is_text: bool, allowed: Collection[str]) -> str | None:
    """The media type of the file at ``path`` from its content, or ``None`` for anything else."""
    with path.open("rb") as file:
        head = file.read(_HEAD_SIZE)
        if head.startswith(_EXECUTABLE_STARTS):
            return None
        if head[:4] in {b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"}:
            if not _ZIP_BASED_TYPES & set(allowed):
                return None  # not worth opening an archive nobody asked for
            return _recognise_archive(file)
    kind = filetype.guess(head)
    if kind is not None:
        content_type = _FILETYPE_NAMES.get(kind.mime)
        if content_type == "audio/ogg" and b"\x80theora" in head:
            return "video/ogg"
        return content_type
    if is_text and _is_plain_text(head):
        # A caption file is text that says so on its first line.
        first_line = head.decode("utf-8", errors="ignore").lstrip("\ufeff").split("\n", 1)[0]
        if WEBVTT in allowed and re.fullmatch(r"WEBVTT(?:[ \t].*)?\r?", first_line):
            return WEBVTT
        return TEXT
    return None


def _is_plain_text(head: bytes) -> bool:
    """Whether text that decodes as UTF-8 is prose rather than markup or a script."""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n\f\v")
    if text.startswith(("<", "#!")):
        return False
    return not _MARKUP_IN_TEXT.search(text[:_MARKUP_WINDOW])


@dataclass(frozen=True)
class ArchiveWording:
    """The refusals of :func:`open_checked_archive`, in words for what the archive is."""

    damaged: str
    too_many_entries: Callable[[int], str]
    unsafe_names: str
    encrypted: str
    too_large_unpacked: Callable[[str], str]
    compressed_too_tightly: str


#: an uploaded Word, Excel, PowerPoint or OpenDocument file
DOCUMENT_WORDING = ArchiveWording(
    damaged=_l("The file is damaged or is not a document."),
    too_many_entries=lambda count: _l("The document holds more than %(count)d parts.", count=count),
    unsafe_names=_l("The document holds unsafe file paths or links."),
    encrypted=_l("Encrypted archives are not accepted."),
    too_large_unpacked=lambda size: _l(
        "The document would be larger than %(size)s once unpacked.", size=size
    ),
    compressed_too_tightly=_l("The document holds a part compressed too tightly to be safe."),
)
#: an uploaded e-learning package (SCORM)
PACKAGE_WORDING = ArchiveWording(
    damaged=_l("The file is damaged or is not a zip package."),
    too_many_entries=lambda count: _l("The package holds more than %(count)d files.", count=count),
    unsafe_names=_l("The package holds unsafe file paths or links."),
    encrypted=_l("Encrypted packages are not accepted."),
    too_large_unpacked=lambda size: _l(
        "The package would be larger than %(size)s once unpacked.", size=size
    ),
    compressed_too_tightly=_l("The package holds a file compressed too tightly to be safe."),
)

# The ways zipfile reports a malformed archive; every one of them means "damaged".
_DAMAGED_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    zlib.error,
)


def open_checked_archive(
    file: IO[bytes], *, max_entries: int, max_unpacked_bytes: int, wording: ArchiveWording
) -> zipfile.ZipFile:
    """Open the zip archive in ``file`` once what its directory declares is safe to unpack.

    Refused, with ``wording``'s :class:`StorageRefused`, before any entry is read: a damaged
    archive; more than ``max_entries`` entries (or a central directory too large for them);
    more than ``max_unpacked_bytes`` once unpacked; an entry compressed too tightly; a name that
    is absolute, has a ``..`` segment, a backslash, a drive letter or a NUL, or comes twice; a
    link; encryption. The caller closes the archive, and reads each entry no further than its
    declared size.
    """
    end_record = _zip_end_record(file)
    if end_record is None:
        raise StorageRefused(wording.damaged)
    entries, directory_size = end_record
    if entries > max_entries or directory_size > max_entries * _DIRECTORY_BYTES_PER_ENTRY:
        raise StorageRefused(wording.too_many_entries(max_entries))
    try:
        archive = zipfile.ZipFile(file)
    except _DAMAGED_ARCHIVE_ERRORS as e:
        raise StorageRefused(wording.damaged) from e
    try:
        _check_entries(
            archive.infolist(),
            max_entries=max_entries,
            max_unpacked=max_unpacked_bytes,
            wording=wording,
        )
    except BaseException:
        archive.close()
        raise
    return archive


def _recognise_archive(file: IO[bytes]) -> str:
    """Word, Excel, PowerPoint or OpenDocument, from an archive checked before it is unpacked."""
    with open_checked_archive(
        file,
        max_entries=current_app.config["ZIP_MAX_ENTRIES"],
        max_unpacked_bytes=current_app.config["ZIP_MAX_UNPACKED_BYTES"],
        wording=DOCUMENT_WORDING,
    ) as archive:
        try:
            return _archive_type(archive, {info.filename for info in archive.infolist()})
        except _DAMAGED_ARCHIVE_ERRORS as e:
            raise StorageRefused(DOCUMENT_WORDING.damaged) from e


def _zip_end_record(file: IO[bytes]) -> tuple[int, int] | None:
    """Entries and central directory size from the archive's end record, found as zipfile finds it.

    Opening an archive parses its whole central directory, whatever the entry count says, so its
    size is bounded before :class:`zipfile.ZipFile` is given the file.
    """
    end = struct.Struct("<4s4H2LH")
    locator = struct.Struct("<4sLQL")
    end64 = struct.Struct("<4sQ2H2L4Q")
    file_size = file.seek(0, os.SEEK_END)
    if file_size < end.size:
        return None
    file.seek(file_size - end.size)
    record = file.read(end.size)
    if record[:4] == b"PK\x05\x06" and record[-2:] == b"\x00\x00":
        record_at = file_size - end.size
    else:
        start = max(file_size - (1 << 16) - end.size, 0)
        file.seek(start)
        tail = file.read()
        found = tail.rfind(b"PK\x05\x06")
        if found < 0 or len(tail) - found < end.size:
            return None
        record_at = start + found
        record = tail[found : found + end.size]
    fields = end.unpack(record)
    entries, directory_size = fields[4], fields[5]
    if record_at >= locator.size + end64.size:
        file.seek(record_at - locator.size)
        if locator.unpack(file.read(locator.size))[0] == b"PK\x06\x07":
            file.seek(record_at - locator.size - end64.size)
            fields64 = end64.unpack(file.read(end64.size))
            if fields64[0] == b"PK\x06\x06":
                entries, directory_size = fields64[7], fields64[8]
    return entries, directory_size


def _check_entries(
    infos: list[zipfile.ZipInfo], *, max_entries: int, max_unpacked: int, wording: ArchiveWording
) -> None:
    """Refuse an archive by what its directory declares, before any entry is read."""
    if len(infos) > max_entries:
        raise StorageRefused(wording.too_many_entries(max_entries))
    unpacked = 0
    seen: set[str] = set()
    for info in infos:
        name = info.orig_filename
        if (
            "\x00" in name
            or "\\" in name
            or name.startswith("/")
            or re.match(r"[A-Za-z]:", name)
            or ".." in name.split("/")
            or stat.S_ISLNK(info.external_attr >> 16)
            or name in seen
        ):
            raise StorageRefused(wording.unsafe_names)
        seen.add(name)
        if info.flag_bits & 0x1:
            raise StorageRefused(wording.encrypted)
        unpacked += info.file_size
        if unpacked > max_unpacked:
            raise StorageRefused(wording.too_large_unpacked(size_in_words(max_unpacked)))
        if info.file_size > _RATIO_CHECKED_FROM and info.file_size > _MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise StorageRefused(wording.compressed_too_tightly)


def _archive_type(archive: zipfile.ZipFile, names: set[str]) -> str:
    """The document type an archive whose entries were checked is, from its entries."""
    is_odf = "mimetype" in names
    is_ooxml = "[Content_Types].xml" in names
    if is_odf and not is_ooxml:
        # OpenDocument keeps this entry short and uncompressed: reading it unpacks nothing.
        info = archive.getinfo("mimetype")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size <= 100:
            with archive.open(info) as entry:
                declared = entry.read(100).decode("ascii", errors="replace").strip()
            if declared in _ODF_TYPES:
                return declared
    elif is_ooxml and not is_odf:
        found = {
            kind
            for prefix, kind in _OOXML_PARTS.items()
            if any(n.startswith(prefix) for n in names)
        }
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise StorageRefused(
                _l("Documents with macros are not accepted. Save it without macros and try again.")
            )
        if len(found) == 1:
            return found.pop()
    raise StorageRefused(
        _l("Only Word, Excel, PowerPoint and OpenDocument files are accepted, not other archives.")
    )


def _remove(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.exception("could not remove stored file %s", path)


@event.listens_for(db.session, "after_commit")
def _keep_committed_files(session) -> None:
    """The transaction is committed: its new files stay, the files it deleted go."""
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    session.info.pop(_WRITTEN, None)
    _remove(session.info.pop(_DOOMED, []))


@event.listens_for(db.session, "after_transaction_end")
def _drop_uncommitted_files(session, transaction) -> None:
    """The transaction ended without a commit: the files it wrote go, the files it deleted stay."""
    if transaction.parent is not None:
        return
    _remove(session.info.pop(_WRITTEN, []))
    session.info.pop(_DOOMED, None)
