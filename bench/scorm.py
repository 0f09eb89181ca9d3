"""SCORM lessons: what importing a package of N files costs, and what a learner's commits cost.

Not a test: it prints figures. Run it with ``make bench-scorm`` or ``.venv/bin/python
bench/scorm.py`` (``--files 100,1000,5000``; ``--commits 500``; ``--database URL`` for
PostgreSQL, an empty database it may fill). On a freshly migrated database:

- import: a SCORM 2004 package (our test package plus N small files, as an authoring tool's
  images and scripts) posted to the import form through the Flask test client: the request's
  time, and the files unpacked per second;
- commits: one learner's runtime committing a growing data model (location, suspend data and
  one more interaction each time) to the commit endpoint, one after the other: p50 and p99 of
  the request, as the server sees it (Flask test client, no network).

The machine's load averages are printed beside, since other work changes the figures.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from courses.models import Lesson  # noqa: E402
from learnplatform import create_app  # noqa: E402
from learnplatform.accounts.models import User  # noqa: E402
from learnplatform.audit import utcnow  # noqa: E402
from learnplatform.extensions import db  # noqa: E402
from learnplatform.passwords import hash_password  # noqa: E402
from tests.courses.test_scorm_player import (  # noqa: E402
    commit,
    enrolled_learner,
    import_package,
    new_module,
    player_config,
)
from tests.helpers import PASSWORD, Auth  # noqa: E402
from tests.scorm_packages import scorm_2004_package  # noqa: E402


def platform(database_url: str, folder: Path):
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "STORAGE_DIR": str(folder / "storage"),
            "SOCKETIO_MESSAGE_QUEUE": None,
            "CHAT_HEARTBEAT_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            "JOBS_IMMEDIATE": True,
            "SCORM_CONTENT_ORIGIN": "http://content.bench",
            "SCORM_MAX_ENTRIES": 100_000,
        }
    )
    with app.app_context():
        if database_url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def package_with(files: int) -> bytes:
    """Our test package plus ``files`` small files of an authoring tool's kind."""
    buffer = io.BytesIO(scorm_2004_package())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        for number in range(files):
            kind = ("js", "css", "png", "html")[number % 4]
            archive.writestr(f"story_content/{number:05d}.{kind}", os.urandom(64).hex() * 8)
    return buffer.getvalue()


def login_as(app, client, role: str, number: int):
    password_hash = hash_password(PASSWORD)
    with app.app_context():
        user = User(
            email=f"{role}{number}@bench.example.org",
            name=f"{role.title()} {number}",
            password_hash=password_hash,
            country="KE",
            organisation="Bench",
            agency_type="prosecution",
            role=role,
            active=True,
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
    Auth(client).login(user.email)
    return user


def bench_import(app, files: int) -> None:
    client = app.test_client()
    trainer = login_as(app, client, "trainer", files)
    module_id = new_module(app, trainer.id, title=f"Bench {files}")
    data = package_with(files)
    started = time.perf_counter()
    response = import_package(client, module_id, data, name=f"bench-{files}.zip")
    spent = time.perf_counter() - started
    assert "The package is imported" in response.get_data(as_text=True), response.status
    total = files + 4
    print(
        f"import  {total:6d} files, {len(data) / 1e6:6.1f} MB zip: {spent * 1000:8.0f} ms, "
        f"{total / spent:7.0f} files/s"
    )


def bench_commits(app, count: int) -> None:
    client = app.test_client()
    trainer = login_as(app, client, "trainer", 0)
    module_id = new_module(app, trainer.id, title="Bench commits")
    import_package(client, module_id, scorm_2004_package())
    client = app.test_client()

    def login_as_learner(role="practitioner", **_):
        return login_as(app, client, role, 1)

    enrolled_learner(app, client, login_as_learner, module_id)
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == module_id))
    page = client.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    config, token = player_config(page)
    timings = []
    for sequence in range(1, count + 1):
        cmi = {
            "completion_status": "incomplete",
            "location": f"screen-{sequence}",
            "suspend_data": "x" * min(sequence * 20, 4000),
            "session_time": f"PT{sequence}S",
            "interactions": {
                str(n): {
                    "id": f"q{n}",
                    "type": "choice",
                    "learner_response": "a",
                    "result": "correct",
                }
                for n in range(min(sequence, 50))
            },
        }
        started = time.perf_counter()
        answer = commit(client, config, token, sequence, cmi)
        timings.append(time.perf_counter() - started)
        assert answer.json["kept"] is True, answer.status
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    print(f"commits {count:6d} in a row (up to 50 interactions each): ", end="")
    print(f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", default="100,1000,5000")
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--database", default=None)
    arguments = parser.parse_args()
    print("load averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        app = platform(url, Path(folder))
        print(f"database: {url.split(':', 1)[0]}")
        for files in (int(n) for n in arguments.files.split(",")):
            bench_import(app, files)
        bench_commits(app, arguments.commits)
    print("load averages:", " ".join(f"{value:.2f}" for value in os.getloadavg()))


if __name__ == "__main__":
    main()
