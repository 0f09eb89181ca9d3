"""The lesson editor in Chromium: existing text reopens formatted, images come from the lesson's
files, and a text the editor cannot keep (a table) stays in HTML instead of being flattened."""

from courses import services
from courses.models import Lesson, Module
from learnplatform.extensions import db
from tests.browser.test_modules_browser import log_in, shot, status_with, visual_editor
from tests.learnplatform.test_storage import png

TABLE_BODY = (
    "<p>Deadlines by request type:</p>"
    "<table><thead><tr><th>Request</th><th>Days</th></tr></thead>"
    "<tbody><tr><td>Preservation</td><td>90</td></tr></tbody></table>"
)


def draft_module(app, trainer) -> tuple[int, int, int]:
    """A draft module of ``trainer`` with a formatted lesson and a lesson holding a table."""
    with app.app_context():
        module = Module(
            title="Special investigative techniques",
            summary="Controlled deliveries, undercover operations and interception.",
            theme="criminal_justice",
            language="en",
            estimated_minutes=60,
            enrolment_mode="open",
            created_by_id=trainer.id,
        )
        db.session.add(module)
        db.session.flush()
        formatted = services.add_lesson(
            module,
            title="Legal safeguards",
            body_html="<h2>Authorisation</h2><p>A judge <em>authorises</em> the measure.</p>",
        )
        table = services.add_lesson(module, title="Deadlines", body_html=TABLE_BODY)
        db.session.commit()
        return module.id, formatted.id, table.id


def test_a_trainer_reopens_a_lesson_inserts_an_image_and_keeps_a_table(
    app, live_server, page, create_user, tmp_path
):
    trainer = create_user(role="trainer", name="Ana Ribeiro")
    module_id, formatted_id, table_id = draft_module(app, trainer)
    image = tmp_path / "request-flow.png"
    image.write_bytes(png())
    page.on("dialog", lambda dialog: dialog.accept("Flow of a preservation request"))
    log_in(page, live_server, trainer.email, "Ana Ribeiro")

    # The saved text reopens in the editor with its formatting.
    page.goto(f"{live_server}/courses/manage/{module_id}/lessons/{formatted_id}")
    editor = visual_editor(page)
    assert editor.get_by_role("heading", name="Authorisation", level=2).is_visible()
    assert editor.locator("em", has_text="authorises").is_visible()

    # An image attached to the lesson goes into the text at the cursor, with its description.
    page.get_by_label("File").set_input_files(str(image))
    page.get_by_role("button", name="Upload").click()
    status_with(page, "request-flow.png").wait_for()
    editor.get_by_text("authorises the measure").click()
    page.keyboard.press("End")
    page.get_by_role("button", name="Insert in the text").click()
    inserted = editor.get_by_role("img", name="Flow of a preservation request")
    inserted.wait_for()
    shot(page, "editor-image-inserted")
    page.get_by_role("button", name="Save lesson").click()
    status_with(page, "The lesson is saved.").wait_for()

    with app.app_context():
        body = db.session.get(Lesson, formatted_id).body_html
    assert "<em>authorises</em>" in body
    assert 'alt="Flow of a preservation request"' in body
    assert "/inline" in body and "&nbsp;" not in body

    # A table cannot live in the editor: the text opens as HTML, and says why.
    page.goto(f"{live_server}/courses/manage/{module_id}/lessons/{table_id}")
    note = page.get_by_text("This text holds a table")
    note.wait_for()
    assert page.get_by_role("toolbar", name="Formatting").is_hidden()
    source = page.get_by_role("textbox", name="Lesson text")
    assert "<table>" in source.input_value()
    page.get_by_role("button", name="Visual editor").click()
    assert page.get_by_role("toolbar", name="Formatting").is_hidden()
    shot(page, "editor-table-kept-as-html")
    page.get_by_role("button", name="Save lesson").click()
    status_with(page, "The lesson is saved.").wait_for()
    with app.app_context():
        assert "<td>Preservation</td>" in db.session.get(Lesson, table_id).body_html


def test_the_editor_speaks_the_language_chosen_in_the_header(app, live_server, page, create_user):
    trainer = create_user(role="trainer", name="Ana Ribeiro")
    module_id, formatted_id, _table_id = draft_module(app, trainer)
    log_in(page, live_server, trainer.email, "Ana Ribeiro")
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="Français").click()
    page.get_by_role("heading", name="Bienvenue, Ana Ribeiro").wait_for()
    assert page.evaluate("document.documentElement.lang") == "fr"

    page.goto(f"{live_server}/courses/manage/{module_id}/lessons/{formatted_id}")
    editor = page.locator("#lesson-editor .ql-editor")
    editor.wait_for(state="visible")
    editor.get_by_text("authorises").dblclick()
    page.get_by_role("button", name="Lien", exact=True).click()
    tooltip = page.locator("#lesson-editor .ql-tooltip")
    tooltip.wait_for(state="visible")
    words = page.evaluate(
        """() => {
            const tip = document.querySelector("#lesson-editor .ql-tooltip");
            const action = tip.querySelector("a.ql-action");
            return [getComputedStyle(tip, "::before").content,
                    getComputedStyle(action, "::after").content];
        }"""
    )
    assert words == ['"Saisissez l\u2019adresse\u00a0:"', '"Enregistrer"'], words
    shot(page, "lesson-editor-link-in-french")
