"""My iRooms, and the Socket.IO door into the rooms."""

import pytest
from sqlalchemy import select

from irooms.models import Membership, Room, SocketConnection
from learnplatform.extensions import db, socketio
from tests.helpers import PASSWORD, count_queries, post_form


def add_room(app, name, members):
    with app.app_context():
        room = Room(
            name=name,
            description=f"{name}: a private room.",
            language="fr",
            theme="cooperation",
            region_focus="Sahel",
        )
        room.memberships = [Membership(user_id=user.id, role=role) for user, role in members]
        db.session.add(room)
        db.session.commit()
        return room.id


def test_my_irooms_lists_only_my_rooms_with_my_role(app, client, login_as, create_user):
    me = login_as()
    host = create_user(role="trainer")
    add_room(
        app,
        "Sahel prosecutors: special investigative techniques",
        [(me, "participant"), (host, "host")],
    )
    add_room(app, "Central Asia: countering the financing of terrorism", [(host, "host")])
    page = client.get("/irooms/").get_data(as_text=True)
    assert "Sahel prosecutors: special investigative techniques" in page
    assert "Participant" in page
    assert "2 members" in page
    assert "Central Asia" not in page


def test_my_irooms_keeps_its_query_count(app, client, login_as, create_user):
    me = login_as()
    add_room(app, "Room 0", [(me, "participant")])
    few = count_queries(app, client, "/irooms/")
    others = [create_user() for _ in range(3)]
    for number in range(1, 8):
        add_room(
            app, f"Room {number}", [(me, "expert"), *[(other, "participant") for other in others]]
        )
    assert count_queries(app, client, "/irooms/") == few


def test_room_names_are_shown_as_text(app, client, login_as):
    me = login_as()
    add_room(app, '<img src=x onerror="alert(1)">Room', [(me, "participant")])
    page = client.get("/irooms/").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page


def test_socketio_refuses_a_connection_without_login(app):
    visitor = socketio.test_client(app, flask_test_client=app.test_client())
    assert not visitor.is_connected()


def test_socketio_accepts_a_logged_in_member(app, create_user):
    user = create_user()
    browser = app.test_client()
    post_form(browser, "/login", {"email": user.email, "password": PASSWORD})
    connection = socketio.test_client(app, flask_test_client=browser)
    assert connection.is_connected()
    connection.disconnect()


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_socketio_refuses_another_origin(app, create_user, origin):
    user = create_user()
    browser = app.test_client()
    post_form(browser, "/login", {"email": user.email, "password": PASSWORD})
    connection = socketio.test_client(app, flask_test_client=browser, headers={"Origin": origin})
    assert not connection.is_connected()


def connect_as(app, user):
    browser = app.test_client()
    post_form(browser, "/login", {"email": user.email, "password": PASSWORD})
    return browser, socketio.test_client(app, flask_test_client=browser)


def test_deactivation_closes_open_connections_at_once(app, client, login_as, create_user):
    target = create_user()
    _, first_tab = connect_as(app, target)
    _, second_browser = connect_as(app, target)
    bystander = create_user()
    _, bystander_tab = connect_as(app, bystander)
    assert first_tab.is_connected() and second_browser.is_connected()

    login_as("administrator")
    post_form(
        client, f"/admin/users/{target.id}/deactivate", {}, form_url=f"/admin/users/{target.id}"
    )
    assert not first_tab.is_connected()
    assert not second_browser.is_connected()
    assert bystander_tab.is_connected()
    with app.app_context():
        assert db.session.scalars(select(SocketConnection.user_id)).all() == [bystander.id]


def test_logout_closes_the_connections_of_that_browser_only(app, create_user):
    user = create_user()
    browser, tab = connect_as(app, user)
    _, other_browser_tab = connect_as(app, user)
    post_form(browser, "/logout", {}, form_url="/account")
    assert not tab.is_connected()
    assert other_browser_tab.is_connected()


# Rooms: created by trainers, edited and archived by their hosts.
def test_a_trainer_opens_a_room_and_becomes_its_host(app, client, login_as):
    trainer = login_as("trainer")
    response = post_form(
        client,
        "/irooms/new",
        {
            "name": "Central Asia: countering the financing of terrorism",
            "description": "Financial intelligence units and prosecutors of five countries.",
            "language": "ru",
            "theme": "financing",
            "region_focus": "Central Asia",
            "ends_on": "",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        room = db.session.scalar(select(Room))
        assert [(m.user_id, m.role) for m in room.memberships] == [(trainer.id, "host")]
        room_id = room.id
    page = client.get(f"/irooms/{room_id}").get_data(as_text=True)
    assert "Financial intelligence units and prosecutors" in page
    assert "Edit the room" in page


def test_practitioners_cannot_open_rooms(client, login_as):
    login_as()
    assert client.get("/irooms/new").status_code == 403


def test_an_archived_or_ended_room_is_read_only(app, client, login_as, create_user):
    from datetime import date, timedelta

    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    post_form(client, f"/irooms/{room_id}/archive", {}, form_url=f"/irooms/{room_id}")
    page = client.get("/irooms/").get_data(as_text=True)
    assert "Archived" in page
    assert client.get(f"/irooms/{room_id}/invitations").status_code == 200
    assert (
        post_form(
            client,
            f"/irooms/{room_id}/invitations",
            {"role": "participant", "days": 3, "max_uses": 1},
            form_url=f"/irooms/{room_id}/members",
        ).status_code
        == 403
    )
    post_form(client, f"/irooms/{room_id}/reopen", {}, form_url=f"/irooms/{room_id}")
    with app.app_context():
        room = db.session.get(Room, room_id)
        assert room.archived_at is None
        room.ends_on = date.today() - timedelta(days=1)
        db.session.commit()
    assert "Ended: read only" in client.get(f"/irooms/{room_id}").get_data(as_text=True)
    assert (
        post_form(client, f"/irooms/{room_id}/members", {"who": create_user().email}).status_code
        == 403
    )


def test_my_irooms_says_what_is_new_since_the_last_visit(app, client, login_as, create_user):
    from datetime import timedelta

    from irooms.models import LiveSession, Resource
    from learnplatform.audit import utcnow

    me = login_as()
    room_id = add_room(app, "Sahel prosecutors", [(me, "participant")])
    assert client.get(f"/irooms/{room_id}").status_code == 200  # a visit
    with app.app_context():
        later = utcnow()
        for number in range(2):
            db.session.add(
                Resource(
                    room_id=room_id,
                    title=f"Manual {number}",
                    language="fr",
                    category="manual",
                    kind="link",
                    url="https://example.org/manual.pdf",
                    created_at=later,
                    updated_at=later,
                )
            )
        db.session.add(
            LiveSession(
                room_id=room_id, title="Controlled deliveries", starts_at=later, ends_at=later
            )
        )
        db.session.commit()
    page = client.get("/irooms/").get_data(as_text=True)
    assert "New since your last visit:" in page
    assert "2 resources" in page and "1 session scheduled" in page
    # A visit is kept to the minute: reloading at once writes nothing, coming back later does.
    with app.app_context():
        visit = db.session.scalar(select(Membership))
        visit.last_visit_at -= timedelta(minutes=2)
        db.session.commit()
    client.get(f"/irooms/{room_id}")
    assert "New since your last visit:" not in client.get("/irooms/").get_data(as_text=True)


def test_administrators_see_and_manage_every_room(app, client, login_as, create_user):
    room_id = add_room(app, "Sahel prosecutors", [(create_user(role="trainer"), "host")])
    login_as("administrator")
    page = client.get("/irooms/").get_data(as_text=True)
    assert "Other rooms (you see them as an administrator)" in page
    assert "Sahel prosecutors" in page
    assert "Edit the room" in client.get(f"/irooms/{room_id}").get_data(as_text=True)
    assert client.get(f"/irooms/{room_id}/invitations").status_code == 200
