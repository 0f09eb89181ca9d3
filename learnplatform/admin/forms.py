"""Administration forms: personal API tokens."""

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from learnplatform.accounts.tokens import NAME_LENGTH, clean_name


def new_form_key() -> str:
    """A fresh random key for one rendering of a form, so that sending it twice is noticed."""
    return secrets.token_urlsafe(24)


class ApiTokenForm(FlaskForm):
    """An administrator makes a personal API token for a script of theirs."""

    name = StringField(
        _l("Name"),
        filters=[clean_name],
        validators=[
            DataRequired(_l("Give the token a name, such as the script that will use it.")),
            Length(max=NAME_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l("What the token is for, such as “Monthly report script”."),
        render_kw={"maxlength": NAME_LENGTH, "autocomplete": "off"},
    )
    #: a new key each time the form is shown; a second post with the same key makes no token
    form_key = HiddenField(
        default=new_form_key,
        validators=[InputRequired(_l("Reload the page and try again.")), Length(max=64)],
    )
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    """An administrator revokes one of their tokens."""

    submit = SubmitField(_l("Revoke"))
