"""The public catalogue: what visitors who are not logged in see, what stays closed to them, and
"Enrol" through login and back."""

import re

from sqlalchemy import func, select

from courses.models import Enrolment, Lesson, Module, Webinar, WebinarSeries
from irooms.models import Room
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from tests.courses.test_catalogue import titles
from tests.helpers import PASSWORD, Auth, count_queries, link_in, outbox, post_form
from tests.learnplatform.test_accounts import REGISTRATION


def add_module(app, title: str, *, language="en", public=True, published=True, **fields) -> int:
    """A module with two lessons; its id."""
    with app.app_context():
        module = Module(
            title=title,
            summary=fields.pop("summary", f"What {title.lower()} covers, for prosecutors."),
            theme=fields.pop("theme", "cbrn"),
            language=language,
            estimated_minutes=120,
            is_published=published,
            is_public=public,
            published_at=utcnow() if published else None,
            lessons=[
                Lesson(position=1, title=f"{title}: the threat"),
                Lesson(position=2, title=f"{title}: the law"),
            ],
            lesson_count=2,
            **fields,
        )
        db.session.add(module)
        db.session.commit()
        return module.id


def test_visitors_see_public_published_modules_only(app, client):
    add_module(app, "Terrorisme nucléaire et radiologique", language="fr")
    add_module(app, "Electronic evidence", public=False)
    add_module(app, "A public draft", published=False)

    listed = client.get("/courses/?language=").get_data(as_text=True)
    assert titles(listed) == ["Terrorisme nucléaire et radiologique"]

    # Words match whatever their accents and case, as typed on any keyboard.
    assert titles(client.get("/courses/?q=NUCLEAIRE&language=").get_data(as_text=True)) == [
        "Terrorisme nucléaire et radiologique"
    ]
    assert titles(client.get("/courses/?q=evidence&language=").get_data(as_text=True)) == []

    home = client.get("/").get_data(as_text=True)
    assert "Terrorisme nucléaire et radiologique" in home
    assert "Electronic evidence" not in home and "A public draft" not in home


def test_other_modules_and_pages_send_visitors_to_log_in(app, client):
    hidden = add_module(app, "Electronic evidence", public=False)
    draft = add_module(app, "A public draft", published=False)
    shown = add_module(app, "CBRN terrorism")
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.module_id == shown))

    for path in (
        f"/courses/modules/{hidden}",
        f"/courses/modules/{draft}",
        "/courses/modules/999999",
        f"/courses/modules/{shown}/lessons/{lesson_id}",
        f"/courses/modules/{shown}/post_test",
        f"/courses/modules/{shown}/join",
        "/courses/my-learning",
        "/irooms/",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
    # Enrolling without an account changes nothing.
    assert client.post(f"/courses/modules/{shown}/enrol").status_code in (302, 400)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_public_module_page_for_visitors(app, client):
    english = add_module(app, "CBRN terrorism")
    french = add_module(
        app,
        "Terrorisme NRBC",
        language="fr",
        summary="Le terrorisme chimique, biologique, radiologique et nucléaire.",
    )
    russian = add_module(app, "ХБРЯ-терроризм", language="ru", public=False)
    with app.app_context():
        family = db.session.get(Module, english)
        family.family_id = english
        for other in (french, russian):
            db.session.get(Module, other).family_id = english
        db.session.commit()

    page = client.get(f"/courses/modules/{french}").get_data(as_text=True)
    assert "<title>Terrorisme NRBC ·" in page
    assert (
        '<meta name="description" content="Le terrorisme chimique, biologique, radiologique et '
        'nucléaire.">' in page
    )
    assert f'<link rel="canonical" href="http://localhost/courses/modules/{french}">' in page
    alternates = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))
    assert alternates == {
        "en": f"http://localhost/courses/modules/{english}",
        "fr": f"http://localhost/courses/modules/{french}",
        "x-default": f"http://localhost/courses/modules/{english}",
    }  # the Russian version is not public: search engines are not sent to a login page
    assert "Terrorisme NRBC: the threat" in page and "Terrorisme NRBC: the law" in page
    assert "English" in page and "120 minutes" in page
    # Lessons are listed, never linked, and the Enrol button leads to login, then back.
    assert "/lessons/" not in page
    assert f'href="/login?next=/courses/modules/{french}/join"' in page
    assert f'href="/register?next=/courses/modules/{french}/join"' in page


def test_enrol_through_login_comes_back_enrolled_once(app, client, create_user):
    module_id = add_module(app, "CBRN terrorism")
    person = create_user()
    join = f"/courses/modules/{module_id}/join"
    login_page = client.get(client.get(join).headers["Location"])
    assert login_page.status_code == 200

    response = post_form(
        client,
        f"/login?next={join}",
        {"email": person.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == join
    for _ in range(2):  # a double click, or the page opened again
        arrived = client.get(join, headers={"Sec-Fetch-Site": "same-origin"})
        assert arrived.headers["Location"] == f"/courses/modules/{module_id}"
    page = client.get(f"/courses/modules/{module_id}").get_data(as_text=True)
    assert "You are enrolled." in page and "Start the first lesson" in page
    with app.app_context():
        enrolments = db.session.scalars(select(Enrolment)).all()
        assert [(e.user_id, e.status) for e in enrolments] == [(person.id, "active")]


def test_enrol_through_registration_confirmed_in_another_browser(app, client):
    """The confirmation link carries where the person was going: opened on the phone that
    reads the e-mail, it still leads to the module and enrols."""
    module_id = add_module(app, "CBRN terrorism")
    join = f"/courses/modules/{module_id}/join"
    registered = post_form(client, f"/register?next={join}", REGISTRATION)
    assert registered.headers["Location"] == "/register/check-email"
    (message,) = outbox(app, REGISTRATION["email"].lower())

    phone = app.test_client()
    confirmed = phone.get(link_in(message))
    assert confirmed.headers["Location"] == f"/login?next={join}"
    logged_in = post_form(
        phone,
        f"/login?next={join}",
        {"email": REGISTRATION["email"], "password": REGISTRATION["password"]},
    )
    assert logged_in.headers["Location"] == join
    phone.get(join, headers={"Sec-Fetch-Site": "same-origin"})
    with app.app_context():
        assert db.session.scalars(select(Enrolment.status)).all() == ["active"]


def test_a_confirmation_link_leads_nowhere_else(app, client):
    post_form(client, "/register?next=https://evil.example/", REGISTRATION)
    (message,) = outbox(app, REGISTRATION["email"].lower())
    assert "evil" not in message.body
    forged = link_in(message) + "?next=//evil.example/"
    assert app.test_client().get(forged).headers["Location"] == "/login"


def test_join_from_another_site_does_not_enrol(app, client, login_as):
    module_id = add_module(app, "CBRN terrorism", enrolment_mode="approval")
    login_as()
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Referer": "https://evil.example/"}, {}):
        response = client.get(f"/courses/modules/{module_id}/join", headers=headers)
        assert response.headers["Location"] == f"/courses/modules/{module_id}"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 0
    # From the platform's own page, a module by approval gets a request, as its button does.
    client.get(f"/courses/modules/{module_id}/join", headers={"Sec-Fetch-Site": "same-origin"})
    with app.app_context():
        assert db.session.scalars(select(Enrolment.status)).all() == ["requested"]


def test_login_refuses_to_send_elsewhere(app, client, create_user):
    person = create_user()
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "%2F%2Fevil.example",
    ):
        response = Auth(app.test_client()).login(person.email, query_string={"next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target


def test_public_webinar_series_and_rooms_stay_closed(app, client):
    with app.app_context():
        room = Room(name="Sahel prosecutors", language="fr", theme="criminal_justice")
        public = WebinarSeries(title="Open talks", theme="cbrn", language="en", is_public=True)
        closed = WebinarSeries(title="Talks for members", theme="cbrn", language="en")
        in_room = WebinarSeries(
            title="Room talks", theme="cbrn", language="en", is_public=True, rooms=[room]
        )
        for series in (public, closed, in_room):
            series.webinars = [
                Webinar(title=f"{series.title}, first", language="en", starts_at=utcnow())
            ]
        db.session.add_all([room, public, closed, in_room])
        db.session.commit()
        ids = {series.title: series.id for series in (public, closed, in_room)}
        room_id = room.id

    listed = client.get("/courses/webinars").get_data(as_text=True)
    assert "Open talks, first" in listed
    assert "Talks for members" not in listed and "Room talks" not in listed
    assert client.get(f"/courses/webinars/series/{ids['Open talks']}").status_code == 200
    for path in (
        f"/courses/webinars/series/{ids['Talks for members']}",
        f"/courses/webinars/series/{ids['Room talks']}",
        f"/irooms/{room_id}",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_public_catalogue_queries_do_not_grow(app, client):
    for number in range(3):
        add_module(app, f"Module {number}")
    few = count_queries(app, client, "/courses/?language=")
    few_home = count_queries(app, client, "/")
    for number in range(3, 15):
        add_module(app, f"Module {number}")
    assert count_queries(app, client, "/courses/?language=") == few
    assert count_queries(app, client, "/") == few_home


def test_a_trainer_makes_a_module_and_a_series_public_through_their_forms(app, client, login_as):
    login_as("trainer")
    module_fields = {
        "title": "Nuclear security",
        "summary": "The nuclear security conventions.",
        "theme": "cbrn",
        "language": "en",
        "estimated_minutes": "90",
        "enrolment_mode": "open",
    }
    created = post_form(client, "/courses/manage/new", module_fields | {"is_public": "y"})
    edit_url = created.headers["Location"]
    edit_page = client.get(edit_url).get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="is_public"', edit_page)
    series_fields = {"title": "Open talks", "theme": "cbrn", "language": "en"}
    post_form(client, "/courses/webinars/series/new", series_fields | {"is_public": "y"})
    with app.app_context():
        assert db.session.scalar(select(Module.is_public)) is True
        assert db.session.scalar(select(WebinarSeries.is_public)) is True
        # Searching needs no accents: the folded text follows the title.
        assert db.session.scalar(select(Module.search_text)).startswith("nuclear security")

    post_form(client, edit_url, module_fields)  # the box left empty
    with app.app_context():
        assert db.session.scalar(select(Module.is_public)) is False
