"""The search index: one row per thing that can be found, and the text read from uploaded files.

A document is written by ``learnplatform.search.index`` whenever what it is made from changes;
it is never edited by hand. Its place (``module_id``, ``series_id``, ``room_id``, ``forum_id``)
says who may find it (``learnplatform.search.engine.visible_to``); deleting the module, series,
room or forum deletes its documents with it.

On SQLite the folded columns are also kept in an FTS5 table (``search_fts``, trigram
tokenizer) by triggers; on PostgreSQL they carry GIN trigram indexes (``pg_trgm``). Both are made
by the migration.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learnplatform.audit import utcnow
from learnplatform.extensions import db

#: what a document can be, in the order a results page groups them
KINDS = ("module", "lesson", "series", "webinar", "resource", "post")


class SearchDocument(db.Model):
    """One module, lesson, webinar series, webinar, library resource or forum post, as searched."""

    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: one of ``KINDS``
    kind: Mapped[str] = mapped_column(String(12))
    #: the id of the module, lesson, series, webinar, resource or post
    object_id: Mapped[int]
    #: the module it is part of (a module, its lessons, its forum's posts)
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("modules.id", ondelete="CASCADE"), index=True
    )
    #: the webinar series it is part of
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("webinar_series.id", ondelete="CASCADE"), index=True
    )
    #: the iRoom it is part of (a library resource, a post of the room's forum)
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), index=True
    )
    #: the forum of a post
    forum_id: Mapped[int | None] = mapped_column(
        ForeignKey("forums.id", ondelete="CASCADE"), index=True
    )
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8), default="")
    #: the title as written, shown in the results
    title: Mapped[str] = mapped_column(String(300))
    #: the text as written, plain, cut at ``index.MAX_TEXT``: snippets are taken from it
    body: Mapped[str] = mapped_column(Text, default="")
    #: ``fold(title)`` and ``fold(body)``: what the words searched for are compared with
    folded_title: Mapped[str] = mapped_column(Text, default="")
    folded_body: Mapped[str] = mapped_column(Text, default="")
    #: what the document's address needs beyond its ids (a post's topic and number)
    link: Mapped[dict] = mapped_column(JSON, default=dict)
    #: UTC time it was last written
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileText(db.Model):
    """The text read once from an uploaded file (a PDF, a Word document, captions); empty when
    the file holds none that could be read."""

    __tablename__ = "search_file_texts"

    stored_file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True
    )
    #: plain text, cut at ``index.MAX_TEXT``
    text: Mapped[str] = mapped_column(Text, default="")
    #: UTC time it was read
    extracted_at: Mapped[datetime] = mapped_column(default=utcnow)
