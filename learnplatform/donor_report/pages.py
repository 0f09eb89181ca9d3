"""The donor report as HTML in its own language: the part the page shows (and prints), and
the whole document WeasyPrint lays out as PDF, both from ``templates/donor_report/_report.html``."""

from pathlib import Path

from flask import current_app
from flask_babel import force_locale, format_date, format_decimal, format_percent
from markupsafe import Markup

from courses.certificate_documents import direction_of as direction_of_text
from learnplatform.choices import AGENCY_TYPES
from learnplatform.donor_report.figures import Report
from learnplatform.donor_report.selection import Selection
from learnplatform.regions import region_name

BODY = "donor_report/_report.html"
DOCUMENT = "donor_report/report_pdf.html"
#: beside the templates, so that the two are read and changed together
STYLESHEET = Path(__file__).resolve().parents[2] / "templates/donor_report/report_pdf.css"
#: languages written right to left
RIGHT_TO_LEFT = frozenset({"ar"})


def direction_of(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def _context(selection: Selection, report: Report) -> dict:
    return {
        "selection": selection,
        "report": report,
        "filters": selection.filters,
        "language": selection.language,
        "direction": direction_of(selection.language),
        "percent": lambda share: format_percent(share) if share is not None else None,
        "number": format_decimal,
        "signed": _signed,
        "direction_of": direction_of_text,
        "day": lambda day: format_date(day, "long"),
        "agency_type_name": lambda code: str(AGENCY_TYPES.get(code, code)) if code else None,
        "region_name": region_name,
    }


def _signed(value: float | None) -> Markup | None:
    """A change or a score with its sign (+12.5, -3, 0), kept left to right: in a right-to-left
    line the sign would otherwise go to the number's other side."""
    if value is None:
        return None
    return Markup('<span dir="ltr">{}</span>').format(
        ("+" if value > 0 else "") + format_decimal(value)
    )


def report_body(selection: Selection, report: Report) -> Markup:
    """The report as the page shows it, in the report's language whatever the page's."""
    with force_locale(selection.language):
        template = current_app.jinja_env.get_template(BODY)
        return Markup(template.render(**_context(selection, report)))  # noqa: S704 (escaped by Jinja)


def document(selection: Selection, report: Report) -> str:
    """The whole HTML document of the PDF, in the report's language."""
    with force_locale(selection.language):
        template = current_app.jinja_env.get_template(DOCUMENT)
        return template.render(**_context(selection, report))
