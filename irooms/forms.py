"""Forms of rooms, their members and invitations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from irooms.labels import ROLE_LABELS
from learnplatform.accounts.forms import options
from learnplatform.choices import LANGUAGES, THEMES


class RoomForm(FlaskForm):
    """A room's description."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("What the room is for"),
        validators=[Length(max=4000)],
        description=_l("Who meets here and to do what. Members see it on the room's page."),
        render_kw={"rows": 4},
    )
    language = SelectField(
        _l("Working language"), choices=options(LANGUAGES), validators=[DataRequired()]
    )
    theme = SelectField(_l("Theme"), choices=options(THEMES), validators=[DataRequired()])
    region_focus = StringField(
        _l("Country or region"),
        validators=[Length(max=120)],
        description=_l("For example: Sahel, Central Asia, Kenya."),
    )
    ends_on = DateField(
        _l("End date"),
        validators=[Optional()],
        description=_l(
            "After this day the room can be read but not changed. Leave empty to keep it open."
        ),
    )
    submit = SubmitField(_l("Save the room"))


class AddMemberForm(FlaskForm):
    """Add an existing account to a room."""

    who = StringField(
        _l("Name or e-mail address"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("The person must already have an account on the platform."),
    )
    role = SelectField(_l("Role"), choices=options(ROLE_LABELS), default="participant")
    submit = SubmitField(_l("Add to the room"))


class InvitationForm(FlaskForm):
    """A new invitation link."""

    role = SelectField(_l("Role"), choices=options(ROLE_LABELS), default="participant")
    days = IntegerField(
        _l("Valid for (days)"), default=14, validators=[InputRequired(), NumberRange(1, 90)]
    )
    max_uses = IntegerField(
        _l("Number of people who may join with it"),
        default=1,
        validators=[InputRequired(), NumberRange(1, 500)],
    )
    note = StringField(
        _l("Note for the hosts"),
        validators=[Length(max=200)],
        description=_l("Whom the link is for, for example: prosecutors of the Niamey office."),
    )
    submit = SubmitField(_l("Create the link"))
