"""The module catalogue and the webinar list, as a practitioner uses them."""

import re
from datetime import datetime

from courses.models import Module, Webinar, WebinarSeries
from learnplatform.extensions import db
from tests.helpers import count_queries


def titles(page: str) -> list[str]:
    """The module titles a catalogue page lists."""
    return re.findall(r'<h2 class="card-title"[^>]*><a href="[^"]+">([^<]+)</a>', page)


def add_modules(app, *specs, **common):
    with app.app_context():
        for title, theme, language in specs:
            db.session.add(
                Module(
                    title=title,
                    summary=common.get("summary", f"A module about {title.lower()}."),
                    theme=theme,
                    language=language,
                    estimated_minutes=90,
                    is_published=common.get("is_published", True),
                )
            )
        db.session.commit()


def test_catalogue_searches_and_filters(app, client, login_as):
    add_modules(
        app,
        ("Countering the financing of terrorism", "financing", "en"),
        ("Requesting electronic evidence across borders", "electronic_evidence", "en"),
        ("Le financement du terrorisme", "financing", "fr"),
    )
    add_modules(app, ("A draft on prisons", "prisons", "en"), is_published=False)
    login_as()
    own_language = client.get("/courses/").get_data(as_text=True)
    assert "2 modules" in own_language and "in English, your language" in own_language
    assert "Le financement du terrorisme" not in titles(own_language)
    everything = client.get("/courses/?language=").get_data(as_text=True)
    assert "3 modules" in everything and "your language" not in everything
    assert len(titles(everything)) == 3
    assert "A draft on prisons" not in everything

    found = client.get("/courses/?q=ELECTRONIC+borders").get_data(as_text=True)
    assert titles(found) == ["Requesting electronic evidence across borders"]

    french = client.get("/courses/?theme=financing&language=fr").get_data(as_text=True)
    assert titles(french) == ["Le financement du terrorisme"]

    nothing = client.get("/courses/?q=100%25_").get_data(as_text=True)
    assert "No module matches your search." in nothing


def test_search_and_filters_are_not_sql(app, client, login_as):
    add_modules(app, ("Victims of terrorism", "victims", "en"))
    login_as()
    for attack in ("' OR 1=1 --", "%", "_", "\\", "victims') UNION SELECT 1 --"):
        response = client.get("/courses/", query_string={"q": attack, "theme": attack})
        assert response.status_code == 200
        assert titles(response.get_data(as_text=True)) == []


def test_drafts_are_seen_only_by_their_trainers(app, client, login_as, auth):
    add_modules(app, ("Draft module", "cbrn", "en"), is_published=False)
    login_as()
    assert client.get("/courses/modules/1").status_code == 404
    auth.logout()
    author = login_as("trainer")
    with app.app_context():
        db.session.get(Module, 1).created_by_id = author.id
        db.session.commit()
    page = client.get("/courses/modules/1").get_data(as_text=True)
    assert "Draft: only its trainers see it" in page
    auth.logout()
    login_as("trainer")
    assert client.get("/courses/modules/1").status_code == 404
    auth.logout()
    login_as("administrator")
    assert client.get("/courses/modules/1").status_code == 200


def test_catalogue_pages_and_keeps_its_query_count(app, client, login_as):
    add_modules(app, *[(f"Module {n:03d}", "cbrn", "en") for n in range(3)])
    login_as()
    few = count_queries(app, client, "/courses/")
    add_modules(app, *[(f"Module {n:03d}", "cbrn", "en") for n in range(3, 60)])
    many = count_queries(app, client, "/courses/")
    assert few == many
    page_two = client.get("/courses/?page=2").get_data(as_text=True)
    assert "Module 012" in page_two
    assert "Module 011" not in page_two
    assert 'aria-current="page">2<' in page_two


def test_webinar_series_list_their_webinars(app, client, login_as):
    with app.app_context():
        series = WebinarSeries(
            title="Countering CBRN terrorism webinar series",
            description="Eleven webinars over the year.",
            theme="cbrn",
            language="en",
        )
        series.webinars = [
            Webinar(
                title=f"Webinar {n}",
                starts_at=datetime(2026, n, 15, 13, 0),
                speakers="Judge A. Example (Tunisia)",
                language="en",
            )
            for n in range(1, 4)
        ]
        db.session.add(series)
        db.session.commit()
    login_as()
    few = count_queries(app, client, "/courses/webinars")
    page = client.get("/courses/webinars").get_data(as_text=True)
    assert "Countering CBRN terrorism webinar series" in page
    assert "Webinar 3" in page
    assert "Judge A. Example (Tunisia)" in page
    with app.app_context():
        for n in range(5):
            db.session.add(
                WebinarSeries(
                    title=f"Series {n}",
                    theme="victims",
                    language="fr",
                    webinars=[Webinar(title="W", starts_at=datetime(2026, 1, 1), language="fr")],
                )
            )
        db.session.commit()
    assert count_queries(app, client, "/courses/webinars") == few
