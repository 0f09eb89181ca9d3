"""Search: query times over an index of 100,000 documents in Latin, Cyrillic, Arabic and Chinese.

Not a test: it prints figures. Run it with ``make bench-search`` or ``.venv/bin/python
bench/search.py`` (``--documents 100000``, ``--rounds 50``; ``--database URL`` for PostgreSQL,
an empty database it may fill; with ``TEST_DATABASE_URL`` set and no ``--database``, that one).

The documents are written straight into the index (``search_documents``, through its triggers
on SQLite), as ``learnplatform.search.index`` writes them: lessons of published modules, library
resources of rooms and forum posts, a quarter in each script, their text drawn from a few
real words of the field (each in a few percent to a third of its script's documents) and many
made-up ones. The searcher belongs to half of the rooms.

Each query is sent ``--rounds`` times through ``learnplatform.search.engine.search`` (what the
page calls, snippets and highlighting included, without the template), and the median (p50) and
99th percentile (p99) of its times are printed, then those of all queries together. The
machine's load averages are printed beside, since other work changes the figures.
"""

# ruff: noqa: RUF001, SIM905 (words of other scripts, written as text)

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bench.scorm import platform  # noqa: E402
from courses.models import Module  # noqa: E402
from irooms.models import Membership, Room  # noqa: E402
from learnplatform.accounts.models import User  # noqa: E402
from learnplatform.audit import utcnow  # noqa: E402
from learnplatform.extensions import db  # noqa: E402
from learnplatform.forums.models import Forum  # noqa: E402
from learnplatform.search import fold  # noqa: E402
from learnplatform.search.engine import search  # noqa: E402
from learnplatform.search.models import SearchDocument  # noqa: E402

#: per script: its language, real words of the field, and syllables for made-up words
SCRIPTS = {
    "latin": (
        "fr",
        "numérique résolution électroniques preuve terrorisme nucléaire coopération entraide "
        "juridique financement combattants étrangers procureur enquête CBRN sécurité Conseil "
        "pruebas electrónicas cooperación judicial delitos terrorismo".split(),
        "ba ce di fo gu la me ni po ru sa te vi zo an el in on ur".split(),
    ),
    "cyrillic": (
        "ru",
        "ядерного терроризма правовые основы борьбы финансирование доказательства "
        "электронные сотрудничество прокурор расследование безопасности Совета".split(),
        "ба ве ги до жу зи ко ла ме но пу ре си та фу хо це чи".split(),
    ),
    "arabic": (
        "ar",
        "الإرهاب مكافحة الإطار القانوني الدولي تمويل الأدلة الإلكترونية التعاون القضائي "
        "النيابة التحقيق الأمن مجلس النووي".split(),
        "با تو جي دا را سو فا قي كو لا مي نو ها وي".split(),
    ),
    "chinese": (
        "zh",
        "反恐 恐怖主义 国际 法律 框架 化学 生物 放射性 核 电子证据 司法协助 检察官 调查 安全 "
        "理事会 融资".split(),
        "的 一 是 在 不 了 有 和 人 这 中 大 为 上 个 国 我 以 要 他 时 来 用 们 生 "
        "到 作 地 于 出".split(),
    ),
}

QUERIES = [
    "electronicas",
    "numerique",
    "Resolution",
    "preuve numerique",
    "ядерн",
    "ЯДЕРН",
    "ارهاب",
    "反恐",
    "核",
    "ＣＢＲＮ",
    "rarissime",
    "cooperation judicial",
]


def made_up(rng: random.Random, syllables: list[str]) -> str:
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))


def text_of(rng: random.Random, script: str, words: int) -> str:
    _, real, syllables = SCRIPTS[script]
    chosen = [
        rng.choice(real) if rng.random() < 0.15 else made_up(rng, syllables) for _ in range(words)
    ]
    return ("" if script == "chinese" else " ").join(chosen)


def fill(app, documents: int, seed: int = 7) -> int:
    """The index filled with ``documents`` documents; the searcher's id."""
    rng = random.Random(seed)
    now = utcnow()
    with app.app_context():
        searcher = User(
            email="searcher@bench.example.org",
            name="Searcher",
            password_hash="!",  # noqa: S106 (never logs in)
            country="KE",
            organisation="Bench",
            agency_type="prosecution",
            role="practitioner",
            active=True,
        )
        db.session.add(searcher)
        modules = [
            Module(title=f"Module {n}", theme="cbrn", language="en", is_published=n % 5 != 0)
            for n in range(50)
        ]
        rooms = [Room(name=f"Room {n}", language="fr", theme="cooperation") for n in range(40)]
        db.session.add_all(modules + rooms)
        db.session.flush()
        forums = {room.id: Forum(room_id=room.id) for room in rooms}
        db.session.add_all(forums.values())
        db.session.flush()
        db.session.add_all(
            Membership(room_id=room.id, user_id=searcher.id, role="participant")
            for room in rooms[::2]
        )
        db.session.commit()
        module_ids = [module.id for module in modules]
        room_ids = [room.id for room in rooms]
        searcher_id = searcher.id
        scripts = list(SCRIPTS)
        rows = []
        for number in range(documents):
            script = scripts[number % len(scripts)]
            kind = ("lesson", "resource", "post")[number % 3]
            title = text_of(rng, script, rng.randint(3, 7))
            body = text_of(rng, script, rng.randint(20, 60))
            if number % 10_000 == 0:
                body += " rarissime"
            room_id = rng.choice(room_ids)
            place = (
                {"module_id": rng.choice(module_ids)}
                if kind == "lesson"
                else {
                    "room_id": room_id,
                    "forum_id": forums[room_id].id if kind == "post" else None,
                }
            )
            rows.append(
                {
                    "kind": kind,
                    "object_id": number + 1,
                    "module_id": None,
                    "series_id": None,
                    "room_id": None,
                    "forum_id": None,
                    **place,
                    "language": SCRIPTS[script][0],
                    "title": title,
                    "body": body,
                    "folded_title": fold(title),
                    "folded_body": fold(body),
                    "link": {"topic_id": 1, "seq": 1},
                    "indexed_at": now,
                }
            )
            if len(rows) == 5000:
                db.session.execute(insert(SearchDocument), rows)
                rows = []
        if rows:
            db.session.execute(insert(SearchDocument), rows)
        db.session.commit()
    with app.app_context(), db.engine.connect() as connection:
        # What autovacuum (PostgreSQL) or a periodic optimize would do after a bulk load.
        if db.engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
            connection.execute(text("ANALYZE"))
        connection.commit()
    return searcher_id


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(url: str, folder: Path, documents: int, rounds: int) -> None:
    app = platform(url, folder)
    print(f"database: {url.split(':', 1)[0]}")
    started = time.perf_counter()
    searcher_id = fill(app, documents)
    print(f"{documents} documents written in {time.perf_counter() - started:.0f} s")
    everything: list[float] = []
    width = max(len(query) for query in QUERIES)
    print(f"{'query':<{width}}  {'found':>5}  {'p50 ms':>7}  {'p99 ms':>7}")
    with app.test_request_context("/search"):
        searcher = db.session.get(User, searcher_id)
        for query in QUERIES:
            timings = []
            for _ in range(rounds):
                begun = time.perf_counter()
                results = search(searcher, query)
                timings.append((time.perf_counter() - begun) * 1000)
                db.session.rollback()
            everything += timings
            print(
                f"{query:<{width}}  {len(results.hits):5d}  "
                f"{statistics.median(timings):7.1f}  {percentile(timings, 0.99):7.1f}"
            )
    print(
        f"{'all queries':<{width}}         {statistics.median(everything):7.1f}  "
        f"{percentile(everything, 0.99):7.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    arguments = parser.parse_args()
    logging.disable(logging.INFO)
    print("load averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))
    with tempfile.TemporaryDirectory() as folder:
        run(
            f"sqlite:///{Path(folder) / 'bench.sqlite'}",
            Path(folder),
            arguments.documents,
            arguments.rounds,
        )
        if arguments.database and not arguments.sqlite_only:
            run(arguments.database, Path(folder), arguments.documents, arguments.rounds)
    print("load averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
