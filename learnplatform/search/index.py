"""Keeping the search index: the documents made from modules, lessons, webinar series, webinars,
library resources and forum posts, written again whenever those change.

Any transaction that inserts, changes or deletes one of them (through the ORM) has the
documents concerned written again, from what the database holds, just before it commits
(``_reindex_before_commit``): the index changes with the data or not at all, and no service has
to remember to call it. A hidden or deleted post, or a post of a hidden or deleted topic, has no
document. Deleting a module, series, room or forum deletes its documents (foreign keys).

The text of an uploaded PDF, Word document, text file or captions file is read once, by a
background job queued when the upload commits (``read_file_text``), kept in ``FileText``, and
the resource or webinar written again with it. ``rebuild`` writes the whole index again
(``flask search reindex``).
"""

import io
import logging
import re
from collections.abc import Iterable, Iterator

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from courses.models import Caption, Lesson, Module, Webinar, WebinarSeries
from irooms.models import Resource, ResourceVersion, Room
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from learnplatform.jobs import job
from learnplatform.richtext import plain_text
from learnplatform.search import fold
from learnplatform.search.models import FileText, SearchDocument
from learnplatform.storage import DOCX, PDF, TEXT, WEBVTT, StoredFile, path_of

log = logging.getLogger(__name__)

#: characters of text kept for one document or one file: enough for a long report
MAX_TEXT = 200_000
#: objects written in one go by ``rebuild``
BATCH = 500
_PENDING = "learnplatform.search.pending"


# Reading files.
def read_text(stored: StoredFile) -> str:
    """The plain text of a stored PDF, Word document, text file or WebVTT captions; ``""`` for
    other files and for files that cannot be read."""
    reader = _READERS.get(stored.content_type)
    if reader is None:
        return ""
    try:
        with open(path_of(stored), "rb") as file:
            text = reader(file)
    except Exception as error:  # a damaged or encrypted file: found by its title only
        log.warning("could not read the text of stored file %s: %s", stored.id, error)
        return ""
    return " ".join(text.split())[:MAX_TEXT]


def _pdf_text(file) -> str:
    from pypdf import PdfReader

    parts, size = [], 0
    for page in PdfReader(file).pages:
        part = page.extract_text() or ""
        parts.append(part)
        size += len(part)
        if size > MAX_TEXT:
            break
    return "\n".join(parts)


def _docx_text(file) -> str:
    from docx import Document

    document = Document(io.BytesIO(file.read()))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _plain_text(file) -> str:
    return file.read(MAX_TEXT * 4).decode("utf-8", errors="replace")


_CUE_TIMING = re.compile(r"^\s*(\d{2}:)?\d{2}:\d{2}\.\d{3}\s+-->")
_CUE_TAG = re.compile(r"<[^>]*>")


def captions_text(source: str) -> str:
    """The words spoken in WebVTT captions: without the header, notes, cue names, timings and
    voice or style tags."""
    words = []
    for block in re.split(r"\n\s*\n", source.replace("\r\n", "\n").replace("\r", "\n")):
        lines = block.strip("\ufeff").strip().split("\n")
        first = lines[0].strip() if lines else ""
        if first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        timing = next((i for i, line in enumerate(lines) if _CUE_TIMING.match(line)), None)
        if timing is None:
            continue
        for line in lines[timing + 1 :]:
            words.append(_CUE_TAG.sub("", line).replace("&amp;", "&").replace("&lt;", "<"))
    return "\n".join(words)


def _captions_text(file) -> str:
    return captions_text(file.read(MAX_TEXT * 4).decode("utf-8", errors="replace"))


_READERS = {PDF: _pdf_text, DOCX: _docx_text, TEXT: _plain_text, WEBVTT: _captions_text}


@job()
def read_file_text(stored_file_id: int) -> None:
    """Read the text of a file once, keep it, and write again the resources and webinars that
    hold the file. Run by the worker after the upload commits."""
    stored = db.session.get(StoredFile, stored_file_id)
    if stored is None or db.session.get(FileText, stored_file_id) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(FileText(stored_file_id=stored.id, text=read_text(stored)))
    except IntegrityError:  # read by a twin of this job
        return
    resources = select(ResourceVersion.resource_id).where(
        ResourceVersion.stored_file_id == stored.id
    )
    webinars = select(Caption.webinar_id).where(Caption.stored_file_id == stored.id)
    write("resource", db.session.scalars(resources).all())
    write("webinar", db.session.scalars(webinars).all())
    db.session.commit()


# Documents.
def _document(kind: str, object_id: int, title: str, body: str, **place) -> dict:
    body = body[:MAX_TEXT]
    return {
        "kind": kind,
        "object_id": object_id,
        "module_id": place.get("module_id"),
        "series_id": place.get("series_id"),
        "room_id": place.get("room_id"),
        "forum_id": place.get("forum_id"),
        "language": place.get("language") or "",
        "title": title[:300],
        "body": body,
        "folded_title": place.get("folded_title", fold(title)),
        "folded_body": fold(body),
        "link": place.get("link") or {},
        "indexed_at": utcnow(),
    }


def _joined(*parts: str | None) -> str:
    return "\n".join(part for part in parts if part)


def _file_texts(stored_file_ids: Iterable[int]) -> dict[int, str]:
    ids = [file_id for file_id in stored_file_ids if file_id is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(FileText.stored_file_id, FileText.text).where(FileText.stored_file_id.in_(ids))
    )
    return dict(rows.all())


def _modules(ids: list[int]) -> Iterator[dict]:
    for module in db.session.scalars(select(Module).where(Module.id.in_(ids))):
        yield _own("module", module, module.summary, module_id=module.id)


def _own(kind: str, owner, text: str, **place) -> dict:
    """The document of a module or a series: the place others are part of."""
    return _document(kind, owner.id, owner.title, text, language=owner.language, **place)


def _lessons(ids: list[int]) -> Iterator[dict]:
    rows = db.session.execute(
        select(Lesson, Module.language).join(Lesson.module).where(Lesson.id.in_(ids))
    )
    for lesson, language in rows:
        yield _document(
            "lesson",
            lesson.id,
            lesson.title,
            plain_text(lesson.body_html),
            module_id=lesson.module_id,
            language=language,
        )


def _series(ids: list[int]) -> Iterator[dict]:
    for series in db.session.scalars(select(WebinarSeries).where(WebinarSeries.id.in_(ids))):
        yield _own("series", series, series.description, series_id=series.id)


def _webinars(ids: list[int]) -> Iterator[dict]:
    webinars = db.session.scalars(
        select(Webinar).where(Webinar.id.in_(ids)).options(selectinload(Webinar.captions))
    ).all()
    texts = _file_texts(c.stored_file_id for w in webinars for c in w.captions)
    for webinar in webinars:
        captions = (texts.get(caption.stored_file_id) for caption in webinar.captions)
        yield _document(
            "webinar",
            webinar.id,
            webinar.title,
            _joined(webinar.description, webinar.speakers, *captions),
            series_id=webinar.series_id,
            language=webinar.language,
        )


def _resources(ids: list[int]) -> Iterator[dict]:
    resources = db.session.scalars(
        select(Resource).where(Resource.id.in_(ids)).options(selectinload(Resource.versions))
    ).all()
    texts = _file_texts(r.versions[0].stored_file_id for r in resources if r.versions)
    for resource in resources:
        newest = resource.versions[0].stored_file_id if resource.versions else None
        yield _document(
            "resource",
            resource.id,
            resource.title,
            _joined(resource.description, resource.tags.replace(",", ", "), texts.get(newest)),
            room_id=resource.room_id,
            language=resource.language,
        )


def _posts(ids: list[int]) -> Iterator[dict]:
    rows = db.session.execute(
        select(Post, Topic, Forum, Room.language, Module.language)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Forum, Forum.id == Post.forum_id)
        .outerjoin(Room, Room.id == Forum.room_id)
        .outerjoin(Module, Module.id == Forum.module_id)
        .where(
            Post.id.in_(ids),
            Post.hidden_at.is_(None),
            Post.deleted_at.is_(None),
            Topic.hidden_at.is_(None),
            Topic.deleted_at.is_(None),
        )
    )
    for post, topic, forum, room_language, module_language in rows:
        yield _document(
            "post",
            post.id,
            topic.title,
            plain_text(post.body_html),
            room_id=forum.room_id,
            module_id=forum.module_id,
            forum_id=forum.id,
            language=room_language or module_language,
            # a reply is found by its own words; the topic's title belongs to its opening post
            folded_title=fold(topic.title) if post.seq == 1 else "",
            link={"topic_id": topic.id, "seq": post.seq},
        )


#: how the documents of each kind are made from the ids of what they are made of
_MAKERS = {
    "module": _modules,
    "lesson": _lessons,
    "series": _series,
    "webinar": _webinars,
    "resource": _resources,
    "post": _posts,
}
#: what every object of each kind is, for ``rebuild``
_SOURCES = {
    "module": Module.id,
    "lesson": Lesson.id,
    "series": WebinarSeries.id,
    "webinar": Webinar.id,
    "resource": Resource.id,
    "post": Post.id,
}


def write(kind: str, ids: Iterable[int]) -> None:
    """Write again the documents of ``kind`` made from ``ids``: those that no longer exist (or
    may no longer be found, as a hidden post) lose theirs."""
    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = list(_MAKERS[kind](chunk))
        db.session.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == kind, SearchDocument.object_id.in_(chunk)
            )
        )
        if rows:
            db.session.execute(insert(SearchDocument), rows)


def read_missing_texts() -> int:
    """Read now the text of every library file and captions file not read yet (their jobs lost,
    or uploaded before the index existed); returns how many were read."""
    held = select(ResourceVersion.stored_file_id).union(select(Caption.stored_file_id))
    missing = db.session.scalars(
        select(StoredFile).where(
            StoredFile.id.in_(held),
            ~StoredFile.id.in_(select(FileText.stored_file_id)),
        )
    ).all()
    for stored in missing:
        db.session.add(FileText(stored_file_id=stored.id, text=read_text(stored)))
    db.session.flush()
    return len(missing)


def rebuild() -> int:
    """Write the whole index again from the database, reading first the files whose text was
    not read yet; returns how many documents it holds."""
    read_missing_texts()
    db.session.execute(delete(SearchDocument))
    for kind, column in _SOURCES.items():
        write(kind, db.session.scalars(select(column)).all())
    db.session.flush()
    return db.session.scalar(select(db.func.count()).select_from(SearchDocument))


# Keeping up with changes.
def _topic_changed(topic: Topic) -> bool:
    state = inspect(topic)
    return any(
        state.attrs[name].history.has_changes()
        for name in ("title", "hidden_at", "deleted_at", "forum_id")
    )


def _touched(obj, new: bool) -> Iterator[tuple[str, int]]:
    """The documents to write again because ``obj`` was inserted, changed or deleted."""
    if isinstance(obj, Module):
        yield "module", obj.id
    elif isinstance(obj, Lesson):
        yield "lesson", obj.id
    elif isinstance(obj, WebinarSeries):
        yield "series", obj.id
    elif isinstance(obj, Webinar):
        yield "webinar", obj.id
    elif isinstance(obj, Caption):
        yield "webinar", obj.webinar_id
        yield "file", obj.stored_file_id
    elif isinstance(obj, Resource):
        yield "resource", obj.id
    elif isinstance(obj, ResourceVersion):
        yield "resource", obj.resource_id
        yield "file", obj.stored_file_id
    elif isinstance(obj, Post):
        yield "post", obj.id
    elif isinstance(obj, Topic) and not new and _topic_changed(obj):
        yield "topic", obj.id


@event.listens_for(Session, "after_flush")
def _remember_changes(session: Session, _context) -> None:
    pending = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        pending.update(_touched(obj, new=True))
    for obj in (*session.dirty, *session.deleted):
        if session.is_modified(obj) or obj in session.deleted:
            pending.update(_touched(obj, new=False))


@event.listens_for(Session, "before_commit")
def _reindex_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    while pending := session.info.pop(_PENDING, None):
        by_kind: dict[str, set[int]] = {}
        for kind, object_id in pending:
            if object_id is not None:
                by_kind.setdefault(kind, set()).add(object_id)
        if topics := by_kind.pop("topic", None):
            posts = session.scalars(select(Post.id).where(Post.topic_id.in_(topics))).all()
            by_kind.setdefault("post", set()).update(posts)
        for stored_file_id in sorted(by_kind.pop("file", ())):
            read_file_text.schedule(stored_file_id)
        for kind, ids in by_kind.items():
            write(kind, ids)
        session.flush()


@event.listens_for(Session, "after_transaction_end")
def _forget_changes(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# Command line.
search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
def reindex_command() -> None:
    """Write the whole search index again from the database."""
    count = rebuild()
    db.session.commit()
    click.echo(f"{count} documents indexed.")


def init_app(app: Flask) -> None:
    app.cli.add_command(search_cli)
