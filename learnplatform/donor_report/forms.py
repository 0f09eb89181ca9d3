"""The donor report's form: a period as the statistics dashboard takes it, the modules, iRooms
and webinar series it covers (none ticked: all those the reader may see) and its language."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, SelectField, SelectMultipleField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from learnplatform.accounts.forms import options
from learnplatform.choices import LANGUAGES
from learnplatform.stats.filters import Filters, quarter_dates, recent_quarters


class ReportForm(FlaskForm):
    """What the report covers, read from the query string (a GET form: nothing to forge)."""

    class Meta:
        csrf = False

    quarter = SelectField(_l("Quarter"), validate_choice=False, default="")
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    modules = SelectMultipleField(
        _l("Modules"),
        validate_choice=False,
        description=_l("None ticked: all of them."),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    rooms = SelectMultipleField(
        _l("iRooms"),
        validate_choice=False,
        description=_l("None ticked: all of them."),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    series = SelectMultipleField(
        _l("Webinar series"),
        validate_choice=False,
        description=_l("None ticked: all of them."),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    language = SelectField(_l("Language of the report"), choices=options(LANGUAGES))

    def __init__(
        self,
        formdata: MultiDict,
        *,
        modules: list[tuple[int, str]],
        rooms: list[tuple[int, str]],
        series: list[tuple[int, str]],
        today: date,
        language: str,
    ):
        super().__init__(formdata=formdata)
        self.quarter.choices = options(
            {"": _l("Any (use the dates)"), **dict(recent_quarters(today))}
        )
        for field, choices in ((self.modules, modules), (self.rooms, rooms), (self.series, series)):
            field.choices = [(str(key), title) for key, title in choices]
        if not formdata or "language" not in formdata:
            self.language.data = language if language in LANGUAGES else "en"

    def validate_quarter(self, field):
        value = field.data or ""
        if value and not (
            len(value) == 7 and value[:4].isdigit() and value[4:6] == "-Q" and value[6] in "1234"
        ):
            raise ValidationError(_l("Choose a quarter from the list."))

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period comes before its start."))

    def validate_modules(self, field):
        _check_chosen(field, _l("Choose modules from the list."))

    def validate_rooms(self, field):
        _check_chosen(field, _l("Choose iRooms from the list."))

    def validate_series(self, field):
        _check_chosen(field, _l("Choose webinar series from the list."))

    def filters(self) -> Filters:
        """The period as the statistics take it; a quarter, when chosen, gives it."""
        start, end = self.start.data, self.end.data
        if self.quarter.data:
            start, end = quarter_dates(self.quarter.data)
        return Filters(start=start, end=end)

    def chosen(self, field) -> list[int]:
        """The ids ticked in ``field`` (valid once the form is)."""
        return sorted({int(value) for value in field.data or []})

    def as_args(self) -> dict[str, str | list[str]]:
        """The form as its query string holds it, to read it again later (the PDF's job)."""
        args: dict[str, str | list[str]] = {"language": self.language.data}
        if self.quarter.data:
            args["quarter"] = self.quarter.data
        for field in (self.start, self.end):
            if field.data:
                args[field.name] = field.data.isoformat()
        for field in (self.modules, self.rooms, self.series):
            if field.data:
                args[field.name] = [str(key) for key in self.chosen(field)]
        return args


def _check_chosen(field, message):
    allowed = {value for value, _label in field.choices}
    if any(value not in allowed for value in field.data or []):
        raise ValidationError(message)
