"""Prometheus metrics at /metrics: requests timed by endpoint, the chat's connections, posted,
delivered and caught-up messages; served to the scraper alone, a 404 like any unknown address
for everyone else.

The metrics belong to the process, which runs many apps in the tests: each test compares what
it reads after with what it read before.
"""

import http.client
import os
import shutil

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from irooms.models import Message, Room
from learnplatform.extensions import db, socketio
from tests.helpers import without_tokens
from tests.irooms import processes
from tests.irooms.test_chat import connect, received, send
from tests.irooms.test_rooms import add_room

TOKEN = "a-long-random-scraper-token-0123456789"


def scrape(client, **kwargs) -> dict:
    """What Prometheus reads at /metrics: {(sample name, sorted labels): value}."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    return samples(response.get_data(as_text=True))


def samples(exposition: str) -> dict:
    """The samples of the text format: {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels) -> float:
    """One sample's value; 0 for a series not yet there."""
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def requests_of(scraped: dict, endpoint: str, method: str = "GET", status: str = "2xx") -> float:
    return value(
        scraped,
        "learnplatform_request_duration_seconds_count",
        endpoint=endpoint,
        method=method,
        status=status,
    )


def test_each_request_is_timed_under_its_endpoint_never_its_address(client):
    before = scrape(client)
    for _ in range(2):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page-4711").status_code == 404
    assert client.open("/healthz", method="BREW").status_code == 405
    after = scrape(client)

    def timed(*labels) -> float:
        return requests_of(after, *labels) - requests_of(before, *labels)

    assert timed("main.health") == 2
    assert timed("unmatched", "GET", "4xx") == 1  # one series for every address without a route
    assert timed("unmatched", "other", "4xx") == 1  # and for every made-up method
    assert not [key for key in after if "4711" in str(key) or "BREW" in str(key)]


def test_the_metrics_are_a_404_for_anyone_but_the_scraper(client):
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404
    refusals = [
        client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}),
        client.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}),
        client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.10"}),
        client.post("/metrics"),
        client.open("/metrics", method="OPTIONS"),
    ]
    for refused in refusals:
        assert refused.status_code == 404
        assert without_tokens(refused.get_data(as_text=True)) == without_tokens(
            unknown.get_data(as_text=True)
        )
    # Without a token, this machine asking directly is the scraper.
    assert value(scrape(client), "learnplatform_socketio_connections") >= 0


def test_with_a_token_only_its_bearer_reads_the_metrics(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    refused = [
        {},  # this machine, but no token
        {"Authorization": "Bearer a-long-random-scraper-token-0123456780"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ]
    for headers in refused:
        assert client.get("/metrics", headers=headers).status_code == 404
    scraped = scrape(
        client,
        headers={"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert ("process_resident_memory_bytes", ()) in scraped


@pytest.fixture
def room(app, create_user):
    """A room with a host and a participant: (room id, host, participant)."""
    host, member = create_user(role="trainer"), create_user()
    return (
        add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")]),
        host,
        member,
    )


def test_a_message_counts_once_as_posted_and_once_for_each_connection_in_the_room(
    app, client, room, create_user
):
    room_id, host, member = room
    in_room = [connect(app, host), connect(app, member), connect(app, member)]  # two tabs
    for connection in in_room:
        assert connection.emit("join", {"room": room_id}, callback=True)["ok"]
    elsewhere = connect(app, create_user())  # connected, in no room
    before = scrape(client)

    assert send(in_room[1], room_id, "Bonjour à tous", client_id="once")["ok"]
    assert send(in_room[1], room_id, "Bonjour à tous", client_id="once")["ok"]  # a retry
    after = scrape(client)

    assert [len(received(connection, "message")) for connection in in_room] == [1, 1, 1]
    assert received(elsewhere, "message") == []
    posted = "learnplatform_chat_messages_posted_total"
    delivered = "learnplatform_chat_messages_delivered_total"
    assert value(after, posted) - value(before, posted) == 1
    assert value(after, delivered) - value(before, delivered) == 3
    assert requests_of(after, "metrics.exposition") - requests_of(before, "metrics.exposition") == 1


def test_open_connections_go_up_as_they_are_accepted_and_down_as_they_close(
    app, client, create_user
):
    gauge = "learnplatform_socketio_connections"
    before = value(scrape(client), gauge)
    first, second = connect(app, create_user()), connect(app, create_user())
    assert value(scrape(client), gauge) == before + 2
    refused = socketio.test_client(app, flask_test_client=app.test_client())  # not logged in
    assert not refused.is_connected()
    assert value(scrape(client), gauge) == before + 2
    first.disconnect()
    assert value(scrape(client), gauge) == before + 1
    second.disconnect()
    assert value(scrape(client), gauge) == before


def test_each_page_caught_up_on_joining_counts(app, client, room):
    room_id, host, member = room
    with app.app_context():
        for number in range(1, 151):  # a page is 100 messages
            db.session.add(
                Message(
                    room_id=room_id, seq=number, author_id=None, client_id=f"s{number}", body="x"
                )
            )
        db.session.get(Room, room_id).chat_seq = 150
        db.session.commit()
        assert db.session.scalar(select(func.count(Message.id))) == 150
    pages = "learnplatform_chat_catch_up_pages_total"
    before = value(scrape(client), pages)

    returning = connect(app, member)
    assert returning.emit("join", {"room": room_id, "after": 0}, callback=True)["ok"]
    assert [len(page) for page in received(returning, "messages")] == [100, 50]
    newcomer = connect(app, host)
    assert newcomer.emit("join", {"room": room_id}, callback=True)["ok"]  # the newest page
    assert len(received(newcomer, "messages")) == 1

    assert value(scrape(client), pages) - before == 3


# Two processes sharing Redis, as in production: each counts what it hands to its own connections.
@pytest.fixture
def servers(tmp_path):
    """Two gunicorn processes (gevent, as in production) on a database of their own (on the
    PostgreSQL server of TEST_DATABASE_URL, else one SQLite file) and a private Redis server,
    answering /metrics to TOKEN: (app, process A, process B)."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server program")
    port = processes.free_port()
    with (
        processes.own_database(os.environ.get("TEST_DATABASE_URL", ""), tmp_path) as (app, url),
        processes.private_redis(port, tmp_path),
        processes.two_servers(
            url, f"redis://127.0.0.1:{port}/0", "metrics", tmp_path, {"METRICS_TOKEN": TOKEN}
        ) as (process_a, process_b),
    ):
        yield app, process_a, process_b


def scrape_process(server) -> dict:
    """What Prometheus reads at the /metrics of one server process."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=processes.PATIENCE)
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        response = connection.getresponse()
        assert response.status == 200
        return samples(response.read().decode())
    finally:
        connection.close()


chat_clients = processes.chat_clients  # the fixture: closed before the servers stop


def test_each_process_counts_the_messages_it_hands_to_its_own_connections(servers, chat_clients):
    app, process_a, process_b = servers
    people = processes.add_people(app)
    (_, host_email), (_, member_email) = people
    room_id, _ = processes.add_room(app, people)
    host = chat_clients(processes.Browser(process_a).login(host_email))
    member = chat_clients(processes.Browser(process_b).login(member_email))
    processes.join(host, room_id, 0)
    processes.join(member, room_id, 0)

    assert processes.send(host, room_id, "Bonjour à tous")["ok"]
    processes.wait_for(lambda: processes.seqs(member, room_id) == [1], "the message in B")
    a, b = scrape_process(process_a), scrape_process(process_b)

    posted = "learnplatform_chat_messages_posted_total"
    delivered = "learnplatform_chat_messages_delivered_total"
    connections = "learnplatform_socketio_connections"
    assert (value(a, posted), value(a, delivered), value(a, connections)) == (1, 1, 1)
    assert (value(b, posted), value(b, delivered), value(b, connections)) == (0, 1, 1)
