"""The learning platform: application factory."""

from functools import cache
from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from learnplatform import config as settings
from learnplatform.choices import LANGUAGES, is_time_zone
from learnplatform.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
from learnplatform.queueing import RequestQueueBound
from learnplatform.serving import async_mode, guard_sqlite_writes

TRANSLATIONS = settings.PROJECT_ROOT / "learnplatform" / "translations"


@cache
def available_locales() -> list[str]:
    """English plus every language whose compiled catalogue is present, in the order of the list."""
    compiled = {path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/*.mo")}
    return [code for code in LANGUAGES if code == "en" or code in compiled]


def select_locale() -> str:
    """The logged-in person's preferred language, else the one chosen in this browser, else the
    browser's own, else English."""
    if not has_request_context():
        return "en"  # the command line
    locales = available_locales()
    if current_user and current_user.is_authenticated and current_user.language in locales:
        return current_user.language
    if session.get("language") in locales:
        return session["language"]
    return request.accept_languages.best_match(locales) or "en"


def select_time_zone() -> str:
    """The logged-in person's time zone; UTC for visitors and the command line."""
    signed_in = has_request_context() and current_user and current_user.is_authenticated
    return current_user.time_zone if signed_in and is_time_zone(current_user.time_zone) else "UTC"


def create_app(config: dict | None = None) -> Flask:
    """Create the platform; ``config`` overrides what the environment says (tests use it)."""
    root = settings.PROJECT_ROOT
    app = Flask(
        __name__,
        instance_path=str(root / "instance"),
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    app.config.update(settings.from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from learnplatform import (  # noqa: F401
        audit,
        cli,
        errors,
        jobs,
        logs,
        metrics,
        numbers,
        reconnect,
        security,
        storage,
        templating,
    )

    numbers.init_app(app)  # before any route: ids beyond the database's range match none
    security.init_app(app)  # before CSRF, so that oversized forms are refused before it reads them
    reconnect.init_app(app)  # inside Socket.IO's middleware, which _init_extensions adds
    _init_extensions(app)
    _register_blueprints(app)
    audit.configure_security_log()
    errors.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)
    metrics.init_app(app)
    if app.config["REQUEST_QUEUE_TIMEOUT"] > 0:
        # Around all that runs the platform, Socket.IO's middleware too: nothing that waited
        # too long runs.
        app.wsgi_app = RequestQueueBound(app.wsgi_app, app.config["REQUEST_QUEUE_TIMEOUT"])
    logs.init_app(app)  # outermost: a refused request gets its id, Socket.IO's connections too
    return app


def _init_extensions(app: Flask) -> None:
    from learnplatform.accounts.services import load_session_user
    from learnplatform.search.engine import in_the_models

    db.init_app(app)
    guard_sqlite_writes()
    migrate.init_app(
        app, db, directory=str(settings.PROJECT_ROOT / "migrations"), include_name=in_the_models
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session_user)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_time_zone,
        default_translation_directories=str(TRANSLATIONS),
    )
    limiter.init_app(app)
    origin = app.config["PUBLIC_ORIGIN"]
    from irooms.queue import message_queue

    socketio.init_app(
        app,
        async_mode=async_mode(),  # gevent under deploy/gunicorn.conf.py
        # Without PUBLIC_ORIGIN only the origin the page was served from may connect.
        cors_allowed_origins=[origin] if origin else None,
        # Redis between processes, whose outages cost the chat delay, not messages.
        client_manager=message_queue(
            app.config.get("SOCKETIO_MESSAGE_QUEUE", app.config["REDIS_URL"])
        ),
        max_http_buffer_size=64 * 1024,
    )


def _register_blueprints(app: Flask) -> None:
    import courses
    import irooms
    from courses.scorm import content as scorm_content
    from learnplatform import views
    from learnplatform.accounts import bp as accounts_bp
    from learnplatform.admin import bp as admin_bp
    from learnplatform.api import bp as api_bp
    from learnplatform.calendars import bp as calendars_bp
    from learnplatform.donor_report import bp as donor_report_bp
    from learnplatform.forums import bp as forums_bp
    from learnplatform.notifications import bp as notifications_bp
    from learnplatform.search import index as search_index
    from learnplatform.search import views as search_views
    from learnplatform.stats import bp as stats_bp
    from learnplatform.stats import cli as stats_cli
    from learnplatform.surveys import bp as surveys_bp

    app.register_blueprint(views.bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(stats_bp, url_prefix="/stats")
    app.register_blueprint(donor_report_bp, url_prefix="/stats/donor-report")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.cli.add_command(stats_cli.stats)
    app.register_blueprint(courses.bp, url_prefix="/courses")
    app.register_blueprint(courses.verify_bp)
    app.register_blueprint(scorm_content.bp)
    app.register_blueprint(irooms.bp, url_prefix="/irooms")
    app.register_blueprint(notifications_bp, url_prefix="/notifications")
    app.register_blueprint(calendars_bp, url_prefix="/calendar")
    app.register_blueprint(forums_bp, url_prefix="/forums")
    app.register_blueprint(search_views.bp)
    app.register_blueprint(surveys_bp, url_prefix="/surveys")
    search_index.init_app(app)
