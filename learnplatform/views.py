"""The home page, the health check and the readiness check."""

import redis
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from learnplatform import available_locales, homes
from learnplatform.extensions import db
from learnplatform.network import safe_next_url

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """Visitors see what the platform is; logged-in people see where to go next."""
    if not current_user.is_authenticated:
        return render_template("home/visitor.html")
    template, shown = homes.home_of(current_user)
    return render_template(template, **shown)


@bp.post("/language")
def choose_language():
    """Change the interface language: on the profile when logged in, for this browser otherwise."""
    language = request.form.get("language", "")
    back = safe_next_url(request.form.get("next")) or url_for("main.home")
    if language not in available_locales():
        flash(_("This language is not available."), "warning")
        return redirect(back)
    session["language"] = language
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    return redirect(back)


@bp.get("/healthz")
def health():
    """A trivial answer for load balancers and for the benchmark's baseline: the process runs."""
    return {"status": "ok"}


@bp.get("/readyz")
def ready():
    """Whether this process can serve: the database answers, and Redis when the platform uses
    it (rate limits, the chat between processes). 503 with the part that does not, so that a
    load balancer sends people elsewhere meanwhile."""
    checks = {"database": _database_answers()}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _redis_answers()
    status = 200 if all(answer == "ok" for answer in checks.values()) else 503
    return {"status": "ready" if status == 200 else "not ready", "checks": checks}, status


def _database_answers() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.warning("readiness: database: %s", str(error).splitlines()[0])
        return "unreachable"
    return "ok"


def _redis_answers() -> str:
    client = current_app.extensions.get("readiness.redis")
    if client is None:
        client = current_app.extensions["readiness.redis"] = redis.Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1
        )
    try:
        client.ping()
    except redis.RedisError as error:
        current_app.logger.warning("readiness: redis: %s", error)
        return "unreachable"
    return "ok"
