"""A person registers, confirms the address, logs out and logs back in, in Chromium."""

from playwright.sync_api import expect

from tests.browser.test_modules_browser import log_out
from tests.helpers import PASSWORD, link_in, outbox

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

    log_out(page, "Fatima Abubakar")

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


def test_registration_starts_in_the_browsers_time_zone_and_pages_follow_the_profile(
    app, live_server, browser, create_user
):
    from datetime import timedelta

    from tests.irooms.test_rooms import add_room
    from tests.irooms.test_sessions import add_session

    context = browser.new_context(timezone_id="Africa/Nairobi", locale="en-GB")
    try:
        tab = context.new_page()
        tab.goto(f"{live_server}/register")
        assert tab.get_by_label("Time zone").input_value() == "Africa/Nairobi"

        # Someone whose profile says Paris, reading in a browser set to Nairobi: Paris it is.
        reader = create_user("lea@example.org", name="Léa Martin", time_zone="Europe/Paris")
        room_id = add_room(app, "Procureurs du Sahel", [(reader, "participant")])
        session_id = add_session(app, room_id, starts_in=timedelta(days=2))
        tab.goto(f"{live_server}/login")
        tab.get_by_label("E-mail address").fill("lea@example.org")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Log in").click()
        tab.get_by_role("heading", name="Welcome, Léa Martin").wait_for()
        tab.goto(f"{live_server}/irooms/{room_id}/sessions/{session_id}")
        start = tab.locator("time[data-local-time]").first
        expect(start).to_have_attribute("data-local-done", "")
        text = start.inner_text()
        assert "GMT+1" in text or "GMT+2" in text or "CET" in text or "CEST" in text, text
        assert "GMT+3" not in text and "EAT" not in text, text
    finally:
        context.close()
