"""``/api/v1/``: each answer is JSON; errors are ``{"error": code, "message": text}``.

A request carries ``Authorization: Bearer <token>``, a personal API token of an active
administrator (created at /admin/tokens). Filters are the dashboard's (docs/api.md); lists of
completion records are paged by key: ``after`` the last ``enrolment_id`` received.
"""

import functools

from flask import g, jsonify, request, url_for

from courses.models import Enrolment
from learnplatform.api import bp
from learnplatform.audit import record, utcnow
from learnplatform.extensions import csrf, db, limiter
from learnplatform.numbers import from_text
from learnplatform.stats import gain, queries, tables
from learnplatform.stats.filters import read_filters

#: completion records a page holds by default, and at most
PAGE, MAX_PAGE = 500, 5000

csrf.exempt(bp)


def _error(status: int, code: str, message: str, **extra):
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def token_required(view):
    """The token's owner in ``g.api_user``; 401 without a valid token."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        from learnplatform.accounts.tokens import user_for_token

        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        user = user_for_token(raw.strip()) if scheme.lower() == "bearer" and raw else None
        if user is None:
            return _error(401, "unauthorised", "A valid API token is required.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped


def _filtered(view):
    """The scope of the token's owner and the valid filters; 400 with the fields at fault."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        scope = queries.scope_of(g.api_user)
        form, filters = read_filters(
            request.args, queries.module_choices(scope), today=utcnow().date()
        )
        if filters is None:
            fields = {
                name: [str(error) for error in errors] for name, errors in form.errors.items()
            }
            return _error(400, "invalid_filters", "Some filters are not valid.", fields=fields)
        g.api_form = form  # its group and interval, checked with the filters
        return view(scope, filters, *args, **kwargs)

    return wrapped


def _table_json(table: tables.Table, filters) -> dict:
    return {
        "filters": filters.as_args(),
        "columns": table.keys,
        "rows": [dict(zip(table.keys, row, strict=True)) for row in table.rows],
    }


@bp.get("/statistics")
@limiter.limit("120 per minute")
@token_required
@_filtered
def statistics(scope, filters):
    """The module figures in all, and by ``group`` when it is given."""
    answer = {"filters": filters.as_args(), "totals": queries.totals(filters, scope).as_dict()}
    if "group" in request.args:
        group = g.api_form.group.data
        answer["group"] = group
        answer["rows"] = _table_json(tables.breakdown(filters, scope, group), filters)["rows"]
    return jsonify(answer)


@bp.get("/statistics/periods")
@limiter.limit("120 per minute")
@token_required
@_filtered
def periods(scope, filters):
    """The module figures by month, quarter or year."""
    interval = g.api_form.interval.data
    table = tables.over_time(filters, scope, interval)
    return jsonify({"interval": interval, **_table_json(table, filters)})


@bp.get('/statistics/<any(recordings, resources, irooms, "scorm-lessons", "forum-activity"):what>')
@limiter.limit("120 per minute")
@token_required
@_filtered
def activity(scope, filters, what):
    """Views and downloads per recording, downloads per library resource, iRoom figures, the
    figures of each interactive (SCORM) lesson, or the activity of each forum."""
    table = {
        "recordings": tables.recordings,
        "resources": tables.resources,
        "irooms": tables.rooms,
        "scorm-lessons": tables.scorm_lessons,
        "forum-activity": tables.forum_activity,
    }
    return jsonify(_table_json(table[what](filters, scope), filters))


@bp.get("/statistics/knowledge-gain")
@limiter.limit("120 per minute")
@token_required
@_filtered
def knowledge_gain(scope, filters):
    """The pre-test and post-test scores of the learners who took both, in all and by
    ``group`` (see ``stats.gain``)."""
    group = g.api_form.group.data
    rows = gain.by_group(filters, scope, group)
    table = tables.knowledge_gain(filters, scope, group, rows)
    return jsonify(
        {"group": group, "totals": gain.total_of(rows).as_dict(), **_table_json(table, filters)}
    )


@bp.get("/completions")
@limiter.limit("600 per minute")
@token_required
@_filtered
def completions(scope, filters):
    """Completion records, oldest enrolment first, ``limit`` a page, ``after`` the last
    ``enrolment_id`` of the page before."""
    after = from_text(request.args.get("after", "0"))
    limit = from_text(request.args.get("limit", str(PAGE)), minimum=1)
    if after is None or limit is None or limit > MAX_PAGE:
        return _error(400, "invalid_page", f"limit is 1 to {MAX_PAGE}; after is an enrolment id.")
    query = queries.completion_records(filters, scope)
    if after:
        query = query.where(Enrolment.id > after)
    rows = db.session.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    keys = [key for key, _ in tables.RECORD_COLUMNS if key != "country"]
    records = [dict(zip(keys, row, strict=True)) for row in queries.with_scorm_scores(rows[:limit])]
    if not after:
        record(
            "statistics_exported",
            actor=g.api_user,
            dataset="completions",
            format="api",
            filters=filters.described(),
        )
        db.session.commit()
    following = None
    if more:
        args = {**request.args.to_dict(), "after": records[-1]["enrolment_id"], "limit": limit}
        following = url_for("api.completions", **args, _external=True)
    return jsonify({"filters": filters.as_args(), "records": records, "next": following})
