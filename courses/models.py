"""Modules of the e-learning catalogue and webinar series with their webinars."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db


class Module(db.Model):
    """A self-paced e-learning module."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: title as shown in the catalogue
    title: Mapped[str] = mapped_column(String(200))
    #: a paragraph saying who the module is for and what it covers, plain text
    summary: Mapped[str] = mapped_column(Text, default="")
    #: a key of ``choices.THEMES``
    theme: Mapped[str] = mapped_column(String(40), index=True)
    #: the language the module is written in, a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8), index=True)
    #: estimated time to complete, in minutes
    estimated_minutes: Mapped[int] = mapped_column(default=60)
    #: only published modules appear in the catalogue
    is_published: Mapped[bool] = mapped_column(default=False, index=True)
    #: open, approval or invitation
    enrolment_mode: Mapped[str] = mapped_column(String(20), default="open")
    #: the trainer who created it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of publication
    published_at: Mapped[datetime | None]

    created_by = relationship("User")


class WebinarSeries(db.Model):
    """A series of webinars on one theme, in one language."""

    __tablename__ = "webinar_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: title of the series
    title: Mapped[str] = mapped_column(String(200))
    #: what the series covers, plain text
    description: Mapped[str] = mapped_column(Text, default="")
    #: a key of ``choices.THEMES``
    theme: Mapped[str] = mapped_column(String(40), index=True)
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8), index=True)
    #: the trainer who created it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    webinars: Mapped[list["Webinar"]] = relationship(
        back_populates="series", order_by="Webinar.starts_at", cascade="all, delete-orphan"
    )


class Webinar(db.Model):
    """One webinar of a series; its recording is attached once it has taken place."""

    __tablename__ = "webinars"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("webinar_series.id", ondelete="CASCADE"), index=True
    )
    #: title of the webinar
    title: Mapped[str] = mapped_column(String(200))
    #: UTC start time
    starts_at: Mapped[datetime]
    #: speakers as shown, plain text
    speakers: Mapped[str] = mapped_column(String(500), default="")
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8))
    #: what the webinar covers, plain text
    description: Mapped[str] = mapped_column(Text, default="")

    series: Mapped[WebinarSeries] = relationship(back_populates="webinars")
