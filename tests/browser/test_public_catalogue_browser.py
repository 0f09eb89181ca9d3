"""The public catalogue in Chromium: a visitor reading in French finds the CBRN module by typing
"nucleaire", reads its page, enrols through registration and lands back on it, enrolled; and the
header holds on one row at 1280 px for every role in the longest languages."""

import pytest
from sqlalchemy import select

from courses.models import Enrolment, Lesson, Module, Question, Quiz, Webinar, WebinarSeries
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from tests.browser.conftest import shots_at_widths, tr
from tests.helpers import PASSWORD, link_in, outbox

WIDTHS = {"1280": 1280, "390": 390}
TITLE = "Terrorisme chimique, biologique, radiologique et nucléaire"
PASSPHRASE = "une longue phrase sur le lac Tchad"


def add_cbrn_module(app) -> int:
    """The CBRN module, public, in French, with a version in English; the French one's id."""
    with app.app_context():
        english = Module(
            title="Chemical, biological, radiological and nuclear terrorism",
            summary="How prosecutors bring CBRN terrorism cases under the universal instruments.",
            theme="cbrn",
            language="en",
            estimated_minutes=150,
            is_published=True,
            is_public=True,
            published_at=utcnow(),
        )
        french = Module(
            title=TITLE,
            summary=(
                "Comment les procureurs poursuivent le terrorisme nucléaire et radiologique au "
                "titre des instruments universels : infractions, preuves, coopération."
            ),
            theme="cbrn",
            language="fr",
            estimated_minutes=150,
            is_published=True,
            is_public=True,
            published_at=utcnow(),
            lessons=[
                Lesson(position=1, title="La menace NRBC", body_html="<p>La menace.</p>"),
                Lesson(position=2, title="Les instruments universels", body_html="<p>Textes.</p>"),
                Lesson(position=3, title="Enquêter et poursuivre", body_html="<p>Preuves.</p>"),
            ],
            lesson_count=3,
            quizzes=[
                Quiz(
                    kind="post_test",
                    title="Test final",
                    questions=[Question(position=1, kind="true_false", text="Vrai ?")],
                )
            ],
        )
        draft = Module(title="Un module privé nucléaire", theme="cbrn", language="fr")
        db.session.add_all([english, french, draft])
        db.session.flush()
        english.family_id = french.family_id = english.id
        db.session.add(
            WebinarSeries(
                title="Dialogues publics",
                description="Des procureurs parlent des affaires NRBC.",
                theme="cbrn",
                language="fr",
                is_public=True,
                webinars=[
                    Webinar(
                        title="Poursuivre le trafic de matières nucléaires",
                        language="fr",
                        speakers="Juge A. Diallo, Procureure M. Keïta",
                        starts_at=utcnow(),
                    )
                ],
            )
        )
        db.session.commit()
        return french.id


def test_a_visitor_in_french_finds_reads_and_enrols_through_registration(app, live_server, page):
    module_id = add_cbrn_module(app)

    def say(text, **variables):
        return tr(app, "fr", text, **variables)

    page.goto(f"{live_server}/")
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="Français").click()
    page.get_by_role("heading", name=say("Modules open to everyone")).wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    shots_at_widths(page, "public-home-fr", WIDTHS)

    main = page.get_by_role("navigation", name=say("Main"))
    main.get_by_role("link", name=say("Catalogue")).click()
    page.locator("main").get_by_label(say("Search"), exact=True).fill("nucleaire")
    page.locator("main").get_by_role("button", name=say("Search")).click()
    results = page.locator("main article")
    results.first.wait_for()
    assert results.count() == 1  # the private module with the same word stays hidden
    shots_at_widths(page, "public-catalogue-fr", WIDTHS)

    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name=TITLE).wait_for()
    assert page.title().startswith(TITLE)
    assert page.get_by_text("Les instruments universels").is_visible()
    assert page.get_by_text("Test final").is_visible()
    assert page.locator('link[rel="alternate"][hreflang="en"]').count() == 1
    assert page.locator('link[rel="alternate"][hreflang="x-default"]').count() == 1
    shots_at_widths(page, "public-module-fr", WIDTHS)

    page.get_by_role("link", name=say("Enrol"), exact=True).click()
    page.locator("main").get_by_role("link", name=say("Create an account")).click()
    page.get_by_label(say("Full name")).fill("Aminata Traoré")
    page.get_by_label(say("E-mail address")).fill("aminata.traore@example.org")
    page.get_by_label(say("Password")).fill(PASSPHRASE)
    page.get_by_label(say("Country where you work")).select_option("ML")
    page.get_by_label(say("Organisation"), exact=True).fill("Pôle judiciaire spécialisé")
    page.get_by_label(say("Type of agency")).select_option("prosecution")
    page.get_by_label(say("Gender")).select_option("woman")
    page.get_by_role("button", name=say("Create account")).click()
    page.get_by_role("heading", name=say("Check your e-mail")).wait_for()

    (message,) = outbox(app, "aminata.traore@example.org")
    page.goto(live_server + link_in(message))
    page.get_by_text(say("Your e-mail address is confirmed. You can log in now.")).wait_for()
    page.get_by_label(say("E-mail address")).fill("aminata.traore@example.org")
    page.get_by_label(say("Password")).fill(PASSPHRASE)
    page.get_by_role("button", name=say("Log in")).click()

    page.get_by_text(
        say("You are enrolled. Start with the first lesson when you are ready.")
    ).wait_for()
    assert page.url == f"{live_server}/courses/modules/{module_id}"
    page.get_by_role("link", name=say("Start the first lesson")).wait_for()
    page.reload()
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == "aminata.traore@example.org"))
        enrolments = db.session.scalars(select(Enrolment).where(Enrolment.user_id == person.id))
        assert [(e.module_id, e.status) for e in enrolments] == [(module_id, "active")]
    shots_at_widths(page, "public-module-enrolled-fr", WIDTHS)

    page.goto(f"{live_server}/courses/webinars")
    assert page.console_errors == []


def test_webinars_for_visitors(app, live_server, page):
    add_cbrn_module(app)
    page.goto(f"{live_server}/courses/webinars")
    page.get_by_role("link", name="Dialogues publics").wait_for()
    shots_at_widths(page, "public-webinars", WIDTHS)


def test_a_trainer_makes_a_module_and_a_series_public(app, live_server, page, create_user):
    trainer = create_user(role="trainer", name="Jean-Baptiste de La Fontaine")
    with app.app_context():
        module = Module(
            title="Nuclear security",
            summary="The conventions.",
            theme="cbrn",
            language="en",
            created_by_id=trainer.id,
        )
        series = WebinarSeries(
            title="Open talks", theme="cbrn", language="en", created_by_id=trainer.id
        )
        db.session.add_all([module, series])
        db.session.commit()
        module_id, series_id = module.id, series.id
    log_in(page, live_server, trainer.email)
    page.goto(f"{live_server}/courses/manage/{module_id}")
    page.get_by_label("Public").check()
    page.get_by_role("button", name="Save module").click()
    page.get_by_text("The module is saved.").wait_for()
    assert page.get_by_label("Public").is_checked()
    shots_at_widths(page, "public-module-form", WIDTHS)
    page.goto(f"{live_server}/courses/webinars/series/{series_id}/edit")
    page.get_by_label("Public").check()
    shots_at_widths(page, "public-series-form", WIDTHS)
    page.get_by_role("button", name="Save series").click()
    page.get_by_text("The series is saved.").wait_for()
    with app.app_context():
        assert db.session.get(Module, module_id).is_public
        assert db.session.get(WebinarSeries, series_id).is_public


def log_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"{live_server}/")


def header_rows(page) -> dict:
    """How the header lies: its height, and the tops and bottoms of everything in its row."""
    return page.evaluate(
        """() => {
        const nav = document.querySelector('header nav');
        const items = [...nav.querySelectorAll(
            '.navbar-brand, #main-nav > .navbar-nav > .nav-item, #main-nav > form')]
            .filter((item) => item.getBoundingClientRect().width > 0);
        const boxes = items.map((item) => item.getBoundingClientRect());
        return {
            height: nav.getBoundingClientRect().height,
            tallest: Math.max(...boxes.map((box) => box.height)),
            padding: parseFloat(getComputedStyle(nav).paddingTop)
                + parseFloat(getComputedStyle(nav).paddingBottom),
            count: boxes.length,
            lowestTop: Math.max(...boxes.map((box) => box.top)),
            highestBottom: Math.min(...boxes.map((box) => box.bottom)),
            overflow: document.documentElement.scrollWidth - window.innerWidth,
        };
    }"""
    )


@pytest.mark.parametrize("language", ["en", "fr", "ru", "es", "pt", "ar", "zh"])
def test_the_header_holds_on_one_row(app, live_server, browser, create_user, language):
    # Long names and the longest role, as people have them.
    people = {
        "visitor": None,
        "practitioner": create_user(
            name="Aleksandra Konstantinovna Voskresenskaya", language=language
        ),
        "trainer": create_user(
            role="trainer", name="Jean-Baptiste de La Fontaine", language=language
        ),
        "administrator": create_user(
            role="administrator", name="Maria Fernanda Albuquerque", language=language
        ),
    }
    for role, person in people.items():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=language)
        page = context.new_page()
        if person is None:
            page.goto(f"{live_server}/")
            if page.locator("html").get_attribute("lang") != language:
                page.locator("#main-nav button.dropdown-toggle").click()
                page.locator(f"button[name=language][value={language}]").click()
                page.wait_for_function(f"() => document.documentElement.lang === '{language}'")
        else:
            log_in(page, live_server, person.email)
        assert page.locator("html").get_attribute("lang") == language
        rows = header_rows(page)
        page.screenshot(path=f"test-artifacts/header-{role}-{language}-1280-top.png")
        # One row: every item's top lies above every item's bottom, and the bar is as tall as
        # its tallest item (a single row) and its padding.
        assert rows["lowestTop"] < rows["highestBottom"], (role, language, rows)
        assert rows["height"] <= rows["tallest"] + rows["padding"] + 1, (role, language, rows)
        assert rows["overflow"] <= 0, (role, language, rows)
        if person is not None and person.role != "practitioner":
            manage = page.get_by_role("button", name=tr(app, language, "Manage"))
            manage.click()
            page.get_by_role("link", name=tr(app, language, "Authoring")).wait_for()
            page.keyboard.press("Escape")
        shots_at_widths(page, f"header-{role}-{language}", WIDTHS)

        # On a phone the menu folds behind its button and opens as a column.
        page.set_viewport_size({"width": 390, "height": 900})
        header = page.locator("header")
        webinars = header.get_by_role("link", name=tr(app, language, "Webinars"), exact=True)
        assert not webinars.is_visible()
        header.get_by_role("button", name=tr(app, language, "Show navigation")).click()
        webinars.wait_for()
        page.locator("#main-nav.show").wait_for()
        page.screenshot(path=f"test-artifacts/header-{role}-{language}-390-open.png")
        context.close()
