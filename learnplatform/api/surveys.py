"""``/api/v1/surveys``: the surveys an API token's owner may see, and each one's results under
the filters of its results page (docs/api.md), alone or with its language versions
(``versions=all``), with the same anonymity rule: nothing of an anonymous survey (or combination
of versions) with fewer than ``ANONYMITY_THRESHOLD`` matching responses."""

from flask import g, jsonify, request

from learnplatform.api import bp
from learnplatform.api.views import _error, token_required
from learnplatform.extensions import limiter
from learnplatform.numbers import from_text
from learnplatform.stats import queries
from learnplatform.surveys import results
from learnplatform.surveys.models import ANONYMITY_THRESHOLD
from learnplatform.surveys.results_views import read_survey_filters, read_versions


def _about(survey, title: str) -> dict:
    return {
        "id": survey.id,
        "title": survey.title,
        "purpose": survey.purpose,
        "module_id": survey.module_id,
        "room_id": survey.room_id,
        "about": title,
        "months": survey.months,
        "language": survey.language,
        "anonymous": survey.anonymous,
        "is_open": survey.is_open,
    }


@bp.get("/surveys")
@limiter.limit("120 per minute")
@token_required
def surveys():
    """Every survey in the owner's scope, newest first, with its responses, the people asked
    and, of them, those who answered (all time)."""
    rows = results.surveys_with_counts(queries.scope_of(g.api_user))
    return jsonify(
        {
            "surveys": [
                {
                    **_about(survey, title),
                    "respondents": responses,
                    "asked": asked,
                    "answered": answered,
                }
                for survey, title, responses, asked, answered in rows
            ]
        }
    )


# The id is read by the view, after the token (``from_text``), so that an API caller gets the
# API's JSON answers for any id, a number too large for the database included.
@bp.get("/surveys/<survey_id>/results")
@limiter.limit("120 per minute")
@token_required
def survey_results(survey_id):
    """One survey's figures under the filters: responses, response rate, and per question the
    distribution, average and recommendation score; ``withheld`` and no questions for an
    anonymous survey with too few matching responses. With ``versions=all``, those of the
    survey and its language versions in the owner's scope counted together (``versions`` lists
    them); ``400 versions_differ`` when their questions do not match."""
    scope = queries.scope_of(g.api_user)
    survey_id = from_text(survey_id)
    survey = results.visible_survey(survey_id, scope) if survey_id is not None else None
    if survey is None:
        return _error(404, "not_found", "No such survey.")
    form, filters = read_survey_filters(request.args)
    if filters is None:
        fields = {name: [str(error) for error in errors] for name, errors in form.errors.items()}
        return _error(400, "invalid_filters", "Some filters are not valid.", fields=fields)
    reading = read_versions(survey, scope, request.args)
    if reading.difference:
        return _error(400, "versions_differ", reading.difference)
    found = results.combined_figures(reading.counted, filters)
    shown = not found.withheld
    return jsonify(
        {
            "filters": filters.as_args(),
            "survey": _about(survey, survey.module.title if survey.module else survey.room.name),
            "versions": [
                {
                    "id": version.id,
                    "title": version.title,
                    "language": version.language,
                    "anonymous": version.anonymous,
                }
                for version in found.surveys
            ],
            "anonymous": found.anonymous,
            "respondents": found.respondents if shown else None,
            "asked": found.asked if shown else None,
            "answered": found.answered if shown else None,
            "response_rate": found.response_rate if shown else None,
            "withheld": found.withheld,
            "anonymity_threshold": ANONYMITY_THRESHOLD,
            "questions": [figures.as_dict() for figures in found.questions],
        }
    )
