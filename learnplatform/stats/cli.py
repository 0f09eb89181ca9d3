"""``flask stats export``: a statistic or the completion records written to a file, with the
dashboard's filters, for whoever runs the platform (every module, series and iRoom)."""

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from werkzeug.datastructures import MultiDict

from learnplatform.audit import record
from learnplatform.extensions import db
from learnplatform.stats import queries, tables
from learnplatform.stats.filters import GROUPS, INTERVALS

#: how many rows the progress bar moves by at a time
STEP = 1000


@click.group()
def stats():
    """Statistics for reports."""


@stats.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True
)
@click.option(
    "--dataset",
    type=click.Choice(list(tables.DATASETS)),
    default="completions",
    show_default=True,
    help="completions: one row per enrolment; the others are the dashboard's tables.",
)
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day of the period.")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day of the period.")
@click.option("--quarter", metavar="YYYY-Qn", help="A quarter, instead of --from and --to.")
@click.option("--module", type=int, help="A module's id.")
@click.option("--theme", help="A theme's code, such as financing.")
@click.option("--language", help="A module language: en, fr, es, ru, ar, zh or pt.")
@click.option("--country", help="An ISO 3166 country code, such as ML.")
@click.option("--region", help="A UN M49 region or sub-region code, such as 002 or 011.")
@click.option("--gender", help="woman, man, other or undisclosed.")
@click.option("--agency-type", help="An agency type's code, such as prosecution.")
@click.option("--organisation", help="Words in the learner's organisation.")
@click.option("--group", type=click.Choice(list(GROUPS)), default="country", show_default=True)
@click.option("--interval", type=click.Choice(list(INTERVALS)), default="month", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="The file to write (default: <dataset>-<today>.<format> here).",
)
@with_appcontext
def export(fmt, dataset, group, interval, output, **values):
    """Write a statistic or the completion records to a file, with a progress bar."""
    args = MultiDict({name: str(value) for name, value in values.items() if value is not None})
    scope, form, filters = queries.scope_and_filters(_Operator(), args)
    if filters is None:
        problems = "; ".join(
            f"--{name.replace('_', '-').replace('start', 'from').replace('end', 'to')}: "
            + " ".join(str(error) for error in errors)
            for name, errors in form.errors.items()
        )
        raise click.UsageError(problems)
    table = tables.dataset(dataset, filters, scope, group, interval)
    target = Path(output or table.file_name(fmt, date.today()))
    total = (
        queries.count_of(queries.completion_records(filters, scope))
        if dataset == "completions"
        else len(table.rows)
    )

    with click.progressbar(length=total, label=f"{table.name}.{fmt}", file=sys.stderr) as bar:

        def counted(rows):
            done = 0
            for row in rows:
                yield row
                done += 1
                if done % STEP == 0:
                    bar.update(STEP)
            bar.update(done % STEP)

        _write(target, table.chunks(fmt, counted(table.rows_for(fmt)), binary=True))
    record(
        "statistics_exported",
        dataset=table.name,
        format=fmt,
        filters=filters.described(),
        via="command line",
    )
    db.session.commit()
    click.echo(f"{total} rows written to {target}")


class _Operator:
    """Whoever runs the command line runs the platform: they see every figure."""

    is_administrator = True
    is_trainer = True


def _write(target: Path, chunks) -> None:
    """Write ``chunks`` to ``target`` whole or not at all."""
    handle, partial = tempfile.mkstemp(dir=target.parent.resolve(), prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
