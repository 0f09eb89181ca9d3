"""iRooms in Chromium: a trainer opens a room, fills its library and invites by link; a visitor
registers through the link and lands in the room, finds the manual and downloads it; the host
sees the download; an outsider finds nothing at the room's address."""

import time
from pathlib import Path

from courses import services
from courses.models import Module
from learnplatform.extensions import db
from tests.browser.test_modules_browser import log_in, log_out, shot, status_with
from tests.helpers import link_in, outbox
from tests.learnplatform.test_accounts import REGISTRATION
from tests.learnplatform.test_storage import PDF

ROOM = "Sahel prosecutors: special investigative techniques"
MANUAL = "Manual on special investigative techniques"


def a_published_module(app) -> None:
    with app.app_context():
        module = Module(
            title="Requesting electronic evidence across borders",
            summary="Preservation requests, emergency disclosure, mutual legal assistance.",
            theme="electronic_evidence",
            language="fr",
            estimated_minutes=120,
            enrolment_mode="open",
        )
        db.session.add(module)
        db.session.flush()
        services.add_lesson(module, title="Why it matters", body_html="<p>Body</p>")
        services.set_published(module, True)
        db.session.commit()


def test_a_room_from_creation_to_a_downloaded_manual(app, live_server, page, create_user, tmp_path):
    trainer = create_user(role="trainer", name="Kwame Mensah")
    outsider = create_user(name="Olga Petrova")
    a_published_module(app)
    manual = tmp_path / "manual-sit.pdf"
    manual.write_bytes(PDF)

    # The trainer opens the room.
    log_in(page, live_server, trainer.email, "Kwame Mensah")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My iRooms").click()
    page.get_by_role("link", name="New iRoom").click()
    page.get_by_label("Name").fill(ROOM)
    page.get_by_label("What the room is for").fill(
        "Prosecutors and investigating judges of the Sahel share practice on controlled "
        "deliveries, undercover operations and interception."
    )
    page.get_by_label("Working language").select_option(value="fr")
    page.get_by_label("Theme").select_option(label="Criminal justice responses to terrorism")
    page.get_by_label("Country or region").fill("Sahel")
    shot(page, "irooms-01-new-room")
    page.get_by_role("button", name="Save the room").click()
    status_with(page, "The room is open.").wait_for()
    room_url = page.url

    # A manual and a module in the library.
    page.get_by_role("link", name="Library", exact=True).click()
    page.get_by_role("link", name="Add the first resource").click()
    page.get_by_label("Title").fill(MANUAL)
    page.get_by_label("Category").select_option(label="Manual")
    page.get_by_label("Language", exact=True).select_option(value="fr")
    page.get_by_label("Tags").fill("undercover, controlled delivery")
    page.get_by_label("File").set_input_files(str(manual))
    page.get_by_role("button", name="Add to the library").click()
    status_with(page, "is added to the library.").wait_for()
    page.get_by_role("link", name="Library", exact=True).click()
    page.get_by_role("link", name="Add a resource").click()
    page.get_by_label("Title").fill("E-learning: electronic evidence")
    page.get_by_label("Category").select_option(label="E-learning module")
    page.get_by_label("Language", exact=True).select_option(value="fr")
    page.get_by_label("E-learning module").select_option(
        label="Requesting electronic evidence across borders"
    )
    page.get_by_role("button", name="Add to the library").click()
    status_with(page, "is added to the library.").wait_for()
    page.get_by_role("link", name="Library", exact=True).click()
    shot(page, "irooms-02-library")

    # An invitation link.
    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Note for the hosts").fill("Prosecutors of the Niamey office")
    page.get_by_role("button", name="Create the link").click()
    link = page.get_by_label("Invitation link").input_value()
    shot(page, "irooms-03-invitation")
    log_out(page, "Kwame Mensah")

    # A visitor opens it, registers, confirms, logs in, and lands in the room.
    page.goto(link)
    page.get_by_text(f"You are invited to join {ROOM} as participant.").wait_for()
    shot(page, "irooms-04-invitation-visitor")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Full name").fill("Awa Konaté")
    page.get_by_label("E-mail address").fill("awa@example.org")
    page.get_by_label("Password").fill(REGISTRATION["password"])
    page.get_by_label("Country where you work").select_option(value="ML")
    page.get_by_label("Organisation").fill("Pôle judiciaire spécialisé, Bamako")
    page.get_by_label("Type of agency").select_option(value="prosecution")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("Check your e-mail").first.wait_for()
    # Confirming the address makes her a member, whichever browser opens the link.
    page.goto(live_server + link_in(outbox(app, "awa@example.org")[-1]))
    status_with(page, f"You are now a member of {ROOM}.").wait_for()
    page.get_by_label("E-mail address").fill("awa@example.org")
    page.get_by_label("Password").fill(REGISTRATION["password"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=ROOM).wait_for()
    shot(page, "irooms-05-room-joined")

    # She finds the manual by its category and downloads it.
    page.get_by_role("link", name="Library", exact=True).click()
    page.get_by_label("Category").select_option(label="Manual")
    page.locator("main").get_by_role("button", name="Search").click()
    page.get_by_role("link", name=MANUAL).wait_for()
    assert page.get_by_role("link", name="E-learning: electronic evidence").count() == 0
    shot(page, "irooms-06-library-filtered")
    page.get_by_role("link", name=MANUAL).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download", exact=True).click()
    assert Path(download.value.path()).read_bytes() == PDF
    log_out(page, "Awa Konaté")

    # The host sees the download.
    log_in(page, live_server, trainer.email, "Kwame Mensah")
    page.goto(room_url)
    page.get_by_role("link", name="Library", exact=True).click()
    deadline = time.monotonic() + 5
    while "1 download" not in page.locator("main").inner_text():
        assert time.monotonic() < deadline, "the download was not counted"
        page.reload()
    shot(page, "irooms-07-host-sees-download")
    log_out(page, "Kwame Mensah")

    # An outsider at the room's address: the not-found page.
    log_in(page, live_server, outsider.email, "Olga Petrova")
    response = page.goto(room_url)
    assert response.status == 404
    assert ROOM not in page.content()
    assert page.get_by_text("Page not found").count() > 0
    shot(page, "irooms-08-outsider-not-found")
    assert [e for e in page.console_errors if "status of 404" not in e] == []
