"""Invitations that survive the real world: a link registered through in one browser and
confirmed in another, invitations e-mailed to a named address, and lists of people pasted or
uploaded as CSV, previewed before anything is sent and sent once however often they are sent."""

import io
import re
from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import func, select, update

from irooms.members import token_hash
from irooms.models import HeldInvitation, Invitation, Membership
from learnplatform.audit import AuditEvent, utcnow
from learnplatform.extensions import db
from tests.helpers import (
    CSRF_PATTERN,
    PASSWORD,
    Auth,
    csrf_token,
    in_parallel,
    link_in,
    outbox,
    post_form,
)
from tests.irooms.test_members import membership, new_link
from tests.irooms.test_rooms import add_room
from tests.learnplatform.test_accounts import REGISTRATION

ROOM = "Sahel prosecutors"


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def uses_of(app, path: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Invitation.uses).where(
                Invitation.token_hash == token_hash(path.rsplit("/", 1)[1])
            )
        )


def a_room_with_a_link(app, create_user, **link):
    """A room and an invitation link its host made: the host's browser, the room, the link."""
    host = create_user(role="trainer", name="Moussa Traoré")
    room_id = add_room(app, ROOM, [(host, "host")])
    browser = app.test_client()
    Auth(browser).login(host.email)
    return browser, room_id, new_link(browser, room_id, **link)


def register_through(browser, path: str, email: str):
    """Open an invitation link as a visitor and create an account from its page."""
    page = browser.get(path).get_data(as_text=True)
    register_url = re.search(r'href="(/register\?next=[^"]+)"', page).group(1)
    response = post_form(
        browser, register_url.replace("&amp;", "&"), REGISTRATION | {"email": email}
    )
    assert response.headers["Location"] == "/register/check-email"


def confirmation_link(app, email: str) -> str:
    return link_in(outbox(app, email)[-1])


def confirm_and_log_in(app, browser, email: str):
    """Open the confirmation link of ``email``, then log in on the page it leads to: the page
    after the confirmation (with what it says), and the answer to the login."""
    login_url = browser.get(confirmation_link(app, email)).headers["Location"]
    page = browser.get(login_url).get_data(as_text=True)
    response = post_form(browser, login_url, {"email": email, "password": REGISTRATION["password"]})
    return page, response


def member_by_email(app, room_id: int, email: str) -> Membership | None:
    with app.app_context():
        return db.session.scalar(
            select(Membership).where(
                Membership.room_id == room_id, Membership.user.has(email=email)
            )
        )


# A link, registered through in one browser, confirmed in another.
def test_a_visitor_who_confirms_on_another_device_is_a_member(app, create_user):
    _host, room_id, path = a_room_with_a_link(app, create_user, max_uses=2)
    laptop, phone = app.test_client(), app.test_client()
    register_through(laptop, path, "awa@example.org")
    assert count(app, HeldInvitation) == 1

    page, logged_in = confirm_and_log_in(app, phone, "awa@example.org")
    assert "Your e-mail address is confirmed." in page
    assert f"You are now a member of {ROOM}." in page
    assert logged_in.headers["Location"] == f"/irooms/{room_id}"  # lands in the room
    assert ROOM in phone.get(f"/irooms/{room_id}").get_data(as_text=True)
    assert "not a member of any iRoom yet" not in phone.get("/irooms/").get_data(as_text=True)

    # The first browser, still holding the link, logs in later: nothing is counted twice.
    Auth(laptop).login("awa@example.org", REGISTRATION["password"])
    assert laptop.get(path).headers["Location"] == f"/irooms/{room_id}"
    assert uses_of(app, path) == 1
    assert count(app, Membership, Membership.room_id == room_id) == 2
    assert count(app, HeldInvitation) == 0


def test_a_visitor_with_an_account_logs_in_through_the_link_and_joins(app, create_user):
    _host, room_id, path = a_room_with_a_link(app, create_user, role="expert")
    guest = create_user()
    browser = app.test_client()
    page = browser.get(path).get_data(as_text=True)
    login_url = re.search(r'href="(/login\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    response = post_form(browser, login_url, {"email": guest.email, "password": PASSWORD})
    assert response.headers["Location"] == path
    assert browser.get(path).headers["Location"] == f"/irooms/{room_id}"
    assert membership(app, room_id, guest).role == "expert"


def test_the_limits_of_a_link_hold_when_it_is_used_at_confirmation(app, create_user):
    _host, room_id, path = a_room_with_a_link(app, create_user, max_uses=1)
    other_host, other_room, revoked = a_room_with_a_link(app, create_user)
    visitor = app.test_client()
    register_through(visitor, path, "awa@example.org")
    other_visitor = app.test_client()
    register_through(other_visitor, revoked, "ines@example.org")

    # Someone else uses the one-use link first; the other room's hosts revoke theirs.
    quick = app.test_client()
    Auth(quick).login(create_user().email)
    assert quick.get(path).headers["Location"] == f"/irooms/{room_id}"
    invitations = f"/irooms/{other_room}/invitations"
    revoke = re.search(
        r'action="([^"]+/revoke)"', other_host.get(invitations).get_data(as_text=True)
    )
    post_form(other_host, revoke.group(1), {}, form_url=invitations)

    for email, room in (("awa@example.org", room_id), ("ines@example.org", other_room)):
        page, logged_in = confirm_and_log_in(app, app.test_client(), email)
        assert f"Your invitation to {ROOM} can no longer be used" in page
        assert logged_in.headers["Location"] == "/"
        assert member_by_email(app, room, email) is None
    assert uses_of(app, path) == 1
    assert uses_of(app, revoked) == 0


# An invitation e-mailed to a named address.
def invite_by_email(client, room_id, **fields):
    data = {"name": "Awa Diallo", "email": "Awa.Diallo@Example.org", "role": "expert", "days": 14}
    return post_form(
        client,
        f"/irooms/{room_id}/invitations/email",
        data | fields,
        form_url=f"/irooms/{room_id}/invitations",
        follow_redirects=True,
    )


def test_an_invitation_by_email_goes_in_the_rooms_language_and_is_claimed_at_confirmation(
    app, client, login_as
):
    host = login_as("trainer", name="Moussa Traoré")
    room_id = add_room(app, ROOM, [(host, "host")])  # a room working in French
    page = invite_by_email(client, room_id).get_data(as_text=True)
    assert "The invitation is on its way to awa.diallo@example.org." in page
    assert "Awa Diallo &lt;awa.diallo@example.org&gt;" in page  # listed with the links

    (message,) = outbox(app, "awa.diallo@example.org")
    assert message.subject == f"Invitation à rejoindre {ROOM}"  # the room's language
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert (invitation.email, invitation.name, invitation.max_uses) == (
            "awa.diallo@example.org",
            "Awa Diallo",
            1,
        )
        day = format_date(invitation.expires_at.date(), "long", locale="fr")
    assert "Bonjour Awa Diallo," in message.body and "Moussa Traoré vous invite" in message.body
    assert day in message.body  # the room's language: "16 décembre 2026"
    assert link_in(message).startswith("/irooms/join/") and 'lang="fr"' in message.html
    assert link_in(message) in message.html

    # She registers without the link, on her own, with the address written otherwise.
    visitor = app.test_client()
    post_form(visitor, "/register", REGISTRATION | {"email": "AWA.DIALLO@example.org"})
    page, logged_in = confirm_and_log_in(app, visitor, "awa.diallo@example.org")
    assert f"You are now a member of {ROOM}." in page
    assert logged_in.headers["Location"] == f"/irooms/{room_id}"
    assert member_by_email(app, room_id, "awa.diallo@example.org").role == "expert"
    with app.app_context():
        assert db.session.scalar(select(Invitation.uses)) == 1
    # Opening the e-mail's link afterwards leads into the room.
    assert visitor.get(link_in(message)).headers["Location"] == f"/irooms/{room_id}"


def test_an_invitation_by_email_belongs_to_its_address(app, client, login_as, create_user):
    host = login_as("trainer")
    room_id = add_room(app, ROOM, [(host, "host")])
    invitee = create_user(email="awa.diallo@example.org")
    someone = create_user(email="intruder@example.org")
    invite_by_email(client, room_id)
    path = link_in(outbox(app, "awa.diallo@example.org")[-1])

    page = app.test_client().get(path).get_data(as_text=True)
    assert "The invitation is for a•••@example.org alone." in page

    browser = app.test_client()
    Auth(browser).login(someone.email)
    refused = browser.get(path)
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "belongs to the person it was sent to, at a•••@example.org" in text
    assert "awa.diallo@example.org" not in text
    assert membership(app, room_id, someone) is None
    with app.app_context():
        assert db.session.scalar(select(Invitation.uses)) == 0
        assert "room_invitation_refused" in db.session.scalars(select(AuditEvent.action)).all()

    browser = app.test_client()
    Auth(browser).login(invitee.email)
    assert browser.get(path).headers["Location"] == f"/irooms/{room_id}"
    assert membership(app, room_id, invitee).role == "expert"


def test_registering_through_an_invitation_by_email_with_another_address_joins_nothing(
    app, client, login_as
):
    host = login_as("trainer")
    room_id = add_room(app, ROOM, [(host, "host")])
    invite_by_email(client, room_id)
    path = link_in(outbox(app, "awa.diallo@example.org")[-1])
    visitor = app.test_client()
    register_through(visitor, path, "me@example.org")
    page, logged_in = confirm_and_log_in(app, visitor, "me@example.org")
    assert ROOM not in page
    # This browser still remembers the link, which says whom it belongs to.
    assert logged_in.headers["Location"] == path
    assert visitor.get(path).status_code == 403
    assert member_by_email(app, room_id, "me@example.org") is None
    assert count(app, Invitation, Invitation.uses == 0) == 1


def test_an_invitation_by_email_is_sent_once_while_it_waits(app, client, login_as):
    host = login_as("trainer")
    room_id = add_room(app, ROOM, [(host, "host")])
    invite_by_email(client, room_id)
    page = invite_by_email(client, room_id, email="awa.diallo@example.org").get_data(as_text=True)
    assert "An invitation to awa.diallo@example.org is already waiting for an answer." in page
    assert len(outbox(app, "awa.diallo@example.org")) == 1
    page = invite_by_email(client, room_id, email=host.email).get_data(as_text=True)
    assert f"{host.email} is already a member of the room." in page

    with app.app_context():  # unanswered, it expires: a new one can be sent
        db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    invite_by_email(client, room_id)
    assert len(outbox(app, "awa.diallo@example.org")) == 2
    assert count(app, Invitation, Invitation.revoked_at.is_(None)) == 1


# Lists.
def check_list(client, room_id, addresses="", *, csv=None, role="participant", days=14):
    """Fill in "Invite many at once" and press "Check the list": the preview."""
    data = {"addresses": addresses, "role": role, "days": days}
    if csv is not None:
        data["file"] = (io.BytesIO(csv), "people.csv")
    token = csrf_token(client, f"/irooms/{room_id}/invitations")
    return client.post(
        f"/irooms/{room_id}/invitations/list",
        data={"csrf_token": token, **data},
        content_type="multipart/form-data",
    )


def send_button(preview) -> dict:
    """The fields the preview's button sends."""
    page = preview.get_data(as_text=True)
    checked = re.search(r'name="checked" type="hidden" value="([^"]+)"', page)
    assert checked, page
    return {"csrf_token": CSRF_PATTERN.search(page).group(1), "checked": checked.group(1)}


def a_room_and_people(app, create_user, login_as):
    """A room with its host, logged in, and a member; and someone with an account outside it."""
    host = login_as("trainer", name="Moussa Traoré")
    member = create_user(email="member@example.org")
    known = create_user(email="known@example.org", name="Leila Haddad")
    room_id = add_room(app, ROOM, [(host, "host"), (member, "participant")])
    return room_id, host, known


PASTED = """member@example.org
Leila Haddad <KNOWN@example.org>

Ines Ben Salah, ines@example.org
not an address
ines@example.org
"""


def test_a_list_is_previewed_with_its_errors_and_nothing_is_sent(
    app, client, login_as, create_user
):
    room_id, _host, _known = a_room_and_people(app, create_user, login_as)
    preview = check_list(client, room_id, PASTED, role="expert")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    for outcome in (
        "Already a member",
        "Will be added (has an account)",
        "Will be invited by e-mail",
        "Not a valid e-mail address",
        "Already in the list",
    ):
        assert outcome in page, outcome
    assert "2 rows have errors: they are left out." in page
    assert "Nothing has been sent yet." in page
    assert outbox(app) == []
    assert count(app, Invitation) == 0
    assert count(app, Membership) == 2


def test_a_list_sent_twice_adds_and_invites_once(app, client, login_as, create_user):
    room_id, _host, known = a_room_and_people(app, create_user, login_as)
    button = send_button(check_list(client, room_id, PASTED, role="expert"))
    url = f"/irooms/{room_id}/invitations/list/send"
    first = client.post(url, data=button, follow_redirects=True).get_data(as_text=True)
    assert "1 person with an account is now a member of the room." in first
    assert "1 invitation has been sent by e-mail." in first
    second = client.post(url, data=button, follow_redirects=True).get_data(as_text=True)
    assert "3 people were already members or invited: nothing changed for them." in second
    again = check_list(client, room_id, PASTED).get_data(as_text=True)
    assert "Already invited, no answer yet" in again

    assert membership(app, room_id, known).role == "expert"
    assert count(app, Membership) == 3
    assert count(app, Invitation, Invitation.email == "ines@example.org") == 1
    (told,) = outbox(app, "known@example.org")
    assert "Moussa Traoré added you to Sahel prosecutors" in told.body
    (invited,) = outbox(app, "ines@example.org")
    assert "Bonjour Ines Ben Salah," in invited.body  # the room works in French
    assert outbox(app, "member@example.org") == []
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("room_invitation_list_sent") == 2
    assert {"room_member_added", "room_invitation_created"} <= set(actions)


def test_a_list_sent_twice_at_once_adds_and_invites_once(app, client, login_as, create_user):
    room_id, host, known = a_room_and_people(app, create_user, login_as)
    url = f"/irooms/{room_id}/invitations/list/send"

    def prepare(browser):
        button = send_button(check_list(browser, room_id, PASTED))
        return lambda: browser.post(url, data=button).status_code

    assert in_parallel(app, host.email, 2, prepare) == [302, 302]
    assert count(app, Membership, Membership.user_id == known.id) == 1
    assert count(app, Invitation) == 1
    assert len(outbox(app, "known@example.org")) == 1
    assert len(outbox(app, "ines@example.org")) == 1


def test_a_csv_file_with_roles_formulas_and_markup_is_shown_as_text(
    app, client, login_as, create_user
):
    room_id, _host, known = a_room_and_people(app, create_user, login_as)
    create_user(email="gone@example.org", active=False)
    csv = (
        "\ufeffName;E-mail;Role\r\n"
        "\"=cmd|' /C calc'!A0\";formula@example.org;expert\r\n"
        "<script>alert(1)</script>;markup@example.org;\r\n"
        "Leila Haddad;known@example.org;HOST\r\n"
        "Someone;someone@example.org;administrator\r\n"
        "Gone;gone@example.org;participant\r\n"
        ";;\r\n"
    ).encode()
    preview = check_list(client, room_id, csv=csv)
    page = preview.get_data(as_text=True)
    assert "=cmd|&#39; /C calc&#39;!A0" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Unknown role: use host, expert or participant" in page
    assert "The account of this address is deactivated" in page
    assert "2 rows have errors" in page

    client.post(f"/irooms/{room_id}/invitations/list/send", data=send_button(preview))
    assert membership(app, room_id, known).role == "host"
    with app.app_context():
        roles = dict(db.session.execute(select(Invitation.email, Invitation.role)).all())
    assert roles == {"formula@example.org": "expert", "markup@example.org": "participant"}
    (message,) = outbox(app, "markup@example.org")
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert outbox(app, "someone@example.org") == outbox(app, "gone@example.org") == []


def test_lists_too_long_too_large_or_unreadable_are_refused(app, client, login_as, create_user):
    room_id, _host, _known = a_room_and_people(app, create_user, login_as)
    app.config["INVITATION_LIST_MAX_BYTES"] = 4096
    refusals = {
        "A list holds at most 500 people": check_list(
            client, room_id, "\n".join(f"p{n}@example.org" for n in range(501))
        ),
        "The file is larger than 4 KB.": check_list(
            client, room_id, csv=b"email\n" + b"a@example.org\n" * 400
        ),
        "The file is not a CSV file in UTF-8": check_list(
            client, room_id, csv="email\nrenée@example.org\n".encode("latin-1")
        ),
        "The first line of the file must name its columns": check_list(
            client, room_id, csv=b"someone@example.org\n"
        ),
        "Paste at least one address": check_list(client, room_id, "  \n"),
    }
    for message, response in refusals.items():
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert message in page, message
        assert 'name="checked"' not in page
    oversized = check_list(client, room_id, csv=b"email\n" + b"a@example.org\n" * 20_000)
    assert oversized.status_code == 413
    assert outbox(app) == [] and count(app, Invitation) == 0


def test_a_checked_list_cannot_be_changed_or_sent_to_another_room(
    app, client, login_as, create_user
):
    room_id, host, _known = a_room_and_people(app, create_user, login_as)
    other_room = add_room(app, "Central Asia", [(host, "host")])
    button = send_button(check_list(client, room_id, "ines@example.org"))
    for url, data in (
        (f"/irooms/{other_room}/invitations/list/send", button),
        (f"/irooms/{room_id}/invitations/list/send", button | {"checked": button["checked"][:-2]}),
    ):
        page = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
        assert "This list is too old to be sent: check it again." in page
    assert (
        client.post(
            f"/irooms/{room_id}/invitations/list/send", data={"checked": button["checked"]}
        ).status_code
        == 400
    )  # no CSRF token
    assert outbox(app) == [] and count(app, Invitation) == 0


def test_only_hosts_invite_by_email_or_by_list(app, client, login_as, create_user):
    me = login_as()
    host = create_user(role="trainer")
    room_id = add_room(app, ROOM, [(host, "host"), (me, "expert")])
    outside = add_room(app, "Central Asia", [(host, "host")])
    token = csrf_token(client, "/account")
    for room, status in ((room_id, 403), (outside, 404)):
        for path in ("email", "list", "list/send"):
            response = client.post(
                f"/irooms/{room}/invitations/{path}",
                data={"csrf_token": token, "email": "x@example.org", "addresses": "x@example.org"},
            )
            assert response.status_code == status, (room, path)
    assert outbox(app) == [] and count(app, Invitation) == 0
