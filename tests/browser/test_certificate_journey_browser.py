"""A certificate's whole journey in Chromium, in Arabic and in Chinese: a practitioner completes a
module in the platform's pages in their language and downloads the PDF; poppler reads the name,
the module and the date in it and renders its page, where the Arabic is drawn joined, right to
left; the QR code, decoded from that image, opens the public verification page; an independent
library (openbadgeslib) verifies the Open Badges credential; a trainer revokes the certificate and
both verifications then fail. Screenshots are kept in test-artifacts/ under names starting with
``certificate-journey-``."""

import html
import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from openbadgeslib.ob3 import OB3VerificationError, OB3Verifier
from sqlalchemy import select

from courses.models import Certificate
from learnplatform.extensions import db
from tests.browser.conftest import ARTIFACTS, tr
from tests.browser.test_certificate_verification_browser import revoke_through_the_form
from tests.courses.test_certificate_pdf import POPPLER, long_date, page_image, pdf_text
from tests.courses.test_credentials import credential_status_ok, published_key_pem, tampered
from tests.courses.test_modules import build_module
from tests.helpers import PASSWORD

#: the rendered page's resolution: 150 dots per inch, PDF coordinates are 72 points per inch
DPI = 150

#: per language: the learner's name as they wrote it, and a module written in that language
JOURNEYS = {
    "ar": {
        "name": "فاطمة الزهراء بن علي",
        "title": "مكافحة تمويل الإرهاب",
        "summary": "كيف تجمع الجماعات الإرهابية الأموال وتنقلها وتستخدمها.",
        "lessons": ["الإطار القانوني الدولي", "التحقيقات المالية"],
        "question": "ما الهيئة التي تضع المعايير الدولية لمكافحة تمويل الإرهاب؟",
        "answers": [("مجموعة العمل المالي", True), ("منظمة الصحة العالمية", False)],
    },
    "zh": {
        "name": "王小明",
        "title": "打击资助恐怖主义",
        "summary": "恐怖团体如何筹集、转移和使用资金。",
        "lessons": ["国际法律框架", "金融调查"],
        "question": "哪个机构制定打击资助恐怖主义的国际标准？",  # noqa: RUF001
        "answers": [("金融行动特别工作组", True), ("世界卫生组织", False)],
    },
}

#: Arabic letters that never join the letter after them (Unicode joining types R and U)
NOT_JOINING_NEXT = frozenset("ءآأؤإاةدذرزوى")


def joined_pieces(word: str) -> int:
    """How many separate pieces of ink an Arabic word is drawn in once its letters are joined:
    a piece ends after a letter that does not join the next one (a hamza stands alone)."""
    return sum(
        1
        for index, letter in enumerate(word)
        if index == 0 or word[index - 1] in NOT_JOINING_NEXT or letter == "ء"
    )


def word_boxes(pdf: Path) -> list[tuple[str, tuple[float, ...]]]:
    """Each word poppler finds on the page with its box in points, glyphs in the order they
    are drawn from left to right."""
    listing = subprocess.run(  # noqa: S603 - our own arguments
        [POPPLER["pdftotext"], "-bbox", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    return [
        (html.unescape(found[4]), tuple(float(value) for value in found[:4]))
        for found in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            listing,
        )
    ]


def ink_pieces(image, box) -> list[int]:
    """The sizes in pixels of the separate pieces of ink (8-connected dark pixels) inside
    ``box`` (points) of the page rendered at ``DPI``, largest first."""
    left, top, right, bottom = (round(value * DPI / 72) for value in box)
    crop = image.convert("L").crop((left, top, right, bottom))
    width, height = crop.size
    pixels = crop.load()
    dark = {(x, y) for y in range(height) for x in range(width) if pixels[x, y] < 128}
    sizes = []
    while dark:
        stack, size = [dark.pop()], 0
        while stack:
            x, y = stack.pop()
            size += 1
            for neighbour in [(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]:
                if neighbour in dark:
                    dark.remove(neighbour)
                    stack.append(neighbour)
        sizes.append(size)
    return sorted(sizes, reverse=True)


def strokes(image, box) -> int:
    """The pieces of ink in ``box`` that are letters, not the dots above or below them."""
    height = (box[3] - box[1]) * DPI / 72
    return sum(1 for size in ink_pieces(image, box) if size >= height * height / 200)


def boxes_of(words, text: str) -> list[tuple[float, ...]]:
    """The boxes of the words of ``text`` on the page, in the order the words are written, for
    text drawn right to left (each word's glyphs reversed) or left to right."""
    found = dict(words)
    boxes = []
    for word in text.split():
        drawn = word[::-1] if re.search(r"[\u0600-\u06ff]", word) else word
        assert drawn in found, (word, [listed for listed, _ in words])
        boxes.append(found[drawn])
    return boxes


def unspaced(text: str) -> str:
    """``text`` without spaces and without the marks poppler puts around runs of right-to-left
    and left-to-right text (U+202A to U+202E), which move spaces between them."""
    return re.sub(r"[\s\u202a-\u202e]", "", text)


def download(page, action) -> bytes:
    """What the browser downloads when ``action`` runs."""
    with page.expect_download() as started:
        action()
    return Path(started.value.path()).read_bytes()


def fetch(url: str) -> bytes:
    """A verifier's downloader: plain HTTP, nothing from the browser's session."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the test's server
        return response.read()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"certificate-journey-{name}.png"), full_page=True)


def complete_the_module(app, page, live_server, language, journey, email):
    """The practitioner logs in and completes the module through its pages in ``language``."""

    def say(text, **variables):
        return tr(app, language, text, **variables)

    page.goto(f"{live_server}/login")
    page.get_by_label(say("E-mail address")).fill(email)
    page.get_by_label(say("Password")).fill(PASSWORD)
    page.get_by_role("button", name=say("Log in")).click()
    page.get_by_role("heading", name=say("Welcome, %(name)s", name=journey["name"])).wait_for()
    assert page.locator("html").get_attribute("lang") == language

    page.get_by_role("navigation", name=say("Main")).get_by_role(
        "link", name=say("Catalogue")
    ).click()
    page.get_by_role("link", name=journey["title"]).click()
    page.get_by_role("button", name=say("Enrol")).click()
    page.get_by_role("link", name=say("Start the first lesson")).click()
    page.get_by_role("heading", name=journey["lessons"][0]).wait_for()
    page.get_by_role("button", name=say("Mark as done and continue")).click()
    page.get_by_role("heading", name=journey["lessons"][1], level=1).wait_for()
    page.get_by_role("button", name=say("Mark as done"), exact=True).click()
    page.get_by_role("link", name=say("Take the post-test")).click()
    page.get_by_role("button", name=say("Start an attempt")).click()
    right = next(answer for answer, correct in journey["answers"] if correct)
    page.get_by_label(right).check()
    page.get_by_role("button", name=say("Submit your answers")).click()
    ready = page.get_by_role("status").filter(
        has_text=say("You have completed this module. Your certificate is ready.")
    )
    ready.get_by_role("link", name=say("View your certificate")).click()
    page.get_by_role("heading", name=say("Certificate of completion")).wait_for()
    shot(page, f"{language}-certificate")


@pytest.mark.parametrize("language", JOURNEYS)
def test_a_certificate_from_completion_to_revocation(
    app, live_server, browser, create_user, tmp_path, language
):
    import zxingcpp

    app.config["PUBLIC_ORIGIN"] = live_server  # the address the QR code and credential carry
    journey = JOURNEYS[language]
    trainer = create_user(role="trainer", name="Kwame Mensah")
    learner = create_user(name=journey["name"], language=language)
    module_id = build_module(
        app,
        trainer.id,
        title=journey["title"],
        language=language,
        summary=journey["summary"],
        lesson_titles=journey["lessons"],
        questions=[("single", journey["question"], "", journey["answers"])],
    )
    context = browser.new_context(locale=language, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    def say(text, **variables):
        return tr(app, language, text, **variables)

    complete_the_module(app, page, live_server, language, journey, learner.email)
    with app.app_context():
        certificate = db.session.scalar(
            select(Certificate).where(Certificate.user_id == learner.id)
        )
        db.session.expunge(certificate)
    assert certificate.language == language

    # The PDF: the name, the module and the date, read by poppler and drawn on the page.
    pdf = download(page, page.get_by_role("button", name=say("Download as PDF")).click)
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    text = unspaced(pdf_text(pdf))
    date = long_date(certificate, language)
    for wanted in (journey["name"], journey["title"], date, certificate.code):
        assert unspaced(wanted) in text, (wanted, text)
    image = page_image(pdf, tmp_path)
    image.save(ARTIFACTS / f"certificate-journey-{language}-pdf.png")
    words = word_boxes(tmp_path / "certificate.pdf")
    for shown in (journey["name"], journey["title"], date):
        for box in boxes_of(words, shown):
            assert strokes(image, box) >= 1, (shown, box)  # drawn, not only in the text layer
    if language == "ar":
        name_words = journey["name"].split()
        boxes = boxes_of(words, journey["name"])
        # Right to left: each word's glyphs are laid out from its last letter to its first,
        # and the first word stands rightmost.
        assert [box[0] for box in boxes] == sorted((box[0] for box in boxes), reverse=True)
        # Shaped: the letters of each word are joined into as many pieces as Arabic writing
        # has, where letters left isolated would make one piece each.
        assert [strokes(image, box) for box in boxes] == [joined_pieces(w) for w in name_words]
        assert sum(joined_pieces(w) for w in name_words) < sum(len(w) for w in name_words)

    # The QR code, read from the rendered page, opens the public verification page.
    (found,) = zxingcpp.read_barcodes(image)
    assert found.text == f"{live_server}/certificates/verify/{certificate.code}"
    verifier = browser.new_context(locale=language)
    checking = verifier.new_page()
    checking.goto(found.text)
    checking.get_by_text(say("This certificate is genuine.")).wait_for()
    assert checking.get_by_text(journey["name"]).is_visible()
    assert checking.get_by_text(journey["title"]).is_visible()
    assert checking.get_by_text(tr(app, language, "Completed on")).is_visible()
    shot(checking, f"{language}-verified")

    # The Open Badges credential, as the learner downloads it, verified by another library.
    page.goto(f"{live_server}/courses/certificates/{certificate.id}")
    envelope = json.loads(
        download(
            page,
            page.get_by_role("link", name=say("Download the credential (Open Badges 3.0)")).click,
        )
    )
    token = envelope["id"].removeprefix("data:application/vc+jwt,")
    issuer = f"{live_server}/credentials/issuer"
    key = published_key_pem(fetch, issuer)
    verified = OB3Verifier(key).verify(token, check_status=True, download=fetch)
    assert verified.achievement.name == journey["title"]
    assert credential_status_ok(fetch, token, issuer)
    forged = tampered(
        token, lambda claims: claims["credentialSubject"]["identifier"][0].update(identityHash="X")
    )
    with pytest.raises(OB3VerificationError):
        OB3Verifier(key).verify(forged)

    # A trainer revokes it: the page the QR code opens and the credential's status both say so.
    trainer_context = browser.new_context(viewport={"width": 1280, "height": 900})
    revoke_through_the_form(
        trainer_context.new_page(), live_server, trainer, module_id, journey["name"]
    )
    checking.goto(found.text)
    checking.get_by_text(say("This certificate was revoked.")).wait_for()
    assert "wrong account" not in checking.content()
    shot(checking, f"{language}-revoked")
    assert not credential_status_ok(fetch, token, issuer)
    with pytest.raises(OB3VerificationError):
        OB3Verifier(key).verify(token, check_status=True, download=fetch)
    assert errors == []
    for opened in (context, verifier, trainer_context):
        opened.close()
