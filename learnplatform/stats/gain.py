"""Knowledge gain: what the learners of a module knew before it (the pre-test) against what they
knew at its end (the post-test), for the same learners.

Which scores pair. A learner counts once per module when they have a submitted attempt at both
tests of the module they are enrolled in: their **first** pre-test attempt (what they knew before;
later attempts have seen the questions) against their **best** post-test attempt (the score the
module records and certifies; the earliest of equal best attempts), the pre-test submitted before
that post-test attempt. Attempts are read, not the enrolment's stored best scores, whose best
pre-test would flatter what learners knew.

Which date counts. The submission of that best post-test attempt: a learner counts in the period
that attempt falls in. The dashboard's filters apply (module, theme and language to the module;
country, region, gender, agency type and organisation to the learner) and the scope (trainers see
their modules).

Each group gives the learners counted, their mean pre-test and post-test scores (percent, one
decimal), the mean of each learner's difference (post-test minus pre-test, in percentage points),
the share who improved, and how many fall in each band of ``BANDS``. A learner counts in one group
only, whatever the group, so the groups add up to the total. One query whatever the number of
learners, modules and attempts.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from courses.models import Enrolment, Module, Quiz, QuizAttempt
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.regions import region_of
from learnplatform.stats import queries
from learnplatform.stats.filters import Filters

#: The bands of the difference (post-test minus pre-test, in percentage points; scores are
#: whole percents): key, name, lowest and highest difference (None: open).
BANDS = [
    ("lost", _l("Lost ground"), None, -1),
    ("same", _l("No change"), 0, 0),
    ("gain_1_10", _l("+1 to +10"), 1, 10),
    ("gain_11_25", _l("+11 to +25"), 11, 25),
    ("gain_26_50", _l("+26 to +50"), 26, 50),
    ("gain_over_50", _l("More than +50"), 51, None),
]

#: The figures of a group, as the exports' columns name them.
COLUMNS = [
    ("learners", _l("Learners with both tests")),
    ("average_pre", _l("Average pre-test score (%)")),
    ("average_post", _l("Average post-test score (%)")),
    ("average_gain", _l("Average gain (points)")),
    ("share_improved", _l("Learners who improved (%)")),
    *((key, _l("Gain %(band)s (learners)", band=name)) for key, name, _, _ in BANDS),
]


def _one_decimal(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


@dataclass
class Gain:
    """The knowledge gain of one group (or of everything)."""

    key: object = None
    label: str | None = None
    learners: int = 0
    pre_total: int = 0
    post_total: int = 0
    #: learners in each band of BANDS, in order
    bands: list[int] = field(default_factory=lambda: [0] * len(BANDS))

    @property
    def average_pre(self) -> float | None:
        return _one_decimal(self.pre_total, self.learners)

    @property
    def average_post(self) -> float | None:
        return _one_decimal(self.post_total, self.learners)

    @property
    def average_gain(self) -> float | None:
        """The mean of each learner's difference, which is the difference of the means."""
        return _one_decimal(self.post_total - self.pre_total, self.learners)

    @property
    def share_improved(self) -> float | None:
        """Percent of the learners whose post-test score is above their pre-test score."""
        improved = sum(self.bands[2:])
        return _one_decimal(100 * improved, self.learners)

    def add(self, other: "Gain") -> None:
        self.learners += other.learners
        self.pre_total += other.pre_total
        self.post_total += other.post_total
        self.bands = [mine + theirs for mine, theirs in zip(self.bands, other.bands, strict=True)]

    def distribution(self) -> list[dict]:
        """Each band: its key, its name in the interface language, and the learners in it."""
        return [
            {"key": key, "label": str(name), "learners": count}
            for (key, name, _, _), count in zip(BANDS, self.bands, strict=True)
        ]

    def as_dict(self) -> dict:
        return {
            "learners": self.learners,
            "average_pre": self.average_pre,
            "average_post": self.average_post,
            "average_gain": self.average_gain,
            "share_improved": self.share_improved,
            "distribution": self.distribution(),
        }

    def figures(self) -> tuple:
        """The figures in the order of COLUMNS."""
        return (
            self.learners,
            self.average_pre,
            self.average_post,
            self.average_gain,
            self.share_improved,
            *self.bands,
        )


def _submitted(attempt=QuizAttempt) -> list:
    return [attempt.submitted_at.is_not(None), attempt.percent.is_not(None)]


def _per_learner():
    """For each learner and module, in one pass over the submitted attempts at its tests: the
    number of the first pre-test attempt and the best post-test score.

    Grouped, not ranked: a database estimates the rows of a group well and those of a rank's
    filter badly (PostgreSQL, expecting a few hundred first attempts where there were 100,000,
    joined them in nested loops for minutes), and each attempt is then found by its index."""
    pre, post = Quiz.kind == "pre_test", Quiz.kind == "post_test"
    return (
        select(
            Quiz.module_id.label("module_id"),
            QuizAttempt.user_id.label("user_id"),
            func.min(case((pre, QuizAttempt.number))).label("pre_number"),
            func.max(case((post, QuizAttempt.percent))).label("best_percent"),
        )
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .where(or_(pre, post), *_submitted())
        .group_by(Quiz.module_id, QuizAttempt.user_id)
        .subquery("per_learner")
    )


def _figures(filters: Filters, scope: queries.Scope, keys: list) -> list[tuple]:
    """Rows of ``keys`` then learners, pre-test total, post-test total and each band's count."""
    learner = _per_learner()
    pre_test, post_test = aliased(Quiz), aliased(Quiz)
    first_pre, best_post, earlier = aliased(QuizAttempt), aliased(QuizAttempt), aliased(QuizAttempt)
    difference = best_post.percent - first_pre.percent

    def in_band(low, high):
        conditions = []
        if low is not None:
            conditions.append(difference >= low)
        if high is not None:
            conditions.append(difference <= high)
        return func.count(case((and_(*conditions), 1)))

    # The earliest of the learner's best post-test attempts: none before it scored as much.
    earlier_as_good = (
        select(earlier.id)
        .where(
            earlier.quiz_id == best_post.quiz_id,
            earlier.user_id == best_post.user_id,
            earlier.percent == best_post.percent,
            earlier.number < best_post.number,
            *_submitted(earlier),
        )
        .exists()
    )
    query = (
        select(
            *keys,
            func.count(),
            func.coalesce(func.sum(first_pre.percent), 0),
            func.coalesce(func.sum(best_post.percent), 0),
            *(in_band(low, high) for _, _, low, high in BANDS),
        )
        .select_from(learner)
        .join(
            pre_test,
            and_(pre_test.module_id == learner.c.module_id, pre_test.kind == "pre_test"),
        )
        .join(
            first_pre,
            and_(
                first_pre.quiz_id == pre_test.id,
                first_pre.user_id == learner.c.user_id,
                first_pre.number == learner.c.pre_number,
            ),
        )
        .join(
            post_test,
            and_(post_test.module_id == learner.c.module_id, post_test.kind == "post_test"),
        )
        .join(
            best_post,
            and_(
                best_post.quiz_id == post_test.id,
                best_post.user_id == learner.c.user_id,
                best_post.percent == learner.c.best_percent,
                *_submitted(best_post),
            ),
        )
        .join(
            Enrolment,
            and_(
                Enrolment.module_id == learner.c.module_id,
                Enrolment.user_id == learner.c.user_id,
            ),
        )
        .join(User, User.id == Enrolment.user_id)
        .join(Module, Module.id == Enrolment.module_id)
        .where(
            ~earlier_as_good,
            first_pre.submitted_at < best_post.submitted_at,
            Enrolment.enrolled_at.is_not(None),
            *queries.within(best_post.submitted_at, filters),
            *queries.module_conditions(filters, scope),
            *queries.learner_conditions(filters),
        )
    )
    if keys:
        query = query.group_by(*keys)
    return list(db.session.execute(query))


def _gain_of(row: tuple, width: int) -> Gain:
    key = row[0] if width else None
    label = row[1] if width > 1 else None
    learners, pre_total, post_total, *bands = row[width:]
    return Gain(key, label, learners, int(pre_total), int(post_total), list(bands))


def by_group(filters: Filters, scope: queries.Scope, group: str) -> list[Gain]:
    """The knowledge gain by ``group`` (any of ``filters.GROUPS``), most learners first; regions
    and sub-regions are added up from the countries. One query."""
    level = group if group in ("region", "subregion") else None
    keys = queries._group_columns("country" if level else group)
    rows = [_gain_of(row, len(keys)) for row in _figures(filters, scope, keys)]
    if level:
        rolled: dict = {}
        for row in rows:
            key = region_of(row.key, level)
            rolled.setdefault(key, Gain(key=key)).add(row)
        rows = list(rolled.values())
    rows.sort(key=lambda gain: (-gain.learners, str(gain.label or gain.key or "")))
    return rows


def total_of(rows: list[Gain]) -> Gain:
    """The gain of everything, added up from the groups (each learner is in one group)."""
    total = Gain()
    for row in rows:
        total.add(row)
    return total


def summary(filters: Filters, scope: queries.Scope) -> dict:
    """The knowledge gain in all, for the donor report: learners, average_pre, average_post,
    average_gain, share_improved and distribution (see ``Gain.as_dict``). One query."""
    (row,) = _figures(filters, scope, [])
    return _gain_of(row, 0).as_dict()
