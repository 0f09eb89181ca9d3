"""What a trainer sees of learners' attempts at a SCORM lesson: a table of the module's learners
with their figures, one learner's attempts down to each answer, and the table as CSV.

The figures agree with the statistics dashboard (``learnplatform.stats.queries.scorm_figures``):
success is what the learner's last judged attempt said, the best score is the highest of their
attempts, time spent adds up every track of every attempt. Each page takes the same number of
queries whatever the number of learners: the database makes one row per learner.
"""

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, selectinload

from courses import access, bp
from courses.models import Enrolment
from courses.scorm import cmi
from courses.scorm.models import ScormAttempt, ScormInteraction, ScormPackage, ScormTrack
from learnplatform.access import trainer_required
from learnplatform.accounts.models import User
from learnplatform.audit import record, utcnow
from learnplatform.choices import country_name
from learnplatform.exports import csv_lines, download
from learnplatform.extensions import db
from learnplatform.search import matching_every_word

PAGE_SIZE = 50

#: the last attempt's status, in words
STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "completed": _l("Complete"),
}
#: what the last judged attempt said ("Failed" is taken, by a failed export)
SUCCESS_LABELS = {"passed": _l("Passed"), "failed": _l("Not passed")}
#: the table's filters: the last attempt's status, or the learner's success
FILTERS = {**STATUS_LABELS, **SUCCESS_LABELS}

#: the statuses a SCO reports (SCORM 1.2's lesson status, SCORM 2004's completion and success)
TRACK_STATUS_LABELS = {
    "passed": _l("Passed"),
    "completed": _l("Complete"),
    "failed": _l("Not passed"),
    "incomplete": _l("Incomplete"),
    "browsed": _l("Browsed"),
    "not attempted": _l("Not attempted"),
    "unknown": _l("Unknown"),
}
#: what an interaction's result says (``wrong`` is SCORM 1.2's word for incorrect)
RESULT_LABELS = {
    "correct": _l("Correct"),
    "incorrect": _l("Incorrect"),
    "wrong": _l("Incorrect"),
    "unanticipated": _l("Unanticipated"),
    "neutral": _l("Neutral"),
}
#: how a SCO left, in words
EXIT_LABELS = {
    "suspend": _l("Suspended"),
    "logout": _l("Logged out"),
    "normal": _l("Normal"),
    "time-out": _l("Timed out"),
}
#: the types of interaction, in words
INTERACTION_KIND_LABELS = {
    "true-false": _l("True or false"),
    "choice": _l("Choice"),
    "fill-in": _l("Fill in"),
    "long-fill-in": _l("Long fill in"),
    "matching": _l("Matching"),
    "performance": _l("Performance"),
    "sequencing": _l("Sequencing"),
    "likert": _l("Likert"),
    "numeric": _l("Numeric"),
    "other": _l("Other"),
}


def time_in_words(seconds: float | None) -> str:
    """A time spent as people read it: "1 h 05 min", "12 min 30 s", "45 s"; "—" for none."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, left = divmod(rest, 60)
    if hours:
        return _("%(hours)d h %(minutes)02d min", hours=hours, minutes=minutes)
    if minutes:
        if left:
            return _("%(minutes)d min %(seconds)02d s", minutes=minutes, seconds=left)
        return _("%(minutes)d min", minutes=minutes)
    return _("%(seconds)d s", seconds=left)


def _results_package(module_id: int, lesson_id: int):
    """The module (authored by the current user), the SCORM lesson and its package; else 404."""
    module = access.authored_module(module_id)
    lesson = access.lesson_in(module, lesson_id)
    if lesson.package is None:
        abort(404)
    return module, lesson, lesson.package


def learner_table(package: ScormPackage):
    """One row per learner actively enrolled in the package's module, as a subquery with the
    columns ``user_id``, ``name``, ``country``, ``attempts``, ``status`` (the last attempt's:
    ``not_started``, ``in_progress``, ``completed``), ``success`` (the last judged attempt's:
    ``passed``, ``failed`` or None), ``best`` (percent), ``seconds``, ``last_access`` (UTC), and
    for the summary ``launched`` and ``completed`` (1 when any attempt was, else 0)."""
    seconds = ScormTrack.earlier_seconds + ScormTrack.session_seconds
    launched = ScormTrack.first_launched_at.is_not(None)
    per_learner = (
        select(
            ScormAttempt.user_id.label("user_id"),
            func.count(func.distinct(ScormAttempt.id)).label("attempts"),
            func.max(ScormAttempt.number).label("last_number"),
            func.max(case((launched, ScormAttempt.number))).label("last_launched"),
            func.max(case((ScormAttempt.success.is_not(None), ScormAttempt.number))).label(
                "last_judged"
            ),
            func.max(case((ScormAttempt.completed_at.is_not(None), 1), else_=0)).label("completed"),
            func.max(case((launched, 1), else_=0)).label("launched"),
            func.max(ScormAttempt.score_percent).label("best"),
            func.sum(seconds).label("seconds"),
            func.max(func.coalesce(ScormTrack.updated_at, ScormTrack.first_launched_at)).label(
                "last_access"
            ),
        )
        # Each attempt once per track: sums are of tracks, the rest maxima and distinct counts.
        .outerjoin(ScormTrack, ScormTrack.attempt_id == ScormAttempt.id)
        .where(ScormAttempt.package_id == package.id)
        .group_by(ScormAttempt.user_id)
        .subquery()
    )
    last = aliased(ScormAttempt)
    judged = aliased(ScormAttempt)
    status = case(
        (last.completed_at.is_not(None), "completed"),
        (per_learner.c.last_launched == per_learner.c.last_number, "in_progress"),
        else_="not_started",
    )
    return (
        select(
            User.id.label("user_id"),
            User.name.label("name"),
            User.country.label("country"),
            func.coalesce(per_learner.c.attempts, 0).label("attempts"),
            status.label("status"),
            judged.success.label("success"),
            per_learner.c.best.label("best"),
            per_learner.c.seconds.label("seconds"),
            per_learner.c.last_access.label("last_access"),
            func.coalesce(per_learner.c.launched, 0).label("launched"),
            func.coalesce(per_learner.c.completed, 0).label("completed"),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(per_learner, per_learner.c.user_id == User.id)
        .outerjoin(
            last,
            and_(
                last.package_id == package.id,
                last.user_id == User.id,
                last.number == per_learner.c.last_number,
            ),
        )
        .outerjoin(
            judged,
            and_(
                judged.package_id == package.id,
                judged.user_id == User.id,
                judged.number == per_learner.c.last_judged,
            ),
        )
        .where(Enrolment.module_id == package.lesson.module_id, Enrolment.status == "active")
        .subquery()
    )


def summary_of(table) -> dict:
    """The figures above the table: learners, started, completed, passed, average best score."""
    learners, started, completed, passed, average = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(table.c.launched), 0),
            func.coalesce(func.sum(table.c.completed), 0),
            func.count(case((table.c.success == "passed", 1))),
            func.avg(table.c.best),
        )
    ).one()
    return {
        "learners": learners,
        "started": int(started),
        "completed": int(completed),
        "passed": passed,
        "average_score": round(float(average), 1) if average is not None else None,
    }


def filtered(table, chosen: str, words: str) -> list:
    """The conditions on ``table`` that the filter ``chosen`` and the searched ``words`` make."""
    conditions = matching_every_word(words, table.c.name)
    if chosen in STATUS_LABELS:
        conditions.append(table.c.status == chosen)
    elif chosen in SUCCESS_LABELS:
        conditions.append(table.c.success == chosen)
    return conditions


def _chosen_filters() -> tuple[str, str]:
    chosen = request.args.get("status", "")
    return (chosen if chosen in FILTERS else ""), request.args.get("q", "").strip()[:200]


@bp.get("/manage/<int:module_id>/lessons/<int:lesson_id>/results")
@trainer_required
def scorm_results(module_id, lesson_id):
    """The learners of the module with their attempts at the SCORM lesson, filtered and paged."""
    module, lesson, package = _results_package(module_id, lesson_id)
    table = learner_table(package)
    chosen, words = _chosen_filters()
    conditions = filtered(table, chosen, words)
    order = (table.c.name, table.c.user_id)
    # The page's learners, then their rows: db.paginate gives one column of each row.
    page = db.paginate(
        select(table.c.user_id).where(*conditions).order_by(*order),
        per_page=PAGE_SIZE,
        max_per_page=200,
    )
    rows = db.session.execute(
        select(table).where(table.c.user_id.in_(page.items)).order_by(*order)
    ).all()
    return render_template(
        "courses/scorm/results.html",
        module=module,
        lesson=lesson,
        package=package,
        summary=summary_of(table),
        page=page,
        rows=rows,
        chosen=chosen,
        words=words,
        filters=FILTERS,
        status_labels=STATUS_LABELS,
        success_labels=SUCCESS_LABELS,
        time_in_words=time_in_words,
    )


@bp.get("/manage/<int:module_id>/lessons/<int:lesson_id>/results.csv")
@trainer_required
def scorm_results_csv(module_id, lesson_id):
    """The learners' table as CSV, with the page's filters, streamed row by row."""
    module, lesson, package = _results_package(module_id, lesson_id)
    table = learner_table(package)
    chosen, words = _chosen_filters()
    query = (
        select(
            table.c.name,
            table.c.country,
            table.c.attempts,
            table.c.status,
            table.c.success,
            table.c.best,
            table.c.seconds,
            table.c.last_access,
        )
        .where(*filtered(table, chosen, words))
        .order_by(table.c.name, table.c.user_id)
        .execution_options(yield_per=500)
    )
    record(
        "scorm_results_exported",
        actor=current_user,
        module_id=module.id,
        lesson_id=lesson.id,
        filters={"status": chosen, "q": words},
    )
    db.session.commit()
    header = [
        _("Name"),
        _("Country"),
        _("Attempts"),
        _("Status of the last attempt"),
        _("Success (last judged attempt)"),
        _("Best score (%)"),
        _("Time spent (minutes)"),
        _("Last access (UTC)"),
    ]
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    successes = {key: str(label) for key, label in SUCCESS_LABELS.items()}

    def rows():
        # Read as the file is sent: the rows come in batches, never all at once.
        for (
            name,
            country,
            attempts,
            status,
            success,
            best,
            seconds,
            last_access,
        ) in db.session.execute(query):
            yield (
                name,
                country_name(country),
                attempts,
                statuses[status],
                successes.get(success, ""),
                best,
                round(seconds / 60, 1) if seconds is not None else None,
                last_access.isoformat(timespec="seconds") + "Z" if last_access else None,
            )

    file_name = f"scorm-results-lesson-{lesson.id}-{utcnow():%Y-%m-%d}.csv"
    # Only the name is text a person typed: the rest are numbers and the platform's words.
    return download(csv_lines(header, rows(), text_columns=(0,)), "csv", file_name, private=True)


@bp.get("/manage/<int:module_id>/lessons/<int:lesson_id>/results/<int:user_id>")
@trainer_required
def scorm_learner_results(module_id, lesson_id, user_id):
    """One learner's attempts at the SCORM lesson: each SCO's track and the answers given."""
    module, lesson, package = _results_package(module_id, lesson_id)
    learner = db.session.get(User, user_id)
    enrolled = learner is not None and db.session.scalar(
        select(Enrolment.id).where(
            Enrolment.module_id == module.id, Enrolment.user_id == learner.id
        )
    )
    if not enrolled:
        abort(404)
    attempts = db.session.scalars(
        select(ScormAttempt)
        .options(selectinload(ScormAttempt.tracks).selectinload(ScormTrack.sco))
        .where(ScormAttempt.package_id == package.id, ScormAttempt.user_id == learner.id)
        .order_by(ScormAttempt.number)
    ).all()
    track_ids = [track.id for attempt in attempts for track in attempt.tracks]
    interactions: dict[int, list[ScormInteraction]] = {track_id: [] for track_id in track_ids}
    if track_ids:
        for interaction in db.session.scalars(
            select(ScormInteraction)
            .where(ScormInteraction.track_id.in_(track_ids))
            .order_by(ScormInteraction.session, ScormInteraction.position)
        ):
            interactions[interaction.track_id].append(interaction)
    return render_template(
        "courses/scorm/learner_results.html",
        module=module,
        lesson=lesson,
        package=package,
        learner=learner,
        attempts=attempts,
        interactions=interactions,
        status_labels=STATUS_LABELS,
        success_labels=SUCCESS_LABELS,
        track_status_labels=TRACK_STATUS_LABELS,
        result_labels=RESULT_LABELS,
        exit_labels=EXIT_LABELS,
        kind_labels=INTERACTION_KIND_LABELS,
        time_in_words=time_in_words,
        seconds_of=cmi.seconds_of,
    )
