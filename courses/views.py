"""The module catalogue and the webinar recordings."""

from flask import abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from courses import bp
from courses.models import Module, WebinarSeries
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.extensions import db

PAGE_SIZE = 12


def _escape_like(words: str) -> str:
    return words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@bp.get("/")
@login_required
def catalogue():
    """Published modules, searchable by words and filtered by theme and language."""
    words = request.args.get("q", "").strip()[:200]
    theme = request.args.get("theme", "")
    language = request.args.get("language", "")
    query = select(Module).where(Module.is_published)
    for word in words.split()[:8]:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            or_(
                func.lower(Module.title).like(pattern, escape="\\"),
                func.lower(Module.summary).like(pattern, escape="\\"),
            )
        )
    if theme in THEMES:
        query = query.where(Module.theme == theme)
    if language in LANGUAGES:
        query = query.where(Module.language == language)
    page = db.paginate(query.order_by(Module.title, Module.id), per_page=PAGE_SIZE, max_per_page=50)
    return render_template(
        "courses/catalogue.html",
        page=page,
        words=words,
        theme=theme if theme in THEMES else "",
        language=language if language in LANGUAGES else "",
        themes=THEMES,
        languages=LANGUAGES,
    )


@bp.get("/modules/<int:module_id>")
@login_required
def module(module_id):
    """A module's description; drafts exist only for trainers."""
    found = db.session.get(Module, module_id)
    if found is None or (not found.is_published and not current_user.is_trainer):
        abort(404)
    return render_template("courses/module.html", module=found, themes=THEMES, languages=LANGUAGES)


@bp.get("/webinars")
@login_required
def webinars():
    """Webinar series with their webinars, newest series first."""
    page = db.paginate(
        select(WebinarSeries)
        .options(selectinload(WebinarSeries.webinars))
        .order_by(WebinarSeries.created_at.desc(), WebinarSeries.id.desc()),
        per_page=PAGE_SIZE,
        max_per_page=50,
    )
    return render_template("courses/webinars.html", page=page, themes=THEMES, languages=LANGUAGES)
