"""Forms of the survey builder: a survey's settings, a question with its choices, and a copy of a
survey for another follow-up month, another module or room, or another language."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from learnplatform.accounts.forms import options
from learnplatform.choices import LANGUAGES
from learnplatform.surveys.models import CHOICE_KINDS, PURPOSES, QUESTION_KINDS
from learnplatform.text import without_hidden

PURPOSE_LABELS = {
    "evaluation": _l("End-of-module evaluation"),
    "session": _l("After each live session"),
    "follow_up": _l("Follow-up"),
}
assert set(PURPOSE_LABELS) == set(PURPOSES)

KIND_LABELS = {
    "agreement": _l("Agreement scale, 1 (strongly disagree) to 5 (strongly agree)"),
    "recommendation": _l("Recommendation scale, 0 (not at all likely) to 10 (extremely likely)"),
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
}
assert set(KIND_LABELS) == set(QUESTION_KINDS)

ANONYMITY_LABELS = {
    "anonymous": _l(
        "Anonymous: responses are kept apart from who gave them, and results show no breakdown "
        "(by country, gender…) for fewer than five respondents."
    ),
    "identified": _l(
        "Identified: each response is kept with the respondent's account, so that results can "
        "show who answered what."
    ),
}

#: how many months after completion a follow-up may be sent
MONTHS = (1, 36)
#: how many choices a single- or multiple-choice question has
CHOICE_COUNT = (2, 20)
#: the longest choice, as ``SurveyChoice.text`` keeps it
CHOICE_LENGTH = 300


def choice_lines(text: str | None) -> list[str]:
    """The choices typed one per line, cleaned of hidden characters, blank lines left out."""
    lines = (without_hidden(line).strip() for line in (text or "").splitlines())
    return [line for line in lines if line]


class SurveyForm(FlaskForm):
    """A survey's settings. The view removes the fields that its purpose does not have:
    ``required`` belongs to evaluations, ``months`` to follow-ups."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    introduction = TextAreaField(
        _l("Introduction"),
        validators=[Length(max=4000)],
        description=_l(
            "What respondents read before the questions: why you ask, how long it takes. "
            "Plain text."
        ),
        render_kw={"rows": 3},
    )
    language = SelectField(_l("Language"), choices=options(LANGUAGES), validators=[DataRequired()])
    anonymity = RadioField(
        _l("Responses"),
        choices=options(ANONYMITY_LABELS),
        default="anonymous",
        validators=[InputRequired()],
        description=_l("Respondents are told which before they answer."),
    )
    required = BooleanField(
        _l("Required before the certificate"),
        description=_l(
            "Learners who complete the module get their certificate once they have answered. "
            "Otherwise the evaluation is offered and may be skipped."
        ),
    )
    months = IntegerField(
        _l("Months after completion"),
        validators=[InputRequired(), NumberRange(*MONTHS)],
        description=_l(
            "When the follow-up is e-mailed to those who completed the module: 1 to 36."
        ),
    )
    version_of = SelectField(
        _l("Version of"),
        default="",
        description=_l(
            "The same survey in another language: its results can be read together with this one."
        ),
    )
    is_open = BooleanField(
        _l("Open"),
        default=True,
        description=_l("Closed, it is asked to nobody; the responses it has are kept."),
    )
    submit = SubmitField(_l("Save survey"))

    def validate_title(self, field):
        field.data = without_hidden(field.data).strip()
        if not field.data:
            raise ValidationError(_l("Give the survey a title."))


class QuestionForm(FlaskForm):
    """A question, and its choices when it is a single or multiple choice."""

    kind = SelectField(_l("Type"), choices=options(KIND_LABELS), default="agreement")
    text = TextAreaField(
        _l("Question"),
        validators=[DataRequired(), Length(max=1000)],
        description=_l(
            "For an agreement scale, a statement: “The module was relevant to my work.”"
        ),
        render_kw={"rows": 2},
    )
    required = BooleanField(_l("An answer is required"), default=True)
    choices = TextAreaField(
        _l("Choices"),
        description=_l(
            "Single and multiple choice only: one choice per line, from 2 to 20, each different."
        ),
        render_kw={"rows": 6},
    )
    submit = SubmitField(_l("Save question"))

    def validate_text(self, field):
        field.data = without_hidden(field.data, keep="\n").strip()
        if not field.data:
            raise ValidationError(_l("Write the question."))

    def validate_choices(self, field):
        """Between 2 and 20 choices, none too long and no two the same (whatever the case)."""
        if self.kind.data not in CHOICE_KINDS:
            return
        lines = choice_lines(field.data)
        low, high = CHOICE_COUNT
        if not low <= len(lines) <= high:
            raise ValidationError(
                _l("Give from %(low)s to %(high)s choices, one per line.", low=low, high=high)
            )
        seen = set()
        for line in lines:
            if len(line) > CHOICE_LENGTH:
                raise ValidationError(
                    _l(
                        "Each choice has at most %(max)s characters; shorten “%(choice)s…”.",
                        max=CHOICE_LENGTH,
                        choice=line[:30],
                    )
                )
            if line.casefold() in seen:
                raise ValidationError(_l("“%(choice)s” is given twice.", choice=line))
            seen.add(line.casefold())

    def filled_choices(self) -> list[str]:
        """The choices, when the kind has any."""
        return choice_lines(self.choices.data) if self.kind.data in CHOICE_KINDS else []


class CopyForm(FlaskForm):
    """Where a copy of a survey goes: the same or another module (as its evaluation or a
    follow-up) or another room, in a language."""

    target = SelectField(_l("For"), validators=[DataRequired()])
    purpose = SelectField(
        _l("Asked as"),
        choices=options(
            {"follow_up": _l("Follow-up"), "evaluation": _l("End-of-module evaluation")}
        ),
        default="follow_up",
    )
    months = IntegerField(
        _l("Months after completion (follow-up)"),
        validators=[InputRequired(), NumberRange(*MONTHS)],
        default=6,
    )
    title = StringField(_l("Title of the copy"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(
        _l("Language"),
        choices=options(LANGUAGES),
        validators=[DataRequired()],
        description=_l(
            "In another language than the original, the copy is a version of it: translate its "
            "title, questions and choices next."
        ),
    )
    submit = SubmitField(_l("Make the copy"))

    def validate_title(self, field):
        field.data = without_hidden(field.data).strip()
        if not field.data:
            raise ValidationError(_l("Give the copy a title."))
