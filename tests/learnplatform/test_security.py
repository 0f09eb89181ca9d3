"""Items 1 to 13 and 36 of SECURITY.md, attacked through the same doors an attacker uses."""

import logging
import re
import time
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from learnplatform import passwords
from learnplatform.accounts.models import AccountToken, LoginSession
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from tests.helpers import CSRF_PATTERN, PASSWORD, link_in, outbox, post_form


def without_tokens(html: str) -> str:
    return CSRF_PATTERN.sub("", html)


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else ""


# 1. Many wrong passwords for one account: throttled and logged, not locked out for good.
def test_wrong_passwords_for_one_account_are_throttled_then_allowed_again(
    app, client, auth, create_user, caplog
):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 2 seconds"
    user = create_user()
    for _ in range(3):
        assert auth.login(user.email, "a wrong password guess").status_code == 200
    with caplog.at_level(logging.WARNING, logger="learnplatform.security"):
        throttled = auth.login(user.email, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert "login.throttled" in caplog.text
    # Someone else, from the same address, is not held back by this account's limit.
    other = create_user()
    assert auth.login(other.email, PASSWORD).status_code == 302
    auth.logout()
    time.sleep(2.1)
    assert auth.login(user.email, PASSWORD).status_code == 302


# 2. One password against many accounts from one address: throttled by address.
def test_one_address_trying_many_accounts_is_throttled(app, client, auth, create_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "4 per minute"
    for number in range(4):
        assert auth.login(f"someone{number}@example.org", "Summer2026!Summer").status_code == 200
    assert auth.login("someone9@example.org", "Summer2026!Summer").status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    user = create_user()
    assert (
        post_form(elsewhere, "/login", {"email": user.email, "password": PASSWORD}).status_code
        == 302
    )


# 3. Known and unknown addresses look the same at login, registration and password reset.
def test_login_does_not_tell_which_addresses_have_accounts(client, auth, create_user, monkeypatch):
    user = create_user()
    verified = []

    class CountingHasher(PasswordHasher):
        def verify(self, *args):
            verified.append(1)
            return super().verify(*args)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    known = auth.login(user.email, "not the password of anyone")
    unknown = auth.login("nobody@example.org", "not the password of anyone")
    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known.get_data(as_text=True)).replace(user.email, "@") == (
        without_tokens(unknown.get_data(as_text=True)).replace("nobody@example.org", "@")
    )
    # The unknown address costs one Argon2 verification too, so the time is alike.
    assert len(verified) == 2


def test_registration_and_reset_do_not_tell_which_addresses_have_accounts(app, client, create_user):
    user = create_user("taken@example.org")
    form = {
        "name": "Someone",
        "password": "a long enough passphrase here",
        "country": "PE",
        "agency_type": "police",
        "gender": "man",
        "language": "es",
    }
    taken = post_form(client, "/register", {**form, "email": user.email})
    free = post_form(client, "/register", {**form, "email": "free@example.org"})
    assert taken.status_code == free.status_code == 302
    assert taken.headers["Location"] == free.headers["Location"]
    # The owner of the taken address is told by e-mail, not the person at the form.
    (notice,) = outbox(app, user.email)
    assert notice.subject == "Someone tried to register with your address"

    known = post_form(client, "/password/reset", {"email": user.email})
    unknown = post_form(client, "/password/reset", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]


# 4. Password policy: length, common passwords, no composition rules.
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "Use at least 12 characters"),
        ("password1234", "commonly used passwords"),
        ("qwertyuiop123", "commonly used passwords"),
        ("aaaaaaaaaaaaaaaa", "commonly used passwords"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(client, login_as, password, message):
    login_as()
    response = post_form(
        client, "/account/password", {"current_password": PASSWORD, "password": password}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_a_long_passphrase_in_any_script_is_accepted(client, login_as, auth):
    user = login_as()
    passphrase = "Мой пароль — это длинная фраза для الدخول إلى المنصة 2026 ok"
    passphrase = (passphrase + " " * 64)[:64]
    assert len(passphrase) == 64
    response = post_form(
        client, "/account/password", {"current_password": PASSWORD, "password": passphrase}
    )
    assert response.status_code == 302
    auth.logout()
    assert auth.login(user.email, passphrase).status_code == 302


# 5. No truncation: two passwords equal in their first 72 bytes are different passwords.
def test_passwords_are_not_truncated(auth, create_user):
    prefix = "x" * 36 + "é" * 18  # 72 bytes in UTF-8
    assert len(prefix.encode()) == 72
    user = create_user(password=prefix + " the real ending")
    assert auth.login(user.email, prefix + " another ending").status_code == 200
    assert auth.login(user.email, prefix + " the real ending").status_code == 302


# 6. Tokens: single use, expiring, single purpose, random and stored hashed.
def test_reset_tokens_are_single_use_expiring_and_single_purpose(app, client, create_user):
    user = create_user()
    post_form(client, "/password/reset", {"email": user.email})
    link = link_in(outbox(app, user.email)[-1])
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 40
    with app.app_context():
        stored = db.session.scalars(select(AccountToken.token_hash)).all()
    assert token not in stored
    assert post_form(client, link, {"password": "first new passphrase ok"}).status_code == 302
    assert (
        post_form(
            client, link, {"password": "second new passphrase"}, form_url="/login"
        ).status_code
        == 410
    )

    post_form(client, "/password/reset", {"email": user.email})
    expired = link_in(outbox(app, user.email)[-1])
    with app.app_context():
        db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get(expired).status_code == 410


def test_a_confirmation_token_cannot_reset_a_password(app, client):
    post_form(
        client,
        "/register",
        {
            "name": "Karim Benali",
            "email": "karim@example.org",
            "password": "phrase de passe assez longue",
            "country": "TN",
            "agency_type": "judiciary",
            "gender": "man",
            "language": "fr",
        },
    )
    token = link_in(outbox(app, "karim@example.org")[0]).rsplit("/", 1)[1]
    assert client.get(f"/password/reset/{token}").status_code == 410


# 7. Session fixation: what was in the session before login is gone after it.
def test_session_values_from_before_login_are_dropped(client, auth, create_user):
    user = create_user()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = session_cookie(client)
    auth.login(user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
    assert session_cookie(client) != before


# 8. A session cookie captured before logout is refused after it.
def test_a_cookie_captured_before_logout_is_refused_after_it(app, client, login_as, auth):
    login_as()
    captured = session_cookie(client)
    assert client.get("/account").status_code == 200
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", captured)
    response = replay.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# 9. Deactivation and password change end every session of the account.
def test_deactivation_ends_every_session_of_the_account(app, create_user, auth, login_as):
    target = create_user()
    their_browser = app.test_client()
    post_form(their_browser, "/login", {"email": target.email, "password": PASSWORD})
    assert their_browser.get("/account").status_code == 200

    login_as("administrator")
    response = post_form(
        auth.client,
        f"/admin/users/{target.id}/deactivate",
        {},
        form_url=f"/admin/users/{target.id}",
    )
    assert response.status_code == 302
    assert their_browser.get("/account").status_code == 302
    assert (
        post_form(
            their_browser, "/login", {"email": target.email, "password": PASSWORD}
        ).status_code
        == 200
    )
    with app.app_context():
        open_sessions = db.session.scalars(
            select(LoginSession).where(
                LoginSession.user_id == target.id, LoginSession.ended_at.is_(None)
            )
        ).all()
    assert open_sessions == []


def test_password_change_ends_the_other_sessions(app, client, login_as):
    user = login_as()
    other_browser = app.test_client()
    post_form(other_browser, "/login", {"email": user.email, "password": PASSWORD})
    assert other_browser.get("/account").status_code == 200
    before = session_cookie(client)
    post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "a fresh passphrase for me"},
    )
    assert other_browser.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    stale = app.test_client()
    stale.set_cookie("session", before)
    assert stale.get("/account").status_code == 302


# 10. Cookies: HttpOnly, SameSite, Secure behind TLS, idle and absolute expiry.
def test_session_cookie_flags(client, create_user, auth):
    user = create_user()
    response = auth.login(user.email)
    header = next(
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    )
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # plain HTTP on a laptop


def test_session_cookie_is_secure_behind_tls(app, create_user):
    app.config.update(SESSION_COOKIE_SECURE=True)
    user = create_user()
    secure = app.test_client()
    response = post_form(
        secure,
        "/login",
        {"email": user.email, "password": PASSWORD},
        base_url="https://platform.example",
    )
    cookie = SimpleCookie(response.headers["Set-Cookie"])
    assert cookie["session"]["secure"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", timedelta(minutes=121)), ("created_at", timedelta(hours=12, minutes=1))],
)
def test_idle_and_absolute_expiry(app, client, login_as, column, age):
    login_as()
    with app.app_context():
        db.session.execute(update(LoginSession).values({column: utcnow() - age}))
        db.session.commit()
    assert client.get("/account").status_code == 302


# 11. CSRF on every state-changing request, the login form included; no GET changes state.
def test_posts_without_a_valid_csrf_token_are_refused(app, client, create_user, caplog):
    user = create_user()
    with caplog.at_level(logging.WARNING, logger="learnplatform.security"):
        missing = client.post("/login", data={"email": user.email, "password": PASSWORD})
        wrong = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"}
        )
    assert missing.status_code == wrong.status_code == 400
    assert "csrf.failure" in caplog.text
    assert client.get("/account").status_code == 302  # not logged in


def test_logout_needs_a_post_with_a_token(client, login_as):
    login_as()
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_no_get_route_is_one_that_changes_state(app):
    changing = {"accounts.logout", "admin.change_role", "admin.set_active"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in changing:
            assert "GET" not in rule.methods, rule


# 12. Security headers on every page; no inline script anywhere.
@pytest.mark.parametrize(
    "path", ["/", "/login", "/register", "/password/reset", "/courses/", "/irooms/", "/account"]
)
def test_pages_carry_the_security_headers_and_no_inline_script(client, login_as, path):
    if path not in {"/", "/login", "/register", "/password/reset"}:
        login_as()
    response = client.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    for directive in (
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # only behind TLS
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


# 13. A ``next`` parameter never leads off the platform.
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "\t//evil.example",
        "https:evil.example",
    ],
)
def test_next_never_leads_off_the_platform(client, create_user, target):
    user = create_user()
    response = post_form(
        client,
        f"/login?next={target}",
        {"email": user.email, "password": PASSWORD},
        form_url="/login",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_within_the_platform_is_followed(client, create_user):
    user = create_user()
    response = post_form(
        client,
        "/login?next=/irooms/",
        {"email": user.email, "password": PASSWORD},
        form_url="/login",
    )
    assert response.headers["Location"] == "/irooms/"


# 36. Failed logins, refused access and CSRF failures are logged; no forged lines; no traceback.
def test_failed_logins_and_refusals_are_logged_on_one_line(client, login_as, auth, caplog):
    with caplog.at_level(logging.WARNING, logger="learnplatform.security"):
        auth.login(
            "mallory@example.org\n2026-01-01 INFO login.success user=admin", "guess guess guess"
        )
        login_as()
        assert client.get("/admin/users").status_code == 403
    lines = [record.getMessage() for record in caplog.records]
    failure = next(line for line in lines if line.startswith("login.failure"))
    assert "\n" not in failure
    assert "\\n2026-01-01" in failure
    assert "address=" in failure
    refused = next(line for line in lines if line.startswith("access.refused"))
    assert "user_id=" in refused
    assert "/admin/users" in refused


def test_log_lines_are_stamped_in_utc(caplog):
    from learnplatform.audit import UTCFormatter

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "message", None, None)
    record.created = 0.0
    record.msecs = 0
    assert UTCFormatter("%(asctime)s").format(record) == "1970-01-01T00:00:00.000Z"


@pytest.mark.logs_traceback
def test_errors_show_a_plain_page_without_traceback(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail from deep inside")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "Traceback" not in page
    assert "secret detail" not in page
    assert "secret detail from deep inside" in caplog.text  # for the administrators, in the log


@pytest.mark.logs_traceback
def test_a_statement_that_failed_still_leaves_an_error_page(app, client, auth, create_user):
    """A statement that fails (a timeout, a bug) aborts the transaction on PostgreSQL: the error
    page, which reads the person's notifications, starts afresh rather than failing too."""
    from sqlalchemy import text

    @app.get("/failing-statement")
    def failing_statement():
        db.session.execute(text("SELECT * FROM no_such_table"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    user = create_user()
    auth.login(user.email)
    response = client.get("/failing-statement")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
