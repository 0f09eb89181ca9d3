"""The learner's path to a certificate in Chromium, at a desktop's width and a phone's: with every
lesson done, Continue leads to the post-test and the bar is not full; passing it says the
certificate is ready with a link to it; My learning lists it. Screenshots are kept in
test-artifacts/ under names starting with ``learner-path-``.
"""

from sqlalchemy import select

from courses import services
from courses.models import Certificate, Enrolment, Module
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from tests.browser.conftest import shots_at_widths
from tests.browser.test_modules_browser import log_in, status_with
from tests.courses.test_modules import build_module

WIDTHS = {"desktop": 1280, "phone": 390}


def shot(page, name: str) -> None:
    """Full-page screenshots of the current page at each width, and no sideways scrolling."""
    shots_at_widths(page, f"learner-path-{name}", WIDTHS)


def every_lesson_done(app, module_id, user_id) -> None:
    """Enrol the learner and mark every lesson done, as the lesson pages would."""
    with app.app_context():
        module = db.session.get(Module, module_id)
        learner_enrolment = services.enrol(module, db.session.get(User, user_id))
        for lesson in module.lessons:
            services.open_lesson(learner_enrolment, lesson)
            services.mark_done(learner_enrolment, lesson)
        db.session.commit()


def revoked_certificate_of(app, user_id, title) -> None:
    """A module the learner completed whose certificate a trainer revoked."""
    module_id = build_module(app, lessons=1, post_test=False, title=title)
    every_lesson_done(app, module_id, user_id)
    with app.app_context():
        certificate = db.session.scalar(
            select(Certificate).join(Enrolment).where(Enrolment.module_id == module_id)
        )
        certificate.revoked_at = utcnow()
        certificate.revoked_reason = "Issued in error."
        db.session.commit()


def test_the_path_from_the_last_lesson_to_the_certificate(app, live_server, page, create_user):
    learner = create_user(name="Aïcha Maïga")
    module_id = build_module(app, lessons=4)
    every_lesson_done(app, module_id, learner.id)
    build_module(app, lessons=3, title="Investigating terrorist use of the internet")
    revoked_certificate_of(app, learner.id, "Prison radicalisation")
    log_in(page, live_server, learner.email, "Aïcha Maïga")

    # Every lesson done, the post-test not taken: the bar is not full and says what is left.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    page.get_by_role("heading", name="In progress").wait_for()
    bar = page.get_by_role("progressbar", name="Progress in Countering the financing of terrorism")
    assert bar.get_attribute("aria-valuenow") == "80"
    assert page.get_by_text("4 of 4 lessons done · post-test to pass").is_visible()
    shot(page, "01-my-learning-post-test-left")

    page.get_by_role("link", name="Countering the financing of terrorism").click()
    page.get_by_role("heading", name="Countering the financing of terrorism").wait_for()
    assert page.get_by_role("progressbar", name="Your progress").get_attribute("aria-valuenow") == (
        "80"
    )
    shot(page, "02-module-post-test-left")

    # The call to action leads to the post-test, which is passed.
    page.get_by_role("link", name="Take the post-test").click()
    page.get_by_role("heading", name="Post-test").wait_for()
    page.get_by_role("button", name="Start an attempt").click()
    page.get_by_label("FATF").check()
    page.get_by_label("Suspicious transaction reports").check()
    page.get_by_label("Cash declarations").check()
    page.get_by_role("button", name="Submit your answers").click()
    ready = status_with(page, "Your certificate is ready.")
    ready.wait_for()
    shot(page, "03-certificate-ready")

    ready.get_by_role("link", name="View your certificate").click()
    page.get_by_role("heading", name="Certificate of completion").wait_for()
    assert page.locator("article.certificate").get_by_text("Aïcha Maïga").is_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    page.get_by_role("heading", name="Completed", exact=True).wait_for()
    completed = page.locator(".list-group-item", has_text="Countering the financing of terrorism")
    assert completed.get_by_role("link", name="View and print").is_visible()
    assert completed.get_by_role("link", name="Download as PDF").is_visible()
    revoked = page.locator(".list-group-item", has_text="Prison radicalisation")
    assert revoked.get_by_text("Certificate revoked").is_visible()
    assert revoked.get_by_role("link").count() == 1  # the module only
    shot(page, "04-my-learning-completed")

    page.get_by_role("link", name="Countering the financing of terrorism").first.click()
    page.get_by_role("link", name="View your certificate").wait_for()
    shot(page, "05-module-completed")
    assert page.console_errors == []
