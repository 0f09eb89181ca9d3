"""SECURITY.md items 14, 15 and 20 over every route of the package: the objects of one room,
probed by a member of another room and by an outsider, answer as if they did not exist."""

import re
from datetime import timedelta

import pytest

from irooms.members import token_hash
from irooms.models import (
    Attendance,
    Invitation,
    LiveSession,
    Membership,
    Resource,
    ResourceVersion,
    Room,
)
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.storage import save_upload
from tests.helpers import Auth, csrf_token, without_tokens
from tests.learnplatform.test_storage import PDF

#: route arguments that are not ids of a room's objects
FIXED_ARGUMENTS = {"action": "archive", "what": "recording", "kind": "csv"}


def two_rooms(app, create_user) -> dict:
    """Room A with one of every object, room B with its own member; the ids, by argument name."""
    import io

    host_a, member_a, member_b = create_user(role="trainer"), create_user(), create_user()
    with app.app_context():
        room_a = Room(name="Sahel prosecutors", language="fr", theme="criminal_justice")
        room_b = Room(name="Central Asia", language="ru", theme="financing")
        db.session.add_all([room_a, room_b])
        db.session.flush()
        membership = Membership(room_id=room_a.id, user_id=member_a.id, role="participant")
        db.session.add_all(
            [
                Membership(room_id=room_a.id, user_id=host_a.id, role="host"),
                membership,
                Membership(room_id=room_b.id, user_id=member_b.id, role="host"),
            ]
        )
        resource = Resource(
            room_id=room_a.id, title="Manual", language="fr", category="manual", kind="file"
        )
        db.session.add(resource)
        db.session.flush()
        stored = save_upload(io.BytesIO(PDF), "manual.pdf", allowed={"application/pdf"})
        version = ResourceVersion(resource_id=resource.id, number=1, stored_file_id=stored.id)
        now = utcnow()
        session = LiveSession(
            room_id=room_a.id, title="Controlled deliveries", starts_at=now, ends_at=now
        )
        invitation = Invitation(
            room_id=room_a.id,
            token_hash=token_hash("a-token-of-room-a"),
            expires_at=now + timedelta(days=3),
        )
        db.session.add_all([version, session, invitation])
        db.session.flush()
        db.session.add(Attendance(session_id=session.id, user_id=member_a.id))
        db.session.commit()
        return {
            "room_a": room_a.id,
            "room_b": room_b.id,
            "resource_id": resource.id,
            "version_id": version.id,
            "session_id": session.id,
            "invitation_id": invitation.id,
            "membership_id": membership.id,
            "user_id": member_a.id,
            "member_a": member_a,
            "member_b": member_b,
        }


def room_routes(app) -> list[tuple[str, str, list[str]]]:
    """(rule, method, argument names) of every route of a room."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("irooms.") and "room_id" in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((rule.rule, method, sorted(rule.arguments)))
    return routes


def url_for_rule(rule: str, ids: dict, room_id: int) -> str:
    values = {**{key: str(value) for key, value in ids.items()}, **FIXED_ARGUMENTS}
    values["room_id"] = str(room_id)
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule)


@pytest.mark.parametrize("who", ["member of another room", "outsider"])
def test_every_route_of_a_room_is_nothing_to_those_outside_it(app, create_user, who):
    ids = two_rooms(app, create_user)
    person = ids["member_b"] if who == "member of another room" else create_user()
    browser = app.test_client()
    Auth(browser).login(person.email)
    token = csrf_token(browser, "/account")
    missing = without_tokens(browser.get("/irooms/999999").get_data(as_text=True))
    routes = room_routes(app)
    assert len(routes) > 25  # every part of the package is probed

    for rule, method, arguments in routes:
        # Room A's objects at room A's address, then at room B's (another room's ids); a route
        # of room B itself, without objects, is one its member may use.
        of_objects = set(arguments) - {"room_id", *FIXED_ARGUMENTS}
        for room_id in (ids["room_a"], ids["room_b"]):
            if room_id == ids["room_b"] and (who == "outsider" or not of_objects):
                continue
            url = url_for_rule(rule, ids, room_id)
            response = browser.open(
                url,
                method=method,
                data={"csrf_token": token, "role": "host", "who": person.email},
                headers={"Range": "bytes=0-9", "X-CSRFToken": token},
            )
            body = response.get_data(as_text=True)
            response.close()
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            if method == "GET":
                assert without_tokens(body) == missing, f"{method} {url} differs"

    with app.app_context():
        assert db.session.get(Room, ids["room_a"]).archived_at is None
        assert db.session.get(Membership, ids["membership_id"]).role == "participant"
        assert db.session.get(Resource, ids["resource_id"]) is not None
        assert db.session.get(LiveSession, ids["session_id"]) is not None
        assert db.session.get(Invitation, ids["invitation_id"]).revoked_at is None


def test_a_removed_member_is_refused_everywhere_at_once(app, create_user):
    ids = two_rooms(app, create_user)
    browser = app.test_client()
    Auth(browser).login(ids["member_a"].email)
    library = f"/irooms/{ids['room_a']}/library/{ids['resource_id']}/download"
    response = browser.get(library)
    response.get_data()
    response.close()
    assert response.status_code == 200
    with app.app_context():
        db.session.delete(db.session.get(Membership, ids["membership_id"]))
        db.session.commit()
    for rule, method, _ in room_routes(app):
        if method != "GET":
            continue
        url = url_for_rule(rule, ids, ids["room_a"])
        response = browser.get(url)
        response.close()
        assert response.status_code == 404, url
