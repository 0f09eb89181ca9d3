"""Two people chat in Chromium through the production stack (``make production``): HTTPS on
nginx, each browser held by its route cookie on a different one of the two gevent processes,
messages crossing between them through Redis.

Runs when ``TEST_STACK`` names the stack's environment file (``.ci/run`` starts the stack and
sets it); skipped otherwise.
"""

from typing import NamedTuple

import pytest

from tests.browser.test_chat_browser import messages_in, say, until
from tests.browser.test_modules_browser import log_in
from tests.irooms import processes

pytestmark = pytest.mark.skipif(
    not processes.STACK, reason="runs through the stack of `make production` (TEST_STACK)"
)


@pytest.fixture
def tab_on(browser, request):
    """A tab of its own whose requests nginx sends to the process of ``server``'s route."""
    contexts = []

    def open_(server):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, ignore_https_errors=True
        )
        contexts.append(context)
        context.add_cookies(
            [
                {"name": name, "value": value, "url": str(server), "secure": True}
                for name, value in server.cookies.items()
            ]
        )
        tab = context.new_page()
        tab.console_errors = []
        tab.on(
            "console",
            lambda message: message.type == "error" and tab.console_errors.append(message.text),
        )
        return tab

    yield open_
    for number, context in enumerate(contexts):
        for page in context.pages:
            page.screenshot(path=f"test-artifacts/{request.node.name}-{number}.png", full_page=True)
        context.close()


class Apart(NamedTuple):
    room_id: int
    host: object  # the host's tab, its requests on one process
    member: object  # the member's tab, on the other
    on_a: processes.Server
    on_b: processes.Server
    member_email: str


def host_and_member_apart(tab_on) -> Apart:
    """A room in the stack's database, its host logged in on one process and a member on the
    other."""
    with processes.stack_database() as (app, _):
        people = processes.add_people(app)
        room_id, _ = processes.add_room(app, people)
    (_, host_email), (_, member_email) = people
    on_a, on_b = processes.stack_servers()
    host, member = tab_on(on_a), tab_on(on_b)
    log_in(host, on_a, host_email, "Amina Diallo")
    log_in(member, on_b, member_email, "Awa Konaté")
    return Apart(room_id, host, member, on_a, on_b, member_email)


def test_two_people_on_two_processes_chat_through_nginx(tab_on):
    room_id, host, member, on_a, on_b, _ = host_and_member_apart(tab_on)
    for tab, server in ((host, on_a), (member, on_b)):
        tab.goto(f"{server}/irooms/{room_id}")
    for tab in (host, member):
        tab.get_by_text("Online: Amina Diallo and Awa Konaté").wait_for()

    say(host, "Bienvenue à la session de cet après-midi.")
    until(
        lambda: messages_in(member) == ["Bienvenue à la session de cet après-midi."],
        "the host's message in the member's tab, served by the other process",
    )
    say(member, "Merci, je suis là.")
    until(
        lambda: (
            messages_in(host) == ["Bienvenue à la session de cet après-midi.", "Merci, je suis là."]
        ),
        "the member's answer in the host's tab",
    )
    # The route cookie held each tab on its process: the session cookie set at login by one
    # process is valid in the other too, but each tab never left its own.
    for tab, server in ((host, on_a), (member, on_b)):
        cookies = {cookie["name"]: cookie["value"] for cookie in tab.context.cookies()}
        assert cookies[processes.ROUTE] == server.cookies[processes.ROUTE]
        assert tab.console_errors == []
