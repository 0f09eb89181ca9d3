"""Many people join one room's chat at the same moment, on the gevent server of ``make run``
(one process on SQLite, deploy/gunicorn.conf.py) and, with ``TEST_DATABASE_URL``, on PostgreSQL:
every join is acknowledged, everyone ends up seeing everyone online, and the server logs no
database error ("database is locked" was logged during 500 joins before the platform served on
gevent with its cooperative SQLite lock). A benchmark runs the same with 1,000 and 2,000
clients (bench/chat.py); the test stays at a size a CI machine opens in seconds."""

import os
import threading

from irooms.models import Membership
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.passwords import hash_password
from tests.helpers import PASSWORD
from tests.irooms import processes

chat_clients = processes.chat_clients  # the fixture, for the test here

PEOPLE = 40
TABS = 3  # connections per person: 120 joins at once


def add_members(app, room_id: int) -> list[str]:
    """``PEOPLE`` practitioners in the room: their e-mail addresses."""
    password_hash = hash_password(PASSWORD)
    emails = [f"joiner-{number}@example.org" for number in range(PEOPLE)]
    with app.app_context():
        for number, email in enumerate(emails):
            user = User(
                email=email,
                name=f"Participant {number:02d}",
                password_hash=password_hash,
                country="KE",
                organisation="Office of the Director of Public Prosecutions",
                agency_type="prosecution",
                role="practitioner",
                active=True,
                email_confirmed_at=utcnow(),
            )
            db.session.add(user)
            db.session.add(Membership(room_id=room_id, user=user, role="participant"))
        db.session.commit()
        db.session.remove()
    return emails


def test_a_hundred_and_twenty_joins_at_once(tmp_path, chat_clients):
    server_url = os.environ.get("TEST_DATABASE_URL", "")
    with (
        processes.own_database(server_url, tmp_path) as (app, url),
        processes.two_servers(url, "", "many-joins", tmp_path, names=("a",)) as (server,),
    ):
        people = processes.add_people(app)
        room_id, _ = processes.add_room(app, people)
        browsers = [processes.Browser(server).login(email) for email in add_members(app, room_id)]
        clients = [chat_clients(browser) for browser in browsers for _ in range(TABS)]

        answers: list = [None] * len(clients)
        start = threading.Barrier(len(clients))

        def join(number: int) -> None:
            start.wait()
            answers[number] = clients[number].call("join", {"room": room_id, "after": None})

        threads = [threading.Thread(target=join, args=(n,)) for n in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert all(answer and answer["ok"] for answer in answers), answers
        everyone = {f"Participant {number:02d}" for number in range(PEOPLE)}

        def sees_everyone(client) -> bool:
            # what the server said when it joined, and who came online after
            names = {person["name"] for event in client.received("presence", room_id)
                     for person in event["online"]}  # fmt: skip
            names |= {event["user"]["name"] for event in client.received("online", room_id)}
            return everyone <= names

        processes.wait_for(
            lambda: all(sees_everyone(client) for client in clients), "everyone seeing everyone"
        )
        # A message posted now reaches every connection once.
        seq = processes.send(clients[0], room_id, "Bienvenue à toutes et à tous.")["seq"]
        processes.wait_for(
            lambda: all(processes.seqs(client, room_id) == [seq] for client in clients),
            "the message on every connection",
        )
    log = (tmp_path / "gunicorn-a.log").read_text()
    assert "database is locked" not in log
    assert "Traceback" not in log
