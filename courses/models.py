"""Modules of the e-learning catalogue and webinar series with their webinars."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.search import fold


class Module(db.Model):
    """A self-paced e-learning module."""

    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("family_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: title as shown in the catalogue
    title: Mapped[str] = mapped_column(String(200))
    #: a paragraph saying who the module is for and what it covers, plain text
    summary: Mapped[str] = mapped_column(Text, default="")
    #: a key of ``choices.THEMES``
    theme: Mapped[str] = mapped_column(String(40), index=True)
    #: the language the module is written in, a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8), index=True)
    #: shared by a module and its versions in other languages (see ``courses.versions``);
    #: ``None`` while the module has no other version
    family_id: Mapped[int | None]
    #: estimated time to complete, in minutes
    estimated_minutes: Mapped[int] = mapped_column(default=60)
    #: only published modules appear in the catalogue
    is_published: Mapped[bool] = mapped_column(default=False, index=True)
    #: whether visitors who are not logged in see the module (once published) in the public
    #: catalogue; set by its trainer
    is_public: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    #: the title and summary folded for searching (``learnplatform.search.fold``), kept by
    #: ``_fold_for_search`` whenever either changes
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: open, approval or invitation
    enrolment_mode: Mapped[str] = mapped_column(String(20), default="open")
    #: the trainer who created it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of publication
    published_at: Mapped[datetime | None]

    #: how many lessons the module has, kept up to date by the authoring services so that the
    #: catalogue and progress need no count per page
    lesson_count: Mapped[int] = mapped_column(default=0, server_default="0")

    created_by = relationship("User")
    lessons: Mapped[list["Lesson"]] = relationship(
        back_populates="module",
        order_by="(Lesson.position, Lesson.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    quizzes: Mapped[list["Quiz"]] = relationship(
        back_populates="module", cascade="all, delete-orphan", passive_deletes=True
    )


@event.listens_for(Module, "before_insert")
@event.listens_for(Module, "before_update")
def _fold_for_search(_mapper, _connection, module: Module) -> None:
    """Keep the module's ``search_text`` in step with its title and summary, however it is saved
    (authoring, demo content, tests)."""
    module.search_text = fold(f"{module.title or ''} {module.summary or ''}")


ENROLMENT_MODES = ("open", "approval", "invitation")


class Lesson(db.Model):
    """One lesson of a module: a page of sanitised rich text, with attachments."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    #: place in the module, from 1
    position: Mapped[int]
    #: title shown in the syllabus
    title: Mapped[str] = mapped_column(String(200))
    #: ``page`` (rich text) or ``scorm`` (a SCORM package, ``courses.scorm``)
    kind: Mapped[str] = mapped_column(String(10), default="page", server_default="page")
    #: body as HTML, cleaned by ``learnplatform.richtext.clean_html`` when saved; for a SCORM
    #: lesson, an introduction shown above the package
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of the last edit
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    module: Mapped[Module] = relationship(back_populates="lessons")
    attachments: Mapped[list["LessonAttachment"]] = relationship(
        back_populates="lesson",
        order_by="LessonAttachment.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    package = relationship(
        "ScormPackage",
        back_populates="lesson",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class LessonAttachment(db.Model):
    """A file that goes with a lesson, kept by ``learnplatform.storage``."""

    __tablename__ = "lesson_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    stored_file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="RESTRICT"), unique=True
    )
    #: UTC time of upload
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lesson: Mapped[Lesson] = relationship(back_populates="attachments")
    stored_file = relationship("StoredFile", lazy="joined")


QUIZ_KINDS = ("pre_test", "post_test")
QUESTION_KINDS = ("single", "multiple", "true_false")


class Quiz(db.Model):
    """A module's pre-test (what learners knew; never required) or post-test (required)."""

    __tablename__ = "quizzes"
    __table_args__ = (UniqueConstraint("module_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    #: ``pre_test`` or ``post_test``
    kind: Mapped[str] = mapped_column(String(20))
    #: title shown to learners
    title: Mapped[str] = mapped_column(String(200))
    #: percentage of the points needed to pass
    pass_mark: Mapped[int] = mapped_column(default=70)
    #: how many attempts a learner has; 0 means no limit
    max_attempts: Mapped[int] = mapped_column(default=3)
    #: whether each attempt shows the questions and options in its own random order
    shuffle: Mapped[bool] = mapped_column(default=False)

    module: Mapped[Module] = relationship(back_populates="quizzes")
    questions: Mapped[list["Question"]] = relationship(
        back_populates="quiz",
        order_by="(Question.position, Question.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Question(db.Model):
    """A question of a quiz with its options; which options are correct never leaves the server
    before an attempt is submitted."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    #: place in the quiz, from 1
    position: Mapped[int]
    #: ``single``, ``multiple`` or ``true_false``
    kind: Mapped[str] = mapped_column(String(20))
    #: the question, plain text
    text: Mapped[str] = mapped_column(Text)
    #: points for a fully correct answer
    points: Mapped[int] = mapped_column(default=1)
    #: explanation shown after submission, plain text
    feedback: Mapped[str] = mapped_column(Text, default="")

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    options: Mapped[list["Option"]] = relationship(
        back_populates="question",
        order_by="(Option.position, Option.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Option(db.Model):
    """One possible answer to a question."""

    __tablename__ = "question_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    #: place in the question, from 1
    position: Mapped[int]
    #: the answer, plain text
    text: Mapped[str] = mapped_column(String(500))
    #: whether choosing it is right
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="options")


ENROLMENT_STATES = ("requested", "active", "refused")


class Enrolment(db.Model):
    """One person's enrolment in one module, with their stored progress.

    Progress is written when it changes (a lesson done, a test passed), never computed for a page.
    """

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("module_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ``requested`` (waiting for a trainer), ``active`` or ``refused``
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    #: UTC time of the request or of the enrolment
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time the enrolment became active
    enrolled_at: Mapped[datetime | None]
    #: who accepted, refused or invited, when a trainer did
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: lessons done
    lessons_done: Mapped[int] = mapped_column(default=0)
    #: lessons done as a percentage of the module's lessons
    progress_percent: Mapped[int] = mapped_column(default=0)
    #: the lesson opened last, to resume from
    last_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL")
    )
    #: UTC time the first lesson was opened
    started_at: Mapped[datetime | None]
    #: UTC time of the last progress
    last_activity_at: Mapped[datetime | None]
    #: best pre-test score, percent
    pre_test_percent: Mapped[int | None]
    #: best post-test score, percent
    post_test_percent: Mapped[int | None]
    #: UTC time of completion; set once and kept whatever happens to the module later
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    #: post-test score at completion, percent (None when the module had no post-test)
    completion_percent: Mapped[int | None]

    module: Mapped[Module] = relationship()
    user = relationship("User", foreign_keys=[user_id])
    last_lesson: Mapped[Lesson | None] = relationship()


class LessonProgress(db.Model):
    """A lesson a learner has done."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    #: UTC time it was done
    done_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(db.Model):
    """One attempt at a quiz. Submitted once; never changed after."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: 1 for the first attempt, and so on
    number: Mapped[int]
    #: question ids in the order this attempt shows them, comma-separated
    question_order: Mapped[str] = mapped_column(Text, default="")
    #: UTC time the attempt was started
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of submission; ``None`` while open
    submitted_at: Mapped[datetime | None]
    #: points scored
    points: Mapped[int | None]
    #: points possible
    max_points: Mapped[int | None]
    #: score in percent
    percent: Mapped[int | None]
    #: whether the score reached the pass mark
    passed: Mapped[bool | None]

    quiz: Mapped[Quiz] = relationship()
    answers: Mapped[list["AttemptAnswer"]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", passive_deletes=True
    )


class AttemptAnswer(db.Model):
    """An option chosen in a submitted attempt."""

    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("question_options.id", ondelete="CASCADE"))

    attempt: Mapped[QuizAttempt] = relationship(back_populates="answers")


class Certificate(db.Model):
    """The certificate of a completed module. Its wording is copied at issue so that later edits
    of the module or the profile do not change what was certified."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: random verification code, printed on the certificate
    code: Mapped[str] = mapped_column(String(32), unique=True)
    #: the learner's name at issue
    learner_name: Mapped[str] = mapped_column(String(120))
    #: the module's title at issue
    module_title: Mapped[str] = mapped_column(String(200))
    #: post-test score, percent, when there was one
    score_percent: Mapped[int | None]
    #: UTC time of completion
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the learner's interface language at issue: the language its documents are first made in
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    #: its place in the platform's credential status list (revocation), given at issue
    status_index: Mapped[int | None] = mapped_column(unique=True)
    #: UTC time it was revoked, why and by whom (a trainer of the module or an administrator)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    enrolment: Mapped[Enrolment] = relationship()
    documents: Mapped[list["CertificateDocument"]] = relationship(
        back_populates="certificate", cascade="all, delete-orphan", passive_deletes=True
    )


class CertificateDocument(db.Model):
    """A certificate rendered as a PDF in one language, made once and kept by
    ``learnplatform.storage``; made again when the template it came from changes."""

    __tablename__ = "certificate_documents"
    __table_args__ = (UniqueConstraint("certificate_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"))
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8))
    stored_file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="RESTRICT"), unique=True
    )
    #: a digest of the template and fonts it was made with
    template_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="documents")
    stored_file = relationship("StoredFile", lazy="joined")


class WebinarSeries(db.Model):
    """A series of webinars on one theme, in one language."""

    __tablename__ = "webinar_series"
    __table_args__ = (UniqueConstraint("family_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: title of the series
    title: Mapped[str] = mapped_column(String(200))
    #: what the series covers, plain text
    description: Mapped[str] = mapped_column(Text, default="")
    #: a key of ``choices.THEMES``
    theme: Mapped[str] = mapped_column(String(40), index=True)
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8), index=True)
    #: shared by a series and its versions in other languages (see ``courses.versions``);
    #: ``None`` while the series has no other version
    family_id: Mapped[int | None]
    #: whether visitors who are not logged in see the series and its webinars; a series tied to
    #: iRooms is never shown to them, whatever this says
    is_public: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    #: the trainer who created it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: UTC time of creation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    webinars: Mapped[list["Webinar"]] = relationship(
        back_populates="series", order_by="Webinar.starts_at", cascade="all, delete-orphan"
    )
    #: when not empty, only members of these iRooms (and the series' trainers) see the series
    rooms = relationship("Room", secondary="webinar_series_rooms", order_by="Room.name")


#: iRooms whose members may see a restricted webinar series
series_rooms = db.Table(
    "webinar_series_rooms",
    db.Column("series_id", ForeignKey("webinar_series.id", ondelete="CASCADE"), primary_key=True),
    db.Column("room_id", ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True, index=True),
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

    #: the recording, a video or audio file, once the webinar has taken place
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    #: the slides, a PDF
    slides_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_files.id", ondelete="SET NULL")
    )

    series: Mapped[WebinarSeries] = relationship(back_populates="webinars")
    recording = relationship("StoredFile", foreign_keys=[recording_id])
    slides = relationship("StoredFile", foreign_keys=[slides_id])
    captions: Mapped[list["Caption"]] = relationship(
        back_populates="webinar", order_by="Caption.language", cascade="all, delete-orphan"
    )


class Caption(db.Model):
    """Captions of a webinar's recording in one language, as WebVTT."""

    __tablename__ = "webinar_captions"
    __table_args__ = (UniqueConstraint("webinar_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinars.id", ondelete="CASCADE"))
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"))

    webinar: Mapped[Webinar] = relationship(back_populates="captions")
    stored_file = relationship("StoredFile")


class RecordingEvent(db.Model):
    """One view or one download of a webinar's recording (or its slides): who, what and when.

    Kept one row per event, never as totals, so that figures can be sliced by any period later.
    """

    __tablename__ = "recording_events"
    __table_args__ = (db.Index("ix_recording_events_webinar_kind_at", "webinar_id", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webinar_id: Mapped[int] = mapped_column(ForeignKey("webinars.id", ondelete="CASCADE"))
    #: ``view`` (a playback started), ``download`` (the recording) or ``slides`` (downloaded)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: the file viewed or downloaded, while it is kept
    stored_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    #: UTC time of the event
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ViewMark(db.Model):
    """When a person's last counted view of a webinar was: a new view counts only after the
    window has passed. Updated with a conditional UPDATE, so that two requests at once count one.
    """

    __tablename__ = "recording_view_marks"

    webinar_id: Mapped[int] = mapped_column(
        ForeignKey("webinars.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    counted_at: Mapped[datetime]


# SCORM packages are lessons too; their models live beside their code.
from courses.scorm import models as _scorm_models  # noqa: E402,F401
