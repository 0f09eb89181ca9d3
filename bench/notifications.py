"""A session scheduled in a room of N members: what the host's request costs, what the worker
then does, and how fast the e-mails reach an SMTP server.

Not a test: it prints figures. Run it with ``make bench-notifications`` or ``.venv/bin/python
bench/notifications.py`` (``--members 100,500,2000``; ``--database URL`` for PostgreSQL, an
empty database it may fill). For each room size, on a freshly migrated database:

- the event: the host's form posted through the Flask test client, jobs queued (a SQLite queue,
  as ``make run`` has), not run: what the web process spends, one notification row per member;
- the worker's first job: the e-mails written into the outbox, each in the member's language and
  time zone with its calendar file (members spread over seven languages and five zones);
- delivery: every e-mail handed to a local aiosmtpd server over one connection per batch.

The machine's load averages are printed beside, since other work changes the figures.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from irooms.models import Membership, Room  # noqa: E402
from learnplatform import create_app, jobs  # noqa: E402
from learnplatform.accounts.models import User  # noqa: E402
from learnplatform.audit import utcnow  # noqa: E402
from learnplatform.extensions import db  # noqa: E402
from learnplatform.mail import OutboxMessage, deliver_waiting  # noqa: E402
from learnplatform.notifications.models import Notification  # noqa: E402
from learnplatform.notifications.services import mail_notifications  # noqa: E402
from learnplatform.passwords import hash_password  # noqa: E402
from tests.helpers import PASSWORD, Auth, post_form  # noqa: E402
from tests.mailserver import MailServer  # noqa: E402

LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh", "pt")
ZONES = ("Africa/Lagos", "Asia/Tokyo", "America/New_York", "Europe/Vienna", "Asia/Almaty")


def platform(database_url: str, folder: Path, mail: MailServer):
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "JOBS_IMMEDIATE": False,
            "JOBS_DATABASE": str(folder / "jobs.sqlite"),
            "STORAGE_DIR": str(folder / "storage"),
            "SOCKETIO_MESSAGE_QUEUE": None,
            "CHAT_HEARTBEAT_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            **mail.config,
        }
    )
    with app.app_context():
        if database_url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
    return app


def room_of(app, members: int) -> tuple[int, str]:
    """A room with a host and ``members`` members; its id and the host's address."""
    with app.app_context():
        hashed = hash_password(PASSWORD)
        host = User(
            email="host@bench.example.org",
            name="Bench Host",
            password_hash=hashed,
            country="KE",
            agency_type="prosecution",
            role="trainer",
            email_confirmed_at=utcnow(),
        )
        room = Room(name="Bench room", language="en", theme="cooperation")
        db.session.add_all([host, room])
        db.session.flush()
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"m{number}@bench.example.org",
                    "name": f"Member {number}",
                    "password_hash": "-",
                    "country": "KE",
                    "agency_type": "police",
                    "language": LANGUAGES[number % len(LANGUAGES)],
                    "time_zone": ZONES[number % len(ZONES)],
                }
                for number in range(members)
            ],
        )
        ids = db.session.scalars(select(User.id).where(User.id != host.id)).all()
        db.session.execute(
            insert(Membership),
            [{"room_id": room.id, "user_id": host.id, "role": "host"}]
            + [{"room_id": room.id, "user_id": user_id, "role": "participant"} for user_id in ids],
        )
        db.session.commit()
        return room.id, host.email


def measure(database_url: str, members: int) -> dict:
    mail = MailServer()
    mail.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = platform(database_url, Path(folder), mail)
            room_id, host = room_of(app, members)
            browser = app.test_client()
            Auth(browser).login(host)
            form = {
                "title": "Controlled deliveries",
                "agenda": "Cases",
                "starts_at": "2031-03-14T14:00",
                "ends_at": "2031-03-14T16:00",
                "conference_url": "",
                "webinar_id": "",
            }
            post_form(browser, f"/irooms/{room_id}/sessions/new", form)  # warms templates
            started = time.perf_counter()
            answer = post_form(
                browser, f"/irooms/{room_id}/sessions/new", form | {"title": "Second"}
            )
            event = time.perf_counter() - started
            assert answer.status_code == 302, answer.status_code
            with app.app_context():
                key = db.session.scalar(select(func.max(Notification.key)))
                started = time.perf_counter()
                written = mail_notifications.call_local(key)
                writing = time.perf_counter() - started
                started = time.perf_counter()
                sent = 0
                while chunk := deliver_waiting.call_local():
                    sent += chunk
                delivering = time.perf_counter() - started
                waiting = db.session.scalar(
                    select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
                )
                db.engine.dispose()
            mail.wait_for(sent, timeout=60)
            return {
                "members": members,
                "event_ms": event * 1000,
                "written": written,
                "writing_s": writing,
                "sent": sent,
                "delivering_s": delivering,
                "waiting": waiting,
            }
    finally:
        mail.stop()
        jobs.huey.immediate = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", default="100,500,2000")
    parser.add_argument("--database", help="a PostgreSQL URL (emptied); default a SQLite file")
    arguments = parser.parse_args()
    print(f"load averages before: {os.getloadavg()}")
    print(
        f"{'members':>8} {'event ms':>9} {'e-mails written':>16} {'write s':>8} "
        f"{'per e-mail ms':>14} {'sent':>6} {'send s':>7} {'sent/s':>7} {'left':>5}"
    )
    for members in (int(part) for part in arguments.members.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            url = arguments.database or f"sqlite:///{folder}/bench.sqlite"
            figures = measure(url, members)
        print(
            f"{figures['members']:>8} {figures['event_ms']:>9.0f} {figures['written']:>16} "
            f"{figures['writing_s']:>8.2f} "
            f"{1000 * figures['writing_s'] / max(figures['written'], 1):>14.1f} "
            f"{figures['sent']:>6} {figures['delivering_s']:>7.2f} "
            f"{figures['sent'] / max(figures['delivering_s'], 1e-9):>7.0f} {figures['waiting']:>5}"
        )
    print(f"load averages after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
