"""The donor report's figures: the statistics dashboard's own queries, the knowledge gain's and
the survey results', run in the reader's scope narrowed to the modules, iRooms and webinar series
chosen, so that the report and those pages never disagree. A fixed number of queries whatever
the size of the data."""

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from courses.models import Enrolment, Module, WebinarSeries
from irooms.models import Room
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.stats import gain, queries
from learnplatform.stats.filters import Filters
from learnplatform.stats.queries import Figures, Scope
from learnplatform.surveys import results


def narrowed(scope: Scope, modules: list[int], rooms: list[int], series: list[int]) -> Scope:
    """``scope`` kept to the modules, iRooms and webinar series chosen (none chosen: all)."""
    return Scope(
        modules=and_(scope.modules, Module.id.in_(modules)) if modules else scope.modules,
        series=and_(scope.series, WebinarSeries.id.in_(series)) if series else scope.series,
        rooms=and_(scope.rooms, Room.id.in_(rooms)) if rooms else scope.rooms,
        everything=scope.everything and not (modules or rooms or series),
    )


def room_choices(scope: Scope) -> list[tuple[int, str]]:
    """The iRooms someone may choose: (id, name), by name."""
    query = select(Room.id, Room.name).where(scope.rooms).order_by(Room.name, Room.id)
    return [(room_id, name) for room_id, name in db.session.execute(query)]


def series_choices(scope: Scope) -> list[tuple[int, str]]:
    """The webinar series someone may choose: (id, title), by title."""
    query = (
        select(WebinarSeries.id, WebinarSeries.title)
        .where(scope.series)
        .order_by(WebinarSeries.title, WebinarSeries.id)
    )
    return [(series_id, title) for series_id, title in db.session.execute(query)]


@dataclass
class Report:
    """What the report says, for one period and selection."""

    #: the module figures of the whole selection (enrolments, completions, learners trained...)
    totals: Figures
    #: distinct learners with an enrolment accepted in the period
    learners_enrolled: int
    #: of the learners trained, the women
    women_trained: int
    #: learners trained by agency type: (code or None, count), most first
    by_agency_type: list[tuple[str | None, int]] = field(default_factory=list)
    #: learners trained by region: (M49 code or None, count), most first
    by_region: list[tuple[str | None, int]] = field(default_factory=list)
    #: webinar recordings: views, and downloads of recordings and slides
    recording_views: int = 0
    recording_downloads: int = 0
    #: live sessions of the iRooms held in the period, and attendances at them
    sessions_held: int = 0
    attendances: int = 0
    #: iRooms in the selection
    rooms: int = 0
    #: pre-test and post-test of the same learners (``stats.gain.summary``)
    knowledge_gain: dict = field(default_factory=dict)
    #: the evaluations' and session surveys' answers (``surveys.results.satisfaction``)
    satisfaction: dict = field(default_factory=dict)
    #: each follow-up survey's answers (``surveys.results.follow_up_figures``)
    follow_ups: list[dict] = field(default_factory=list)

    @property
    def women_share(self) -> float | None:
        """The women's share of the learners trained, 0 to 1; None when nobody was trained."""
        return self.women_trained / self.totals.trained if self.totals.trained else None

    @property
    def completion_share(self) -> float | None:
        """Of the period's enrolments, the share completed since, 0 to 1; None without any."""
        if not self.totals.enrolments:
            return None
        return self.totals.completed_of_enrolled / self.totals.enrolments


def report_of(filters: Filters, scope: Scope) -> Report:
    """The report's figures for the period of ``filters`` in ``scope`` (already narrowed)."""
    by_gender = queries.module_figures(filters, scope, "gender")
    report = Report(
        totals=queries.totals(filters, scope),
        learners_enrolled=_learners_enrolled(filters, scope),
        women_trained=sum(row.trained for row in by_gender if row.key == "woman"),
        by_agency_type=_trained_by(queries.module_figures(filters, scope, "agency_type")),
        by_region=_trained_by(queries.module_figures(filters, scope, "region")),
    )
    for row in queries.recording_figures(filters, scope):
        report.recording_views += row["view"]
        report.recording_downloads += row["download"] + row["slides"]
    report.knowledge_gain = gain.summary(filters, scope)
    report.satisfaction = results.satisfaction(filters, scope)
    report.follow_ups = results.follow_up_figures(filters, scope)
    rooms = queries.room_figures(filters, scope)
    report.rooms = len(rooms)
    report.sessions_held = sum(row["sessions"] for row in rooms)
    report.attendances = sum(row["attendance"] for row in rooms)
    return report


def _trained_by(rows: list[Figures]) -> list[tuple[str | None, int]]:
    counted = [(row.key, row.trained) for row in rows if row.trained]
    return sorted(counted, key=lambda pair: (-pair[1], pair[0] is None, str(pair[0])))


def _learners_enrolled(filters: Filters, scope: Scope) -> int:
    query = (
        select(func.count(Enrolment.user_id.distinct()))
        .join(User, User.id == Enrolment.user_id)
        .join(Module, Module.id == Enrolment.module_id)
        .where(
            *queries.within(Enrolment.enrolled_at, filters),
            *queries.module_conditions(filters, scope),
            *queries.learner_conditions(filters),
        )
    )
    return db.session.scalar(query) or 0
