"""Certificates checked by anyone who holds a code, and revoked by those who issue them: the
public verification page, its rate limit, and revocation by a module's trainers and
administrators, through the pages people use."""

import json
import re

import pytest
from sqlalchemy import func, select

from courses import certificates, services
from courses.models import Certificate, Module
from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from learnplatform.notifications.models import Notification
from tests.courses.test_modules import build_module
from tests.helpers import (
    PASSWORD,
    Auth,
    count_queries,
    csrf_token,
    in_parallel,
    post_form,
    without_tokens,
)

TITLE = "Countering the financing of terrorism"


def issue_certificate(app, learner, author_id=None):
    """The learner completes a one-lesson module (by ``author_id``): its id, and the
    certificate's id and code."""
    module_id = build_module(app, author_id, lessons=1, post_test=False, title=TITLE)
    with app.app_context():
        module = db.session.get(Module, module_id)
        enrolment = services.enrol(module, learner)
        services.mark_done(enrolment, module.lessons[0])
        db.session.commit()
        certificate = db.session.scalar(
            select(Certificate).where(Certificate.enrolment_id == enrolment.id)
        )
        return module_id, certificate.id, certificate.code


def revoke_directly(app, certificate_id, actor_id, reason="Issued to the wrong account."):
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        assert certificates.revoke(certificate, reason=reason, actor=db.session.get(User, actor_id))
        db.session.commit()


def revocations(app) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.revoke")
        ).all()
        db.session.expunge_all()
        return found


def shown_code(html: str) -> str:
    """The page without what it gives back of the code typed (in the verification form, and in
    the language switcher's way back), nor its CSRF tokens."""
    html = re.sub(r'(id="verification-code"[^>]*value=")[^"]*', r"\1", html)
    return without_tokens(re.sub(r'(name="next" value=")[^"]*', r"\1", html))


# --- Public verification --------------------------------------------------------------------


def test_the_form_is_there_for_anyone_to_type_a_code(client):
    page = client.get("/certificates/verify/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>Verify a certificate ·" in html
    assert 'name="code"' in html and 'action="/certificates/verify/"' in html
    assert "spaces and dashes make no difference" in html
    assert "never contain the letters I and O or the digits 0 and 1" in html


@pytest.mark.parametrize(
    "typed",
    [
        "{code}",
        "{lower}",
        "  {spaced}  ",
        "{dashed}",
        "{fullwidth}",
    ],
)
def test_a_code_is_verified_however_it_is_typed(app, client, create_user, typed):
    learner = create_user(name="Aïcha Maïga")
    _, _, code = issue_certificate(app, learner)
    typed = typed.format(
        code=code,
        lower=code.lower(),
        spaced=f"{code[:4]} {code[4:8]} {code[8:]}",
        dashed=f"{code[:4]}-{code[4:8]}\u2013{code[8:]}".lower(),  # a hyphen, an en dash
        fullwidth="".join(chr(ord(c) + 0xFEE0) for c in code),  # as a CJK keyboard types it
    )
    answer = client.get("/certificates/verify/", query_string={"code": typed})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "This certificate is genuine." in html
    assert "Aïcha Maïga" in html and TITLE in html
    assert "Counter-Terrorism Learning Platform" in html  # the issuing office
    assert "<title>Valid certificate · Verify a certificate" in html


def test_the_address_on_the_certificate_and_its_qr_code_still_works(app, client, create_user):
    _, _, code = issue_certificate(app, create_user(name="Aïcha Maïga"))
    answer = client.get(f"/certificates/verify/{code}")
    assert answer.status_code == 200
    assert "Aïcha Maïga" in answer.get_data(as_text=True)
    assert client.get(f"/certificates/verify/{code.lower()}").status_code == 200


def test_the_date_is_in_the_viewers_language_and_the_issuer_is_a_setting(app, client, create_user):
    app.config["CERTIFICATE_ISSUER"] = "Office of Counter-Terrorism Training"
    _, certificate_id, code = issue_certificate(app, create_user(name="李伟"))
    with app.app_context():
        issued_at = db.session.get(Certificate, certificate_id).issued_at
    answer = client.get(f"/certificates/verify/{code}", headers={"Accept-Language": "fr"})
    html = answer.get_data(as_text=True)
    french_months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet"]
    french_months += ["août", "septembre", "octobre", "novembre", "décembre"]
    assert f"{issued_at.day} {french_months[issued_at.month - 1]} {issued_at.year}" in html
    assert "Office of Counter-Terrorism Training" in html and "李伟" in html


def test_unknown_and_malformed_codes_answer_alike(app, client, create_user):
    _, _, code = issue_certificate(app, create_user(name="Aïcha Maïga"))
    unknown = "ABCDEFGHJK23" if code != "ABCDEFGHJK23" else "ABCDEFGHJK24"
    answers = [
        client.get("/certificates/verify/", query_string={"code": typed})
        for typed in [unknown, "O0I1O0I1O0I1", "ABC", code + "X", "<script>x</script>", "' OR 1=1"]
    ]
    answers.append(client.get("/certificates/verify/ABCDEFGHJK2"))
    assert {answer.status_code for answer in answers} == {404}
    pages = {shown_code(answer.get_data(as_text=True)) for answer in answers}
    assert len(pages) == 1
    (page,) = pages
    assert "No certificate has this code." in page and "Aïcha" not in page
    assert "<title>Unknown code · Verify a certificate" in page
    assert "<script>x" not in answers[4].get_data(as_text=True)  # given back as text


def test_a_revoked_certificate_says_so_with_its_date_but_not_why(app, client, create_user):
    admin = create_user(role="administrator")
    _, certificate_id, code = issue_certificate(app, create_user(name="Aïcha Maïga"))
    revoke_directly(app, certificate_id, admin.id, reason="Disciplinary proceedings.")
    answer = client.get("/certificates/verify/", query_string={"code": code.lower()})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "This certificate was revoked." in html
    assert "This certificate is genuine." not in html
    assert "Disciplinary" not in html
    with app.app_context():
        revoked_at = db.session.get(Certificate, certificate_id).revoked_at
    assert f"revoked on {revoked_at:%B} {revoked_at.day}, {revoked_at.year}" in html
    assert "<title>Revoked certificate · Verify a certificate" in html


def test_verification_is_rate_limited_per_address(app, client, caplog):
    app.config["VERIFY_LIMIT_PER_ADDRESS"] = "3 per minute"
    statuses = [
        client.get("/certificates/verify/", query_string={"code": f"ABCDEFGHJK{n}{n}"}).status_code
        for n in range(2, 5)
    ]
    assert statuses == [404, 404, 404]
    refused = client.get("/certificates/verify/ABCDEFGHJK55")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "You have checked many codes in a short time." in html
    assert "<title>Too many attempts" in html
    assert any("certificate.verify.throttled" in record.getMessage() for record in caplog.records)
    elsewhere = app.test_client().get(
        "/certificates/verify/ABCDEFGHJK55", environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert elsewhere.status_code == 404  # another address is not held back


# --- Revocation -----------------------------------------------------------------------------


def revoke_url(module_id, certificate_id):
    return f"/courses/manage/{module_id}/certificates/{certificate_id}/revoke"


def test_the_modules_trainer_revokes_with_a_reason_and_it_is_audited(
    app, client, create_user, login_as
):
    trainer = login_as("trainer")
    learner = create_user(name="Aïcha Maïga")
    module_id, certificate_id, code = issue_certificate(app, learner, trainer.id)

    authoring = client.get(f"/courses/manage/{module_id}").get_data(as_text=True)
    listing_url = f"/courses/manage/{module_id}/certificates"
    assert listing_url in authoring
    listing = client.get(listing_url).get_data(as_text=True)
    assert "Aïcha Maïga" in listing and code in listing
    assert revoke_url(module_id, certificate_id) in listing

    url = revoke_url(module_id, certificate_id)
    form = client.get(url).get_data(as_text=True)
    assert "This cannot be undone." in form and "data-confirm" in form
    refused = post_form(client, url, {"reason": "   "})
    assert refused.status_code == 200
    assert "Give the reason for revoking the certificate." in refused.get_data(as_text=True)
    too_long = post_form(client, url, {"reason": "x" * 501})
    assert too_long.status_code == 200
    with app.app_context():
        assert db.session.get(Certificate, certificate_id).revoked_at is None

    done = post_form(client, url, {"reason": "Issued to the wrong account."})
    assert done.status_code == 302 and done.headers["Location"].endswith(listing_url)
    listing = client.get(listing_url).get_data(as_text=True)
    assert "The certificate of Aïcha Maïga is revoked." in listing
    assert "Issued to the wrong account." in listing and "Revoked on" in listing
    with app.app_context():
        revoked = db.session.get(Certificate, certificate_id)
        assert revoked.revoked_reason == "Issued to the wrong account."
        assert revoked.revoked_by_id == trainer.id
        notified = db.session.scalar(
            select(Notification)
            .where(Notification.user_id == learner.id)
            .order_by(Notification.id.desc())
        )
        assert notified.kind == "certificate_revoked"
    (event,) = revocations(app)
    assert (event.user_id, event.actor_id) == (learner.id, trainer.id)
    assert json.loads(event.detail)["reason"] == "Issued to the wrong account."
    assert json.loads(event.detail)["certificate_id"] == certificate_id

    # A second submission (the back button, a second tab) revokes nothing more.
    again = client.post(
        url, data={"csrf_token": csrf_token(client, listing_url), "reason": "Again"}
    )
    assert again.status_code == 302
    assert "already revoked" in client.get(listing_url).get_data(as_text=True)
    assert len(revocations(app)) == 1
    with app.app_context():
        assert db.session.get(Certificate, certificate_id).revoked_reason == (
            "Issued to the wrong account."
        )


def test_the_holder_sees_the_revocation_on_their_certificate(app, client, create_user, login_as):
    admin = create_user(role="administrator")
    learner = login_as(name="Aïcha Maïga")
    _, certificate_id, _ = issue_certificate(app, learner)
    page = client.get(f"/courses/certificates/{certificate_id}").get_data(as_text=True)
    assert "was revoked" not in page
    revoke_directly(app, certificate_id, admin.id, reason="Issued to the wrong account.")
    page = client.get(f"/courses/certificates/{certificate_id}").get_data(as_text=True)
    assert "This certificate was revoked on" in page
    assert "Reason: Issued to the wrong account." in page


def test_administrators_revoke_any_modules_certificate(app, client, create_user, login_as):
    author = create_user(role="trainer")
    learner = create_user()
    module_id, certificate_id, _ = issue_certificate(app, learner, author.id)
    admin = login_as("administrator")
    url = revoke_url(module_id, certificate_id)
    assert post_form(client, url, {"reason": "Fraud."}).status_code == 302
    (event,) = revocations(app)
    assert event.actor_id == admin.id


@pytest.mark.parametrize(
    ("role", "status"), [("practitioner", 403), ("trainer", 404), ("anonymous", 302)]
)
def test_nobody_else_may_revoke(app, client, create_user, login_as, role, status):
    author = create_user(role="trainer")
    learner = create_user()
    module_id, certificate_id, _ = issue_certificate(app, learner, author.id)
    url = revoke_url(module_id, certificate_id)
    listing = f"/courses/manage/{module_id}/certificates"
    if role != "anonymous":
        login_as(role)
    token = csrf_token(client, "/login" if role == "anonymous" else "/account")
    assert client.get(url).status_code == status
    assert client.get(listing).status_code == status
    assert client.post(url, data={"csrf_token": token, "reason": "Mine."}).status_code == status
    assert revocations(app) == []


def test_a_certificate_of_another_module_is_not_found(app, client, create_user, login_as):
    trainer = login_as("trainer")
    own_module = build_module(app, trainer.id, lessons=1, post_test=False, title="Own module")
    _, others_certificate, _ = issue_certificate(app, create_user(), create_user("a@x.org").id)
    url = revoke_url(own_module, others_certificate)
    assert client.get(url).status_code == 404
    assert post_form(client, url, {"reason": "x"}, form_url="/account").status_code == 404
    assert revocations(app) == []


def test_revoking_needs_the_forms_token(app, client, create_user, login_as):
    trainer = login_as("trainer")
    module_id, certificate_id, _ = issue_certificate(app, create_user(), trainer.id)
    answer = client.post(revoke_url(module_id, certificate_id), data={"reason": "No token."})
    assert answer.status_code == 400
    assert revocations(app) == []


def test_parallel_revocations_revoke_once(app, create_user):
    trainer = create_user(role="trainer")
    module_id, certificate_id, _ = issue_certificate(app, create_user(), trainer.id)
    url = revoke_url(module_id, certificate_id)

    def prepare(browser):
        token = csrf_token(browser, url)
        return lambda: browser.post(url, data={"csrf_token": token, "reason": "Twice."})

    answers = in_parallel(app, trainer.email, 4, prepare)
    assert [answer.status_code for answer in answers] == [302] * 4
    assert len(revocations(app)) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Certificate.id)).where(Certificate.revoked_at.is_not(None))
            )
            == 1
        )


def test_a_revoked_certificate_fails_verification_after_the_trainer_revokes_it(app, create_user):
    trainer = create_user(role="trainer")
    module_id, certificate_id, code = issue_certificate(app, create_user(), trainer.id)
    browser = app.test_client()
    Auth(browser).login(trainer.email, PASSWORD)
    post_form(browser, revoke_url(module_id, certificate_id), {"reason": "Wrong person."})
    visitor = app.test_client()
    html = visitor.get(f"/certificates/verify/{code}").get_data(as_text=True)
    assert "This certificate was revoked." in html and "Wrong person." not in html


def test_the_list_of_certificates_takes_as_many_queries_for_two_as_for_forty(
    app, client, create_user, login_as
):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)

    def certify(count):
        learner_ids = [create_user().id for _ in range(count)]
        with app.app_context():
            module = db.session.get(Module, module_id)
            for learner_id in learner_ids:
                learner = db.session.get(User, learner_id)
                services.mark_done(services.enrol(module, learner), module.lessons[0])
            db.session.commit()

    listing = f"/courses/manage/{module_id}/certificates"
    certify(2)
    few = count_queries(app, client, listing)
    certify(38)
    assert count_queries(app, client, listing) == few
