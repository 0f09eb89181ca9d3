"""``flask demo-data --users N --enrolments M``: made-up data for the statistics benchmarks."""

import random
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import delete, func, select

from courses.models import Enrolment, Lesson, Module, Quiz
from learnplatform import bulkdata, regions
from learnplatform.accounts.models import User
from learnplatform.choices import AGENCY_TYPES, GENDERS, LANGUAGES, THEMES
from learnplatform.extensions import db

BULK = f"%@{bulkdata.EMAIL_DOMAIN}"


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def _snapshot(app) -> tuple[list, list]:
    """The generated people and enrolments, by e-mail address and module title (not by id)."""
    with app.app_context():
        people = db.session.execute(
            select(
                User.email,
                User.name,
                User.country,
                User.organisation,
                User.agency_type,
                User.gender,
                User.language,
                User.created_at,
                User.last_login_at,
            )
            .where(User.email.like(BULK))
            .order_by(User.email)
        ).all()
        enrolments = db.session.execute(
            select(
                User.email,
                Module.title,
                Enrolment.enrolled_at,
                Enrolment.completed_at,
                Enrolment.lessons_done,
                Enrolment.pre_test_percent,
                Enrolment.post_test_percent,
            )
            .join(User, User.id == Enrolment.user_id)
            .join(Module, Module.id == Enrolment.module_id)
            .order_by(User.email, Module.title)
        ).all()
        return [tuple(row) for row in people], [tuple(row) for row in enrolments]


def _forget_generated_people(app) -> None:
    with app.app_context():
        db.session.execute(delete(Enrolment))
        db.session.execute(delete(User).where(User.email.like(BULK)))
        db.session.commit()


def test_adds_exactly_the_people_and_enrolments_asked_for(app, runner):
    result = runner.invoke(args=["demo-data", "--users", "50", "--enrolments", "300"])

    assert result.exit_code == 0, result.output
    assert "Added 50 practitioners" in result.output
    assert "300 enrolments" in result.output
    with app.app_context():
        people = db.session.scalars(select(User).where(User.email.like(BULK))).all()
        assert len(people) == 50
        assert {person.email for person in people} == {
            f"u{number:06d}@bulk.example.org" for number in range(1, 51)
        }
        assert len({person.password_hash for person in people}) == 1
        for person in people:
            assert person.active and person.role == "practitioner"
            assert person.email_confirmed_at >= person.created_at
            assert regions.region_of(person.country) is not None, person.country
            assert person.agency_type in AGENCY_TYPES
            assert person.gender in GENDERS
            assert person.language in LANGUAGES
            assert person.name.strip() and person.organisation.strip()
        assert len({person.country for person in people}) >= 15

        rows = db.session.execute(
            select(Enrolment, User.created_at, Module.published_at)
            .join(User, User.id == Enrolment.user_id)
            .join(Module, Module.id == Enrolment.module_id)
        ).all()
        assert len(rows) == 300
        assert len({(row.Enrolment.module_id, row.Enrolment.user_id) for row in rows}) == 300
        lessons = dict(
            db.session.execute(
                select(Lesson.module_id, func.count(Lesson.id)).group_by(Lesson.module_id)
            ).all()
        )
        pass_marks = dict(
            db.session.execute(
                select(Quiz.module_id, Quiz.pass_mark).where(Quiz.kind == "post_test")
            ).all()
        )
        completed = 0
        for enrolment, registered, published in (tuple(row) for row in rows):
            assert enrolment.status == "active"
            assert enrolment.enrolled_at >= registered
            assert enrolment.enrolled_at >= published
            if enrolment.completed_at is not None:
                completed += 1
                assert enrolment.completed_at > enrolment.enrolled_at
                assert enrolment.progress_percent == 100
                assert enrolment.lessons_done == lessons[enrolment.module_id]
                assert enrolment.post_test_percent >= pass_marks[enrolment.module_id]
                assert enrolment.completion_percent == enrolment.post_test_percent
            else:
                assert enrolment.lessons_done <= lessons[enrolment.module_id]
                assert enrolment.progress_percent < 100 or enrolment.post_test_percent < 60
        assert 0.5 <= completed / 300 <= 0.7

        modules = db.session.scalars(select(Module).where(Module.is_published)).all()
        assert len(modules) >= bulkdata.MIN_MODULES
        assert len({module.theme for module in modules}) == len(THEMES)
        assert len({module.language for module in modules}) >= 3
        assert all(lessons[module.id] >= 3 for module in modules)


def test_a_generated_account_can_log_in(runner, auth):
    assert runner.invoke(args=["demo-data", "--users", "3", "--enrolments", "5"]).exit_code == 0

    response = auth.login("u000002@bulk.example.org", bulkdata.PASSWORD)

    assert response.status_code == 302


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(app, runner):
    args = ["demo-data", "--users", "30", "--enrolments", "120", "--seed"]
    assert runner.invoke(args=[*args, "7"]).exit_code == 0
    first = _snapshot(app)
    _forget_generated_people(app)

    assert runner.invoke(args=[*args, "7"]).exit_code == 0
    assert _snapshot(app) == first
    _forget_generated_people(app)

    assert runner.invoke(args=[*args, "8"]).exit_code == 0
    other = _snapshot(app)
    assert [person[1] for person in other[0]] != [person[1] for person in first[0]]
    assert other[1] != first[1]


def test_a_second_run_adds_other_people_numbered_after_the_first(app, runner):
    first = runner.invoke(args=["demo-data", "--users", "20", "--enrolments", "100"])
    second = runner.invoke(args=["demo-data", "--users", "20", "--enrolments", "100"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "u000021@bulk.example.org to u000040@bulk.example.org" in second.output
    assert "and 0 modules" in second.output
    with app.app_context():
        emails = db.session.scalars(select(User.email).where(User.email.like(BULK))).all()
        assert len(emails) == len(set(emails)) == 40
        assert db.session.scalar(select(func.count(Enrolment.id))) == 200
        names = db.session.scalars(select(User.name).order_by(User.email)).all()
        assert names[:20] != names[20:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "0 is not in the range x>=1"),
        (["--users", "-5"], "-5 is not in the range x>=1"),
        (["--enrolments", "-1"], "-1 is not in the range x>=0"),
        (["--users", "2", "--enrolments", "1000"], "2 new people can hold at most 154 enrolments"),
        (["--seed", "3"], "--seed and --batch go with --users or --enrolments"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(app, runner, args, message):
    before = _row_counts(app)

    result = runner.invoke(args=["demo-data", *args])

    assert result.exit_code == 2
    assert message in result.output
    assert _row_counts(app) == before


def test_enrolment_counts_add_up_and_stay_within_the_modules():
    for users, enrolments, most in [(100, 1000, 25), (50, 300, 15), (10, 250, 25), (7, 3, 12)]:
        counts = bulkdata.enrolment_counts(random.Random(1), users, enrolments, most)
        assert len(counts) == users
        assert sum(counts) == enrolments
        assert min(counts) >= 0
        assert max(counts) <= most


def test_the_module_catalogue_covers_every_theme_in_every_language():
    catalogue = bulkdata.module_catalogue()

    assert len({title for title, _, _ in catalogue}) == len(catalogue) == 7 * len(THEMES)
    assert {theme for _, theme, _ in catalogue} == set(THEMES)
    assert Counter(language for _, _, language in catalogue) == dict.fromkeys(LANGUAGES, 11)
    first_dozen = catalogue[: bulkdata.MIN_MODULES]
    assert {theme for _, theme, _ in first_dozen} == set(THEMES)


def test_people_come_from_countries_in_m49():
    timeline = bulkdata.Timeline.ending(datetime(2026, 6, 1))
    rng = random.Random(3)
    people = [bulkdata.person(rng, number, timeline) for number in range(2000)]

    assert all(regions.region_of(person["country"]) for person in people)
    africa = sum(regions.region_of(person["country"]) == "002" for person in people)
    europe = sum(regions.region_of(person["country"]) == "150" for person in people)
    assert africa > 5 * europe
    end = timeline.at(timeline.days)
    assert all(timeline.start <= person["created_at"] <= end for person in people)


def test_test_results_keep_within_their_bounds():
    passed = bulkdata.Scores.of((1, 1, 1, 1, 1), 0.85, lowest=60)
    failed = bulkdata.Scores.of((1, 1, 1, 1, 1), 0.45, highest=59)
    rng = random.Random(5)

    assert passed.percents == (60, 80, 100)
    assert failed.percents == (0, 20, 40)
    assert {passed.draw(rng) for _ in range(200)} == {60, 80, 100}
    assert not bulkdata.Scores.of((), 0.5)
