"""The logged-in homes in Chromium: each role logs in and finds what it should do next; each home
is photographed at 1280 and 390 px without sideways scrolling."""

from datetime import timedelta

from learnplatform.audit import utcnow
from tests.browser.conftest import shots_at_widths
from tests.browser.test_accessibility import BLOCKING, axe_violations, described
from tests.browser.test_modules_browser import log_in
from tests.learnplatform.test_homes import (
    add_module,
    add_room,
    add_session,
    add_topic,
    enrol,
)

WIDTHS = {"1280": 1280, "390": 390}


def assert_accessible(page, where: str) -> None:
    """axe-core finds nothing serious or critical in the home's content (the header is the
    accessibility test's to check, on every page)."""
    violations = axe_violations(page, "#main")
    blocking = [rule for rule in violations if rule["impact"] in BLOCKING]
    assert not blocking, described(where, blocking)


def test_a_practitioners_home_leads_to_the_next_lesson_a_session_and_a_certificate(
    app, page, live_server, create_user
):
    me = create_user(name="Aïcha Maïga", time_zone="Africa/Bamako")
    host = create_user(role="trainer", name="Kwame Mensah")
    evidence = add_module(app, "Requesting electronic evidence across borders", lessons=4)
    enrol(app, me, evidence, done=1, last=2)
    cbrn = add_module(app, "CBRN terrorism: the legal framework", lessons=2, post_test=True)
    enrol(app, me, cbrn, done=2, last=2)
    done = add_module(app, "Countering the financing of terrorism", lessons=2)
    enrol(app, me, done, done=2, last=2, completed=True)
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [(me, "participant"), (host, "host")],
        visited=utcnow() - timedelta(days=1),
    )
    add_session(
        app,
        room_id,
        "Controlled deliveries: a case study",
        timedelta(minutes=-10),
        author=host,
        url="https://meet.example.org/sahel",
    )
    add_session(app, room_id, "Mutual legal assistance", timedelta(days=5), author=host)
    add_topic(app, room_id, host, "Which evidence did you request first?", replies=2)

    log_in(page, live_server, me.email, me.name)
    steps = page.get_by_role("region", name="Your next steps")
    steps.get_by_text(
        "Next: lesson 2, Requesting electronic evidence across borders: part 2"
    ).wait_for()
    steps.get_by_text("Next: the post-test").wait_for()
    sessions = page.get_by_role("region", name="Coming live sessions")
    sessions.get_by_role("link", name="Join the video conference").wait_for()
    assert sessions.get_by_text("Mutual legal assistance").is_visible()
    news = page.get_by_role("region", name="New in your rooms")
    assert news.get_by_role("link", name="2 sessions scheduled").is_visible()
    assert news.get_by_role("link", name="1 new forum topic").is_visible()
    assert news.get_by_role("link", name="2 new replies").is_visible()
    certificates = page.get_by_role("region", name="Your certificates")
    assert certificates.get_by_text(
        "Countering the financing of terrorism", exact=True
    ).is_visible()
    assert certificates.get_by_role(
        "link", name="PDF · Countering the financing of terrorism"
    ).is_visible()
    shots_at_widths(page, "home-practitioner", WIDTHS)
    assert_accessible(page, "practitioner's home")

    # The next step is the lesson itself.
    steps.get_by_role("link", name="Continue").first.click()
    page.get_by_role(
        "heading", name="Requesting electronic evidence across borders: part 2"
    ).wait_for()
    assert not page.console_errors, page.console_errors


def test_a_new_practitioners_home_points_to_the_catalogue(page, live_server, create_user):
    me = create_user(name="Léa Martin")
    log_in(page, live_server, me.email, me.name)
    page.get_by_text("You have no module in progress.").wait_for()
    shots_at_widths(page, "home-practitioner-empty", WIDTHS)
    page.get_by_role("region", name="Your next steps").get_by_role(
        "link", name="Browse the catalogue"
    ).click()
    page.wait_for_url(f"{live_server}/courses/**")


def test_a_trainers_home_shows_requests_sessions_activity_and_figures(
    app, page, live_server, create_user
):
    me = create_user(role="trainer", name="Kwame Mensah")
    asked = add_module(app, "CBRN terrorism: the legal framework", author=me, mode="approval")
    learners = [create_user() for _ in range(4)]
    enrol(app, learners[0], asked, status="requested")
    enrol(app, learners[1], asked, status="requested")
    enrol(app, learners[2], asked, done=3, last=3, completed=True)
    enrol(app, learners[3], asked, done=1, last=1)
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [(me, "host"), (learners[2], "participant")],
        visited=utcnow() - timedelta(days=1),
    )
    add_session(app, room_id, "Mutual legal assistance", timedelta(days=2), author=me)
    add_topic(app, room_id, learners[2], "A question on evidence")

    log_in(page, live_server, me.email, me.name)
    requests = page.get_by_role("region", name="Requests to enrol")
    requests.get_by_text("2 requests wait for your decision.").wait_for()
    figures = page.get_by_role("region", name="Your modules")
    row = figures.get_by_role("row", name="CBRN terrorism: the legal framework")
    assert row.get_by_role("cell").all_inner_texts() == ["2", "1", "50 %"]
    assert (
        page.get_by_role("region", name="Your next sessions")
        .get_by_text("Mutual legal assistance")
        .is_visible()
    )
    assert (
        page.get_by_role("region", name="Recent activity in your rooms")
        .get_by_role("link", name="1 new forum topic")
        .is_visible()
    )
    shots_at_widths(page, "home-trainer", WIDTHS)
    # On a phone the figures fit: no column scrolled out of sight.
    page.set_viewport_size({"width": 390, "height": 900})
    hidden = figures.locator(".table-responsive").evaluate(
        "box => box.scrollWidth - box.clientWidth"
    )
    assert hidden <= 0, hidden
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page, "trainer's home")
    requests.get_by_role("link", name="Approve or refuse").click()
    page.get_by_text(learners[0].name).first.wait_for()


def test_an_administrators_home_shows_this_months_figures(app, page, live_server, create_user):
    me = create_user(role="administrator", name="Nadia Haddad")
    module_id = add_module(app, "CBRN terrorism: the legal framework")
    learners = [create_user() for _ in range(3)]
    for learner in learners[:2]:
        enrol(app, learner, module_id)
    enrol(app, learners[2], module_id, done=3, last=3, completed=True)
    room_id = add_room(app, "Sahel prosecutors", [(learners[0], "participant")])
    add_session(app, room_id, "Held this morning", timedelta(hours=-3))

    log_in(page, live_server, me.email, me.name)
    month = page.get_by_role("region", name=page.locator("#home-month").inner_text())
    figures = dict(
        zip(
            month.locator("dt").all_inner_texts(),
            month.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    # Four accounts this month, one login (this one), three enrolments, one completion and its
    # certificate; the session ended an hour ago (unless the month began since).
    assert figures["Registrations"] == "4"
    assert figures["Active users"] == "1"
    assert (figures["Enrolments"], figures["Completions"]) == ("3", "1")
    assert figures["Certificates issued"] == "1"
    assert figures["Live sessions held"] in ("0", "1")
    shots_at_widths(page, "home-administrator", WIDTHS)
    assert_accessible(page, "administrator's home")
    page.get_by_role("link", name="This month in the statistics").click()
    page.get_by_role("heading", name="Statistics", exact=True).wait_for()
