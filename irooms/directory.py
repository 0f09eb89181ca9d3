"""The member directory of a room and a member's page in it.

Each person chooses on their account page what the directories of their rooms show besides their
name and room role (``User.directory_shows``): nothing unless they tick it. Everything here reads
a profile through ``shown_profile``, so that a field not chosen never reaches a page, the hosts'
view included, and the filters only find people by what they chose to show.
"""

from dataclasses import dataclass

from flask import abort, render_template, request
from flask_login import login_required
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from irooms import bp
from irooms.access import place_in
from irooms.models import ROOM_ROLES, Membership
from learnplatform.accounts.models import User, listed
from learnplatform.choices import country_names
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from learnplatform.numbers import parse
from learnplatform.search import MAX_WORDS, fold

#: posts on a member's page at a time; "More" shows the next ones
POSTS_PER_PAGE = 20
#: the longest expertise search that is read
SEARCH_LENGTH = 100


def shown_profile(user: User) -> dict[str, str | list[str]]:
    """What the directories show of ``user`` besides name and role, by name of field
    (``DIRECTORY_FIELDS``): only the fields they chose to show and have filled in. The country is
    its code, the agency type its key; expertise and languages are lists."""
    values = {
        "country": user.country,
        "agency_type": user.agency_type,
        "organisation": user.organisation,
        "expertise": listed(user.expertise),
        "languages": listed(user.languages_spoken),
    }
    return {name: values[name] for name in user.shown_in_directory if values[name]}


@dataclass(frozen=True)
class Entry:
    """One member as the directory lists them."""

    membership: Membership
    #: ``shown_profile`` of the member
    shown: dict

    @property
    def user(self) -> User:
        return self.membership.user


@dataclass(frozen=True)
class Directory:
    """A room's members matching the filters, and the countries one may filter by."""

    entries: list[Entry]
    #: code -> name of the countries that members chose to show, sorted by name
    countries: dict[str, str]
    #: how many members the room has, whatever the filters
    total: int


def room_directory(room_id: int, *, country: str = "", expertise: str = "") -> Directory:
    """The members of the room, hosts first, then experts, then participants, each by name;
    kept when they show ``country`` and expertise holding every word of ``expertise`` (case and
    accents aside), where given. One query, whatever the size of the room."""
    memberships = db.session.scalars(
        select(Membership).where(Membership.room_id == room_id).options(joinedload(Membership.user))
    ).all()
    rank = {role: number for number, role in enumerate(ROOM_ROLES)}
    entries = sorted(
        (Entry(membership, shown_profile(membership.user)) for membership in memberships),
        key=lambda entry: (rank.get(entry.membership.role, len(rank)), fold(entry.user.name)),
    )
    names = country_names()
    shown_countries = {entry.shown["country"] for entry in entries if "country" in entry.shown}
    countries = {
        code: names.get(code, code)
        for code in sorted(shown_countries, key=lambda code: fold(names.get(code, code)))
    }
    words = fold(expertise[:SEARCH_LENGTH]).split()[:MAX_WORDS]
    kept = [
        entry
        for entry in entries
        if (not country or entry.shown.get("country") == country)
        and _has_every_word(entry.shown.get("expertise", []), words)
    ]
    return Directory(kept, countries, len(entries))


def _has_every_word(items: list[str], words: list[str]) -> bool:
    folded = fold(", ".join(items))
    return all(word in folded for word in words)


@bp.get("/<int:room_id>/members/<int:user_id>")
@login_required
def member(room_id, user_id):
    """A member's page in the room: their role, what they chose to show, and their posts and
    answers in the room's forum, newest first, a page at a time (``before`` a post's id)."""
    place = place_in(room_id)
    membership = db.session.scalar(
        select(Membership)
        .where(Membership.room_id == place.room.id, Membership.user_id == user_id)
        .options(joinedload(Membership.user))
    )
    if membership is None:
        abort(404)
    answers_only = request.args.get("show") == "answers"
    before = request.args.get("before", type=parse)
    rows = posts_in_room(
        place.room.id, user_id, answers_only=answers_only, before=before, limit=POSTS_PER_PAGE + 1
    )
    return render_template(
        "irooms/member.html",
        place=place,
        active="members",
        membership=membership,
        person=membership.user,
        shown=shown_profile(membership.user),
        counts=post_counts(place.room.id, user_id),
        rows=rows[:POSTS_PER_PAGE],
        more=rows[POSTS_PER_PAGE - 1][0].id if len(rows) > POSTS_PER_PAGE else None,
        answers_only=answers_only,
    )


def _is_answer():
    return Topic.answer_post_id == Post.id


def _visible(query, room_id: int, user_id: int):
    """``query``, which reads posts, kept to those of ``user_id`` in the room's forum that its
    members see (neither the post nor its topic hidden or deleted), joined to their topics."""
    forum_id = select(Forum.id).where(Forum.room_id == room_id).scalar_subquery()
    return query.join(Topic, Topic.id == Post.topic_id).where(
        Post.forum_id == forum_id,
        Post.author_id == user_id,
        Post.hidden_at.is_(None),
        Post.deleted_at.is_(None),
        Topic.hidden_at.is_(None),
        Topic.deleted_at.is_(None),
    )


def posts_in_room(
    room_id: int, user_id: int, *, answers_only: bool, before: int | None, limit: int
) -> list[tuple[Post, Topic]]:
    """Up to ``limit`` of the member's visible posts in the room, newest first, with their topics:
    only those marked as a topic's answer when ``answers_only``; only those older than post
    ``before`` (one of the same list) when given."""
    query = _visible(select(Post, Topic), room_id, user_id)
    if answers_only:
        query = query.where(_is_answer())
    if before is not None:
        anchor = aliased(Post)
        anchor_time = (
            select(anchor.created_at)
            .where(
                anchor.id == before, anchor.author_id == user_id, anchor.forum_id == Post.forum_id
            )
            .scalar_subquery()
        )
        query = query.where(
            or_(
                Post.created_at < anchor_time,
                and_(Post.created_at == anchor_time, Post.id < before),
            )
        )
    return db.session.execute(
        query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)
    ).all()


def post_counts(room_id: int, user_id: int) -> dict[str, int]:
    """How many visible posts the member wrote in the room, and how many of them are answers."""
    answers = func.coalesce(func.sum(case((_is_answer(), 1), else_=0)), 0)
    posts, answered = db.session.execute(
        _visible(select(func.count(Post.id), answers).select_from(Post), room_id, user_id)
    ).one()
    return {"posts": posts, "answers": answered}
