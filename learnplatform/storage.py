"""One place where uploaded files are kept: lesson attachments, recordings, room resources.

Files live under ``STORAGE_DIR`` (outside ``static/``) with generated names; what was uploaded is
recognised from its content, never from its name; they are served only through views that check
access first.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from learnplatform.audit import utcnow
from learnplatform.extensions import db


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
