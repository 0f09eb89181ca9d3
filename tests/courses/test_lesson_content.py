"""What trainers put in lessons, as learners get it: cleaned text and files served safely."""

import io
from pathlib import Path

from sqlalchemy import func, select

from courses.models import Lesson, LessonAttachment, Module
from learnplatform.extensions import db
from learnplatform.storage import StoredFile
from tests.courses.test_modules import build_module, lesson_ids
from tests.helpers import PASSWORD, Auth, csrf_token, post_form

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def upload(client, module_id, lesson_id, name, content):
    url = f"/courses/manage/{module_id}/lessons/{lesson_id}"
    token = csrf_token(client, url)
    return client.post(
        url + "/attachments",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def fetch(client, path, **kwargs):
    """GET a file and close the response, as a browser does once it has the bytes."""
    response = client.get(path, **kwargs)
    response.get_data()
    response.close()
    return response


def stored_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(StoredFile.id)))


# 21. Lesson HTML: script, event handlers, javascript: and data: links, svg, math and style go.
def test_lesson_html_is_cleaned_when_saved(app, client, login_as, create_user):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    (lesson_id,) = lesson_ids(app, module_id)
    body = (
        "<h2>Mutual legal assistance</h2><p style='color:red' onclick='steal()'>Requests go "
        "through the <a href='https://www.unodc.org/'>central authority</a>.</p>"
        "<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)></svg>"
        "<math><mtext>x</mtext></math><a href='javascript:alert(4)'>click</a>"
        "<a href='data:text/html;base64,PHNjcmlwdD4='>data</a><iframe src='https://evil.example'>"
        "</iframe><table><tr><th>Step</th><td>Preserve</td></tr></table>"
    )
    post_form(
        client,
        f"/courses/manage/{module_id}/lessons/{lesson_id}",
        {"title": "Mutual legal assistance", "body": body},
    )
    learner = create_user(email="learner@example.org")
    browser = app.test_client()
    Auth(browser).login(learner.email, PASSWORD)
    post_form(
        browser, f"/courses/modules/{module_id}/enrol", {}, form_url=f"/courses/modules/{module_id}"
    )
    page = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    lesson = page[page.index('<article class="lesson-body"') : page.index("</article>")]
    assert "<h2>Mutual legal assistance</h2>" in lesson
    assert 'href="https://www.unodc.org/"' in lesson
    assert "<th>Step</th>" in lesson
    for forbidden in (
        "<script",
        "onclick",
        "onerror",
        "onload",
        "<svg",
        "<math",
        "style=",
        "javascript:",
        "data:",
        "<iframe",
        "src=x",
        "alert(",
    ):
        assert forbidden not in lesson, forbidden


# 22. Names and titles are text everywhere, never markup.
def test_titles_and_names_are_shown_as_text(app, client, login_as):
    trainer = login_as("trainer", name="<b>Trainer</b>")
    module_id = build_module(app, trainer.id, title="<script>alert('t')</script> Module")
    for path in ("/courses/", f"/courses/modules/{module_id}", "/courses/manage"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert('t')</script>" not in page
        assert "&lt;script&gt;" in page
    assert "<b>Trainer</b>" not in client.get("/courses/manage").get_data(as_text=True)


# 26, 27, 29: files are recognised from their content, kept under generated names and served
# as attachments to those who may read the lesson.
def test_attachments_are_checked_stored_and_served_safely(app, client, login_as, create_user):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    (lesson_id,) = lesson_ids(app, module_id)
    lesson_url = f"/courses/manage/{module_id}/lessons/{lesson_id}"

    refused = upload(client, module_id, lesson_id, "report.pdf", b"<html><script>x</script></html>")
    assert refused.status_code == 302
    assert "report.pdf" not in client.get(lesson_url).get_data(as_text=True)
    assert stored_count(app) == 0

    upload(client, module_id, lesson_id, "../../etc/Résolution 2396\u202e.pdf", PDF)
    upload(client, module_id, lesson_id, "map.png", PNG)
    assert "map.png is attached." in client.get(lesson_url).get_data(as_text=True)
    with app.app_context():
        files = db.session.scalars(select(StoredFile).order_by(StoredFile.id)).all()
        assert [stored.content_type for stored in files] == ["application/pdf", "image/png"]
        assert files[0].original_name == "Résolution 2396.pdf"
        assert "Résolution" not in files[0].storage_key and ".." not in files[0].storage_key
        attachment_ids = list(
            db.session.scalars(select(LessonAttachment.id).order_by(LessonAttachment.id))
        )

    learner = create_user(email="learner@example.org")
    outsider = create_user(email="outsider@example.org")
    browser, stranger = app.test_client(), app.test_client()
    Auth(browser).login(learner.email, PASSWORD)
    Auth(stranger).login(outsider.email, PASSWORD)
    post_form(
        browser, f"/courses/modules/{module_id}/enrol", {}, form_url=f"/courses/modules/{module_id}"
    )
    lesson_page = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(
        as_text=True
    )
    assert "Résolution 2396.pdf" in lesson_page and "map.png" in lesson_page
    # A picture shown in the text is not listed again under Files.
    with app.app_context():
        db.session.get(
            Lesson, lesson_id
        ).body_html = (
            f'<p><img src="/courses/attachments/{attachment_ids[1]}/inline" alt="Sahel map"></p>'
        )
        db.session.commit()
    lesson_page = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(
        as_text=True
    )
    assert 'alt="Sahel map"' in lesson_page
    assert "Résolution 2396.pdf" in lesson_page and "map.png" not in lesson_page

    download = fetch(browser, f"/courses/attachments/{attachment_ids[0]}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "private, no-store"
    ranged = fetch(
        browser, f"/courses/attachments/{attachment_ids[0]}", headers={"Range": "bytes=0-3"}
    )
    assert ranged.status_code == 206 and ranged.data == b"%PDF"
    image = fetch(browser, f"/courses/attachments/{attachment_ids[1]}/inline")
    assert image.status_code == 200 and "attachment" not in image.headers.get(
        "Content-Disposition", ""
    )
    assert fetch(browser, f"/courses/attachments/{attachment_ids[0]}/inline").status_code == 404

    for path in (
        f"/courses/attachments/{attachment_ids[0]}",
        f"/courses/attachments/{attachment_ids[1]}/inline",
    ):
        assert fetch(stranger, path).status_code == 404
        assert fetch(stranger, path, headers={"Range": "bytes=0-3"}).status_code == 404
    assert stranger.get("/courses/attachments/999").status_code == 404

    # Removing the lesson removes its files.
    post_form(
        client,
        f"/courses/manage/{module_id}/lessons/{lesson_id}/delete",
        {},
        form_url=f"/courses/manage/{module_id}",
    )
    assert stored_count(app) == 0
    with app.app_context():
        assert db.session.get(Module, module_id).lesson_count == 0
    assert [path for path in Path(app.config["STORAGE_DIR"]).rglob("*") if path.is_file()] == []
