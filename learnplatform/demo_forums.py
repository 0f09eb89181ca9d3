"""The demo data set's forums: some weeks of discussion in each demo iRoom, kept in
``data/demo/forums.json`` (see data/demo/README.md) and written straight into the forum tables,
so that loading the demo sends nothing to the demo accounts; every count, date and mark is left
as posting, answering and reading through the forum would have left it.

A topic is looked up by its forum and title (or the token it was written with) and added whole
when missing; a topic already there is left as it is.
"""

import hashlib
import html
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from irooms.models import Membership, Room
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, ForumCategory, Post, Subscription, Topic, TopicRead
from learnplatform.forums.services import search_text_of
from learnplatform.richtext import clean_html

FORUMS_FILE = Path(__file__).parent / "data" / "demo" / "forums.json"

#: ``{role}``, ``{role:CC}`` or ``{role:CC:n}`` in a post: the name of that member (see _member)
_PERSON = re.compile(r"\{(practitioner|(?:host|expert|participant)(?::[A-Z]{2})?(?::\d+)?)\}")


def add_forum_topics(practitioner: User) -> int:
    """The demo topics missing from the demo rooms' forums, with their posts, followers and
    reads; the forum itself and its categories where missing. ``practitioner`` (a member of
    every room) is the author called ``practitioner`` in the file. Returns how many topics and
    posts were added. Flushed, not committed."""
    now = utcnow()
    added = 0
    for spec in json.loads(FORUMS_FILE.read_text(encoding="utf-8"))["rooms"]:
        room = db.session.scalar(select(Room).where(Room.name == spec["room"]))
        if room is None:
            continue
        members = _members(room, practitioner)
        first_post = now - timedelta(days=max(topic["days_ago"] for topic in spec["topics"]))
        forum, categories = _forum(room, spec.get("categories", ()), members, first_post)
        for topic in spec["topics"]:
            token = _token(room, topic["title"])
            if db.session.scalar(
                select(Topic.id).where(
                    Topic.forum_id == forum.id,
                    or_(Topic.title == topic["title"], Topic.client_token == token),
                )
            ):
                continue
            category = categories[topic.get("category")]  # a name from the room's categories
            added += _add_topic(forum, category, topic, token, members, now)
    db.session.flush()
    return added


def _members(room: Room, practitioner: User) -> dict[str, list[Membership]]:
    """The room's memberships by role, each in the order people joined; the demo practitioner
    under ``practitioner`` rather than among the participants."""
    by_role: dict[str, list[Membership]] = {
        "host": [],
        "expert": [],
        "participant": [],
        "practitioner": [],
    }
    rows = db.session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.room_id == room.id)
        .order_by(Membership.joined_at, User.email)
    )
    for membership in rows:
        role = "practitioner" if membership.user_id == practitioner.id else membership.role
        by_role.setdefault(role, []).append(membership)
    return by_role


def _member(members: dict[str, list[Membership]], reference: str) -> Membership:
    """The member a post's author or a ``{...}`` in its text stands for: ``practitioner``;
    ``host``, ``expert`` or ``participant``, the first of that role to join; with ``:CC``, the
    first from that country; with ``:CC:n``, the n-th from it. Where the room has nobody so, the
    people of that role stand in turn; a room without experts has its hosts answer, and one
    without the practitioner its participants ask."""
    role, country, number = [*reference.split(":"), None, None][:3]
    if role not in members:
        raise ValueError(f"{FORUMS_FILE.name}: no such member as {reference!r}")
    number = int(number or 1)
    stand_in = "host" if role == "expert" else "participant"  # who else may answer, or ask
    people = members[role] or members[stand_in] or members["host"]
    if country is not None:
        from_there = [m for m in people if m.user.country == country]
        if len(from_there) >= number:
            return from_there[number - 1]
    return people[(number - 1) % len(people)]


def _forum(
    room: Room, extra: list[dict], members: dict[str, list[Membership]], opened: datetime
) -> tuple[Forum, dict[str | None, ForumCategory | None]]:
    """The room's forum, made as ``forum_of`` makes it (with its first category, named in the
    room's language) and followed by the room's hosts if it is new; and its categories by name,
    the extra ones added where missing, the first category under ``None``."""
    forum = db.session.scalar(select(Forum).where(Forum.room_id == room.id))
    if forum is None:
        forum = Forum(room_id=room.id, created_at=opened - timedelta(hours=3))
        db.session.add(forum)
        db.session.flush()
        with force_locale(room.language):
            db.session.add(
                ForumCategory(forum_id=forum.id, name=_("General"), position=0, description="")
            )
        for host in members["host"]:
            db.session.add(
                Subscription(user_id=host.user_id, forum_id=forum.id, created_at=forum.created_at)
            )
        db.session.flush()
    categories = db.session.scalars(
        select(ForumCategory)
        .where(ForumCategory.forum_id == forum.id)
        .order_by(ForumCategory.position, ForumCategory.id)
    ).all()
    by_name: dict[str | None, ForumCategory | None] = {c.name: c for c in categories}
    for wanted in extra:
        if wanted["name"] not in by_name:
            by_name[wanted["name"]] = ForumCategory(
                forum_id=forum.id,
                name=wanted["name"],
                description=wanted.get("description", ""),
                position=len(by_name),
            )
            db.session.add(by_name[wanted["name"]])
    db.session.flush()
    by_name[None] = categories[0] if categories else None
    return forum, by_name


def _token(room: Room, title: str) -> str:
    """The form token a demo topic is written with: the same for the same room and title."""
    return "demo-" + hashlib.sha256(f"{room.name}\n{title}".encode()).hexdigest()[:40]


def _body(paragraphs: list[str], members: dict[str, list[Membership]]) -> str:
    """A post's rich text: each item a paragraph, or a block (a list) when it starts with
    ``<``, with every ``{...}`` replaced by the member's name; cleaned as posts are."""
    blocks = (item if item.startswith("<") else f"<p>{item}</p>" for item in paragraphs)
    text = "".join(blocks)
    return clean_html(_PERSON.sub(lambda m: html.escape(_member(members, m[1]).user.name), text))


def _add_topic(
    forum: Forum,
    category: ForumCategory | None,
    spec: dict,
    token: str,
    members: dict[str, list[Membership]],
    now: datetime,
) -> int:
    """``spec`` as a topic of ``forum`` with its posts, its answer, its followers (everyone who
    wrote in it) and what each member has read of it; returns how many rows of topics and posts
    were added."""
    title = spec["title"]
    writings = [spec, *spec.get("replies", ())]
    times = [now - timedelta(days=writing["days_ago"]) for writing in writings]
    if times != sorted(times):
        raise ValueError(f"{FORUMS_FILE.name}: the posts of {title!r} are out of order")
    authors = [_member(members, writing["author"]) for writing in writings]
    topic = Topic(
        forum_id=forum.id,
        category_id=category.id if category is not None else None,
        title=title,
        author_id=authors[0].user_id,
        client_token=token,
        is_question=spec.get("question", False),
        last_seq=len(writings),
        reply_count=len(writings) - 1,
        created_at=times[0],
        last_post_at=times[-1],
        last_poster_id=authors[-1].user_id,
        pinned_at=times[0] + timedelta(minutes=10) if spec.get("pinned") else None,
    )
    db.session.add(topic)
    db.session.flush()
    posts: list[Post] = []
    for seq, (writing, author, at) in enumerate(zip(writings, authors, times, strict=True), 1):
        quoted = writing.get("quotes")
        if quoted is not None and not 1 <= quoted < seq:
            raise ValueError(f"{FORUMS_FILE.name}: post {seq} of {title!r} quotes {quoted}")
        body_html = _body(writing["body"], members)
        posts.append(
            Post(
                topic_id=topic.id,
                forum_id=forum.id,
                seq=seq,
                author_id=author.user_id,
                client_token=token if seq == 1 else f"{token}-{seq}",
                body_html=body_html,
                search_text=search_text_of(body_html, title if seq == 1 else None),
                quote_of_id=posts[quoted - 1].id if quoted is not None else None,
                created_at=at,
            )
        )
        db.session.add(posts[-1])
        db.session.flush()
    if "answer" in spec:
        answer = spec["answer"]
        if not (topic.is_question and 2 <= answer <= len(posts)):
            raise ValueError(f"{FORUMS_FILE.name}: {title!r} has no reply {answer} to answer it")
        marker = authors[answer - 1]
        if "answered_by" in spec:
            marker = _member(members, spec["answered_by"])
        topic.answer_post_id = posts[answer - 1].id
        topic.answered_by_id = marker.user_id
        topic.answered_at = min(times[answer - 1] + timedelta(hours=1), now)
    _add_followers_and_reads(topic, posts, members)
    return 1 + len(posts)


def _add_followers_and_reads(
    topic: Topic, posts: list[Post], members: dict[str, list[Membership]]
) -> None:
    """Everyone who wrote in ``topic`` follows it from their first post, and has read it up to
    their last; every member has read what was posted before their last visit to the room."""
    first_post: dict[int, Post] = {}
    last_post: dict[int, Post] = {}
    for post in posts:
        first_post.setdefault(post.author_id, post)
        last_post[post.author_id] = post
    for user_id, post in first_post.items():
        db.session.add(
            Subscription(
                user_id=user_id,
                forum_id=topic.forum_id,
                topic_id=topic.id,
                created_at=post.created_at,
            )
        )
    for membership in (m for people in members.values() for m in people):
        visit = membership.last_visit_at
        seen = [post for post in posts if visit is not None and post.created_at <= visit]
        own = last_post.get(membership.user_id)
        if own is not None and (not seen or own.seq > seen[-1].seq):
            read_to, read_at = own.seq, own.created_at
        elif seen:
            read_to, read_at = seen[-1].seq, visit
        else:
            continue
        db.session.add(
            TopicRead(
                user_id=membership.user_id,
                topic_id=topic.id,
                last_read_seq=read_to,
                read_at=read_at,
            )
        )
