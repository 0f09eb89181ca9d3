"""The donor report's page and its PDF, for trainers (what they created or host) and
administrators (everything); practitioners get 403."""

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learnplatform.access import trainer_required
from learnplatform.admin.forms import new_form_key
from learnplatform.donor_report import bp, pages, pdf
from learnplatform.donor_report.figures import report_of
from learnplatform.donor_report.selection import read_selection
from learnplatform.stats.views import asked_in_background


@bp.get("/")
@trainer_required
def report():
    """The form, and the report it selects in the language chosen, to read and print."""
    form, selection = read_selection(current_user, request.args)
    if selection is None:
        return render_template("donor_report/report.html", form=form, body=None), 400
    body = pages.report_body(selection, report_of(selection.filters, selection.scope))
    return render_template(
        "donor_report/report.html",
        form=form,
        body=body,
        selection=selection,
        args=form.as_args(),
        new_form_key=new_form_key,
    )


@bp.post("/pdf")
@trainer_required
def ask_pdf():
    """Have the report of the address's form made as PDF in the background; the person is told
    when it is ready, and downloads it from My exports."""
    form, selection = read_selection(current_user, request.args)
    if selection is None:
        return render_template("donor_report/report.html", form=form, body=None), 400
    return asked_in_background(
        lambda form_key: pdf.ask_for_pdf(current_user, form.as_args(), form_key=form_key),
        back=url_for("donor_report.report", **request.args.to_dict(flat=False)),
        prepared=_("The PDF is being prepared. You will be notified when it is ready to download."),
    )
