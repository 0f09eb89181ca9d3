"""A room's forum in Chromium, in French: a participant asks the experts a question; an expert,
in another browser, is told, answers with a quotation and a mention, and marks the answer; the
participant sees it marked and the topic read; a member reports a post, which a host hides; an
outsider gets 404 at every forum address; what people type stays text. Screenshots at 1280 and
390 px are kept in test-artifacts/ under names starting with ``forum-``."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post
from tests.browser.conftest import shots_at_widths, tr
from tests.helpers import PASSWORD
from tests.irooms.test_rooms import add_room

WIDTHS = {"desktop": 1280, "phone": 390}
QUESTION = "Conservation des preuves électroniques : quels délais ?"
QUESTION_TEXT = (
    "Un fournisseur étranger doit-il conserver les données pendant la demande d'entraide ?"
)
ANSWER = "Oui : demandez une conservation rapide au titre de la Convention de Budapest."
XSS_TITLE = '<img src=x onerror="window.forumScriptRan=1">'
XSS_TEXT = '<script>window.forumScriptRan = 2</script> et <b onmouseover="x()">gras</b>'


def bell(page):
    return page.locator("[data-notification-bell]:visible [data-unread-count]")


def shot(page, name):
    shots_at_widths(page, f"forum-{name}", WIDTHS)


def browser_for(app, browser, live_server, user, name, language="fr"):
    """A browser of its own, logged in as ``user``, whose pages are in ``language``."""
    context = browser.new_context(locale=language, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server}/login")
    page.get_by_label(tr(app, language, "E-mail address")).fill(user.email)
    page.get_by_label(tr(app, language, "Password")).fill(PASSWORD)
    page.get_by_role("button", name=tr(app, language, "Log in")).click()
    page.get_by_role("heading", name=tr(app, language, "Welcome, %(name)s", name=name)).wait_for()
    return context, page


def write(page, text):
    """Type into the post editor (Quill), as a person does."""
    editor = page.locator("#lesson-editor .ql-editor")
    editor.wait_for(state="visible")
    editor.click()
    page.keyboard.type(text)


@pytest.fixture
def people(create_user):
    return {
        "host": create_user(name="Hana Host", language="fr"),
        "expert": create_user(name="Eko Expert", language="fr"),
        "amina": create_user(name="Amina Diallo", language="fr"),
        "pierre": create_user(name="Pierre Martin", language="fr"),
        "outsider": create_user(name="Olga Outsider", language="fr"),
    }


def test_a_question_answered_by_an_expert_and_a_report_handled(app, live_server, browser, people):
    def fr(text, **variables):
        return tr(app, "fr", text, **variables)

    room_id = add_room(
        app,
        "Procureurs du Sahel",
        [
            (people["host"], "host"),
            (people["expert"], "expert"),
            (people["amina"], "participant"),
            (people["pierre"], "participant"),
        ],
    )
    expert_context, expert = browser_for(app, browser, live_server, people["expert"], "Eko Expert")
    amina_context, amina = browser_for(app, browser, live_server, people["amina"], "Amina Diallo")

    # The expert follows the room's forum.
    expert.goto(f"{live_server}/irooms/{room_id}")
    expert.get_by_role("link", name=fr("Forum"), exact=True).click()
    expert.get_by_role("button", name=fr("Follow the forum")).click()
    expect(expert.get_by_role("button", name=fr("Stop following the forum"))).to_be_visible()

    # The participant asks a question, in French.
    amina.goto(f"{live_server}/irooms/{room_id}")
    amina.get_by_role("link", name=fr("Forum"), exact=True).click()
    shot(amina, "01-empty")
    amina.get_by_role("link", name=fr("Ask a question")).click()
    amina.get_by_role("textbox", name=fr("Title"), exact=True).fill(QUESTION)
    assert amina.get_by_label(fr("This is a question for the experts")).is_checked()
    write(amina, QUESTION_TEXT)
    shot(amina, "02-new-question")
    amina.get_by_role("button", name=fr("Start the topic")).click()
    expect(amina.get_by_role("status").filter(has_text=fr("Your topic is posted."))).to_be_visible()
    expect(amina.get_by_text(fr("Question awaiting an answer"))).to_be_visible()

    # The expert, in the other browser, is told and follows the notification.
    expert.reload()
    expect(bell(expert)).to_have_text("1")
    expert.get_by_role("link", name=re.compile(fr("Notifications"))).first.click()
    expert.get_by_role("link", name=re.compile(re.escape(QUESTION))).click()
    expect(expert.get_by_role("heading", name=QUESTION)).to_be_visible()

    # Answers with a quotation and a mention, then marks the answer.
    expert.locator("#post-1").get_by_role("link", name=re.compile(fr("Quote"))).click()
    expect(expert.get_by_text(fr("Quoting %(name)s:", name="Amina Diallo"))).to_be_visible()
    write(expert, f"@Amina Diallo {ANSWER}")
    expert.get_by_role("button", name=fr("Post the reply")).click()
    reply = expert.locator("#post-2")
    expect(reply.get_by_text(fr("%(name)s wrote:", name="Amina Diallo"))).to_be_visible()
    reply.get_by_role("button", name=fr("Mark as the answer")).click()
    expect(expert.locator("#post-2").get_by_text(fr("Answer"), exact=True)).to_be_visible()
    shot(expert, "03-answered")

    # The participant is told; the topic is marked unread and answered, then read.
    amina.goto(f"{live_server}/irooms/{room_id}")
    expect(bell(amina)).to_have_text("2")  # the mention, the answer
    amina.get_by_role("link", name=fr("Forum"), exact=True).click()
    topic = amina.locator(".forum-topics li", has_text=QUESTION)
    expect(topic).to_have_class(re.compile("forum-unread"))
    expect(topic.get_by_text(fr("Answered"), exact=True)).to_be_visible()
    shot(amina, "04-list-unread")
    topic.get_by_role("link", name=re.compile("^" + re.escape(fr("First unread")))).click()
    expect(amina).to_have_url(re.compile("#post-2$"))
    expect(amina.locator("#post-2").get_by_text(ANSWER)).to_be_visible()
    expect(amina.locator("#post-2").get_by_text(fr("Answer"), exact=True)).to_be_visible()
    amina.get_by_role("link", name=fr("Forum"), exact=True).first.click()
    expect(amina.locator(".forum-topics li", has_text=QUESTION)).not_to_have_class(
        re.compile("forum-unread")
    )
    amina.get_by_role("link", name=fr("Answered"), exact=True).click()
    expect(amina.locator(".forum-topics li", has_text=QUESTION)).to_be_visible()

    # Another member writes markup: it stays text.
    pierre_context, pierre = browser_for(
        app, browser, live_server, people["pierre"], "Pierre Martin"
    )
    with app.app_context():
        forum_id = db.session.scalar(select(Forum.id).where(Forum.room_id == room_id))
    pierre.goto(f"{live_server}/forums/{forum_id}")
    pierre.get_by_role("link", name=fr("New topic")).click()
    pierre.get_by_role("textbox", name=fr("Title"), exact=True).fill(XSS_TITLE)
    write(pierre, XSS_TEXT)
    pierre.get_by_role("button", name=fr("Start the topic")).click()
    expect(pierre.get_by_role("heading", name=XSS_TITLE)).to_be_visible()
    expect(pierre.get_by_text(XSS_TEXT)).to_be_visible()
    pierre.goto(f"{live_server}/forums/{forum_id}")
    expect(pierre.get_by_role("link", name=XSS_TITLE)).to_be_visible()
    assert pierre.evaluate("window.forumScriptRan") is None
    with app.app_context():
        spam_topic = db.session.scalar(
            select(Post.topic_id).where(Post.author_id == people["pierre"].id)
        )

    # The participant reports it; the host hides it from the reports page.
    amina.goto(f"{live_server}/forums/{forum_id}/topics/{spam_topic}")
    amina.locator("#post-1").get_by_role("link", name=fr("Report this post")).click()
    amina.get_by_label(fr("What is wrong with this post?")).fill("Du code, pas une question.")
    amina.get_by_role("button", name=fr("Report the post")).click()
    expect(
        amina.get_by_role("status").filter(has_text=fr("Thank you: the moderators are told."))
    ).to_be_visible()

    host_context, host = browser_for(app, browser, live_server, people["host"], "Hana Host")
    host.goto(f"{live_server}/forums/{forum_id}")
    host.locator(f'a[href="/forums/{forum_id}/reports"]').click()  # "1 report to review"
    expect(host.get_by_text("Du code, pas une question.")).to_be_visible()
    shot(host, "05-reports")
    host.get_by_role("button", name=fr("Hide the topic")).click()
    expect(host.get_by_text(fr("No report is waiting."))).to_be_visible()
    amina.goto(f"{live_server}/forums/{forum_id}")
    expect(amina.get_by_role("link", name=XSS_TITLE)).to_have_count(0)
    assert amina.goto(f"{live_server}/forums/{forum_id}/topics/{spam_topic}").status == 404

    # What a member typed into their profile stays text in the room's directory.
    with app.app_context():
        from learnplatform.accounts.models import User

        member = db.session.get(User, people["pierre"].id)
        member.organisation = XSS_TITLE
        member.expertise = '<svg onload="window.forumScriptRan=3">, financement'
        member.languages_spoken = "<b>Français</b>"
        member.directory_shows = "organisation,expertise,languages"
        db.session.commit()
    amina.goto(f"{live_server}/irooms/{room_id}/members")
    card = amina.locator("article, .card", has_text="Pierre Martin").first
    expect(card.get_by_text(XSS_TITLE)).to_be_visible()
    expect(card.get_by_text('<svg onload="window.forumScriptRan=3">')).to_be_visible()
    expect(card.get_by_text("<b>Français</b>")).to_be_visible()
    assert amina.evaluate("window.forumScriptRan") is None

    # An outsider gets 404 at every forum address.
    outsider_context, outsider = browser_for(
        app, browser, live_server, people["outsider"], "Olga Outsider"
    )
    with app.app_context():
        answer_post = db.session.scalar(select(Post.id).where(Post.seq == 2))
    for path in (
        f"/forums/room/{room_id}",
        f"/forums/{forum_id}",
        f"/forums/{forum_id}/new",
        f"/forums/{forum_id}/search?q=preuves",
        f"/forums/{forum_id}/topics/1",
        f"/forums/{forum_id}/posts/{answer_post}/edit",
        f"/forums/{forum_id}/posts/{answer_post}/history",
        f"/forums/{forum_id}/posts/{answer_post}/report",
        f"/forums/{forum_id}/reports",
    ):
        assert outsider.goto(live_server + path).status == 404, path
    assert QUESTION not in outsider.content()

    amina.goto(f"{live_server}/forums/{forum_id}/topics/1")
    shot(amina, "06-topic")
    for page in (expert, amina, pierre, host, outsider):
        assert page.dialogs == []
    for context in (expert_context, amina_context, pierre_context, host_context, outsider_context):
        context.close()
