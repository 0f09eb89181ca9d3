"""Who may read, write in and moderate a forum: one place, used by every view of the package.

A room's forum is its members' (hosts and experts moderate it); a module's is its enrolled
learners' and its trainers' (trainers moderate it). Administrators read and moderate every
forum. For anyone else every address of a forum answers as one that does not exist (404), and
the membership or enrolment is read from the database on each request, so that a removed member
loses access at the next one.
"""

from dataclasses import dataclass

from flask import abort, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from irooms.access import Place, place_in
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, ForumCategory, Post, Topic


@dataclass(frozen=True)
class Venue:
    """A forum and the current user's place in it."""

    forum: Forum
    #: their place in the room, for a room's forum
    place: Place | None = None
    #: may they take part in the module, for a module's forum
    module_member: bool = False
    module_trainer: bool = False

    @property
    def room(self):
        return self.place.room if self.place else None

    @property
    def module(self):
        return self.forum.module

    @property
    def name(self) -> str:
        return self.room.name if self.room else self.module.title

    @property
    def moderates(self) -> bool:
        """Pin, lock, hide, move and delete topics and posts; mark answers; see reports."""
        if current_user.is_administrator:
            return True
        if self.place is not None:
            return self.place.contributes
        return self.module_trainer

    @property
    def answers(self) -> bool:
        """Mark the reply that answers a question: the room's hosts and experts, the module's
        trainers."""
        return self.moderates

    @property
    def read_only(self) -> bool:
        return self.place is not None and self.place.read_only

    @property
    def muted(self) -> bool:
        membership = self.place.membership if self.place else None
        return membership is not None and membership.muted_at is not None

    @property
    def writes(self) -> bool:
        """Start topics and reply: not muted, not in a room that has ended."""
        return not (self.read_only or self.muted)

    @property
    def home_url(self) -> str:
        """The page the forum lives under: the room, or the module."""
        if self.room is not None:
            return url_for("irooms.room", room_id=self.room.id)
        return url_for("courses.module", module_id=self.module.id)


def venue(forum_id: int) -> Venue:
    """The current user's place in forum ``forum_id``; 404 for anyone who may not read it."""
    forum = db.session.get(Forum, forum_id)
    if forum is None:
        abort(404)
    if forum.room_id is not None:
        return Venue(forum, place=place_in(forum.room_id))
    return _module_venue(forum)


def _module_venue(forum: Forum) -> Venue:
    from courses.access import can_author
    from courses.services import enrolment_of

    module = forum.module
    trainer = can_author(current_user, module)
    enrolment = enrolment_of(module, current_user)
    member = enrolment is not None and enrolment.status == "active" and module.is_published
    if not (trainer or member or current_user.is_administrator):
        abort(404)
    return Venue(forum, module_member=member, module_trainer=trainer)


def topic_in(found: Venue, topic_id: int) -> Topic:
    """A topic of the forum: 404 for another forum's, a deleted one, or a hidden one for
    someone who does not moderate."""
    topic = db.session.get(Topic, topic_id)
    if (
        topic is None
        or topic.forum_id != found.forum.id
        or topic.deleted_at is not None
        or (topic.hidden_at is not None and not found.moderates)
    ):
        abort(404)
    return topic


def post_in(found: Venue, post_id: int) -> Post:
    """A post of the forum, under the same rules as its topic."""
    post = db.session.get(Post, post_id)
    if (
        post is None
        or post.forum_id != found.forum.id
        or post.deleted_at is not None
        or (post.hidden_at is not None and not found.moderates)
    ):
        abort(404)
    topic_in(found, post.topic_id)
    return post


def forum_of(*, room=None, module=None) -> Forum:
    """The forum of ``room`` or of ``module``, made with a first category the first time (two
    requests at once make one)."""
    column, owner = (Forum.room_id, room) if room is not None else (Forum.module_id, module)
    found = db.session.scalar(select(Forum).where(column == owner.id))
    if found is not None:
        return found
    language = owner.language
    try:
        with db.session.begin_nested():
            found = Forum(
                room_id=room.id if room else None, module_id=module.id if module else None
            )
            db.session.add(found)
            db.session.flush()
            with force_locale(language):
                db.session.add(ForumCategory(forum_id=found.id, name=_("General"), position=0))
            db.session.flush()
    except IntegrityError:
        found = db.session.scalar(select(Forum).where(column == owner.id))
    db.session.commit()
    return found
