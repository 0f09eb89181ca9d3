"""A person registers, confirms the address, logs out and logs back in, in Chromium."""

from tests.helpers import link_in, outbox

PASSPHRASE = "a long phrase about Lake Chad"


def test_register_confirm_logout_and_login_again(app, live_server, page):
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Full name").fill("Fatima Abubakar")
    page.get_by_label("E-mail address").fill("fatima.abubakar@example.org")
    page.get_by_label("Password").fill(PASSPHRASE)
    page.get_by_label("Country where you work").select_option("NG")
    page.get_by_label("Organisation").fill("Nigeria Police Force, Counter-Terrorism Unit")
    page.get_by_label("Type of agency").select_option("police")
    page.get_by_label("Gender").select_option("woman")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()

    (message,) = outbox(app, "fatima.abubakar@example.org")
    page.goto(live_server + link_in(message))
    page.get_by_text("Your e-mail address is confirmed").wait_for()

    page.get_by_label("E-mail address").fill("fatima.abubakar@example.org")
    page.get_by_label("Password").fill(PASSPHRASE)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome, Fatima Abubakar").wait_for()

    page.get_by_role("button", name="Fatima Abubakar").click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You have logged out.").wait_for()

    page.get_by_label("E-mail address").fill("fatima.abubakar@example.org")
    page.get_by_label("Password").fill(PASSPHRASE)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome, Fatima Abubakar").wait_for()
    assert page.console_errors == []


def test_wrong_password_shows_a_clear_message(live_server, page, create_user):
    user = create_user()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill("this is not the password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").get_by_text(
        "The e-mail address or the password is not right."
    ).wait_for()
    assert page.url.endswith("/login")
