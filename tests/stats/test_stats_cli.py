"""``flask stats export``: a file with the dashboard's rows, a progress bar, bad filters refused
and nothing written."""

import csv
import io
import json

import openpyxl
from sqlalchemy import select

from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from tests.stats.test_statistics import ENROLMENTS, data  # noqa: F401  (a fixture)


def exported_from_the_command_line(app, target, *options: str) -> tuple[str, list[dict]]:
    """Run ``flask stats export --format json -o target`` with ``options``: what it said, and the
    rows of the file it wrote."""
    result = app.test_cli_runner().invoke(
        args=["stats", "export", "--format", "json", "-o", str(target), *options]
    )
    assert result.exit_code == 0, result.output
    return result.output, json.loads(target.read_text())


def test_the_completion_records_are_written_with_a_progress_bar(app, data, tmp_path):  # noqa: F811
    runner = app.test_cli_runner()
    target = tmp_path / "q1.csv"
    result = runner.invoke(args=["stats", "export", "--quarter", "2026-Q1", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "5 rows written to" in result.output
    assert "completions.csv" in result.stderr  # the progress bar's label
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Enrolment id", "Learner id", "Learner"]
    assert len(rows) == 1 + 5

    everything = tmp_path / "all.xlsx"
    result = runner.invoke(args=["stats", "export", "--format", "xlsx", "-o", str(everything)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(everything).active
    assert sheet.max_row == 1 + len(ENROLMENTS)

    africa = tmp_path / "africa.json"
    result = runner.invoke(
        args=[
            "stats",
            "export",
            "--dataset",
            "breakdown",
            "--group",
            "gender",
            "--region",
            "002",
            "--format",
            "json",
            "-o",
            str(africa),
        ]
    )
    assert result.exit_code == 0, result.output
    assert {row["gender"] for row in json.loads(africa.read_text())} == {"woman", "man"}
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "statistics_exported")
        ).all()
        assert [e.details["via"] for e in events] == ["command line"] * 3


def test_bad_filters_are_refused_and_nothing_is_written(app, data, tmp_path):  # noqa: F811
    runner = app.test_cli_runner()
    for args, message in [
        (
            ["--from", "2026-05-01", "--to", "2026-01-01"],
            "--to: The end of the period comes before",
        ),
        (["--region", "999"], "--region: Not a valid choice."),
        (["--from", "yesterday"], "--from: Not a valid date value."),
        (["--module", "424242"], "--module: Choose a module from the list."),
    ]:
        target = tmp_path / "out.csv"
        result = runner.invoke(args=["stats", "export", *args, "-o", str(target)])
        assert result.exit_code == 2, args
        assert message in result.output, result.output
        assert not target.exists()
    assert not list(tmp_path.glob("*out.csv*"))  # no partial file either
