"""Requests that waited too long for the server are refused with 503, never run late.

First through the test client: ``X-Request-Start`` in each format the front servers write, stale,
fresh, missing and garbled. Then the real thing: Debian's nginx with
``deploy/nginx/learnplatform.conf`` (its ports, certificate and folders replaced by this test's,
through deploy/stack.py as ``make production`` does) in front of gunicorn with a single thread
(gthread: a gevent worker has no thread to hold, but the bound is the same middleware). While
a client holds that thread by sending a form slowly, a registration posted through nginx waits
in gunicorn's queue past ``REQUEST_QUEUE_TIMEOUT``: it is refused and creates nothing; posted
again once the thread is free, it creates the account.

nginx is Debian's ``nginx-light``, with a certificate made by ``openssl`` for the occasion
(``make test`` installs both; the tests are skipped with that advice without them); it runs as
the current user with its pid, logs and temporary files under the test's folder.
"""

import base64
import http.client
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from deploy import stack
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.queueing import RETRY_AFTER_SECONDS, request_start
from tests.conftest import platform_on_own_database
from tests.helpers import CSRF_PATTERN, outbox, post_form
from tests.learnplatform.test_accounts import REGISTRATION

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
SERVER_NAME = "learn.example.org"
EMAIL = REGISTRATION["email"].lower()

#: The ways front servers write the moment they passed a request on, as New Relic's agents read
#: them: nginx's ``t=${msec}``, seconds with a fraction, milliseconds (Heroku's router),
#: microseconds, and Apache's ``t=%t`` in microseconds.
FORMATS = {
    "nginx": lambda moment: f"t={moment:.3f}",
    "seconds": lambda moment: f"{moment:.6f}",
    "milliseconds": lambda moment: str(int(moment * 1_000)),
    "microseconds": lambda moment: str(int(moment * 1_000_000)),
    "apache": lambda moment: f"t={int(moment * 1_000_000)}",
}


@pytest.fixture(autouse=True)
def queue_timeout(monkeypatch):
    """The default bound of 30 seconds, whatever this machine's environment says."""
    monkeypatch.setenv("REQUEST_QUEUE_TIMEOUT", "30")


def stamped(seconds_ago: float, style: str = "nginx") -> dict:
    return {"X-Request-Start": FORMATS[style](time.time() - seconds_ago)}


def accounts(app) -> list[str]:
    with app.app_context():
        found = db.session.scalars(select(User.email).where(User.email == EMAIL)).all()
        db.session.remove()
        return found


# The middleware, through the test client.
@pytest.mark.parametrize("style", FORMATS)
def test_each_format_of_the_stamp_is_read(style):
    moment = 1_780_000_000.123
    assert request_start(FORMATS[style](moment)) == pytest.approx(moment, abs=0.001)


@pytest.mark.parametrize(
    "garbage",
    [None, "", "t=", "soon", "t=yesterday", "1780000000.1, 1780000001.2", "-1780000000", "nan",
     "inf", "1.78e9", "12345", "t=1780000000.123 extra"],
)  # fmt: skip
def test_an_unreadable_stamp_names_no_moment(garbage):
    assert request_start(garbage) is None


@pytest.mark.parametrize("style", FORMATS)
def test_a_stamp_older_than_the_bound_is_refused_and_a_fresh_one_served(client, style):
    assert client.get("/healthz", headers=stamped(31, style)).status_code == 503
    assert client.get("/healthz", headers=stamped(0.5, style)).status_code == 200


def test_the_refusal_is_a_page_in_the_browsers_language(client):
    for language, words in [("fr", "Réessayez"), ("ar", 'dir="rtl"'), ("zh", 'lang="zh"')]:
        headers = {**stamped(31), "Accept-Language": f"{language},en;q=0.5"}
        page = client.get("/courses/", headers=headers).get_data(as_text=True)
        assert words in page, language
        assert "bootstrap" in page


def test_a_stale_registration_is_refused_whole_and_a_fresh_one_creates_the_account(
    app, client, caplog
):
    refused = post_form(client, "/register", REGISTRATION, headers=stamped(120))
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert refused.mimetype == "text/html"
    assert "Try again in a moment." in refused.get_data(as_text=True)
    assert "Set-Cookie" not in refused.headers  # the app never ran: not even the session moved
    assert accounts(app) == [] and outbox(app) == []
    [line] = [record for record in caplog.records if record.name == "learnplatform.queueing"]
    assert line.levelname == "WARNING" and line.exc_info is None
    assert 'method="POST" path="/register"' in line.getMessage()

    accepted = post_form(client, "/register", REGISTRATION, headers=stamped(0.2))
    assert accepted.status_code == 302
    assert accounts(app) == [EMAIL] and len(outbox(app, EMAIL)) == 1


@pytest.mark.parametrize("header", [None, "", "t=garbage", "t=1780000000.5, t=1780000001.5"])
def test_a_missing_or_unreadable_stamp_lets_the_request_through(app, client, header):
    headers = {} if header is None else {"X-Request-Start": header}
    assert post_form(client, "/register", REGISTRATION, headers=headers).status_code == 302
    assert accounts(app) == [EMAIL]


def test_a_stamp_in_the_future_lets_the_request_through(app, client):
    """The front server's clock running ahead is no reason to refuse anything."""
    assert post_form(client, "/register", REGISTRATION, headers=stamped(-600)).status_code == 302
    assert accounts(app) == [EMAIL]


def test_zero_turns_the_bound_off(migrated_database, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUEST_QUEUE_TIMEOUT", "0")
    with platform_on_own_database(migrated_database, tmp_path) as app:
        assert app.test_client().get("/healthz", headers=stamped(3600)).status_code == 200


# Real servers: nginx with the production configuration in front of gunicorn.
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready, process: subprocess.Popen, log: Path) -> None:
    """Poll ``ready()`` until it is true; the server's log in the failure if it never is."""
    deadline = time.monotonic() + 30
    while not ready():
        assert process.poll() is None, f"{process.args[0]} stopped:\n{log.read_text()}"
        assert time.monotonic() < deadline, (
            f"{process.args[0]} never became ready:\n{log.read_text()}"
        )
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def servers(migrated_database, tmp_path):
    """gunicorn with one thread (``REQUEST_QUEUE_TIMEOUT=1``) on the test's own database, behind
    nginx with ``deploy/nginx/learnplatform.conf``; the platform, the ports and the logs."""
    if not os.access(NGINX, os.X_OK):
        pytest.skip(f"nginx not found at {NGINX}: 'apt-get install nginx-light' (make test does)")
    if not shutil.which("openssl"):
        pytest.skip("openssl not found: 'apt-get install openssl'")
    nginx_folder = tmp_path / "nginx"
    nginx_folder.mkdir()
    certificate, key = stack.self_signed_certificate(nginx_folder, SERVER_NAME)
    gunicorn_port, http_port, https_port = free_port(), free_port(), free_port()
    with platform_on_own_database(migrated_database, tmp_path) as app:
        environment = {
            "PATH": os.environ["PATH"],
            "LEARNPLATFORM_ENV": "development",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
            "STORAGE_SENDFILE": "x-accel-redirect",
            "TRUSTED_PROXIES": "1",
            "REQUEST_QUEUE_TIMEOUT": "1",
        }
        gunicorn_log = tmp_path / "gunicorn.log"
        nginx_log = nginx_folder / "error.log"
        configuration = stack.nginx_configuration(
            nginx_folder,
            stack.site(
                {
                    "listen 80;": f"listen 127.0.0.1:{http_port};",
                    "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
                    "/etc/ssl/learnplatform/fullchain.pem": str(certificate),
                    "/etc/ssl/learnplatform/privkey.pem": str(key),
                    "/srv/learnplatform/static/": f"{ROOT / 'static'}/",
                    "/srv/learnplatform/instance/storage/": f"{app.config['STORAGE_DIR']}/",
                    **stack.upstream_servers([gunicorn_port]),
                }
            ),
        )
        with gunicorn_log.open("wb") as log:
            gunicorn = subprocess.Popen(  # noqa: S603
                [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{gunicorn_port}",
                 "--worker-class", "gthread", "--threads", "1", "--workers", "1",
                 "--access-logfile", "-", "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_until(lambda: stack.healthy(gunicorn_port), gunicorn, gunicorn_log)
            nginx = subprocess.Popen(  # noqa: S603
                [NGINX, "-p", f"{nginx_folder}/", "-c", str(configuration), "-e", str(nginx_log),
                 "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                wait_until(lambda: stack.listening(https_port), nginx, nginx_log)
                yield SimpleNamespace(
                    app=app,
                    gunicorn_port=gunicorn_port,
                    http_port=http_port,
                    https_port=https_port,
                    certificate=certificate,
                    gunicorn_log=gunicorn_log,
                    nginx_log=nginx_log,
                )
            finally:
                stop(nginx)
        finally:
            stop(gunicorn)


class Browser:
    """HTTPS through nginx to the server name, with the session cookie, as a browser."""

    def __init__(self, servers):
        self.servers = servers
        self.context = ssl.create_default_context(cafile=servers.certificate)
        self.context.check_hostname = False  # the certificate's name, not 127.0.0.1's
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        """The response, read, of ``method path`` with ``form`` url-encoded."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.servers.https_port, timeout=30, context=self.context
        )
        # Over HTTPS, Flask-WTF wants the page the form came from, on this host.
        headers = {"Host": SERVER_NAME, "Referer": f"https://{SERVER_NAME}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.text = response.read().decode()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update(
                {name: morsel.value for name, morsel in SimpleCookie(header).items()}
            )
        return response


def hold_the_only_thread(port: int, seconds: float, started: threading.Event, answers: list):
    """Post a form straight to gunicorn, a byte at a time over ``seconds``: the worker thread
    reads it all that time. nginx would read the body itself before passing the request on."""
    body = b"email=slow%40example.org&password=" + b"x" * 28
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:1])
        )
        started.set()
        for byte in body[1:]:
            time.sleep(seconds / len(body))
            sock.sendall(bytes([byte]))
        with sock.makefile("rb") as reader:
            answers.append(reader.readline())


def test_a_post_that_waited_past_the_bound_behind_nginx_is_refused_and_creates_nothing(servers):
    browser = Browser(servers)
    page = browser.request("GET", "/register")
    assert page.status == 200
    assert page.getheader("Strict-Transport-Security")  # X-Forwarded-Proto came through
    form = {"csrf_token": CSRF_PATTERN.search(page.text).group(1), **REGISTRATION}

    # A slow client holds gunicorn's only thread for three seconds; the registration, sent
    # meanwhile, waits for it in gunicorn's queue.
    started, answers = threading.Event(), []
    slow = threading.Thread(
        target=hold_the_only_thread, args=(servers.gunicorn_port, 3.0, started, answers)
    )
    slow.start()
    try:
        started.wait(timeout=10)
        time.sleep(0.5)  # the worker thread has taken the slow request by now
        sent = time.monotonic()
        refused = browser.request("POST", "/register", form)
        waited = time.monotonic() - sent
    finally:
        slow.join(timeout=30)
    assert answers and answers[0].startswith(b"HTTP/1.1 400"), answers  # no CSRF token
    assert waited > 1.5, "the registration did not wait for the thread: the test proves nothing"
    assert refused.status == 503
    assert refused.getheader("Retry-After") == str(RETRY_AFTER_SECONDS)
    assert refused.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "Try again in a moment." in refused.text
    assert accounts(servers.app) == [] and outbox(servers.app) == []

    # The same form once the thread is free: the account is created.
    accepted = browser.request("POST", "/register", form)
    assert accepted.status == 302, accepted.text
    assert accepted.getheader("Location") == "/register/check-email"
    assert accounts(servers.app) == [EMAIL] and len(outbox(servers.app, EMAIL)) == 1

    gunicorn_log = servers.gunicorn_log.read_text()
    [refusal] = [line for line in gunicorn_log.splitlines() if "queue.timeout" in line]
    assert 'method="POST" path="/register"' in refusal
    assert "Traceback" not in gunicorn_log
    assert "Traceback" not in servers.nginx_log.read_text()


def test_nginx_redirects_to_https_and_passes_socket_io_upgrades(servers):
    plain = http.client.HTTPConnection("127.0.0.1", servers.http_port, timeout=10)
    try:
        plain.request("GET", "/courses/?page=2", headers={"Host": SERVER_NAME})
        redirect = plain.getresponse()
        redirect.read()
    finally:
        plain.close()
    assert redirect.status == 301
    assert redirect.getheader("Location") == f"https://{SERVER_NAME}/courses/?page=2"

    context = Browser(servers).context
    handshake = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {SERVER_NAME}\r\nOrigin: https://{SERVER_NAME}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
    )
    with (
        socket.create_connection(("127.0.0.1", servers.https_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=SERVER_NAME) as sock,
    ):
        sock.sendall(handshake.encode())
        with sock.makefile("rb") as reader:
            status = reader.readline()
    assert status.startswith(b"HTTP/1.1 101"), status
    assert "Traceback" not in servers.gunicorn_log.read_text()
