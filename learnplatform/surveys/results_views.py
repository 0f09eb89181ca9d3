"""The results of surveys, for the trainers who created the module or host the room a survey
belongs to, and administrators: the list, a survey's charts and tables under filters, the pages
of a question's free-text answers, and the exports. Anyone else is told the survey is not found.

A survey with language versions in the viewer's scope is read alone or, with ``versions=all``
(kept by the filters, the links to the free-text answers and the exports), with all of them.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from learnplatform.access import trainer_required
from learnplatform.accounts.forms import options
from learnplatform.audit import record, utcnow
from learnplatform.choices import AGENCY_TYPES, GENDERS, LANGUAGES, country_choices
from learnplatform.exports import FORMATS, download
from learnplatform.extensions import db
from learnplatform.regions import region_choices
from learnplatform.stats import queries
from learnplatform.stats.filters import FilterForm, Filters, recent_quarters
from learnplatform.surveys import bp, results
from learnplatform.surveys.models import ANONYMITY_THRESHOLD, TEXT_KINDS, Survey

#: the files a survey's results download as
DATASETS = ("questions", "distribution", "texts", "responses")
#: the longest search of free-text answers read
SEARCH_LENGTH = 200


class SurveyFilterForm(FilterForm):
    """The statistics' filters that apply to survey responses: the period (the day a response
    was given) and the respondents' country, region, gender and agency type."""

    module = theme = language = organisation = group = interval = None

    def __init__(self, formdata, today: date, **kwargs):
        FlaskForm.__init__(self, formdata=formdata, **kwargs)
        everything = {"": _l("All")}
        self.quarter.choices = options(
            {"": _l("Any (use the dates)"), **dict(recent_quarters(today))}
        )
        self.country.choices = options({**everything, **dict(country_choices())})
        self.region.choices = options({**everything, **dict(region_choices())})
        self.gender.choices = options({**everything, **GENDERS})
        self.agency_type.choices = options({**everything, **AGENCY_TYPES})

    def filters(self) -> Filters:
        start, end = self.start.data, self.end.data
        if self.quarter.data:
            from learnplatform.stats.filters import quarter_dates

            start, end = quarter_dates(self.quarter.data)
        return Filters(
            start=start,
            end=end,
            country=self.country.data or None,
            region=self.region.data or None,
            gender=self.gender.data or None,
            agency_type=self.agency_type.data or None,
        )


def read_survey_filters(args) -> tuple[SurveyFilterForm, Filters | None]:
    """The filter form filled from ``args`` and its filters when they are valid."""
    form = SurveyFilterForm(args, today=utcnow().date())
    if not form.validate():
        return form, None
    return form, form.filters()


def _survey_or_404(survey_id: int):
    """The survey with its questions, when the current user may see its results; else 404."""
    if not current_user.is_trainer:
        abort(404)
    survey = results.visible_survey(survey_id, queries.scope_of(current_user))
    if survey is None:
        abort(404)
    return survey


@dataclass
class Reading:
    """Which surveys a results page counts: the survey alone, or with its language versions."""

    #: the survey and its versions in the viewer's scope, the survey first
    versions: list[Survey]
    #: whether all versions were asked for (``versions=all``), and they have versions
    all_asked: bool = False
    #: why they cannot be read together, when asked; None when they can
    difference: str | None = None
    #: the surveys counted: all versions when asked and they can be read together
    counted: list[Survey] = field(default_factory=list)

    @property
    def args(self) -> dict[str, str]:
        """What the links keep of the choice."""
        return {"versions": "all"} if self.all_asked else {}


def read_versions(survey: Survey, scope, args) -> Reading:
    """The reading ``args`` ask for (``versions=all``: every language version of ``survey`` in
    ``scope`` together, when their questions match)."""
    reading = Reading(results.language_versions(survey, scope))
    reading.all_asked = args.get("versions") == "all" and len(reading.versions) > 1
    if reading.all_asked:
        reading.difference = results.structure_difference(reading.versions)
    reading.counted = reading.versions if reading.all_asked and not reading.difference else [survey]
    return reading


@bp.get("/results/")
@trainer_required
def results_list():
    """The surveys whose results the person may see, with their responses and response rates."""
    rows = results.surveys_with_counts(queries.scope_of(current_user))
    # Language versions listed here (those in the person's scope) can be read together.
    versions = Counter(row[0].family_id for row in rows if row[0].family_id is not None)
    return render_template("surveys/results_list.html", rows=rows, versions=versions)


@bp.get("/<int:survey_id>/results")
@login_required
def survey_results(survey_id):
    """A survey's results under the filters: per question a chart and its table, the first
    free-text answers, the response rate and who responded."""
    survey = _survey_or_404(survey_id)
    reading = read_versions(survey, queries.scope_of(current_user), request.args)
    form, filters = read_survey_filters(request.args)
    if filters is None:
        return _results_page(survey, reading, form), 400
    if reading.difference:
        return _results_page(survey, reading, form, filters)
    found = results.combined_figures(reading.counted, filters, texts=True)
    return _results_page(
        survey,
        reading,
        form,
        filters,
        found=found,
        breakdowns=results.respondent_breakdowns(found, filters),
        breakdown_titles=results.BREAKDOWNS,
        kind_names=results.KIND_NAMES,
        texts_shown=results.TEXTS_SHOWN,
    )


def _results_page(survey, reading, form, filters=None, *, found=None, **more):
    """The results page: without ``filters`` (not valid) or ``found`` (versions that differ),
    the form and what is wrong, and no figures."""
    return render_template(
        "surveys/results.html",
        survey=survey,
        reading=reading,
        languages=LANGUAGES,
        form=form,
        filters=filters,
        found=found,
        threshold=ANONYMITY_THRESHOLD,
        **more,
    )


@bp.get("/<int:survey_id>/results/questions/<int:question_id>/texts")
@login_required
def survey_texts(survey_id, question_id):
    """The free-text answers to one question, a page at a time (``after`` the last key of the
    page before), those with every word of ``q`` when it is given (any case, with or without
    accents)."""
    survey = _survey_or_404(survey_id)
    question = next(
        (q for q in survey.questions if q.id == question_id and q.kind in TEXT_KINDS), None
    )
    if question is None:
        abort(404)
    reading = read_versions(survey, queries.scope_of(current_user), request.args)
    form, filters = read_survey_filters(request.args)
    words = request.args.get("q", "")[:SEARCH_LENGTH]
    after = request.args.get("after", "")[:32]
    found, page, following = None, [], None
    if filters is not None and not reading.difference:
        found = results.combined_figures(reading.counted, filters)
        if not found.withheld:
            index = survey.questions.index(question)
            page, following = results.version_texts(reading.counted, index, filters, words, after)
    return render_template(
        "surveys/results_texts.html",
        survey=survey,
        question=question,
        reading=reading,
        languages=LANGUAGES,
        form=form,
        filters=filters,
        found=found,
        threshold=ANONYMITY_THRESHOLD,
        words=words,
        page=page,
        following=following,
        first_page=not after,
    ), 400 if filters is None else 200


@bp.get("/<int:survey_id>/results/export/<dataset>.<fmt>")
@login_required
def export_results(survey_id, dataset, fmt):
    """One table of a survey's results as CSV, Excel or JSON, with the page's filters; the
    free-text answers with its search. Nothing from an anonymous survey with fewer than
    ``ANONYMITY_THRESHOLD`` matching responses."""
    survey = _survey_or_404(survey_id)
    if dataset not in DATASETS or fmt not in FORMATS:
        abort(404)
    reading = read_versions(survey, queries.scope_of(current_user), request.args)
    form, filters = read_survey_filters(request.args)
    if filters is None:
        return _results_page(survey, reading, form), 400
    back = url_for(
        "surveys.survey_results", survey_id=survey.id, **filters.as_args(), **reading.args
    )
    if reading.difference:
        flash(reading.difference, "warning")
        return redirect(back)
    # The figures' tables need the figures; the rows of responses and texts only their count.
    if dataset in ("questions", "distribution"):
        found = results.combined_figures(reading.counted, filters)
    else:
        found = results.withheld(reading.counted, filters)
    if found.withheld:
        flash(
            _(
                "The matching responses may have come from fewer than %(number)d people: "
                "nothing of this anonymous survey can be downloaded.",
                number=ANONYMITY_THRESHOLD,
            ),
            "info",
        )
        return redirect(back)
    words = request.args.get("q", "")[:SEARCH_LENGTH]
    counted = reading.counted
    table = {
        "questions": lambda: results.questions_table(found),
        "distribution": lambda: results.distribution_table(found),
        "texts": lambda: results.texts_table(survey, filters, words, counted),
        "responses": lambda: results.responses_table(survey, filters, counted),
    }[dataset]()
    record(
        "statistics_exported",
        actor=current_user,
        dataset=table.name,
        format=fmt,
        filters=filters.described(),
        survey=survey.id,
        **({"versions": found.survey_ids} if found.combined else {}),
        **({"search": words} if words and dataset == "texts" else {}),
    )
    db.session.commit()
    name = f"{table.name}-{survey.id}{'-versions' if found.combined else ''}"
    return download(table.chunks(fmt), fmt, f"{name}-{utcnow():%Y%m%d}.{fmt}", private=True)
