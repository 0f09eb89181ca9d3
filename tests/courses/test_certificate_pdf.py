"""Certificates as PDF documents: downloaded by their holder in any language, read back with
poppler's pdftotext, their QR code decoded from the rendered page, stored once and made again
when what they are made from changes."""

import re
import shutil
import subprocess
from datetime import UTC
from pathlib import Path

import pytest
from babel.dates import format_date
from sqlalchemy import func, select, update

from courses import certificate_documents
from courses.models import Certificate, CertificateDocument
from learnplatform.extensions import db
from learnplatform.storage import StoredFile, path_of
from tests.courses.test_credentials import keys_of_its_own
from tests.courses.test_modules import build_module, enrol_in, lesson_ids
from tests.helpers import post_form

FONTS = (
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
#: poppler's tools, by their full paths
POPPLER = {tool: shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts", "pdfdetach")}
_missing = [tool for tool, path in POPPLER.items() if path is None]
_missing += [font for font in FONTS if not Path(font).exists()]
if _missing:
    pytest.skip(
        "certificate PDFs need Debian's fonts-noto-core, fonts-noto-cjk and poppler-utils "
        f"(`make test` installs them); missing: {', '.join(_missing)}",
        allow_module_level=True,
    )

ARABIC_NAME = "فاطمة الزهراء بن علي"
ARABIC_TITLE = "مكافحة تمويل الإرهاب"


def pdf_text(pdf: bytes) -> str:
    """What poppler reads in a PDF, in reading order."""
    return subprocess.run(  # noqa: S603 - our own arguments
        [POPPLER["pdftotext"], "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def pdf_fonts(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(  # noqa: S603 - our own arguments
        [POPPLER["pdffonts"], str(path)], capture_output=True, check=True, text=True
    ).stdout


def page_image(pdf: bytes, folder):
    """The first page rendered at 150 dpi by poppler, as a Pillow image."""
    from PIL import Image

    (folder / "page.pdf").write_bytes(pdf)
    subprocess.run(  # noqa: S603 - our own arguments
        [POPPLER["pdftoppm"], "-r", "150", "-png", "-singlefile", "-l", "1", "page.pdf", "page"],
        cwd=folder,
        check=True,
    )
    with Image.open(folder / "page.png") as image:
        image.load()
        return image


def complete_a_module(app, client, **module):
    """Enrol in a one-lesson module without a test and finish its lesson: the certificate's id."""
    module_id = build_module(app, lessons=1, post_test=False, **module)
    enrol_in(client, module_id)
    (lesson,) = lesson_ids(app, module_id)
    url = f"/courses/modules/{module_id}/lessons/{lesson}"
    client.get(url)
    post_form(client, url + "/done", {}, form_url=url)
    learning = client.get("/courses/my-learning").get_data(as_text=True)
    return int(re.search(r'href="/courses/certificates/(\d+)"', learning).group(1))


def download(client, path):
    """GET a file and close the response, as a browser does once it has the bytes."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def certificate_row(app, certificate_id) -> Certificate:
    with app.app_context():
        found = db.session.get(Certificate, certificate_id)
        db.session.expunge(found)
        return found


def long_date(certificate: Certificate, language: str) -> str:
    return format_date(certificate.issued_at.replace(tzinfo=UTC).date(), "long", locale=language)


def stored_file_ids(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(StoredFile.id).order_by(StoredFile.id)).all()


def test_the_holder_downloads_the_certificate_in_english_and_in_french(
    app, client, login_as, create_user, auth
):
    login_as(name="Aïcha Maïga")
    certificate_id = complete_a_module(app, client)
    certificate = certificate_row(app, certificate_id)
    page = client.get(f"/courses/certificates/{certificate_id}").get_data(as_text=True)
    assert "Download as PDF" in page

    english = download(client, f"/courses/certificates/{certificate_id}.pdf")
    assert english.status_code == 200
    assert english.mimetype == "application/pdf"
    assert english.headers["Content-Disposition"].startswith("attachment;")
    text = pdf_text(english.data)
    assert "Aïcha Maïga" in text
    assert "Countering the financing of terrorism" in text
    assert long_date(certificate, "en") in text
    assert "Certificate of completion" in text and certificate.code in text

    french = download(client, f"/courses/certificates/{certificate_id}.pdf?lang=fr")
    text = pdf_text(french.data)
    assert "Aïcha Maïga" in text and "Countering the financing of terrorism" in text
    assert long_date(certificate, "fr") in text
    assert "Certificat" in text

    assert (
        download(client, f"/courses/certificates/{certificate_id}.pdf?lang=xx").status_code == 404
    )
    other = create_user()
    auth.logout()
    auth.login(other.email)
    assert download(client, f"/courses/certificates/{certificate_id}.pdf").status_code == 404
    assert download(client, f"/courses/certificates/{certificate_id + 1}.pdf").status_code == 404
    auth.logout()
    anonymous = download(client, f"/courses/certificates/{certificate_id}.pdf")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_an_arabic_certificate_reads_right_to_left_in_its_own_fonts(
    app, client, login_as, tmp_path
):
    login_as(name=ARABIC_NAME, language="ar")
    certificate_id = complete_a_module(app, client, title=ARABIC_TITLE)
    certificate = certificate_row(app, certificate_id)
    assert certificate.language == "ar"

    pdf = download(client, f"/courses/certificates/{certificate_id}.pdf").data
    text = pdf_text(pdf)
    # Logical order, letters as typed: the shaped glyphs map back to the name's own characters.
    assert ARABIC_NAME in text
    assert ARABIC_TITLE in text
    assert certificate.code in text
    fonts = pdf_fonts(pdf, tmp_path)
    assert "Noto-Naskh-Arabic" in fonts and "Noto-Sans-Arabic" in fonts


def test_a_chinese_name_and_date_appear(app, client, login_as):
    login_as(name="王小明", language="zh")
    certificate_id = complete_a_module(app, client, title="打击资助恐怖主义")
    certificate = certificate_row(app, certificate_id)
    text = pdf_text(download(client, f"/courses/certificates/{certificate_id}.pdf").data)
    assert "王小明" in text and "打击资助恐怖主义" in text
    assert long_date(certificate, "zh") in text
    # A name in any script on a certificate in another language.
    assert "王小明" in pdf_text(
        download(client, f"/courses/certificates/{certificate_id}.pdf?lang=ru").data
    )


def test_the_qr_code_holds_the_verification_address(app, client, login_as, tmp_path):
    import zxingcpp

    login_as(name="Aïcha Maïga")
    certificate_id = complete_a_module(app, client)
    certificate = certificate_row(app, certificate_id)
    pdf = download(client, f"/courses/certificates/{certificate_id}.pdf").data

    (found,) = zxingcpp.read_barcodes(page_image(pdf, tmp_path))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.text == f"http://localhost/certificates/verify/{certificate.code}"
    verified = client.get(found.text.removeprefix("http://localhost"))
    assert verified.status_code == 200 and "Aïcha Maïga" in verified.get_data(as_text=True)


def test_the_qr_code_is_built_on_the_public_address(app, client, login_as, tmp_path):
    import zxingcpp

    app.config["PUBLIC_ORIGIN"] = "https://learning.example.org"
    login_as()
    certificate_id = complete_a_module(app, client)
    certificate = certificate_row(app, certificate_id)
    pdf = download(client, f"/courses/certificates/{certificate_id}.pdf").data
    (found,) = zxingcpp.read_barcodes(page_image(pdf, tmp_path))
    assert found.text == f"https://learning.example.org/certificates/verify/{certificate.code}"


def test_a_document_is_made_once_and_again_when_its_template_changes(
    app, client, login_as, monkeypatch
):
    login_as()
    certificate_id = complete_a_module(app, client)
    made_at_issue = stored_file_ids(app)
    assert len(made_at_issue) == 1  # in the background, when the certificate was issued

    def no_rendering(*args):
        raise AssertionError("rendered again")

    with monkeypatch.context() as patched:
        patched.setattr(certificate_documents, "_write_pdf", no_rendering)
        first = download(client, f"/courses/certificates/{certificate_id}.pdf")
        second = download(client, f"/courses/certificates/{certificate_id}.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert stored_file_ids(app) == made_at_issue

    with app.app_context():
        old_path = path_of(db.session.get(StoredFile, made_at_issue[0]))
        db.session.execute(update(CertificateDocument).values(template_version="an older one"))
        db.session.commit()
    again = download(client, f"/courses/certificates/{certificate_id}.pdf")
    assert again.status_code == 200 and again.data.startswith(b"%PDF-")
    remade = stored_file_ids(app)
    assert len(remade) == 1 and remade != made_at_issue
    assert not old_path.exists()
    with app.app_context():
        document = db.session.scalar(select(CertificateDocument))
        assert document.template_version != "an older one"
        assert db.session.scalar(select(func.count()).select_from(CertificateDocument)) == 1


def test_a_revoked_certificate_has_no_pdf(app, client, login_as):
    login_as()
    certificate_id = complete_a_module(app, client)
    with app.app_context():
        db.session.execute(
            update(Certificate).values(revoked_at=func.now(), revoked_reason="Issued in error.")
        )
        db.session.commit()
    assert download(client, f"/courses/certificates/{certificate_id}.pdf").status_code == 404


def test_rendering_fetches_nothing(app):
    """Whatever a page names, WeasyPrint reads only data: addresses: no network, no disk."""
    import weasyprint

    for address in ("http://example.org/logo.png", "file:///etc/passwd"):
        with pytest.raises(weasyprint.urls.FatalURLFetchingError):
            certificate_documents._write_pdf(f'<img src="{address}">', "")


def test_other_greenlets_run_while_a_certificate_is_rendered(tmp_path):
    """On gevent's loop the rendering runs in a native thread: the loop keeps serving."""
    from tests.learnplatform.test_serving import run_patched

    seen = run_patched(
        """
from datetime import datetime
from courses import certificate_documents
from courses.models import Certificate, Enrolment
from learnplatform.accounts.models import User

with app.test_request_context():
    certificate = Certificate(
        code="ABCDEFGH2345", learner_name="王小明", module_title="打击资助恐怖主义",
        issued_at=datetime(2026, 12, 3), language="zh",
    )
    certificate.enrolment = Enrolment(user=User(name="王小明", time_zone="UTC"))
    page = certificate_documents.page_of(certificate, "zh")
    started, before = time.perf_counter(), ticks
    pdf = certificate_documents.render_pdf(page)
    elapsed, during = time.perf_counter() - started, ticks - before
print(json.dumps({"pdf": pdf[:5].decode(), "ticks": during, "ms": round(elapsed * 1000)}))
""",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    assert seen["pdf"] == "%PDF-"
    # The ticker runs whenever the rendering thread gives up Python's lock (every 5 ms); a stalled
    # loop would have ticked at most once.
    assert seen["ticks"] >= max(seen["ms"] / 20, 10), seen


def attached_credential(pdf: bytes, folder) -> bytes:
    """The credential attached to a certificate's PDF, as poppler's pdfdetach saves it."""
    (folder / "certificate.pdf").write_bytes(pdf)
    listed = subprocess.run(  # noqa: S603 - our own arguments
        [POPPLER["pdfdetach"], "-list", "certificate.pdf"],
        cwd=folder,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert certificate_documents.CREDENTIAL_NAME in listed
    subprocess.run(  # noqa: S603 - our own arguments
        [POPPLER["pdfdetach"], "-save", "1", "-o", "attached.json", "certificate.pdf"],
        cwd=folder,
        check=True,
    )
    return (folder / "attached.json").read_bytes()


def test_the_pdf_carries_the_signed_credential(app, client, login_as, tmp_path):
    """The credential that the holder downloads beside the PDF is attached to it too, and after
    the signing key is rotated the stored PDF is made again with the new key's credential."""
    runner = keys_of_its_own(app, tmp_path)
    login_as()
    certificate_id = complete_a_module(app, client)
    pdf = f"/courses/certificates/{certificate_id}.pdf"
    first = attached_credential(download(client, pdf).data, tmp_path)
    credential = download(client, f"/courses/certificates/{certificate_id}/credential")
    assert first == credential.data

    assert runner.invoke(args=["credentials-key", "--rotate"]).exit_code == 0
    again = attached_credential(download(client, pdf).data, tmp_path)
    credential = download(client, f"/courses/certificates/{certificate_id}/credential")
    assert again == credential.data and again != first


def test_the_issuing_office_is_the_one_the_verification_names(app, client, login_as):
    app.config["CERTIFICATE_ISSUER"] = "Counter-Terrorism Training Office"
    login_as()
    certificate_id = complete_a_module(app, client)
    text = pdf_text(download(client, f"/courses/certificates/{certificate_id}.pdf").data)
    assert "Counter-Terrorism Training Office" in text
