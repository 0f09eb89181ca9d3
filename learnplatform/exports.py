"""Tables sent as CSV, Excel (XLSX) or JSON, written row by row while they are sent.

Each writer takes a header and an iterable of rows and yields the file in pieces, so the first
bytes leave at once and memory stays flat whatever the number of rows: give it rows fetched in
batches (``yield_per``) and it never holds more than one batch. Text that a spreadsheet could run
as a formula is made inert (item 32 of SECURITY.md); numbers stay numbers.
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from flask import Response, stream_with_context
from sqlalchemy import DateTime, Select
from zipstream import ZIP_DEFLATED, ZipStream

from learnplatform.extensions import db
from learnplatform.serving import pause

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}

_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def driver_rows(query: Select, batch: int = 5000) -> Iterator[tuple]:
    """The rows of ``query`` as the database driver gives them, a batch at a time, on a
    connection of their own: no conversion of types (select values ready to write, such as text
    times). PostgreSQL sends a named cursor's rows as they are fetched; SQLite reads its file as
    rows are asked for.

    Reading in a second thread while the first writes was measured slower (the two take turns at
    Python's global lock for every row), and so was having the database write each CSV line.
    """
    with db.engine.connect() as connection:
        sql, parameters = _for_the_driver(query, connection.dialect)
        driver = connection.connection.driver_connection
        if connection.dialect.name == "postgresql":
            cursor = driver.cursor("driver_rows")
        else:
            cursor = driver.cursor()
        try:
            cursor.execute(sql, parameters)
            while rows := cursor.fetchmany(batch):
                yield from rows
        finally:
            cursor.close()


def _for_the_driver(query: Select, dialect) -> tuple[str, list | dict]:
    """``query`` as the database driver takes it: its SQL and its parameters, converted as
    SQLAlchemy converts them (times into SQLite's text form)."""
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    to_time = DateTime().dialect_impl(dialect).bind_processor(dialect)
    values = {
        name: to_time(value) if to_time and isinstance(value, datetime) else value
        for name, value in compiled.params.items()
    }
    if dialect.positional:
        return str(compiled), [values[name] for name in compiled.positiontup]
    return str(compiled), values


def spreadsheet_safe(value) -> str:
    """``value`` as a cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "@", "\t", "\r", "\0") or (
        text.startswith("-") and not _NUMBER.fullmatch(text)
    ):
        return "'" + text
    return text


def _plain(value):
    """A value as JSON and the spreadsheets hold it: times in ISO 8601, decimals as floats."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


#: first characters that can make a spreadsheet read a cell as a formula
_RISKY = frozenset("=+-@\t\r\0")


def csv_lines(
    header: list[str],
    rows: Iterable[Iterable],
    text_columns: Iterable[int] | None = None,
    batch: int = 1000,
) -> Iterator[str]:
    """CSV text, a batch of rows at a time, opening with a byte-order mark so that spreadsheets
    read UTF-8.

    Without ``text_columns`` every cell is checked; with them, only those columns (free text that
    people typed) are, and the other cells are written as they are: numbers, ``None`` (empty),
    codes and texts of the platform's own.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    if text_columns is None:

        def cells(row):
            return [spreadsheet_safe(_plain(cell)) for cell in row]

    else:
        columns = tuple(text_columns)

        def cells(row):
            for index in columns:
                value = row[index]
                if value and value[0] in _RISKY:
                    row = list(row)
                    for other in columns:
                        row[other] = spreadsheet_safe(row[other])
                    return row
            return row

    writer.writerow([spreadsheet_safe(title) for title in header])
    yield "\ufeff" + flush()
    pending = []
    for row in rows:
        pending.append(cells(row))
        if len(pending) >= batch:
            writer.writerows(pending)
            pending = []
            yield flush()
    writer.writerows(pending)
    yield flush()


def json_chunks(keys: list[str], rows: Iterable[Iterable], batch: int = 500) -> Iterator[str]:
    """A JSON array of objects with ``keys``, one object per row, sent in batches of rows."""
    yield "["
    first = True
    pending: list[str] = []
    for row in rows:
        pending.append(
            json.dumps(dict(zip(keys, map(_plain, row), strict=True)), ensure_ascii=False)
        )
        if len(pending) >= batch:
            yield ("" if first else ",") + ",".join(pending)
            first, pending = False, []
    if pending:
        yield ("" if first else ",") + ",".join(pending)
    yield "]"


# XLSX: a zip of a few XML files, streamed with zipstream-ng. The sheet holds inline strings
# (text cells, which a spreadsheet never evaluates) and numbers, so it needs no shared-strings
# table and can be written row by row.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""  # noqa: E501

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""  # noqa: E501

_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""  # noqa: E501

# Style 0: the default; style 1: bold, for the header row.
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""  # noqa: E501


def _cell(value, style: str = "") -> str:
    value = _plain(value)
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"{style}><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c{style}><v>{value!r}</v></c>"
    text = escape(_XML_FORBIDDEN.sub("", str(value)))
    return f'<c t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet(header: list[str], rows: Iterable[Iterable], batch: int = 500) -> Iterator[bytes]:
    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
        "<row>" + "".join(_cell(title, ' s="1"') for title in header) + "</row>"
    ).encode()
    pending: list[str] = []
    for row in rows:
        pending.append("<row>" + "".join(map(_cell, row)) + "</row>")
        if len(pending) >= batch:
            yield "".join(pending).encode()
            pending = []
    yield ("".join(pending) + "</sheetData></worksheet>").encode()


def xlsx_chunks(
    header: list[str], rows: Iterable[Iterable], sheet: str = "Data"
) -> Iterator[bytes]:
    """An Excel workbook of one sheet, the header in bold and frozen, zipped while it is sent."""
    archive = ZipStream(compress_type=ZIP_DEFLATED, compress_level=1, sized=False)
    archive.add(_CONTENT_TYPES.encode(), "[Content_Types].xml")
    archive.add(_ROOT_RELS.encode(), "_rels/.rels")
    archive.add(_WORKBOOK.format(name=escape(sheet[:31])).encode(), "xl/workbook.xml")
    archive.add(_WORKBOOK_RELS.encode(), "xl/_rels/workbook.xml.rels")
    archive.add(_STYLES.encode(), "xl/styles.xml")
    archive.add(_sheet(header, rows), "xl/worksheets/sheet1.xml")
    yield from archive


def table_response(
    fmt: str,
    filename: str,
    header: list[str],
    rows: Iterable[Iterable],
    keys: list[str],
    text_columns: Iterable[int] | None = None,
) -> Response:
    """``rows`` sent as a download in format ``fmt`` (csv, xlsx or json), streamed; the
    arguments are those of ``table_chunks``."""
    return download(table_chunks(fmt, header, rows, keys, text_columns), fmt, f"{filename}.{fmt}")


def table_chunks(
    fmt: str,
    header: list[str],
    rows: Iterable[Iterable],
    keys: list[str],
    text_columns: Iterable[int] | None = None,
    *,
    binary: bool = False,
) -> Iterator[str | bytes]:
    """``rows`` written in format ``fmt`` (csv, xlsx or json) a piece at a time: text for CSV
    and JSON, bytes for XLSX, bytes for all with ``binary`` (a file being written).

    ``header`` titles the columns of CSV and XLSX; ``keys`` names them in JSON;
    ``text_columns``, when known, are the only ones that can hold a formula (see csv_lines).
    """
    if fmt == "xlsx":
        return xlsx_chunks(header, rows)
    text = csv_lines(header, rows, text_columns) if fmt == "csv" else json_chunks(keys, rows)
    return (piece.encode() for piece in text) if binary else text


def _taking_turns(chunks: Iterable) -> Iterator:
    """``chunks``, letting the process serve others between two: a client that reads as fast as
    the file is made never makes the socket wait, which alone gives the event loop back."""
    for chunk in chunks:
        yield chunk
        pause()


def download(chunks: Iterable, fmt: str, filename: str, *, private: bool = False) -> Response:
    """``chunks`` streamed as the file ``filename`` in format ``fmt`` (csv, xlsx or json); a
    ``private`` one is never kept by a cache."""
    # content_type, not mimetype: Werkzeug adds a second charset to a text mimetype
    response = Response(stream_with_context(_taking_turns(chunks)), content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response
