"""The platform's figures, computed by the database in a fixed number of queries whatever the size
of the data.

Modules (each figure counts enrolments, never people twice within one enrolment):

- **enrolments**: enrolments accepted (``enrolled_at``) in the period;
- **completions**: enrolments completed (``completed_at``) in the period;
- **completion rate**: of the enrolments accepted in the period, the share completed since;
- **trained**: distinct learners with a completion in the period;
- **average score**: the mean post-test score of the period's completions that have one;
- **countries**: distinct countries of the learners trained.

Interactive (SCORM) lessons count, per lesson, the learners who started an attempt in the period
and, of those learners and those attempts: who completed one, who passed or failed (as their last
judged attempt says), their best scores and the time they spent (see ``scorm_figures``).

Recordings count one row per view or download (``RecordingEvent``), library resources one row per
download, iRooms their members, the members active in the period (who posted, attended a session
or downloaded from the library), messages, sessions held and attendances.

Forums (each iRoom's, and each module's discussion once opened) count what their members see,
hidden and deleted topics and posts left out: topics and questions started in the period, replies
posted in it, questions whose answer was marked in it, and the people who posted in it (see
``forum_figures``).

Learner filters (country, region, gender, agency type, organisation) apply to the people counted
everywhere; module filters (module, theme, language) to modules, and theme and language to
webinar series and iRooms. Trainers see the figures of the modules and webinar series they created
and of the iRooms they host.
"""

from dataclasses import dataclass

from flask import g
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.orm import aliased
from werkzeug.datastructures import MultiDict

from courses.models import (
    Certificate,
    Enrolment,
    Lesson,
    Module,
    RecordingEvent,
    Webinar,
    WebinarSeries,
)
from courses.scorm.models import ScormAttempt, ScormPackage, ScormTrack
from irooms.models import (
    Attendance,
    LiveSession,
    Membership,
    Message,
    Resource,
    ResourceDownload,
    Room,
)
from learnplatform.accounts.models import LoginSession, User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from learnplatform.regions import countries_in, region_column, region_of
from learnplatform.stats.filters import FilterForm, Filters, read_filters


# Who sees what.
@dataclass(frozen=True)
class Scope:
    """The modules, webinar series and iRooms whose figures someone may see."""

    modules: ColumnElement[bool]
    series: ColumnElement[bool]
    rooms: ColumnElement[bool]
    everything: bool


def scope_of(user) -> Scope:
    """Administrators see everything, trainers what they created or host, others nothing."""
    if user.is_administrator:
        return Scope(true(), true(), true(), everything=True)
    if user.is_trainer:
        hosted = select(Membership.room_id).where(
            Membership.user_id == user.id, Membership.role == "host"
        )
        return Scope(
            Module.created_by_id == user.id,
            WebinarSeries.created_by_id == user.id,
            Room.id.in_(hosted),
            everything=False,
        )
    return Scope(false(), false(), false(), everything=False)


def module_choices(scope: Scope) -> list[tuple[int, str]]:
    """The modules someone may filter by: (id, title), by title."""
    return [
        (module_id, title)
        for module_id, title in db.session.execute(
            select(Module.id, Module.title).where(scope.modules).order_by(Module.title, Module.id)
        )
    ]


def scope_and_filters(user, args: MultiDict) -> tuple[Scope, FilterForm, Filters | None]:
    """What ``user`` may see, the filter form filled from ``args`` (a query string) with the
    modules they may choose, and its filters when they are valid (None otherwise)."""
    scope = scope_of(user)
    form, filters = read_filters(args, module_choices(scope), today=utcnow().date())
    return scope, form, filters


# Conditions.
def profile_conditions(filters: Filters, country, gender, agency_type) -> list[ColumnElement[bool]]:
    """Conditions on the given profile columns (a person's, or the copy a survey response keeps)
    for the slice of people: country, region, gender and agency type."""
    conditions = []
    if filters.country:
        conditions.append(country == filters.country)
    if filters.region:
        conditions.append(country.in_(countries_in(filters.region)))
    if filters.gender:
        conditions.append(gender == filters.gender)
    if filters.agency_type:
        conditions.append(agency_type == filters.agency_type)
    return conditions


def learner_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions on ``User`` for the slice of people."""
    conditions = profile_conditions(filters, User.country, User.gender, User.agency_type)
    if filters.organisation:
        pattern = "%" + _escaped(filters.organisation.lower()) + "%"
        conditions.append(func.lower(User.organisation).like(pattern, escape="\\"))
    return conditions


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def module_conditions(filters: Filters, scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions on ``Module`` for the slice of modules someone may see."""
    conditions = [scope.modules, *_theme_and_language(Module, filters)]
    if filters.module:
        conditions.append(Module.id == filters.module)
    return conditions


def _theme_and_language(model, filters: Filters) -> list[ColumnElement[bool]]:
    """The theme and language filters on a module, webinar series or iRoom."""
    conditions = []
    if filters.theme:
        conditions.append(model.theme == filters.theme)
    if filters.language:
        conditions.append(model.language == filters.language)
    return conditions


def within(column, filters: Filters) -> list[ColumnElement[bool]]:
    """``column`` (a UTC timestamp) within the period."""
    conditions = [column.is_not(None)]
    if filters.since:
        conditions.append(column >= filters.since)
    if filters.before:
        conditions.append(column < filters.before)
    return conditions


def period_key(column, interval: str) -> ColumnElement[str]:
    """The month (``2026-03``), quarter (``2026-Q1``) or year (``2026``) of a timestamp."""
    if db.session.get_bind().dialect.name == "sqlite":
        year = func.strftime("%Y", column)
        if interval == "month":
            return func.strftime("%Y-%m", column)
        if interval == "quarter":
            month = cast(func.strftime("%m", column), db.Integer)
            return year + "-Q" + cast((month + 2) // 3, String)
        return year
    formats = {"month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}
    return func.to_char(column, formats[interval])


def iso_time(column) -> ColumnElement[str]:
    """A UTC timestamp as ISO 8601 text (``2026-01-10T09:00:00Z``), written by the database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%dT%H:%M:%SZ", column)
    return func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')


def _group_columns(group: str) -> list:
    """The key of each group the database counts by: a code or an id, and the title of a
    module. Regions and totals are added up from the countries (see module_figures)."""
    columns = {
        "module": [Module.id, Module.title],
        "theme": [Module.theme],
        "language": [Module.language],
        "country": [User.country],
        "gender": [User.gender],
        "agency_type": [User.agency_type],
        "organisation": [User.organisation],
    }
    return columns[group]


# Modules.
@dataclass
class Figures:
    """The module figures of one group (or of everything)."""

    key: object = None
    label: str | None = None
    enrolments: int = 0
    completed_of_enrolled: int = 0
    completions: int = 0
    trained: int = 0
    countries: int = 0
    score_total: float = 0.0
    scored: int = 0

    @property
    def completion_rate(self) -> float | None:
        """Percent of the period's enrolments completed since, one decimal; None without any."""
        if not self.enrolments:
            return None
        return round(100 * self.completed_of_enrolled / self.enrolments, 1)

    @property
    def average_score(self) -> float | None:
        """Mean post-test score in percent, one decimal; None without any."""
        return round(self.score_total / self.scored, 1) if self.scored else None

    def as_dict(self) -> dict:
        return {
            "enrolments": self.enrolments,
            "completions": self.completions,
            "completion_rate": self.completion_rate,
            "trained": self.trained,
            "countries": self.countries,
            "average_score": self.average_score,
        }


def _enrolments(filters: Filters, scope: Scope, keys: list, date_column) -> Select:
    return (
        select(*keys)
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(Module, Module.id == Enrolment.module_id)
        .where(
            *within(date_column, filters),
            *module_conditions(filters, scope),
            *learner_conditions(filters),
        )
    )


def _completion_counts(completed) -> list:
    """Completions, learners trained, their countries, score total and scores counted."""

    def when(value):
        return case((completed, value)) if completed is not None else value

    return [
        func.count(when(Enrolment.id)),
        func.count(when(Enrolment.user_id).distinct()),
        func.count(when(User.country).distinct()),
        func.coalesce(func.sum(when(Enrolment.post_test_percent)), 0),
        func.count(when(Enrolment.post_test_percent)),
    ]


def _take_completions(figures: Figures, count, trained, countries, score_total, scored):
    figures.completions, figures.trained, figures.countries = count, trained, countries
    figures.score_total, figures.scored = float(score_total), scored


def module_figures(
    filters: Filters, scope: Scope, group: str | None = None, interval: str | None = None
) -> list[Figures]:
    """The module figures by ``group`` or by ``interval`` (or in all when neither).

    By group, one pass over the enrolments accepted or completed in the period counts both;
    over time, an enrolment and its completion may fall in different months, so one query
    groups the enrolments by their month and another the completions by theirs.
    """
    found: dict[str, Figures] = {}

    def figures_of(key: str) -> Figures:
        return found.setdefault(key, Figures(key=key))

    if interval:
        month = period_key(Enrolment.enrolled_at, interval).label("key")
        enrolled = _enrolments(
            filters,
            scope,
            [month, func.count(Enrolment.id), func.count(Enrolment.completed_at)],
            Enrolment.enrolled_at,
        ).group_by(month)
        for key, enrolments, completed in db.session.execute(enrolled):
            figures = figures_of(key)
            figures.enrolments, figures.completed_of_enrolled = enrolments, completed
        month = period_key(Enrolment.completed_at, interval).label("key")
        completions = _enrolments(
            filters, scope, [month, *_completion_counts(None)], Enrolment.completed_at
        ).group_by(month)
        for key, *counts in db.session.execute(completions):
            _take_completions(figures_of(key), *counts)
        return sorted(found.values(), key=lambda figures: figures.key or "")

    if group in (None, "region", "subregion"):
        # Each learner has one country: by-country figures add up to regions and to the total,
        # distinct learners included, which spares the database two passes.
        rows = _rolled_up(_by_country(filters, scope), group)
        if group:
            rows.sort(key=lambda f: (-f.completions, -f.enrolments, str(f.key)))
            return rows
        return rows or [Figures()]
    if group == "country":
        return list(_by_country(filters, scope))
    return _grouped(filters, scope, group)


def _by_country(filters: Filters, scope: Scope) -> list[Figures]:
    """The figures by country, asked of the database once per request and set of filters."""
    cache = g.setdefault("stats_by_country", {})
    key = (filters, id(scope))
    if key not in cache:
        cache[key] = (scope, _grouped(filters, scope, "country"))  # the scope kept alive
    return cache[key][1]


def _rolled_up(rows: list[Figures], level: str | None) -> list[Figures]:
    """Figures by country added up by region, by sub-region, or (``level`` None) in all."""
    totals: dict = {}
    for row in rows:
        key = region_of(row.key, level) if level else None
        total = totals.setdefault(key, Figures(key=key))
        total.enrolments += row.enrolments
        total.completed_of_enrolled += row.completed_of_enrolled
        total.completions += row.completions
        total.trained += row.trained
        total.countries += row.countries
        total.score_total += row.score_total
        total.scored += row.scored
    return list(totals.values())


def _grouped(filters: Filters, scope: Scope, group: str) -> list[Figures]:
    """The figures by ``group``, in one pass over the period's enrolments and completions."""
    found: dict[tuple, Figures] = {}
    keys = _group_columns(group)
    enrolled_in = and_(*within(Enrolment.enrolled_at, filters))
    completed_in = and_(*within(Enrolment.completed_at, filters))
    query = (
        select(
            *keys,
            func.count(case((enrolled_in, Enrolment.id))),
            func.count(case((and_(enrolled_in, Enrolment.completed_at.is_not(None)), 1))),
            *_completion_counts(completed_in),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(Module, Module.id == Enrolment.module_id)
        .where(
            or_(enrolled_in, completed_in),
            *module_conditions(filters, scope),
            *learner_conditions(filters),
        )
    )
    width = len(keys)
    for row in db.session.execute(query.group_by(*keys)):
        key = tuple(row[:width])
        figures = found[key] = Figures(key=key[0], label=key[1] if width > 1 else None)
        figures.enrolments, figures.completed_of_enrolled = row[width], row[width + 1]
        _take_completions(figures, *row[width + 2 :])
    rows = list(found.values())
    rows.sort(key=lambda figures: (-figures.completions, -figures.enrolments, str(figures.key)))
    return rows


def totals(filters: Filters, scope: Scope) -> Figures:
    """The module figures of the whole slice."""
    return module_figures(filters, scope)[0]


# Recordings and library resources.
def recording_figures(filters: Filters, scope: Scope, interval: str | None = None) -> list[dict]:
    """Views, recording downloads and slide downloads per webinar (or per ``interval``)."""
    people = learner_conditions(filters)
    if interval:
        keys = [period_key(RecordingEvent.at, interval).label("key")]
    else:
        keys = [Webinar.id, Webinar.title, WebinarSeries.title.label("series")]
    query = (
        select(*keys, RecordingEvent.kind, func.count(RecordingEvent.id))
        .join(Webinar, Webinar.id == RecordingEvent.webinar_id)
        .join(WebinarSeries, WebinarSeries.id == Webinar.series_id)
        .where(
            scope.series,
            *within(RecordingEvent.at, filters),
            *_theme_and_language(WebinarSeries, filters),
        )
        .group_by(*keys, RecordingEvent.kind)
    )
    if people:  # only then: the views of people since deleted still count
        query = query.join(User, User.id == RecordingEvent.user_id).where(*people)
    rows: dict[tuple, dict] = {}
    for *key, kind, count in db.session.execute(query):
        row = rows.setdefault(tuple(key), _recording_row(key, interval))
        row[kind] = count
    return _ordered(rows, interval, "view")


def _recording_row(key: list, interval: str | None) -> dict:
    row = {"view": 0, "download": 0, "slides": 0}
    if interval:
        return {"key": key[0], **row}
    return {"key": key[0], "title": key[1], "series": key[2], **row}


def _ordered(rows: dict, interval: str | None, by: str) -> list[dict]:
    if interval:
        return sorted(rows.values(), key=lambda row: row["key"] or "")
    return sorted(rows.values(), key=lambda row: (-row[by], str(row.get("title"))))


def _room_conditions(filters: Filters, scope: Scope) -> list[ColumnElement[bool]]:
    return [scope.rooms, *_theme_and_language(Room, filters)]


def resource_figures(filters: Filters, scope: Scope, interval: str | None = None) -> list[dict]:
    """Downloads per library resource (or per ``interval``)."""
    people = learner_conditions(filters)
    if interval:
        keys = [period_key(ResourceDownload.at, interval).label("key")]
    else:
        keys = [Resource.id, Resource.title, Room.name.label("room")]
    query = (
        select(*keys, func.count(ResourceDownload.id))
        .join(Resource, Resource.id == ResourceDownload.resource_id)
        .join(Room, Room.id == Resource.room_id)
        .where(*_room_conditions(filters, scope), *within(ResourceDownload.at, filters))
        .group_by(*keys)
    )
    if people:  # only then: the views of people since deleted still count
        query = query.join(User, User.id == ResourceDownload.user_id).where(*people)
    rows = {}
    for *key, count in db.session.execute(query):
        if interval:
            rows[tuple(key)] = {"key": key[0], "downloads": count}
        else:
            rows[tuple(key)] = {"key": key[0], "title": key[1], "room": key[2], "downloads": count}
    return _ordered(rows, interval, "downloads")


# Interactive (SCORM) lessons.
def scorm_figures(filters: Filters, scope: Scope) -> list[dict]:
    """Per SCORM lesson of the modules in the slice, by module title then place in the module,
    lessons nobody tried included, the figures of the attempts started in the period by the
    learners in the slice:

    - **learners**: distinct learners with an attempt;
    - **completed**: of them, those with an attempt completed (at any time since);
    - **passed**, **failed**: of them, those whose last judged attempt (the last one with a
      success status) passed, or failed; a learner never judged counts in neither;
    - **average score**: the mean over learners of each one's best score, percent, one decimal
      (None without any score);
    - **average minutes**: the mean over learners of the time spent in their attempts (all
      their tracks added up), one decimal.

    One query whatever the number of lessons, attempts and learners: one row per learner and
    package is made in the database, then added up per package.
    """
    seconds = ScormTrack.earlier_seconds + ScormTrack.session_seconds
    per_learner = (
        select(
            ScormAttempt.package_id.label("package_id"),
            ScormAttempt.user_id.label("user_id"),
            func.max(case((ScormAttempt.completed_at.is_not(None), 1), else_=0)).label("completed"),
            func.max(ScormAttempt.score_percent).label("best"),
            func.max(case((ScormAttempt.success.is_not(None), ScormAttempt.number))).label(
                "last_judged"
            ),
            func.coalesce(func.sum(seconds), 0).label("seconds"),
        )
        # Each attempt once per track: sums are of tracks, the rest maxima, which repeats spare.
        .outerjoin(ScormTrack, ScormTrack.attempt_id == ScormAttempt.id)
        .join(User, User.id == ScormAttempt.user_id)
        .join(ScormPackage, ScormPackage.id == ScormAttempt.package_id)
        .join(Lesson, Lesson.id == ScormPackage.lesson_id)
        .join(Module, Module.id == Lesson.module_id)
        .where(
            *within(ScormAttempt.started_at, filters),
            *module_conditions(filters, scope),
            *learner_conditions(filters),
        )
        .group_by(ScormAttempt.package_id, ScormAttempt.user_id)
        .subquery()
    )
    judged = aliased(ScormAttempt)
    per_package = (
        select(
            per_learner.c.package_id,
            func.count().label("learners"),
            func.sum(per_learner.c.completed).label("completed"),
            func.count(case((judged.success == "passed", 1))).label("passed"),
            func.count(case((judged.success == "failed", 1))).label("failed"),
            func.avg(per_learner.c.best).label("score"),
            func.avg(per_learner.c.seconds).label("seconds"),
        )
        .outerjoin(
            judged,
            and_(
                judged.package_id == per_learner.c.package_id,
                judged.user_id == per_learner.c.user_id,
                judged.number == per_learner.c.last_judged,
            ),
        )
        .group_by(per_learner.c.package_id)
        .subquery()
    )
    query = (
        select(
            Lesson.id,
            Lesson.title,
            Module.id,
            Module.title,
            per_package.c.learners,
            per_package.c.completed,
            per_package.c.passed,
            per_package.c.failed,
            per_package.c.score,
            per_package.c.seconds,
        )
        .join(Module, Module.id == Lesson.module_id)
        .outerjoin(ScormPackage, ScormPackage.lesson_id == Lesson.id)
        .outerjoin(per_package, per_package.c.package_id == ScormPackage.id)
        .where(Lesson.kind == "scorm", *module_conditions(filters, scope))
        .order_by(Module.title, Module.id, Lesson.position, Lesson.id)
    )
    return [
        {
            "key": lesson_id,
            "title": title,
            "module_id": module_id,
            "module": module,
            "learners": learners or 0,
            "completed": int(completed or 0),
            "passed": passed or 0,
            "failed": failed or 0,
            "average_score": round(float(score), 1) if score is not None else None,
            "average_minutes": round(float(spent) / 60, 1) if learners else None,
        }
        for (
            lesson_id,
            title,
            module_id,
            module,
            learners,
            completed,
            passed,
            failed,
            score,
            spent,
        ) in db.session.execute(query)
    ]


def scorm_scores(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """For (module id, learner id) pairs, the mean of the learner's best scores over the
    module's SCORM lessons they have a score in, percent, one decimal; pairs without any are
    left out. One query for any number of pairs (ask for a batch at a time)."""
    if not pairs:
        return {}
    best = (
        select(
            Lesson.module_id.label("module_id"),
            ScormAttempt.user_id.label("user_id"),
            func.max(ScormAttempt.score_percent).label("best"),
        )
        .join(ScormPackage, ScormPackage.id == ScormAttempt.package_id)
        .join(Lesson, Lesson.id == ScormPackage.lesson_id)
        .where(
            Lesson.kind == "scorm",
            Lesson.module_id.in_(sorted({module for module, _ in pairs})),
            ScormAttempt.user_id.in_(sorted({user for _, user in pairs})),
            ScormAttempt.score_percent.is_not(None),
        )
        .group_by(Lesson.module_id, ScormAttempt.user_id, ScormAttempt.package_id)
        .subquery()
    )
    query = select(best.c.module_id, best.c.user_id, func.avg(best.c.best)).group_by(
        best.c.module_id, best.c.user_id
    )
    return {
        (module, user): round(float(mean), 1)
        for module, user, mean in db.session.execute(query)
        if (module, user) in pairs
    }


# iRooms.
def sessions_held(filters: Filters) -> list[ColumnElement[bool]]:
    """Live sessions held in the period: ended within it, and ended by now."""
    return [*within(LiveSession.ends_at, filters), LiveSession.ends_at <= utcnow()]


def room_figures(filters: Filters, scope: Scope) -> list[dict]:
    """Per iRoom: members at the end of the period, members active in it, messages, sessions
    held and attendances. Five queries whatever the number of rooms."""
    people = learner_conditions(filters)
    rooms = {
        room_id: {
            "key": room_id,
            "title": name,
            "members": 0,
            "active": 0,
            "messages": 0,
            "sessions": 0,
            "attendance": 0,
        }
        for room_id, name in db.session.execute(
            select(Room.id, Room.name).where(*_room_conditions(filters, scope)).order_by(Room.name)
        )
    }
    if not rooms:
        return []
    in_rooms = list(rooms)

    joined = [Membership.room_id.in_(in_rooms), *people]
    if filters.before:
        joined.append(Membership.joined_at < filters.before)
    for room_id, count in db.session.execute(
        select(Membership.room_id, func.count(Membership.id))
        .join(User, User.id == Membership.user_id)
        .where(*joined)
        .group_by(Membership.room_id)
    ):
        rooms[room_id]["members"] = count

    for room_id, count in db.session.execute(
        select(Message.room_id, func.count(Message.id))
        .join(User, User.id == Message.author_id)
        .where(Message.room_id.in_(in_rooms), *within(Message.created_at, filters), *people)
        .group_by(Message.room_id)
    ):
        rooms[room_id]["messages"] = count

    held = [LiveSession.room_id.in_(in_rooms), *sessions_held(filters)]
    for room_id, count in db.session.execute(
        select(LiveSession.room_id, func.count(LiveSession.id))
        .where(*held)
        .group_by(LiveSession.room_id)
    ):
        rooms[room_id]["sessions"] = count
    for room_id, count in db.session.execute(
        select(LiveSession.room_id, func.count(Attendance.id))
        .join(Attendance, Attendance.session_id == LiveSession.id)
        .join(User, User.id == Attendance.user_id)
        .where(*held, *people)
        .group_by(LiveSession.room_id)
    ):
        rooms[room_id]["attendance"] = count

    # Active: posted, attended or downloaded in the period, each person once per room.
    activity = union(
        select(Message.room_id.label("room_id"), Message.author_id.label("user_id")).where(
            Message.room_id.in_(in_rooms), *within(Message.created_at, filters)
        ),
        select(LiveSession.room_id, Attendance.user_id)
        .join(Attendance, Attendance.session_id == LiveSession.id)
        .where(LiveSession.room_id.in_(in_rooms), *within(Attendance.at, filters)),
        select(Resource.room_id, ResourceDownload.user_id)
        .join(Resource, Resource.id == ResourceDownload.resource_id)
        .where(Resource.room_id.in_(in_rooms), *within(ResourceDownload.at, filters)),
    ).subquery()
    members = (
        select(Membership.room_id, Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.room_id.in_(in_rooms), *people)
        .subquery()
    )
    for room_id, count in db.session.execute(
        select(activity.c.room_id, func.count())
        .join(
            members,
            and_(members.c.room_id == activity.c.room_id, members.c.user_id == activity.c.user_id),
        )
        .group_by(activity.c.room_id)
    ):
        rooms[room_id]["active"] = count
    return list(rooms.values())


# The platform.
def platform_figures(filters: Filters) -> dict[str, int]:
    """What happened on the whole platform in the period, in one query, for administrators:

    - **registrations**: accounts created;
    - **certificates**: certificates issued (revoked ones too: they were issued);
    - **active users**: distinct people whose login sessions were last seen in the period (for
      the current month: everyone who used the platform since its first day);
    - **sessions held**: live sessions of every iRoom that ended in the period.

    Enrolments and completions are the module figures' (``totals``).
    """

    def counted(what, *conditions):
        return select(what).where(*conditions).scalar_subquery()

    row = db.session.execute(
        select(
            counted(func.count(User.id), *within(User.created_at, filters)).label("registrations"),
            counted(func.count(Certificate.id), *within(Certificate.issued_at, filters)).label(
                "certificates"
            ),
            counted(
                func.count(LoginSession.user_id.distinct()),
                *within(LoginSession.last_seen_at, filters),
            ).label("active_users"),
            counted(func.count(LiveSession.id), *sessions_held(filters)).label("sessions_held"),
        )
    ).one()
    return dict(row._mapping)


# Forums.
def forum_figures(filters: Filters, scope: Scope) -> list[dict]:
    """Per forum of the slice: every iRoom's (zeros where its forum is quiet or was never
    opened), then each module's discussion once opened, by name; of the topics and posts members
    see (neither they nor their topic hidden or deleted):

    - **topics**: topics started in the period;
    - **replies**: posts other than a topic's opening one posted in the period;
    - **questions**: of the topics started, those that are questions;
    - **answered**: questions whose answer (a reply members see) was marked in the period,
      whenever they were asked;
    - **active**: distinct people who posted (an opening post or a reply) in the period.

    Learner filters apply to the authors: of the topic for topics, questions and answered
    questions, of the post for replies and active people. One query whatever the number of
    forums, topics and posts.
    """
    people = learner_conditions(filters)
    forums = union_all(
        select(
            literal("iroom").label("kind"),
            Room.id.label("owner_id"),
            Room.name.label("title"),
            Forum.id.label("forum_id"),
        )
        .outerjoin(Forum, Forum.room_id == Room.id)
        .where(*_room_conditions(filters, scope)),
        select(literal("module"), Module.id, Module.title, Forum.id)
        .join(Module, Module.id == Forum.module_id)
        .where(*module_conditions(filters, scope)),
    ).cte("forums_in_slice")
    in_slice = select(forums.c.forum_id).where(forums.c.forum_id.is_not(None))

    answer = aliased(Post)
    started = and_(*within(Topic.created_at, filters))
    answered = and_(
        Topic.is_question,
        answer.id.is_not(None),
        *_shown(answer),
        *within(Topic.answered_at, filters),
    )
    topics = (
        select(
            Topic.forum_id.label("forum_id"),
            func.count(case((started, 1))).label("topics"),
            func.count(case((and_(started, Topic.is_question), 1))).label("questions"),
            func.count(case((answered, 1))).label("answered"),
        )
        .outerjoin(answer, answer.id == Topic.answer_post_id)
        .where(Topic.forum_id.in_(in_slice), *_shown(Topic), or_(started, answered))
        .group_by(Topic.forum_id)
    )
    posts = (
        select(
            Post.forum_id.label("forum_id"),
            func.count(case((Post.seq > 1, 1))).label("replies"),
            func.count(Post.author_id.distinct()).label("active"),
        )
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.forum_id.in_(in_slice),
            *_shown(Post),
            *_shown(Topic),
            *within(Post.created_at, filters),
        )
        .group_by(Post.forum_id)
    )
    if people:  # only then: the posts of people since deleted still count
        topics = topics.join(User, User.id == Topic.author_id).where(*people)
        posts = posts.join(User, User.id == Post.author_id).where(*people)
    topics, posts = topics.subquery(), posts.subquery()
    query = (
        select(
            forums.c.kind,
            forums.c.owner_id,
            forums.c.title,
            topics.c.topics,
            posts.c.replies,
            topics.c.questions,
            topics.c.answered,
            posts.c.active,
        )
        .outerjoin(topics, topics.c.forum_id == forums.c.forum_id)
        .outerjoin(posts, posts.c.forum_id == forums.c.forum_id)
        .order_by(forums.c.kind, forums.c.title, forums.c.owner_id)  # "iroom" before "module"
    )
    return [
        {
            "kind": kind,
            "key": owner_id,
            "title": title,
            "topics": started_count or 0,
            "replies": replies or 0,
            "questions": questions or 0,
            "answered": answered_count or 0,
            "active": active or 0,
        }
        for (
            kind,
            owner_id,
            title,
            started_count,
            replies,
            questions,
            answered_count,
            active,
        ) in db.session.execute(query)
    ]


def _shown(model) -> list[ColumnElement[bool]]:
    """A topic or post that members see: neither hidden nor deleted."""
    return [model.hidden_at.is_(None), model.deleted_at.is_(None)]


# The raw completion records.
def completion_records(filters: Filters, scope: Scope) -> Select:
    """One row per enrolment accepted or completed in the period, oldest enrolment first:
    enrolment id, learner id, name, country code, region and sub-region codes, gender, agency type,
    organisation, module id, title, theme, language, enrolled, completed, post-test score. The
    interactive lessons' score is not a column: ``with_scorm_scores`` adds it to a batch of
    rows at a time."""
    in_period = or_(
        and_(*within(Enrolment.enrolled_at, filters)),
        and_(*within(Enrolment.completed_at, filters)),
    )
    return (
        select(
            Enrolment.id,
            User.id,
            User.name,
            User.country,
            region_column(User.country, "region"),
            region_column(User.country, "subregion"),
            User.gender,
            User.agency_type,
            User.organisation,
            Module.id,
            Module.title,
            Module.theme,
            Module.language,
            iso_time(Enrolment.enrolled_at),
            iso_time(Enrolment.completed_at),
            Enrolment.post_test_percent,
        )
        .join(User, User.id == Enrolment.user_id)
        .join(Module, Module.id == Enrolment.module_id)
        .where(
            Enrolment.enrolled_at.is_not(None),
            in_period,
            *module_conditions(filters, scope),
            *learner_conditions(filters),
        )
        .order_by(Enrolment.id)
    )


def with_scorm_scores(records: list) -> list[tuple]:
    """Rows of ``completion_records`` with one more value: the learner's score in the module's
    interactive lessons (see ``scorm_scores``), None when there is none. One query a batch."""
    scores = scorm_scores({(row[9], row[1]) for row in records})  # (module id, learner id)
    return [(*row, scores.get((row[9], row[1]))) for row in records]


def count_of(query: Select) -> int:
    """How many rows ``query`` gives."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
