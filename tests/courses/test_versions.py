"""Modules and webinar series in several languages: a trainer links the versions, learners are
offered them, and the catalogue starts from the learner's own language."""

from sqlalchemy import select

from courses import versions
from courses.models import Module, WebinarSeries
from learnplatform.extensions import db
from tests.courses.test_catalogue import add_modules, titles
from tests.helpers import Auth, post_form

MODULE_FORM = {
    "summary": "For prosecutors and investigators.",
    "theme": "financing",
    "estimated_minutes": "90",
    "enrolment_mode": "open",
}


def module_ids(app) -> dict[str, int]:
    with app.app_context():
        return {module.title: module.id for module in db.session.scalars(select(Module))}


def families(app) -> dict[str, int | None]:
    with app.app_context():
        return {module.title: module.family_id for module in db.session.scalars(select(Module))}


def test_a_trainer_links_translations_and_learners_are_offered_them(app, client, login_as):
    login_as("trainer")
    for title, language in [
        ("Countering the financing of terrorism", "en"),
        ("Le financement du terrorisme", "fr"),
        ("La financiación del terrorismo", "es"),
    ]:
        response = post_form(
            client, "/courses/manage/new", MODULE_FORM | {"title": title, "language": language}
        )
        assert response.status_code == 302
    ids = module_ids(app)
    english = ids["Countering the financing of terrorism"]

    form = client.get(f"/courses/manage/{ids['Le financement du terrorisme']}").get_data(
        as_text=True
    )
    assert "Version of" in form and "Countering the financing of terrorism · English" in form
    for title in ("Le financement du terrorisme", "La financiación del terrorismo"):
        response = post_form(
            client,
            f"/courses/manage/{ids[title]}",
            MODULE_FORM
            | {"title": title, "language": "fr" if "Le" in title else "es"}
            | {"version_of": str(english)},
        )
        assert response.status_code == 302
    assert set(families(app).values()) == {english}

    # A fourth module in a language the family already has: refused, and nothing changes.
    post_form(client, "/courses/manage/new", MODULE_FORM | {"title": "Autre", "language": "fr"})
    autre = module_ids(app)["Autre"]
    response = post_form(
        client,
        f"/courses/manage/{autre}",
        MODULE_FORM | {"title": "Autre titre", "language": "fr", "version_of": str(english)},
    )
    assert response.status_code == 200
    assert "These versions already include one in Français." in response.get_data(as_text=True)
    assert families(app)["Autre"] is None and "Autre titre" not in families(app)

    with app.app_context():
        for module in db.session.scalars(select(Module)):
            module.is_published = True
        db.session.commit()
    Auth(client).logout()
    login_as(language="fr")
    catalogue = client.get("/courses/").get_data(as_text=True)
    assert sorted(titles(catalogue)) == ["Autre", "Le financement du terrorisme"]
    assert 'title="English" lang="en"' in catalogue and 'title="Español" lang="es"' in catalogue
    everything = client.get("/courses/?language=").get_data(as_text=True)
    assert len(titles(everything)) == 4

    page = client.get(f"/courses/modules/{ids['Le financement du terrorisme']}").get_data(
        as_text=True
    )
    assert f'href="/courses/modules/{english}" hreflang="en" lang="en">English</a>' in page
    assert f'href="/courses/modules/{ids["La financiación del terrorismo"]}"' in page


def test_unlinking_keeps_the_other_versions_together(app):
    add_modules(app, ("One", "cbrn", "en"), ("Deux", "cbrn", "fr"), ("Tres", "cbrn", "es"))
    with app.app_context():
        one, deux, tres = db.session.scalars(select(Module).order_by(Module.id)).all()
        versions.link(deux, one)
        versions.link(tres, one)
        assert one.family_id == deux.family_id == tres.family_id == one.id
        versions.unlink(one)  # the family was named after it: the others get a new name
        assert one.family_id is None and deux.family_id == tres.family_id == deux.id
        versions.link(one, deux)
        assert [version.language for version in versions.versions_of(one)] == ["fr", "es"]
        versions.unlink(tres)
        versions.unlink(deux)  # the last two: neither has a version any more
        assert (one.family_id, deux.family_id, tres.family_id) == (None, None, None)
        db.session.rollback()


def test_drafts_are_not_offered_to_learners(app, client, login_as):
    add_modules(app, ("Published", "cbrn", "en"))
    add_modules(app, ("Brouillon", "cbrn", "fr"), is_published=False)
    with app.app_context():
        published, draft = db.session.scalars(select(Module).order_by(Module.id)).all()
        versions.link(draft, published)
        db.session.commit()
        published_id = published.id
    login_as()
    page = client.get(f"/courses/modules/{published_id}").get_data(as_text=True)
    assert "Also available in" not in page and "Français" not in page.split("<main")[1]
    assert 'title="Français"' not in client.get("/courses/?language=").get_data(as_text=True)


def test_webinar_series_link_their_versions(app, client, login_as):
    login_as("trainer")
    for title, language in [("Foreign terrorist fighters", "en"), ("Combattants étrangers", "fr")]:
        post_form(
            client,
            "/courses/webinars/series/new",
            {"title": title, "description": "", "theme": "cbrn", "language": language},
        )
    with app.app_context():
        english, french = db.session.scalars(select(WebinarSeries).order_by(WebinarSeries.id))
        english_id, french_id = english.id, french.id
    response = post_form(
        client,
        f"/courses/webinars/series/{french_id}/edit",
        {"title": "Combattants étrangers", "theme": "cbrn", "language": "fr"}
        | {"version_of": str(english_id)},
    )
    assert response.status_code == 302
    page = client.get(f"/courses/webinars/series/{english_id}").get_data(as_text=True)
    assert f'href="/courses/webinars/series/{french_id}" hreflang="fr"' in page
    listing = client.get("/courses/webinars").get_data(as_text=True)
    assert listing.count('<span lang="fr"') == 2  # each series names both its languages


def test_two_trainers_linking_the_same_language_at_once_make_one_link(app, monkeypatch):
    """The check before linking cannot see a link another request has not committed yet; the
    unique constraint on (family, language) refuses the second one all the same."""
    add_modules(app, ("Original", "cbrn", "en"), ("Un", "cbrn", "fr"), ("Deux", "cbrn", "fr"))
    with app.app_context():
        original, first, second = db.session.scalars(select(Module).order_by(Module.id)).all()
        versions.link(first, original)
        db.session.commit()
        monkeypatch.setattr(versions, "versions_of", lambda item, *conditions: [])
        try:
            versions.link(second, original)
        except versions.LanguageTaken:
            db.session.rollback()  # as the view does
        else:
            raise AssertionError("a second French version was linked")
        families = dict(db.session.execute(select(Module.title, Module.family_id)).all())
        assert families == {"Original": original.id, "Un": original.id, "Deux": None}


def test_a_trainer_cannot_link_to_a_module_of_another_trainer(app, client, login_as, create_user):
    other = create_user(role="trainer")
    add_modules(app, ("Someone else's module", "cbrn", "en"))
    with app.app_context():
        theirs = db.session.scalar(select(Module))
        theirs.created_by_id = other.id
        db.session.commit()
        theirs_id = theirs.id
    login_as("trainer")
    post_form(client, "/courses/manage/new", MODULE_FORM | {"title": "Mine", "language": "fr"})
    mine = module_ids(app)["Mine"]
    form = client.get(f"/courses/manage/{mine}").get_data(as_text=True)
    assert "Someone else" not in form
    response = post_form(
        client,
        f"/courses/manage/{mine}",
        MODULE_FORM | {"title": "Mine", "language": "fr", "version_of": str(theirs_id)},
    )
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert set(families(app).values()) == {None}


def test_a_version_cannot_take_the_language_of_another_version(app, client, login_as):
    trainer = login_as("trainer")
    add_modules(app, ("English", "cbrn", "en"), ("Français", "cbrn", "fr"))
    with app.app_context():
        english, french = db.session.scalars(select(Module).order_by(Module.id)).all()
        english.created_by_id = french.created_by_id = trainer.id
        versions.link(french, english)
        db.session.commit()
        english_id, french_id = english.id, french.id
    response = post_form(
        client,
        f"/courses/manage/{french_id}",
        MODULE_FORM | {"title": "Français", "language": "en", "version_of": str(english_id)},
    )
    assert response.status_code == 200
    assert "These versions already include one in English." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Module, french_id).language == "fr"
