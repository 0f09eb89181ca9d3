"""The statistics dashboard and its exports, for trainers (their own modules, webinar series and
iRooms) and administrators (everything); practitioners get 403."""

from flask import abort, render_template, request
from flask_login import current_user

from learnplatform.access import trainer_required
from learnplatform.audit import record, utcnow
from learnplatform.exports import FORMATS, table_response
from learnplatform.extensions import db
from learnplatform.stats import bp, queries, tables
from learnplatform.stats.filters import GROUPS, INTERVALS, read_filters

#: the most rows a breakdown's chart draws (its table holds them all)
CHART_LIMIT = 15
#: the breakdowns the dashboard always shows, beside the one chosen in the form
FIXED_BREAKDOWNS = ("region", "gender", "agency_type")


def _read_request():
    """The scope of the current user, the filter form, and the valid filters or None."""
    scope = queries.scope_of(current_user)
    form, filters = read_filters(request.args, queries.module_choices(scope), today=utcnow().date())
    return scope, form, filters


@bp.get("/")
@trainer_required
def dashboard():
    """Headline figures, charts and their tables for the filtered period and slice."""
    scope, form, filters = _read_request()
    if filters is None:
        return render_template("stats/dashboard.html", form=form, filters=None), 400
    group, interval = form.group.data, form.interval.data
    breakdowns = [tables.breakdown(filters, scope, group)]
    breakdowns += [
        tables.breakdown(filters, scope, fixed) for fixed in FIXED_BREAKDOWNS if fixed != group
    ]
    recordings = tables.recordings(filters, scope)
    resources = tables.resources(filters, scope)
    rooms = tables.rooms(filters, scope)
    return render_template(
        "stats/dashboard.html",
        form=form,
        filters=filters,
        group=group,
        interval=interval,
        totals=queries.totals(filters, scope),
        over_time=tables.over_time(filters, scope, interval),
        breakdowns=breakdowns,
        recordings=recordings,
        recordings_over_time=tables.recordings_over_time(filters, scope, interval),
        resources=resources,
        resources_over_time=tables.resources_over_time(filters, scope, interval),
        rooms=rooms,
        sums=tables.column_totals(recordings, resources, rooms),
        everything=scope.everything,
        chart_of=tables.chart_of,
        short_titles=tables.SHORT_TITLES,
        numeric_columns=tables.NUMERIC_COLUMNS,
        chart_limit=CHART_LIMIT,
    )


@bp.get("/export/<dataset>.<fmt>")
@trainer_required
def export(dataset, fmt):
    """One table of the dashboard, or the raw completion records, as CSV, Excel or JSON, with
    the dashboard's filters; streamed."""
    if dataset not in tables.DATASETS or fmt not in FORMATS:
        abort(404)
    scope, form, filters = _read_request()
    if filters is None:
        return render_template("stats/dashboard.html", form=form, filters=None), 400
    group = request.args.get("group", "country")
    interval = request.args.get("interval", "month")
    if group not in GROUPS or interval not in INTERVALS:
        abort(400)
    table = tables.dataset(dataset, filters, scope, group, interval)
    record(
        "statistics_exported",
        actor=current_user,
        dataset=table.name,
        format=fmt,
        filters=filters.described(),
    )
    db.session.commit()
    rows = table.rows if fmt == "json" else table.named_rows()
    return table_response(
        fmt,
        f"{table.name}-{utcnow():%Y%m%d}",
        table.header,
        rows,
        table.keys,
        table.text_columns,
    )
