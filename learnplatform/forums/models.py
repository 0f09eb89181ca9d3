"""Forums: one per iRoom and one per module, their categories, topics and posts, and what each
person read, follows and reported.

A forum belongs to exactly one room or one module; who may read it is who may enter that room
(its members) or take part in that module (its enrolled learners and its trainers), always
checked against the database on each request (``learnplatform.forums.access``).

Posts are numbered within their topic (``seq``, 1 for the question or opening post), so that a
topic's pages and each person's place in it are numbers, not offsets: a topic of 5,000 replies
opens as fast as one of 5.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnplatform.audit import utcnow
from learnplatform.extensions import db


class Forum(db.Model):
    """The discussion space of one room or one module, made when it is first opened."""

    __tablename__ = "forums"
    __table_args__ = (
        CheckConstraint("(room_id IS NULL) <> (module_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), unique=True
    )
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("modules.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    room = relationship("Room")
    module = relationship("Module")
    categories: Mapped[list["ForumCategory"]] = relationship(
        order_by="ForumCategory.position, ForumCategory.id", viewonly=True
    )


class ForumCategory(db.Model):
    """A heading topics are filed under ("General", "Questions to the experts"...)."""

    __tablename__ = "forum_categories"
    __table_args__ = (UniqueConstraint("forum_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    #: plain text
    name: Mapped[str] = mapped_column(String(80))
    #: plain text
    description: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(default=0)


class Topic(db.Model):
    """A discussion: its first post says what it is about; a question may get an answer."""

    __tablename__ = "forum_topics"
    __table_args__ = (
        # The forum's list, newest activity first, paged by (last_post_at, id).
        Index("ix_forum_topics_forum_activity", "forum_id", "last_post_at", "id"),
        # Questions without an answer, for their filter.
        Index("ix_forum_topics_forum_question", "forum_id", "is_question", "answer_post_id"),
        # A topic posted twice (double click, two tabs) is one topic.
        UniqueConstraint("author_id", "client_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_categories.id", ondelete="SET NULL"), index=True
    )
    #: plain text
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: chosen by the form that posted it, so that the same form sent twice makes one topic
    client_token: Mapped[str] = mapped_column(String(64))
    #: a question expects an answer, which a host or expert marks
    is_question: Mapped[bool] = mapped_column(default=False)
    #: the reply marked as the answer
    answer_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="SET NULL", use_alter=True)
    )
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    #: the number of the topic's newest post (the opening post is 1), raised by one UPDATE per
    #: reply, so that two replies at once get two numbers
    last_seq: Mapped[int] = mapped_column(default=0)
    #: replies shown to members (hidden and deleted ones left out)
    reply_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_poster_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: shown above the others
    pinned_at: Mapped[datetime | None]
    #: no more replies
    locked_at: Mapped[datetime | None]
    #: seen by the forum's moderators only
    hidden_at: Mapped[datetime | None]
    #: gone for everyone; the reason stays in the audit log
    deleted_at: Mapped[datetime | None]

    forum: Mapped[Forum] = relationship()
    category = relationship("ForumCategory")
    author = relationship("User", foreign_keys=[author_id])
    last_poster = relationship("User", foreign_keys=[last_poster_id])
    answer = relationship("Post", foreign_keys=[answer_post_id], post_update=True)


class Post(db.Model):
    """One message of a topic, in the platform's sanitised rich text."""

    __tablename__ = "forum_posts"
    __table_args__ = (
        UniqueConstraint("topic_id", "seq"),
        UniqueConstraint("author_id", "client_token"),
        Index("ix_forum_posts_forum_created", "forum_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"))
    #: the topic's forum, kept here so that a forum's posts are searched and counted without a
    #: join (a topic moved to another category stays in its forum)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    #: 1 for the opening post, then 2, 3...
    seq: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    client_token: Mapped[str] = mapped_column(String(64))
    #: cleaned by ``learnplatform.richtext`` when saved
    body_html: Mapped[str] = mapped_column(Text)
    #: the text of the body (and, for the opening post, the title) folded for searching:
    #: lower case, without accents, Arabic letter forms made one (``learnplatform.search.fold``)
    search_text: Mapped[str] = mapped_column(Text, default="")
    #: the post this one quotes
    quote_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: UTC time of the last edit; the earlier texts are kept as revisions
    edited_at: Mapped[datetime | None]
    #: seen by the forum's moderators only
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: gone for everyone; the reason stays in the audit log
    deleted_at: Mapped[datetime | None]

    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    author = relationship("User", foreign_keys=[author_id])
    quote_of = relationship("Post", remote_side=[id], foreign_keys=[quote_of_id])
    attachments: Mapped[list["PostAttachment"]] = relationship(
        order_by="PostAttachment.id", viewonly=True
    )


class PostRevision(db.Model):
    """A post's text (and its topic's title, for an opening post) before an edit."""

    __tablename__ = "forum_post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    #: 1 for the text as first posted, then 2, 3...
    number: Mapped[int]
    body_html: Mapped[str] = mapped_column(Text)
    #: the topic's title then, for an opening post
    title: Mapped[str | None] = mapped_column(String(200))
    #: who wrote this text and when
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author = relationship("User")


class PostAttachment(db.Model):
    """A file attached to a post, kept by the storage module."""

    __tablename__ = "forum_post_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True
    )
    stored_file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="RESTRICT"), unique=True
    )

    stored_file = relationship("StoredFile")


class TopicRead(db.Model):
    """How far one person has read one topic: the number of the last post they saw."""

    __tablename__ = "forum_topic_reads"
    __table_args__ = (UniqueConstraint("user_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("forum_topics.id", ondelete="CASCADE"), index=True
    )
    last_read_seq: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


_TOPIC_ROW = text("topic_id IS NOT NULL")
_FORUM_ROW = text("topic_id IS NULL")


class Subscription(db.Model):
    """One person following a topic, or a whole forum (``topic_id`` empty); ``following``
    false is a topic they chose to leave although they follow its forum or wrote in it."""

    __tablename__ = "forum_subscriptions"
    __table_args__ = (
        Index(
            "uq_forum_subscriptions_topic",
            "user_id",
            "topic_id",
            unique=True,
            sqlite_where=_TOPIC_ROW,
            postgresql_where=_TOPIC_ROW,
        ),
        Index(
            "uq_forum_subscriptions_forum",
            "user_id",
            "forum_id",
            unique=True,
            sqlite_where=_FORUM_ROW,
            postgresql_where=_FORUM_ROW,
        ),
        Index("ix_forum_subscriptions_topic", "topic_id"),
        Index("ix_forum_subscriptions_forum", "forum_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"))
    following: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostReport(db.Model):
    """A member telling the forum's moderators that a post breaks the rules: once per person
    and post."""

    __tablename__ = "forum_post_reports"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id"),
        Index("ix_forum_post_reports_forum_open", "forum_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: plain text
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when a moderator dealt with it (hid the post, or found nothing wrong)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship()
    reporter = relationship("User", foreign_keys=[reporter_id])
