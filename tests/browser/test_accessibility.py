"""Accessibility in Chromium: axe-core finds nothing serious or critical against WCAG 2.1 AA on
the main pages, in English and in Arabic (right to left); a failed form says what went wrong to
a screen reader.

The data is built once for the module and the pages are only read, so that forty pages take
about a minute. A screenshot of each page is kept in test-artifacts/.
"""

import io
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import learnplatform
from courses.models import Certificate
from irooms import messages
from irooms.access import Place
from irooms.models import Membership, Room
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.passwords import hash_password
from tests.browser.test_chat_browser import until
from tests.courses.test_modules import (
    build_module,
    enrol_in,
    lesson_ids,
    option_ids,
    start_post_test,
    take_post_test,
)
from tests.courses.test_webinars import series_with_webinar
from tests.helpers import PASSWORD, Auth, post_form
from tests.irooms.test_library import stored_resource

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: what a developer must fix before the page ships; "moderate" and "minor" are left to review
BLOCKING = {"serious", "critical"}
LANGUAGES = ("en", "ar")
MODULE = "Countering the financing of terrorism"
STARTED_MODULE = "Supporting victims in criminal proceedings"
ROOM = "Sahel prosecutors: special investigative techniques"


@dataclass
class Site:
    """The server, the pages' addresses and the cookies of each person, by language."""

    url: str
    paths: dict[str, str] = field(default_factory=dict)
    cookies: dict[tuple[str, str], list] = field(default_factory=dict)


@cache
def password_hash() -> str:
    """Argon2 is slow on purpose: one hash serves every person here."""
    return hash_password(PASSWORD)


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def a_person(app, name: str, *, role: str = "practitioner", language: str = "en") -> User:
    with app.app_context():
        user = User(
            email=f"{name.split()[0].lower()}.{language}@example.org",
            name=name,
            password_hash=password_hash(),
            country="NE",
            organisation="Pôle judiciaire spécialisé",
            agency_type="prosecution",
            role=role,
            language=language,
            active=True,
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def learn(app, learner: User, module_id: int, started_id: int) -> dict[str, str]:
    """The learner enrols, reads both lessons, passes the post-test, and opens the post-test of
    another module; the addresses of what they went through."""
    client = app.test_client()
    assert Auth(client).login(learner.email).status_code == 302
    enrol_in(client, module_id)
    first, second = lesson_ids(app, module_id)
    for lesson in (first, second):
        url = f"/courses/modules/{module_id}/lessons/{lesson}"
        post_form(client, url + "/done", {}, form_url=url)
    answers = option_ids(app, module_id)
    result_url, _ = take_post_test(
        client, module_id, {question: right for question, (right, _) in answers.items()}
    )
    enrol_in(client, started_id)
    attempt_url = start_post_test(client, started_id).headers["Location"]
    with app.app_context():
        certificate = db.session.scalar(
            select(Certificate).where(Certificate.user_id == learner.id)
        )
    return {
        "lesson": f"/courses/modules/{module_id}/lessons/{first}",
        "quiz-attempt": attempt_url,
        "quiz-result": result_url,
        "certificate": f"/courses/certificates/{certificate.id}",
    }


def a_room_with_a_library_and_a_chat(app, host: User, members: list[User]) -> int:
    with app.app_context():
        room = Room(
            name=ROOM,
            description="Prosecutors and investigating judges of the Sahel share practice.",
            language="fr",
            theme="criminal_justice",
            region_focus="Sahel",
        )
        room.memberships = [Membership(user_id=host.id, role="host")] + [
            Membership(user_id=member.id, role="participant") for member in members
        ]
        db.session.add(room)
        db.session.commit()
        room_id = room.id
    stored_resource(app, room_id, "Manual on special investigative techniques", category="manual")
    with app.app_context():
        room = db.session.get(Room, room_id)
        for number, author_id in enumerate([host.id, *(member.id for member in members)]):
            membership = db.session.scalar(
                select(Membership).where(
                    Membership.room_id == room_id, Membership.user_id == author_id
                )
            )
            text = f"Controlled deliveries: who signs the order? (note {number + 1})"
            messages.post(room, membership, membership.user, f"seed-{number}", text)
    return room_id


def a_forum_question(app, room_id: int, host: User, member: User) -> tuple[int, int]:
    """A question asked in the room's forum and answered by its host: the forum's and the
    topic's ids."""
    from learnplatform.forums import services
    from learnplatform.forums.access import Venue, forum_of

    with app.test_request_context():
        room = db.session.get(Room, room_id)
        forum = forum_of(room=room)
        found = Venue(forum, place=Place(room, None))
        topic, _ = services.start_topic(
            found,
            db.session.get(User, member.id),
            title="Controlled deliveries: who signs the order?",
            body_html="<p>In our system the prosecutor signs it. What about yours?</p>",
            category=None,
            is_question=True,
            client_token="accessibility-question",
        )
        answer, _ = services.reply(
            found,
            topic,
            db.session.get(User, host.id),
            body_html="<p>An investigating judge, after the prosecutor asks.</p>",
            quote_of=None,
            client_token="accessibility-answer",
        )
        services.mark_answer(topic, answer, db.session.get(User, host.id))
        db.session.commit()
        return forum.id, topic.id


def a_scorm_lesson(app, trainer: User, learners: list[User]) -> tuple[int, int]:
    """A module whose lesson is a SCORM 2004 package, the learners enrolled: (module, lesson)."""
    from courses import services
    from courses.models import Module
    from courses.scorm.authoring import add_package_lesson
    from courses.scorm.importing import read_package
    from tests.courses.test_scorm_player import new_module
    from tests.scorm_packages import scorm_2004_package

    module_id = new_module(app, trainer.id, title="Foreign terrorist fighters")
    with app.test_request_context():
        module = db.session.get(Module, module_id)
        imported = read_package(io.BytesIO(scorm_2004_package()), "ftf.zip", uploaded_by=trainer)
        lesson = add_package_lesson(
            module, imported, file_name="ftf.zip", title="", max_attempts=0, actor=trainer
        )
        for learner in learners:
            services.enrol(module, db.session.get(User, learner.id))
        db.session.commit()
        return module_id, lesson.id


def cookies_of(browser, url: str, person: User) -> list:
    """Log in once through the form; the session cookies for every test that needs this person."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/login")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"/$"))
    cookies = context.cookies()
    context.close()
    return cookies


@pytest.fixture(scope="module")
def site(module_app, module_live_server, browser):
    """Modules, a certificate, an open and a finished quiz attempt, a webinar with its recording,
    a room with a library and a chat, statistics and an audit log; a learner and an
    administrator for each language."""
    app = module_app
    with pytest.MonkeyPatch.context() as patch:
        if "ar" not in learnplatform.available_locales():
            # Until the Arabic catalogue is compiled the pages read in English, right to left.
            offered = [*learnplatform.available_locales(), "ar"]
            patch.setattr(learnplatform, "available_locales", lambda: offered)
            app.jinja_env.globals["available_locales"] = learnplatform.available_locales
        trainer = a_person(app, "Kwame Mensah", role="trainer")
        module_id = build_module(app, trainer.id, title=MODULE)
        started_id = build_module(app, trainer.id, title=STARTED_MODULE, lessons=1)
        _series_id, webinar_id = series_with_webinar(app, trainer.id)
        found = Site(module_live_server)
        learners, administrators = {}, {}
        for language in LANGUAGES:
            learners[language] = a_person(app, "Aïcha Maïga", language=language)
            administrators[language] = a_person(
                app, "Administrator Ali", role="administrator", language=language
            )
            found.paths[("learner", language)] = learn(
                app, learners[language], module_id, started_id
            )
        room_id = a_room_with_a_library_and_a_chat(app, trainer, list(learners.values()))
        forum_id, topic_id = a_forum_question(app, room_id, trainer, learners["en"])
        scorm_module, scorm_lesson = a_scorm_lesson(app, trainer, list(learners.values()))
        app.config["SCORM_CONTENT_ORIGIN"] = module_live_server.replace("127.0.0.1", "localhost")
        scorm_manage = f"/courses/manage/{scorm_module}/lessons"
        found.paths["common"] = {
            "login": "/login",
            "registration": "/register",
            "home": "/",
            "catalogue": "/courses/",
            "module": f"/courses/modules/{module_id}",
            "my-learning": "/courses/my-learning",
            "webinars": "/courses/webinars",
            "webinar": f"/courses/webinars/{webinar_id}",
            "iroom": f"/irooms/{room_id}",
            "iroom-library": f"/irooms/{room_id}/library",
            "iroom-chat": f"/irooms/{room_id}",
            "forum": f"/forums/{forum_id}",
            "forum-topic": f"/forums/{forum_id}/topics/{topic_id}",
            "forum-new-topic": f"/forums/{forum_id}/new",
            "statistics": "/stats/",
            "accounts": "/admin/users",
            "account": f"/admin/users/{learners['en'].id}",
            "audit-log": "/admin/audit",
            "notifications": "/notifications/",
            "notification-preferences": "/notifications/preferences",
            "profile": "/account",
            "my-exports": "/stats/exports/",
            "scorm-lesson": f"/courses/modules/{scorm_module}/lessons/{scorm_lesson}",
            "scorm-import": f"{scorm_manage}/scorm",
            "scorm-results": f"{scorm_manage}/{scorm_lesson}/results",
        }
        for language in LANGUAGES:
            found.cookies[("learner", language)] = cookies_of(
                browser, found.url, learners[language]
            )
            found.cookies[("administrator", language)] = cookies_of(
                browser, found.url, administrators[language]
            )
        yield found


#: page -> who looks at it (nobody: logged out)
PAGES = {
    "login": None,
    "registration": None,
    "home": "learner",
    "catalogue": "learner",
    "module": "learner",
    "lesson": "learner",
    "quiz-attempt": "learner",
    "quiz-result": "learner",
    "certificate": "learner",
    "my-learning": "learner",
    "webinars": "learner",
    "webinar": "learner",
    "iroom": "learner",
    "iroom-library": "learner",
    "iroom-chat": "learner",
    "forum": "learner",
    "forum-topic": "learner",
    "forum-new-topic": "learner",
    "statistics": "administrator",
    "accounts": "administrator",
    "account": "administrator",
    "audit-log": "administrator",
    "notifications": "learner",
    "notification-preferences": "learner",
    "profile": "learner",
    "my-exports": "administrator",
    "scorm-lesson": "learner",
    "scorm-import": "administrator",
    "scorm-results": "administrator",
}


def open_as(page, site: Site, name: str, language: str) -> None:
    """Open page ``name`` as the person who would, in ``language``."""
    who = PAGES[name]
    if who is None:
        page.set_extra_http_headers({"Accept-Language": language})
    else:
        page.context.add_cookies(site.cookies[(who, language)])
    paths = site.paths["common"] | site.paths.get(("learner", language), {})
    response = page.goto(site.url + paths[name])
    assert response is not None and response.ok, f"{name}: {response and response.status}"
    if name == "iroom-chat":
        connection = page.locator("[data-chat-connection]")
        until(lambda: connection.is_hidden() or "…" not in connection.inner_text(), "the chat")
        page.locator(".room-chat-message[data-seq]").first.wait_for()
    if name == "statistics":
        until(
            lambda: page.evaluate("!!(window.Chart && Chart.getChart('chart-by-region'))"), "charts"
        )


def axe_violations(page, within: str | None = None) -> list[dict]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it stands, or in the part
    of it the CSS selector ``within`` names."""
    page.evaluate(axe_source())
    return page.evaluate(
        """([tags, within]) => axe.run(within || document, {runOnly: {type: "tag", values: tags}})
            .then((results) => results.violations.map((rule) => ({
                id: rule.id, impact: rule.impact, help: rule.help, helpUrl: rule.helpUrl,
                nodes: rule.nodes.map((node) => ({
                    target: node.target.join(" "), html: node.html,
                    summary: node.failureSummary,
                })),
            })))""",
        [WCAG_21_AA, within],
    )


def described(where: str, violations: list[dict]) -> str:
    """A failure message a developer can act on: rule, impact, and each element."""
    lines = [f"{where}: {len(violations)} serious or critical accessibility violations"]
    for rule in violations:
        lines.append(f"- {rule['id']} ({rule['impact']}): {rule['help']} <{rule['helpUrl']}>")
        for node in rule["nodes"][:10]:
            lines.append(f"    {node['target']}\n      {node['html'][:300]}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("name", "language"),
    [(name, language) for name in PAGES for language in LANGUAGES],
    ids=[f"{name}-{language}" for name in PAGES for language in LANGUAGES],
)
def test_axe_finds_nothing_serious(site, page, name, language):
    open_as(page, site, name, language)
    if language == "ar":
        assert page.evaluate("[document.documentElement.lang, document.dir]") == ["ar", "rtl"]
        assert page.locator("link[href*='bootstrap.rtl.min.css']").count() == 1
    violations = [rule for rule in axe_violations(page) if rule["impact"] in BLOCKING]
    assert not violations, described(f"{name} ({language})", violations)


def test_a_registration_with_errors_says_so_to_a_screen_reader(site, page):
    page.goto(f"{site.url}/register")
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()

    # The summary at the top of the form is an alert and has the focus, so it is read at once.
    summary = page.get_by_role("alert").filter(has_text="The form could not be sent:")
    # (autofocus acts once the page has loaded, a moment after the summary is in the page)
    expect(summary).to_be_focused()
    invalid = page.locator("[aria-invalid=true]")
    names = invalid.evaluate_all("(fields) => fields.map((field) => field.id)")
    assert {"name", "email", "password", "country"} <= set(names), names
    assert page.get_by_label("Organisation").get_attribute("aria-invalid") != "true"

    # Each invalid field is described by its error (a screen reader reads it with the field),
    # and the summary links to the field.
    for field_id in names:
        field = page.locator(f"#{field_id}")
        assert f"{field_id}-error" in field.get_attribute("aria-describedby").split()
        error = page.locator(f"#{field_id}-error").inner_text()
        expect(field).to_have_accessible_description(re.compile(re.escape(error)))
        assert error in summary.locator(f'a[href="#{field_id}"]').inner_text()


#: page -> elements checked for the platform's focus ring: (role, accessible name)
FOCUS_RINGS = {
    "iroom-chat": [
        ("link", "My learning"),  # on the dark navigation
        ("button", "Language: English"),
        ("link", "Open the library"),
        ("button", "Edit"),  # a button that looks like a link
        ("textbox", "Your message"),
        ("button", "Send"),
    ],
    "quiz-attempt": [("radio", "FATF"), ("checkbox", "Cash declarations")],
}


@pytest.mark.parametrize("name", FOCUS_RINGS)
def test_the_focus_is_marked_by_a_ring_that_shows(site, page, name):
    open_as(page, site, name, "en")
    for role, label in FOCUS_RINGS[name]:
        target = page.get_by_role(role, name=label, exact=True).first
        target.focus()  # where Tab would bring it: the keyboard test walks there for real
        ring = target.evaluate(
            """(element) => {
                const style = getComputedStyle(element);
                return [style.outlineStyle, parseFloat(style.outlineWidth), style.outlineColor,
                        style.boxShadow];
            }"""
        )
        assert ring[0] == "solid" and ring[1] >= 2, f"{label}: {ring}"
        assert ring[2] == "rgb(255, 191, 71)" and ring[3] != "none", f"{label}: {ring}"
