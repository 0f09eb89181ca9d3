"""The logged-in homes (learnplatform.homes): each role's, with figures checked against counts
made here, and the same number of queries for 3 modules and rooms as for 30."""

import re
from datetime import timedelta
from uuid import uuid4

from sqlalchemy import func, select

from courses.certificates import new_certificate_code
from courses.models import (
    Certificate,
    Enrolment,
    Lesson,
    LessonProgress,
    Module,
    Option,
    Question,
    Quiz,
    Webinar,
    WebinarSeries,
)
from irooms.models import LiveSession, Membership, Resource, Room
from learnplatform.accounts.models import LoginSession, User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from learnplatform.storage import StoredFile
from tests.helpers import count_queries


def add_module(app, title, *, lessons=3, author=None, post_test=False, mode="open") -> int:
    with app.app_context():
        module = Module(
            title=title,
            summary="",
            theme="cbrn",
            language="en",
            is_published=True,
            enrolment_mode=mode,
            lesson_count=lessons,
            created_by_id=author.id if author else None,
        )
        module.lessons = [
            Lesson(position=number, title=f"{title}: part {number}", body_html="<p>Text.</p>")
            for number in range(1, lessons + 1)
        ]
        db.session.add(module)
        if post_test:
            quiz = Quiz(module=module, kind="post_test", title="Post-test")
            question = Question(quiz=quiz, position=1, kind="single", text="Which?")
            question.options = [Option(position=1, text="This", is_correct=True)]
            db.session.add_all([quiz, question])
        db.session.commit()
        return module.id


def enrol(app, user, module_id, *, done=0, last=None, status="active", completed=False) -> int:
    """An enrolment with the first ``done`` lessons done and lesson number ``last`` opened last."""
    with app.app_context():
        lessons = db.session.scalars(
            select(Lesson).where(Lesson.module_id == module_id).order_by(Lesson.position)
        ).all()
        now = utcnow()
        enrolment = Enrolment(
            module_id=module_id,
            user_id=user.id,
            status=status,
            requested_at=now,
            enrolled_at=now if status == "active" else None,
            started_at=now if (done or last) else None,
            last_activity_at=now,
            lessons_done=done,
            last_lesson_id=lessons[last - 1].id if last else None,
            completed_at=now if completed else None,
        )
        db.session.add(enrolment)
        db.session.flush()
        for lesson in lessons[:done]:
            db.session.add(LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id))
        if completed:
            certificate = Certificate(
                enrolment_id=enrolment.id,
                user_id=user.id,
                code=new_certificate_code(),
                learner_name=user.name,
                module_title=db.session.get(Module, module_id).title,
                issued_at=now,
            )
            db.session.add(certificate)
        db.session.commit()
        return enrolment.id


def add_room(app, name, members, *, visited=None) -> int:
    with app.app_context():
        room = Room(name=name, language="en", theme="cbrn")
        room.memberships = [
            Membership(user_id=user.id, role=role, last_visit_at=visited) for user, role in members
        ]
        db.session.add(room)
        db.session.commit()
        return room.id


def add_session(app, room_id, title, starts_in, *, author=None, url=None) -> int:
    with app.app_context():
        start = utcnow() + starts_in
        session = LiveSession(
            room_id=room_id,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            conference_url=url,
            created_by_id=author.id if author else None,
        )
        db.session.add(session)
        db.session.commit()
        return session.id


def add_topic(app, room_id, author, title, replies=0, *, replier=None):
    with app.app_context():
        forum = db.session.scalar(select(Forum).where(Forum.room_id == room_id))
        if forum is None:
            forum = Forum(room_id=room_id)
            db.session.add(forum)
            db.session.flush()
        topic = Topic(
            forum_id=forum.id,
            title=title,
            author_id=author.id,
            client_token=uuid4().hex,
            last_seq=1 + replies,
            reply_count=replies,
        )
        db.session.add(topic)
        db.session.flush()
        for seq in range(1, replies + 2):
            writer = author if seq == 1 else (replier or author)
            db.session.add(
                Post(
                    topic_id=topic.id,
                    forum_id=forum.id,
                    seq=seq,
                    author_id=writer.id,
                    client_token=uuid4().hex,
                    body_html="<p>Post.</p>",
                )
            )
        db.session.commit()


def text_of(page: str) -> str:
    """The page's words, tags dropped and spaces made one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


# Practitioners.
def test_the_practitioners_home_leads_to_the_next_step_of_each_module(app, client, login_as):
    me = login_as(name="Awa Diallo")
    opened = add_module(app, "Electronic evidence", lessons=4)
    enrol(app, me, opened, done=2, last=2)
    fresh = add_module(app, "Financing of terrorism", lessons=3)
    enrol(app, me, fresh)
    tested = add_module(app, "CBRN terrorism", lessons=2, post_test=True)
    enrol(app, me, tested, done=2, last=2)
    page = client.get("/").get_data(as_text=True)
    words = text_of(page)
    assert "Your next steps" in words
    assert "Next: lesson 2, Electronic evidence: part 2" in words
    assert "Next: lesson 1, Financing of terrorism: part 1" in words
    assert "Next: the post-test" in words
    assert "2 of 4 lessons done" in words and "2 of 2 lessons done · post-test to pass" in words
    # Each next step is where the module page's Continue leads.
    for module_id in (opened, fresh, tested):
        target = client.get(f"/courses/modules/{module_id}/resume").headers["Location"]
        assert f'href="{target}"' in page, target
    # Not the modules waiting for approval or completed: those are in My learning.
    waiting = add_module(app, "Victims of terrorism", mode="approval")
    enrol(app, me, waiting, status="requested")
    assert "Victims of terrorism" not in client.get("/").get_data(as_text=True)


def test_the_practitioners_home_lists_coming_sessions_with_the_link_when_open(
    app, client, login_as, create_user
):
    me = login_as(time_zone="Africa/Nairobi")
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(me, "participant"), (host, "host")])
    add_room(app, "Not mine", [(host, "host")])
    add_session(
        app, room_id, "Under way", timedelta(minutes=-30), url="https://meet.example.org/now"
    )
    add_session(app, room_id, "Next week", timedelta(days=7), url="https://meet.example.org/week")
    add_session(app, room_id, "Last month", timedelta(days=-30))
    page = client.get("/").get_data(as_text=True)
    assert "Under way" in page and "Next week" in page
    assert "Last month" not in page
    assert 'href="https://meet.example.org/now"' in page  # open: under way
    assert "https://meet.example.org/week" not in page  # not yet
    assert "Open now" in page
    # In the person's own zone (Nairobi is UTC+3).
    assert "+0300" in page


def test_the_practitioners_home_says_what_is_new_in_each_room_since_the_last_visit(
    app, client, login_as, create_user
):
    me = login_as()
    host = create_user(role="trainer")
    visited = utcnow() - timedelta(hours=1)
    room_id = add_room(
        app, "Sahel prosecutors", [(me, "participant"), (host, "host")], visited=visited
    )
    quiet_id = add_room(app, "Quiet room", [(me, "participant")], visited=visited)
    with app.app_context():
        for number in range(3):
            db.session.add(
                Resource(
                    room_id=room_id,
                    title=f"Manual {number}",
                    language="en",
                    category="manual",
                    kind="link",
                    url="https://example.org/m.pdf",
                    created_by_id=host.id,
                )
            )
        # Older than the visit: not new.
        db.session.add(
            Resource(
                room_id=room_id,
                title="Old manual",
                language="en",
                category="manual",
                kind="link",
                url="https://example.org/old.pdf",
                created_at=visited - timedelta(days=1),
                updated_at=visited - timedelta(days=1),
            )
        )
        db.session.commit()
    add_topic(app, room_id, host, "Controlled deliveries", replies=2, replier=host)
    add_topic(app, room_id, me, "My own question", replies=1, replier=host)  # mine: not news
    add_session(app, room_id, "Case study", timedelta(days=3), author=host)
    with app.app_context():  # a past session's recording, uploaded since the visit
        series = WebinarSeries(title="Sahel webinars", theme="cbrn", language="en")
        recording = StoredFile(
            storage_key=uuid4().hex,
            original_name="deliveries.mp4",
            content_type="video/mp4",
            size=1,
            sha256="0" * 64,
        )
        webinar = Webinar(
            series=series,
            title="Controlled deliveries",
            starts_at=visited - timedelta(days=2),
            language="en",
            recording=recording,
        )
        db.session.add_all([series, recording, webinar])
        db.session.flush()
        db.session.add(
            LiveSession(
                room_id=room_id,
                title="Controlled deliveries",
                starts_at=visited - timedelta(days=2),
                ends_at=visited - timedelta(days=2) + timedelta(hours=1),
                created_at=visited - timedelta(days=3),
                webinar_id=webinar.id,
            )
        )
        db.session.commit()
    words = text_of(client.get("/").get_data(as_text=True))
    with app.app_context():
        since = db.session.scalar(
            select(func.count(Resource.id)).where(
                Resource.room_id == room_id, Resource.updated_at > visited
            )
        )
    assert since == 3
    assert f"{since} new resources" in words
    assert "1 new forum topic" in words  # their topic, not mine
    assert "3 new replies" in words  # two to theirs, one to mine
    assert "1 session scheduled" in words  # the one to come; the past one was older
    assert "1 new recording" in words
    assert "Quiet room" not in words.split("New in your rooms")[1]
    page = client.get("/").get_data(as_text=True)
    assert f'href="/irooms/{room_id}/library"' in page
    assert f'href="/forums/room/{room_id}"' in page
    # Opening the room is a visit: nothing is new afterwards.
    with app.app_context():
        db.session.execute(
            Membership.__table__.update()
            .where(Membership.room_id == room_id)
            .values(last_visit_at=visited - timedelta(minutes=5))
        )
        db.session.commit()
    assert client.get(f"/irooms/{room_id}").status_code == 200
    words = text_of(client.get("/").get_data(as_text=True))
    assert "new resources" not in words
    assert "Nothing new in your 2 rooms since your last visit." in words
    assert quiet_id


def test_the_practitioners_home_lists_certificates_with_their_pdf(app, client, login_as):
    me = login_as()
    module_id = add_module(app, "Electronic evidence")
    enrol(app, me, module_id, done=3, last=3, completed=True)
    page = client.get("/").get_data(as_text=True)
    with app.app_context():
        certificate_id = db.session.scalar(select(Certificate.id))
    assert "Your certificates" in page and "Electronic evidence" in page
    assert f'href="/courses/certificates/{certificate_id}"' in page
    assert f"/courses/certificates/{certificate_id}.pdf" in page


def test_a_new_practitioners_home_says_what_to_do(client, login_as):
    login_as()
    words = text_of(client.get("/").get_data(as_text=True))
    assert "You have no module in progress." in words
    assert "Browse the catalogue" in words
    assert "You are not in any iRoom yet" in words
    assert "Complete a module to earn its certificate" in words


# Trainers.
def test_the_trainers_home_shows_requests_sessions_activity_and_figures(
    app, client, login_as, create_user
):
    me = login_as("trainer")
    asked = add_module(app, "CBRN terrorism", author=me, mode="approval")
    other = add_module(app, "Electronic evidence", author=me)
    elsewhere = add_module(app, "Someone else's", author=create_user(role="trainer"))
    learners = [create_user() for _ in range(5)]
    for learner in learners[:2]:
        enrol(app, learner, asked, status="requested")
    enrol(app, learners[2], asked)
    enrol(app, learners[3], asked, done=3, last=3, completed=True)
    for learner in learners:
        enrol(app, learner, other)
    enrol(app, learners[0], elsewhere, status="requested")
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [(me, "host"), (learners[0], "participant")],
        visited=utcnow() - timedelta(hours=1),
    )
    add_session(app, room_id, "Case study", timedelta(days=2), author=me)
    add_topic(app, room_id, learners[0], "A question on evidence", replies=0)
    page = client.get("/").get_data(as_text=True)
    words = text_of(page)
    with app.app_context():
        waiting = db.session.scalar(
            select(func.count(Enrolment.id))
            .join(Module, Module.id == Enrolment.module_id)
            .where(Module.created_by_id == me.id, Enrolment.status == "requested")
        )
        rows = {
            module_id: (
                db.session.scalar(
                    select(func.count(Enrolment.id)).where(
                        Enrolment.module_id == module_id, Enrolment.enrolled_at.is_not(None)
                    )
                ),
                db.session.scalar(
                    select(func.count(Enrolment.id)).where(
                        Enrolment.module_id == module_id, Enrolment.completed_at.is_not(None)
                    )
                ),
            )
            for module_id in (asked, other)
        }
    assert waiting == 2
    assert f"{waiting} requests wait for your decision." in words
    assert f'href="/courses/manage/{asked}"' in page
    assert "Someone else" not in words
    assert "Your next sessions" in words and "Case study" in words
    assert "Recent activity in your rooms" in words and "1 new forum topic" in words
    enrolled, completed = rows[asked]
    assert (enrolled, completed) == (2, 1)
    assert f"CBRN terrorism {enrolled} {completed} 50 %" in words
    enrolled, completed = rows[other]
    assert f"Electronic evidence {enrolled} {completed} 0 %" in words


def test_a_new_trainers_home_says_what_to_do(client, login_as):
    login_as("trainer")
    words = text_of(client.get("/").get_data(as_text=True))
    assert "No request is waiting" in words
    assert "You have not written a module yet." in words and "Write a module" in words
    assert "You host no iRoom yet." in words and "Open an iRoom" in words


# Administrators.
def test_the_administrators_home_shows_this_months_figures(app, client, login_as, create_user):
    learners = [create_user() for _ in range(4)]
    module_id = add_module(app, "Electronic evidence")
    for learner in learners[:3]:
        enrol(app, learner, module_id)
    enrol(app, learners[3], module_id, done=3, last=3, completed=True)
    asked = add_module(
        app, "Victims of terrorism", author=create_user(role="trainer"), mode="approval"
    )
    enrol(app, learners[0], asked, status="requested")  # not an enrolment until accepted
    room_id = add_room(app, "Sahel prosecutors", [(learners[0], "participant")])
    add_session(app, room_id, "Held", timedelta(hours=-3))  # ended an hour ago
    add_session(app, room_id, "To come", timedelta(days=1))
    with app.app_context():  # an account from last year, and a login of last year
        old = db.session.get(User, learners[0].id)
        old.created_at = utcnow() - timedelta(days=400)
        db.session.commit()
    login_as("administrator")
    page = client.get("/").get_data(as_text=True)
    today = utcnow()
    first = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with app.app_context():
        expected = {
            "Registrations": db.session.scalar(
                select(func.count(User.id)).where(User.created_at >= first)
            ),
            "Active users": db.session.scalar(
                select(func.count(LoginSession.user_id.distinct())).where(
                    LoginSession.last_seen_at >= first
                )
            ),
            "Enrolments": db.session.scalar(
                select(func.count(Enrolment.id)).where(Enrolment.enrolled_at >= first)
            ),
            "Completions": db.session.scalar(
                select(func.count(Enrolment.id)).where(Enrolment.completed_at >= first)
            ),
            "Certificates issued": db.session.scalar(
                select(func.count(Certificate.id)).where(Certificate.issued_at >= first)
            ),
            "Live sessions held": db.session.scalar(
                select(func.count(LiveSession.id)).where(
                    LiveSession.ends_at >= first, LiveSession.ends_at <= utcnow()
                )
            ),
        }
    # Sessions of the first hours of a month may have ended last month; the rest is certain.
    # three learners and a trainer of this month, and the administrator
    assert expected["Registrations"] == 5
    assert (expected["Enrolments"], expected["Completions"]) == (4, 1)
    assert expected["Certificates issued"] == 1 and expected["Active users"] == 1
    words = text_of(page)
    for label, value in expected.items():
        assert f"{label} {value}" in words, label
    assert f"start={first.date().isoformat()}" in page  # this month in the statistics
    # Requests waiting in any trainer's module.
    assert "1 request waits for your decision." in words
    assert f'href="/courses/manage/{asked}"' in page


# Queries.
def test_each_home_takes_as_many_queries_for_30_modules_and_rooms_as_for_3(
    app, client, auth, create_user
):
    learner = create_user()
    trainer = create_user(role="trainer")
    administrator = create_user(role="administrator")
    other = create_user()

    def add(count):
        for number in range(count):
            module_id = add_module(app, f"Module {number}", author=trainer, post_test=True)
            enrol(app, learner, module_id, done=number % 3, last=(number % 3) or None)
            enrol(app, other, module_id, status="requested")
            enrol(app, create_user(), module_id, done=3, last=3, completed=True)
            room_id = add_room(
                app,
                f"Room {number}",
                [(learner, "participant"), (trainer, "host")],
                visited=utcnow() - timedelta(hours=1),
            )
            add_session(app, room_id, f"Session {number}", timedelta(days=1 + number))
            add_topic(app, room_id, other, f"Topic {number}", replies=1)

    counts = {}
    for size in (3, 27):
        add(size)
        for user in (learner, trainer, administrator):
            auth.login(user.email)
            client.get("/")  # warm
            counts[(user.role, size)] = count_queries(app, client, "/")
            auth.logout()
    for role in ("practitioner", "trainer", "administrator"):
        assert counts[(role, 3)] == counts[(role, 27)], counts
