"""The interface language and time zone: chosen, remembered, and followed by pages and e-mails."""

from datetime import datetime

from sqlalchemy import select

from irooms.models import LiveSession
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from tests.helpers import csrf_token, outbox, post_form
from tests.irooms.test_rooms import add_room
from tests.learnplatform.test_accounts import REGISTRATION, register


def html_lang(page: str) -> str:
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_browser_language_is_used_until_a_visitor_chooses_one(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    text = page.get_data(as_text=True)
    assert html_lang(text) == "zh" and "登录" in text
    arabic = client.get("/login", headers={"Accept-Language": "ar-EG"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic and "bootstrap.rtl.min.css" in arabic
    assert "bootstrap.min.css" not in arabic
    english = client.get("/login", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert html_lang(english) == "en" and 'dir="ltr"' in english

    response = post_form(
        client, "/language", {"language": "ru", "next": "/login?x=1"}, form_url="/login"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login?x=1"
    chosen = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert html_lang(chosen) == "ru" and "Войти" in chosen


def test_the_switcher_offers_every_language_and_saves_the_choice_on_the_profile(
    app, client, login_as
):
    me = login_as(language="en")
    page = client.get("/courses/").get_data(as_text=True)
    for code, name in [("fr", "Français"), ("ar", "العربية"), ("zh", "中文"), ("pt", "Português")]:
        assert f'value="{code}" lang="{code}"' in page and f">{name}</button>" in page
    assert 'aria-label="Language: English"' in page

    response = post_form(client, "/language", {"language": "es", "next": "/courses/"}, form_url="/")
    assert response.headers["Location"] == "/courses/"
    with app.app_context():
        assert db.session.get(User, me.id).language == "es"
    page = client.get("/courses/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert html_lang(page) == "es" and "Módulos de aprendizaje electrónico" in page


def test_a_language_that_does_not_exist_or_an_outside_address_changes_nothing(
    app, client, login_as
):
    me = login_as(language="fr")
    token = csrf_token(client, "/")
    for language, following in [("xx", "/courses/"), ("de", "/"), ("fr", "https://evil.example/")]:
        response = client.post(
            "/language", data={"csrf_token": token, "language": language, "next": following}
        )
        assert response.status_code == 302
        assert response.headers["Location"] in ("/", "/courses/")
    with app.app_context():
        assert db.session.get(User, me.id).language == "fr"
    assert client.post("/language", data={"language": "es"}).status_code == 400  # no CSRF token


def test_dates_numbers_and_countries_follow_the_language_and_the_time_zone(app, client, login_as):
    me = login_as(language="fr", time_zone="Europe/Paris")
    room_id = add_room(app, "Procureurs du Sahel", [(me, "participant")])
    with app.app_context():
        session = LiveSession(
            room_id=room_id,
            title="Entraide judiciaire",
            agenda="",
            starts_at=datetime(2026, 3, 14, 14, 0),
            ends_at=datetime(2026, 3, 14, 16, 0),
        )
        db.session.add(session)
        db.session.commit()
        session_id = session.id
    page = client.get(f"/irooms/{room_id}/sessions/{session_id}").get_data(as_text=True)
    assert "samedi 14 mars 2026, 15:00 +0100" in page  # 14:00 UTC in Paris, in French
    assert "17:00 +0100" in page

    profile = client.get("/account").get_data(as_text=True)
    assert "Kenya" in profile and '<option selected value="Europe/Paris">' in profile

    response = post_form(
        client,
        "/account",
        {"name": me.name, "country": "KE", "organisation": "", "agency_type": "prosecution"}
        | {"gender": "undisclosed", "language": "ar", "time_zone": "Asia/Riyadh"},
    )
    assert response.status_code == 302
    page = client.get(f"/irooms/{room_id}/sessions/{session_id}").get_data(as_text=True)
    assert "5:00 م +0300" in page and "مارس" in page  # 17:00 in Riyadh
    profile = client.get("/account").get_data(as_text=True)
    assert "كينيا" in profile  # Kenya, in Arabic

    refused = post_form(
        client,
        "/account",
        {"name": me.name, "country": "KE", "agency_type": "prosecution"}
        | {"gender": "undisclosed", "language": "ar", "time_zone": "Mars/Olympus_Mons"},
    )
    assert refused.status_code == 200
    with app.app_context():
        assert db.session.get(User, me.id).time_zone == "Asia/Riyadh"


def test_registration_keeps_the_time_zone_and_writes_the_e_mail_in_the_chosen_language(app, client):
    form = client.get("/register", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert "data-detect-time-zone" in form and "/static/js/time-zone.js" in form
    assert '<option selected value="pt">' in form  # the language offered is the one in use

    register(client, time_zone="Africa/Bamako")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "aicha.maiga@example.org"))
        assert (user.language, user.time_zone) == ("fr", "Africa/Bamako")
    (message,) = outbox(app, "aicha.maiga@example.org")
    assert message.subject == "Confirmez votre adresse électronique"
    assert message.body.startswith(f"Bonjour {REGISTRATION['name']},")


def test_an_e_mail_is_written_in_the_recipients_language_whoever_asks(app, client, create_user):
    create_user("lin@example.org", name="Lin Wei", language="zh")
    response = post_form(
        client,
        "/password/reset",
        {"email": "lin@example.org"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 302
    (message,) = outbox(app, "lin@example.org")
    assert "密码" in message.subject and message.body.startswith("Lin Wei")


def test_a_host_types_times_in_their_own_time_zone(app, client, login_as):
    host = login_as("trainer", time_zone="Europe/Paris")
    room_id = add_room(app, "Procureurs du Sahel", [(host, "host")])
    form = client.get(f"/irooms/{room_id}/sessions/new").get_data(as_text=True)
    assert "Enter the times in your own time zone, Europe/Paris." in form
    response = post_form(
        client,
        f"/irooms/{room_id}/sessions/new",
        {"title": "Entraide judiciaire", "agenda": "", "conference_url": "", "webinar_id": ""}
        | {"starts_at": "2026-07-14T15:00", "ends_at": "2026-07-14T17:00"},
    )
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(select(LiveSession))
        assert (session.starts_at, session.ends_at) == (
            datetime(2026, 7, 14, 13, 0),  # summer time in Paris is UTC+2
            datetime(2026, 7, 14, 15, 0),
        )
        session_id = session.id
    edit = client.get(f"/irooms/{room_id}/sessions/{session_id}/edit").get_data(as_text=True)
    assert 'value="2026-07-14T15:00"' in edit and 'value="2026-07-14T17:00"' in edit


def test_counts_in_sentences_are_written_the_languages_way(app):
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ ngettext('%(num)s module', '%(num)s modules', count) }} · {{ name }}"
    with app.test_request_context():
        with force_locale("en"):
            assert render_template_string(template, count=1234, name="") == "1,234 modules · "
        with force_locale("fr"):
            french = render_template_string(template, count=1234, name="")
            assert french == "1\u202f234 modules · "
        with force_locale("ru"):  # Russian's three plural forms still follow the number
            assert render_template_string(template, count=21, name="").startswith("21 модуль ")
        escaped = render_template_string(
            "{{ ngettext('%(num)s answer by %(who)s', '%(num)s answers by %(who)s', 2, who=who) }}",
            who="<b>Eve</b>",
        )
        assert escaped == "2 answers by &lt;b&gt;Eve&lt;/b&gt;"


def test_no_template_counts_with_a_number_placeholder():
    """A template's ``ngettext`` gives ``num`` as text ("1,234"): ``%(num)d`` there would fail
    from 1,000 on (a survey question with 1,000 answers was a server error)."""
    import re

    from learnplatform.config import PROJECT_ROOT

    counted = re.compile(r"ngettext\((?:[^()]|\([^()]*\))*?%\(num\)d", re.S)
    found = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "templates").rglob("*.html")
        if counted.search(path.read_text())
    ]
    assert found == []
