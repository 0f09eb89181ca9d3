"""The statistics dashboard and its exports, for trainers (their own modules, webinar series and
iRooms) and administrators (everything); practitioners get 403. Each table downloads at once,
streamed, or is prepared in the background for the person who asked (background.py)."""

from collections.abc import Callable
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from learnplatform import numbers
from learnplatform.access import trainer_required
from learnplatform.admin.forms import new_form_key
from learnplatform.audit import record, utcnow
from learnplatform.exports import FORMATS, download
from learnplatform.extensions import db
from learnplatform.stats import background, bp, gain, queries, tables
from learnplatform.stats.filters import GROUPS, INTERVALS, describer
from learnplatform.stats.forms import ExportRequestForm
from learnplatform.stats.models import StatisticsExport
from learnplatform.storage import send_stored

#: the most rows a breakdown's chart draws (its table holds them all)
CHART_LIMIT = 15
#: the breakdowns the dashboard always shows, beside the one chosen in the form
FIXED_BREAKDOWNS = ("region", "gender", "agency_type")
#: exports listed per page of "My exports", newest first
EXPORTS_PAGE_SIZE = 30
#: each export format as people know it
FORMAT_NAMES = {"csv": "CSV", "xlsx": "Excel", "json": "JSON"}


def _read_request():
    """The scope of the current user, the filter form, and the valid filters or None."""
    return queries.scope_and_filters(current_user, request.args)


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
    scorm_lessons = tables.scorm_lessons(filters, scope)
    forum_activity = tables.forum_activity(filters, scope)
    gain_rows = gain.by_group(filters, scope, group)
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
        scorm_lessons=scorm_lessons,
        forum_activity=forum_activity,
        knowledge_gain=tables.knowledge_gain(filters, scope, group, gain_rows),
        gain_total=gain.total_of(gain_rows),
        sums=tables.column_totals(recordings, resources, rooms),
        everything=scope.everything,
        chart_of=tables.chart_of,
        short_titles=tables.SHORT_TITLES,
        numeric_columns=tables.NUMERIC_COLUMNS,
        chart_limit=CHART_LIMIT,
        new_form_key=new_form_key,
        format_names=FORMAT_NAMES,
    )


def _read_export(dataset: str, fmt: str):
    """What a request for one table of the dashboard as a file asks for: the scope, the filter
    form, the valid filters or None, the breakdown's group and the series' interval. 404 for an
    unknown table or format, 400 for a group or interval not in the lists."""
    if dataset not in tables.DATASETS or fmt not in FORMATS:
        abort(404)
    group = request.args.get("group", "country")
    interval = request.args.get("interval", "month")
    if group not in GROUPS or interval not in INTERVALS:
        abort(400)
    scope, form, filters = _read_request()
    return scope, form, filters, group, interval


@bp.get("/export/<dataset>.<fmt>")
@trainer_required
def export(dataset, fmt):
    """One table of the dashboard, or the raw completion records, as CSV, Excel or JSON, with
    the dashboard's filters; streamed."""
    scope, form, filters, group, interval = _read_export(dataset, fmt)
    if filters is None:
        return render_template("stats/dashboard.html", form=form, filters=None), 400
    table = tables.dataset(dataset, filters, scope, group, interval)
    record(
        "statistics_exported",
        actor=current_user,
        dataset=table.name,
        format=fmt,
        filters=filters.described(),
    )
    db.session.commit()
    return download(table.chunks(fmt), fmt, table.file_name(fmt, utcnow()))


@bp.post("/exports/<dataset>.<fmt>")
@trainer_required
def ask_export(dataset, fmt):
    """Have one table of the dashboard prepared as a file in the background, with the filters
    of the address, as the download link beside it would send it; the person is told when it
    is ready."""
    _scope, form, filters, group, interval = _read_export(dataset, fmt)
    if filters is None:
        return render_template("stats/dashboard.html", form=form, filters=None), 400
    return asked_in_background(
        lambda form_key: background.ask_for_export(
            current_user, dataset, fmt, filters, group, interval, form_key=form_key
        ),
        back=url_for("stats.dashboard", **request.args),
        prepared=_(
            "The file is being prepared. You will be notified when it is ready to download."
        ),
    )


def asked_in_background(ask: Callable[[str], object], *, back: str, prepared: str):
    """The answer to a form asking for a file made in the background (a table, the donor
    report's PDF): ``ask(form_key)`` asks for it, once per form however often it is sent (a
    double click), and the person goes to My exports; a form that is not valid leads ``back``."""
    asking = ExportRequestForm()
    if not asking.validate_on_submit():
        flash(_("Reload the page and try again."), "danger")
        return redirect(back)
    try:
        ask(asking.form_key.data)
        db.session.commit()
    except IntegrityError:  # this form was sent before: a double click
        db.session.rollback()
        flash(_("This form was sent twice: the file was asked for once."), "info")
        return redirect(url_for("stats.exports"))
    flash(prepared, "success")
    return redirect(url_for("stats.exports"))


@bp.get("/exports/")
@trainer_required
def exports():
    """The person's exports made in the background, newest first, ``EXPORTS_PAGE_SIZE`` a page
    (older ones by key, ``?before=<id>``), with their state and a download link while kept."""
    before = numbers.from_text(request.args.get("before"))
    query = select(StatisticsExport).where(StatisticsExport.user_id == current_user.id)
    if before is not None:
        query = query.where(StatisticsExport.id < before)
    rows = db.session.scalars(
        query.order_by(StatisticsExport.id.desc()).limit(EXPORTS_PAGE_SIZE + 1)
    ).all()
    more = len(rows) > EXPORTS_PAGE_SIZE
    rows = rows[:EXPORTS_PAGE_SIZE]
    in_words = describer(queries.module_choices(queries.scope_of(current_user)))
    keep_days = current_app.config["EXPORT_KEEP_DAYS"]
    return render_template(
        "stats/exports.html",
        exports=[
            (export, background.title_of(export), in_words(export.filters)) for export in rows
        ],
        older=rows[-1].id if more else None,
        keep_days=keep_days,
        keep=timedelta(days=keep_days),
        format_names=FORMAT_NAMES,
    )


@bp.get("/exports/<int:export_id>/download")
@login_required
def download_export(export_id):
    """The file of one of the person's exports, sent as other stored files are; only to them,
    while they may see statistics: for anyone else it is not found. An export not ready, or
    whose file is no longer kept, leads to the list."""
    found = db.session.get(StatisticsExport, export_id)
    if found is None or found.user_id != current_user.id or not current_user.is_trainer:
        abort(404)
    if found.file is None:
        if found.status == "ready":
            flash(_("This file is no longer kept. Ask for it again from the dashboard."), "info")
        return redirect(url_for("stats.exports"))
    record(
        "statistics_exported",
        actor=current_user,
        dataset=found.dataset,
        format=found.format,
        filters=found.filters,
        file=found.file_name,
        via="background",
    )
    db.session.commit()
    return send_stored(found.file)
