"""The search page: everything the person may find, at ``/search?q=``, filtered by kind."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from learnplatform import numbers
from learnplatform.choices import LANGUAGES
from learnplatform.search import engine

bp = Blueprint("search", __name__)

#: the longest query read; the rest is ignored
MAX_QUERY = 200


@bp.get("/search")
def search():
    """Modules, webinars, library resources and forum posts holding every word typed, best
    first, with the words marked in their titles and snippets."""
    words = request.args.get("q", "").strip()[:MAX_QUERY]
    group = request.args.get("kind", "")
    group = group if group in engine.GROUPS else ""
    page = numbers.from_text(request.args.get("page"), 1, minimum=1)
    results = engine.search(current_user, words, group=group, page=page)
    return render_template(
        "search/results.html",
        words=words,
        group=group,
        results=results,
        groups=engine.GROUPS,
        languages=LANGUAGES,
    )
