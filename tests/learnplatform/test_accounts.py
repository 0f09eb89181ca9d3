"""Registration, confirmation, login, logout, profile and passwords, through the pages."""

from sqlalchemy import select

from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from tests.helpers import PASSWORD, link_in, outbox, post_form

REGISTRATION = {
    "name": "Aïcha Maïga",
    "email": "Aicha.Maiga@Example.org",
    "password": "une phrase de passe pour Bamako",
    "country": "ML",
    "organisation": "Pôle judiciaire spécialisé, Bamako",
    "agency_type": "prosecution",
    "gender": "woman",
    "language": "fr",
}


def register(client, **changes):
    """Fill in and submit the registration form."""
    return post_form(client, "/register", {**REGISTRATION, **changes})


def audit_actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_registration_confirmation_login_and_logout(app, client, auth):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/check-email"
    assert "Check your e-mail" in client.get("/register/check-email").get_data(as_text=True)

    (message,) = outbox(app, "aicha.maiga@example.org")
    assert message.subject == "Confirmez votre adresse électronique"  # she chose French
    # Not confirmed yet: the right password does not open the account, and a new link is sent.
    refused = auth.login("aicha.maiga@example.org", REGISTRATION["password"])
    assert refused.status_code == 200
    assert "Confirm your e-mail address first" in refused.get_data(as_text=True)

    confirmed = client.get(link_in(message))
    assert confirmed.status_code == 302
    again = client.get(link_in(message))
    assert again.status_code == 410  # a link works once
    # Opened again, it leads to logging in, not to a password reset nobody asked for.
    assert "Ask for a new password link" not in again.get_data(as_text=True)
    assert "If you have confirmed your address already, log in." in again.get_data(as_text=True)

    response = auth.login("AICHA.MAIGA@example.org", REGISTRATION["password"])
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Bienvenue, Aïcha Maïga" in page  # the interface in the language she chose
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "aicha.maiga@example.org"))
        assert (user.country, user.agency_type, user.gender, user.language, user.role) == (
            "ML",
            "prosecution",
            "woman",
            "fr",
            "practitioner",
        )

    assert auth.logout().status_code == 302
    assert client.get("/courses/my-learning").status_code == 302  # back to the login page
    assert auth.login("aicha.maiga@example.org", REGISTRATION["password"]).status_code == 302
    actions = audit_actions(app)
    assert actions.count("login.success") == 2
    assert {"account.register", "login.failure", "account.confirm_email", "logout"} <= set(actions)


def test_registration_shows_what_is_wrong_and_creates_nothing(app, client):
    response = register(client, email="not an address", password="short", country="")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Use at least 12 characters" in page
    assert 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 0
    assert outbox(app) == []


def test_profile_can_be_edited(client, login_as):
    login_as()
    response = post_form(
        client,
        "/account",
        {
            "name": "Dilnoza Karimova",
            "country": "UZ",
            "organisation": "General Prosecutor's Office",
            "agency_type": "prosecution",
            "gender": "undisclosed",
            "language": "ru",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Your profile has been saved." in page
    assert "Dilnoza Karimova" in page


def test_password_change_needs_the_current_password(app, client, login_as, auth):
    user = login_as()
    wrong = post_form(
        client,
        "/account/password",
        {"current_password": "not my password at all", "password": "a brand new long passphrase"},
    )
    assert "This is not your current password." in wrong.get_data(as_text=True)
    done = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "a brand new long passphrase"},
    )
    assert done.status_code == 302
    assert client.get("/account").status_code == 200  # this browser stays logged in
    auth.logout()
    assert auth.login(user.email, PASSWORD).status_code == 200
    assert auth.login(user.email, "a brand new long passphrase").status_code == 302
    assert "password.change" in audit_actions(app)


def test_password_reset_through_the_emailed_link(app, client, create_user, auth):
    user = create_user("reset.me@example.org")
    response = post_form(client, "/password/reset", {"email": "Reset.Me@example.org"})
    assert response.headers["Location"] == "/password/reset/sent"
    (message,) = outbox(app, user.email)
    link = link_in(message)
    assert "choose a new password" in client.get(link).get_data(as_text=True).lower()
    done = post_form(client, link, {"password": "ein neues langes Passwort"})
    assert done.headers["Location"] == "/login"
    assert client.get(link).status_code == 410
    assert auth.login(user.email, PASSWORD).status_code == 200
    assert auth.login(user.email, "ein neues langes Passwort").status_code == 302
    assert "password.reset" in audit_actions(app)


def test_create_admin_command(app, runner, auth):
    result = runner.invoke(
        args=["create-admin", "--email", "Head@Example.org", "--name", "Head of Office"],
        input="the office administrator passphrase\nthe office administrator passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "head@example.org is an administrator." in result.output
    assert auth.login("head@example.org", "the office administrator passphrase").status_code == 302
    assert auth.client.get("/admin/users").status_code == 200


def test_create_admin_refuses_a_common_password(runner):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--password",
            "password1234",
        ],
    )
    assert result.exit_code != 0
    assert "commonly used" in result.output


def test_outbox_command_prints_waiting_mail(client, runner):
    register(client)
    result = runner.invoke(args=["outbox"])
    assert "To: aicha.maiga@example.org" in result.output
    assert "/confirm/" in result.output
