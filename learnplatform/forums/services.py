"""What people do in a forum: start topics, reply, quote, edit, attach files, mark answers,
read, follow, report; and what its moderators do. The views check who may; these functions
write, in the caller's transaction (the view commits).

Everyone who writes in a topic follows it; followers of a topic, or of its whole forum, are told
of new replies (and of new topics) through the notification system, at once or in their daily
digest as they chose; people named as ``@Name`` are told they were mentioned. A topic or reply
sent twice (double click, two tabs) is stored once: the form's token is unique per author.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from werkzeug.datastructures import FileStorage

from courses.models import Enrolment, Module
from irooms.labels import ROLE_LABELS
from irooms.models import Membership
from irooms.notices import named_in
from learnplatform.accounts.models import User
from learnplatform.audit import record, utcnow
from learnplatform.extensions import db
from learnplatform.forums.access import Venue
from learnplatform.forums.models import (
    Forum,
    ForumCategory,
    Post,
    PostAttachment,
    PostReport,
    PostRevision,
    Subscription,
    Topic,
    TopicRead,
)
from learnplatform.notifications.services import notify
from learnplatform.richtext import clean_html, plain_text
from learnplatform.search import fold, folded_matching_every_word
from learnplatform.storage import ATTACHMENT_TYPES, save_upload

#: posts shown per page of a topic; topics per page of a forum
POSTS_PER_PAGE = 30
TOPICS_PER_PAGE = 30
#: files one post may carry
MAX_ATTACHMENTS = 5
#: characters of a post shown in a notification or a quotation
EXCERPT_LENGTH = 160


class Refused(ValueError):
    """What someone tried cannot be done; ``str()`` of it is a message for them."""


def excerpt(post: Post, length: int = EXCERPT_LENGTH) -> str:
    """The start of a post's text, without its markup."""
    text = plain_text(post.body_html)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def search_text_of(body_html: str, title: str | None = None) -> str:
    return fold(" ".join(part for part in (title, plain_text(body_html)) if part))


# Writing.
def start_topic(
    found: Venue,
    author: User,
    *,
    title: str,
    body_html: str,
    category: ForumCategory | None,
    is_question: bool,
    client_token: str,
    files: Iterable[FileStorage] = (),
) -> tuple[Topic, bool]:
    """A new topic with its opening post, and whether it is new (``False``: the same form was
    sent before, and that topic is returned)."""
    forum = found.forum
    earlier = db.session.scalar(
        select(Topic).where(Topic.author_id == author.id, Topic.client_token == client_token)
    )
    if earlier is not None:
        return earlier, False
    body_html = clean_html(body_html)
    if not plain_text(body_html) and "<img" not in body_html:
        raise Refused("empty")
    now = utcnow()
    topic = Topic(
        forum_id=forum.id,
        category_id=category.id if category else None,
        title=title,
        author_id=author.id,
        client_token=client_token,
        is_question=is_question,
        last_seq=1,
        created_at=now,
        last_post_at=now,
        last_poster_id=author.id,
    )
    post = Post(
        forum_id=forum.id,
        seq=1,
        author_id=author.id,
        client_token=client_token,
        body_html=body_html,
        search_text=search_text_of(body_html, title),
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(topic)
            db.session.flush()
            post.topic_id = topic.id
            db.session.add(post)
            db.session.flush()
    except IntegrityError:  # the same form, sent at the same moment, was stored first
        return db.session.scalar(
            select(Topic).where(Topic.author_id == author.id, Topic.client_token == client_token)
        ), False
    _attach(post, files, author)
    _set_following(author.id, forum.id, topic.id, True, only_if_new=True)
    mark_read(author.id, topic.id, 1)
    _tell_of(found, topic, post, author, new_topic=True)
    return topic, True


def reply(
    found: Venue,
    topic: Topic,
    author: User,
    *,
    body_html: str,
    quote_of: Post | None,
    client_token: str,
    files: Iterable[FileStorage] = (),
) -> tuple[Post, bool]:
    """A reply at the end of ``topic``, and whether it is new (the same form sent twice is one
    reply). Refused in a locked topic."""
    earlier = db.session.scalar(
        select(Post).where(Post.author_id == author.id, Post.client_token == client_token)
    )
    if earlier is not None:
        return earlier, False
    if topic.locked_at is not None:
        raise Refused("locked")
    body_html = clean_html(body_html)
    if not plain_text(body_html) and "<img" not in body_html:
        raise Refused("empty")
    now = utcnow()
    try:
        with db.session.begin_nested():
            # One UPDATE gives the number: two replies at once get two numbers.
            seq = db.session.execute(
                update(Topic)
                .where(Topic.id == topic.id)
                .values(
                    last_seq=Topic.last_seq + 1,
                    reply_count=Topic.reply_count + 1,
                    last_post_at=now,
                    last_poster_id=author.id,
                )
                .returning(Topic.last_seq)
            ).scalar_one()
            post = Post(
                topic_id=topic.id,
                forum_id=topic.forum_id,
                seq=seq,
                author_id=author.id,
                client_token=client_token,
                body_html=body_html,
                search_text=search_text_of(body_html),
                quote_of_id=quote_of.id if quote_of is not None else None,
                created_at=now,
            )
            db.session.add(post)
            db.session.flush()
    except IntegrityError:
        return db.session.scalar(
            select(Post).where(Post.author_id == author.id, Post.client_token == client_token)
        ), False
    db.session.refresh(topic)
    _attach(post, files, author)
    _set_following(author.id, topic.forum_id, topic.id, True, only_if_new=True)
    mark_read(author.id, topic.id, seq)
    _tell_of(found, topic, post, author, new_topic=False)
    return post, True


def _attach(post: Post, files: Iterable[FileStorage], author: User) -> None:
    """Keep the files sent with a post (``StorageRefused`` for one that may not be kept)."""
    chosen = [file for file in files if file and file.filename]
    if len(chosen) > MAX_ATTACHMENTS:
        raise Refused("too many files")
    for file in chosen:
        stored = save_upload(
            file.stream, file.filename, allowed=ATTACHMENT_TYPES, uploaded_by=author
        )
        db.session.add(PostAttachment(post_id=post.id, stored_file_id=stored.id))
    db.session.flush()


def edit(post: Post, editor: User, *, body_html: str, title: str | None = None) -> bool:
    """Change a post's text (and its topic's title, for an opening post), keeping what it said
    before as a revision; ``False`` when nothing changed."""
    body_html = clean_html(body_html)
    if not plain_text(body_html) and "<img" not in body_html:
        raise Refused("empty")
    topic = post.topic
    new_title = title if post.seq == 1 and title is not None else None
    if body_html == post.body_html and (new_title is None or new_title == topic.title):
        return False
    revisions = db.session.scalar(
        select(func.count()).select_from(PostRevision).where(PostRevision.post_id == post.id)
    )
    if revisions == 0:  # the text as first posted
        db.session.add(
            PostRevision(
                post_id=post.id,
                number=1,
                body_html=post.body_html,
                title=topic.title if post.seq == 1 else None,
                author_id=post.author_id,
                created_at=post.created_at,
            )
        )
        revisions = 1
    now = utcnow()
    db.session.add(
        PostRevision(
            post_id=post.id,
            number=revisions + 1,
            body_html=body_html,
            title=new_title if new_title is not None else (topic.title if post.seq == 1 else None),
            author_id=editor.id,
            created_at=now,
        )
    )
    post.body_html = body_html
    if new_title is not None:
        topic.title = new_title
    post.search_text = search_text_of(body_html, topic.title if post.seq == 1 else None)
    post.edited_at = now
    db.session.flush()
    return True


def revisions_of(post: Post) -> list[PostRevision]:
    return db.session.scalars(
        select(PostRevision)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.number.desc())
    ).all()


# Answers.
def mark_answer(topic: Topic, post: Post, actor: User) -> None:
    """``post`` answers the question ``topic``; its asker and followers are told."""
    if not topic.is_question or post.topic_id != topic.id or post.seq == 1:
        raise Refused("not an answer")
    topic.answer_post_id = post.id
    topic.answered_by_id = actor.id
    topic.answered_at = utcnow()
    db.session.flush()
    people = [person for person in _followers(topic) if person.id != actor.id]
    notify(
        people,
        "forum_answer",
        key=f"forum-answer:{topic.id}:{post.id}",
        url=post_url(topic, post),
        params={"actor": actor.name, "topic": topic.title, "place": _place_name(topic.forum)},
    )


def unmark_answer(topic: Topic) -> None:
    topic.answer_post_id = None
    topic.answered_by_id = None
    topic.answered_at = None


# Reading.
def mark_read(user_id: int, topic_id: int, seq: int) -> None:
    """Remember that ``user_id`` has read ``topic_id`` up to post ``seq`` (never backwards)."""
    moved = db.session.execute(
        update(TopicRead)
        .where(
            TopicRead.user_id == user_id,
            TopicRead.topic_id == topic_id,
            TopicRead.last_read_seq < seq,
        )
        .values(last_read_seq=seq, read_at=utcnow())
    ).rowcount
    if moved or last_read(user_id, topic_id, missing=None) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(TopicRead(user_id=user_id, topic_id=topic_id, last_read_seq=seq))
    except IntegrityError:  # another tab wrote it first: move it on
        mark_read(user_id, topic_id, seq)


def last_read(user_id: int, topic_id: int, *, missing: int | None = 0) -> int | None:
    """The number of the last post ``user_id`` has read in ``topic_id``; ``missing`` for a
    topic they never opened."""
    seq = db.session.scalar(
        select(TopicRead.last_read_seq).where(
            TopicRead.user_id == user_id, TopicRead.topic_id == topic_id
        )
    )
    return missing if seq is None else seq


@dataclass(frozen=True)
class TopicRow:
    topic: Topic
    #: the reader's last read post, 0 for a topic they never opened
    last_read_seq: int

    @property
    def unread(self) -> bool:
        return self.last_read_seq < self.topic.last_seq

    @property
    def first_unread_seq(self) -> int:
        return min(self.last_read_seq + 1, self.topic.last_seq)


def visible_topics(found: Venue):
    """The forum's topics its reader may see, as a SELECT's conditions."""
    conditions = [Topic.forum_id == found.forum.id, Topic.deleted_at.is_(None)]
    if not found.moderates:
        conditions.append(Topic.hidden_at.is_(None))
    return conditions


def topics_page(
    found: Venue,
    reader: User,
    *,
    show: str = "all",
    category_id: int | None = None,
    after: tuple[str, int] | None = None,
) -> tuple[list[TopicRow], tuple[str, int] | None]:
    """A page of the forum's topics, pinned ones first on the first page, then by latest
    activity, with the reader's unread marks; and the key of the next page (``None`` at the
    end). ``show``: ``all``, ``unread``, ``questions``, ``answered`` or ``unanswered``."""
    read = (
        select(TopicRead.topic_id, TopicRead.last_read_seq)
        .where(TopicRead.user_id == reader.id)
        .subquery()
    )
    query = (
        select(Topic, func.coalesce(read.c.last_read_seq, 0))
        .outerjoin(read, read.c.topic_id == Topic.id)
        .where(*visible_topics(found))
        .options(
            joinedload(Topic.author),
            joinedload(Topic.last_poster),
            joinedload(Topic.category),
        )
    )
    if category_id is not None:
        query = query.where(Topic.category_id == category_id)
    if show == "unread":
        query = query.where(func.coalesce(read.c.last_read_seq, 0) < Topic.last_seq)
    elif show == "questions":
        query = query.where(Topic.is_question.is_(True))
    elif show == "answered":
        query = query.where(Topic.is_question.is_(True), Topic.answer_post_id.is_not(None))
    elif show == "unanswered":
        query = query.where(Topic.is_question.is_(True), Topic.answer_post_id.is_(None))
    if after is None:
        # The first page: pinned topics above, in the order they were pinned.
        pinned = db.session.execute(
            query.where(Topic.pinned_at.is_not(None)).order_by(Topic.pinned_at.desc())
        ).all()
    else:
        pinned = []
    query = query.where(Topic.pinned_at.is_(None))
    if after is not None:
        moment, topic_id = datetime.fromisoformat(after[0]), after[1]
        query = query.where(
            or_(
                Topic.last_post_at < moment,
                and_(Topic.last_post_at == moment, Topic.id < topic_id),
            )
        )
    rows = db.session.execute(
        query.order_by(Topic.last_post_at.desc(), Topic.id.desc()).limit(TOPICS_PER_PAGE + 1)
    ).all()
    following = None
    if len(rows) > TOPICS_PER_PAGE:
        rows = rows[:TOPICS_PER_PAGE]
        last = rows[-1][0]
        following = (last.last_post_at.isoformat(), last.id)
    return [TopicRow(topic, seq) for topic, seq in [*pinned, *rows]], following


def posts_page(
    found: Venue, topic: Topic, *, after: int = 0, before: int | None = None
) -> tuple[list[Post], bool, bool]:
    """The posts of a topic after number ``after`` (or the page before number ``before``), by
    key: as fast at post 5,000 as at post 5. With whether there are earlier and later ones."""
    query = (
        select(Post)
        .where(Post.topic_id == topic.id, Post.deleted_at.is_(None))
        .options(
            joinedload(Post.author),
            selectinload(Post.attachments).joinedload(PostAttachment.stored_file),
            joinedload(Post.quote_of).joinedload(Post.author),
        )
    )
    if not found.moderates:
        query = query.where(Post.hidden_at.is_(None))
    if before is not None:
        posts = db.session.scalars(
            query.where(Post.seq < before).order_by(Post.seq.desc()).limit(POSTS_PER_PAGE)
        ).all()[::-1]
    else:
        posts = db.session.scalars(
            query.where(Post.seq > after).order_by(Post.seq).limit(POSTS_PER_PAGE)
        ).all()
    if not posts:
        return [], after > 0, False
    earlier = db.session.scalar(select(exists(query.where(Post.seq < posts[0].seq))))
    later = db.session.scalar(select(exists(query.where(Post.seq > posts[-1].seq))))
    return posts, earlier, later


#: posts a page of the forum's search shows
SEARCH_PAGE = 50


def search(found: Venue, words: str, *, before: int | None = None) -> tuple[list[Post], bool]:
    """A page of the posts of the forum whose text (or topic title) holds every word, however
    accented or written, newest first: those older than the post ``before`` when given (pages
    by key, as fast far down as at the top); and whether older ones follow."""
    conditions = folded_matching_every_word(words, Post.search_text)
    if not conditions:
        return []
    query = (
        select(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.forum_id == found.forum.id,
            Post.deleted_at.is_(None),
            *visible_topics(found),
            *conditions,
        )
        .options(joinedload(Post.author), contains_eager(Post.topic))
        .order_by(Post.id.desc())
        .limit(SEARCH_PAGE + 1)
    )
    if before is not None:
        query = query.where(Post.id < before)
    if not found.moderates:
        query = query.where(Post.hidden_at.is_(None))
    posts = db.session.scalars(query).all()
    return posts[:SEARCH_PAGE], len(posts) > SEARCH_PAGE


# Following.
def _set_following(
    user_id: int, forum_id: int, topic_id: int | None, following: bool, *, only_if_new=False
) -> None:
    condition = (
        Subscription.topic_id == topic_id
        if topic_id is not None
        else Subscription.topic_id.is_(None)
    )
    existing = db.session.scalar(
        select(Subscription).where(
            Subscription.user_id == user_id, Subscription.forum_id == forum_id, condition
        )
    )
    if existing is not None:
        if not only_if_new:
            existing.following = following
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                Subscription(
                    user_id=user_id, forum_id=forum_id, topic_id=topic_id, following=following
                )
            )
    except IntegrityError:  # another tab did it first
        if not only_if_new:
            _set_following(user_id, forum_id, topic_id, following)


def follow_topic(user: User, topic: Topic, following: bool) -> None:
    _set_following(user.id, topic.forum_id, topic.id, following)


def follow_forum(user: User, forum: Forum, following: bool) -> None:
    _set_following(user.id, forum.id, None, following)


def follows_topic(user: User, topic: Topic) -> bool:
    rows = dict(
        db.session.execute(
            select(Subscription.topic_id, Subscription.following).where(
                Subscription.user_id == user.id,
                Subscription.forum_id == topic.forum_id,
                or_(Subscription.topic_id == topic.id, Subscription.topic_id.is_(None)),
            )
        ).all()
    )
    return rows.get(topic.id, rows.get(None, False))


def follows_forum(user: User, forum: Forum) -> bool:
    return bool(
        db.session.scalar(
            select(Subscription.following).where(
                Subscription.user_id == user.id,
                Subscription.forum_id == forum.id,
                Subscription.topic_id.is_(None),
            )
        )
    )


def readers_condition(forum: Forum, user_id_column):
    """SQL: the person ``user_id_column`` may read ``forum`` now (member, enrolled learner,
    trainer or administrator), so that nobody removed is told of anything."""
    administrator = exists().where(User.id == user_id_column, User.role == "administrator")
    if forum.room_id is not None:
        return or_(
            exists().where(
                Membership.room_id == forum.room_id, Membership.user_id == user_id_column
            ),
            administrator,
        )
    return or_(
        exists().where(
            Enrolment.module_id == forum.module_id,
            Enrolment.user_id == user_id_column,
            Enrolment.status == "active",
        ),
        exists().where(Module.id == forum.module_id, Module.created_by_id == user_id_column),
        administrator,
    )


def _followers(topic: Topic, *, new_topic: bool = False) -> list[User]:
    """Who follows ``topic``: those following it, and those following its forum who did not
    leave it; who may still read the forum. For a new topic, the forum's followers."""
    forum = topic.forum
    left = exists().where(
        Subscription.user_id == User.id,
        Subscription.topic_id == topic.id,
        Subscription.following.is_(False),
    )
    on_topic = exists().where(
        Subscription.user_id == User.id,
        Subscription.topic_id == topic.id,
        Subscription.following.is_(True),
    )
    on_forum = exists().where(
        Subscription.user_id == User.id,
        Subscription.forum_id == forum.id,
        Subscription.topic_id.is_(None),
        Subscription.following.is_(True),
    )
    wanted = on_forum if new_topic else or_(on_topic, and_(on_forum, ~left))
    return db.session.scalars(
        select(User).where(wanted, User.active.is_(True), readers_condition(forum, User.id))
    ).all()


def readers(forum: Forum) -> list[User]:
    """Everyone who may read the forum (for ``@Name`` mentions)."""
    return db.session.scalars(
        select(User).where(User.active.is_(True), readers_condition(forum, User.id))
    ).all()


def roles_of(found: Venue, author_ids: set) -> dict[int, str]:
    """What to show beside the names of ``author_ids``: the room's hosts and experts as such,
    the module's trainer as trainer; participants and learners show nothing."""
    author_ids = {author_id for author_id in author_ids if author_id is not None}
    if not author_ids:
        return {}
    forum = found.forum
    if forum.room_id is None:
        trainer = forum.module.created_by_id
        return {trainer: _("Trainer")} if trainer in author_ids else {}
    rows = db.session.execute(
        select(Membership.user_id, Membership.role).where(
            Membership.room_id == forum.room_id,
            Membership.user_id.in_(author_ids),
            Membership.role.in_(("host", "expert")),
        )
    ).all()
    return {user_id: str(ROLE_LABELS[role]) for user_id, role in rows}


def _place_name(forum: Forum) -> str:
    return forum.room.name if forum.room_id is not None else forum.module.title


def post_url(topic: Topic, post: Post) -> str:
    """The address of ``post`` in its topic: the page that starts with it."""
    return (
        url_for("forums.topic", forum_id=topic.forum_id, topic_id=topic.id, after=post.seq - 1)
        + f"#post-{post.seq}"
    )


def _tell_of(found: Venue, topic: Topic, post: Post, author: User, *, new_topic: bool) -> None:
    """Tell those named in the post, then the followers (nobody twice, never the author)."""
    text = plain_text(post.body_html)
    place = found.name
    named = named_in(text, readers(found.forum), author_id=author.id) if "@" in text else []
    shown = excerpt(post)
    if named:
        notify(
            named,
            "mention",
            key=f"mention:forum:{post.id}",
            url=post_url(topic, post),
            params={"actor": author.name, "room": place, "excerpt": shown},
        )
    told = {person.id for person in named} | {author.id}
    followers = [
        person for person in _followers(topic, new_topic=new_topic) if person.id not in told
    ]
    notify(
        followers,
        "forum_topic" if new_topic else "forum_reply",
        key=f"forum-post:{post.id}",
        url=post_url(topic, post),
        params={"actor": author.name, "topic": topic.title, "place": place, "excerpt": shown},
    )


# Reports.
def report(found: Venue, post: Post, reporter: User, reason: str) -> bool:
    """Tell the forum's moderators that ``post`` breaks the rules; once per person and post
    (``False`` the second time)."""
    try:
        with db.session.begin_nested():
            filed = PostReport(
                post_id=post.id, forum_id=post.forum_id, reporter_id=reporter.id, reason=reason
            )
            db.session.add(filed)
            db.session.flush()
    except IntegrityError:
        return False
    notify(
        moderators(found.forum),
        "forum_report",
        key=f"forum-report:{filed.id}",
        url=url_for("forums.reports", forum_id=post.forum_id),
        params={"actor": reporter.name, "place": found.name, "topic": post.topic.title},
    )
    return True


def moderators(forum: Forum) -> list[User]:
    """Those who moderate ``forum``: the room's hosts and experts, or the module's author."""
    if forum.room_id is not None:
        mine = exists().where(
            Membership.room_id == forum.room_id,
            Membership.user_id == User.id,
            Membership.role.in_(("host", "expert")),
        )
    else:
        mine = exists().where(Module.id == forum.module_id, Module.created_by_id == User.id)
    return db.session.scalars(select(User).where(User.active.is_(True), mine)).all()


def open_reports(forum: Forum) -> list[PostReport]:
    return db.session.scalars(
        select(PostReport)
        .where(PostReport.forum_id == forum.id, PostReport.resolved_at.is_(None))
        .options(
            joinedload(PostReport.post).joinedload(Post.topic),
            joinedload(PostReport.post).joinedload(Post.author),
            joinedload(PostReport.reporter),
        )
        .order_by(PostReport.created_at)
    ).all()


def resolve_reports(post: Post, actor: User) -> int:
    return db.session.execute(
        update(PostReport)
        .where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id)
    ).rowcount


# Moderation: each change audited.
def _audit(action: str, actor: User, topic: Topic, post: Post | None = None, **detail) -> None:
    record(
        f"forum.{action}",
        actor=actor,
        forum_id=topic.forum_id,
        topic_id=topic.id,
        post_id=post.id if post is not None else None,
        title=topic.title,
        **detail,
    )


def moderate_topic(topic: Topic, actor: User, action: str, *, reason: str = "", category=None):
    """``pin``, ``unpin``, ``lock``, ``unlock``, ``hide``, ``show``, ``move`` (to
    ``category``) or ``delete`` (with ``reason``) a topic."""
    now = utcnow()
    changes = {
        "pin": ("pinned_at", now),
        "unpin": ("pinned_at", None),
        "lock": ("locked_at", now),
        "unlock": ("locked_at", None),
        "hide": ("hidden_at", now),
        "show": ("hidden_at", None),
        "delete": ("deleted_at", now),
    }
    if action == "move":
        if category is None or category.forum_id != topic.forum_id:
            raise Refused("category")
        _audit("move", actor, topic, category=category.name)
        topic.category_id = category.id
    elif action in changes:
        if action == "delete" and not reason.strip():
            raise Refused("reason")
        column, value = changes[action]
        setattr(topic, column, value)
        if action in ("hide", "delete"):  # out of sight: the reports on its posts are settled
            db.session.execute(
                update(PostReport)
                .where(
                    PostReport.post_id.in_(select(Post.id).where(Post.topic_id == topic.id)),
                    PostReport.resolved_at.is_(None),
                )
                .values(resolved_at=now, resolved_by_id=actor.id)
            )
        _audit(f"topic.{action}", actor, topic, reason=reason.strip() or None)
    else:
        raise Refused(action)
    db.session.flush()


def moderate_post(post: Post, actor: User, action: str, *, reason: str = "") -> None:
    """``hide``, ``show`` or ``delete`` (with ``reason``) one reply; hiding or deleting settles
    the reports on it. The opening post goes with its topic (``moderate_topic``)."""
    topic = post.topic
    if post.seq == 1:
        raise Refused("opening post")
    if action == "delete" and not reason.strip():
        raise Refused("reason")
    was_shown = post.hidden_at is None and post.deleted_at is None
    if action == "hide":
        post.hidden_at, post.hidden_by_id = utcnow(), actor.id
    elif action == "show":
        post.hidden_at, post.hidden_by_id = None, None
    elif action == "delete":
        post.deleted_at = utcnow()
    else:
        raise Refused(action)
    now_shown = post.hidden_at is None and post.deleted_at is None
    if was_shown != now_shown:
        topic.reply_count += 1 if now_shown else -1
    if not now_shown:
        resolve_reports(post, actor)
        if topic.answer_post_id == post.id:
            unmark_answer(topic)
    _audit(f"post.{action}", actor, topic, post, reason=reason.strip() or None)
    db.session.flush()
