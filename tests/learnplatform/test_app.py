"""The application as a whole: configuration, schema, pages for each role, errors."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from learnplatform import create_app
from learnplatform.config import ConfigurationError
from learnplatform.extensions import db
from learnplatform.search.engine import in_the_models


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("LEARNPLATFORM_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


def test_an_unknown_way_of_sending_files_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("STORAGE_SENDFILE", "x-accel")
    with pytest.raises(ConfigurationError, match="STORAGE_SENDFILE"):
        create_app()


def test_production_secures_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("LEARNPLATFORM_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a production secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://platform@db.internal/platform")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_the_migrations_build_exactly_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        # the FTS5 table of the search (SQLite) is the migration's own, as autogenerate knows
        opts = {"compare_type": True, "include_name": in_the_models}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_database_records_the_newest_migration(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with app.app_context(), db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_health_check(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readiness_says_which_part_cannot_be_reached(client):
    """The database answers (and Redis, when the platform uses one): 200; otherwise 503 naming
    what does not, without a traceback in the log."""
    import socket

    from tests.conftest import _base_config

    assert client.get("/readyz").get_json() == {"status": "ready", "checks": {"database": "ok"}}
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    away = create_app(
        {
            **_base_config(f"postgresql+psycopg://nobody@127.0.0.1:{closed}/none"),
            "REDIS_URL": f"redis://127.0.0.1:{closed}/0",
        }
    )
    answer = away.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {
        "status": "not ready",
        "checks": {"database": "unreachable", "redis": "unreachable"},
    }


def test_visitors_see_what_the_platform_is_and_are_asked_to_log_in(client):
    page = client.get("/").get_data(as_text=True)
    assert "Counter-Terrorism Learning Platform" in page
    assert 'href="/login"' in page
    # The public catalogue and webinars are open (tests/courses/test_public_catalogue.py).
    for path in ("/courses/my-learning", "/irooms/", "/account", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


@pytest.mark.parametrize(
    ("role", "sees_admin"),
    [("practitioner", False), ("trainer", False), ("administrator", True)],
)
def test_navigation_fits_the_role(client, login_as, role, sees_admin):
    login_as(role)
    page = client.get("/").get_data(as_text=True)
    assert "Catalogue" in page
    assert "My iRooms" in page
    assert ('href="/admin/users"' in page) is sees_admin


def test_empty_states_say_what_will_be_there(client, login_as):
    login_as()
    assert "No module has been published yet" in client.get("/courses/").get_data(as_text=True)
    assert "No webinar series yet" in client.get("/courses/webinars").get_data(as_text=True)
    assert "You are not a member of any iRoom yet" in client.get("/irooms/").get_data(as_text=True)


def test_unknown_pages_get_a_plain_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_large_form_fields_are_refused(client):
    response = client.post("/login", data={"email": "x" * 2_000_000, "password": "y"})
    assert response.status_code == 413


def test_front_end_assets_are_served_from_the_platform(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "http://" not in page.replace("http://localhost", "")
    assert "https://" not in page
    with client.get("/static/vendor/bootstrap/bootstrap.bundle.min.js") as script:
        assert script.status_code == 200
