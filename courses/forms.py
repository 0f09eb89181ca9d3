"""Forms for authoring modules, lessons and quizzes, and webinar series with their files."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from courses.certificates import REASON_MAX_LENGTH
from courses.models import ENROLMENT_MODES
from learnplatform.accounts.forms import options
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.datetimes import LocalDateTimeField

ENROLMENT_MODE_LABELS = {
    "open": _l("Open: anyone logged in enrols at once"),
    "approval": _l("By approval: a trainer accepts each request"),
    "invitation": _l("By invitation: trainers enrol the learners"),
}
assert set(ENROLMENT_MODE_LABELS) == set(ENROLMENT_MODES)

QUESTION_KIND_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "true_false": _l("True or false"),
}


class ModuleForm(FlaskForm):
    """A module's description and settings."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(
        _l("Summary"),
        validators=[DataRequired(), Length(max=4000)],
        description=_l("Who the module is for and what it covers. Shown in the catalogue."),
        render_kw={"rows": 4},
    )
    theme = SelectField(_l("Theme"), choices=options(THEMES), validators=[DataRequired()])
    language = SelectField(_l("Language"), choices=options(LANGUAGES), validators=[DataRequired()])
    estimated_minutes = IntegerField(
        _l("Duration (minutes)"),
        default=60,
        validators=[InputRequired(), NumberRange(min=5, max=6000)],
    )
    enrolment_mode = SelectField(
        _l("Enrolment"), choices=options(ENROLMENT_MODE_LABELS), default="open"
    )
    version_of = SelectField(
        _l("Version of"),
        default="",
        description=_l(
            "The same module in another language: learners are offered every version, and the "
            "catalogue lists the languages the module exists in."
        ),
    )
    is_public = BooleanField(
        _l("Public"),
        description=_l(
            "Once published, visitors who are not logged in see it in the public catalogue: its "
            "summary, syllabus and tests' titles, never its lessons."
        ),
    )
    submit = SubmitField(_l("Save module"))


class TellsLearners(FlaskForm):
    """A form that adds to a published module, and may tell its learners."""

    tell_learners = BooleanField(
        _l("Tell the learners enrolled in this module about this lesson"),
        description=_l("They are notified as they chose: by default, in their daily digest."),
    )


class LessonForm(TellsLearners):
    """A lesson's title and body."""

    title = StringField(_l("Lesson title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        _l("Lesson text"),
        validators=[Length(max=200_000)],
        description=_l(
            "Formatted text: paragraphs, headings, lists, emphasis, links, quotations, tables, and "
            "the images and videos of this lesson; pages of other sites only from those an "
            "administrator allows. Anything else is removed when the lesson is saved."
        ),
        render_kw={"rows": 16, "data-editor": "lesson"},
    )
    submit = SubmitField(_l("Save lesson"))


class AttachmentForm(FlaskForm):
    """A file added to a lesson."""

    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    submit = SubmitField(_l("Upload"))


class QuizForm(FlaskForm):
    """A quiz's settings."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    pass_mark = IntegerField(
        _l("Pass mark (percent)"), default=70, validators=[InputRequired(), NumberRange(0, 100)]
    )
    max_attempts = IntegerField(
        _l("Attempts allowed"),
        default=3,
        validators=[InputRequired(), NumberRange(0, 100)],
        description=_l("0 for no limit."),
    )
    shuffle = BooleanField(_l("Show questions and options in a random order for each attempt"))
    submit = SubmitField(_l("Save settings"))


class OptionForm(Form):
    """One answer of a question."""

    text = StringField(_l("Answer"), validators=[Length(max=500)])
    correct = BooleanField(_l("Correct"))


class QuestionForm(FlaskForm):
    """A question with up to six answers."""

    kind = SelectField(_l("Type"), choices=options(QUESTION_KIND_LABELS), default="single")
    text = TextAreaField(
        _l("Question"), validators=[DataRequired(), Length(max=4000)], render_kw={"rows": 3}
    )
    points = IntegerField(
        _l("Points"), default=1, validators=[InputRequired(), NumberRange(1, 100)]
    )
    feedback = TextAreaField(
        _l("Feedback after submission"),
        validators=[Length(max=4000)],
        description=_l("Explains the right answer. Learners see it once they have submitted."),
        render_kw={"rows": 2},
    )
    answers = FieldList(FormField(OptionForm), min_entries=6, max_entries=6)
    submit = SubmitField(_l("Save question"))

    def filled_answers(self) -> list[tuple[str, bool]]:
        """The answers that have text, with whether each is correct."""
        if self.kind.data == "true_false":
            true_is_correct = bool(self.answers[0].correct.data)
            return [(str(_l("True")), true_is_correct), (str(_l("False")), not true_is_correct)]
        return [
            (entry.text.data.strip(), bool(entry.correct.data))
            for entry in self.answers
            if entry.text.data and entry.text.data.strip()
        ]

    def validate_answers(self, field):
        """Enough answers, and the right number of correct ones for the type."""
        answers = self.filled_answers()
        correct = sum(1 for _, is_correct in answers if is_correct)
        if self.kind.data == "true_false":
            return
        if len(answers) < 2:
            raise ValidationError(_l("Give at least two answers."))
        if correct == 0:
            raise ValidationError(_l("Mark at least one answer as correct."))
        if self.kind.data == "single" and correct > 1:
            raise ValidationError(_l("A single-choice question has exactly one correct answer."))


class InviteForm(FlaskForm):
    """Learners enrolled by a trainer, by e-mail address."""

    emails = TextAreaField(
        _l("E-mail addresses"),
        validators=[DataRequired(), Length(max=20_000)],
        description=_l("One or more addresses of existing accounts, separated by commas or lines."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Enrol them"))


class SeriesForm(FlaskForm):
    """A webinar series' description and who may see it."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=4000)],
        description=_l("Who the series is for and what it covers."),
        render_kw={"rows": 4},
    )
    theme = SelectField(_l("Theme"), choices=options(THEMES), validators=[DataRequired()])
    language = SelectField(_l("Language"), choices=options(LANGUAGES), validators=[DataRequired()])
    version_of = SelectField(
        _l("Version of"),
        default="",
        description=_l("The same series in another language: viewers are offered every version."),
    )
    rooms = SelectMultipleField(
        _l("Only for the members of these iRooms"),
        coerce=int,
        description=_l("Leave every box empty for a series every logged-in user can watch."),
    )
    is_public = BooleanField(
        _l("Public"),
        description=_l(
            "Visitors who are not logged in see the series and its webinars' titles (recordings "
            "need an account); never when it is only for members of iRooms."
        ),
    )
    submit = SubmitField(_l("Save series"))


class WebinarForm(FlaskForm):
    """A webinar's details."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    starts_at = LocalDateTimeField(
        _l("Date and time"),
        description=_l("In your time zone, as set on your profile."),
        validators=[InputRequired(_l("Give the date and time, for example 2026-03-14 14:00."))],
    )
    speakers = StringField(
        _l("Speakers"),
        validators=[Length(max=500)],
        description=_l("Names and functions, separated by semicolons."),
    )
    language = SelectField(_l("Language"), choices=options(LANGUAGES), validators=[DataRequired()])
    description = TextAreaField(
        _l("Description"), validators=[Length(max=4000)], render_kw={"rows": 4}
    )
    submit = SubmitField(_l("Save webinar"))


class RecordingForm(FlaskForm):
    """The recording of a webinar."""

    file = FileField(
        _l("Recording"),
        id="recording-file",
        validators=[FileRequired(_l("Choose the recording to upload."))],
    )
    submit = SubmitField(_l("Upload the recording"))


class SlidesForm(FlaskForm):
    """The slides of a webinar."""

    file = FileField(
        _l("Slides (PDF)"),
        id="slides-file",
        validators=[FileRequired(_l("Choose a PDF to upload."))],
    )
    submit = SubmitField(_l("Upload the slides"))


class CaptionForm(FlaskForm):
    """Captions of a recording in one language."""

    language = SelectField(
        _l("Captions language"),
        id="captions-language",
        choices=options(LANGUAGES),
        validators=[DataRequired()],
    )
    file = FileField(
        _l("Captions (WebVTT)"),
        id="captions-file",
        validators=[FileRequired(_l("Choose a .vtt file to upload."))],
    )
    submit = SubmitField(_l("Upload the captions"))


class RevokeCertificateForm(FlaskForm):
    """Why a certificate is revoked: kept with it, shown to its holder, never to verifiers."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give the reason for revoking the certificate.")),
            Length(max=REASON_MAX_LENGTH),
        ],
        description=_l(
            "Up to 500 characters. The holder sees it on their certificate; people who verify "
            "the code see only that it was revoked, and when."
        ),
        render_kw={"rows": 3, "maxlength": REASON_MAX_LENGTH},
    )
    submit = SubmitField(_l("Revoke the certificate"))
