"""Taking in a SCORM package uploaded by a trainer: checked, read, and unpacked into storage.

The zip goes through the platform's archive checks (``learnplatform.storage``) before anything
in it is read; its manifest is read next, and only a package that can be played is unpacked,
each file kept under a generated name. A refused package leaves nothing behind.
"""

import logging
import mimetypes
import posixpath
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l

from courses.scorm.manifest import ManifestError, Package, launch_file, parse_manifest
from learnplatform.extensions import db
from learnplatform.storage import (
    PACKAGE_WORDING,
    StorageRefused,
    StoredFile,
    clean_file_name,
    copy_limited,
    delete_stored,
    open_checked_archive,
    save_stream,
    size_in_words,
)

if TYPE_CHECKING:
    from learnplatform.accounts.models import User

logger = logging.getLogger(__name__)

MANIFEST = "imsmanifest.xml"
#: a manifest larger than this is not read (the largest real ones are a few hundred KB)
MANIFEST_MAX_BYTES = 16 * 1024 * 1024
#: the longest path inside a package that is kept (courses.scorm.models.ScormFile.path)
PATH_MAX_LENGTH = 1024
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")
_AICC_EXTENSIONS = (".crs", ".au", ".des", ".cst")
_XAPI_FILES = frozenset({"tincan.xml", "cmi5.xml"})
# What macOS adds beside a folder it zips; not part of the package.
_MACOS_FOLDER = "__MACOSX"
# How zipfile says that an entry cannot be unpacked (a bad CRC, a lying header, bad data).
_UNREADABLE_ENTRY = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, struct.error)

# What package content is served as; the system's table may lack some or differ between hosts.
CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".xml": "application/xml",
    ".xsd": "application/xml",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".vtt": "text/vtt",
    ".pdf": "application/pdf",
    ".wasm": "application/wasm",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class PackageRefused(StorageRefused):
    """A package was refused; ``str()`` of it tells the trainer what is wrong."""


@dataclass(frozen=True)
class ImportedPackage:
    """A package read and unpacked into storage."""

    manifest: Package
    #: every file of the package by its path inside the package's root (NFC, forward slashes)
    files: dict[str, StoredFile]


def read_package(
    stream: IO[bytes], filename: str, *, uploaded_by: "User | None"
) -> ImportedPackage:
    """Check, read and unpack the SCORM package uploaded as ``filename``.

    The stored files' rows are added and flushed, not committed. :class:`PackageRefused` when the
    package is too large, not a zip, an unsafe archive, AICC or xAPI rather than SCORM, without a
    readable manifest, or missing a launch file; then no file stays and no row is left.
    """
    with tempfile.TemporaryFile(prefix="scorm-") as upload:
        try:
            size = copy_limited(stream, upload, current_app.config["SCORM_MAX_BYTES"])[0]
        except StorageRefused as refusal:
            raise PackageRefused(*refusal.args) from refusal
        if size == 0:
            raise PackageRefused(_l("The file is empty."))
        upload.seek(0)
        if not upload.read(4).startswith(_ZIP_STARTS):
            raise PackageRefused(
                _l(
                    "“%(name)s” is not a zip archive. Upload the SCORM package as your authoring "
                    "tool exported it (a .zip file).",
                    name=clean_file_name(filename),
                )
            )
        try:
            archive = open_checked_archive(
                upload,
                max_entries=current_app.config["SCORM_MAX_ENTRIES"],
                max_unpacked_bytes=current_app.config["SCORM_MAX_UNPACKED_BYTES"],
                wording=PACKAGE_WORDING,
            )
        except StorageRefused as refusal:
            raise PackageRefused(refusal.args[0]) from refusal
        with archive:
            try:
                imported = _read(archive, uploaded_by)
            except _UNREADABLE_ENTRY as e:
                raise PackageRefused(PACKAGE_WORDING.damaged) from e
    logger.info(
        "SCORM %s package %r read: %d files",
        imported.manifest.version,
        clean_file_name(filename),
        len(imported.files),
    )
    return imported


def content_type_of(path: str) -> str:
    """The media type a file of a package is served as, from its extension."""
    extension = posixpath.splitext(path)[1].lower()
    return (
        CONTENT_TYPES.get(extension)
        or mimetypes.guess_type(f"file{extension}", strict=True)[0]
        or DEFAULT_CONTENT_TYPE
    )


def _read(archive: zipfile.ZipFile, uploaded_by: "User | None") -> ImportedPackage:
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        path = unicodedata.normalize("NFC", info.filename)
        path = "/".join(segment for segment in path.split("/") if segment not in {"", "."})
        if not path or path in entries or len(path) > PATH_MAX_LENGTH:
            # Two names that differ only in Unicode normalisation would be one file once served.
            raise PackageRefused(PACKAGE_WORDING.unsafe_names)
        entries[path] = info
    root = _package_root(entries)
    manifest = _manifest(archive, entries[root + _manifest_name(entries, root)])
    files = {
        path.removeprefix(root): info for path, info in entries.items() if path.startswith(root)
    }
    for sco in manifest.scos:
        file = unicodedata.normalize("NFC", launch_file(sco.href))
        if file not in files:
            raise PackageRefused(
                _l(
                    "The launch file %(file)s of “%(title)s” is not in the package.",
                    file=file,
                    title=sco.title,
                )
            )
    return ImportedPackage(manifest=manifest, files=_unpack(archive, files, uploaded_by))


def _manifest_name(entries: dict[str, zipfile.ZipInfo], root: str) -> str:
    """The manifest's name in the folder ``root``, in whatever letter case the tool wrote it."""
    for path in entries:
        if path.startswith(root) and path[len(root) :].lower() == MANIFEST:
            return path[len(root) :]
    return MANIFEST


def _package_root(entries: dict[str, zipfile.ZipInfo]) -> str:
    """``""`` when the manifest is at the top, or the single top-level folder holding it and
    everything else (a package zipped with its folder); refusals name what was found instead."""
    names = {path.lower() for path in entries}
    if MANIFEST in names:
        return ""
    inside = [path for path in entries if path.split("/", 1)[0] != _MACOS_FOLDER]
    tops = {path.split("/", 1)[0] for path in inside}
    if len(tops) == 1 and all("/" in path for path in inside):
        folder = tops.pop() + "/"
        if f"{folder.lower()}{MANIFEST}" in names:
            return folder
    base_names = {posixpath.basename(name) for name in names}
    if any(name.endswith(_AICC_EXTENSIONS) for name in base_names):
        raise PackageRefused(
            _l("AICC packages are not supported; export the course as SCORM 1.2 or 2004.")
        )
    if base_names & _XAPI_FILES:
        raise PackageRefused(
            _l(
                "xAPI (Tin Can) and cmi5 packages are not supported; export the course as "
                "SCORM 1.2 or 2004."
            )
        )
    raise PackageRefused(
        _l(
            "The package has no imsmanifest.xml at its top level, so it is not a SCORM package. "
            "Export the course as SCORM 1.2 or 2004 and upload the zip file as exported."
        )
    )


def _manifest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Package:
    if info.file_size > MANIFEST_MAX_BYTES:
        raise PackageRefused(
            _l(
                "The package's imsmanifest.xml is larger than %(size)s.",
                size=size_in_words(MANIFEST_MAX_BYTES),
            )
        )
    with archive.open(info) as entry:
        data = entry.read(info.file_size + 1)
    try:
        return parse_manifest(data)
    except ManifestError as error:
        raise PackageRefused(error.args[0]) from error


def _unpack(
    archive: zipfile.ZipFile, files: dict[str, zipfile.ZipInfo], uploaded_by: "User | None"
) -> dict[str, StoredFile]:
    """Keep every file through storage; on a refusal, the files kept so far go again."""
    kept: dict[str, StoredFile] = {}
    try:
        for path, info in files.items():
            with archive.open(info) as entry:
                try:
                    kept[path] = save_stream(
                        entry,
                        path,
                        content_type=content_type_of(path),
                        max_bytes=info.file_size,
                        uploaded_by=uploaded_by,
                        flush=False,  # one flush for all: thousands of files, few statements
                    )
                except StorageRefused as e:
                    # zipfile stops at the declared size itself; this is the second line.
                    raise PackageRefused(
                        _l(
                            "The package is damaged: %(file)s is larger than the archive says.",
                            file=path,
                        )
                    ) from e
        db.session.flush()
    except (PackageRefused, *_UNREADABLE_ENTRY):
        # Whatever the caller then does with its transaction, nothing of the package stays.
        db.session.flush()
        for stored in kept.values():
            delete_stored(stored)
        raise
    return kept
