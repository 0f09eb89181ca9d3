"""The platform's log as an operator reads it on standard error: in production one JSON object a
line, each request's lines under its id (nginx's, or a new one, returned in ``X-Request-ID``),
one access line a request that names the route, never the secret in its address."""

import json
import re
import time
from datetime import datetime

import pytest

from learnplatform import config
from tests.conftest import platform_on_own_database
from tests.helpers import Auth, link_in, outbox, post_form

NGINX_ID = "8f14e45fceea167a5a36dedd4bea2543"  # what nginx's $request_id looks like


@pytest.fixture
def app(migrated_database, tmp_path):
    """The platform logging as in production."""
    with platform_on_own_database(migrated_database, tmp_path, LOG_FORMAT="json") as platform:
        yield platform


def logged(capsys) -> list[dict]:
    """The lines written to standard error since last asked, each one JSON object."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "learnplatform.access"]


def test_a_request_is_one_json_line_under_the_id_nginx_gave(client, capsys):
    capsys.readouterr()
    response = client.get("/healthz?ref=newsletter", headers={"X-Request-ID": NGINX_ID})
    assert response.headers["X-Request-ID"] == NGINX_ID
    (line,) = logged(capsys)
    assert {key: line[key] for key in line if key not in ("time", "message", "duration_ms")} == {
        "level": "INFO",
        "logger": "learnplatform.access",
        "request_id": NGINX_ID,
        "method": "GET",
        "endpoint": "main.health",
        "path": "/healthz",
        "status": 200,
        "user_id": None,
        "address": "127.0.0.1",
    }
    assert line["time"].endswith("Z")
    assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 0
    assert isinstance(line["duration_ms"], float)
    assert "newsletter" not in json.dumps(line)


@pytest.mark.parametrize(
    "given",
    [None, "", "short", "x" * 65, "has spaces in it", "semi;colon-12345", "ünïcode-12345"],
)
def test_a_request_without_a_usable_id_gets_a_new_one(client, capsys, given):
    capsys.readouterr()
    headers = {"X-Request-ID": given} if given is not None else {}
    first = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    second = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    assert [line["request_id"] for line in logged(capsys)] == [first, second]


def test_a_logged_in_persons_requests_carry_their_account(client, login_as, capsys):
    person = login_as()
    capsys.readouterr()
    assert client.get("/account").status_code == 200
    (line,) = access_lines(logged(capsys))
    assert (line["endpoint"], line["status"], line["user_id"]) == (
        "accounts.profile",
        200,
        person.id,
    )


def reset_link(app, client, user) -> tuple[str, str]:
    """The password-reset link e-mailed to ``user``, and the token it carries."""
    post_form(client, "/password/reset", {"email": user.email})
    link = link_in(outbox(app, user.email)[-1])
    return link, link.rsplit("/", 1)[1]


def test_the_reset_token_in_an_address_stays_out_of_the_log(app, client, create_user, capsys):
    link, token = reset_link(app, client, create_user())
    capsys.readouterr()

    assert client.get(link).status_code == 200
    assert client.get(link + "/", headers={"X-Request-ID": NGINX_ID}).status_code == 404
    written = capsys.readouterr().err
    assert token not in written
    lines = [json.loads(line) for line in written.splitlines()]
    assert [(line["path"], line["status"]) for line in access_lines(lines)] == [
        ("/password/reset/<token>", 200),
        (None, 404),  # no route: nginx's line under the same id has the address
    ]


def test_security_events_are_json_lines_with_the_request_id(client, create_user, capsys):
    user = create_user()
    Auth(client).login(user.email, "a wrong password guess", headers={"X-Request-ID": NGINX_ID})
    lines = logged(capsys)
    (failure,) = [line for line in lines if line["logger"] == "learnplatform.security"]
    assert failure["level"] == "WARNING"
    assert failure["message"].startswith("login.failure")
    assert failure["request_id"] == NGINX_ID
    (posted,) = [line for line in access_lines(lines) if line["method"] == "POST"]
    assert posted["request_id"] == NGINX_ID


def test_a_request_refused_for_waiting_too_long_is_logged_under_its_id(client, capsys):
    capsys.readouterr()
    stale = {"X-Request-Start": f"t={time.time() - 600:.3f}", "X-Request-ID": NGINX_ID}
    refused = client.get("/healthz", headers=stale)
    assert (refused.status_code, refused.headers["X-Request-ID"]) == (503, NGINX_ID)
    (line,) = logged(capsys)
    assert (line["logger"], line["request_id"]) == ("learnplatform.queueing", NGINX_ID)
    assert line["message"].startswith("queue.timeout")


def test_the_text_format_reads_on_one_line_with_the_id(migrated_database, tmp_path, capsys):
    with platform_on_own_database(migrated_database, tmp_path, LOG_FORMAT="text") as app:
        capsys.readouterr()
        app.test_client().get("/healthz", headers={"X-Request-ID": NGINX_ID})
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z INFO learnplatform\.access {NGINX_ID} "
        r"GET /healthz 200 [\d.]+ ms user=- address=127\.0\.0\.1",
        line,
    )


def test_production_logs_json_unless_told_otherwise(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a production secret")
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("LEARNPLATFORM_ENV", "production")
    assert config.from_environment(tmp_path)["LOG_FORMAT"] == "json"
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert config.from_environment(tmp_path)["LOG_FORMAT"] == "text"
    monkeypatch.setenv("LEARNPLATFORM_ENV", "development")
    monkeypatch.delenv("LOG_FORMAT")
    assert config.from_environment(tmp_path)["LOG_FORMAT"] == "text"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(config.ConfigurationError):
        config.from_environment(tmp_path)


def test_a_refused_form_at_a_secret_address_logs_its_rule(app, client, create_user, caplog):
    """The security log names the route of a refusal, never the address that carries a token."""
    link, token = reset_link(app, client, create_user())
    caplog.clear()
    assert client.post(link, data={"password": "no token sent"}).status_code == 400
    assert "csrf.failure" in caplog.text
    assert "/password/reset/<token>" in caplog.text
    assert token not in caplog.text
