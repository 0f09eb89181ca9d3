"""Surveys and what they feed: a survey's results page and its CSV export, the knowledge gain,
the donor report, with 100 and with 100,000 responses and 1,000 and 100,000 learners.

Not a test: it prints figures. Run it with ``make bench-surveys`` or ``.venv/bin/python
bench/surveys.py`` (``--responses 100 100000`` and ``--learners 1000 100000``, paired: one
database each; ``--rounds 5``, ``--export-rounds 3``; ``--database URL`` for PostgreSQL, an empty
database it may fill; with ``TEST_DATABASE_URL`` set and no ``--database``, that one, after
SQLite; ``--sqlite-only`` to skip it; there each statement is cancelled after ``--timeout 60``
seconds, and a measure cut short says so). On a freshly migrated database, rows written in bulk:

- one module with a pre-test and a post-test, and its learners: each enrolled in 2025, with one
  or two pre-test attempts and one to three post-test attempts after them (what the knowledge
  gain pairs: the first pre-test against the best post-test), most of them completed;
- the module's evaluation, identified (so that its export carries the day, the learner and their
  profile: the heavier file), of six questions (agreement, recommendation, single and multiple
  choice, short and long text), asked of every learner and answered by the first ``responses``
  of them, about seven answer rows per response (a few choices ticked, some texts left empty).

Measured, each the median and slowest of ``--rounds`` requests through the Flask test client
(the server's time, no network) logged in as an administrator, with the SQL statements it took
(the fewest of the rounds: once a minute a request also notes that the login session is in use):

- the results page (``/surveys/<id>/results``, no filter), its figures alone, and what an
  anonymous survey's threshold adds to them (``results.answers_per_person``);
- the export of the responses as CSV, streamed: the time to its first piece and to its end, the
  rows sent, and the peak of Python's memory while it is read (``tracemalloc``, in a pass of its
  own since tracing slows the code it traces);
- the knowledge gain of the statistics dashboard, by country (``stats.gain.by_group``) and in
  all (``stats.gain.summary``), for the year 2025, called directly;
- the donor report's page for the year 2025.

The machine's load averages are printed beside, since other work changes the figures.
"""

# ruff: noqa: SIM905 (words written as text)

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from bench.scorm import login_as, platform  # noqa: E402
from courses.models import Enrolment, Module, Quiz, QuizAttempt  # noqa: E402
from learnplatform.accounts.models import User  # noqa: E402
from learnplatform.choices import AGENCY_TYPES, GENDERS  # noqa: E402
from learnplatform.extensions import db  # noqa: E402
from learnplatform.stats import gain, queries  # noqa: E402
from learnplatform.stats.filters import Filters  # noqa: E402
from learnplatform.surveys import results  # noqa: E402
from learnplatform.surveys.models import (  # noqa: E402
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyInvitation,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)
from tests.helpers import QueryCounter  # noqa: E402

#: (kind, text, choices) of the survey's questions
QUESTIONS = [
    ("agreement", "The module was useful for my work.", ()),
    ("recommendation", "How likely are you to recommend it to a colleague?", ()),
    ("single", "Which part helped most?", ("Lessons", "Case studies", "Post-test", "Forum")),
    (
        "multiple",
        "What will you use?",
        ("Checklists", "Templates", "Contacts", "Case law", "Glossary"),
    ),
    ("short_text", "One word for the module?", ()),
    ("long_text", "What would you change?", ()),
]
COUNTRIES = "KE NG SN MA EG ZA FR BR MX CO PE IN ID PH JO LB TN UA KZ CN".split()
WORDS = (
    "more case studies shorter videos evidence cooperation request provider judge warrant "
    "preservation channel authority glossary templates examples practical exercises"
).split()
YEAR = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31))
BATCH = 10_000


def insert_all(table, rows) -> None:
    """``rows`` (dicts) written into ``table`` by executemany, ``BATCH`` at a time."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(table.insert(), batch)
            batch = []
    if batch:
        db.session.execute(table.insert(), batch)


def fill(app, admin_id: int, *, learners: int, responses: int, seed: int = 11) -> int:
    """The module, its tests, ``learners`` learners with both tests, its evaluation answered
    ``responses`` times: the survey's id."""
    rng = random.Random(seed)
    genders, agencies = list(GENDERS), list(AGENCY_TYPES)
    with app.app_context():
        module = Module(
            title="Electronic evidence",
            theme="cooperation",
            language="en",
            is_published=True,
            created_by_id=admin_id,
        )
        db.session.add(module)
        db.session.flush()
        pre = Quiz(module_id=module.id, kind="pre_test", title="Pre-test", max_attempts=0)
        post = Quiz(module_id=module.id, kind="post_test", title="Post-test", max_attempts=0)
        survey = Survey(
            title="Evaluation of Electronic evidence",
            language="en",
            anonymous=False,
            purpose="evaluation",
            module_id=module.id,
            created_by_id=admin_id,
        )
        for position, (kind, wording, choices) in enumerate(QUESTIONS, start=1):
            survey.questions.append(
                SurveyQuestion(
                    position=position,
                    kind=kind,
                    text=wording,
                    required=kind not in ("multiple", "short_text", "long_text"),
                    choices=[
                        SurveyChoice(position=number, text=choice)
                        for number, choice in enumerate(choices, start=1)
                    ],
                )
            )
        db.session.add_all([pre, post, survey])
        db.session.commit()
        questions = [(q.id, q.kind, [c.id for c in q.choices]) for q in survey.questions]
        survey_id, module_id, pre_id, post_id = survey.id, module.id, pre.id, post.id

        profiles = [
            (rng.choice(COUNTRIES), rng.choice(genders), rng.choice(agencies))
            for _ in range(learners)
        ]
        insert_all(
            User.__table__,
            (
                {
                    "email": f"learner{number}@bench.example.org",
                    "name": f"Learner {number}",
                    "password_hash": "!",
                    "country": country,
                    "organisation": "Bench",
                    "agency_type": agency,
                    "gender": gender,
                    "role": "practitioner",
                    "active": True,
                }
                for number, (country, gender, agency) in enumerate(profiles)
            ),
        )
        user_ids = list(
            db.session.scalars(select(User.id).where(User.email.like("learner%")).order_by(User.id))
        )
        starts = [
            datetime(2025, 1, 1, 8) + timedelta(days=rng.randrange(300), minutes=rng.randrange(600))
            for _ in range(learners)
        ]
        enrolments, attempts = [], []
        for user_id, start in zip(user_ids, starts, strict=True):
            first_pre = rng.randint(10, 80)
            pre_scores = [first_pre, min(100, first_pre + rng.randint(0, 15))][: rng.randint(1, 2)]
            post_scores = [
                max(0, min(100, first_pre + rng.randint(-10, 45))) for _ in range(rng.randint(1, 3))
            ]
            moment = start
            for quiz_id, scores in ((pre_id, pre_scores), (post_id, post_scores)):
                for number, percent in enumerate(scores, start=1):
                    moment += timedelta(hours=rng.randint(1, 72))
                    attempts.append(
                        {
                            "quiz_id": quiz_id,
                            "user_id": user_id,
                            "number": number,
                            "question_order": "",
                            "started_at": moment - timedelta(minutes=20),
                            "submitted_at": moment,
                            "points": percent // 5,
                            "max_points": 20,
                            "percent": percent,
                            "passed": percent >= 70,
                        }
                    )
            best = max(post_scores)
            enrolments.append(
                {
                    "module_id": module_id,
                    "user_id": user_id,
                    "status": "active",
                    "requested_at": start,
                    "enrolled_at": start,
                    "lessons_done": 8,
                    "progress_percent": 100,
                    "started_at": start,
                    "last_activity_at": moment,
                    "pre_test_percent": max(pre_scores),
                    "post_test_percent": best,
                    "completed_at": moment if best >= 70 else None,
                    "completion_percent": best if best >= 70 else None,
                }
            )
        insert_all(Enrolment.__table__, enrolments)
        insert_all(QuizAttempt.__table__, attempts)
        enrolment_ids = list(
            db.session.scalars(
                select(Enrolment.id).where(Enrolment.module_id == module_id).order_by(Enrolment.id)
            )
        )
        ends = [enrolment["last_activity_at"] for enrolment in enrolments]
        del enrolments, attempts
        insert_all(
            SurveyInvitation.__table__,
            (
                {
                    "survey_id": survey_id,
                    "user_id": user_id,
                    "occasion": 0,
                    "enrolment_id": enrolment_id,
                    "created_at": end,
                }
                for user_id, enrolment_id, end in zip(user_ids, enrolment_ids, ends, strict=True)
            ),
        )
        respondents = user_ids[:responses]
        insert_all(
            SurveyParticipation.__table__,
            (
                {"survey_id": survey_id, "user_id": user_id, "occasion": 0}
                for user_id in respondents
            ),
        )
        keys = [uuid4().hex for _ in respondents]
        insert_all(
            SurveyResponse.__table__,
            (
                {
                    "id": key,
                    "survey_id": survey_id,
                    "user_id": user_id,
                    "occasion": 0,
                    "submitted_on": (end + timedelta(hours=1)).date(),
                    "country": country,
                    "gender": gender,
                    "agency_type": agency,
                }
                for key, user_id, end, (country, gender, agency) in zip(
                    keys, respondents, ends, profiles, strict=False
                )
            ),
        )

        def answers():
            for key in keys:
                for question_id, kind, choices in questions:
                    row = {
                        "response_id": key,
                        "question_id": question_id,
                        "number": None,
                        "choice_id": None,
                        "text": None,
                    }
                    if kind == "agreement":
                        yield {**row, "number": rng.choice((2, 3, 4, 4, 5, 5))}
                    elif kind == "recommendation":
                        yield {**row, "number": rng.choice((3, 6, 7, 8, 9, 9, 10, 10))}
                    elif kind == "single":
                        yield {**row, "choice_id": rng.choice(choices)}
                    elif kind == "multiple":
                        for choice_id in rng.sample(choices, rng.randint(0, 3)):
                            yield {**row, "choice_id": choice_id}
                    elif kind == "short_text" and rng.random() < 0.7:
                        yield {**row, "text": rng.choice(WORDS).title()}
                    elif kind == "long_text" and rng.random() < 0.5:
                        words = rng.choices(WORDS, k=rng.randint(8, 60))
                        yield {**row, "text": " ".join(words).capitalize() + "."}

        insert_all(SurveyAnswer.__table__, answers())
        db.session.commit()
    with app.app_context(), db.engine.connect() as connection:
        # What autovacuum does soon after a bulk load: planner statistics for the new rows.
        connection.execute(text("ANALYZE"))
        connection.commit()
    return survey_id


def time_limit(app, seconds: int) -> None:
    """Each PostgreSQL statement from now on cancelled after ``seconds``: a plan gone wrong
    shows as a cancelled statement instead of a benchmark that never ends."""
    with app.app_context():
        engine = db.engine
    engine.dispose()

    @event.listens_for(engine, "connect")
    def limited(connection, _record):
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(seconds) * 1000}")
        connection.commit()


def counted(app, action: Callable[[], object]) -> tuple[float, int, object]:
    """Seconds and SQL statements ``action`` took, and what it gave."""
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        started = time.perf_counter()
        result = action()
        spent = time.perf_counter() - started
    return spent, counter.count, result


def page(client, path: str) -> Callable[[], int]:
    """Getting ``path``: its status."""
    return lambda: client.get(path).status_code


def streamed(client, path: str) -> Callable[[], tuple[float, int]]:
    """Reading ``path`` as a stream: the seconds to its first piece, and its lines."""

    def get():
        started = time.perf_counter()
        response = client.get(path, buffered=False)
        assert response.status_code == 200, (path, response.status_code)
        first, lines = None, 0
        try:
            for piece in response.response:
                if first is None:
                    first = time.perf_counter() - started
                lines += piece.count("\n") if isinstance(piece, str) else piece.count(b"\n")
        finally:
            response.close()
        return first, lines

    return get


def peak_memory(action: Callable[[], object]) -> float:
    """The peak of Python's memory while ``action`` runs, in MB above what it started with."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - before) / 1e6


def run(url: str, folder: Path, learners: int, responses: int, arguments) -> None:
    app = platform(url, folder)
    client = app.test_client()
    admin = login_as(app, client, "administrator", 1)
    started = time.perf_counter()
    survey_id = fill(app, admin.id, learners=learners, responses=responses)
    if url.startswith("postgresql"):
        time_limit(app, arguments.timeout)
    with app.app_context():
        answers = db.session.scalar(select(func.count()).select_from(SurveyAnswer))
        attempts = db.session.scalar(select(func.count()).select_from(QuizAttempt))
    print(
        f"\n{url.split(':', 1)[0]}: {learners} learners ({attempts} test attempts), "
        f"{responses} responses ({answers} answers), written in "
        f"{time.perf_counter() - started:.0f} s"
    )
    print(
        f"{'measured':<38}  {'p50 ms':>8}  {'max ms':>8}  {'1st ms':>7}  {'SQL':>4}  "
        f"{'rows':>7}  {'peak MB':>7}"
    )

    def line(name, timings, statements, first="", rows="", memory=""):
        p50, slowest = statistics.median(timings) * 1000, max(timings) * 1000
        print(
            f"{name:<38}  {p50:8.1f}  {slowest:8.1f}  {first:>7}  {statements:4d}  "
            f"{rows!s:>7}  {memory:>7}"
        )

    results_path = f"/surveys/{survey_id}/results"
    timings, statements = [], sys.maxsize
    for _ in range(arguments.rounds):
        spent, counts, status = counted(app, page(client, results_path))
        timings.append(spent)
        statements = min(statements, counts)
        if status != 200:
            break  # its error is logged once; its timings would not be the page's
    if status == 200:
        memory = peak_memory(page(client, results_path))
        line(f"results page, {responses} responses", timings, statements, memory=f"{memory:.1f}")
    else:
        print(f"results page, {responses} responses: HTTP {status} (see the error above)")

    with app.test_request_context(results_path):
        survey = results.visible_survey(survey_id, queries.scope_of(db.session.get(User, admin.id)))

        def figures():
            found = results.combined_figures([survey], Filters(), texts=True)
            return results.respondent_breakdowns(found, Filters())

        timings = []
        for _ in range(arguments.rounds):
            spent, statements, _found = counted(app, figures)
            timings.append(spent)
        line(f"  its figures alone, {responses}", timings, statements)

        # What an anonymous survey adds: how many times each participant answered.
        timings = []
        for _ in range(arguments.rounds):
            spent, statements, _found = counted(
                app, lambda: results.answers_per_person([survey_id])
            )
            timings.append(spent)
        line(f"  answers per person (anonymous), {responses}", timings, statements)

    export_path = f"/surveys/{survey_id}/results/export/responses.csv"
    timings, firsts, statements = [], [], sys.maxsize
    for _ in range(arguments.export_rounds):
        spent, counts, (first, lines) = counted(app, streamed(client, export_path))
        statements = min(statements, counts)
        timings.append(spent)
        firsts.append(first)
    memory = peak_memory(streamed(client, export_path))
    line(
        f"responses CSV, {responses} responses",
        timings,
        statements,
        first=f"{statistics.median(firsts) * 1000:.1f}",
        rows=lines - 1,
        memory=f"{memory:.1f}",
    )

    with app.test_request_context("/stats/"):
        scope = queries.scope_of(db.session.get(User, admin.id))
        for name, action in (
            (
                f"knowledge gain by country, {learners}",
                lambda: gain.by_group(YEAR, scope, "country"),
            ),
            (f"knowledge gain in all, {learners}", lambda: gain.summary(YEAR, scope)),
        ):
            timings = []
            for _ in range(arguments.rounds):
                try:
                    spent, statements, _found = counted(app, action)
                except DBAPIError as error:
                    print(f"{name}: cancelled after {arguments.timeout} s ({error.orig})")
                    db.session.rollback()
                    break
                timings.append(spent)
                db.session.rollback()
            else:
                line(name, timings, statements)

    report_path = "/stats/donor-report/?start=2025-01-01&end=2025-12-31&language=en"
    timings, statements = [], sys.maxsize
    for _ in range(arguments.rounds):
        try:
            spent, counts, status = counted(app, page(client, report_path))
        except DBAPIError as error:  # cancelled, and the error page failed after it
            print(f"donor report, year 2025, {learners}: failed ({error.orig})")
            return
        timings.append(spent)
        statements = min(statements, counts)
        if status != 200:
            break
    if status == 200:
        line(f"donor report, year 2025, {learners}", timings, statements)
    else:
        print(f"donor report, year 2025, {learners}: HTTP {status} after {timings[-1]:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--learners", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--export-rounds", type=int, default=3)
    parser.add_argument(
        "--timeout", type=int, default=60, help="PostgreSQL: seconds a statement may take"
    )
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    arguments = parser.parse_args()
    if len(arguments.responses) != len(arguments.learners):
        parser.error("give as many --learners as --responses: they are paired")
    if any(r > n for r, n in zip(arguments.responses, arguments.learners, strict=True)):
        parser.error("the respondents are among the learners: no more responses than learners")
    logging.disable(logging.INFO)  # one access log line per request would drown the figures
    print("load averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))
    urls = ["sqlite"]
    if arguments.database and not arguments.sqlite_only:
        urls.append(arguments.database)
    for url in urls:
        for learners, responses in zip(arguments.learners, arguments.responses, strict=True):
            with tempfile.TemporaryDirectory() as folder:
                run(
                    f"sqlite:///{Path(folder) / 'bench.sqlite'}" if url == "sqlite" else url,
                    Path(folder),
                    learners,
                    responses,
                    arguments,
                )
    print("\nload averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
