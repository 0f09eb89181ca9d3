"""The demo data set's forums (learnplatform/demo_forums.py): a discussion in every demo room."""

import html
import re

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from irooms.models import Membership, Room
from irooms.notices import named_in
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.demo_forums import FORUMS_FILE
from learnplatform.extensions import db
from learnplatform.forums.models import (
    Forum,
    ForumCategory,
    Post,
    Subscription,
    Topic,
    TopicRead,
)
from learnplatform.forums.services import search_text_of
from learnplatform.notifications.models import Notification
from learnplatform.richtext import clean_html, plain_text

PRACTITIONER = ("practitioner@example.org", "granite orchard beneath winter stars")
FORUM_TABLES = (Forum, ForumCategory, Topic, Post, Subscription, TopicRead)
CYRILLIC = re.compile("[\\u0400-\\u04ff]")  # the Cyrillic block


def _added(output: str) -> dict[str, int]:
    """What ``flask demo-data`` says it added: "Demo data loaded (3 accounts, ... added)."."""
    return {
        kind: int(count) for count, kind in re.findall(r"(\d+) ([^,()]+?)(?: added)?[,)]", output)
    }


def _forum_rows() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in FORUM_TABLES
    }


def _posts(topic: Topic) -> list[Post]:
    return db.session.scalars(
        select(Post).where(Post.topic_id == topic.id).order_by(Post.seq)
    ).all()


def _topics(room: Room) -> list[Topic]:
    return db.session.scalars(
        select(Topic).join(Forum, Forum.id == Topic.forum_id).where(Forum.room_id == room.id)
    ).all()


def test_every_demo_room_has_a_living_forum_and_a_second_load_adds_nothing(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert _added(first.output)["forum topics and posts"] > 0
    now = utcnow()

    with app.app_context():
        rooms = db.session.scalars(select(Room).order_by(Room.id)).all()
        assert len(rooms) == 4
        for room in rooms:
            memberships = db.session.scalars(
                select(Membership).where(Membership.room_id == room.id)
            ).all()
            role = {m.user_id: m.role for m in memberships}
            joined = {m.user_id: m.joined_at for m in memberships}
            people = [m.user for m in memberships]
            forum = db.session.scalar(select(Forum).where(Forum.room_id == room.id))
            with force_locale(room.language):
                assert forum.categories[0].name == _("General"), room.name

            topics = _topics(room)
            assert 3 <= len(topics) <= 5, room.name
            [welcome] = [topic for topic in topics if topic.pinned_at is not None]
            assert role[welcome.author_id] == "host"
            answered = [topic for topic in topics if topic.answer_post_id is not None]
            assert answered, f"{room.name}: no answered question"
            quotes = mentions = 0
            expert_answers = 0
            for topic in topics:
                posts = _posts(topic)
                times = [post.created_at for post in posts]
                assert [post.seq for post in posts] == list(range(1, len(posts) + 1))
                assert times == sorted(times) and len(set(times)) == len(times), topic.title
                assert (topic.last_seq, topic.reply_count) == (len(posts), len(posts) - 1)
                assert (topic.created_at, topic.last_post_at) == (times[0], times[-1])
                assert topic.author_id == posts[0].author_id
                assert topic.last_poster_id == posts[-1].author_id
                for post in posts:
                    assert post.forum_id == forum.id
                    assert joined[post.author_id] < post.created_at < now, topic.title
                    assert post.body_html == clean_html(post.body_html)
                    title = topic.title if post.seq == 1 else None
                    assert post.search_text == search_text_of(post.body_html, title)
                    text = plain_text(post.body_html)
                    assert bool(CYRILLIC.search(text)) == (room.language == "ru"), text
                    assert "{" not in text, text  # every {member} was given a name
                    if post.quote_of is not None:
                        assert post.quote_of.topic_id == topic.id
                        assert post.quote_of.seq < post.seq
                        quotes += 1
                    mentions += len(named_in(text, people, author_id=post.author_id))
                if topic.answer_post_id is not None:
                    answer = db.session.get(Post, topic.answer_post_id)
                    assert topic.is_question and answer.topic_id == topic.id and answer.seq > 1
                    assert role[answer.author_id] in ("host", "expert")
                    assert role[topic.answered_by_id] in ("host", "expert")
                    assert answer.created_at <= topic.answered_at <= now
                    expert_answers += role[answer.author_id] == "expert"
                followers = set(
                    db.session.scalars(
                        select(Subscription.user_id).where(
                            Subscription.topic_id == topic.id, Subscription.following
                        )
                    )
                )
                assert followers == {post.author_id for post in posts}
                read = dict(
                    db.session.execute(
                        select(TopicRead.user_id, TopicRead.last_read_seq).where(
                            TopicRead.topic_id == topic.id
                        )
                    ).all()
                )
                assert all(read[post.author_id] >= post.seq for post in posts)
                assert all(1 <= seq <= topic.last_seq for seq in read.values())
            assert expert_answers, f"{room.name}: no question answered by an expert"
            assert quotes and mentions, room.name
        assert any(len(forum.categories) > 1 for forum in db.session.scalars(select(Forum)))
        # Written straight into the tables: nobody was told of any of it.
        kinds = ("forum_topic", "forum_reply", "forum_answer", "mention")
        assert not db.session.scalar(select(Notification.id).where(Notification.kind.in_(kinds)))
        rows = _forum_rows()

    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert _added(second.output)["forum topics and posts"] == 0
    with app.app_context():
        assert _forum_rows() == rows


def test_the_demo_practitioner_finds_the_topics_and_what_is_new_since_his_visit(
    app, runner, client, auth
):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        practitioner = db.session.scalar(select(User).where(User.email == PRACTITIONER[0]))
        read = dict(
            db.session.execute(
                select(TopicRead.topic_id, TopicRead.last_read_seq).where(
                    TopicRead.user_id == practitioner.id
                )
            ).all()
        )
        rooms = {}
        for room in db.session.scalars(select(Room).order_by(Room.id)):
            visit = db.session.scalar(
                select(Membership.last_visit_at).where(
                    Membership.room_id == room.id, Membership.user_id == practitioner.id
                )
            )
            rooms[room.id] = {}
            for topic in _topics(room):
                posts = _posts(topic)
                unseen = read.get(topic.id, 0) < topic.last_seq
                rooms[room.id][topic.title] = (topic.id, unseen)
                # He wrote only before his last visit to the room, and has read what came
                # before it: what is new to him is what others wrote since.
                mine = [post for post in posts if post.author_id == practitioner.id]
                assert all(visit is not None and post.created_at <= visit for post in mine)
                assert unseen == (visit is None or posts[-1].created_at > visit), topic.title
    unread = [unseen for topics in rooms.values() for _id, unseen in topics.values()]
    assert any(unread) and not all(unread)

    auth.login(*PRACTITIONER)
    for room_id, topics in rooms.items():
        listed = client.get(f"/forums/room/{room_id}", follow_redirects=True)
        assert listed.status_code == 200
        page = html.unescape(listed.get_data(as_text=True))
        assert all(title in page for title in topics)
        new = html.unescape(
            client.get(listed.request.path, query_string={"show": "unread"}).get_data(as_text=True)
        )
        for title, (_id, unseen) in topics.items():
            assert (title in new) == unseen, title

    # His own question, answered since his last visit: the answer shows, and he has read it.
    with app.app_context():
        question = db.session.scalar(
            select(Topic).where(
                Topic.author_id == practitioner.id, Topic.answer_post_id.is_not(None)
            )
        )
        forum_id, topic_id, last_seq = question.forum_id, question.id, question.last_seq
        answerer = question.answer.author.name
        answer = plain_text(question.answer.body_html)[:60]
    shown = html.unescape(
        client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    )
    assert answerer in shown and answer in shown
    with app.app_context():
        assert (
            db.session.scalar(
                select(TopicRead.last_read_seq).where(
                    TopicRead.user_id == practitioner.id, TopicRead.topic_id == topic_id
                )
            )
            == last_seq
        )


def test_the_demo_forums_name_no_generated_account():
    text = FORUMS_FILE.read_text(encoding="utf-8")
    assert "@demo.example.org" not in text and "@example.org" not in text
