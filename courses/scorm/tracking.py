"""Learners' attempts at SCORM lessons: launching a SCO, keeping what its runtime commits, and
what follows when a package is completed (the lesson done, the module's completion rules).

As in ``courses.services``, services flush and the view commits; whatever must happen once is
guarded by a unique constraint or a conditional update: two tabs, a retried request or a commit
arriving late never repeat nor undo anything.
"""

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from courses import services
from courses.scorm import cmi, statements
from courses.scorm.models import (
    ScormAttempt,
    ScormInteraction,
    ScormPackage,
    ScormSco,
    ScormTrack,
)
from learnplatform.audit import utcnow
from learnplatform.extensions import db


def attempts_of(package: ScormPackage, user) -> list[ScormAttempt]:
    """The person's attempts at a package, first first."""
    return list(
        db.session.scalars(
            select(ScormAttempt)
            .where(ScormAttempt.package_id == package.id, ScormAttempt.user_id == user.id)
            .order_by(ScormAttempt.number)
        )
    )


def is_finished(attempt: ScormAttempt) -> bool:
    """Completed, or judged failed: a new attempt may follow it."""
    return attempt.completed_at is not None or attempt.success == "failed"


def may_start_another(package: ScormPackage, attempts: list[ScormAttempt]) -> bool:
    """Whether the learner may start a new attempt now: the last one is finished and the
    trainer's limit (0: none) is not reached."""
    if not attempts or not is_finished(attempts[-1]):
        return False
    return not package.max_attempts or len(attempts) < package.max_attempts


def _insert_attempt(package: ScormPackage, user, number: int) -> ScormAttempt:
    attempt = ScormAttempt(package_id=package.id, user_id=user.id, number=number)
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Another tab started the same attempt a moment ago: use it.
        return next(a for a in attempts_of(package, user) if a.number == number)
    return attempt


def current_attempt(package: ScormPackage, user) -> ScormAttempt:
    """The attempt a launch continues: the last one, or the first, started now."""
    attempts = attempts_of(package, user)
    return attempts[-1] if attempts else _insert_attempt(package, user, 1)


def start_new_attempt(package: ScormPackage, user) -> ScormAttempt | None:
    """Start the next attempt when allowed; None when it is not."""
    attempts = attempts_of(package, user)
    if not may_start_another(package, attempts):
        return None
    return _insert_attempt(package, user, len(attempts) + 1)


def tracks_of(attempt: ScormAttempt) -> dict[int, ScormTrack]:
    """The attempt's tracks by SCO id."""
    return {
        track.sco_id: track
        for track in db.session.scalars(
            select(ScormTrack).where(ScormTrack.attempt_id == attempt.id)
        )
    }


def track_of(attempt: ScormAttempt, sco: ScormSco) -> ScormTrack:
    """The attempt's track of a SCO, created on first launch."""
    query = select(ScormTrack).where(
        ScormTrack.attempt_id == attempt.id, ScormTrack.sco_id == sco.id
    )
    track = db.session.scalar(query)
    if track is not None:
        return track
    try:
        with db.session.begin_nested():
            db.session.execute(insert(ScormTrack).values(attempt_id=attempt.id, sco_id=sco.id))
    except IntegrityError:
        pass  # a second tab launched it first
    return db.session.scalar(query)


def launch(track: ScormTrack, user) -> int:
    """Count a launch of the track's SCO; returns its session number, which orders commits."""
    now = utcnow()
    session = db.session.execute(
        update(ScormTrack)
        .where(ScormTrack.id == track.id)
        .values(
            launches=ScormTrack.launches + 1,
            first_launched_at=func.coalesce(ScormTrack.first_launched_at, now),
        )
        .returning(ScormTrack.launches)
    ).scalar_one()
    db.session.refresh(track)
    statements.launched(track, user, session)
    if track.sco.scorm_type == "asset":
        # An asset reports nothing: opening it is doing it.
        store_commit(track, user, session=session, sequence=1, snapshot=cmi.Snapshot())
    return session


def store_commit(
    track: ScormTrack,
    user,
    *,
    session: int,
    sequence: int,
    snapshot: cmi.Snapshot,
    terminate: bool = False,
) -> bool:
    """Keep a commit if it comes after the one kept; returns whether it was kept.

    A commit of a later session starts that session's time; the time of the sessions before
    it adds up in ``earlier_seconds``. Done (completed or passed) is recorded once; once every
    SCO of the package is done, so is the attempt and the lesson.
    """
    now = utcnow()
    later = or_(
        ScormTrack.session < session,
        and_(ScormTrack.session == session, ScormTrack.sequence < sequence),
    )
    done = snapshot.is_done(track.sco.scorm_type)
    was_done = track.done_at is not None  # before the update, which refreshes the object
    kept = db.session.execute(
        update(ScormTrack)
        .where(ScormTrack.id == track.id, session <= ScormTrack.launches, later)
        .values(
            earlier_seconds=db.case(
                (
                    ScormTrack.session < session,
                    ScormTrack.earlier_seconds + ScormTrack.session_seconds,
                ),
                else_=ScormTrack.earlier_seconds,
            ),
            session_seconds=snapshot.session_seconds,
            session=session,
            sequence=sequence,
            lesson_status=snapshot.lesson_status,
            completion_status=snapshot.completion_status,
            success_status=snapshot.success_status,
            score_raw=snapshot.score_raw,
            score_min=snapshot.score_min,
            score_max=snapshot.score_max,
            score_scaled=snapshot.score_scaled,
            progress_measure=snapshot.progress_measure,
            location=snapshot.location,
            suspend_data=snapshot.suspend_data,
            exit=snapshot.exit,
            extra=snapshot.extra,
            updated_at=now,
            done_at=func.coalesce(ScormTrack.done_at, now) if done else ScormTrack.done_at,
        )
    ).rowcount
    if not kept:
        return False
    db.session.refresh(track)
    _keep_interactions(track, session, snapshot.interactions)
    if terminate:
        statements.terminated(track, user, session)
    if done and not was_done:
        statements.sco_done(track, user, snapshot)
    _roll_up(track.attempt, user)
    return True


def _keep_interactions(track: ScormTrack, session: int, found: list[cmi.Interaction]) -> None:
    """The session's interactions as the commit lists them (each commit lists them all)."""
    db.session.execute(
        delete(ScormInteraction).where(
            ScormInteraction.track_id == track.id, ScormInteraction.session == session
        )
    )
    if found:
        db.session.execute(
            insert(ScormInteraction),
            [
                {
                    "track_id": track.id,
                    "session": session,
                    "position": item.position,
                    "identifier": item.identifier,
                    "kind": item.kind,
                    "description": item.description,
                    "learner_response": item.learner_response,
                    "correct_responses": item.correct_responses,
                    "result": item.result,
                    "weighting": item.weighting,
                    "latency": item.latency,
                    "timestamp": item.timestamp,
                }
                for item in found
            ],
        )


def _snapshot_of(track: ScormTrack) -> cmi.Snapshot:
    return cmi.Snapshot(
        lesson_status=track.lesson_status,
        completion_status=track.completion_status,
        success_status=track.success_status,
        score_raw=track.score_raw,
        score_min=track.score_min,
        score_max=track.score_max,
        score_scaled=track.score_scaled,
    )


def _roll_up(attempt: ScormAttempt, user) -> None:
    """The attempt's success and score from its tracks; its completion once every SCO is done,
    and with it the lesson's."""
    package = attempt.package
    tracks = tracks_of(attempt)
    snapshots = [_snapshot_of(track) for track in tracks.values()]
    judged = {snapshot.success for snapshot in snapshots} - {None}
    scores = [s.score_percent for s in snapshots if s.score_percent is not None]
    attempt.success = "failed" if "failed" in judged else ("passed" if judged else None)
    attempt.score_percent = round(sum(scores) / len(scores)) if scores else None
    db.session.flush()
    all_done = len(package.scos) > 0 and all(
        sco.id in tracks and tracks[sco.id].done_at is not None for sco in package.scos
    )
    if not all_done or attempt.completed_at is not None:
        return
    claimed = db.session.execute(
        update(ScormAttempt)
        .where(ScormAttempt.id == attempt.id, ScormAttempt.completed_at.is_(None))
        .values(completed_at=utcnow())
    ).rowcount
    db.session.refresh(attempt)
    if not claimed:
        return
    lesson = package.lesson
    enrolment = services.enrolment_of(lesson.module, user)
    if enrolment is not None and enrolment.status == "active":
        services.mark_done(enrolment, lesson)


def best_scores(lesson_ids: list[int], user_ids: list[int] | None = None):
    """The best score (percent) each learner reached on each SCORM lesson, as a query of
    (lesson_id, user_id, best percent): statistics and exports join it."""
    query = (
        select(
            ScormPackage.lesson_id,
            ScormAttempt.user_id,
            func.max(ScormAttempt.score_percent).label("best"),
        )
        .join(ScormAttempt, ScormAttempt.package_id == ScormPackage.id)
        .where(ScormPackage.lesson_id.in_(lesson_ids), ScormAttempt.score_percent.is_not(None))
        .group_by(ScormPackage.lesson_id, ScormAttempt.user_id)
    )
    if user_ids is not None:
        query = query.where(ScormAttempt.user_id.in_(user_ids))
    return query
