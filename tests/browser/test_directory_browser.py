"""The member directory of a room in Chromium (issue 20): a participant chooses on her account page
what her rooms' directories show; in the room she and the others are listed with only what each
chose; she filters by country and expertise and opens her own page with her posts and answers; the
host sees the same directory with the controls to manage members. Full-page screenshots at 1280
and 390 pixels are kept in test-artifacts/ under names starting with ``directory-``."""

from tests.browser.conftest import shots_at_widths
from tests.browser.test_modules_browser import log_in, log_out, status_with
from tests.irooms.test_directory import Forums, profile
from tests.irooms.test_rooms import add_room

WIDTHS = {"1280": 1280, "390": 390}


def shot(page, name: str) -> None:
    """Full-page screenshots of the current page at each width, and no sideways scrolling."""
    shots_at_widths(page, f"directory-{name}", WIDTHS)


def listed_names(page) -> list[str]:
    return (
        page.get_by_role("list", name="Members of Sahel prosecutors")
        .get_by_role("heading")
        .all_inner_texts()
    )


def test_a_member_shows_her_expertise_and_is_found_by_it(app, live_server, page, create_user):
    host = create_user(role="trainer", name="Kwame Mensah")
    aicha = create_user(name="Aïcha Maïga", country="ML")
    moussa = create_user(name="Moussa Traoré", country="NE")
    olga = create_user(name="Olga Petrova", country="KZ")
    profile(app, moussa, shows="country,expertise", expertise="Terrorist financing")
    profile(app, olga, organisation="Agency she keeps to herself")
    room_id = add_room(
        app,
        "Sahel prosecutors",
        [(host, "host"), (aicha, "participant"), (moussa, "expert"), (olga, "participant")],
    )
    forums = Forums(app)
    forums.topic(
        room_id,
        "Gel des avoirs : quelle procédure ?",
        [(moussa, "<p>Qui a déjà gelé des avoirs ?</p>"), (aicha, "<p>Par la CENTIF.</p>")],
        question=True,
        answer=2,
    )
    forums.topic(
        room_id,
        "Livraisons surveillées au Sahel",
        [(aicha, "<p>Un retour d'expérience de Bamako, avec les autorisations du parquet.</p>")],
    )

    # Aïcha chooses what her rooms' directories show.
    log_in(page, live_server, aicha.email, "Aïcha Maïga")
    page.goto(f"{live_server}/account")
    page.get_by_label("Fields of expertise", exact=True).fill(
        "Enquêtes financières, saisie d'avoirs,, enquêtes FINANCIÈRES"
    )
    page.get_by_label("Languages you work in").fill("Français, Bambara")
    directory = page.get_by_role("group", name="Show in the member directories of my rooms")
    for field in ("My country", "My fields of expertise", "The languages I work in"):
        directory.get_by_label(field).check()
    assert not directory.get_by_label("My organisation").is_checked()
    page.get_by_role("button", name="Save").click()
    status_with(page, "Your profile has been saved.").wait_for()
    assert (
        page.get_by_label("Fields of expertise", exact=True).input_value()
        == "Enquêtes financières, saisie d'avoirs"
    )
    shot(page, "01-account")

    # The room's directory: everyone by name and role, and only what each chose.
    page.goto(f"{live_server}/irooms/{room_id}")
    page.get_by_role("link", name="Members", exact=True).click()
    assert listed_names(page) == ["Kwame Mensah", "Moussa Traoré", "Aïcha Maïga", "Olga Petrova"]
    body = page.locator("main").inner_text()
    assert "Mali" in body and "saisie d'avoirs" in body and "Bambara" in body
    assert "Kazakhstan" not in body and "Agency she keeps to herself" not in body
    assert page.get_by_label("Country").locator("option").all_inner_texts() == [
        "All countries",
        "Mali",
        "Niger",
    ]
    shot(page, "02-members")

    # Filters: by country, then by a word of expertise typed without its accents.
    page.get_by_label("Country").select_option(label="Niger")
    page.get_by_role("button", name="Filter").click()
    assert listed_names(page) == ["Moussa Traoré"]
    page.get_by_label("Country").select_option(label="All countries")
    page.get_by_label("Expertise").fill("financieres")
    page.get_by_role("button", name="Filter").click()
    assert listed_names(page) == ["Aïcha Maïga"]
    status_with(page, "1 member of 4 matches").wait_for()
    shot(page, "03-filtered")

    # Her own page: her posts and answers in the room, newest first.
    page.get_by_role("link", name="Aïcha Maïga").click()
    page.get_by_role("heading", name="Posts and answers in this room").wait_for()
    assert page.get_by_role("heading", level=3).all_inner_texts() == [
        "Livraisons surveillées au Sahel",
        "Gel des avoirs : quelle procédure ?",
    ]
    page.get_by_text("Other members see your name, your role and only what you chose").wait_for()
    shot(page, "04-member")
    page.get_by_role("link", name="1 answer").click()
    assert page.get_by_role("heading", level=3).all_inner_texts() == [
        "Gel des avoirs : quelle procédure ?"
    ]
    log_out(page, "Aïcha Maïga")

    # The host: the same directory, with the controls to manage members.
    log_in(page, live_server, host.email, "Kwame Mensah")
    page.goto(f"{live_server}/irooms/{room_id}/members")
    page.get_by_role("heading", name="Add a member").wait_for()
    page.get_by_label("Role of Olga Petrova").wait_for()
    assert "Agency she keeps to herself" not in page.locator("main").inner_text()
    shot(page, "05-host")
    assert page.console_errors == []
