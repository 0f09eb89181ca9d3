"""SCORM packages kept as lessons, and what learners' attempts at them recorded.

A package is unpacked once at import: each of its files is a ``StoredFile`` under a generated
name, found again by its path inside the package (``ScormFile``). What a learner's runtime
commits is kept as data, one row per attempt and SCO (``ScormTrack``) with one row per
interaction, never as one opaque blob: statistics and exports read the columns.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db

VERSIONS = ("1.2", "2004")


class ScormPackage(db.Model):
    """The SCORM package a lesson plays."""

    __tablename__ = "scorm_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), unique=True
    )
    #: ``1.2`` or ``2004``
    version: Mapped[str] = mapped_column(String(8))
    #: SCORM 2004's edition (``2nd``, ``3rd``, ``4th``), when the manifest says
    edition: Mapped[str | None] = mapped_column(String(8))
    #: the organisation's title in the manifest
    title: Mapped[str] = mapped_column(String(200))
    #: the organisation's items in order, for the table of contents: a JSON list of
    #: ``{"title", "depth", "sco"}`` (``sco`` is a launchable item's identifier, or null)
    outline: Mapped[list] = mapped_column(db.JSON, default=list)
    #: how many attempts a learner may make; 0 means no limit
    max_attempts: Mapped[int] = mapped_column(default=0)
    #: the name of the zip it was imported from, cleaned
    file_name: Mapped[str] = mapped_column(String(255), default="")
    #: bytes unpacked, all files together
    size: Mapped[int] = mapped_column(default=0)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    lesson = relationship("Lesson", back_populates="package")
    scos: Mapped[list["ScormSco"]] = relationship(
        back_populates="package",
        order_by="ScormSco.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ScormSco(db.Model):
    """A launchable item of a package (a SCO, or an asset that reports nothing)."""

    __tablename__ = "scorm_scos"
    __table_args__ = (UniqueConstraint("package_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("scorm_packages.id", ondelete="CASCADE"))
    #: place among the package's launchable items, from 1
    position: Mapped[int]
    #: the item's identifier in the manifest
    identifier: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    #: what to launch, relative to the package's root, with the item's parameters
    href: Mapped[str] = mapped_column(Text)
    #: ``sco`` (talks to the runtime) or ``asset`` (done once opened)
    scorm_type: Mapped[str] = mapped_column(String(8), default="sco")
    #: SCORM 1.2's ``adlcp:masteryscore``, 0-100
    mastery_score: Mapped[float | None]
    #: SCORM 2004's primary objective's minimum normalised measure, -1 to 1
    scaled_passing_score: Mapped[float | None]
    #: SCORM 2004's ``adlcp:completionThreshold``, 0 to 1
    completion_threshold: Mapped[float | None]
    #: ``adlcp:datafromlms``: given to the SCO as ``launch_data``
    launch_data: Mapped[str] = mapped_column(Text, default="")
    #: SCORM's ``max_time_allowed`` and ``time_limit_action`` as the manifest gives them
    max_time_allowed: Mapped[str] = mapped_column(String(40), default="")
    time_limit_action: Mapped[str] = mapped_column(String(40), default="")

    package: Mapped[ScormPackage] = relationship(back_populates="scos")


class ScormFile(db.Model):
    """A file of an unpacked package, found by its path inside the package."""

    __tablename__ = "scorm_files"
    __table_args__ = (UniqueConstraint("package_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("scorm_packages.id", ondelete="CASCADE"))
    #: the path inside the package, with forward slashes, NFC
    path: Mapped[str] = mapped_column(String(1024))
    stored_file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="RESTRICT"), unique=True
    )

    stored_file = relationship("StoredFile", lazy="joined")


class ScormAttempt(db.Model):
    """One learner's attempt at a package: each SCO is tracked within it."""

    __tablename__ = "scorm_attempts"
    __table_args__ = (UniqueConstraint("package_id", "user_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("scorm_packages.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: 1 for the first attempt, and so on
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time every SCO of the package was done (completed or passed)
    completed_at: Mapped[datetime | None]
    #: ``passed`` or ``failed`` once a SCO said so (the package's own judgement); None before
    success: Mapped[str | None] = mapped_column(String(8))
    #: the score, percent: the SCOs' scaled scores (or raw within min and max) averaged
    score_percent: Mapped[int | None]

    package: Mapped[ScormPackage] = relationship()
    tracks: Mapped[list["ScormTrack"]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", passive_deletes=True
    )


class ScormTrack(db.Model):
    """What the runtime committed for one SCO in one attempt.

    ``session`` and ``sequence`` order the commits: a commit is kept only when it comes after the
    one kept (a later launch, or a later commit of the same launch), so that a retried or late
    commit changes nothing.
    """

    __tablename__ = "scorm_tracks"
    __table_args__ = (UniqueConstraint("attempt_id", "sco_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("scorm_attempts.id", ondelete="CASCADE"))
    sco_id: Mapped[int] = mapped_column(ForeignKey("scorm_scos.id", ondelete="CASCADE"), index=True)
    #: launches so far; each launch is a session, numbered from 1
    launches: Mapped[int] = mapped_column(default=0)
    #: the session and sequence number of the commit kept
    session: Mapped[int] = mapped_column(default=0)
    sequence: Mapped[int] = mapped_column(default=0)
    #: SCORM 1.2's ``cmi.core.lesson_status``
    lesson_status: Mapped[str | None] = mapped_column(String(20))
    #: SCORM 2004's ``cmi.completion_status`` and ``cmi.success_status``
    completion_status: Mapped[str | None] = mapped_column(String(20))
    success_status: Mapped[str | None] = mapped_column(String(20))
    score_raw: Mapped[float | None]
    score_min: Mapped[float | None]
    score_max: Mapped[float | None]
    score_scaled: Mapped[float | None]
    #: SCORM 2004's ``cmi.progress_measure``
    progress_measure: Mapped[float | None]
    #: where the learner was (``cmi.location`` / ``cmi.core.lesson_location``)
    location: Mapped[str] = mapped_column(Text, default="")
    suspend_data: Mapped[str] = mapped_column(Text, default="")
    #: how the learner left last (``suspend``, ``logout``, ``normal``, ``time-out``, ...)
    exit: Mapped[str] = mapped_column(String(20), default="")
    #: seconds in sessions before the one kept, and in that one
    earlier_seconds: Mapped[float] = mapped_column(default=0)
    session_seconds: Mapped[float] = mapped_column(default=0)
    #: the rest of the data model the SCO set (comments, objectives, preferences), as JSON
    extra: Mapped[dict] = mapped_column(db.JSON, default=dict)
    first_launched_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    #: UTC time the SCO was first done (completed or passed)
    done_at: Mapped[datetime | None]

    attempt: Mapped[ScormAttempt] = relationship(back_populates="tracks")
    sco: Mapped[ScormSco] = relationship()

    @property
    def total_seconds(self) -> float:
        return self.earlier_seconds + self.session_seconds


class ScormInteraction(db.Model):
    """One interaction (a question answered) a SCO recorded, in one session."""

    __tablename__ = "scorm_interactions"
    __table_args__ = (
        UniqueConstraint("track_id", "session", "position"),
        Index("ix_scorm_interactions_track_id", "track_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("scorm_tracks.id", ondelete="CASCADE"))
    #: the session it was recorded in (SCORM 1.2 numbers interactions from 0 in each session)
    session: Mapped[int]
    #: its index n in ``cmi.interactions.n``
    position: Mapped[int]
    identifier: Mapped[str] = mapped_column(Text, default="")
    #: true-false, choice, fill-in, long-fill-in, matching, performance, sequencing, likert,
    #: numeric or other
    kind: Mapped[str] = mapped_column(String(20), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    learner_response: Mapped[str] = mapped_column(Text, default="")
    correct_responses: Mapped[list] = mapped_column(db.JSON, default=list)
    #: correct, incorrect, wrong (1.2), unanticipated, neutral, or a number
    result: Mapped[str] = mapped_column(String(40), default="")
    weighting: Mapped[float | None]
    latency: Mapped[str] = mapped_column(String(40), default="")
    timestamp: Mapped[str] = mapped_column(String(40), default="")
