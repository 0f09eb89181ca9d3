"""The platform's one search through its page, ``/search?q=``: the same multilingual queries on
SQLite and PostgreSQL, the text of uploaded PDF and Word files, what each person may find, the
index kept up with changes, and titles that stay text."""

import io
import re
from datetime import timedelta

import docx
import pytest
import weasyprint
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from courses import webinars
from courses.models import Enrolment, Lesson, Module, Webinar, WebinarSeries
from irooms.models import Membership, Resource, Room
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from learnplatform.search import fold
from learnplatform.search.engine import PAGE_SIZE, snippet, words_of
from learnplatform.search.models import FileText, SearchDocument
from tests.courses.test_modules import enrol_in
from tests.helpers import count_queries, post_form


def results(client, words: str, **params) -> str:
    response = client.get("/search", query_string={"q": words, **params})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def hits_of(page: str) -> str:
    """The list of results of a results page: empty when nothing was found."""
    found = re.search(r'<ol class="list-unstyled search-results".*?</ol>', page, re.S)
    return found.group(0) if found else ""


def titles(client, words: str, **params) -> list[str]:
    """The titles of the results, as text (the marks of the words found taken out)."""
    page = results(client, words, **params)
    found = re.findall(r'<h2 class="h5 mb-1"[^>]*><a href="[^"]*">(.*?)</a></h2>', page, re.S)
    return [re.sub(r"</?mark>", "", title) for title in found]


def a_module(title, summary="", *, language="en", lessons=(), published=True, author=None):
    module = Module(
        title=title,
        summary=summary,
        theme="cbrn",
        language=language,
        is_published=published,
        created_by_id=author.id if author else None,
    )
    module.lessons = [
        Lesson(position=number, title=lesson_title, body_html=f"<p>{body}</p>")
        for number, (lesson_title, body) in enumerate(lessons, start=1)
    ]
    db.session.add(module)
    return module


def a_room(name, members, language="fr"):
    room = Room(name=name, language=language, theme="cooperation")
    room.memberships = [Membership(user_id=user.id, role=role) for user, role in members]
    db.session.add(room)
    db.session.flush()
    return room


def a_resource(room, title, description="", *, tags="", language="fr"):
    resource = Resource(
        room_id=room.id,
        title=title,
        description=description,
        tags=tags,
        language=language,
        category="manual",
        kind="link",
        url="https://example.org/",
    )
    db.session.add(resource)
    return resource


def a_post(forum, title, body, author, *, seq=1, topic=None, hidden=False):
    """A topic with its opening post, or a reply in ``topic``."""
    if topic is None:
        topic = Topic(
            forum_id=forum.id, title=title, author_id=author.id, client_token=f"t-{title}"
        )
        db.session.add(topic)
        db.session.flush()
    post = Post(
        topic_id=topic.id,
        forum_id=forum.id,
        seq=seq,
        author_id=author.id,
        client_token=f"p-{title}-{seq}",
        body_html=f"<p>{body}</p>",
        search_text=fold(body),
        hidden_at=utcnow() if hidden else None,
    )
    db.session.add(post)
    db.session.flush()
    return topic, post


@pytest.fixture
def world(app, create_user, login_as):
    """Content in six languages for a practitioner, who belongs to one room and not another."""
    me = login_as()
    multilingual_content(app, me, create_user(role="trainer"), create_user())
    return me


def multilingual_content(app, me, host, stranger) -> None:
    """Modules, lessons, a webinar, library resources and forum posts in six languages; ``me``
    and ``host`` belong to the room "Salle du Sahel", ``stranger`` alone to "Salle fermée"."""
    with app.app_context():
        a_module(
            "Pruebas electrónicas transfronterizas",
            "Cómo obtener pruebas electrónicas de proveedores extranjeros.",
            language="es",
        )
        a_module(
            "Предотвращение ядерного терроризма",
            "Правовые основы борьбы с ядерным терроризмом.",  # noqa: RUF001
            language="ru",
        )
        a_module(
            "مكافحة الإرهاب",
            "الإطار القانوني الدولي",
            language="ar",
            lessons=[("الدرس الأول", "تمويل الإرهـــاب وأشكاله"), ("الدرس الثاني", "الإِرْهَاب")],
        )
        a_module(
            "反恐怖主义国际法律框架",
            "化学、生物、放射性和核恐怖主义。",
            language="zh",
            lessons=[("核材料", "CBRN 核安全")],
        )
        a_module("Brouillon nucléaire", "Pas encore publié: numérique.", published=False)
        mine = a_room("Salle du Sahel", [(me, "participant"), (host, "host")])
        theirs = a_room("Salle fermée", [(stranger, "participant")])
        a_resource(
            mine,
            "Guide de la preuve numérique",
            "Application de la résolution 2396 du Conseil de sécurité.",
            tags="preuve,numérique",
        )
        a_resource(theirs, "反恐 secret numérique", "ارهاب الغرفة المغلقة")
        forum = Forum(room_id=mine.id)
        closed = Forum(room_id=theirs.id)
        db.session.add_all([forum, closed])
        db.session.flush()
        topic, _ = a_post(forum, "Menaces CBRN au Sahel", "Échange sur la résolution 1540.", me)
        a_post(
            forum,
            None,
            "Une réponse masquée: numérique caché.",
            host,
            seq=2,
            topic=topic,
            hidden=True,
        )
        a_post(closed, "إرهاب في الغرفة المغلقة", "反恐 numérique interdit", stranger)
        series = WebinarSeries(title="Webinaires CBRN", description="", theme="cbrn", language="fr")
        series.webinars = [
            Webinar(
                title="Terrorisme nucléaire : le cadre juridique",
                starts_at=utcnow() - timedelta(days=3),
                language="fr",
                description="La Convention sur la répression des actes de terrorisme nucléaire.",
            )
        ]
        db.session.add(series)
        db.session.commit()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("electronicas", "Pruebas electrónicas transfronterizas"),
        ("ELECTRÓNICAS transfronterizas", "Pruebas electrónicas transfronterizas"),
        ("numerique", "Guide de la preuve numérique"),
        ("Resolution 2396", "Guide de la preuve numérique"),
        ("ядерн", "Предотвращение ядерного терроризма"),
        ("ЯДЕРН", "Предотвращение ядерного терроризма"),
        ("ارهاب", "مكافحة الإرهاب"),
        ("反恐", "反恐怖主义国际法律框架"),
        ("核", "核材料"),
        ("ＣＢＲＮ", "Menaces CBRN au Sahel"),  # noqa: RUF001 (full-width, on purpose)
        ("nucleaire", "Terrorisme nucléaire : le cadre juridique"),
        ("resolution 1540", "Menaces CBRN au Sahel"),
    ],
)
def test_the_same_words_are_found_however_written(client, world, query, expected):
    assert expected in titles(client, query)


def test_arabic_with_tatweel_and_diacritics_is_found_without_them(client, world):
    found = titles(client, "ارهاب")
    assert "الدرس الأول" in found  # الإرهـــاب, stretched
    assert "الدرس الثاني" in found  # الإِرْهَاب, with its vowels
    page = results(client, "ارهاب")
    assert "<mark>الإرهـــاب</mark>" in page  # the whole word, its letters kept joined


def test_a_lesson_leads_to_itself_once_the_searcher_learns_in_its_module(app, client, world):
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.title == "核材料"))
        module_id, lesson_id = lesson.module_id, lesson.id
    module_page = f'href="/courses/modules/{module_id}"><mark>核</mark>材料'
    lesson_page = f'href="/courses/modules/{module_id}/lessons/{lesson_id}"><mark>核</mark>材料'
    page = hits_of(results(client, "核"))
    assert module_page in page and lesson_page not in page  # not enrolled: the module's page
    enrol_in(client, module_id)
    page = hits_of(results(client, "核"))
    assert lesson_page in page
    assert client.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").status_code == 200
    page = hits_of(results(app.test_client(), "核"))  # a visitor
    assert lesson_page not in page


def test_a_room_the_searcher_is_not_in_yields_nothing(client, world):
    for query in ("反恐", "ارهاب", "numerique", "secret", "interdit", "الغرفة"):
        page = hits_of(results(client, query))
        assert "Salle fermée" not in page
        assert "secret" not in page and "interdit" not in page and "المغلقة" not in page
    assert titles(client, "secret") == []
    assert titles(client, "interdit") == []


def test_hidden_posts_drafts_and_other_kinds_stay_out(client, world):
    assert titles(client, "caché") == []
    assert titles(client, "brouillon") == []
    assert "Guide de la preuve numérique" in titles(client, "numerique", kind="library")
    assert titles(client, "numerique", kind="modules") == []
    assert titles(client, "CBRN", kind="forums") == ["Menaces CBRN au Sahel"]


def test_words_are_marked_in_escaped_snippets(client, world):
    page = results(client, "numerique")
    assert "<mark>numérique</mark>" in page
    assert snippet("Un <b>texte</b> numérique", words_of("numerique")) == (
        "Un &lt;b&gt;texte&lt;/b&gt; <mark>numérique</mark>"
    )
    long = "mot " * 400 + "la résolution finale " + "fin " * 400
    shown = str(snippet(long, words_of("RESOLUTION")))
    assert "<mark>résolution</mark>" in shown and shown.startswith("…") and len(shown) < 300


def test_a_title_with_markup_stays_text(app, client, login_as):
    login_as()
    with app.app_context():
        a_module('<script>alert("x")</script> <img src=x onerror=alert(1)> électronique')
        db.session.commit()
    page = results(client, "electronique")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_visitors_find_public_modules_only(app, client, create_user):
    with app.app_context():
        shown = a_module("Terrorisme nucléaire ouvert", "Public.", language="fr")
        shown.is_public = True
        a_module("Terrorisme nucléaire réservé", "Pour les inscrits.", language="fr")
        room = a_room("Salle privée", [(create_user(), "host")])
        a_resource(room, "Nucléaire confidentiel")
        db.session.commit()
    assert titles(client, "nucleaire") == ["Terrorisme nucléaire ouvert"]


def test_module_forums_only_for_its_learners_and_trainers(app, client, auth, create_user):
    trainer = create_user(role="trainer")
    learner = create_user()
    other = create_user()
    with app.app_context():
        module = a_module("Financement du terrorisme", author=trainer)
        db.session.flush()
        db.session.add(Enrolment(module_id=module.id, user_id=learner.id, status="active"))
        forum = Forum(module_id=module.id)
        db.session.add(forum)
        db.session.flush()
        a_post(forum, "Hawala et cryptoactifs", "Question sur les virements.", learner)
        db.session.commit()
    for person, finds in ((learner, True), (trainer, True), (other, False)):
        auth.login(person.email)
        assert ("Hawala et cryptoactifs" in titles(client, "hawala")) is finds
        auth.logout()


def test_the_index_follows_edits_hiding_and_deletion(app, client, world):
    assert "Guide de la preuve numérique" in titles(client, "preuve")
    with app.app_context():
        resource = db.session.scalar(select(Resource).where(Resource.title.like("Guide%")))
        resource.title = "Manuel de la preuve numérique"
        module = db.session.scalar(select(Module).where(Module.language == "es"))
        module.lessons.append(Lesson(position=1, title="Cadena de custodia", body_html="<p>x</p>"))
        db.session.commit()
    assert titles(client, "guide de la") == []
    assert "Manuel de la preuve numérique" in titles(client, "preuve")
    assert "Cadena de custodia" in titles(client, "custodia")

    with app.app_context():
        topic = db.session.scalar(select(Topic).where(Topic.title == "Menaces CBRN au Sahel"))
        topic.hidden_at = utcnow()
        db.session.delete(db.session.scalar(select(Resource).where(Resource.title.like("Manuel%"))))
        db.session.delete(db.session.scalar(select(Module).where(Module.language == "es")))
        db.session.commit()
    assert titles(client, "1540") == []
    assert titles(client, "preuve") == []
    assert titles(client, "custodia") == []
    assert titles(client, "electronicas") == []


def test_reindex_writes_the_whole_index_again(app, client, runner, world):
    with app.app_context():
        db.session.execute(SearchDocument.__table__.delete())
        db.session.commit()
    assert titles(client, "numerique") == []
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"\d+ documents indexed.\n", result.output)
    assert "Guide de la preuve numérique" in titles(client, "numerique")
    assert "核材料" in titles(client, "核")


def a_pdf(text: str) -> bytes:
    return weasyprint.HTML(string=f"<html><body><p>{text}</p></body></html>").write_pdf()


def a_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_heading("Guide", level=1)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_the_text_of_uploaded_pdf_and_word_files_is_found(app, client, create_user, auth):
    host = create_user(role="trainer")
    with app.app_context():
        room_id = a_room("Salle des juges", [(host, "host")]).id
        db.session.commit()
    auth.login(host.email)
    for title, name, data in (
        ("Rapport annuel", "rapport.pdf", a_pdf("La Résolution 2178 sur les combattants.")),
        ("Note de service", "note.docx", a_docx("Les éléments de preuve numériques saisis.")),
    ):
        response = post_form(
            client,
            f"/irooms/{room_id}/library/new",
            {
                "title": title,
                "language": "fr",
                "category": "manual",
                "tags": "",
                "file": (io.BytesIO(data), name),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    assert titles(client, "resolution 2178") == ["Rapport annuel"]
    assert titles(client, "COMBATTANTS") == ["Rapport annuel"]
    assert titles(client, "elements de preuve numeriques") == ["Note de service"]
    assert "<mark>preuve</mark> <mark>numériques</mark>" in results(client, "preuve numeriques")

    # Texts never read (a lost job, files older than the index) are read by the reindex.
    with app.app_context():
        db.session.execute(FileText.__table__.delete())
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["search", "reindex"]).exit_code == 0
    assert titles(client, "resolution 2178") == ["Rapport annuel"]


def test_queries_do_not_grow_with_the_results(app, client, world):
    with app.app_context():
        room = db.session.scalar(select(Room).where(Room.name == "Salle du Sahel"))
        a_resource(room, "Terrorisme et droit pénal")
        db.session.commit()
    few = count_queries(app, client, "/search?q=terrorisme")
    with app.app_context():
        room = db.session.scalar(select(Room).where(Room.name == "Salle du Sahel"))
        for number in range(PAGE_SIZE + 5):
            a_resource(room, f"Terrorisme, dossier {number}")
        forum = db.session.scalar(select(Forum).where(Forum.room_id == room.id))
        me = db.session.scalar(select(Membership.user_id).where(Membership.room_id == room.id))
        for number in range(5):
            a_post(forum, f"Terrorisme, sujet {number}", "Texte.", type("U", (), {"id": me}))
        db.session.commit()
    assert len(titles(client, "terrorisme")) == PAGE_SIZE
    assert count_queries(app, client, "/search?q=terrorisme") == few
    assert "More results" in results(client, "terrorisme")
    assert len(titles(client, "terrorisme", page=2)) > 0


def test_the_search_box_is_a_labelled_get_form(client, app):
    with app.test_request_context("/"):
        from flask import render_template

        box = render_template("search/_box.html")
    assert 'role="search"' in box and 'method="get"' in box and 'name="q"' in box
    assert "Search" in box


def test_the_words_of_a_webinars_captions_are_found(app, client, world):
    captions = (
        "WEBVTT\n\nNOTE not spoken\n\n1\n00:00:01.000 --> 00:00:04.000\n"
        "<v Orateur>La criminalistique nucléaire aide l'enquête.</v>\n"
    )
    with app.test_request_context():
        webinar = db.session.scalar(select(Webinar))
        uploader = db.session.get(User, world.id)
        upload = FileStorage(io.BytesIO(captions.encode()), "fr.vtt", content_type="text/vtt")
        webinars.set_captions(webinar, "fr", upload, uploader)
        db.session.commit()
    assert titles(client, "CRIMINALISTIQUE nucleaire") == [
        "Terrorisme nucléaire : le cadre juridique"
    ]
    assert titles(client, "orateur") == [] and titles(client, "spoken") == []
