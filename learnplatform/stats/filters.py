"""The filters every statistic takes, from the dashboard's form, an export's link, the API's query
string or the command line: one period and one slice of learners and modules."""

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from learnplatform.accounts.forms import options
from learnplatform.choices import AGENCY_TYPES, GENDERS, LANGUAGES, THEMES, country_choices
from learnplatform.regions import region_choices

#: What a breakdown can be by.
GROUPS = {
    "module": _l("Module"),
    "theme": _l("Theme"),
    "language": _l("Language"),
    "country": _l("Country"),
    "region": _l("Region"),
    "subregion": _l("Sub-region"),
    "gender": _l("Gender"),
    "agency_type": _l("Agency type"),
    "organisation": _l("Organisation"),
}

#: What a series over time can be by.
INTERVALS = {"month": _l("Month"), "quarter": _l("Quarter"), "year": _l("Year")}


@dataclass(frozen=True)
class Filters:
    """One period (``start`` and ``end`` inclusive dates, either open) and one slice."""

    start: date | None = None
    end: date | None = None
    module: int | None = None
    theme: str | None = None
    language: str | None = None
    country: str | None = None
    region: str | None = None
    gender: str | None = None
    agency_type: str | None = None
    organisation: str | None = None

    @property
    def since(self) -> datetime | None:
        """The first instant of the period, as the UTC timestamps compare."""
        return datetime.combine(self.start, time.min) if self.start else None

    @property
    def before(self) -> datetime | None:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min) if self.end else None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, the way the form reads them back."""
        args = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None and value != "":
                args[field.name] = value.isoformat() if isinstance(value, date) else str(value)
        return args

    def described(self) -> dict[str, str]:
        """For the audit log: the filters that are set."""
        return self.as_args()


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_dates(quarter: str) -> tuple[date, date]:
    """``2026-Q3`` -> (1 July 2026, 30 September 2026)."""
    year, number = int(quarter[:4]), int(quarter[-1])
    first = date(year, 3 * number - 2, 1)
    following = date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)
    return first, following - timedelta(days=1)


def recent_quarters(today: date, count: int = 12) -> list[tuple[str, str]]:
    """The quarter of ``today`` and the ``count - 1`` before it, newest first."""
    year, number = today.year, (today.month - 1) // 3 + 1
    quarters = []
    for _ in range(count):
        quarters.append((f"{year}-Q{number}", f"Q{number} {year}"))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return quarters


class FilterForm(FlaskForm):
    """The dashboard's filters, read from the query string (a GET form: nothing to forge)."""

    class Meta:
        csrf = False

    quarter = SelectField(_l("Quarter"), validate_choice=False, default="")
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    module = SelectField(_l("Module"), validate_choice=False, default="")
    theme = SelectField(_l("Theme"), default="")
    language = SelectField(_l("Language"), default="")
    country = SelectField(_l("Country"), default="")
    region = SelectField(_l("Region"), default="")
    gender = SelectField(_l("Gender"), default="")
    agency_type = SelectField(_l("Agency type"), default="")
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    group = SelectField(_l("Break down by"), choices=options(GROUPS), default="country")
    interval = SelectField(_l("Over time by"), choices=options(INTERVALS), default="month")

    def __init__(self, formdata, modules: list[tuple[int, str]], today: date, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        everything = {"": _l("All")}
        self.quarter.choices = options(
            {"": _l("Any (use the dates)"), **dict(recent_quarters(today))}
        )
        self.module.choices = options({**everything, **{str(i): title for i, title in modules}})
        self.theme.choices = options({**everything, **THEMES})
        self.language.choices = options({**everything, **LANGUAGES})
        self.country.choices = options({**everything, **dict(country_choices())})
        self.region.choices = options({**everything, **dict(region_choices())})
        self.gender.choices = options({**everything, **GENDERS})
        self.agency_type.choices = options({**everything, **AGENCY_TYPES})
        self._module_ids = {str(i) for i, _ in modules}

    def validate_quarter(self, field):
        value = field.data or ""
        if value and not (
            len(value) == 7 and value[:4].isdigit() and value[4:6] == "-Q" and value[6] in "1234"
        ):
            raise ValidationError(_l("Choose a quarter from the list."))

    def validate_module(self, field):
        if field.data and field.data not in self._module_ids:
            raise ValidationError(_l("Choose a module from the list."))

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period comes before its start."))

    def filters(self) -> Filters:
        """The valid filters; a quarter, when chosen, gives the period."""
        start, end = self.start.data, self.end.data
        if self.quarter.data:
            start, end = quarter_dates(self.quarter.data)
        return Filters(
            start=start,
            end=end,
            module=int(self.module.data) if self.module.data else None,
            theme=self.theme.data or None,
            language=self.language.data or None,
            country=self.country.data or None,
            region=self.region.data or None,
            gender=self.gender.data or None,
            agency_type=self.agency_type.data or None,
            organisation=(self.organisation.data or "").strip() or None,
        )


def read_filters(
    args: MultiDict, modules: list[tuple[int, str]], today: date
) -> tuple[FilterForm, Filters | None]:
    """The form filled from ``args``, and its filters when they are valid (None otherwise)."""
    form = FilterForm(args, modules=modules, today=today)
    if not form.validate():
        return form, None
    return form, form.filters()


def describer(modules: list[tuple[int, str]]) -> Callable[[dict], list[tuple[str, str]]]:
    """A function from filters as ``Filters.as_args`` gives them to those set, in words: (the
    form's label, the value as the form shows it) pairs; ``modules`` are those it may name."""
    form = FilterForm(MultiDict(), modules=modules, today=date.today())
    names = {
        field.name: {str(choice.value): str(choice.label) for choice in field.iter_choices()}
        for field in form
        if isinstance(field, SelectField)
    }

    def described(args: dict) -> list[tuple[str, str]]:
        words = []
        for field in form:
            value = args.get(field.name)
            if not value:
                continue
            if isinstance(field, DateField):
                value = format_date(date.fromisoformat(value))
            words.append((str(field.label.text), names.get(field.name, {}).get(value, value)))
        return words

    return described
