"""What surveys found: per question, the distribution of the answers with counts and percents,
the average of a scale and the recommendation score of a 0-10 scale; the free-text answers; the
response rate; who responded, by country, region, gender and agency type. Read by the results
pages, their exports, the API and the donor report, for the surveys of modules someone created
and rooms they host (administrators: all).

Filters are the statistics' (``stats.filters.Filters``): the period applies to the day a response
was given, and country, region, gender and agency type to what the respondent's profile said
then (kept on the response). Response rates count invitations made in the period, and of them
those answered, by the person's profile now (an anonymous response cannot be joined to them).

Anonymity: for an anonymous survey, when the responses that match the filters may have come
from fewer than ``ANONYMITY_THRESHOLD`` people, nothing is shown (``withheld``): neither figures
nor texts nor who responded, so that no filter (a country with two respondents) can single a
person out. A person answers a session survey once per session, so responses are not people:
the fewest people who can have given them (``fewest_people``) is read from how many times each
participant answered, which the participations hold without saying which responses were theirs.
Breakdowns of who responded merge the groups too small to show into one row, itself left out
while it is too small.

Language versions (surveys sharing a ``family_id``) can be read together: their responses,
invitations and participations are counted as those of the survey looked at, questions matched by
their position and kind, choices by their position in the question (``language_versions``,
``structure_difference``, ``combined_figures``). The combination is anonymous when one of them is,
and the threshold applies to the responses of all of them together.

Every function asks the database a fixed number of queries, whatever the number of surveys,
versions, questions and responses.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from math import ceil

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, distinct, func, or_, select, true
from sqlalchemy.orm import selectinload

from courses.models import Module
from irooms.models import Room
from learnplatform.accounts.models import User
from learnplatform.choices import AGENCY_TYPES, GENDERS, LANGUAGES, country_names
from learnplatform.extensions import db
from learnplatform.regions import region_names, region_of
from learnplatform.search import MAX_WORDS, fold
from learnplatform.stats.filters import Filters
from learnplatform.stats.queries import Scope, profile_conditions
from learnplatform.stats.tables import Table
from learnplatform.surveys.models import (
    ANONYMITY_THRESHOLD,
    CHOICE_KINDS,
    SCALES,
    TEXT_KINDS,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)

#: free-text answers shown per question on the results page, and per page of a question's texts
TEXTS_SHOWN = 5
TEXTS_PAGE = 50
#: what the breakdowns of who responded are by
BREAKDOWNS = {
    "country": _l("Country"),
    "region": _l("Region"),
    "gender": _l("Gender"),
    "agency_type": _l("Agency type"),
}
#: the key of the row that merges the groups too small to show in an anonymous survey
OTHER = "other"
#: the recommendation scale's promoters (9-10) and detractors (0-6)
PROMOTERS, DETRACTORS = range(9, 11), range(0, 7)


# Which surveys, which responses.
def survey_scope(scope: Scope) -> ColumnElement[bool]:
    """A condition on ``Survey``: those of the modules and rooms of ``scope``."""
    if scope.everything:
        return true()
    return or_(
        Survey.module_id.in_(select(Module.id).where(scope.modules)),
        Survey.room_id.in_(select(Room.id).where(scope.rooms)),
    )


def visible_survey(survey_id: int, scope: Scope) -> Survey | None:
    """The survey ``survey_id`` with its questions and choices, when in ``scope``."""
    return db.session.scalar(
        select(Survey)
        .where(Survey.id == survey_id, survey_scope(scope))
        .options(selectinload(Survey.questions).selectinload(SurveyQuestion.choices))
    )


def language_versions(survey: Survey, scope: Scope) -> list[Survey]:
    """``survey`` first, then its versions in other languages that are in ``scope`` in the order
    of the interface's languages, each with its questions and choices; ``[survey]`` when it has
    none. One query and the two loading their questions, whatever the number of versions."""
    if survey.family_id is None:
        return [survey]
    others = db.session.scalars(
        select(Survey)
        .where(Survey.family_id == survey.family_id, Survey.id != survey.id, survey_scope(scope))
        .options(selectinload(Survey.questions).selectinload(SurveyQuestion.choices))
    )
    order = list(LANGUAGES)
    return [
        survey,
        *sorted(
            others,
            key=lambda version: (
                order.index(version.language) if version.language in order else len(order),
                version.id,
            ),
        ),
    ]


def version_name(survey: Survey) -> str:
    """A survey as its versions are listed: its title and language."""
    return f"{survey.title} · {_language_name(survey.language)}"


def structure_difference(surveys: list[Survey]) -> str | None:
    """Why ``surveys`` (a survey and its language versions) cannot be read together, in a
    sentence naming the first question that differs; None when each has, at each position, a
    question of the kind of the first survey's, with as many choices for a choice question."""
    ours = surveys[0].questions
    for version in surveys[1:]:
        theirs = version.questions
        for number, (mine, other) in enumerate(zip(ours, theirs, strict=False), start=1):
            if mine.kind != other.kind:
                return _(
                    "The language versions cannot be read together: question %(number)d is "
                    "“%(kind)s” in %(version)s but “%(expected)s” in this one.",
                    number=number,
                    kind=KIND_NAMES.get(other.kind, other.kind),
                    version=version_name(version),
                    expected=KIND_NAMES.get(mine.kind, mine.kind),
                )
            if mine.kind in CHOICE_KINDS and len(mine.choices) != len(other.choices):
                return _(
                    "The language versions cannot be read together: question %(number)d has "
                    "%(count)d choices in %(version)s but %(expected)d in this one.",
                    number=number,
                    count=len(other.choices),
                    version=version_name(version),
                    expected=len(mine.choices),
                )
        if len(theirs) < len(ours):
            return _(
                "The language versions cannot be read together: %(version)s has no question "
                "%(number)d.",
                version=version_name(version),
                number=len(theirs) + 1,
            )
        if len(theirs) > len(ours):
            return _(
                "The language versions cannot be read together: %(version)s has a question "
                "%(number)d, which this one does not have.",
                version=version_name(version),
                number=len(ours) + 1,
            )
    return None


def response_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions on ``SurveyResponse``: given in the period, by the slice of people."""
    conditions = []
    if filters.start:
        conditions.append(SurveyResponse.submitted_on >= filters.start)
    if filters.end:
        conditions.append(SurveyResponse.submitted_on <= filters.end)
    return conditions + profile_conditions(
        filters, SurveyResponse.country, SurveyResponse.gender, SurveyResponse.agency_type
    )


def invitation_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions on ``SurveyInvitation`` joined to its ``User``: asked in the period, the slice
    of people by their profile now."""
    conditions = []
    if filters.since:
        conditions.append(SurveyInvitation.created_at >= filters.since)
    if filters.before:
        conditions.append(SurveyInvitation.created_at < filters.before)
    return conditions + profile_conditions(filters, User.country, User.gender, User.agency_type)


# Figures.
@dataclass
class Option:
    """One value of a scale or one choice, and how many responses gave it."""

    value: int | None
    choice_id: int | None
    label: str
    count: int = 0
    percent: float | None = None

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "choice_id": self.choice_id,
            "label": self.label,
            "count": self.count,
            "percent": self.percent,
        }


@dataclass
class QuestionFigures:
    """What the matching responses answered to one question."""

    question: SurveyQuestion
    #: responses that answered it
    answered: int = 0
    #: each value of a scale or each choice, in order; empty for free text
    options: list[Option] = field(default_factory=list)
    average: float | None = None
    #: a 0-10 scale: percent of promoters (9-10) minus percent of detractors (0-6)
    recommendation_score: int | None = None
    promoters: float | None = None
    detractors: float | None = None
    #: free text: the first answers, (key, text, day or None, language or None): the day for
    #: identified responses only, the language when versions are read together
    texts: list[tuple] = field(default_factory=list)

    def chart(self) -> dict:
        """What the dashboard's chart code (static/js/stats/dashboard.js) draws: a label and
        the responses for each value or choice."""
        return {
            "labels": [option.label for option in self.options],
            "series": [
                {"label": _("Responses"), "data": [option.count for option in self.options]}
            ],
        }

    def as_dict(self) -> dict:
        question = self.question
        return {
            "id": question.id,
            "position": question.position,
            "text": question.text,
            "kind": question.kind,
            "answered": self.answered,
            "average": self.average,
            "recommendation_score": self.recommendation_score,
            "distribution": [option.as_dict() for option in self.options],
        }


@dataclass
class SurveyFigures:
    """A survey's results under some filters, alone or with its language versions."""

    survey: Survey
    #: responses matching the filters
    respondents: int = 0
    #: people asked (in the period) and, of them, those who answered
    asked: int = 0
    answered: int = 0
    #: anonymous and too few respondents: nothing below may be shown
    withheld: bool = False
    questions: list[QuestionFigures] = field(default_factory=list)
    #: the surveys counted: ``survey`` alone, or it and its language versions
    surveys: list[Survey] = field(default_factory=list)
    #: of an anonymous survey, how many people answered how many times (``answers_per_person``)
    answers_per_person: dict[int, int] = field(default_factory=dict)

    def __post_init__(self):
        if not self.surveys:
            self.surveys = [self.survey]

    @property
    def combined(self) -> bool:
        """Whether language versions are counted together."""
        return len(self.surveys) > 1

    @property
    def anonymous(self) -> bool:
        """Whether the responses are anonymous: those of one survey of the combination are."""
        return any(survey.anonymous for survey in self.surveys)

    @property
    def survey_ids(self) -> list[int]:
        return [survey.id for survey in self.surveys]

    def too_few(self, responses: int) -> bool:
        """Whether ``responses`` of these surveys' responses may not be shown, even counted: they
        are anonymous and may have come from fewer than ``ANONYMITY_THRESHOLD`` people."""
        return self.anonymous and too_few(self.answers_per_person, responses)

    @property
    def response_rate(self) -> float | None:
        """Percent of those asked who answered, one decimal; None when nobody was asked."""
        return round(100 * self.answered / self.asked, 1) if self.asked else None


def answers_per_person(survey_ids, *, each: bool = False) -> dict[int | None, dict[int, int]]:
    """How many people answered ``survey_ids`` (a list, or a query of ids) how many times, from
    their participations: ``{None: {1: 40, 3: 2}}`` when forty answered once and two thrice (one
    survey after each of three live sessions); with ``each``, each survey on its own, keyed by its
    id. One query, whose rows are one per number of times, not per person."""
    owner = [SurveyParticipation.user_id]
    if each:
        owner.insert(0, SurveyParticipation.survey_id)
    per_person = (
        select(*owner, func.count().label("answers"))
        .where(SurveyParticipation.survey_id.in_(survey_ids))
        .group_by(*owner)
        .subquery()
    )
    keys = [per_person.c.survey_id] if each else []
    found: dict[int | None, dict[int, int]] = defaultdict(dict)
    for *key, answers, people in db.session.execute(
        select(*keys, per_person.c.answers, func.count()).group_by(*keys, per_person.c.answers)
    ):
        found[key[0] if key else None][answers] = people
    return found


def fewest_people(answers_per_person: dict[int, int], responses: int) -> int:
    """The fewest people who can have given ``responses`` of the responses that
    ``answers_per_person`` (``{2: 3}``: three people answered twice) counts: those who answered
    most, first. Responses beyond them (of people since deleted, whose participations went with
    them) count as given by people who answered as often as the most."""
    people = 0
    for answers, count in sorted(answers_per_person.items(), reverse=True):
        if responses <= answers * count:
            return people + ceil(responses / answers)
        responses -= answers * count
        people += count
    return people + ceil(responses / max(answers_per_person, default=1))


def too_few(answers_per_person: dict[int, int], responses: int) -> bool:
    """Whether ``responses`` may have come from fewer than ``ANONYMITY_THRESHOLD`` people."""
    return responses < ANONYMITY_THRESHOLD or (
        fewest_people(answers_per_person, responses) < ANONYMITY_THRESHOLD
    )


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _question_figures(question: SurveyQuestion, counts: dict, answered: int) -> QuestionFigures:
    """The figures of ``question`` from ``counts``: (number, choice id) -> responses."""
    figures = QuestionFigures(question, answered=answered)
    if question.kind in SCALES:
        low, high = SCALES[question.kind]
        figures.options = [
            Option(value, None, str(value), counts.get((value, None), 0))
            for value in range(low, high + 1)
        ]
        given = sum(option.count for option in figures.options)
        if given:
            total = sum(option.value * option.count for option in figures.options)
            figures.average = round(total / given, 2)
        if question.kind == "recommendation" and given:
            promoters = sum(counts.get((value, None), 0) for value in PROMOTERS)
            detractors = sum(counts.get((value, None), 0) for value in DETRACTORS)
            figures.promoters = _percent(promoters, given)
            figures.detractors = _percent(detractors, given)
            figures.recommendation_score = round(100 * (promoters - detractors) / given)
    elif question.kind in CHOICE_KINDS:
        figures.options = [
            Option(None, choice.id, choice.text, counts.get((None, choice.id), 0))
            for choice in question.choices
        ]
    for option in figures.options:
        option.percent = _percent(option.count, answered)
    return figures


@dataclass
class _Counts:
    """What the database says of some surveys' responses, before they are read as figures."""

    #: survey id -> responses
    respondents: dict[int, int]
    #: question id -> {(number, choice id): responses}
    answers: dict[int, dict]
    #: question id -> responses answering it
    answered: dict[int, int]
    #: survey id -> (people asked, of them those who answered)
    rates: dict[int, tuple[int, int]]
    #: question id -> its first free-text answers, (key, text, day)
    first_texts: dict[int, list[tuple]]
    #: survey id (the first's, counted together) -> ``answers_per_person``, of anonymous ones
    per_person: dict[int, dict[int, int]]


def _count(surveys: list[Survey], filters: Filters, texts: bool, together: bool) -> _Counts:
    """The counts of the responses to ``surveys`` matching ``filters``, each survey on its own
    or all ``together``: four queries, five with ``texts``, one more when one is anonymous."""
    survey_ids = [survey.id for survey in surveys]
    anonymous = [survey.id for survey in surveys if survey.anonymous]
    if together:
        per_person = {survey_ids[0]: answers_per_person(survey_ids)[None]} if anonymous else {}
    else:
        per_person = answers_per_person(anonymous, each=True) if anonymous else {}
    matching = [SurveyResponse.survey_id.in_(survey_ids), *response_conditions(filters)]
    respondents = dict(
        db.session.execute(
            select(SurveyResponse.survey_id, func.count())
            .where(*matching)
            .group_by(SurveyResponse.survey_id)
        ).all()
    )
    answers: dict[int, dict] = defaultdict(dict)
    for question_id, number, choice_id, count in db.session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.number, SurveyAnswer.choice_id, func.count())
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            *matching, or_(SurveyAnswer.number.is_not(None), SurveyAnswer.choice_id.is_not(None))
        )
        .group_by(SurveyAnswer.question_id, SurveyAnswer.number, SurveyAnswer.choice_id)
    ):
        answers[question_id][(number, choice_id)] = count
    answered = dict(
        db.session.execute(
            select(SurveyAnswer.question_id, func.count(distinct(SurveyAnswer.response_id)))
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(*matching)
            .group_by(SurveyAnswer.question_id)
        ).all()
    )
    return _Counts(
        respondents,
        answers,
        answered,
        _response_rates(survey_ids, filters),
        _first_texts(survey_ids, filters) if texts else {},
        per_person,
    )


def _figures(surveys: list[Survey], counts: _Counts) -> SurveyFigures:
    """The figures of ``surveys`` read together as the first of them (one survey, or language
    versions with the same questions): the answers to the question and choice at the same
    position of each are counted as one."""
    first = surveys[0]
    found = SurveyFigures(first, surveys=list(surveys))
    for survey in surveys:
        found.respondents += counts.respondents.get(survey.id, 0)
        asked, answered = counts.rates.get(survey.id, (0, 0))
        found.asked += asked
        found.answered += answered
    found.answers_per_person = counts.per_person.get(first.id, {})
    found.withheld = found.too_few(found.respondents)
    if found.withheld:
        return found
    for index, question in enumerate(first.questions):
        given: dict[tuple, int] = defaultdict(int)
        answered = 0
        first_texts = []
        for survey in surveys:
            theirs = survey.questions[index]
            as_ours = {
                choice.id: ours.id
                for choice, ours in zip(theirs.choices, question.choices, strict=False)
            }
            for (number, choice_id), count in counts.answers.get(theirs.id, {}).items():
                given[(number, as_ours.get(choice_id, choice_id))] += count
            answered += counts.answered.get(theirs.id, 0)
            first_texts += [
                (
                    key,
                    text,
                    None if found.anonymous else day,
                    survey.language if found.combined else None,
                )
                for key, text, day in counts.first_texts.get(theirs.id, [])
            ]
        figures = _question_figures(question, given, answered)
        figures.texts = sorted(first_texts)[:TEXTS_SHOWN]
        found.questions.append(figures)
    return found


def survey_figures(
    surveys: list[Survey], filters: Filters, *, texts: bool = False
) -> list[SurveyFigures]:
    """The results of ``surveys`` (loaded with their questions and choices) under ``filters``,
    in their order, each on its own; with ``texts``, the first ``TEXTS_SHOWN`` free-text
    answers of each text question. Five queries, six when one is anonymous, whatever the number
    of surveys and responses."""
    if not surveys:
        return []
    counts = _count(surveys, filters, texts, together=False)
    return [_figures([survey], counts) for survey in surveys]


def combined_figures(
    surveys: list[Survey], filters: Filters, *, texts: bool = False
) -> SurveyFigures:
    """The results of ``surveys``, a survey and its language versions whose questions match
    (``structure_difference`` says None), counted together as the first's: its questions and
    choices, the responses, invitations and participations of all. Withheld when one is
    anonymous and the responses of all of them that match may have come from fewer than
    ``ANONYMITY_THRESHOLD`` people. Six queries, whatever the number of versions and
    responses."""
    return _figures(surveys, _count(surveys, filters, texts, together=True))


def withheld(surveys: list[Survey], filters: Filters) -> SurveyFigures:
    """``surveys`` as ``combined_figures`` names them, without their figures: only whether they
    are withheld, from one count of the matching responses (what an export of the responses or
    the free-text answers needs before its first row), and of how many times people answered."""
    found = SurveyFigures(surveys[0], surveys=list(surveys))
    if found.anonymous:
        found.respondents = db.session.scalar(
            select(func.count()).where(
                SurveyResponse.survey_id.in_(found.survey_ids), *response_conditions(filters)
            )
        )
        if found.respondents >= ANONYMITY_THRESHOLD:
            found.answers_per_person = answers_per_person(found.survey_ids)[None]
        found.withheld = found.too_few(found.respondents)
    return found


def _response_rates(survey_ids: list[int], filters: Filters) -> dict[int, tuple[int, int]]:
    """Survey id -> (people asked, of them those who answered), one query."""
    rows = db.session.execute(
        select(SurveyInvitation.survey_id, func.count(), func.count(SurveyParticipation.id))
        .join(User, User.id == SurveyInvitation.user_id)
        .outerjoin(
            SurveyParticipation,
            and_(
                SurveyParticipation.survey_id == SurveyInvitation.survey_id,
                SurveyParticipation.user_id == SurveyInvitation.user_id,
                SurveyParticipation.occasion == SurveyInvitation.occasion,
            ),
        )
        .where(SurveyInvitation.survey_id.in_(survey_ids), *invitation_conditions(filters))
        .group_by(SurveyInvitation.survey_id)
    )
    return {survey_id: (asked, answered) for survey_id, asked, answered in rows}


def _first_texts(survey_ids: list[int], filters: Filters) -> dict[int, list[tuple]]:
    """Question id -> its first ``TEXTS_SHOWN`` free-text answers, (key, text, day), one query
    (a window)."""
    place = (
        func.row_number()
        .over(partition_by=SurveyAnswer.question_id, order_by=SurveyResponse.id)
        .label("place")
    )
    ranked = (
        select(
            SurveyAnswer.question_id,
            SurveyResponse.id.label("key"),
            SurveyAnswer.text,
            SurveyResponse.submitted_on,
            place,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyResponse.survey_id.in_(survey_ids),
            SurveyAnswer.text.is_not(None),
            *response_conditions(filters),
        )
        .subquery()
    )
    found: dict[int, list[tuple]] = defaultdict(list)
    for question_id, key, text, day, _place in db.session.execute(
        select(ranked)
        .where(ranked.c.place <= TEXTS_SHOWN)
        .order_by(ranked.c.question_id, ranked.c.place)
    ):
        found[question_id].append((key, text, day))
    return found


def texts(
    survey: Survey,
    question: SurveyQuestion,
    filters: Filters,
    words: str = "",
    after: str = "",
    limit: int = TEXTS_PAGE,
) -> tuple[list[tuple], str | None]:
    """A page of the free-text answers to ``question``: (key, text, day or None for an anonymous
    survey) tuples in the order of their random keys (which nothing links to who answered when),
    from the key after ``after``, with every word of ``words`` in them, compared folded (any
    case, accents or none); and the key to ask the next page from, or None. One query: with
    words, it reads the answers a batch at a time until the page is full."""
    index = survey.questions.index(question)
    page, following = version_texts([survey], index, filters, words, after, limit)
    return [(key, text, day) for key, text, day, _language in page], following


def version_texts(
    surveys: list[Survey],
    index: int,
    filters: Filters,
    words: str = "",
    after: str = "",
    limit: int = TEXTS_PAGE,
) -> tuple[list[tuple], str | None]:
    """As ``texts``, for the question at ``index`` of each of ``surveys`` (a survey, or it and
    its language versions read together): (key, text, day or None, language or None) tuples,
    the day when none of them is anonymous, the language of the version answered when there
    are several. One query."""
    versions = {survey.questions[index].id: survey for survey in surveys}
    anonymous = any(survey.anonymous for survey in surveys)
    query = (
        select(
            SurveyResponse.id,
            SurveyAnswer.text,
            SurveyResponse.submitted_on,
            SurveyAnswer.question_id,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyAnswer.question_id.in_(list(versions)),
            SurveyResponse.survey_id.in_([survey.id for survey in surveys]),
            SurveyAnswer.text.is_not(None),
            *response_conditions(filters),
        )
        .order_by(SurveyResponse.id)
    )
    if after:
        query = query.where(SurveyResponse.id > after)
    wanted = fold(words).split()[:MAX_WORDS]
    if not wanted:
        rows = db.session.execute(query.limit(limit + 1)).all()
    else:
        rows = []
        result = db.session.execute(query.execution_options(yield_per=500))
        try:
            for row in result:
                folded = fold(row.text)
                if all(word in folded for word in wanted):
                    rows.append(row)
                    if len(rows) > limit:
                        break
        finally:
            result.close()
    following = rows[limit - 1][0] if len(rows) > limit else None
    page = [
        (
            key,
            text,
            None if anonymous else day,
            versions[question_id].language if len(surveys) > 1 else None,
        )
        for key, text, day, question_id in rows[:limit]
    ]
    return page, following


# Who responded.
@dataclass
class Group:
    """One row of a breakdown of who responded."""

    key: str
    label: str
    respondents: int
    percent: float | None


def _group_name(group: str):
    names = {
        "country": country_names(),
        "region": region_names(),
        "gender": {code: str(name) for code, name in GENDERS.items()},
        "agency_type": {code: str(name) for code, name in AGENCY_TYPES.items()},
    }[group]
    return lambda code: names.get(code, code) if code else _("Not given")


def respondent_breakdowns(found: SurveyFigures, filters: Filters) -> dict[str, list[Group]]:
    """Who responded among the matching responses, by each of ``BREAKDOWNS``, the largest
    group first; one query. In an anonymous survey, the groups that may hold fewer than
    ``ANONYMITY_THRESHOLD`` people are merged into one row, itself left out while it may; nothing
    at all when ``found`` is withheld.
    Language versions read together are counted together."""
    if found.withheld or not found.respondents:
        return {}
    profiles = db.session.execute(
        select(
            SurveyResponse.country, SurveyResponse.gender, SurveyResponse.agency_type, func.count()
        )
        .where(SurveyResponse.survey_id.in_(found.survey_ids), *response_conditions(filters))
        .group_by(SurveyResponse.country, SurveyResponse.gender, SurveyResponse.agency_type)
    ).all()
    total = sum(count for *_, count in profiles)
    breakdowns = {}
    for group in BREAKDOWNS:
        sizes: dict[str, int] = defaultdict(int)
        for country, gender, agency_type, count in profiles:
            key = {
                "country": country,
                "region": region_of(country) or "",
                "gender": gender,
                "agency_type": agency_type,
            }[group]
            sizes[key] += count
        name = _group_name(group)
        rows = [
            Group(key, name(key), size, _percent(size, total))
            for key, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
        ]
        if found.anonymous:
            shown = [row for row in rows if not found.too_few(row.respondents)]
            merged = sum(row.respondents for row in rows if found.too_few(row.respondents))
            if merged and not found.too_few(merged):
                shown.append(
                    Group(OTHER, _("Other (fewer than 5 each)"), merged, _percent(merged, total))
                )
            rows = shown
        breakdowns[group] = rows
    return breakdowns


# Tables for the exports.
def questions_table(found: SurveyFigures) -> Table:
    """One row per question: how many answered, the average and the recommendation score."""
    return Table(
        "survey-questions",
        str(_l("Questions")),
        [
            ("position", _l("Question number")),
            ("question", _l("Question")),
            ("kind", _l("Kind")),
            ("answered", _l("Responses answering")),
            ("average", _l("Average")),
            ("recommendation_score", _l("Recommendation score")),
            ("promoters", _l("Promoters (%)")),
            ("detractors", _l("Detractors (%)")),
        ],
        [
            (
                figures.question.position,
                figures.question.text,
                figures.question.kind,
                figures.answered,
                figures.average,
                figures.recommendation_score,
                figures.promoters,
                figures.detractors,
            )
            for figures in found.questions
        ],
        names=[None, None, lambda kind: str(KIND_NAMES.get(kind, kind))],
        text_columns=(1,),
    )


def distribution_table(found: SurveyFigures) -> Table:
    """One row per question and value of its scale or choice: responses and percent."""
    return Table(
        "survey-distribution",
        str(_l("Answers")),
        [
            ("position", _l("Question number")),
            ("question", _l("Question")),
            ("value", _l("Value")),
            ("choice_id", _l("Choice id")),
            ("answer", _l("Answer")),
            ("count", _l("Responses")),
            ("percent", _l("Percent of responses answering")),
        ],
        [
            (
                figures.question.position,
                figures.question.text,
                option.value,
                option.choice_id,
                option.label,
                option.count,
                option.percent,
            )
            for figures in found.questions
            for option in figures.options
        ],
        text_columns=(1, 4),
    )


def _language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def texts_table(
    survey: Survey, filters: Filters, words: str = "", surveys: list[Survey] | None = None
) -> Table:
    """Every free-text answer matching the filters (and ``words``, folded), question by
    question; the day for an identified survey. With ``surveys`` (``survey`` and its language
    versions read together), the answers to all of them under ``survey``'s questions, with the
    language of each; the day only when none is anonymous. Read a batch at a time while it is
    sent."""
    surveys = surveys or [survey]
    combined = len(surveys) > 1
    anonymous = any(version.anonymous for version in surveys)
    ours = [q for q in survey.questions if q.kind in TEXT_KINDS]
    at = {index: question for index, question in enumerate(survey.questions) if question in ours}
    questions = {
        version.questions[index].id: (question, version.language)
        for version in surveys
        for index, question in at.items()
    }
    wanted = fold(words).split()[:MAX_WORDS]
    query = (
        select(SurveyAnswer.question_id, SurveyAnswer.text, SurveyResponse.submitted_on)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(
            SurveyResponse.survey_id.in_([version.id for version in surveys]),
            SurveyAnswer.question_id.in_(list(questions)),
            SurveyAnswer.text.is_not(None),
            *response_conditions(filters),
        )
        .order_by(SurveyQuestion.position, SurveyResponse.id)
        .execution_options(yield_per=1000)
    )

    def rows() -> Iterator[tuple]:
        for question_id, text, day in db.session.execute(query):
            if wanted and not all(word in fold(text) for word in wanted):
                continue
            question, language = questions[question_id]
            row = (question.position, question.text, text)
            if combined:
                row = (*row, language)
            yield row if anonymous else (*row, day)

    columns = [
        ("position", _l("Question number")),
        ("question", _l("Question")),
        ("answer", _l("Answer")),
    ]
    if combined:
        columns.append(("language", _l("Language")))
    if not anonymous:
        columns.append(("submitted_on", _l("Day (UTC)")))
    return Table(
        "survey-texts",
        str(_l("Free-text answers")),
        columns,
        rows(),
        names=[None, None, None, _language_name if combined else None],
        text_columns=(1, 2),
    )


def responses_table(survey: Survey, filters: Filters, surveys: list[Survey] | None = None) -> Table:
    """One row per matching response, one column per question (several choices joined by
    "; "). An anonymous survey's rows hold the answers only, in the order of their random keys:
    no day, no country, nothing that could lead back to a person. With ``surveys`` (``survey``
    and its language versions read together), the responses to all of them under ``survey``'s
    questions and choices (matched by position); anonymous when one of them is, and the language
    answered in only when none is (so that an anonymous version's few responses are not told
    apart from the others). Read a batch at a time."""
    surveys = surveys or [survey]
    anonymous = any(version.anonymous for version in surveys)
    with_language = len(surveys) > 1 and not anonymous
    questions = list(survey.questions)
    at = {
        version.questions[index].id: index for version in surveys for index in range(len(questions))
    }
    choices = {
        theirs.id: ours.text
        for version in surveys
        for index, question in enumerate(questions)
        for theirs, ours in zip(version.questions[index].choices, question.choices, strict=False)
    }
    languages = {version.id: version.language for version in surveys}
    identity = (
        []
        if anonymous
        else [
            SurveyResponse.submitted_on,
            SurveyResponse.user_id,
            User.name,
            SurveyResponse.country,
            SurveyResponse.gender,
            SurveyResponse.agency_type,
            SurveyResponse.survey_id,
        ]
    )
    query = (
        select(
            SurveyResponse.id,
            *identity,
            SurveyAnswer.question_id,
            SurveyAnswer.number,
            SurveyAnswer.choice_id,
            SurveyAnswer.text,
        )
        .outerjoin(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(
            SurveyResponse.survey_id.in_([version.id for version in surveys]),
            *response_conditions(filters),
        )
        .order_by(SurveyResponse.id, SurveyAnswer.id)
        .execution_options(yield_per=1000)
    )
    if not anonymous:
        query = query.outerjoin(User, User.id == SurveyResponse.user_id)
    width = len(identity)

    def rows() -> Iterator[tuple]:
        for _key, answers in groupby(db.session.execute(query), key=lambda row: row[0]):
            cells: list = [None] * len(questions)
            first = None
            for row in answers:
                first = first or row
                question_id, number, choice_id, text = row[1 + width :]
                if question_id not in at:
                    continue
                index = at[question_id]
                if choice_id is not None:
                    chosen = choices.get(choice_id, "")
                    cells[index] = f"{cells[index]}; {chosen}" if cells[index] else chosen
                else:
                    cells[index] = number if number is not None else text
            about = list(first[1 : 1 + width])
            if about:
                survey_id = about.pop()
                if with_language:
                    about.append(languages[survey_id])
            yield (*about, *cells)

    columns = []
    names: list = []
    if not anonymous:
        columns = [
            ("submitted_on", _l("Day (UTC)")),
            ("learner_id", _l("Learner id")),
            ("learner", _l("Learner")),
            ("country", _l("Country")),
            ("gender", _l("Gender")),
            ("agency_type", _l("Agency type")),
        ]
        names = [
            None,
            None,
            None,
            *(_group_name(group) for group in BREAKDOWNS if group != "region"),
        ]
        if with_language:
            columns.append(("language", _l("Language")))
            names.append(_language_name)
    columns += [(f"q{question.position}", question.text) for question in questions]
    return Table("survey-responses", str(_l("Responses")), columns, rows(), names=names)


#: each kind of question as people know it
KIND_NAMES = {
    "agreement": _l("Agreement, 1 to 5"),
    "recommendation": _l("Recommendation, 0 to 10"),
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
}


# For the donor report.
def _report_surveys(
    scope: Scope, purposes, filters: Filters, module_ids=None, room_ids=None
) -> list[ColumnElement[bool]]:
    """Conditions on ``Survey``: of ``purposes`` in ``scope``, of ``module_ids`` and
    ``room_ids`` (None: every one) and of the filters' module."""
    conditions = [survey_scope(scope), Survey.purpose.in_(purposes)]
    if filters.module:
        conditions.append(Survey.module_id == filters.module)
    if module_ids is not None:
        conditions.append(or_(Survey.module_id.in_(list(module_ids)), Survey.module_id.is_(None)))
    if room_ids is not None:
        conditions.append(or_(Survey.room_id.in_(list(room_ids)), Survey.room_id.is_(None)))
    return conditions


def _surveys_in(
    scope: Scope, purposes: tuple[str, ...], filters: Filters, module_ids=None, room_ids=None
) -> list[Survey]:
    """The surveys of ``purposes`` in ``scope``, restricted to ``module_ids`` and ``room_ids``
    (None: every one) and to the filters' module, with questions and choices."""
    return list(
        db.session.scalars(
            select(Survey)
            .outerjoin(Module, Module.id == Survey.module_id)
            .where(*_report_surveys(scope, purposes, filters, module_ids, room_ids))
            .order_by(Module.title, Survey.months, Survey.language, Survey.id)
            .options(
                selectinload(Survey.questions).selectinload(SurveyQuestion.choices),
                selectinload(Survey.module),
            )
        )
    )


def satisfaction(filters: Filters, scope: Scope, module_ids=None, room_ids=None) -> dict:
    """Reaction over the evaluations (of modules) and session surveys (of rooms) in ``scope``:
    the responses matching ``filters``, the mean of their 1-5 agreement answers, and the mean
    and recommendation score of their 0-10 answers. Withheld (figures None) when one of them is
    anonymous and they may have come from fewer than ``ANONYMITY_THRESHOLD`` people. Three
    queries."""
    purposes = []
    if module_ids is None or module_ids:
        purposes.append("evaluation")
    if (room_ids is None or room_ids) and not filters.module:
        purposes.append("session")
    of_surveys = _report_surveys(scope, purposes, filters, module_ids, room_ids)
    conditions = [*of_surveys, *response_conditions(filters)]
    respondents, anonymous = db.session.execute(
        select(func.count(), func.count().filter(Survey.anonymous))
        .select_from(SurveyResponse)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(*conditions)
    ).one()
    withheld = bool(anonymous) and (
        respondents < ANONYMITY_THRESHOLD
        or too_few(answers_per_person(select(Survey.id).where(*of_surveys))[None], respondents)
    )
    answer = {
        "respondents": respondents,
        "withheld": withheld,
        "agreement_answers": None,
        "agreement_average": None,
        "recommendation_answers": None,
        "recommendation_average": None,
        "recommendation_score": None,
    }
    if withheld:
        return answer
    counts = {
        (kind, number): count
        for kind, number, count in db.session.execute(
            select(SurveyQuestion.kind, SurveyAnswer.number, func.count())
            .select_from(SurveyAnswer)
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(*conditions, SurveyQuestion.kind.in_(list(SCALES)))
            .where(SurveyAnswer.number.is_not(None))
            .group_by(SurveyQuestion.kind, SurveyAnswer.number)
        )
    }
    for kind, prefix, places in (
        ("agreement", "agreement", 2),
        ("recommendation", "recommendation", 1),
    ):
        given = {number: count for (of, number), count in counts.items() if of == kind}
        total = sum(given.values())
        answer[f"{prefix}_answers"] = total
        if total:
            mean = sum(number * count for number, count in given.items()) / total
            answer[f"{prefix}_average"] = round(mean, places)
    given = {number: count for (of, number), count in counts.items() if of == "recommendation"}
    if total := sum(given.values()):
        promoters = sum(given.get(value, 0) for value in PROMOTERS)
        detractors = sum(given.get(value, 0) for value in DETRACTORS)
        answer["recommendation_score"] = round(100 * (promoters - detractors) / total)
    return answer


def follow_up_figures(filters: Filters, scope: Scope, module_ids=None) -> list[dict]:
    """Behaviour: each follow-up survey in ``scope`` (of ``module_ids``, None: every one) with
    its months, responses matching ``filters``, people asked and answered, and per question
    the figures of ``QuestionFigures.as_dict`` (none when withheld). A fixed number of queries."""
    surveys = _surveys_in(scope, ("follow_up",), filters, module_ids=module_ids)
    return [
        {
            "survey_id": found.survey.id,
            "title": found.survey.title,
            "module_id": found.survey.module_id,
            "module": found.survey.module.title if found.survey.module else "",
            "months": found.survey.months,
            "language": found.survey.language,
            "anonymous": found.survey.anonymous,
            "respondents": found.respondents,
            "asked": found.asked,
            "answered": found.answered,
            "withheld": found.withheld,
            "questions": [figures.as_dict() for figures in found.questions],
        }
        for found in survey_figures(surveys, filters)
    ]


# The list of surveys.
def surveys_with_counts(scope: Scope) -> list[tuple[Survey, str, int, int, int]]:
    """Every survey in ``scope`` with what it is about (a module's title or a room's name),
    its responses, the people asked and, of them, those who answered; newest first, one query."""
    responses = (
        select(func.count())
        .where(SurveyResponse.survey_id == Survey.id)
        .correlate(Survey)
        .scalar_subquery()
    )
    asked = (
        select(func.count())
        .where(SurveyInvitation.survey_id == Survey.id)
        .correlate(Survey)
        .scalar_subquery()
    )
    answered = (
        select(func.count())
        .select_from(SurveyInvitation)
        .join(
            SurveyParticipation,
            and_(
                SurveyParticipation.survey_id == SurveyInvitation.survey_id,
                SurveyParticipation.user_id == SurveyInvitation.user_id,
                SurveyParticipation.occasion == SurveyInvitation.occasion,
            ),
        )
        .where(SurveyInvitation.survey_id == Survey.id)
        .correlate(Survey)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Survey,
            func.coalesce(Module.title, Room.name),
            responses,
            asked,
            answered,
        )
        .outerjoin(Module, Module.id == Survey.module_id)
        .outerjoin(Room, Room.id == Survey.room_id)
        .where(survey_scope(scope))
        .order_by(Survey.created_at.desc(), Survey.id.desc())
    ).all()
    return [tuple(row) for row in rows]
