"""Administrators manage accounts and roles; nobody else can."""

from sqlalchemy import select

from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from tests.helpers import PASSWORD, post_form


def test_administrators_find_accounts_and_change_roles(app, client, login_as, create_user):
    admin = login_as("administrator")
    create_user("amina.yusuf@example.org", name="Amina Yusuf", country="NG")
    target = create_user("ivan.petrov@example.org", name="Ivan Petrov", country="KZ")
    page = client.get("/admin/users?q=petrov").get_data(as_text=True)
    assert "Ivan Petrov" in page
    assert "Amina Yusuf" not in page
    assert "Kazakhstan" in page

    response = post_form(
        client,
        f"/admin/users/{target.id}/role",
        {"role": "trainer"},
        form_url=f"/admin/users/{target.id}",
    )
    assert response.status_code == 302
    assert "The role of Ivan Petrov is now Trainer." in client.get(
        f"/admin/users/{target.id}"
    ).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, target.id).role == "trainer"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "role.change"))
        assert (event.user_id, event.actor_id) == (target.id, admin.id)
        assert event.details == {"previous": "practitioner", "role": "trainer"}
    assert "role.change" in client.get("/admin/audit").get_data(as_text=True)


def test_an_unknown_role_changes_nothing(app, client, login_as, create_user):
    login_as("administrator")
    target = create_user()
    post_form(
        client,
        f"/admin/users/{target.id}/role",
        {"role": "superuser"},
        form_url=f"/admin/users/{target.id}",
    )
    with app.app_context():
        assert db.session.get(User, target.id).role == "practitioner"


def test_deactivated_accounts_can_be_reactivated(app, client, login_as, create_user):
    login_as("administrator")
    target = create_user()
    url = f"/admin/users/{target.id}"
    post_form(client, f"{url}/deactivate", {}, form_url=url)
    assert "Deactivated" in client.get(url).get_data(as_text=True)
    post_form(client, f"{url}/reactivate", {}, form_url=url)
    other = app.test_client()
    assert (
        post_form(other, "/login", {"email": target.email, "password": PASSWORD}).status_code == 302
    )
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:-1] == ["account.deactivate", "account.reactivate"]


def test_administrators_cannot_lock_themselves_out(app, client, login_as):
    admin = login_as("administrator")
    url = f"/admin/users/{admin.id}"
    post_form(client, f"{url}/deactivate", {}, form_url=url)
    post_form(client, f"{url}/role", {"role": "practitioner"}, form_url=url)
    with app.app_context():
        me = db.session.get(User, admin.id)
        assert (me.active, me.role) == (True, "administrator")


def test_practitioners_and_trainers_get_403_from_administration(
    app, client, auth, login_as, create_user
):
    target = create_user()
    for role in ("practitioner", "trainer"):
        login_as(role)
        assert client.get("/admin/users").status_code == 403
        assert client.get("/admin/audit").status_code == 403
        response = post_form(
            client, f"/admin/users/{target.id}/role", {"role": "administrator"}, form_url="/account"
        )
        assert response.status_code == 403
        auth.logout()
    with app.app_context():
        assert db.session.get(User, target.id).role == "practitioner"


def test_extra_fields_cannot_raise_a_role(app, client, login_as):
    user = login_as()
    post_form(
        client,
        "/account",
        {
            "name": "Still Me",
            "country": "KE",
            "agency_type": "police",
            "gender": "man",
            "language": "en",
            "role": "administrator",
            "is_admin": "1",
            "active": "0",
        },
    )
    with app.app_context():
        me = db.session.get(User, user.id)
        assert (me.name, me.role, me.active) == ("Still Me", "practitioner", True)


def test_audit_log_pages_by_id(app, client, login_as, create_user):
    login_as("administrator")
    with app.app_context():
        db.session.add_all(AuditEvent(action=f"test.event{n}") for n in range(30))
        db.session.commit()
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "test.event29" in first
    assert "Older events" in first
    before = int(first.split("/admin/audit?before=")[1].split('"')[0])
    older = client.get(f"/admin/audit?before={before}").get_data(as_text=True)
    assert "<code>test.event0</code>" in older
