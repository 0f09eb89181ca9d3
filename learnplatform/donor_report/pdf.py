"""The donor report as PDF: asked for from the report's page, made by the statistics exports'
background job (``stats.background``, which calls ``make_file`` for the dataset
``donor-report``), listed in My exports, and downloaded from there once the person is notified,
the download recorded as the exports' are.

WeasyPrint takes a second or more for a report of several pages: CPU work that would hold the
server's event loop, and that a person may wait for in the background as for a large table.
The job reads the report's form again in the scope its person has when it runs, so that a trainer
who has lost a module since gets no figure they may no longer see.
"""

from datetime import datetime

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from learnplatform.accounts.models import User
from learnplatform.choices import LANGUAGES
from learnplatform.donor_report import pages
from learnplatform.donor_report.figures import report_of
from learnplatform.donor_report.selection import read_selection
from learnplatform.extensions import db
from learnplatform.serving import off_loop
from learnplatform.stats import background
from learnplatform.stats.models import StatisticsExport
from learnplatform.storage import PDF, save_generated

#: the dataset of the statistics exports that is the donor report
DATASET = "donor-report"


def ask_for_pdf(person: User, args: dict, *, form_key: str) -> StatisticsExport:
    """Ask for the report of ``args`` (``ReportForm.as_args``) as PDF, made for ``person`` by the
    job queued once the transaction commits. Flushed: a second request with the same
    ``form_key`` (the form sent twice) fails with ``IntegrityError``."""
    export = StatisticsExport(
        user_id=person.id,
        dataset=DATASET,
        format="pdf",
        filters=args,
        group_by="",
        interval="",
        form_key=form_key,
    )
    db.session.add(export)
    db.session.flush()
    background.prepare_export.schedule(export.id)
    return export


def make_file(export: StatisticsExport, person: User) -> bool:
    """Write the PDF of an export of the donor report into storage, in the person's scope; False
    when its form no longer fits what they may see."""
    _form, selection = read_selection(person, MultiDict(export.filters))
    if selection is None:
        return False
    page = pages.document(selection, report_of(selection.filters, selection.scope))
    name = file_name(selection.language, export.created_at)
    export.file = save_generated([render_pdf(page)], name, PDF)
    export.file_name = name
    return True


def file_name(language: str, made_at: datetime) -> str:
    return f"donor-report-{made_at:%Y%m%d}-{language}.pdf"


def title(export: StatisticsExport) -> str:
    """What an export of the report is called in My exports."""
    language = (export.filters or {}).get("language")
    return _("Donor report (%(language)s)", language=LANGUAGES.get(language, language or ""))


def render_pdf(page: str) -> bytes:
    """The PDF of the report's page, rendered in a native thread when serving on the loop."""
    # Imported here first, in the caller's thread: loading Pango runs ldconfig in a subprocess,
    # which gevent starts only from the loop's own thread.
    import weasyprint  # noqa: F401

    return off_loop(_write_pdf, page, pages.STYLESHEET.read_text(encoding="utf-8"))


def _write_pdf(page: str, stylesheet: str) -> bytes:
    # Imported here, not with this module: WeasyPrint loads Pango, and the rest of the platform
    # runs on a machine without it.
    import weasyprint

    # data: addresses only: the report never reaches the network or the disk, whatever names
    # people typed end up in it; any other address stops the rendering.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return weasyprint.HTML(string=page, url_fetcher=fetcher).write_pdf(
        stylesheets=[weasyprint.CSS(string=stylesheet, url_fetcher=fetcher)],
        pdf_tags=True,  # a tagged PDF: screen readers and text extraction follow its structure
    )


background.MAKERS[DATASET] = make_file
background.TITLES[DATASET] = title
