"""What rooms tell the Learning Record Store, read back from a real one (Ralph): library
resources downloaded, live sessions attended (seen in the room while on, or ticked by a host)."""

from datetime import timedelta

import pytest

from tests.irooms.test_chat import connect
from tests.irooms.test_library import read_all, stored_resource
from tests.irooms.test_rooms import add_room
from tests.irooms.test_sessions import add_session, mark


@pytest.fixture
def app(lrs_app):
    """Every test here sends statements to the LRS."""
    return lrs_app


def said(lrs) -> list[tuple[str, str, str]]:
    """(verb, activity path, the person's opaque name) of each statement, in the LRS's order."""
    return [
        (
            statement["verb"]["display"]["en-US"],
            statement["object"]["id"].removeprefix("http://localhost"),
            statement["actor"]["account"]["name"],
        )
        for statement in lrs.statements()
    ]


def test_a_resource_downloaded_is_told_once_its_last_byte_is_sent(
    app, client, login_as, create_user, lrs
):
    member = login_as()
    room_id = add_room(app, "Sahel prosecutors", [(member, "participant")])
    resource_id = stored_resource(app, room_id, "Manual on electronic evidence", language="fr")
    response = client.get(f"/irooms/{room_id}/library/{resource_id}/download")
    assert said(lrs) == []
    read_all(response)

    resource = f"/irooms/{room_id}/library/{resource_id}"
    assert said(lrs) == [("downloaded", resource, member.xapi_id)]
    (statement,) = lrs.statements()
    assert statement["object"]["definition"] == {
        "type": "http://adlnet.gov/expapi/activities/file",
        "name": {"fr": "Manual on electronic evidence"},
    }
    assert statement["context"]["language"] == "fr"


def test_members_seen_in_the_room_during_a_session_attended_it_once(app, create_user, lrs):
    host, member = create_user(role="trainer"), create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    session_id = add_session(app, room_id, starts_in=timedelta(minutes=-10))
    add_session(app, room_id, title="Next week", starts_in=timedelta(days=7))

    for _ in range(2):  # a second tab, or a reconnection: the same attendance
        connection = connect(app, member)
        assert connection.emit("join", {"room": room_id}, callback=True)["ok"]
        connection.disconnect()

    session = f"/irooms/{room_id}/sessions/{session_id}"
    assert said(lrs) == [("attended", session, member.xapi_id)]
    (statement,) = lrs.statements()
    assert statement["object"]["definition"]["type"] == (
        "http://adlnet.gov/expapi/activities/meeting"
    )
    assert statement["context"]["language"] == "fr"  # the room's


def test_members_a_host_marks_present_attended(app, client, login_as, create_user, lrs):
    host = login_as("trainer")
    first, second = create_user(), create_user()
    room_id = add_room(
        app, "Sahel prosecutors", [(host, "host"), (first, "participant"), (second, "expert")]
    )
    session_id = add_session(app, room_id, starts_in=timedelta(hours=-3))
    mark(client, room_id, session_id, first.id)
    mark(client, room_id, session_id, first.id, second.id)  # the first is marked already

    session = f"/irooms/{room_id}/sessions/{session_id}"
    assert said(lrs) == [
        ("attended", session, first.xapi_id),
        ("attended", session, second.xapi_id),
    ]
