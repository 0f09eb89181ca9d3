"""The donor report: reach, completion, recordings watched and live sessions held, for a period
and a selection of modules, iRooms and webinar series, on one page to read and print and as a
PDF made in the background, in any of the platform's languages. For administrators (everything)
and trainers (what they created or host), from the statistics' own queries."""

from flask import Blueprint

bp = Blueprint("donor_report", __name__)

from learnplatform.donor_report import pdf, views  # noqa: E402,F401  (routes, the PDF's maker)
