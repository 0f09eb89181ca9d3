"""Statistics exports made by the background worker: asked for from the dashboard, told of under
the bell, the same rows as the streamed download, for the person who asked alone, once however
often the form is sent, read in the scope the person has when the job runs, and deleted after
the days they are kept."""

import csv
import html
import io
import re
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from courses.models import Module
from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent, utcnow
from learnplatform.extensions import db
from learnplatform.notifications.models import Notification
from learnplatform.stats import background, tables
from learnplatform.stats.models import StatisticsExport
from learnplatform.storage import StoredFile
from tests.helpers import csrf_token, in_parallel
from tests.stats import test_statistics
from tests.stats.test_statistics import logged_in

#: the fixture of test_statistics' data set: six learners, trainer A (modules m1 and m2), trainer B
#: (m3) and an administrator
data = test_statistics.data

#: trainer A's completion records of the women in the first quarter of 2026: Learner p1 in m1
#: and m2, p3 in m1, p6 in m2 (p6 enrolled in trainer B's m3 in April)
WOMEN_IN_Q1 = "quarter=2026-Q1&gender=woman"

FORM = re.compile(
    r'<form method="post" action="(?P<action>[^"]+)"[^>]*>(?P<fields>.*?)</form>', re.S
)


def background_form(browser, dataset: str, fmt: str, query: str = "") -> tuple[str, dict]:
    """The dashboard's "Prepare and notify me" form for ``dataset`` in ``fmt``, as the dashboard
    shows it with the filters of ``query``: where it posts and what it sends."""
    page = browser.get(f"/stats/?{query}").get_data(as_text=True)
    for form in FORM.finditer(page):
        action = html.unescape(form["action"])
        if action.startswith(f"/stats/exports/{dataset}.{fmt}?"):
            return action, dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form["fields"]))
    raise AssertionError(f"no form to prepare {dataset}.{fmt} on the dashboard")


def prepare_in_background(browser, dataset: str, fmt: str, query: str = ""):
    """Press "Prepare and notify me" beside the dashboard's download link."""
    action, fields = background_form(browser, dataset, fmt, query)
    return browser.post(action, data=fields)


def exports_of(app, user) -> list[StatisticsExport]:
    with app.app_context():
        found = db.session.scalars(
            select(StatisticsExport)
            .where(StatisticsExport.user_id == user.id)
            .order_by(StatisticsExport.id)
        ).all()
        db.session.expunge_all()
        return found


def download_path(export) -> str:
    return f"/stats/exports/{export.id}/download"


def fetch(browser, path: str):
    """GET ``path`` and close the response, as a browser does once it has the bytes."""
    response = browser.get(path)
    response.get_data()
    response.close()
    return response


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def sheet_rows(response) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def prepared_sheet(app, browser, person, dataset: str, query: str = "") -> list[list]:
    """Ask for ``dataset`` as an Excel file made in the background, as ``person`` (logged in with
    ``browser``) does from the dashboard, and read the rows of that file, their only export."""
    response = prepare_in_background(browser, dataset, "xlsx", query)
    assert response.status_code == 302
    (export,) = exports_of(app, person)
    return sheet_rows(fetch(browser, download_path(export)))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_trainer_is_told_under_the_bell_and_gets_the_rows_of_the_streamed_download(app, data):
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    response = prepare_in_background(trainer, "completions", "csv", WOMEN_IN_Q1)
    assert response.status_code == 302 and response.location == "/stats/exports/"
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert "You will be notified when it is ready to download." in page
    [export] = exports_of(app, data["trainers"]["trainer_a"])
    assert (export.status, export.row_count) == ("ready", 4)
    assert export.filters == {
        "start": "2026-01-01",
        "end": "2026-03-31",
        "gender": "woman",
    }
    name = f"completions-{export.created_at:%Y%m%d}.csv"
    assert export.file_name == name

    # The bell counts it, and the notification leads to the file.
    assert "Unread: 1" in page
    centre = trainer.get("/notifications/").get_data(as_text=True)
    assert f"Your export {name} is ready to download." in centre
    [link] = re.findall(r'href="(/notifications/\d+)"', centre)
    assert trainer.get(link).location == download_path(export)

    made = fetch(trainer, download_path(export))
    assert made.status_code == 200
    assert parse_options_header(made.headers["Content-Disposition"]) == (
        "attachment",
        {"filename": name},
    )
    assert made.headers["Cache-Control"] == "private, no-store"
    streamed = trainer.get(f"/stats/export/completions.csv?{WOMEN_IN_Q1}")
    assert csv_rows(made) == csv_rows(streamed)
    rows = csv_rows(made)
    assert rows[0][:3] == ["Enrolment id", "Learner id", "Learner"]
    assert sorted((row[2], row[11]) for row in rows[1:]) == [
        ("Learner p1", "Countering the financing of terrorism"),
        ("Learner p1", "Preuves électroniques"),
        ("Learner p3", "Countering the financing of terrorism"),
        ("Learner p6", "Preuves électroniques"),
    ]

    # The page lists it, with its filters in words and its link.
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert "Completion records" in page and "Gender: Woman" in page
    assert f'href="{download_path(export)}"' in page and "4 rows" in page

    # The job run again changes nothing and tells nobody twice.
    with app.app_context():
        background.prepare_export.call_local(export.id)
    [again] = exports_of(app, data["trainers"]["trainer_a"])
    assert (again.file_id, again.finished_at) == (export.file_id, export.finished_at)
    assert count(app, Notification) == count(app, StoredFile) == 1

    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "statistics_exported")
            .order_by(AuditEvent.id)
        ).first()
        assert event.actor_id == data["trainers"]["trainer_a"].id
        assert (event.details["via"], event.details["file"]) == ("background", name)


def test_the_excel_file_holds_the_rows_of_the_streamed_download(app, data):
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    query = "quarter=2026-Q1&region=002"
    assert prepare_in_background(trainer, "completions", "xlsx", query).status_code == 302
    [export] = exports_of(app, data["trainers"]["trainer_a"])
    made = fetch(trainer, download_path(export))
    assert made.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = sheet_rows(made)
    assert rows == sheet_rows(trainer.get(f"/stats/export/completions.xlsx?{query}"))
    assert {row[2] for row in rows[1:]} == {"Learner p1", "Learner p2"}  # Mali, Niger
    assert {row[16] for row in rows[1:]} == {90, 70, None}  # numbers stay numbers

    # A breakdown, by the group chosen: the same as its download link.
    assert prepare_in_background(trainer, "breakdown", "xlsx", "group=module").status_code == 302
    breakdown = exports_of(app, data["trainers"]["trainer_a"])[-1]
    assert breakdown.file_name.startswith("modules-")
    assert sheet_rows(fetch(trainer, download_path(breakdown))) == sheet_rows(
        trainer.get("/stats/export/breakdown.xlsx?group=module")
    )
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert "Completions by module" in page and "Region: Africa" in page


def test_only_the_person_who_asked_downloads_it_or_sees_it_listed(app, data, create_user):
    owner = logged_in(app, data["trainers"]["trainer_a"])
    prepare_in_background(owner, "completions", "csv")
    [export] = exports_of(app, data["trainers"]["trainer_a"])

    other = logged_in(app, data["trainers"]["trainer_b"])
    assert fetch(other, download_path(export)).status_code == 404
    listed = other.get("/stats/exports/").get_data(as_text=True)
    assert download_path(export) not in listed and "Nothing yet." in listed
    practitioner = logged_in(app, data["people"]["p1"])
    assert fetch(practitioner, download_path(export)).status_code == 404
    assert practitioner.get("/stats/exports/").status_code == 403
    assert app.test_client().get(download_path(export)).status_code == 302  # to log in
    administrator = logged_in(app, create_user(role="administrator"))
    assert fetch(administrator, download_path(export)).status_code == 404
    assert owner.get("/stats/exports/999999/download").status_code == 404

    # Behind nginx, the front server sends the bytes once the platform has said yes.
    app.config["STORAGE_SENDFILE"] = "x-accel-redirect"
    with app.app_context():
        key = db.session.get(StoredFile, export.file_id).storage_key
    sent = fetch(owner, download_path(export))
    assert sent.headers["X-Accel-Redirect"] == f"/_storage/{key}" and sent.data == b""
    assert fetch(other, download_path(export)).status_code == 404


def test_a_form_sent_twice_makes_one_export(app, data):
    person = data["trainers"]["trainer_a"]
    action, fields = background_form(logged_in(app, person), "completions", "csv")

    def prepare(browser):
        token = csrf_token(browser, "/stats/")
        return lambda: browser.post(action, data={**fields, "csrf_token": token}).status_code

    assert in_parallel(app, person.email, 3, prepare) == [302] * 3
    assert len(exports_of(app, person)) == 1
    assert count(app, Notification) == count(app, StoredFile) == 1

    late = logged_in(app, person)  # the same form sent again later: the back button
    response = late.post(action, data={**fields, "csrf_token": csrf_token(late, "/stats/")})
    assert response.status_code == 302
    assert "This form was sent twice" in late.get("/stats/exports/").get_data(as_text=True)
    assert len(exports_of(app, person)) == 1

    # Without a key or a CSRF token, nothing is asked for.
    without_key = {"csrf_token": csrf_token(late, "/stats/")}
    assert late.post(action, data=without_key).status_code == 302
    assert "Reload the page and try again." in late.get("/stats/").get_data(as_text=True)
    assert late.post(action, data={"form_key": "another"}).status_code == 400
    assert len(exports_of(app, person)) == 1


def test_files_are_deleted_after_the_days_they_are_kept(app, data):
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    prepare_in_background(trainer, "completions", "json")
    [export] = exports_of(app, data["trainers"]["trainer_a"])
    with app.app_context():
        stored = db.session.get(StoredFile, export.file_id)
        path = Path(app.config["STORAGE_DIR"]) / stored.storage_key
    assert path.is_file()
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert "Kept until" in page

    with app.app_context():
        assert background.delete_old_exports.call_local(now=utcnow() + timedelta(days=6)) == 0
        assert background.delete_old_exports.call_local(now=utcnow() + timedelta(days=8)) == 1
    assert not path.exists()
    assert count(app, StoredFile) == 0
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert "No longer kept" in page and download_path(export) not in page
    assert "Its file was deleted after 7 days" in page

    # The notification's link, followed late, says so too.
    response = fetch(trainer, download_path(export))
    assert response.location == "/stats/exports/"
    assert "This file is no longer kept." in trainer.get("/stats/exports/").get_data(as_text=True)


def test_the_job_reads_what_the_person_may_see_when_it_runs(app, data, monkeypatch):
    person = data["trainers"]["trainer_a"]
    trainer = logged_in(app, person)
    m2 = data["modules"]["m2"]
    with monkeypatch.context() as queue_lost:
        queue_lost.setattr(background.prepare_export, "schedule", lambda *args: None)
        prepare_in_background(trainer, "completions", "csv")
        prepare_in_background(trainer, "completions", "csv", f"module={m2}")
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert page.count("Being prepared") == 2
    assert "Module: Preuves électroniques" in page

    with app.app_context():  # m2 is handed over to trainer B before the worker gets to it
        db.session.get(Module, m2).created_by_id = data["trainers"]["trainer_b"].id
        db.session.commit()
        lost = utcnow() + background.LOST_AFTER + timedelta(minutes=1)
        assert background.prepare_forgotten_exports.call_local(now=utcnow()) == 0
        assert background.prepare_forgotten_exports.call_local(now=lost) == 2

    everything, only_m2 = exports_of(app, person)
    assert everything.status == "ready"
    modules = {row[11] for row in csv_rows(fetch(trainer, download_path(everything)))[1:]}
    assert modules == {"Countering the financing of terrorism"}
    assert only_m2.status == "failed" and only_m2.file_id is None
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert "Its filters no longer fit the figures you may see" in page
    assert count(app, Notification) == 1  # for the file made only

    # A trainer who is no longer one gets nothing made.
    with monkeypatch.context() as queue_lost:
        queue_lost.setattr(background.prepare_export, "schedule", lambda *args: None)
        prepare_in_background(trainer, "completions", "csv")
    with app.app_context():
        db.session.get(User, person.id).role = "practitioner"
        db.session.commit()
        assert background.prepare_forgotten_exports.call_local(now=lost) == 1
    last = exports_of(app, person)[-1]
    assert (last.status, last.failure, last.file_id) == ("failed", "not_allowed", None)
    assert fetch(trainer, download_path(everything)).status_code == 404
    assert count(app, Notification) == 1


@pytest.mark.logs_traceback
def test_a_file_that_cannot_be_written_fails_and_leaves_nothing(app, data, monkeypatch):
    def disk_full(table, fmt, rows=None, *, binary=False):
        yield b"Enrolment id,"
        raise OSError("No space left on device")

    monkeypatch.setattr(tables.Table, "chunks", disk_full)
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    prepare_in_background(trainer, "completions", "csv")
    [export] = exports_of(app, data["trainers"]["trainer_a"])
    assert (export.status, export.failure) == ("failed", "error")
    page = trainer.get("/stats/exports/").get_data(as_text=True)
    assert "Failed" in page and "The file could not be made." in page
    assert count(app, StoredFile) == count(app, Notification) == 0
    assert not [path for path in Path(app.config["STORAGE_DIR"]).rglob("*") if path.is_file()]
    assert fetch(trainer, download_path(export)).location == "/stats/exports/"
