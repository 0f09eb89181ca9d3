"""Forums: a topic of 5 posts against one of 5,000, a forum of 5,000 topics, and its search.

Not a test: it prints figures. Run it with ``make bench-forums`` or ``.venv/bin/python
bench/forums.py`` (``--posts 5000``, ``--topics 5000``, ``--rounds 20``; ``--database URL`` for
PostgreSQL, an empty database it may fill). On a freshly migrated database, rows written in bulk:

- a topic's first page, and its last page (the posts after number N - 30), for a topic of 5
  posts and one of ``--posts`` posts: pages are read by post number, so the last page of a long
  topic costs what the first does;
- the forum's first page of topics and a page far down the list (by key: the last activity and
  id of the page before), with ``--topics`` topics;
- a search for a word found in few posts and for one found in many, among all those posts.

Each figure is the median and slowest of ``--rounds`` requests through the Flask test client
(the server's time, no network), and the SQL statements the request took. The machine's load
averages are printed beside, since other work changes the figures.
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from bench.scorm import login_as, platform  # noqa: E402
from irooms.models import Membership, Room  # noqa: E402
from learnplatform.extensions import db  # noqa: E402
from learnplatform.forums.models import Forum, Post, Topic  # noqa: E402
from learnplatform.search import fold  # noqa: E402
from tests.helpers import QueryCounter  # noqa: E402

WORDS = (
    "preservation",
    "request",
    "provider",
    "jurisdiction",
    "evidence",
    "subscriber",
    "traffic",
    "content",
    "disclosure",
    "emergency",
    "cooperation",
    "prosecutor",
    "judge",
    "warrant",
    "order",
    "channel",
    "authority",
)


def forum_with(app, user_id: int, *, topics: int, posts: int) -> tuple[int, int, int]:
    """A room with ``user_id`` as host, its forum with ``topics`` topics of 1 post, one of 5
    posts and one of ``posts`` posts: the forum's id and the two topics' ids."""
    start = datetime(2026, 1, 1)
    with app.app_context():
        room = Room(name="Bench room", language="en", theme="cooperation")
        db.session.add(room)
        db.session.flush()
        db.session.add(Membership(room_id=room.id, user_id=user_id, role="host"))
        forum = Forum(room_id=room.id)
        db.session.add(forum)
        db.session.flush()

        def topic(number: int, count: int) -> int:
            made = Topic(
                forum_id=forum.id,
                title=f"Topic {number}: {WORDS[number % len(WORDS)]}",
                author_id=user_id,
                client_token=f"t{number}",
                last_seq=count,
                reply_count=count - 1,
                created_at=start + timedelta(minutes=number),
                last_post_at=start + timedelta(minutes=number, seconds=count),
                last_poster_id=user_id,
            )
            db.session.add(made)
            db.session.flush()
            rows = []
            for seq in range(1, count + 1):
                text = " ".join(WORDS[(number + seq + k) % len(WORDS)] for k in range(40))
                if seq % 1000 == 0:
                    text += " rarissime"
                rows.append(
                    {
                        "topic_id": made.id,
                        "forum_id": forum.id,
                        "seq": seq,
                        "author_id": user_id,
                        "client_token": f"p{number}-{seq}",
                        "body_html": f"<p>{text}</p>",
                        "search_text": fold(text),
                        "created_at": start + timedelta(minutes=number, seconds=seq),
                    }
                )
            db.session.execute(insert(Post), rows)
            return made.id

        for number in range(topics):
            topic(number, 1)
        short = topic(topics, 5)
        long = topic(topics + 1, posts)
        db.session.commit()
        forum_id = forum.id
    with app.app_context(), db.engine.connect() as connection:
        # What autovacuum does soon after a bulk load: planner statistics for the new rows.
        connection.execute(text("ANALYZE"))
        connection.commit()
    return forum_id, short, long


def measure(app, client, path: str, rounds: int) -> tuple[float, float, int]:
    with app.app_context():
        engine = db.engine
    timings, statements = [], 0
    for _ in range(rounds):
        with QueryCounter(engine) as counter:
            started = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        statements = counter.count
    return statistics.median(timings) * 1000, max(timings) * 1000, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--topics", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database", default=None)
    arguments = parser.parse_args()
    logging.disable(logging.INFO)  # one access log line per request would drown the figures
    print("load averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        app = platform(url, Path(folder))
        print(f"database: {url.split(':', 1)[0]}")
        client = app.test_client()
        host = login_as(app, client, "trainer", 1)
        forum_id, short, long = forum_with(
            app, host.id, topics=arguments.topics, posts=arguments.posts
        )
        with app.app_context():
            far = db.session.execute(
                select(Topic.last_post_at, Topic.id)
                .where(Topic.forum_id == forum_id)
                .order_by(Topic.last_post_at)
                .limit(1)
            ).one()
        pages = {
            "topic of 5 posts, first page": f"/forums/{forum_id}/topics/{short}",
            "topic of 5 posts, last page": f"/forums/{forum_id}/topics/{short}?after=0",
            f"topic of {arguments.posts} posts, first page": f"/forums/{forum_id}/topics/{long}",
            f"topic of {arguments.posts} posts, last page": (
                f"/forums/{forum_id}/topics/{long}?after={arguments.posts - 30}"
            ),
            f"forum of {arguments.topics + 2} topics, first page": f"/forums/{forum_id}",
            f"forum of {arguments.topics + 2} topics, far page": (
                f"/forums/{forum_id}?after_at={(far[0] + timedelta(seconds=1)).isoformat()}"
                f"&after_id={far[1] + 1}"
            ),
            "search, a word in few posts": f"/forums/{forum_id}/search?q=rarissime",
            "search, a word in many posts": f"/forums/{forum_id}/search?q=preservation",
        }
        width = max(len(name) for name in pages)
        print(f"{'page':<{width}}  {'p50 ms':>7}  {'max ms':>7}  {'SQL':>4}")
        for name, path in pages.items():
            p50, slowest, statements = measure(app, client, path, arguments.rounds)
            print(f"{name:<{width}}  {p50:7.1f}  {slowest:7.1f}  {statements:4d}")
    print("load averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
