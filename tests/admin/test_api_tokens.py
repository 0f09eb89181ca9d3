"""Personal API tokens: made on the tokens page and shown once, kept only as a hash, one token
per form however often it is sent, revoked for good, and each administrator's own."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from learnplatform.accounts.models import ApiToken, User
from learnplatform.accounts.tokens import create_token, user_for_token
from learnplatform.audit import AuditEvent, utcnow
from learnplatform.extensions import db
from tests.helpers import CSRF_PATTERN, QueryCounter, post_form

FORM_KEY = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')
NEW_TOKEN = re.compile(r'id="new-token" type="text" value="([^"]+)"')


def token_form(client) -> dict:
    """The hidden fields of the token form, as a browser holds them after loading the page."""
    page = client.get("/admin/tokens").get_data(as_text=True)
    return {
        "csrf_token": CSRF_PATTERN.search(page).group(1),
        "form_key": FORM_KEY.search(page).group(1),
    }


def make_token(client, name: str):
    """Fill in the token form and send it; the page that follows."""
    return client.post(
        "/admin/tokens", data={**token_form(client), "name": name}, follow_redirects=True
    )


def shown_token(page: str) -> str | None:
    """The new token a page shows, if any."""
    match = NEW_TOKEN.search(page)
    return match.group(1) if match else None


def tokens_of(app, user) -> list[ApiToken]:
    with app.app_context():
        tokens = db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        ).all()
        db.session.expunge_all()
        return tokens


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return found


def owner_of(app, raw: str) -> int | None:
    """Whom the API would take a request bearing ``raw`` to come from."""
    with app.test_request_context():
        user = user_for_token(raw)
        return user.id if user else None


def test_a_new_token_is_shown_once_and_opens_the_api_as_its_maker(app, client, login_as):
    admin = login_as("administrator")
    page = make_token(client, "Monthly report script").get_data(as_text=True)
    raw = shown_token(page)
    assert raw and raw.startswith("lp_") and len(raw) == 46
    assert "Copy it now: it is shown only this once" in page
    assert "Monthly report script" in page
    assert f"<code>{raw[:8]}…</code>" in page

    again = client.get("/admin/tokens")
    assert shown_token(again.get_data(as_text=True)) is None
    assert raw not in again.get_data(as_text=True)
    assert again.headers["Cache-Control"] == "private, no-store"

    (token,) = tokens_of(app, admin)
    assert (token.name, token.prefix, token.revoked_at) == ("Monthly report script", raw[:8], None)
    assert owner_of(app, raw) == admin.id
    (created,) = events(app, "api_token_created")
    assert (created.user_id, created.actor_id) == (admin.id, admin.id)
    assert created.details == {"name": "Monthly report script", "prefix": raw[:8]}


def test_the_token_is_kept_nowhere_but_in_the_page_that_showed_it(app, client, login_as):
    login_as("administrator")
    raw = shown_token(make_token(client, "Nightly export").get_data(as_text=True))
    secret_part = raw[len("lp_") :]
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                assert secret_part not in repr(tuple(row)), table.name
        details = db.session.scalars(select(AuditEvent.detail)).all()
    assert all(secret_part not in (detail or "") for detail in details)
    # Nor in the session cookie, once the page has shown it.
    cookie = client.get_cookie("session").value
    session = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert secret_part not in repr(session)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name, such as the script that will use it."),
        ("   \u202e  ", "Give the token a name, such as the script that will use it."),
        ("x" * 101, "Use at most 100 characters."),
    ],
)
def test_a_missing_or_long_name_is_refused_and_makes_nothing(app, client, login_as, name, message):
    admin = login_as("administrator")
    response = make_token(client, name)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'aria-invalid="true"' in page
    assert shown_token(page) is None
    assert tokens_of(app, admin) == []
    assert events(app, "api_token_created") == []


def test_names_are_kept_as_plain_text(app, client, login_as):
    admin = login_as("administrator")
    page = make_token(client, "x" * 90 + "\u202e<b>").get_data(as_text=True)
    assert shown_token(page)
    (token,) = tokens_of(app, admin)
    assert token.name == "x" * 90 + "<b>"
    assert "x" * 90 + "&lt;b&gt;" in page


def test_a_form_sent_twice_makes_one_token_and_says_so(app, client, login_as):
    admin = login_as("administrator")
    form = {**token_form(client), "name": "Report script"}
    first = client.post("/admin/tokens", data=form, follow_redirects=True)
    assert shown_token(first.get_data(as_text=True))
    second = client.post("/admin/tokens", data=form, follow_redirects=True)
    page = second.get_data(as_text=True)
    assert "This form was sent twice; the first sending made the token" in page
    assert shown_token(page) is None
    assert len(tokens_of(app, admin)) == 1
    assert len(events(app, "api_token_created")) == 1


def test_a_double_click_sent_at_the_same_moment_makes_one_token(app, client, login_as):
    admin = login_as("administrator")
    form = {**token_form(client), "name": "Report script"}
    cookie = client.get_cookie("session").value
    tabs = []
    for _ in range(3):  # the same browser: the same cookie and the same form
        tab = app.test_client()
        tab.set_cookie("session", cookie)
        tabs.append(tab)
    barrier = threading.Barrier(len(tabs))
    statuses = []

    def click(tab):
        barrier.wait()
        statuses.append(tab.post("/admin/tokens", data=form).status_code)

    threads = [threading.Thread(target=click, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 3
    assert len(tokens_of(app, admin)) == 1
    assert len(events(app, "api_token_created")) == 1


def test_two_forms_make_two_tokens_even_with_one_name(app, client, login_as):
    admin = login_as("administrator")
    first_tab, second_tab = token_form(client), token_form(client)
    for form in (first_tab, second_tab):
        client.post("/admin/tokens", data={**form, "name": "Report script"})
    assert [token.name for token in tokens_of(app, admin)] == ["Report script"] * 2


def test_a_form_without_its_key_makes_nothing(app, client, login_as):
    admin = login_as("administrator")
    page = post_form(client, "/admin/tokens", {"name": "Script"}).get_data(as_text=True)
    assert "Reload the page and try again." in page
    assert tokens_of(app, admin) == []


def test_a_revoked_token_opens_nothing_at_once(app, client, login_as):
    admin = login_as("administrator")
    raw = shown_token(make_token(client, "Old script").get_data(as_text=True))
    kept = shown_token(make_token(client, "New script").get_data(as_text=True))
    old, _ = tokens_of(app, admin)
    url = f"/admin/tokens/{old.id}/revoke"
    done = post_form(client, url, {}, form_url="/admin/tokens", follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "The token “Old script” is revoked." in page
    assert "Revoked" in page
    assert owner_of(app, raw) is None
    assert owner_of(app, kept) == admin.id

    again = post_form(client, url, {}, form_url="/admin/tokens", follow_redirects=True)
    assert "already revoked" in again.get_data(as_text=True)
    (revoked,) = events(app, "api_token_revoked")
    assert (revoked.user_id, revoked.actor_id) == (admin.id, admin.id)
    assert revoked.details == {"name": "Old script", "prefix": raw[:8]}
    assert tokens_of(app, admin)[1].revoked_at is None


def test_revoking_needs_the_form_token(app, client, login_as):
    admin = login_as("administrator")
    make_token(client, "Script")
    (token,) = tokens_of(app, admin)
    assert client.post(f"/admin/tokens/{token.id}/revoke").status_code == 400
    assert client.get(f"/admin/tokens/{token.id}/revoke").status_code == 405
    assert tokens_of(app, admin)[0].revoked_at is None


def test_administrators_see_and_revoke_only_their_own_tokens(
    app, client, auth, login_as, create_user
):
    colleague = create_user(role="administrator")
    with app.test_request_context():
        person = db.session.get(User, colleague.id)
        theirs, raw = create_token(person, "Colleague's script", person)
        db.session.commit()
        their_id = theirs.id
    login_as("administrator")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "Colleague&#39;s script" not in page and "Colleague's script" not in page
    assert "You have no API token yet." in page

    for token_id in (their_id, their_id + 1000):
        response = post_form(
            client, f"/admin/tokens/{token_id}/revoke", {}, form_url="/admin/tokens"
        )
        assert response.status_code == 404
    assert owner_of(app, raw) == colleague.id
    assert events(app, "api_token_revoked") == []


def test_a_token_opens_nothing_once_its_owner_is_no_longer_an_active_administrator(
    app, client, login_as, create_user
):
    login_as("administrator")
    owner = create_user(role="administrator")
    with app.test_request_context():
        person = db.session.get(User, owner.id)
        _, raw = create_token(person, "Script", person)
        db.session.commit()
    assert owner_of(app, raw) == owner.id
    url = f"/admin/users/{owner.id}"
    post_form(client, f"{url}/role", {"role": "trainer"}, form_url=url)
    assert owner_of(app, raw) is None
    post_form(client, f"{url}/role", {"role": "administrator"}, form_url=url)
    assert owner_of(app, raw) == owner.id
    post_form(client, f"{url}/deactivate", {}, form_url=url)
    assert owner_of(app, raw) is None


@pytest.mark.parametrize(
    "raw", ["", "lp_", "lp_unknown", "not a token", "lp_" + "a" * 5000, None, 42]
)
def test_unknown_or_malformed_tokens_open_nothing(app, raw):
    with app.test_request_context():
        assert user_for_token(raw) is None


def test_the_time_of_use_is_written_at_most_once_a_minute(app, create_user):
    owner = create_user(role="administrator")
    with app.test_request_context():
        person = db.session.get(User, owner.id)
        token, raw = create_token(person, "Script", person)
        db.session.commit()
        token_id = token.id
    assert owner_of(app, raw) == owner.id
    with app.app_context():
        first_use = db.session.get(ApiToken, token_id).last_used_at
    assert first_use is not None

    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        assert owner_of(app, raw) == owner.id
    assert counter.count == 1  # one read, no write
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at == first_use
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(last_used_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
    assert owner_of(app, raw) == owner.id
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at > first_use - timedelta(seconds=1)
        assert db.session.scalar(select(func.count(ApiToken.id))) == 1


def test_the_tokens_page_lists_when_each_token_was_last_used(app, client, login_as):
    login_as("administrator")
    raw = shown_token(make_token(client, "Script").get_data(as_text=True))
    assert "Never" in client.get("/admin/tokens").get_data(as_text=True)
    owner_of(app, raw)
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "Never" not in page
    assert utcnow().strftime("%Y-%m-%d") in page


def test_practitioners_and_trainers_get_403_from_the_tokens_page(
    app, client, auth, login_as, create_user
):
    owner = create_user(role="administrator")
    with app.test_request_context():
        person = db.session.get(User, owner.id)
        token, _ = create_token(person, "Script", person)
        db.session.commit()
        token_id = token.id
    for role in ("practitioner", "trainer"):
        login_as(role)
        assert client.get("/admin/tokens").status_code == 403
        created = post_form(
            client, "/admin/tokens", {"name": "Mine", "form_key": "k" * 20}, form_url="/account"
        )
        assert created.status_code == 403
        revoked = post_form(client, f"/admin/tokens/{token_id}/revoke", {}, form_url="/account")
        assert revoked.status_code == 403
        auth.logout()
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id))) == 1
        assert db.session.get(ApiToken, token_id).revoked_at is None
    assert client.get("/admin/tokens").headers["Location"].startswith("/login")
