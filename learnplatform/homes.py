"""The logged-in home: where each person should go next.

- A practitioner sees the next step of each module in progress (the lesson or test that
  "Continue" on the module page leads to, from ``courses.services.next_lesson``), the coming live
  sessions of their rooms, what is new in their rooms since their last visit
  (``Membership.last_visit_at``, written when they open a room) and their certificates.
- A trainer sees the enrolment requests waiting in their modules, their next sessions, what is
  new in the rooms they host and their modules' completion figures (``learnplatform.stats``).
- An administrator sees the platform's figures for the current month (``learnplatform.stats``).

Each part is one query or a few, whatever the number of modules, rooms or sessions.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload, load_only

from courses import services
from courses.models import Certificate, Enrolment, Lesson, LessonProgress, Module, Webinar
from irooms.models import LiveSession, Membership, Message, Resource, Room
from irooms.views import new_since_visit
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from learnplatform.stats import queries
from learnplatform.stats.filters import Filters
from learnplatform.storage import StoredFile
from learnplatform.surveys.asking import waiting_for

#: modules in progress shown with their next step; My learning lists them all
NEXT_STEPS = 6
#: coming live sessions shown
SESSIONS = 5
#: rooms shown with what is new in them; My iRooms lists them all
ROOMS = 8
#: certificates shown, newest first; My learning lists them all
CERTIFICATES = 6
#: modules shown with their completion figures; the statistics list them all
MODULE_FIGURES = 8
#: how long before its start a live session's video conference is offered as open
JOIN_EARLY = timedelta(minutes=15)


# Practitioners.
@dataclass(frozen=True)
class NextStep:
    """A module in progress and what to do next in it."""

    enrolment: Enrolment
    progress: services.Progress
    #: the lesson to carry on with; None when the post-test is next (``progress.post_test_next``)
    #: or the module has no lesson yet
    lesson: Lesson | None


def next_steps(user) -> tuple[list[NextStep], int]:
    """The person's modules in progress, the most recently worked on first, at most
    ``NEXT_STEPS`` of them with their next step, and how many are in progress. Four queries."""
    in_progress = (
        Enrolment.user_id == user.id,
        Enrolment.status == "active",
        Enrolment.completed_at.is_(None),
    )
    total = db.session.scalar(select(func.count(Enrolment.id)).where(*in_progress))
    rows = db.session.execute(
        select(Enrolment, *services.post_test_columns())
        .options(joinedload(Enrolment.module))
        .where(*in_progress)
        .order_by(Enrolment.last_activity_at.desc().nulls_last(), Enrolment.id.desc())
        .limit(NEXT_STEPS)
    ).all()
    if not rows:
        return [], total
    module_ids = [enrolment.module_id for enrolment, *_ in rows]
    lessons: dict[int, list[Lesson]] = {module_id: [] for module_id in module_ids}
    for lesson in db.session.scalars(
        select(Lesson)
        .options(load_only(Lesson.id, Lesson.module_id, Lesson.position, Lesson.title))
        .where(Lesson.module_id.in_(module_ids))
        .order_by(Lesson.module_id, Lesson.position)
    ):
        lessons[lesson.module_id].append(lesson)
    done: dict[int, set[int]] = {enrolment.id: set() for enrolment, *_ in rows}
    for enrolment_id, lesson_id in db.session.execute(
        select(LessonProgress.enrolment_id, LessonProgress.lesson_id).where(
            LessonProgress.enrolment_id.in_(list(done))
        )
    ):
        done[enrolment_id].add(lesson_id)
    steps = []
    for enrolment, has_post_test, post_test_passed in rows:
        progress = services.progress_of(
            enrolment, has_post_test=has_post_test, post_test_passed=post_test_passed
        )
        lesson = None
        if not progress.post_test_next:
            lesson = services.next_lesson(
                lessons[enrolment.module_id], enrolment.last_lesson_id, done[enrolment.id]
            )
        steps.append(NextStep(enrolment, progress, lesson))
    return steps, total


@dataclass(frozen=True)
class ComingSession:
    """A live session not over yet, with its room."""

    session: LiveSession
    room_id: int
    room_name: str
    #: under way, or starting within ``JOIN_EARLY``: its video conference is open
    open_now: bool


def coming_sessions(user, *, hosted_only: bool = False) -> list[ComingSession]:
    """The next ``SESSIONS`` live sessions of the person's open rooms (those they host, when
    ``hosted_only``), soonest first, the one under way included. One query."""
    now = utcnow()
    member = and_(Membership.room_id == Room.id, Membership.user_id == user.id)
    if hosted_only:
        member = and_(member, Membership.role == "host")
    rows = db.session.execute(
        select(LiveSession, Room.id, Room.name)
        .join(Room, Room.id == LiveSession.room_id)
        .join(Membership, member)
        .where(LiveSession.ends_at > now, Room.archived_at.is_(None))
        .order_by(LiveSession.starts_at, LiveSession.id)
        .limit(SESSIONS)
    ).all()
    return [
        ComingSession(session, room_id, name, session.starts_at - JOIN_EARLY <= now)
        for session, room_id, name in rows
    ]


@dataclass(frozen=True)
class RoomNews:
    """What others added to one room since the person's last visit there."""

    room_id: int
    room_name: str
    #: their last visit, or when they joined if they never opened the room
    since: datetime
    resources: int
    topics: int
    replies: int
    sessions: int
    recordings: int
    messages: int

    @property
    def total(self) -> int:
        """Everything new, added up."""
        return (
            self.resources
            + self.topics
            + self.replies
            + self.sessions
            + self.recordings
            + self.messages
        )

    @property
    def anything(self) -> bool:
        return self.total > 0


def _shown(model) -> tuple:
    """A forum topic or post that members see: neither hidden nor deleted."""
    return model.hidden_at.is_(None), model.deleted_at.is_(None)


def room_news(user, *, hosted_only: bool = False) -> tuple[list[RoomNews], int]:
    """The person's open rooms (those they host, when ``hosted_only``) with something new since
    their last visit, the liveliest first, at most ``ROOMS``; and how many open rooms they have.
    What they did themselves is not news to them; forum topics and posts hidden or deleted are
    left out. One query for every room."""
    not_mine = user.id
    counts = [
        new_since_visit(
            Resource,
            Resource.updated_at,
            Resource.room_id,
            Resource.created_by_id.is_distinct_from(not_mine),
        ),
        new_since_visit(
            Topic,
            Topic.created_at,
            Forum.room_id,
            Topic.forum_id == Forum.id,
            Topic.author_id.is_distinct_from(not_mine),
            *_shown(Topic),
        ),
        new_since_visit(
            Post,
            Post.created_at,
            Forum.room_id,
            Post.forum_id == Forum.id,
            Post.seq > 1,
            Post.author_id.is_distinct_from(not_mine),
            Post.topic_id == Topic.id,
            *_shown(Post),
            *_shown(Topic),
        ),
        new_since_visit(
            LiveSession,
            LiveSession.created_at,
            LiveSession.room_id,
            LiveSession.created_by_id.is_distinct_from(not_mine),
        ),
        # A recording is new when its file is: the session's webinar got it since the visit.
        new_since_visit(
            LiveSession,
            StoredFile.created_at,
            LiveSession.room_id,
            LiveSession.webinar_id == Webinar.id,
            Webinar.recording_id == StoredFile.id,
        ),
        new_since_visit(
            Message,
            Message.created_at,
            Message.room_id,
            Message.deleted_at.is_(None),
            Message.author_id.is_distinct_from(not_mine),
        ),
    ]
    conditions = [Membership.user_id == user.id, Room.archived_at.is_(None)]
    if hosted_only:
        conditions.append(Membership.role == "host")
    rows = db.session.execute(
        select(
            Room.id,
            Room.name,
            func.coalesce(Membership.last_visit_at, Membership.joined_at),
            *counts,
        )
        .join(Membership, Membership.room_id == Room.id)
        .where(*conditions)
        .order_by(Room.name, Room.id)
    ).all()
    news = [RoomNews(*row) for row in rows]
    lively = [room for room in news if room.anything]
    lively.sort(key=lambda room: -room.total)
    return lively[:ROOMS], len(news)


def certificates_of(user) -> tuple[list[Certificate], int]:
    """The person's newest ``CERTIFICATES`` certificates, revoked ones included (shown as such),
    and how many they hold. Two queries."""
    mine = Certificate.user_id == user.id
    total = db.session.scalar(select(func.count(Certificate.id)).where(mine))
    newest = db.session.scalars(
        select(Certificate)
        .where(mine)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .limit(CERTIFICATES)
    ).all()
    return list(newest), total


# Trainers.
@dataclass(frozen=True)
class WaitingRequests:
    """A module of the trainer's with requests to enrol waiting for a decision."""

    module_id: int
    title: str
    count: int


def waiting_requests(user) -> list[WaitingRequests]:
    """The modules the person authors (every module for administrators) with requests to enrol
    waiting, the most requests first. One query."""
    modules = queries.scope_of(user).modules
    rows = db.session.execute(
        select(Module.id, Module.title, func.count(Enrolment.id).label("waiting"))
        .join(Enrolment, Enrolment.module_id == Module.id)
        .where(modules, Enrolment.status == "requested")
        .group_by(Module.id, Module.title)
        .order_by(func.count(Enrolment.id).desc(), Module.title, Module.id)
    ).all()
    return [WaitingRequests(*row) for row in rows]


def module_completion(user) -> tuple[list[queries.Figures], int]:
    """The completion figures of the person's modules since they opened (enrolments accepted,
    completions, completion rate), as the statistics count them, the most enrolled first, at
    most ``MODULE_FIGURES``; and how many modules they author. Two queries."""
    scope = queries.scope_of(user)
    figures = queries.module_figures(Filters(), scope, group="module")
    figures.sort(key=lambda row: (-row.enrolments, -row.completions, str(row.label)))
    authored = db.session.scalar(select(func.count(Module.id)).where(scope.modules))
    return figures[:MODULE_FIGURES], authored


# Administrators.
def this_month(today: date) -> Filters:
    """The filters of the current month (UTC), from its first day to ``today``."""
    return Filters(start=today.replace(day=1), end=today)


@dataclass(frozen=True)
class MonthFigures:
    """The platform's figures for a period, from ``learnplatform.stats``."""

    filters: Filters
    registrations: int
    enrolments: int
    completions: int
    certificates: int
    active_users: int
    sessions_held: int


def month_figures(user, today: date | None = None) -> MonthFigures:
    """The whole platform's figures for the current month. Two queries."""
    filters = this_month(today or utcnow().date())
    totals = queries.totals(filters, queries.scope_of(user))
    platform = queries.platform_figures(filters)
    return MonthFigures(
        filters=filters,
        registrations=platform["registrations"],
        enrolments=totals.enrolments,
        completions=totals.completions,
        certificates=platform["certificates"],
        active_users=platform["active_users"],
        sessions_held=platform["sessions_held"],
    )


# The page.
def home_of(user) -> tuple[str, dict]:
    """The template of the person's home and what it shows, by their role."""
    if user.is_administrator:
        return "home/administrator.html", {
            "month": month_figures(user),
            "requests": waiting_requests(user),
        }
    if user.is_trainer:
        news, rooms = room_news(user, hosted_only=True)
        figures, authored = module_completion(user)
        return "home/trainer.html", {
            "requests": waiting_requests(user),
            "sessions": coming_sessions(user, hosted_only=True),
            "news": news,
            "rooms": rooms,
            "figures": figures,
            "authored": authored,
        }
    steps, in_progress = next_steps(user)
    news, rooms = room_news(user)
    certificates, certificate_count = certificates_of(user)
    return "home/practitioner.html", {
        "steps": steps,
        "in_progress": in_progress,
        "sessions": coming_sessions(user),
        "news": news,
        "rooms": rooms,
        "certificates": certificates,
        "certificate_count": certificate_count,
        "surveys": waiting_for(user.id),
    }
