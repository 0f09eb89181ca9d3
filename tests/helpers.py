"""Test helpers that read like what a person does: fill a form, log in, read an e-mail."""

import re
import threading

from sqlalchemy import select

from learnplatform.extensions import db
from learnplatform.mail import OutboxMessage

PASSWORD = "correct horse battery staple"
CSRF_PATTERN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def without_tokens(html: str) -> str:
    """A page without its CSRF tokens, which carry the second they were signed: two answers
    that differ only there are the same page."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", html)


def csrf_token(client, url: str = "/login", **kwargs) -> str:
    """The CSRF token the form at ``url`` carries, as a browser would read it."""
    response = client.get(url, **kwargs)
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token in {url}"
    return match.group(1)


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """Submit a form the way a browser does: load the page, then post with its CSRF token."""
    base = {"base_url": kwargs["base_url"]} if "base_url" in kwargs else {}
    token = csrf_token(client, form_url or url, **base)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


class Auth:
    """Logging in and out through the login form, as a person does."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, **kwargs):
        """Submit the login form."""
        return post_form(self.client, "/login", {"email": email, "password": password}, **kwargs)

    def logout(self):
        """Press the logout button."""
        return post_form(self.client, "/logout", {}, form_url="/account")


def outbox(app, recipient: str | None = None) -> list[OutboxMessage]:
    """The e-mails the platform wrote, oldest first."""
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient)
        messages = db.session.scalars(query).all()
        db.session.expunge_all()
        return messages


def link_in(message: OutboxMessage) -> str:
    """The path of the first platform link in an e-mail."""
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


class QueryCounter:
    """Counts the SQL statements the app sends while it is active."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _count(self, *args):
        self.count += 1

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._count)


def count_queries(app, client, path: str) -> int:
    """How many SQL statements serving ``path`` takes."""
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        assert client.get(path).status_code == 200
    return counter.count


def in_parallel(app, user_email, count, action):
    """Run ``action(browser)()`` for ``count`` logged-in browsers of one person at the same
    moment, as double clicks and two tabs do; the results, in the order they finished."""
    clients = []
    for _ in range(count):
        browser = app.test_client()
        Auth(browser).login(user_email, PASSWORD)
        clients.append(browser)
    prepared = [action(browser) for browser in clients]
    barrier = threading.Barrier(count)
    results = []

    def run(send):
        barrier.wait()
        results.append(send())

    threads = [threading.Thread(target=run, args=(send,)) for send in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def post_later(url, form_url):
    """An action for ``in_parallel``: post the form of ``form_url`` to ``url``; its status."""

    def prepare(browser):
        token = csrf_token(browser, form_url)
        return lambda: browser.post(url, data={"csrf_token": token}).status_code

    return prepare
