"""Account forms. Field checks that need the database live in ``validate_<field>``."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from learnplatform.choices import (
    AGENCY_TYPES,
    GENDERS,
    LANGUAGES,
    ROLES,
    country_choices,
    time_zone_choices,
)
from learnplatform.passwords import password_problem


def new_password_field(label) -> PasswordField:
    """A field for choosing a password, with the policy explained under it."""
    return PasswordField(
        label,
        validators=[InputRequired()],
        description=_l("At least 12 characters. A phrase of several words works well."),
        render_kw={"autocomplete": "new-password"},
    )


class NewPasswordMixin:
    """A new password checked against the policy (length and the common-passwords list)."""

    password = new_password_field(_l("New password"))

    def validate_password(self, field):
        """Refuse passwords the policy does not allow, with the reason."""
        email = getattr(getattr(self, "email", None), "data", None) or ""
        name = getattr(getattr(self, "name", None), "data", None) or ""
        problem = password_problem(field.data or "", email=email, name=name)
        if problem:
            raise ValidationError(problem)


def options(mapping) -> list[SelectChoice]:
    """The options of a select field, from a mapping of stored value to label."""
    return [SelectChoice(value, label) for value, label in mapping.items()]


class ProfileForm(FlaskForm):
    """What a person tells about themselves: shown to trainers and counted in statistics."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    country = SelectField(_l("Country where you work"), validators=[DataRequired()])
    organisation = StringField(
        _l("Organisation"),
        validators=[Length(max=200)],
        description=_l("The ministry, agency, court or organisation you work for."),
    )
    agency_type = SelectField(
        _l("Type of agency"), choices=options(AGENCY_TYPES), validators=[DataRequired()]
    )
    gender = SelectField(
        _l("Gender"),
        choices=options(GENDERS),
        default="undisclosed",
        description=_l("Used only for anonymous statistics."),
    )
    language = SelectField(
        _l("Preferred language"),
        choices=options(LANGUAGES),
        default=lambda: str(get_locale() or "en"),
    )
    time_zone = SelectField(
        _l("Time zone"),
        default="UTC",
        description=_l("Dates and times are shown to you in this time zone."),
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options({"": _l("Choose a country"), **dict(country_choices())})
        self.time_zone.choices = options(dict(time_zone_choices()))


class RegistrationForm(NewPasswordMixin, ProfileForm):
    """Create an account."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=320)],
        render_kw={"autocomplete": "email"},
    )
    password = new_password_field(_l("Password"))
    submit = SubmitField(_l("Create account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            # static/js/time-zone.js sets the browser's own zone, which the person can change.
            self.time_zone.render_kw = {"data-detect-time-zone": ""}


class LoginForm(FlaskForm):
    """Log in with e-mail address and password."""

    email = EmailField(
        _l("E-mail address"), validators=[DataRequired()], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired()], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField(_l("Log in"))


class PasswordChangeForm(NewPasswordMixin, FlaskForm):
    """Change the password, proving the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Change password"))


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(check_deliverability=False)],
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    """Choose a new password after following a reset link."""

    submit = SubmitField(_l("Set new password"))


class RoleForm(FlaskForm):
    """An administrator changes a person's platform role."""

    role = SelectField(_l("Role"), choices=options(ROLES))
    submit = SubmitField(_l("Change role"))


class ActivationForm(FlaskForm):
    """An administrator deactivates or reactivates an account (the button says which)."""

    submit = SubmitField(_l("Apply"))
