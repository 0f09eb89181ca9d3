"""Forum activity in the statistics: the figures of hand-built forums (an iRoom's and a
module's), checked against counts made here, with hidden and deleted topics and posts left out
and posts on the edges of periods; who sees which forums; the dashboard's table, the exports in
every format, the command line, the background and the API; constant query counts."""

import csv
import html
import io
import json
import re
from datetime import date, datetime, timedelta

import openpyxl
import pytest

from irooms.models import Membership, Room
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from learnplatform.regions import region_of
from learnplatform.stats import queries
from learnplatform.stats.filters import Filters
from tests.api.test_api import token_of
from tests.helpers import QueryCounter, count_queries
from tests.stats.test_background_exports import prepared_sheet
from tests.stats.test_scorm_figures import dashboard_rows
from tests.stats.test_statistics import (  # noqa: F401  (data is a fixture)
    MODULES,
    PEOPLE,
    data,
    export_json,
    logged_in,
)
from tests.stats.test_stats_cli import exported_from_the_command_line

# room: (host, theme); r3's forum was never opened
ROOMS = {
    "r1": ("trainer_a", "cooperation"),
    "r2": ("trainer_b", "victims"),
    "r3": ("trainer_b", "financing"),
}
#: the forums opened: the rooms' and the module discussions' (m2 has none)
FORUMS = ("r1", "r2", "m1", "m3")
# topic: (forum, author, started, a question, hidden or deleted)
TOPICS = {
    "t1": ("r1", "p1", datetime(2026, 4, 2, 9), True, None),
    "t2": ("r1", "p2", datetime(2026, 3, 31, 23, 59, 59), False, None),  # the last second of Q1
    "t3": ("r1", "p3", datetime(2026, 4, 1, 0, 0), True, None),  # the first second of Q2
    "t4": ("r1", "p1", datetime(2026, 5, 1, 9), True, "hidden"),
    "t5": ("r2", "p4", datetime(2026, 5, 3, 9), True, None),
    "t6": ("r2", "p5", datetime(2026, 6, 30, 23, 59, 59), False, "deleted"),
    "t7": ("m1", "p1", datetime(2026, 2, 10, 9), True, None),
    "t8": ("m3", "p6", datetime(2026, 7, 1, 0, 0), True, None),  # the first second of Q3
    "t9": ("m3", "p2", datetime(2026, 6, 15, 9), False, None),
}
# reply: (topic, author, posted, hidden or deleted); None: a person since deleted
REPLIES = {
    "a": ("t1", "p2", datetime(2026, 4, 3, 9), None),
    "b": ("t1", "p3", datetime(2026, 4, 4, 9), None),
    "c": ("t1", "p2", datetime(2026, 7, 1, 9), "hidden"),  # p2's only post of Q3
    "d": ("t2", "p1", datetime(2026, 4, 1, 0, 0), None),  # in Q2, to a topic of Q1
    "e": ("t3", "p1", datetime(2026, 6, 30, 23, 59, 59), "deleted"),
    "f": ("t4", "p2", datetime(2026, 5, 2, 9), None),  # in a hidden topic
    "g": ("t5", "p5", datetime(2026, 5, 4, 9), None),
    "h": ("t5", None, datetime(2026, 5, 6, 9), None),
    "i": ("t6", "p4", datetime(2026, 6, 1, 9), None),  # in a deleted topic
    "j": ("t7", "p2", datetime(2026, 2, 11, 9), None),
    "k": ("t9", "p6", datetime(2026, 6, 16, 9), None),
    "l": ("t9", "p6", datetime(2026, 6, 17, 9), None),
    "m": ("t4", "p3", datetime(2026, 5, 3, 9), None),  # in a hidden topic
}
# question: (the reply marked as its answer, when)
ANSWERS = {
    "t1": ("b", datetime(2026, 4, 5, 9)),
    "t3": ("e", datetime(2026, 7, 1, 8)),  # an answer since deleted: members see none
    "t4": ("m", datetime(2026, 5, 4, 9)),  # a hidden question
    "t5": ("g", datetime(2026, 6, 30, 23, 59, 59)),
    "t7": ("j", datetime(2026, 4, 1, 0, 0)),  # asked in Q1, answered in Q2
}
FIGURES = ("topics", "replies", "questions", "answered", "active_members")


def title_of(forum: str) -> str:
    return f"Room {forum}" if forum in ROOMS else MODULES[forum][0]


def kind_of(forum: str) -> str:
    return "iroom" if forum in ROOMS else "module"


@pytest.fixture
def forums(app, data):  # noqa: F811
    """The rooms of ROOMS and the forums of FORUMS, with the topics, replies and answers above,
    written through the models as the forum's pages will; ids by key."""
    people = {key: user.id for key, user in data["people"].items()}
    people[None] = None
    hosts = {key: user.id for key, user in data["trainers"].items()}
    ids = {}
    with app.app_context():
        for key, (host, theme) in ROOMS.items():
            room = Room(name=f"Room {key}", language="fr", theme=theme)
            room.memberships = [
                Membership(user_id=hosts[host], role="host", joined_at=datetime(2025, 12, 1))
            ]
            db.session.add(room)
            db.session.flush()
            ids[key] = room.id
        for key in FORUMS:
            owner = {"room_id": ids[key]} if key in ROOMS else {"module_id": data["modules"][key]}
            forum = Forum(**owner)
            db.session.add(forum)
            db.session.flush()
            ids[f"forum-{key}"] = forum.id
        for key, (forum, author, started, question, gone) in TOPICS.items():
            ids[key] = add_topic(
                ids[f"forum-{forum}"], people[author], started, question, gone, token=key
            )
        for key, (topic, author, posted, gone) in REPLIES.items():
            ids[key] = add_reply(ids[topic], people[author], posted, gone, token=key)
        for topic, (reply, when) in ANSWERS.items():
            mark_answer(ids[topic], ids[reply], when)
        db.session.commit()
    return ids


def gone_at(gone: str | None, posted: datetime) -> dict:
    """``hidden_at`` or ``deleted_at`` an hour after ``posted``, as ``gone`` says; or nothing."""
    return {f"{gone}_at": posted + timedelta(hours=1)} if gone else {}


def add_topic(forum_id, author_id, started, question=False, gone=None, *, token) -> int:
    """A topic and its opening post; ``gone``: "hidden" or "deleted"."""
    topic = Topic(
        forum_id=forum_id,
        title=f"Topic {token}",
        author_id=author_id,
        client_token=f"topic-{token}",
        is_question=question,
        created_at=started,
        last_post_at=started,
        last_seq=1,
        **gone_at(gone, started),
    )
    db.session.add(topic)
    db.session.flush()
    db.session.add(
        Post(
            topic_id=topic.id,
            forum_id=forum_id,
            seq=1,
            author_id=author_id,
            client_token=f"opening-{token}",
            body_html="<p>What do you think?</p>",
            created_at=started,
        )
    )
    return topic.id


def add_reply(topic_id, author_id, posted, gone=None, *, token) -> int:
    """A reply numbered after the topic's last post; ``gone``: "hidden" or "deleted"."""
    topic = db.session.get(Topic, topic_id)
    topic.last_seq += 1
    reply = Post(
        topic_id=topic_id,
        forum_id=topic.forum_id,
        seq=topic.last_seq,
        author_id=author_id,
        client_token=f"reply-{token}",
        body_html="<p>Here is how we did it.</p>",
        created_at=posted,
        **gone_at(gone, posted),
    )
    db.session.add(reply)
    db.session.flush()
    return reply.id


def mark_answer(topic_id, post_id, when) -> None:
    topic = db.session.get(Topic, topic_id)
    topic.answer_post_id, topic.answered_at = post_id, when


# The figures, counted here from the lists above.
def expected(start=None, end=None, keep=lambda person: True, listed=("r1", "r2", "r3", "m1", "m3")):
    """{(kind, title): figures} of the forums ``listed`` for the period from ``start`` to
    ``end`` (dates, inclusive) and the people ``keep`` keeps."""

    def inside(moment):
        return (start is None or moment.date() >= start) and (end is None or moment.date() <= end)

    shown_topics = {key: topic for key, topic in TOPICS.items() if topic[4] is None}
    # every post members see: (forum, author, posted, a reply)
    posts = [
        (forum, author, started, False) for forum, author, started, *_ in shown_topics.values()
    ]
    posts += [
        (shown_topics[topic][0], author, posted, True)
        for topic, author, posted, gone in REPLIES.values()
        if gone is None and topic in shown_topics
    ]
    found = {}
    for forum in listed:
        topics = [
            topic
            for topic in shown_topics.values()
            if topic[0] == forum and inside(topic[2]) and keep(topic[1])
        ]
        answered = [
            key
            for key, (reply, when) in ANSWERS.items()
            if key in shown_topics
            and shown_topics[key][0] == forum
            and REPLIES[reply][3] is None
            and inside(when)
            and keep(shown_topics[key][1])
        ]
        mine = [post for post in posts if post[0] == forum and inside(post[2]) and keep(post[1])]
        found[(kind_of(forum), title_of(forum))] = {
            "topics": len(topics),
            "replies": sum(1 for post in mine if post[3]),
            "questions": sum(1 for topic in topics if topic[3]),
            "answered": len(answered),
            "active_members": len({post[1] for post in mine if post[1] is not None}),
        }
    return found


def figures_of(rows: list[dict]) -> dict:
    return {(row["kind"], row["forum"]): {name: row[name] for name in FIGURES} for row in rows}


def test_the_counts_made_here_are_the_ones_meant():
    """The definitions, on one room and one quarter, in numbers a person can check."""
    assert expected(date(2026, 4, 1), date(2026, 6, 30))[("iroom", "Room r1")] == {
        "topics": 2,  # t1 and t3 (t2 is of Q1, t4 is hidden)
        "replies": 3,  # a, b, and d to a topic of Q1 (e is deleted, f and m in a hidden topic)
        "questions": 2,  # t1, t3
        "answered": 1,  # t1 (t3's answer was deleted and is of Q3, t4 is hidden)
        "active_members": 3,  # p1 (t1, d), p3 (t3, b), p2 (a)
    }
    # Q3 in r1: nothing but p2's hidden reply and t3's answer (deleted): nobody active.
    assert expected(date(2026, 7, 1), date(2026, 9, 30))[("iroom", "Room r1")] == dict.fromkeys(
        FIGURES, 0
    )
    # r2 in Q2: a person since deleted replied; they count among replies, not among people.
    assert expected(date(2026, 4, 1), date(2026, 6, 30))[("iroom", "Room r2")] == {
        "topics": 1,
        "replies": 2,
        "questions": 1,
        "answered": 1,
        "active_members": 2,
    }


def in_africa(person):
    return person is not None and region_of(PEOPLE[person][0]) == "002"


SLICES = [
    ({}, None, None, lambda p: True, ("r1", "r2", "r3", "m1", "m3")),
    ({"quarter": "2026-Q1"}, date(2026, 1, 1), date(2026, 3, 31), lambda p: True, None),
    ({"quarter": "2026-Q2"}, date(2026, 4, 1), date(2026, 6, 30), lambda p: True, None),
    (
        {"start": "2026-06-30", "end": "2026-07-01"},
        date(2026, 6, 30),
        date(2026, 7, 1),
        lambda p: True,
        None,
    ),
    ({"start": "2026-07-01"}, date(2026, 7, 1), None, lambda p: True, None),
    ({"end": "2026-03-31"}, None, date(2026, 3, 31), lambda p: True, None),
    ({"quarter": "2026-Q2", "region": "002"}, date(2026, 4, 1), date(2026, 6, 30), in_africa, None),
    (
        {"gender": "woman"},
        None,
        None,
        lambda p: p is not None and PEOPLE[p][1] == "woman",
        None,
    ),
    ({"theme": "victims"}, None, None, lambda p: True, ("r2", "m3")),
    ({"theme": "financing"}, None, None, lambda p: True, ("r3", "m1")),
    ({"language": "ar"}, None, None, lambda p: True, ("m3",)),
]


@pytest.mark.parametrize(("args", "start", "end", "keep", "listed"), SLICES)
def test_each_forums_figures_match_counts_made_here(
    app,
    data,  # noqa: F811
    forums,
    args,
    start,
    end,
    keep,
    listed,
):
    listed = listed or ("r1", "r2", "r3", "m1", "m3")
    admin = logged_in(app, data["admin"])
    rows = export_json(admin, "forum-activity", **args)
    assert figures_of(rows) == expected(start, end, keep, listed), args
    # The rooms first, then the module discussions (m2's was never opened), each by name.
    assert [row["forum"] for row in rows] == [
        title_of(forum) for forum in ("r1", "r2", "r3", "m1", "m3") if forum in listed
    ]
    for row in rows:
        if row["kind"] == "iroom":
            assert (row["iroom_id"], row["module_id"]) == (forums[row["forum"][-2:]], None)
        else:
            assert row["iroom_id"] is None
            assert row["module_id"] in data["modules"].values()


def test_a_module_filter_keeps_that_modules_discussion_and_the_rooms(app, data, forums):  # noqa: F811
    admin = logged_in(app, data["admin"])
    rows = export_json(admin, "forum-activity", module=data["modules"]["m3"])
    assert [(row["kind"], row["forum"]) for row in rows] == [
        ("iroom", "Room r1"),
        ("iroom", "Room r2"),
        ("iroom", "Room r3"),
        ("module", MODULES["m3"][0]),
    ]


# Who sees what.
def test_a_trainer_sees_the_forums_of_their_rooms_and_modules_and_nobody_else_any(
    app,
    data,  # noqa: F811
    forums,
):
    q2 = {"quarter": "2026-Q2"}
    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    for trainer, own in (
        ("trainer_a", [("iroom", "Room r1"), ("module", MODULES["m1"][0])]),
        ("trainer_b", [("iroom", "Room r2"), ("iroom", "Room r3"), ("module", MODULES["m3"][0])]),
    ):
        browser = logged_in(app, data["trainers"][trainer])
        rows = export_json(browser, "forum-activity", **q2)
        assert [(row["kind"], row["forum"]) for row in rows] == own
        assert figures_of(rows) == {forum: want[forum] for forum in own}
        page = browser.get("/stats/?quarter=2026-Q2").get_data(as_text=True)
        assert set(dashboard_rows(page, "forum-activity")) == {title for _, title in own}

    practitioner = logged_in(app, data["people"]["p1"])
    for path in ("/stats/export/forum-activity.json", "/stats/export/forum-activity.csv"):
        assert practitioner.get(path).status_code == 403
    assert app.test_client().get("/stats/export/forum-activity.csv").status_code == 302
    with app.app_context():
        for person, count in (
            (data["people"]["p1"], 0),
            (data["trainers"]["trainer_a"], 2),
            (data["trainers"]["trainer_b"], 3),
            (data["admin"], 5),
        ):
            scope = queries.scope_of(db.session.get(User, person.id))
            assert len(queries.forum_figures(Filters(), scope)) == count, person.name


# The dashboard.
def test_the_dashboard_shows_each_forum_labelled_with_what_it_belongs_to(app, data, forums):  # noqa: F811
    admin = logged_in(app, data["admin"])
    page = admin.get("/stats/?quarter=2026-Q2").get_data(as_text=True)
    assert "Forum activity" in page
    assert "Hidden and deleted topics and posts are left out." in page
    kinds = {"iroom": "iRoom forum", "module": "Module discussion"}
    assert dashboard_rows(page, "forum-activity") == {
        title: [kinds[kind], *(str(figures[name]) for name in FIGURES)]
        for (kind, title), figures in expected(date(2026, 4, 1), date(2026, 6, 30)).items()
    }
    links = html.unescape(page)
    for fmt in ("csv", "xlsx", "json"):
        assert f"/stats/export/forum-activity.{fmt}?" in links
        assert f"/stats/exports/forum-activity.{fmt}?" in links  # prepared in the background


def test_the_section_says_so_when_there_is_no_forum(app, data):  # noqa: F811
    admin = logged_in(app, data["admin"])
    page = admin.get("/stats/").get_data(as_text=True)
    section = re.search(
        r'<section[^>]*aria-labelledby="chart-forum-activity-title".*?</section>', page, re.S
    )
    assert section and "Nothing in this period and selection." in section.group(0)


# Exports and the API.
def test_the_exports_hold_the_same_rows_in_every_format(app, data, forums):  # noqa: F811
    with app.app_context():
        db.session.get(Room, forums["r3"]).name = '=HYPERLINK("http://evil.example")'
        db.session.commit()
    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    want[("iroom", '=HYPERLINK("http://evil.example")')] = want.pop(("iroom", "Room r3"))
    admin = logged_in(app, data["admin"])
    header = [
        "iRoom id",
        "Module id",
        "Forum",
        "Kind",
        "Topics started",
        "Replies",
        "Questions asked",
        "Questions answered",
        "Active members",
    ]
    kinds = {"iRoom forum": "iroom", "Module discussion": "module"}

    response = admin.get("/stats/export/forum-activity.csv?quarter=2026-Q2")
    assert response.status_code == 200 and response.is_streamed
    assert 'filename="forum-activity-' in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == header
    got = {(kinds[line[3]], line[2]): [int(cell) for cell in line[4:]] for line in lines[1:]}
    assert '\'=HYPERLINK("http://evil.example")' in {line[2] for line in lines[1:]}
    want_csv = {
        (kind, "'" + title if title.startswith("=") else title): [figures[n] for n in FIGURES]
        for (kind, title), figures in want.items()
    }
    assert got == want_csv

    response = admin.get("/stats/export/forum-activity.xlsx?quarter=2026-Q2")
    assert response.status_code == 200 and response.is_streamed
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert [cell.value for cell in sheet[1]] == header
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    got = {
        (kinds[row[3]], row[2]): list(row[4:])
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert got == {key: [figures[n] for n in FIGURES] for key, figures in want.items()}

    response = admin.get("/stats/export/forum-activity.json?quarter=2026-Q2")
    assert response.status_code == 200 and response.is_streamed
    rows = json.loads(response.get_data(as_text=True))
    assert figures_of(rows) == want  # codes in JSON: "iroom", "module"


def test_the_api_gives_each_forums_figures_to_an_administrators_token(app, data, forums):  # noqa: F811
    client = app.test_client()
    token = token_of(app, data["admin"])
    answer = client.get(
        "/api/v1/statistics/forum-activity?quarter=2026-Q2&region=002",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["filters"] == {"start": "2026-04-01", "end": "2026-06-30", "region": "002"}
    assert body["columns"] == ["iroom_id", "module_id", "forum", "kind", *FIGURES]
    assert figures_of(body["rows"]) == expected(date(2026, 4, 1), date(2026, 6, 30), in_africa)

    assert client.get("/api/v1/statistics/forum-activity").status_code == 401
    trainer_token = token_of(app, data["trainers"]["trainer_a"])
    refused = client.get(
        "/api/v1/statistics/forum-activity", headers={"Authorization": f"Bearer {trainer_token}"}
    )
    assert refused.status_code == 401
    bad = client.get(
        "/api/v1/statistics/forum-activity?start=2026-05-01&end=2026-01-01",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 400 and bad.get_json()["fields"].keys() == {"end"}


def test_the_figures_come_from_the_command_line_and_the_background_too(
    app,
    data,  # noqa: F811
    forums,
    tmp_path,
):
    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    output, rows = exported_from_the_command_line(
        app, tmp_path / "forums.json", "--dataset", "forum-activity", "--quarter", "2026-Q2"
    )
    assert f"{len(want)} rows written to" in output
    assert figures_of(rows) == want

    author = logged_in(app, data["trainers"]["trainer_a"])
    sheet = prepared_sheet(
        app, author, data["trainers"]["trainer_a"], "forum-activity", "quarter=2026-Q2"
    )
    assert sheet[0][4] == "Topics started"
    assert {row[2]: row[3:] for row in sheet[1:]} == {
        "Room r1": ["iRoom forum", *(want[("iroom", "Room r1")][n] for n in FIGURES)],
        MODULES["m1"][0]: [
            "Module discussion",
            *(want[("module", MODULES["m1"][0])][n] for n in FIGURES),
        ],
    }


# Query counts.
def test_the_figures_cost_the_same_queries_for_a_few_posts_as_for_hundreds(
    app,
    data,  # noqa: F811
    forums,
    create_user,
):
    admin = logged_in(app, data["admin"])
    trainer = logged_in(app, data["trainers"]["trainer_b"])
    token = token_of(app, data["admin"])
    api = app.test_client()
    with app.app_context():
        engine = db.engine

    def api_queries():
        with QueryCounter(engine) as counter:
            response = api.get(
                "/api/v1/statistics/forum-activity?region=002",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200
        return counter.count

    def counts():
        return [
            count_queries(app, admin, "/stats/"),
            count_queries(app, admin, "/stats/?quarter=2026-Q2&region=002"),
            count_queries(app, trainer, "/stats/"),
            count_queries(app, admin, "/stats/export/forum-activity.json"),
            count_queries(app, trainer, "/stats/export/forum-activity.csv?gender=woman"),
            api_queries(),
        ]

    api_queries()  # the token's first use is written down once
    before = counts()
    people = [create_user(country=country) for country in ("ML", "KZ", "PE") * 4]
    with app.app_context():
        for number in range(6):
            room = Room(name=f"Busy room {number}", language="en", theme="victims")
            room.memberships = [
                Membership(
                    user_id=data["trainers"]["trainer_b"].id,
                    role="host",
                    joined_at=datetime(2025, 12, 1),
                )
            ]
            db.session.add(room)
            db.session.flush()
            forum = Forum(room_id=room.id)
            db.session.add(forum)
            db.session.flush()
            for topic_number, person in enumerate(people):
                started = datetime(2026, 4, 1) + timedelta(days=topic_number, hours=number)
                token_key = f"busy-{number}-{topic_number}"
                topic = add_topic(
                    forum.id, person.id, started, topic_number % 2 == 0, token=token_key
                )
                replies = [
                    add_reply(
                        topic,
                        replier.id,
                        started + timedelta(hours=reply_number + 1),
                        "hidden" if reply_number == 4 else None,
                        token=f"{token_key}-{reply_number}",
                    )
                    for reply_number, replier in enumerate(people[:5])
                ]
                if topic_number % 2 == 0:  # a question: answered by a reply members see or not
                    answer = replies[0] if topic_number % 4 == 0 else replies[4]
                    mark_answer(topic, answer, started + timedelta(days=1))
        db.session.commit()
    assert counts() == before
    rows = {row["forum"]: row for row in export_json(admin, "forum-activity", quarter="2026-Q2")}
    assert rows["Busy room 0"]["topics"] == len(people)
    assert rows["Busy room 0"]["replies"] == 4 * len(people)
    assert rows["Busy room 0"]["questions"] == len(people) // 2
    assert rows["Busy room 0"]["answered"] == len(people) // 4  # the others' answers are hidden
    assert rows["Busy room 0"]["active_members"] == len(people)
