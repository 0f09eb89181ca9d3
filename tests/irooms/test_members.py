"""Who is in a room: members added and removed by hosts, roles, and invitation links with their
edge cases (expired, revoked, used up, already a member, opened twice at once)."""

import re
import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from irooms.members import token_hash
from irooms.models import Invitation, Membership
from learnplatform.audit import AuditEvent, utcnow
from learnplatform.extensions import db
from tests.helpers import Auth, in_parallel, link_in, outbox, post_form
from tests.irooms.test_rooms import add_room
from tests.learnplatform.test_accounts import REGISTRATION

LINK = re.compile(r'id="new-link" type="text" value="[^"]*(/irooms/join/[^"]+)"')


def membership(app, room_id, user) -> Membership | None:
    with app.app_context():
        found = db.session.scalar(
            select(Membership).where(Membership.room_id == room_id, Membership.user_id == user.id)
        )
        if found is not None:
            db.session.expunge(found)
        return found


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def new_link(client, room_id, **fields) -> str:
    """Create an invitation link through the page; the path it shows once."""
    data = {"role": "participant", "days": 14, "max_uses": 1, "note": ""} | fields
    page = post_form(client, f"/irooms/{room_id}/invitations", data).get_data(as_text=True)
    match = LINK.search(page)
    assert match, page
    return match.group(1)


def as_user(app, user):
    browser = app.test_client()
    Auth(browser).login(user.email)
    return browser


# Members.
def test_a_host_adds_changes_and_removes_members(app, client, login_as, create_user):
    host = login_as("trainer")
    colleague = create_user(name="Moussa Traoré", email="moussa@example.org")
    named = create_user(name="Leila Haddad")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])

    post_form(client, f"/irooms/{room_id}/members", {"who": "MOUSSA@example.org", "role": "expert"})
    post_form(client, f"/irooms/{room_id}/members", {"who": "leila haddad", "role": "participant"})
    assert membership(app, room_id, colleague).role == "expert"
    assert membership(app, room_id, named).role == "participant"

    response = post_form(
        client, f"/irooms/{room_id}/members", {"who": "nobody@example.org"}, follow_redirects=True
    )
    assert "No account has this name or e-mail address." in response.get_data(as_text=True)
    response = post_form(
        client, f"/irooms/{room_id}/members", {"who": "moussa@example.org"}, follow_redirects=True
    )
    assert "Moussa Traoré is already a member." in response.get_data(as_text=True)

    member_id = membership(app, room_id, colleague).id
    post_form(
        client,
        f"/irooms/{room_id}/members/{member_id}/role",
        {"role": "host"},
        form_url=f"/irooms/{room_id}/members",
    )
    assert membership(app, room_id, colleague).role == "host"
    post_form(
        client,
        f"/irooms/{room_id}/members/{member_id}/remove",
        {},
        form_url=f"/irooms/{room_id}/members",
    )
    assert membership(app, room_id, colleague) is None
    assert {
        "room_member_added",
        "room_member_role_changed",
        "room_member_removed",
    } <= set(audit_actions(app))


def test_the_last_host_stays(app, client, login_as):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    member_id = membership(app, room_id, host).id
    for action, data in (("role", {"role": "participant"}), ("remove", {})):
        response = post_form(
            client,
            f"/irooms/{room_id}/members/{member_id}/{action}",
            data,
            form_url=f"/irooms/{room_id}/members",
            follow_redirects=True,
        )
        assert "A room keeps at least one host" in response.get_data(as_text=True)
    assert membership(app, room_id, host).role == "host"


def test_a_removed_member_is_refused_at_the_next_request(app, client, create_user):
    host = create_user(role="trainer")
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    browser = as_user(app, member)
    assert browser.get(f"/irooms/{room_id}/members").status_code == 200

    Auth(client).login(host.email)
    member_id = membership(app, room_id, member).id
    post_form(
        client,
        f"/irooms/{room_id}/members/{member_id}/remove",
        {},
        form_url=f"/irooms/{room_id}/members",
    )
    assert browser.get(f"/irooms/{room_id}/members").status_code == 404
    assert "Sahel prosecutors" not in browser.get("/irooms/").get_data(as_text=True)


def test_participants_and_experts_cannot_manage_members(app, client, login_as, create_user):
    me = login_as()
    other = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(me, "expert"), (other, "participant")])
    other_id = membership(app, room_id, other).id
    page = client.get(f"/irooms/{room_id}/members")
    assert page.status_code == 200 and "Add a member" not in page.get_data(as_text=True)
    form_url = f"/irooms/{room_id}/members"
    assert post_form(client, form_url, {"who": other.email}).status_code == 403
    assert (
        post_form(client, f"{form_url}/{other_id}/role", {"role": "host"}, form_url=form_url)
    ).status_code == 403
    assert (
        post_form(client, f"{form_url}/{other_id}/remove", {}, form_url=form_url).status_code == 403
    )
    assert client.get(f"/irooms/{room_id}/invitations").status_code == 403


# Invitations.
def test_a_link_is_shown_once_stored_hashed_and_joins_a_logged_in_person(
    app, client, login_as, create_user
):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    path = new_link(client, room_id, role="expert", note="Niamey office")
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 40
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    page = client.get(f"/irooms/{room_id}/invitations").get_data(as_text=True)
    assert token not in page and "Niamey office" in page and "0 / 1" in page

    guest = create_user()
    browser = as_user(app, guest)
    response = browser.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/irooms/{room_id}"
    assert membership(app, room_id, guest).role == "expert"
    assert {"room_invitation_created", "room_invitation_used"} <= set(audit_actions(app))


def test_a_visitor_registers_through_the_link_and_joins_after_confirming(app, client, create_user):
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    Auth(client).login(host.email)
    path = new_link(client, room_id)
    Auth(client).logout()

    page = client.get(path).get_data(as_text=True)
    assert "You are invited to join Sahel prosecutors as participant." in page
    register_url = re.search(r'href="(/register\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    response = post_form(
        client,
        register_url,
        REGISTRATION | {"email": "awa@example.org"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    confirmation = link_in(outbox(app, "awa@example.org")[-1])
    login_url = client.get(confirmation).headers["Location"]
    response = post_form(
        client,
        login_url,
        {"email": "awa@example.org", "password": REGISTRATION["password"]},
    )
    assert response.headers["Location"] == f"/irooms/{room_id}"  # joined at the confirmation
    assert client.get(path).headers["Location"] == f"/irooms/{room_id}"
    with app.app_context():
        joined = db.session.scalar(
            select(func.count(Membership.id)).where(Membership.room_id == room_id)
        )
    assert joined == 2


def test_expired_revoked_and_used_up_links_say_so(app, client, login_as, create_user):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    expired, revoked, used = (new_link(client, room_id) for _ in range(3))
    with app.app_context():
        db.session.execute(
            update(Invitation)
            .where(Invitation.token_hash == token_hash(expired.rsplit("/", 1)[1]))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        revoked_id = db.session.scalar(
            select(Invitation.id).where(
                Invitation.token_hash == token_hash(revoked.rsplit("/", 1)[1])
            )
        )
        db.session.commit()
    post_form(
        client,
        f"/irooms/{room_id}/invitations/{revoked_id}/revoke",
        {},
        form_url=f"/irooms/{room_id}/invitations",
    )
    as_user(app, create_user()).get(used)

    browser = as_user(app, create_user())
    expectations = {
        expired: "This invitation link expired on",
        revoked: "have withdrawn this invitation link",
        used: "has already been used as many times as it allowed",
        "/irooms/join/not-a-token": "This invitation link is not valid.",
    }
    for path, message in expectations.items():
        response = browser.get(path)
        assert response.status_code in {404, 410}
        assert message in response.get_data(as_text=True)
    assert "room_invitation_revoked" in audit_actions(app)


def test_a_member_opening_a_link_keeps_it_for_others(app, client, login_as, create_user):
    host = login_as("trainer")
    member = create_user()
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (member, "participant")])
    path = new_link(client, room_id, role="host")
    response = as_user(app, member).get(path, follow_redirects=False)
    assert response.headers["Location"] == f"/irooms/{room_id}"
    assert membership(app, room_id, member).role == "participant"  # not promoted by a link
    with app.app_context():
        assert db.session.scalar(select(Invitation.uses)) == 0


def test_a_one_use_link_opened_by_two_people_at_once_admits_one(app, client, login_as, create_user):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    path = new_link(client, room_id)
    first, second = create_user(), create_user()
    browsers = [as_user(app, first), as_user(app, second)]
    barrier = threading.Barrier(2)
    statuses = []

    def open_link(browser):
        barrier.wait()
        statuses.append(browser.get(path).status_code)

    threads = [threading.Thread(target=open_link, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 410]
    with app.app_context():
        assert db.session.scalar(select(func.count(Membership.id))) == 2
        assert db.session.scalar(select(Invitation.uses)) == 1


def test_one_person_opening_a_link_in_two_tabs_joins_once_and_uses_it_once(
    app, client, login_as, create_user
):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    path = new_link(client, room_id, max_uses=5)
    guest = create_user()

    statuses = in_parallel(
        app, guest.email, 4, lambda browser: lambda: browser.get(path).status_code
    )
    assert statuses == [302] * 4
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Membership.id)).where(Membership.user_id == guest.id)
            )
            == 1
        )
        assert db.session.scalar(select(Invitation.uses)) == 1


def test_a_link_cannot_be_forged_for_another_room_or_role(app, client, login_as, create_user):
    host = login_as("trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    other_room = add_room(app, "Central Asia", [(create_user(role="trainer"), "host")])
    page = post_form(
        client,
        f"/irooms/{room_id}/invitations",
        {"role": "administrator", "days": 14, "max_uses": 1},
    ).get_data(as_text=True)
    assert "Not a valid choice" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Invitation.id))) == 0
    post_form(
        client,
        f"/irooms/{room_id}/invitations",
        {"role": "participant", "days": 14, "max_uses": 1, "room_id": other_room},
    )
    with app.app_context():
        assert db.session.scalar(select(Invitation.room_id)) == room_id
