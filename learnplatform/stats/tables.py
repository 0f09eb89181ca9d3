"""Every statistic as a table: the same columns on the dashboard, in the exports (CSV, Excel,
JSON), through the API and on the command line.

A table has ``columns``: (key, title) pairs, the keys naming JSON fields and the titles heading
the spreadsheets; and ``rows``: tuples in that order. Codes (a country, a gender) stay codes in
JSON, for machines, and become names in the interface language in CSV and Excel, for people.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from learnplatform.choices import AGENCY_TYPES, GENDERS, LANGUAGES, THEMES, country_names
from learnplatform.exports import driver_rows, table_chunks
from learnplatform.regions import region_names
from learnplatform.stats import gain, queries
from learnplatform.stats.filters import GROUPS, INTERVALS, Filters
from learnplatform.templating import format_month

FIGURE_COLUMNS = [
    ("enrolments", _l("Enrolments")),
    ("completions", _l("Completions")),
    ("completion_rate", _l("Completion rate (%)")),
    ("trained", _l("Learners trained")),
    ("countries", _l("Countries")),
    ("average_score", _l("Average post-test score (%)")),
]

#: Column titles short enough for the dashboard's tables; the full title is their tooltip.
SHORT_TITLES = {
    "completion_rate": _l("Rate %"),
    "trained": _l("Trained"),
    "average_score": _l("Score %"),
    "downloads": _l("Downl."),
    "slide_downloads": _l("Slides"),
    "active_members": _l("Active"),
    "sessions_held": _l("Sessions"),
    "completed": _l("Completed"),
    "passed": _l("Passed"),
    "failed": _l("Not passed"),
    "average_minutes": _l("Minutes"),
    "topics": _l("Topics"),
    "questions": _l("Questions"),
    "answered": _l("Answered"),
}

#: The columns that hold figures (aligned right).
NUMERIC_COLUMNS = {
    *(key for key, _ in FIGURE_COLUMNS),
    *SHORT_TITLES,
    "views",
    "members",
    "messages",
    "attendances",
    "learners",
    "replies",
}


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: Iterable[tuple]
    #: for each column, how a code becomes a name in the spreadsheets (None: as it is)
    names: list[Callable | None] = field(default_factory=list)
    #: instead of ``names``, a function from a row to its named row (for the long tables)
    namer: Callable[[tuple], tuple] | None = None
    #: the columns of text that people typed, the only ones a spreadsheet could run as a
    #: formula; None when unknown (then every cell is checked)
    text_columns: tuple[int, ...] | None = None

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.columns]

    @property
    def header(self) -> list[str]:
        return [str(title) for _, title in self.columns]

    def named_rows(self) -> Iterator[tuple]:
        """The rows with codes turned into names, for people."""
        if self.namer is not None:
            yield from map(self.namer, self.rows)
            return
        if not any(self.names):
            yield from self.rows
            return
        names = list(self.names) + [None] * (len(self.columns) - len(self.names))
        pairs = [(index, name) for index, name in enumerate(names) if name is not None]
        for row in self.rows:
            row = list(row)
            for index, name in pairs:
                if row[index] is not None:
                    row[index] = name(row[index])
            yield tuple(row)

    def rows_for(self, fmt: str) -> Iterable[tuple]:
        """The rows as format ``fmt`` holds them: codes in JSON, names in CSV and Excel."""
        return self.rows if fmt == "json" else self.named_rows()

    def chunks(
        self, fmt: str, rows: Iterable[tuple] | None = None, *, binary: bool = False
    ) -> Iterator[str | bytes]:
        """The table as a file in format ``fmt``, written a piece at a time (see
        ``exports.table_chunks``); ``rows``, when given, are ``rows_for(fmt)`` passed through
        something that counts them."""
        return table_chunks(
            fmt,
            self.header,
            self.rows_for(fmt) if rows is None else rows,
            self.keys,
            self.text_columns,
            binary=binary,
        )

    def file_name(self, fmt: str, day: date) -> str:
        """The name its file of ``day`` is offered under: ``completions-20260401.csv``."""
        return f"{self.name}-{day:%Y%m%d}.{fmt}"


def _names(labels: dict) -> dict[str, str]:
    """``labels`` with their names read once, in the current language."""
    return {code: str(label) for code, label in labels.items()}


def _lookup(labels: dict) -> Callable:
    """A code -> name function over ``labels``."""
    names = _names(labels)
    return lambda code: names.get(code, code)


def period_name(key: str | None) -> str:
    """``2026-03`` -> "March 2026", ``2026-Q1`` -> "Q1 2026", ``2026`` -> "2026"."""
    if not key:
        return ""
    if "-Q" in key:
        year, quarter = key.split("-")
        return f"{quarter} {year}"
    if "-" in key:
        year, month = key.split("-")
        return format_month(int(year), int(month))
    return key


def group_name(group: str) -> Callable:
    """How a group's codes become names."""
    return {
        "theme": _lookup(THEMES),
        "language": _lookup(LANGUAGES),
        "country": _lookup(country_names()),
        "region": _lookup(region_names()),
        "subregion": _lookup(region_names()),
        "gender": _lookup(GENDERS),
        "agency_type": _lookup(AGENCY_TYPES),
    }.get(group, lambda value: value)


def _figure_row(first: tuple, figures: queries.Figures) -> tuple:
    values = figures.as_dict()
    return (*first, *(values[key] for key, _ in FIGURE_COLUMNS))


def breakdown(filters: Filters, scope: queries.Scope, group: str) -> Table:
    """The module figures by ``group``."""
    rows = queries.module_figures(filters, scope, group=group)
    if group == "module":
        return Table(
            "modules",
            str(_l("Modules")),
            [("module_id", _l("Module id")), ("module", _l("Module")), *FIGURE_COLUMNS],
            [_figure_row((f.key, f.label), f) for f in rows],
        )
    return Table(
        f"by-{group.replace('_', '-')}",
        str(GROUPS[group]),
        [(group, GROUPS[group]), *FIGURE_COLUMNS],
        [_figure_row((f.key,), f) for f in rows],
        names=[group_name(group)],
    )


def over_time(filters: Filters, scope: queries.Scope, interval: str) -> Table:
    """The module figures by month, quarter or year."""
    rows = queries.module_figures(filters, scope, interval=interval)
    return Table(
        f"by-{interval}",
        str(INTERVALS[interval]),
        [("period", _l("Period")), *FIGURE_COLUMNS],
        [_figure_row((f.key,), f) for f in rows],
        names=[period_name],
    )


def recordings(filters: Filters, scope: queries.Scope) -> Table:
    rows = queries.recording_figures(filters, scope)
    return Table(
        "recordings",
        str(_l("Webinar recordings")),
        [
            ("webinar_id", _l("Webinar id")),
            ("webinar", _l("Webinar")),
            ("series", _l("Series")),
            ("views", _l("Views")),
            ("downloads", _l("Recording downloads")),
            ("slide_downloads", _l("Slide downloads")),
        ],
        [(r["key"], r["title"], r["series"], r["view"], r["download"], r["slides"]) for r in rows],
    )


def recordings_over_time(filters: Filters, scope: queries.Scope, interval: str) -> Table:
    rows = queries.recording_figures(filters, scope, interval=interval)
    return Table(
        f"recordings-by-{interval}",
        str(_l("Webinar recordings over time")),
        [
            ("period", _l("Period")),
            ("views", _l("Views")),
            ("downloads", _l("Recording downloads")),
            ("slide_downloads", _l("Slide downloads")),
        ],
        [(r["key"], r["view"], r["download"], r["slides"]) for r in rows],
        names=[period_name],
    )


def resources(filters: Filters, scope: queries.Scope) -> Table:
    rows = queries.resource_figures(filters, scope)
    return Table(
        "resources",
        str(_l("Library resources")),
        [
            ("resource_id", _l("Resource id")),
            ("resource", _l("Resource")),
            ("iroom", _l("iRoom")),
            ("downloads", _l("Downloads")),
        ],
        [(r["key"], r["title"], r["room"], r["downloads"]) for r in rows],
    )


def resources_over_time(filters: Filters, scope: queries.Scope, interval: str) -> Table:
    rows = queries.resource_figures(filters, scope, interval=interval)
    return Table(
        f"resources-by-{interval}",
        str(_l("Library downloads over time")),
        [("period", _l("Period")), ("downloads", _l("Downloads"))],
        [(r["key"], r["downloads"]) for r in rows],
        names=[period_name],
    )


def rooms(filters: Filters, scope: queries.Scope) -> Table:
    rows = queries.room_figures(filters, scope)
    return Table(
        "irooms",
        str(_l("iRooms")),
        [
            ("iroom_id", _l("iRoom id")),
            ("iroom", _l("iRoom")),
            ("members", _l("Members")),
            ("active_members", _l("Active members")),
            ("messages", _l("Messages")),
            ("sessions_held", _l("Sessions held")),
            ("attendances", _l("Attendances")),
        ],
        [
            (
                r["key"],
                r["title"],
                r["members"],
                r["active"],
                r["messages"],
                r["sessions"],
                r["attendance"],
            )
            for r in rows
        ],
    )


def scorm_lessons(filters: Filters, scope: queries.Scope) -> Table:
    """The figures of each interactive (SCORM) lesson; see ``queries.scorm_figures``."""
    rows = queries.scorm_figures(filters, scope)
    return Table(
        "scorm-lessons",
        str(_l("Interactive lessons (SCORM)")),
        [
            ("lesson_id", _l("Lesson id")),
            ("lesson", _l("Lesson")),
            ("module_id", _l("Module id")),
            ("module", _l("Module")),
            ("learners", _l("Learners")),
            ("completed", _l("Learners who completed")),
            ("passed", _l("Passed (last judged attempt)")),
            ("failed", _l("Not passed (last judged attempt)")),
            ("average_score", _l("Average best score (%)")),
            ("average_minutes", _l("Average time spent (minutes)")),
        ],
        [
            (
                r["key"],
                r["title"],
                r["module_id"],
                r["module"],
                r["learners"],
                r["completed"],
                r["passed"],
                r["failed"],
                r["average_score"],
                r["average_minutes"],
            )
            for r in rows
        ],
        text_columns=(1, 3),  # lesson, module: typed by people
    )


#: What a forum belongs to, as the spreadsheets and the dashboard name it.
FORUM_KINDS = {"iroom": _l("iRoom forum"), "module": _l("Module discussion")}


def forum_activity(filters: Filters, scope: queries.Scope) -> Table:
    """The figures of each forum, an iRoom's or a module's; see ``queries.forum_figures``."""
    rows = queries.forum_figures(filters, scope)
    return Table(
        "forum-activity",
        str(_l("Forum activity")),
        [
            ("iroom_id", _l("iRoom id")),
            ("module_id", _l("Module id")),
            ("forum", _l("Forum")),
            ("kind", _l("Kind")),
            ("topics", _l("Topics started")),
            ("replies", _l("Replies")),
            ("questions", _l("Questions asked")),
            ("answered", _l("Questions answered")),
            ("active_members", _l("Active members")),
        ],
        [
            (
                r["key"] if r["kind"] == "iroom" else None,
                r["key"] if r["kind"] == "module" else None,
                r["title"],
                r["kind"],
                r["topics"],
                r["replies"],
                r["questions"],
                r["answered"],
                r["active"],
            )
            for r in rows
        ],
        names=[None, None, None, _lookup(FORUM_KINDS)],
        text_columns=(2,),  # the room's or module's name: typed by people
    )


RECORD_COLUMNS = [
    ("enrolment_id", _l("Enrolment id")),
    ("learner_id", _l("Learner id")),
    ("learner", _l("Learner")),
    ("country_code", _l("Country code")),
    ("country", _l("Country")),
    ("region", _l("Region")),
    ("subregion", _l("Sub-region")),
    ("gender", _l("Gender")),
    ("agency_type", _l("Agency type")),
    ("organisation", _l("Organisation")),
    ("module_id", _l("Module id")),
    ("module", _l("Module")),
    ("theme", _l("Theme")),
    ("language", _l("Language")),
    ("enrolled_at", _l("Enrolled (UTC)")),
    ("completed_at", _l("Completed (UTC)")),
    ("score", _l("Post-test score (%)")),
    ("scorm_score", _l("Interactive lessons score (%)")),
]


def completion_records(filters: Filters, scope: queries.Scope, batch: int = 5000) -> Table:
    """The raw records, read from the database in batches while they are sent. A million rows
    pass through here: each is named by one function call, with the names looked up once; the
    interactive lessons' scores of each batch are asked for in one query."""
    query = queries.completion_records(filters, scope)

    def rows() -> Iterator[tuple]:
        records = driver_rows(query, batch)
        while records_batch := list(islice(records, batch)):
            for row in queries.with_scorm_scores(records_batch):
                yield (*row[:4], *row[3:])  # the country twice: its code, then its name

    country = country_names().get
    region = region_names().get
    gender, agency = _names(GENDERS).get, _names(AGENCY_TYPES).get
    theme, language = _names(THEMES).get, _names(LANGUAGES).get

    def named(row: tuple) -> tuple:
        (enrolment, learner_id, learner, code, _, area, subarea, sex, agency_type, *rest) = row
        organisation, module_id, module, topic, tongue, enrolled, completed, score, scorm = rest
        return (
            enrolment,
            learner_id,
            learner,
            code,
            country(code, code),
            region(area, area),
            region(subarea, subarea),
            gender(sex, sex),
            agency(agency_type, agency_type),
            organisation,
            module_id,
            module,
            theme(topic, topic),
            language(tongue, tongue),
            enrolled,
            completed,
            score,
            scorm,
        )

    return Table(
        "completions",
        str(_l("Completion records")),
        RECORD_COLUMNS,
        rows(),
        namer=named,
        text_columns=(2, 9, 11),  # learner, organisation, module: typed by people
    )


def knowledge_gain(
    filters: Filters, scope: queries.Scope, group: str, rows: list[gain.Gain] | None = None
) -> Table:
    """The knowledge gain by ``group`` (see ``gain``); ``rows``, when given, are its figures."""
    rows = gain.by_group(filters, scope, group) if rows is None else rows
    first = [("module_id", _l("Module id")), ("module", _l("Module"))]
    if group != "module":
        first = [(group, GROUPS[group])]
    return Table(
        "knowledge-gain",
        str(_l("Knowledge gain")),
        [*first, *gain.COLUMNS],
        [(*((r.key, r.label) if group == "module" else (r.key,)), *r.figures()) for r in rows],
        names=[None if group == "module" else group_name(group)],
        text_columns={"module": (1,), "organisation": (0,)}.get(group, ()),  # typed by people
    )


def column_totals(*tables: Table) -> dict[str, int]:
    """The sums of the numeric columns of ``tables`` (whose rows are lists), by key."""
    sums: dict[str, int] = {}
    for table in tables:
        for index, key in enumerate(table.keys):
            values = [row[index] for row in table.rows]
            if key.endswith("_id") or not all(isinstance(v, int | None) for v in values):
                continue
            sums[key] = sum(value or 0 for value in values)
    return sums


def chart_of(table: Table, rows: list[tuple], label_key: str, value_keys: list[str]) -> dict:
    """What a chart of ``rows`` (the table's named rows) draws: labels and one series a key."""
    titles = dict(table.columns)
    at = table.keys.index
    return {
        "labels": [str(row[at(label_key)] or _l("Not given")) for row in rows],
        "series": [
            {"label": str(titles[key]), "data": [row[at(key)] or 0 for row in rows]}
            for key in value_keys
        ],
    }


#: The tables that can be exported, by name: (function, takes) where takes says whether it
#: needs the breakdown's group or the series' interval.
DATASETS = {
    "completions": (completion_records, None),
    "breakdown": (breakdown, "group"),
    "periods": (over_time, "interval"),
    "recordings": (recordings, None),
    "recording-periods": (recordings_over_time, "interval"),
    "resources": (resources, None),
    "resource-periods": (resources_over_time, "interval"),
    "irooms": (rooms, None),
    "scorm-lessons": (scorm_lessons, None),
    "forum-activity": (forum_activity, None),
    "knowledge-gain": (knowledge_gain, "group"),
}

#: What each table of DATASETS is called, as the dashboard heads it (a breakdown: by its group).
DATASET_TITLES = {
    "completions": _l("Completion records"),
    "periods": _l("Enrolments and completions over time"),
    "recordings": _l("Webinar recordings"),
    "recording-periods": _l("Webinar recordings: views and downloads over time"),
    "resources": _l("Library resources: downloads"),
    "resource-periods": _l("Library downloads over time"),
    "irooms": _l("iRooms"),
    "scorm-lessons": _l("Interactive lessons (SCORM)"),
    "forum-activity": _l("Forum activity"),
}


def dataset_title(name: str, group: str, interval: str) -> str:
    """What the table ``name`` of DATASETS is called, as the dashboard heads it."""
    takes = DATASETS[name][1]
    if name == "knowledge-gain":
        return _("Knowledge gain by %(what)s", what=str(GROUPS[group]).lower())
    if takes == "group":
        return _("Completions by %(what)s", what=str(GROUPS[group]).lower())
    if takes == "interval":
        return _(
            "%(what)s, by %(interval)s",
            what=DATASET_TITLES[name],
            interval=str(INTERVALS[interval]).lower(),
        )
    return str(DATASET_TITLES[name])


def dataset(name: str, filters: Filters, scope: queries.Scope, group: str, interval: str) -> Table:
    """The table ``name`` of DATASETS."""
    function, takes = DATASETS[name]
    if takes == "group":
        return function(filters, scope, group)
    if takes == "interval":
        return function(filters, scope, interval)
    return function(filters, scope)
