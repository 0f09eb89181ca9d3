"""Surveys for measuring impact: trainers build them; learners answer an evaluation at the end of
a module, a survey after the live sessions they attended, and follow-ups months after completing
a module (e-mailed with a link that opens that survey only); results, knowledge gain and the
donor report read them."""

from flask import Blueprint

bp = Blueprint("surveys", __name__)

from learnplatform.surveys import builder, models, results_views, views  # noqa: E402,F401
