"""What can be done with modules: authoring, enrolment, progress, quizzes, completion.

Services flush; the view that calls them commits. Everything that must happen once (an
enrolment, an attempt, a submission, a completion, a certificate) is guarded by a unique
constraint or a conditional update, so that double clicks and two tabs cannot repeat it.
"""

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from courses import certificate_documents, notices, xapi_events
from courses.certificates import new_certificate_code
from courses.models import (
    AttemptAnswer,
    Certificate,
    Enrolment,
    Lesson,
    LessonAttachment,
    LessonProgress,
    Module,
    Option,
    Question,
    Quiz,
    QuizAttempt,
)
from learnplatform.audit import record, utcnow
from learnplatform.extensions import db
from learnplatform.richtext import clean_lesson_html
from learnplatform.storage import delete_stored


class NotAllowed(Exception):
    """The operation does not fit the state of the module, enrolment or attempt."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- Authoring -----------------------------------------------------------------------------------


#: a picture of the lesson shown in its text (``learnplatform.richtext.PLATFORM_IMAGE``)
INLINE_PICTURE = re.compile(r"/courses/attachments/(\d+)/inline")


def listed_attachments(lesson: Lesson) -> list[LessonAttachment]:
    """The lesson's files to list under it for learners: those its text does not already show
    as pictures."""
    shown = {int(number) for number in INLINE_PICTURE.findall(lesson.body_html or "")}
    return [attachment for attachment in lesson.attachments if attachment.id not in shown]


def set_published(module: Module, published: bool) -> None:
    """Publish a module (it appears in the catalogue) or take it back to draft."""
    module.is_published = published
    if published and module.published_at is None:
        module.published_at = utcnow()


def _refresh_progress_of(module: Module) -> None:
    """After lessons were added or removed: the stored counts follow, in one statement each."""
    module.lesson_count = db.session.scalar(
        select(func.count(Lesson.id)).where(Lesson.module_id == module.id)
    )
    done = (
        select(func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrolment_id == Enrolment.id, Lesson.module_id == module.id)
        .scalar_subquery()
    )
    db.session.execute(
        update(Enrolment).where(Enrolment.module_id == module.id).values(lessons_done=done)
    )
    total = module.lesson_count
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.module_id == module.id, Enrolment.completed_at.is_(None))
        .values(progress_percent=(Enrolment.lessons_done * 100 // total) if total else 0)
    )


def add_lesson(module: Module, *, title: str, body_html: str) -> Lesson:
    """Append a lesson to the module; its body is cleaned before it is kept."""
    last = db.session.scalar(select(func.max(Lesson.position)).where(Lesson.module_id == module.id))
    lesson = Lesson(
        module=module, position=(last or 0) + 1, title=title, body_html=clean_lesson_html(body_html)
    )
    db.session.add(lesson)
    db.session.flush()
    _refresh_progress_of(module)
    return lesson


def edit_lesson(lesson: Lesson, *, title: str, body_html: str) -> None:
    """Change a lesson's title and body; the body is cleaned before it is kept."""
    lesson.title = title
    lesson.body_html = clean_lesson_html(body_html)
    lesson.updated_at = utcnow()


def _renumber(items) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def move_lesson(lesson: Lesson, offset: int) -> None:
    """Move a lesson up (-1) or down (+1) in its module."""
    lessons = list(lesson.module.lessons)
    index = lessons.index(lesson)
    target = index + offset
    if 0 <= target < len(lessons):
        lessons[index], lessons[target] = lessons[target], lessons[index]
    _renumber(lessons)


def remove_lesson(lesson: Lesson) -> None:
    """Remove a lesson, its attachments and the progress recorded on it. Completions stay."""
    from courses.scorm.authoring import remove_package_files

    module = lesson.module
    from courses.lesson_videos import files_of

    files = [attachment.stored_file for attachment in lesson.attachments] + files_of(lesson)
    remove_package_files(lesson)
    db.session.execute(
        update(Enrolment).where(Enrolment.last_lesson_id == lesson.id).values(last_lesson_id=None)
    )
    module.lessons.remove(lesson)
    db.session.flush()
    for stored in files:
        delete_stored(stored)
    _renumber(module.lessons)
    _refresh_progress_of(module)


def remove_attachment(attachment: LessonAttachment) -> None:
    """Remove a lesson's attachment and its file."""
    stored = attachment.stored_file
    db.session.delete(attachment)
    db.session.flush()
    delete_stored(stored)


def quiz_of(module: Module, kind: str, *, create: bool = False) -> Quiz | None:
    """The module's pre-test or post-test; created with defaults when asked."""
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id, Quiz.kind == kind))
    if quiz is None and create:
        quiz = Quiz(module=module, kind=kind, title="", max_attempts=0 if kind == "pre_test" else 3)
        db.session.add(quiz)
        db.session.flush()
    return quiz


def save_question(
    quiz: Quiz,
    question: Question | None,
    *,
    kind: str,
    text: str,
    points: int,
    feedback: str,
    options: list[tuple[str, bool]],
) -> Question:
    """Create or replace a question with its options (text, correct)."""
    if question is None:
        last = db.session.scalar(
            select(func.max(Question.position)).where(Question.quiz_id == quiz.id)
        )
        question = Question(quiz=quiz, position=(last or 0) + 1)
        db.session.add(question)
    question.kind = kind
    question.text = text
    question.points = points
    question.feedback = feedback
    question.options.clear()
    db.session.flush()
    for position, (option_text, correct) in enumerate(options, start=1):
        question.options.append(Option(position=position, text=option_text, is_correct=correct))
    return question


def remove_question(question: Question) -> None:
    """Remove a question; later questions move up."""
    quiz = question.quiz
    quiz.questions.remove(question)
    db.session.flush()
    _renumber(quiz.questions)


# --- Enrolment -----------------------------------------------------------------------------------


def enrolment_of(module: Module, user) -> Enrolment | None:
    """The person's enrolment in the module, whatever its state."""
    return db.session.scalar(
        select(Enrolment).where(Enrolment.module_id == module.id, Enrolment.user_id == user.id)
    )


def _insert_enrolment(enrolment: Enrolment) -> Enrolment:
    """Add an enrolment once: a second request racing this one finds the first."""
    try:
        with db.session.begin_nested():
            db.session.add(enrolment)
    except IntegrityError:
        existing = db.session.scalar(
            select(Enrolment).where(
                Enrolment.module_id == enrolment.module_id,
                Enrolment.user_id == enrolment.user_id,
            )
        )
        assert existing is not None
        return existing
    return enrolment


def enrol(module: Module, user) -> Enrolment:
    """Enrol the person (open modules) or ask the module's trainers (modules by approval)."""
    existing = enrolment_of(module, user)
    if existing is not None:
        return existing
    if not module.is_published or module.enrolment_mode == "invitation":
        raise NotAllowed("invitation")
    now = utcnow()
    open_module = module.enrolment_mode == "open"
    enrolment = Enrolment(
        module_id=module.id,
        user_id=user.id,
        status="active" if open_module else "requested",
        requested_at=now,
        enrolled_at=now if open_module else None,
    )
    inserted = _insert_enrolment(enrolment)
    if inserted is enrolment and not open_module:
        notices.enrolment_requested(enrolment, module, user)
    elif inserted is enrolment:
        xapi_events.registered(enrolment)
    return inserted


def decide_request(enrolment: Enrolment, accept: bool, *, actor) -> None:
    """A trainer accepts or refuses a request to enrol."""
    if enrolment.status != "requested":
        return
    enrolment.status = "active" if accept else "refused"
    enrolment.decided_by_id = actor.id
    if accept:
        enrolment.enrolled_at = utcnow()
        xapi_events.registered(enrolment)
    record(
        "enrolment.accepted" if accept else "enrolment.refused",
        user=enrolment.user,
        actor=actor,
        module_id=enrolment.module_id,
    )
    notices.enrolment_decided(enrolment, accept)


def invite(module: Module, users: Iterable, *, actor) -> int:
    """Enrol people directly (any enrolment mode); returns how many were newly enrolled."""
    added = 0
    now = utcnow()
    for user in users:
        existing = enrolment_of(module, user)
        if existing is not None:
            if existing.status != "active":
                existing.status = "active"
                existing.enrolled_at = now
                existing.decided_by_id = actor.id
                added += 1
                notices.enrolled_by(existing, module, user, actor)
                xapi_events.registered(existing)
            continue
        enrolment = Enrolment(
            module_id=module.id,
            user_id=user.id,
            status="active",
            requested_at=now,
            enrolled_at=now,
            decided_by_id=actor.id,
        )
        if _insert_enrolment(enrolment) is enrolment:
            added += 1
            notices.enrolled_by(enrolment, module, user, actor)
            xapi_events.registered(enrolment)
    return added


# --- Progress ------------------------------------------------------------------------------------


def open_lesson(enrolment: Enrolment, lesson: Lesson) -> None:
    """Remember where the learner is, to resume there."""
    now = utcnow()
    enrolment.last_lesson_id = lesson.id
    enrolment.started_at = enrolment.started_at or now
    enrolment.last_activity_at = now


def mark_done(enrolment: Enrolment, lesson: Lesson) -> bool:
    """Record a lesson as done, once; returns whether it was new."""
    try:
        with db.session.begin_nested():
            db.session.add(LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id))
    except IntegrityError:
        return False
    # Counted in SQL, so that two tabs marking two lessons at once both count.
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.id == enrolment.id)
        .values(lessons_done=Enrolment.lessons_done + 1, last_activity_at=utcnow())
    )
    if enrolment.completed_at is None:
        db.session.execute(
            update(Enrolment)
            .where(Enrolment.id == enrolment.id)
            .values(progress_percent=Enrolment.lessons_done * 100 // enrolment.module.lesson_count)
        )
    db.session.refresh(enrolment)
    xapi_events.lesson_done(enrolment, lesson)
    complete_if_done(enrolment)
    return True


def done_lesson_ids(enrolment: Enrolment | None) -> set[int]:
    """The lessons the learner has done."""
    if enrolment is None:
        return set()
    return set(
        db.session.scalars(
            select(LessonProgress.lesson_id).where(LessonProgress.enrolment_id == enrolment.id)
        )
    )


def certificate_of(enrolment: Enrolment | None) -> Certificate | None:
    """The certificate the enrolment earned, once its module is complete."""
    if enrolment is None or enrolment.completed_at is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment.id))


@dataclass(frozen=True)
class Progress:
    """Where a learner stands in a module as they read it: each lesson is a step, and so is the
    post-test when the module has one, so that a full bar means a completed module.

    Worked out from stored columns (the stored ``Enrolment.progress_percent`` counts lessons only).
    """

    lessons_done: int
    lesson_count: int
    #: whether the module has a post-test with questions
    has_post_test: bool
    post_test_passed: bool
    completed: bool

    @property
    def steps(self) -> int:
        """Lessons, and the post-test when there is one."""
        return self.lesson_count + int(self.has_post_test)

    @property
    def lessons_left(self) -> int:
        """Lessons still to be done."""
        return 0 if self.completed else max(self.lesson_count - self.lessons_done, 0)

    @property
    def post_test_left(self) -> bool:
        """Whether the post-test is still to be passed."""
        return self.has_post_test and not self.post_test_passed and not self.completed

    @property
    def post_test_next(self) -> bool:
        """Every lesson is done and the post-test is what is left: the next step is the test."""
        return self.post_test_left and self.lessons_left == 0

    @property
    def steps_done(self) -> int:
        """Lessons done, and the post-test when it is passed."""
        passed = self.has_post_test and not self.post_test_left
        return self.lesson_count - self.lessons_left + int(passed)

    @property
    def percent(self) -> int:
        """Steps done as a percentage; 100 only once the module is complete."""
        if self.completed:
            return 100
        return min(self.steps_done * 100 // self.steps, 99) if self.steps else 0


def post_test_columns():
    """Two columns for a query of enrolments: whether the module has a post-test with questions,
    and whether the learner has passed it. Correlated, so that a list of any length stays one
    query."""
    has_post_test = exists().where(
        Quiz.module_id == Enrolment.module_id, Quiz.kind == "post_test", Quiz.questions.any()
    )
    passed = exists().where(
        Quiz.module_id == Enrolment.module_id,
        Quiz.kind == "post_test",
        QuizAttempt.quiz_id == Quiz.id,
        QuizAttempt.user_id == Enrolment.user_id,
        QuizAttempt.passed.is_(True),
    )
    return has_post_test.label("has_post_test"), passed.label("post_test_passed")


def progress_of(enrolment: Enrolment, *, has_post_test: bool, post_test_passed: bool) -> Progress:
    """The learner's progress in the enrolment's module (its module is loaded with it)."""
    return Progress(
        lessons_done=enrolment.lessons_done,
        lesson_count=enrolment.module.lesson_count,
        has_post_test=bool(has_post_test),
        post_test_passed=bool(post_test_passed),
        completed=enrolment.completed_at is not None,
    )


def progress_in(enrolment: Enrolment, post_test: Quiz | None) -> Progress:
    """The learner's progress in one module, whose post-test (with questions) is ``post_test``."""
    has_post_test = post_test is not None and bool(post_test.questions)
    passed = has_post_test and _has_passed(post_test, enrolment.user_id)
    return progress_of(enrolment, has_post_test=has_post_test, post_test_passed=passed)


def next_lesson(
    lessons: Sequence[Lesson], last_lesson_id: int | None, done: set[int]
) -> Lesson | None:
    """The lesson to carry on with when the post-test is not what is next: the one opened last,
    else the first not yet done, else the first; None for a module without lessons. ``lessons``
    are the module's, in order, and ``done`` the ids of those the learner has done.

    Module pages ("Continue") and the home ("next step") both ask it, so that they agree."""
    if not lessons:
        return None
    opened = next((lesson for lesson in lessons if lesson.id == last_lesson_id), None)
    if opened is not None:
        return opened
    return next((lesson for lesson in lessons if lesson.id not in done), lessons[0])


def complete_if_done(enrolment: Enrolment) -> Certificate | None:
    """Record the completion once every lesson is done and the post-test, if any, is passed."""
    if enrolment.completed_at is not None or enrolment.status != "active":
        return None
    module = enrolment.module
    if enrolment.lessons_done < module.lesson_count:
        return None
    post_test = quiz_of(module, "post_test")
    needs_test = post_test is not None and post_test.questions
    if needs_test and not _has_passed(post_test, enrolment.user_id):
        return None
    now = utcnow()
    # Conditional, so that two requests finishing at once record one completion.
    claimed = db.session.execute(
        update(Enrolment)
        .where(Enrolment.id == enrolment.id, Enrolment.completed_at.is_(None))
        .values(
            completed_at=now,
            completion_percent=enrolment.post_test_percent if needs_test else None,
            progress_percent=100,
        )
    ).rowcount
    db.session.refresh(enrolment)
    if not claimed:
        return None
    xapi_events.module_completed(enrolment)
    from learnplatform.surveys.asking import evaluation_holds_certificate

    if evaluation_holds_certificate(enrolment):
        return None
    return issue_certificate(enrolment, issued_at=now)


def issue_certificate(enrolment: Enrolment, *, issued_at=None) -> Certificate | None:
    """Issue the certificate a completed enrolment earned: at completion, or once the module's
    required evaluation is answered. Once: the new certificate, or ``None`` when it was issued
    before (its enrolment is a unique key, so that two requests at once issue one)."""
    if enrolment.completed_at is None or enrolment.status != "active":
        return None
    if certificate_of(enrolment) is not None:
        return None
    certificate = Certificate(
        enrolment_id=enrolment.id,
        user_id=enrolment.user_id,
        code=new_certificate_code(),
        learner_name=enrolment.user.name,
        module_title=enrolment.module.title,
        score_percent=enrolment.completion_percent,
        issued_at=issued_at or utcnow(),
        language=enrolment.user.language or "en",
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
            db.session.flush()
            certificate.status_index = certificate.id  # unique: its place in the status list
            db.session.flush()
    except IntegrityError:
        return None
    notices.certificate_issued(certificate, enrolment.user)
    # Made in the background now, so that its first download does not wait for it.
    certificate_documents.prepare_document.schedule(certificate.id, certificate.language)
    return certificate


# --- Quizzes -------------------------------------------------------------------------------------


def _has_passed(quiz: Quiz, user_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(QuizAttempt.id)).where(
                QuizAttempt.quiz_id == quiz.id,
                QuizAttempt.user_id == user_id,
                QuizAttempt.passed.is_(True),
            )
        )
    )


def attempts_of(quiz: Quiz, user) -> list[QuizAttempt]:
    """The person's attempts at a quiz, first first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)
            .order_by(QuizAttempt.number)
        )
    )


def start_attempt(quiz: Quiz, user) -> QuizAttempt:
    """Open an attempt, or return the one already open. Refused past the attempts limit."""
    attempts = attempts_of(quiz, user)
    for attempt in attempts:
        if attempt.submitted_at is None:
            return attempt
    if quiz.max_attempts and len(attempts) >= quiz.max_attempts:
        raise NotAllowed("attempts")
    if quiz.kind == "post_test" and any(attempt.passed for attempt in attempts):
        raise NotAllowed("passed")
    order = [question.id for question in quiz.questions]
    if quiz.shuffle:
        random.SystemRandom().shuffle(order)
    attempt = QuizAttempt(
        quiz_id=quiz.id,
        user_id=user.id,
        number=len(attempts) + 1,
        question_order=",".join(map(str, order)),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Another tab started the same attempt a moment ago: use it.
        return next(a for a in attempts_of(quiz, user) if a.number == len(attempts) + 1)
    return attempt


def questions_of(attempt: QuizAttempt) -> list[Question]:
    """The attempt's questions in the order it shows them (questions removed since are left out,
    questions added since are shown last)."""
    by_id = {question.id: question for question in attempt.quiz.questions}
    order = [int(part) for part in attempt.question_order.split(",") if part]
    shown = [by_id[question_id] for question_id in order if question_id in by_id]
    return shown + [question for question in attempt.quiz.questions if question.id not in order]


def option_order(attempt: QuizAttempt, question: Question) -> list[Option]:
    """A question's options, shuffled the same way every time for one attempt."""
    options = list(question.options)
    if attempt.quiz.shuffle and question.kind != "true_false":
        # Only an order to show; repeatable so that a reload shows the same one.
        random.Random(f"{attempt.id}:{question.id}").shuffle(options)  # noqa: S311
    return options


def submit_attempt(attempt: QuizAttempt, chosen: Mapping[int, set[int]]) -> QuizAttempt:
    """Grade an attempt on the server and close it. ``chosen`` maps question ids to the option ids
    picked; anything naming another question's option is ignored. A second submission is refused.
    """
    now = utcnow()
    closed = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(submitted_at=now)
    ).rowcount
    if not closed:
        raise NotAllowed("submitted")
    points = max_points = 0
    for question in questions_of(attempt):
        valid = {option.id for option in question.options}
        picked = set(chosen.get(question.id, set())) & valid
        if question.kind != "multiple" and len(picked) > 1:
            picked = set()
        correct = {option.id for option in question.options if option.is_correct}
        max_points += question.points
        if picked and picked == correct:
            points += question.points
        for option_id in sorted(picked):
            db.session.add(
                AttemptAnswer(attempt_id=attempt.id, question_id=question.id, option_id=option_id)
            )
    percent = round(points * 100 / max_points) if max_points else 0
    quiz = attempt.quiz
    passed = percent >= quiz.pass_mark
    db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id)
        .values(points=points, max_points=max_points, percent=percent, passed=passed)
    )
    db.session.refresh(attempt)
    xapi_events.quiz_graded(attempt)
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.module_id == quiz.module_id, Enrolment.user_id == attempt.user_id
        )
    )
    if enrolment is not None:
        column = "pre_test_percent" if quiz.kind == "pre_test" else "post_test_percent"
        best = getattr(enrolment, column)
        if best is None or percent > best:
            setattr(enrolment, column, percent)
        enrolment.last_activity_at = now
        db.session.flush()
        if quiz.kind == "post_test" and passed:
            complete_if_done(enrolment)
    return attempt


def chosen_options(attempt: QuizAttempt) -> set[int]:
    """The option ids picked in a submitted attempt."""
    return set(
        db.session.scalars(
            select(AttemptAnswer.option_id).where(AttemptAnswer.attempt_id == attempt.id)
        )
    )
