"""The platform with the keyboard alone, in Chromium: a practitioner logs in, finds a module,
enrols, reads a lesson and writes in their iRoom's chat with Tab, Shift+Tab, Enter, Space and
typing, never a click; wherever the focus goes it can be seen."""

from tests.browser.test_chat_browser import until
from tests.browser.test_modules_browser import shot
from tests.courses.test_modules import build_module
from tests.helpers import PASSWORD
from tests.irooms.test_rooms import add_room

MODULE = "Countering the financing of terrorism"
ROOM = "Sahel prosecutors: special investigative techniques"

#: what a keyboard user sees of the focused element: its accessible name (roughly as a screen
#: reader computes it), its role, and whether an outline or a shadow marks it
FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const label = element.getAttribute("aria-label")
    || (element.labels && element.labels.length ? element.labels[0].textContent : "")
    || element.textContent || element.value || "";
  return {
    name: label.replace(/\\s+/g, " ").trim(),
    tag: element.tagName.toLowerCase(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
  };
}"""


def focused(page) -> dict:
    """The focused element as a keyboard user perceives it."""
    return page.evaluate(FOCUSED)


def assert_focus_visible(page) -> None:
    """The focused element is marked by an outline or a shadow around it."""
    now = focused(page)
    assert now["outline"] or now["shadow"], f"no visible focus on {now}"


def tab_to(
    page, name: str, *, backwards: bool = False, exact: bool = True, presses: int = 60
) -> dict:
    """Press Tab (Shift+Tab ``backwards``) until the element named ``name`` (or, not ``exact``,
    whose name starts so: a link whose text goes on with a description) has the focus, as a
    keyboard user does; fails after ``presses`` presses. The focused element, which shows it."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(presses):
        page.keyboard.press(key)
        now = focused(page)
        seen.append(now["name"][:40])
        if now["name"] == name or (not exact and now["name"].startswith(name)):
            assert now["outline"] or now["shadow"], f"{name!r} has the focus but shows no mark"
            return now
    raise AssertionError(f"{name!r} never got the focus in {presses} presses of {key}: {seen}")


def test_a_practitioner_learns_and_talks_with_the_keyboard_alone(
    app, live_server, page, create_user
):
    learner = create_user(name="Aïcha Maïga")
    build_module(app, title=MODULE)
    add_room(app, ROOM, [(learner, "participant")])

    # The login form: the e-mail field has the focus as the page opens.
    page.goto(f"{live_server}/login")
    assert focused(page)["name"] == "E-mail address"
    assert_focus_visible(page)
    page.keyboard.type(learner.email)
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Welcome, Aïcha Maïga").wait_for()

    # The first stop on every page is the way past the navigation.
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Skip to content"
    assert_focus_visible(page)

    # The catalogue, from the navigation; then the module.
    tab_to(page, "Catalogue")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="E-learning modules").wait_for()
    tab_to(page, MODULE)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=MODULE).wait_for()

    # Enrol with Space (a button), start the lesson with Enter (a link).
    tab_to(page, "Enrol")
    shot(page, "keyboard-01-enrol-focused")
    page.keyboard.press("Space")
    page.get_by_role("status").filter(has_text="You are enrolled.").wait_for()
    tab_to(page, "Start the first lesson")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Lesson 1").wait_for()
    assert page.get_by_text("Body of lesson 1").is_visible()

    # Back up the page to the navigation with Shift+Tab, to the room.
    tab_to(page, "My iRooms", backwards=True)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My iRooms").wait_for()
    assert tab_to(page, ROOM, exact=False)["tag"] == "a"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=ROOM).wait_for()

    # The chat: once connected, the message field, a message, Enter sends it.
    page.get_by_text("No messages yet. Start the discussion.").wait_for()
    tab_to(page, "Your message")
    page.keyboard.type("Who signs the order for a controlled delivery?")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Messages")
    sent = log.locator(".room-chat-message[data-seq]").filter(has_text="controlled delivery")
    sent.wait_for()
    until(lambda: page.evaluate("document.activeElement.id") == "room-chat-body", "the focus")
    tab_to(page, "Send")
    shot(page, "keyboard-02-message-sent")
    assert page.console_errors == []
