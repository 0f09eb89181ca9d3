"""Videos in lessons: uploaded files a lesson's HTML refers to as ``<figure data-video="ID">``
(docs/lesson-video.md), played on the lesson page by the platform's media player, with captions
in several languages and the views counted as the webinar recordings count theirs.

A video is seen by those who may read its lesson (``courses.access.learning_access``); to anyone
else it answers as one that does not exist (404).
"""

import html
import re
from datetime import datetime
from typing import IO

from flask import abort, current_app, render_template
from markupsafe import Markup
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from courses import access
from courses.models import Lesson
from courses.webinars import keep_captions, renew_view_mark
from learnplatform import embeds
from learnplatform.audit import utcnow
from learnplatform.choices import LANGUAGES
from learnplatform.extensions import db
from learnplatform.storage import CAPTION_TYPES, StoredFile, delete_stored, save_upload

#: what a lesson video may be: formats every current browser plays
LESSON_VIDEO_TYPES = frozenset({"video/webm", "video/mp4"})


class LessonVideo(db.Model):
    """A video uploaded for one lesson, kept by ``learnplatform.storage``."""

    __tablename__ = "lesson_videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    stored_file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="RESTRICT"), unique=True
    )
    #: UTC time of upload
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lesson: Mapped[Lesson] = relationship(
        backref=backref("videos", order_by="LessonVideo.id", cascade="all, delete-orphan")
    )
    stored_file: Mapped[StoredFile] = relationship(lazy="joined")
    #: loaded with the videos, in one query for all of them
    captions: Mapped[list["LessonVideoCaption"]] = relationship(
        back_populates="video",
        order_by="LessonVideoCaption.language",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class LessonVideoCaption(db.Model):
    """Captions of a lesson video in one language, as WebVTT."""

    __tablename__ = "lesson_video_captions"
    __table_args__ = (UniqueConstraint("video_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("lesson_videos.id", ondelete="CASCADE"))
    #: a key of ``choices.LANGUAGES``
    language: Mapped[str] = mapped_column(String(8))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))

    video: Mapped[LessonVideo] = relationship(back_populates="captions")
    stored_file: Mapped[StoredFile] = relationship(lazy="joined")


class LessonVideoView(db.Model):
    """One view of a lesson video (a playback started): who and when, one row per view."""

    __tablename__ = "lesson_video_views"
    __table_args__ = (Index("ix_lesson_video_views_video_at", "video_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("lesson_videos.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: UTC time of the view
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LessonVideoViewMark(db.Model):
    """When a person's last counted view of a lesson video was (see ``count_view``)."""

    __tablename__ = "lesson_video_view_marks"

    video_id: Mapped[int] = mapped_column(
        ForeignKey("lesson_videos.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    counted_at: Mapped[datetime]


# Files.
def add_video(lesson: Lesson, stream: IO[bytes], name: str, *, user) -> LessonVideo:
    """Keep the video read from ``stream`` for ``lesson``; ``StorageRefused`` if it is not WebM
    or MP4 or is too large. Flushed, not committed."""
    stored = save_upload(
        stream,
        name or "video",
        allowed=LESSON_VIDEO_TYPES,
        max_bytes=current_app.config["RECORDING_MAX_BYTES"],
        uploaded_by=user,
    )
    video = LessonVideo(lesson=lesson, stored_file=stored)
    db.session.add(video)
    db.session.flush()
    return video


def set_captions(
    video: LessonVideo, language: str, stream: IO[bytes], name: str, *, user
) -> LessonVideoCaption:
    """Keep a WebVTT file as the video's captions in ``language``, replacing earlier ones."""
    stored = save_upload(
        stream, name or f"captions-{language}.vtt", allowed=CAPTION_TYPES, uploaded_by=user
    )
    return keep_captions(
        video.captions,
        language,
        stored,
        lambda: LessonVideoCaption(video=video, language=language, stored_file=stored),
    )


def files_of(lesson: Lesson) -> list[StoredFile]:
    """The files of the lesson's videos and their captions, to delete with the lesson."""
    return [
        stored
        for video in lesson.videos
        for stored in [video.stored_file, *(c.stored_file for c in video.captions)]
    ]


def remove_video(video: LessonVideo) -> None:
    """Remove a video, its captions and its files; its views go with it."""
    files = [video.stored_file, *(c.stored_file for c in video.captions)]
    db.session.delete(video)
    db.session.flush()
    for stored in files:
        delete_stored(stored)


# Access.
def readable_video(video_id: int) -> LessonVideo:
    """A video of a lesson the current user may read; 404 otherwise."""
    video = db.session.get(LessonVideo, video_id)
    if video is None:
        abort(404)
    access.learning_access(video.lesson.module)
    return video


def authored_video(module, video_id: int) -> LessonVideo:
    """A video of a lesson of ``module`` (which the caller checked the user authors); else 404."""
    video = db.session.get(LessonVideo, video_id)
    if video is None or video.lesson.module_id != module.id:
        abort(404)
    return video


# Counting.
def count_view(video: LessonVideo, user) -> bool:
    """Record that ``user`` started playing ``video``; returns whether it counted. One view per
    person and video per ``VIEW_WINDOW_MINUTES``, as for recordings (``renew_view_mark``)."""
    now = utcnow()
    if not renew_view_mark(LessonVideoViewMark, now, video_id=video.id, user_id=user.id):
        return False
    db.session.add(LessonVideoView(video_id=video.id, user_id=user.id, at=now))
    return True


def view_figures(lesson: Lesson) -> dict[int, tuple[int, int]]:
    """(views, people who watched) for each video of ``lesson`` that has been viewed."""
    rows = db.session.execute(
        select(
            LessonVideoView.video_id,
            func.count(LessonVideoView.id),
            func.count(LessonVideoView.user_id.distinct()),
        )
        .join(LessonVideo, LessonVideo.id == LessonVideoView.video_id)
        .where(LessonVideo.lesson_id == lesson.id)
        .group_by(LessonVideoView.video_id)
    )
    return {video_id: (views, people) for video_id, views, people in rows}


# The lesson page.
_REFERENCE = re.compile(
    r'<figure data-(video|embed)="([^"]*)">(?:<figcaption>(.*?)</figcaption>)?</figure>',
    re.DOTALL,
)


def lesson_body(lesson: Lesson) -> tuple[Markup, list[str]]:
    """The lesson's cleaned HTML with each video reference made a player and each embed a
    sandboxed frame, and the origins those frames load from (for the page's ``frame-src``).

    The sanitiser left references only in ``_REFERENCE``'s exact form. A reference to a video of
    another lesson, or to an embed whose host is no longer allowed, shows nothing.
    """
    body = lesson.body_html or ""
    if "<figure data-" not in body:
        return Markup(body), []  # noqa: S704 (cleaned when saved)
    videos = {
        video.id: video
        for video in db.session.scalars(
            select(LessonVideo).where(LessonVideo.lesson_id == lesson.id)
        )
    }
    hosts = embeds.allowed_hosts()
    origins: list[str] = []

    def replace(found: re.Match) -> str:
        kind, value, caption = found[1], html.unescape(found[2]), html.unescape(found[3] or "")
        if kind == "video":
            video = videos.get(int(value)) if value.isdigit() else None
            if video is None:
                return ""
            return render_template(
                "courses/_lesson_video.html", video=video, caption=caption, languages=LANGUAGES
            )
        origin = embeds.origin_of(value, hosts)
        if origin is None:
            return ""
        if origin not in origins:
            origins.append(origin)
        return render_template("courses/_lesson_embed.html", address=value, caption=caption)

    return Markup(_REFERENCE.sub(replace, body)), origins  # noqa: S704 (cleaned, then ours)
