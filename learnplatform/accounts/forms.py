"""Account forms. Field checks that need the database live in ``validate_<field>``."""

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from learnplatform.accounts.models import DIRECTORY_FIELDS, listed
from learnplatform.accounts.tokens import clean_name
from learnplatform.choices import (
    AGENCY_TYPES,
    GENDERS,
    LANGUAGES,
    ROLES,
    country_choices,
    time_zone_choices,
)
from learnplatform.passwords import password_problem

#: the choices of what to show in the member directories of one's rooms, worded apart from the
#: profile's own fields so that no two of the page's fields share a label
SHOWN_IN_DIRECTORY = {
    "country": _l("My country"),
    "agency_type": _l("My type of agency"),
    "organisation": _l("My organisation"),
    "expertise": _l("My fields of expertise"),
    "languages": _l("The languages I work in"),
}
assert tuple(SHOWN_IN_DIRECTORY) == DIRECTORY_FIELDS

#: the longest field of expertise or language one may name
ITEM_LENGTH = 80
# Commas as Latin, Chinese, Japanese and Arabic script write them: each separates items.
_ITEM_SEPARATORS = re.compile("[,\uff0c\u3001\u060c]")


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


def clean_items(text: str | None) -> str:
    """A list typed as ``text``, as it is kept: items separated by commas, each without bidi and
    control characters and with its spaces collapsed; empty items and repeats (in any case)
    dropped."""
    items: dict[str, str] = {}
    for part in _ITEM_SEPARATORS.split(text or ""):
        item = clean_name(part)
        if item:
            items.setdefault(item.casefold(), item)
    return ", ".join(items.values())


def short_items(form, field) -> None:
    """Refuse a list with an item longer than ``ITEM_LENGTH``, naming it."""
    for item in listed(field.data):
        if len(item) > ITEM_LENGTH:
            raise ValidationError(
                _l(
                    "Each item has at most %(max)s characters; shorten “%(item)s…” or separate "
                    "its parts with commas.",
                    max=ITEM_LENGTH,
                    item=item[:30],
                )
            )


def item_list(label, *, length: int, description) -> StringField:
    """A field for a list of short items separated by commas, cleaned by ``clean_items`` and
    kept in ``length`` characters."""
    return StringField(
        label,
        filters=[clean_items],
        validators=[
            Length(
                max=length,
                message=_l("At most %(max)d characters in all: keep the items that matter most."),
            ),
            short_items,
        ],
        description=description,
        render_kw={"dir": "auto"},
    )


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
    expertise = item_list(
        _l("Fields of expertise"),
        length=300,
        description=_l(
            "Separated by commas, such as: financial investigations, mutual legal assistance."
        ),
    )
    languages_spoken = item_list(
        _l("Languages you work in"),
        length=200,
        description=_l("Separated by commas, such as: English, Hausa."),
    )
    #: filled from ``User.shown_in_directory``; kept in ``User.directory_shows``
    shown_in_directory = SelectMultipleField(
        _l("Show in the member directories of my rooms"),
        choices=options(SHOWN_IN_DIRECTORY),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l(
            "The other members of your rooms always see your name and your role in the room; "
            "they see what you tick here too, and nothing else."
        ),
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
    # Chosen later, on the account page, where they are explained.
    expertise = languages_spoken = shown_in_directory = None

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
