"""A verifier types a certificate's code into the public verification page, in Chromium, on a
desktop and a phone: a valid code, an unknown one, a revoked certificate. Full-page screenshots
are kept in test-artifacts/ under names starting with ``verify-``."""

import pytest

from courses import certificates, services
from courses.models import Certificate, Module
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from tests.browser.conftest import ARTIFACTS
from tests.courses.test_modules import build_module
from tests.helpers import PASSWORD

WIDTHS = {"desktop": 1280, "phone": 390}


def issue(app, learner, title):
    """The learner completes a one-lesson module titled ``title``: the certificate's id and code."""
    module_id = build_module(app, lessons=1, post_test=False, title=title)
    with app.app_context():
        module = db.session.get(Module, module_id)
        enrolment = services.enrol(module, learner)
        services.mark_done(enrolment, module.lessons[0])
        db.session.commit()
        certificate = db.session.query(Certificate).filter_by(enrolment_id=enrolment.id).one()
        return certificate.id, certificate.code


@pytest.mark.parametrize("device", WIDTHS)
def test_a_verifier_checks_codes_as_printed_and_as_mistyped(
    app, live_server, browser, create_user, device
):
    learner = create_user(name="Aïcha Maïga")
    admin = create_user(role="administrator")
    _, code = issue(app, learner, "Countering the financing of terrorism")
    revoked_id, revoked_code = issue(app, learner, "Electronic evidence across borders")
    with app.app_context():
        certificates.revoke(
            db.session.get(Certificate, revoked_id),
            reason="Issued to the wrong account.",
            actor=db.session.get(User, admin.id),
        )
        db.session.commit()

    width = WIDTHS[device]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    # An unknown code is answered 404, which Chromium reports; anything else is an error.
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "status of 404" not in message.text
            and errors.append(message.text)
        ),
    )
    ARTIFACTS.mkdir(exist_ok=True)

    def shot(name):
        page.screenshot(path=str(ARTIFACTS / f"verify-{name}-{width}.png"), full_page=True)

    def check(typed):
        page.get_by_label("Verification code").fill(typed)
        page.get_by_role("button", name="Verify").click()
        page.wait_for_load_state()

    page.goto(f"{live_server}/certificates/verify/")
    assert page.title().startswith("Verify a certificate")
    shot("form")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll

    check(f"{code[:4].lower()} {code[4:8]}-{code[8:]}")
    page.get_by_text("This certificate is genuine.").wait_for()
    assert page.get_by_text("Aïcha Maïga").is_visible()
    assert page.title().startswith("Valid certificate")
    shot("valid")

    check("ABCD-EFGH-0000")
    page.get_by_text("No certificate has this code.").wait_for()
    assert page.get_by_label("Verification code").input_value() == "ABCD-EFGH-0000"
    shot("unknown")

    page.goto(f"{live_server}/certificates/verify/{revoked_code}")
    page.get_by_text("This certificate was revoked.").wait_for()
    assert "wrong account" not in page.content()
    shot("revoked")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()


def test_a_trainer_revokes_a_certificate_and_its_verification_says_so(
    app, live_server, page, create_user
):
    trainer = create_user(role="trainer", name="Kwame Mensah")
    learner = create_user(name="Aïcha Maïga")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    with app.app_context():
        module = db.session.get(Module, module_id)
        services.mark_done(services.enrol(module, learner), module.lessons[0])
        db.session.commit()
        code = db.session.query(Certificate).one().code

    revoke_through_the_form(page, live_server, trainer, module_id, "Aïcha Maïga")
    page.screenshot(path=str(ARTIFACTS / "verify-revoked-list-1280.png"), full_page=True)

    page.goto(f"{live_server}/certificates/verify/{code}")
    page.get_by_text("This certificate was revoked.").wait_for()
    assert "wrong account" not in page.content()


def revoke_through_the_form(page, live_server, trainer, module_id, learner_name) -> None:
    """The trainer logs in and revokes ``learner_name``'s certificate from the module's
    certificates page: first without a reason (refused), then with one."""
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail address").fill(trainer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Welcome, {trainer.name}").wait_for()
    page.goto(f"{live_server}/courses/manage/{module_id}")
    page.get_by_role("link", name="Certificates: see or revoke them").click()
    page.get_by_role("link", name=f"Revoke the certificate of {learner_name}").click()
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Revoke the certificate").click()  # no reason yet
    # The refusal comes back as the field's error (the same words may stand in its help text).
    page.locator(
        ".invalid-feedback", has_text="Give the reason for revoking the certificate."
    ).wait_for()
    page.get_by_label("Reason").fill("Issued to the wrong account.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "verify-revoke-form-1280.png"), full_page=True)
    page.get_by_role("button", name="Revoke the certificate").click()
    page.get_by_text(f"The certificate of {learner_name} is revoked.").wait_for()
    assert asked == [f"Revoke the certificate of {learner_name}? This cannot be undone."] * 2
