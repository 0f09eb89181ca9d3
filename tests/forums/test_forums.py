"""Room forums through the pages people use: topics, replies, quotes, edits with their history,
questions and their answers, unread marks, following and notifications, search, and the doors
that stay shut to outsiders."""

import io
import re

import pytest
from sqlalchemy import func, select

from irooms.models import Membership
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from learnplatform.forums import services
from learnplatform.forums.models import Post, PostRevision, Topic
from learnplatform.notifications.models import Notification
from tests.helpers import Auth, count_queries, csrf_token, in_parallel, post_form
from tests.irooms.test_rooms import add_room


@pytest.fixture
def room(app, create_user):
    """A room with a host, an expert and two participants; its id and its people."""
    people = {
        "host": create_user(name="Hana Host"),
        "expert": create_user(name="Eko Expert"),
        "amina": create_user(name="Amina Diallo"),
        "pierre": create_user(name="Pierre Martin"),
    }
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [
            (people["host"], "host"),
            (people["expert"], "expert"),
            (people["amina"], "participant"),
            (people["pierre"], "participant"),
        ],
    )
    return room_id, people


def forum_id_of(client, room_id) -> int:
    """Open the room's Forum tab: the forum's address."""
    response = client.get(f"/forums/room/{room_id}")
    assert response.status_code == 302
    return int(re.search(r"/forums/(\d+)$", response.headers["Location"]).group(1))


def start_topic(client, forum_id, title, body, *, question=False, **extra):
    data = {"title": title, "body": body, "body_format": "text", **extra}
    if question:
        data["is_question"] = "y"
    token = csrf_token(client, f"/forums/{forum_id}/new")
    page = client.get(f"/forums/{forum_id}/new").get_data(as_text=True)
    data.setdefault(
        "client_token", re.search(r'name="client_token" type="hidden" value="([^"]+)"', page)[1]
    )
    response = client.post(f"/forums/{forum_id}/new", data={"csrf_token": token, **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/topics/(\d+)", response.headers["Location"]).group(1))


def reply_to(client, forum_id, topic_id, body, **extra):
    url = f"/forums/{forum_id}/topics/{topic_id}"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', page)[1]
    data = {"body": body, "body_format": "text", "client_token": token, **extra}
    return post_form(client, url + "/reply", data, form_url=url)


def notifications_of(app, user, kind=None):
    with app.app_context():
        query = select(Notification).where(Notification.user_id == user.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return db.session.scalars(query).all()


def test_a_question_is_asked_answered_with_a_quote_and_a_mention(app, client, auth, room):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    index = client.get(f"/forums/{forum_id}").get_data(as_text=True)
    assert "Nobody has written here yet." in index
    topic_id = start_topic(
        client,
        forum_id,
        "Preuves électroniques : délais de conservation ?",
        "Combien de temps un fournisseur doit-il conserver les données ?\n\nMerci.",
        question=True,
    )
    topic = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert "Preuves électroniques : délais de conservation ?" in topic
    assert "<p>Combien de temps un fournisseur doit-il conserver les données ?</p>" in topic
    assert "Question awaiting an answer" in topic

    auth.logout()
    auth.login(people["expert"].email)
    (asked,) = notifications_of(app, people["expert"], "forum_topic") or [None]
    assert asked is None  # the expert follows nothing yet
    with app.app_context():
        first_post = db.session.scalar(select(Post.id).where(Post.topic_id == topic_id))
    response = reply_to(
        client,
        forum_id,
        topic_id,
        "@Amina Diallo Cela dépend du droit national; voir la Convention de Budapest.",
        quote_of=str(first_post),
    )
    assert response.status_code == 302
    with app.app_context():
        answer = db.session.scalar(select(Post).where(Post.topic_id == topic_id, Post.seq == 2))
        assert answer.quote_of_id == first_post
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert "Amina Diallo wrote:" in page
    assert "Mark as the answer" in page
    assert (
        post_form(
            client,
            f"/forums/{forum_id}/posts/{answer.id}/answer",
            {"answer": "1"},
            form_url=f"/forums/{forum_id}/topics/{topic_id}",
        ).status_code
        == 302
    )

    # The asker was told twice: of the reply (as the topic's author) and of the answer; the
    # mention is not a third notification about the same post.
    kinds = sorted(n.kind for n in notifications_of(app, people["amina"]))
    assert kinds == ["forum_answer", "mention"]
    auth.logout()
    auth.login(people["amina"].email)
    index = client.get(f"/forums/{forum_id}?show=answered").get_data(as_text=True)
    assert "Preuves électroniques" in index and "Answered" in index
    assert "Preuves électroniques" not in client.get(
        f"/forums/{forum_id}?show=unanswered"
    ).get_data(as_text=True)
    assert "forum-unread" in index
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert ">Answer</span>" in page  # the first reply, right under the question
    index = client.get(f"/forums/{forum_id}").get_data(as_text=True)
    assert "forum-unread" not in index


def test_participants_cannot_mark_answers(app, client, auth, room):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "A question", "Body", question=True)
    reply_to(client, forum_id, topic_id, "A reply")
    with app.app_context():
        reply_id = db.session.scalar(select(Post.id).where(Post.seq == 2))
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert "Mark as the answer" not in page
    response = post_form(
        client,
        f"/forums/{forum_id}/posts/{reply_id}/answer",
        {"answer": "1"},
        form_url=f"/forums/{forum_id}/topics/{topic_id}",
    )
    assert response.status_code == 403


def test_outsiders_get_404_at_every_forum_address(app, client, auth, room, create_user):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "Inside", "Only for members")
    with app.app_context():
        post_id = db.session.scalar(select(Post.id))
    auth.logout()
    outsider = create_user(name="Olga Outsider")
    auth.login(outsider.email)
    for path in (
        f"/forums/room/{room_id}",
        f"/forums/{forum_id}",
        f"/forums/{forum_id}/search?q=inside",
        f"/forums/{forum_id}/new",
        f"/forums/{forum_id}/topics/{topic_id}",
        f"/forums/{forum_id}/posts/{post_id}/edit",
        f"/forums/{forum_id}/posts/{post_id}/history",
        f"/forums/{forum_id}/posts/{post_id}/report",
        f"/forums/{forum_id}/reports",
        f"/forums/{forum_id}/attachments/1",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/account")
    for path in (
        f"/forums/{forum_id}/new",
        f"/forums/{forum_id}/topics/{topic_id}/reply",
        f"/forums/{forum_id}/topics/{topic_id}/follow",
        f"/forums/{forum_id}/follow",
        f"/forums/{forum_id}/posts/{post_id}/answer",
        f"/forums/{forum_id}/topics/{topic_id}/moderate",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path


def test_a_removed_member_loses_the_forum_at_once(app, client, auth, room):
    room_id, people = room
    auth.login(people["pierre"].email)
    forum_id = forum_id_of(client, room_id)
    assert client.get(f"/forums/{forum_id}").status_code == 200
    with app.app_context():
        db.session.execute(
            Membership.__table__.delete().where(Membership.user_id == people["pierre"].id)
        )
        db.session.commit()
    assert client.get(f"/forums/{forum_id}").status_code == 404


def test_a_muted_member_reads_but_cannot_post(app, client, auth, room):
    room_id, people = room
    auth.login(people["pierre"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "Before muting", "Text")
    with app.app_context():
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == people["pierre"].id)
        )
        membership.muted_at = func.now()
        db.session.commit()
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert "you can read the forum but not post in it" in page
    assert 'id="reply"' not in page
    assert client.get(f"/forums/{forum_id}/new").status_code == 403
    token = csrf_token(client, f"/forums/{forum_id}")
    response = client.post(
        f"/forums/{forum_id}/topics/{topic_id}/reply",
        data={"csrf_token": token, "body": "x", "client_token": "abcdefghij"},
    )
    assert response.status_code == 403


def test_stored_xss_in_titles_and_posts_stays_text(app, client, auth, room):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(
        client, forum_id, '<script>alert("t")</script>', '<img src=x onerror=alert("p")>'
    )
    reply_to(
        client,
        forum_id,
        topic_id,
        '<p onclick="alert(1)">hi</p><script>alert(2)</script><a href="javascript:alert(3)">x</a>',
        body_format="html",
    )
    for path in (f"/forums/{forum_id}", f"/forums/{forum_id}/topics/{topic_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "onclick" not in page and "javascript:alert" not in page
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(&quot;p&quot;)&gt;" in page  # typed as text, shown so


def test_edits_keep_their_history(app, client, auth, room):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "First title", "First text")
    with app.app_context():
        post_id = db.session.scalar(select(Post.id))
    url = f"/forums/{forum_id}/posts/{post_id}/edit"
    response = post_form(
        client, url, {"title": "Second title", "body": "Second text", "body_format": "text"}
    )
    assert response.status_code == 302
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert "Second title" in page and "Second text" in page and "edited" in page
    history = client.get(f"/forums/{forum_id}/posts/{post_id}/history").get_data(as_text=True)
    assert "First text" in history and "Second text" in history and "First title" in history
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PostRevision)) == 2
    # Another participant may not edit it.
    auth.logout()
    auth.login(people["pierre"].email)
    assert client.get(url).status_code == 403


def test_a_double_submit_posts_once(app, client, auth, room):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "Once", "Only once")
    url = f"/forums/{forum_id}/topics/{topic_id}"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', page)[1]

    def send(browser):
        csrf = csrf_token(browser, url)
        return lambda: browser.post(
            url + "/reply",
            data={"csrf_token": csrf, "body": "Same", "body_format": "text", "client_token": token},
        )

    results = in_parallel(app, people["amina"].email, 3, send)
    assert all(result.status_code == 302 for result in results)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 2
        assert db.session.get(Topic, topic_id).reply_count == 1


def test_followers_are_told_and_unfollowing_stops_it(app, client, auth, room):
    room_id, people = room
    auth.login(people["pierre"].email)
    forum_id = forum_id_of(client, room_id)
    post_form(
        client, f"/forums/{forum_id}/follow", {"following": "1"}, form_url=f"/forums/{forum_id}"
    )
    auth.logout()
    auth.login(people["amina"].email)
    topic_id = start_topic(client, forum_id, "Financing cases", "Share yours")
    assert [n.kind for n in notifications_of(app, people["pierre"])] == ["forum_topic"]
    auth.logout()
    auth.login(people["host"].email)
    reply_to(client, forum_id, topic_id, "Here is one")
    assert sorted(n.kind for n in notifications_of(app, people["pierre"])) == [
        "forum_reply",
        "forum_topic",
    ]
    assert [n.kind for n in notifications_of(app, people["amina"])] == ["forum_reply"]
    auth.logout()
    auth.login(people["pierre"].email)
    post_form(
        client,
        f"/forums/{forum_id}/topics/{topic_id}/follow",
        {"following": "0"},
        form_url=f"/forums/{forum_id}/topics/{topic_id}",
    )
    auth.logout()
    auth.login(people["host"].email)
    reply_to(client, forum_id, topic_id, "And another")
    assert len(notifications_of(app, people["pierre"], "forum_reply")) == 1
    assert len(notifications_of(app, people["amina"], "forum_reply")) == 2


def test_a_removed_member_is_not_told(app, client, auth, room):
    room_id, people = room
    auth.login(people["pierre"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "Mine", "Text")
    with app.app_context():
        db.session.execute(
            Membership.__table__.delete().where(Membership.user_id == people["pierre"].id)
        )
        db.session.commit()
    auth.logout()
    auth.login(people["host"].email)
    reply_to(client, forum_id, topic_id, "@Pierre Martin are you there?")
    assert notifications_of(app, people["pierre"]) == []


def test_search_is_accent_and_case_insensitive(app, client, auth, room):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    start_topic(client, forum_id, "Résolution 2396", "Les preuves numériques du champ de bataille")
    start_topic(client, forum_id, "مكافحة الإرهاب", "التعاون القضائي")
    for words, found in (
        ("resolution", True),
        ("NUMERIQUES bataille", True),
        ("numerique absent", False),
        ("ارهاب", True),
        ("100%", False),
    ):
        page = client.get(f"/forums/{forum_id}/search", query_string={"q": words}).get_data(
            as_text=True
        )
        assert ("1 post found" in page) is found, words


def test_search_results_page_by_key_from_the_newest(app, client, auth, room, monkeypatch):
    monkeypatch.setattr(services, "SEARCH_PAGE", 2)
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "Preuves", "Preuve numérique 1")
    for number in range(2, 6):
        reply_to(client, forum_id, topic_id, f"Preuve numérique {number}")
    url = f"/forums/{forum_id}/search?q=numerique"
    seen = []
    while url:
        page = client.get(url).get_data(as_text=True)
        assert "Matching posts, newest first" in page
        seen += re.findall(r"Preuve numérique (\d)", page)
        older = re.search(r'href="([^"]*before=\d+)"[^>]*>Older matches', page)
        url = older and older[1].replace("&amp;", "&")
    assert seen == ["5", "4", "3", "2", "1"]
    monkeypatch.setattr(services, "SEARCH_PAGE", 50)
    page = client.get(f"/forums/{forum_id}/search?q=numerique").get_data(as_text=True)
    assert "5 posts found" in page and "Older matches" not in page


def test_a_host_hides_a_reported_post(app, client, auth, room):
    room_id, people = room
    auth.login(people["pierre"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "Cases", "Share")
    reply_to(client, forum_id, topic_id, "Buy cheap watches at spam.example")
    with app.app_context():
        spam = db.session.scalar(select(Post.id).where(Post.seq == 2))
    auth.logout()
    auth.login(people["amina"].email)
    response = post_form(
        client, f"/forums/{forum_id}/posts/{spam}/report", {"reason": "Advertising"}
    )
    assert response.status_code == 302
    assert [n.kind for n in notifications_of(app, people["host"])] == ["forum_report"]
    auth.logout()
    auth.login(people["host"].email)
    reports = client.get(f"/forums/{forum_id}/reports").get_data(as_text=True)
    assert "Advertising" in reports and "Buy cheap watches" in reports
    post_form(
        client,
        f"/forums/{forum_id}/posts/{spam}/moderate",
        {"action": "hide", "back": "reports"},
        form_url=f"/forums/{forum_id}/reports",
    )
    assert "No report is waiting." in client.get(f"/forums/{forum_id}/reports").get_data(
        as_text=True
    )
    assert "Hidden: only moderators see it" in client.get(
        f"/forums/{forum_id}/topics/{topic_id}"
    ).get_data(as_text=True)
    auth.logout()
    auth.login(people["amina"].email)
    assert "Buy cheap watches" not in client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(
        as_text=True
    )
    assert client.get(f"/forums/{forum_id}/reports").status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "forum.post.hide")
            )
            == 1
        )


def test_topics_are_pinned_locked_moved_and_deleted_with_a_reason(app, client, auth, room):
    room_id, people = room
    auth.login(people["host"].email)
    forum_id = forum_id_of(client, room_id)
    older = start_topic(client, forum_id, "Older topic", "Text")
    newer = start_topic(client, forum_id, "Newer topic", "Text")
    url = f"/forums/{forum_id}/topics/{older}"
    post_form(client, url + "/moderate", {"action": "pin"}, form_url=url)
    page = client.get(f"/forums/{forum_id}").get_data(as_text=True)
    assert page.index("Older topic") < page.index("Newer topic")
    post_form(client, url + "/moderate", {"action": "lock"}, form_url=url)
    assert "This topic is locked" in client.get(url).get_data(as_text=True)
    post_form(
        client,
        f"/forums/{forum_id}/categories",
        {"name": "Financing"},
        form_url=f"/forums/{forum_id}",
    )
    with app.app_context():
        from learnplatform.forums.models import ForumCategory

        financing = db.session.scalar(
            select(ForumCategory.id).where(ForumCategory.name == "Financing")
        )
    post_form(client, url + "/moderate", {"action": "move", "category": financing}, form_url=url)
    assert "Older topic" in client.get(f"/forums/{forum_id}?category={financing}").get_data(
        as_text=True
    )
    delete_url = f"/forums/{forum_id}/topics/{newer}/delete"
    refused = post_form(client, delete_url, {"reason": ""})
    assert refused.status_code == 200 and "Give the reason for deleting." in refused.get_data(
        as_text=True
    )
    assert post_form(client, delete_url, {"reason": "Duplicate"}).status_code == 302
    assert client.get(f"/forums/{forum_id}/topics/{newer}").status_code == 404
    with app.app_context():
        deleted = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "forum.topic.delete")
        )
        assert "Duplicate" in deleted.detail
    # Locked: a participant cannot reply.
    auth.logout()
    auth.login(people["amina"].email)
    token = csrf_token(client, url)
    refused = client.post(
        url + "/reply",
        data={"csrf_token": token, "body": "Late", "client_token": "abcdefghijkl"},
    )
    assert refused.status_code == 422 and "This topic is locked" in refused.get_data(as_text=True)


def test_attachments_reach_members_only(app, client, auth, room, create_user):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    page = client.get(f"/forums/{forum_id}/new").get_data(as_text=True)
    token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', page)[1]
    response = client.post(
        f"/forums/{forum_id}/new",
        data={
            "csrf_token": csrf_token(client, f"/forums/{forum_id}/new"),
            "title": "With a file",
            "body": "See the note",
            "body_format": "text",
            "client_token": token,
            "files": [(io.BytesIO(b"Notes on the case\n"), "notes.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    topic_id = int(re.search(r"/topics/(\d+)", response.headers["Location"]).group(1))
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    link = re.search(rf'href="(/forums/{forum_id}/attachments/\d+)"', page)[1]
    downloaded = client.get(link)
    assert downloaded.get_data() == b"Notes on the case\n"
    downloaded.close()
    auth.logout()
    auth.login(create_user().email)
    assert client.get(link).status_code == 404


def test_the_forum_and_a_topic_take_as_many_queries_whatever_their_size(app, client, auth, room):
    from irooms.access import Place
    from learnplatform.accounts.models import User
    from learnplatform.forums.access import Venue
    from learnplatform.forums.models import Forum

    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)

    def grow_to(topics: int, already: int) -> int:
        """More topics of one reply, the last with as many replies as there are topics: the
        last one's id."""
        with app.test_request_context():
            forum = db.session.get(Forum, forum_id)
            found = Venue(forum, place=Place(forum.room, None))
            host = db.session.get(User, people["host"].id)
            expert = db.session.get(User, people["expert"].id)
            for number in range(already, topics):
                topic, _ = services.start_topic(
                    found,
                    host,
                    title=f"Topic {number}",
                    body_html="<p>Text</p>",
                    category=None,
                    is_question=number % 2 == 0,
                    client_token=f"token-{number}",
                )
                for reply in range(topics if number == topics - 1 else 1):
                    services.reply(
                        found,
                        topic,
                        expert,
                        body_html=f"<p>Reply {reply}</p>",
                        quote_of=None,
                        client_token=f"reply-{number}-{reply}",
                    )
            db.session.commit()
            return topic.id

    def counts(last: int) -> tuple[int, int]:
        paths = (f"/forums/{forum_id}", f"/forums/{forum_id}/topics/{last}")
        for path in paths:  # once first: the first visit of a topic writes its read mark
            client.get(path)
        return tuple(count_queries(app, client, path) for path in paths)

    small = counts(grow_to(3, 0))
    large = counts(grow_to(40, 3))
    assert small == large


def test_the_module_discussion_is_for_its_learners_and_trainers(app, client, auth, create_user):
    from tests.courses.test_modules import build_module, enrol_in

    trainer = create_user(role="trainer", name="Kwame Mensah")
    module_id = build_module(app, trainer.id)
    learner = create_user(name="Aïcha Maïga")
    auth.login(learner.email)
    assert client.get(f"/forums/module/{module_id}").status_code == 404  # not enrolled
    enrol_in(client, module_id)
    response = client.get(f"/forums/module/{module_id}")
    assert response.status_code == 302
    forum_id = int(re.search(r"/forums/(\d+)$", response.headers["Location"]).group(1))
    page = client.get(f"/forums/{forum_id}").get_data(as_text=True)
    assert "Discussion" in page and "Countering the financing of terrorism" in page
    topic_id = start_topic(client, forum_id, "Question on lesson 2", "Why?", question=True)
    auth.logout()
    auth.login(trainer.email)
    assert [n.kind for n in notifications_of(app, trainer)] == []
    reply_to(client, forum_id, topic_id, "Because.")
    page = client.get(f"/forums/{forum_id}/topics/{topic_id}").get_data(as_text=True)
    assert "Mark as the answer" in page and "Trainer" in page
    auth.logout()
    other = create_user()
    auth.login(other.email)
    assert client.get(f"/forums/{forum_id}").status_code == 404
    assert client.get(f"/forums/{forum_id}/topics/{topic_id}").status_code == 404
    Auth(client).logout()


def test_a_burst_of_posts_is_refused_past_the_upload_quota(app, client, auth, room):
    app.config["UPLOAD_LIMIT_PER_ACCOUNT"] = "3 per hour"
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "Burst", "One")
    assert reply_to(client, forum_id, topic_id, "Two").status_code == 302
    assert reply_to(client, forum_id, topic_id, "Three").status_code == 302
    assert reply_to(client, forum_id, topic_id, "Four").status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 3


def test_another_forums_objects_are_not_found_through_this_forum(app, client, auth, room):
    """Ids from another room's forum, sent through this forum's addresses: 404, as for none."""
    room_id, people = room
    other_room = add_room(app, "Other room", [(people["amina"], "host")])
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    other_forum = forum_id_of(client, other_room)
    other_topic = start_topic(client, other_forum, "Elsewhere", "Text")
    with app.app_context():
        other_post = db.session.scalar(select(Post.id).where(Post.topic_id == other_topic))
    for path in (
        f"/forums/{forum_id}/topics/{other_topic}",
        f"/forums/{forum_id}/posts/{other_post}/edit",
        f"/forums/{forum_id}/posts/{other_post}/history",
        f"/forums/{forum_id}/topics/{forum_id}?quote={other_post}",
    ):
        assert client.get(path).status_code == 404, path


def test_bidi_controls_leave_titles(app, client, auth, room):
    room_id, people = room
    auth.login(people["amina"].email)
    forum_id = forum_id_of(client, room_id)
    topic_id = start_topic(client, forum_id, "invoice\u202egnp.exe", "Text")
    with app.app_context():
        assert db.session.get(Topic, topic_id).title == "invoicegnp.exe"
