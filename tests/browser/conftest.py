"""A real server on a free port and Debian's Chromium driven by Playwright.

Playwright cannot download its own browser on a closed network, so these tests drive
``/usr/bin/chromium`` (``apt-get install chromium``); without it they are skipped and say so.
"""

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    """Mark every test here as a browser test, skipped when Chromium is missing."""
    missing = not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM))
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"Chromium not found at {CHROMIUM}: install it with "
                        "'apt-get install chromium' (make test does) or set CHROMIUM"
                    )
                )


def shots_at_widths(page, name: str, widths: dict[str, int]) -> None:
    """Full-page screenshots of the current page at each width (``label -> pixels``), kept in
    test-artifacts/ as ``{name}-{label}.png``, and no sideways scrolling at any; the page is left
    at the first width."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width in widths.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, label, overflow)
    page.set_viewport_size({"width": next(iter(widths.values())), "height": 900})


#: resolves once the page's scripts have run (its load event), asked of the page itself: after a
#: download Playwright may wait for a load that never comes; evaluated as a function, which the
#: platform's Content-Security-Policy allows where a string to evaluate is refused
_SCRIPTS_LOADED = """() => document.readyState === 'complete'
    || new Promise((done) => addEventListener('load', () => done(true), { once: true }))"""


def scripts_loaded(page) -> None:
    """Wait until the page's scripts have run: a menu clicked before Bootstrap is there does not
    open, a video played before its player script is there is not counted."""
    page.evaluate(_SCRIPTS_LOADED)


def tr(app, language: str, text: str, **variables) -> str:
    """``text`` as the platform's pages say it in ``language``, from its catalogues."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(language):
        return gettext(text, **variables)


def closed_when_sent(app):
    """``app`` whose answers are closed once sent, or when the server lets go of them.

    Werkzeug's server closes an answer after reading what is left of the request; when the
    browser has already dropped the connection (a page left mid-load), that read fails first and
    the answer's open file (a static file's) is left to the garbage collector, which warns of it
    in whichever test is running then.
    """

    def served(environ, start_response):
        answer = app(environ, start_response)
        try:
            yield from answer
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return served


@contextmanager
def serving(app):
    """``app`` served over real HTTP on a free port, in a thread of this process."""
    server = make_server("127.0.0.1", 0, closed_when_sent(app), threaded=True)
    # Requests still being answered when the test ends hold database connections: the teardown
    # lets them finish before the database goes, or their connections would outlive its pool.
    answering: set[threading.Thread] = set()
    answer = server.process_request_thread

    def tracked(request, client_address):
        me = threading.current_thread()
        answering.add(me)
        try:
            answer(request, client_address)
        finally:
            answering.discard(me)

    server.process_request_thread = tracked
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    # A Socket.IO long poll may wait longer; it holds no database connection while it waits.
    deadline = time.monotonic() + 3
    for request_thread in list(answering):
        request_thread.join(timeout=max(0.0, deadline - time.monotonic()))
    server.server_close()


@pytest.fixture
def live_server(app):
    """The platform served over real HTTP on a free port, in a thread of this process."""
    with serving(app) as address:
        yield address


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, shared by the browser tests of one run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser tab with its own cookies; a screenshot is kept in test-artifacts/."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.console_errors = errors
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="module")
def module_app(migrated_database, tmp_path_factory):
    """The platform on a database of its own shared by every test of one module: for tests that
    build their data once and then only read pages."""
    from tests.conftest import platform_on_own_database

    with platform_on_own_database(migrated_database, tmp_path_factory.mktemp("module-app")) as app:
        yield app


@pytest.fixture(scope="module")
def module_live_server(module_app):
    """``module_app`` served over real HTTP on a free port for the tests of one module."""
    with serving(module_app) as address:
        yield address
