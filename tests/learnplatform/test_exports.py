"""The export writers: formulas made inert, numbers kept numbers, files that open, and rows
written while they are sent."""

import csv
import io
import json
import zipfile
from datetime import datetime

import openpyxl

from learnplatform.exports import csv_lines, json_chunks, spreadsheet_safe, xlsx_chunks

HEADER = ["Name", "Country", "Score", "Completed"]
HOSTILE = [
    ['=HYPERLINK("http://evil.example","click")', "FR", 85, datetime(2026, 3, 1, 9, 30)],
    ["+1+1", "@SUM(A1)", -3.5, None],
    ["-2+3", "\tTAB", 0, None],
    ["\rCR", "\0NUL", 100, None],
    ["Awa Konaté", "ML", 12.25, None],
]


def test_the_cell_rule_keeps_numbers_and_defuses_formulas():
    assert spreadsheet_safe("=1+1") == "'=1+1"
    assert spreadsheet_safe("\r=1") == "'\r=1"
    assert spreadsheet_safe("\0x") == "'\0x"
    assert spreadsheet_safe("-3.5") == "-3.5"
    assert spreadsheet_safe("-") == "'-"
    assert spreadsheet_safe("-2+3") == "'-2+3"
    assert spreadsheet_safe(None) == ""
    assert spreadsheet_safe(12) == "12"


def test_csv_cells_are_inert_and_numbers_stay_numbers():
    text = "".join(csv_lines(HEADER, HOSTILE))
    assert text.startswith("\ufeffName,Country,Score,Completed")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "FR",
        "85",
        "2026-03-01T09:30:00Z",
    ]
    assert rows[2] == ["'+1+1", "'@SUM(A1)", "-3.5", ""]
    assert rows[3][:2] == ["'-2+3", "'\tTAB"]
    assert rows[4][:2] == ["'\rCR", "'\0NUL"]
    assert rows[5] == ["Awa Konaté", "ML", "12.25", ""]


def test_xlsx_opens_with_text_cells_that_never_run_and_numeric_cells():
    data = b"".join(xlsx_chunks(HEADER, HOSTILE, sheet="Completions"))
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["Completions"]
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]] == HEADER
    assert rows[0][0].font.b
    formulas = [cell for row in rows for cell in row if cell.data_type == "f"]
    assert formulas == []
    assert rows[1][0].value == '=HYPERLINK("http://evil.example","click")'  # text, never run
    assert rows[1][0].data_type == "s"
    assert [rows[n][2].value for n in range(1, 6)] == [85, -3.5, 0, 100, 12.25]
    assert all(rows[n][2].data_type == "n" for n in range(1, 6))
    assert rows[4][1].value == "NUL"  # a character XML cannot hold is dropped
    assert rows[5][0].value == "Awa Konaté"
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_json_is_a_list_of_objects_with_plain_values():
    text = "".join(json_chunks(["name", "country", "score", "completed"], HOSTILE, batch=2))
    rows = json.loads(text)
    assert rows[0] == {
        "name": '=HYPERLINK("http://evil.example","click")',
        "country": "FR",
        "score": 85,
        "completed": "2026-03-01T09:30:00Z",
    }
    assert [row["score"] for row in rows] == [85, -3.5, 0, 100, 12.25]
    assert json.loads("".join(json_chunks(["a"], []))) == []


def test_each_writer_sends_its_first_bytes_before_reading_every_row():
    read = 0

    def rows():
        nonlocal read
        for number in range(100_000):
            read += 1
            yield [f"learner {number}", "KE", number, None]

    for writer in (csv_lines, xlsx_chunks):
        read = 0
        next(iter(writer(HEADER, rows())))
        assert read < 1000, writer.__name__
    read = 0
    chunks = json_chunks(["a", "b", "c", "d"], rows())
    next(chunks), next(chunks)
    assert read < 1000


def test_every_csv_download_names_its_charset_once(app, client, login_as):
    """Statistics, the audit log, a session's attendance and a chat transcript."""
    from datetime import timedelta

    from irooms.models import LiveSession
    from learnplatform.audit import utcnow
    from learnplatform.extensions import db
    from tests.irooms.test_rooms import add_room

    admin = login_as("administrator")
    room_id = add_room(app, "Sahel prosecutors", [(admin, "host")])
    with app.app_context():
        session = LiveSession(
            room_id=room_id,
            title="Opening",
            starts_at=utcnow() - timedelta(hours=1),
            ends_at=utcnow(),
        )
        db.session.add(session)
        db.session.commit()
        session_id = session.id
    for path in (
        "/stats/export/completions.csv",
        "/admin/audit/export.csv",
        f"/irooms/{room_id}/sessions/{session_id}/attendance.csv",
        f"/irooms/{room_id}/chat/transcript.csv",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", path
        response.close()
