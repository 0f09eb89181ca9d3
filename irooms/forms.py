"""Forms of rooms, their members and invitations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from irooms.labels import ROLE_LABELS
from learnplatform.accounts.forms import options
from learnplatform.accounts.tokens import clean_name
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


def _days_field(field_id: str) -> IntegerField:
    return IntegerField(
        _l("Valid for (days)"),
        id=field_id,
        default=14,
        validators=[InputRequired(), NumberRange(1, 90)],
    )


# The Invitations page holds three forms: the fields of these two carry ids of their own.
class PersonInvitationForm(FlaskForm):
    """An invitation e-mailed to one person."""

    name = StringField(
        _l("Name"), id="person-name", validators=[Length(max=120)], filters=[clean_name]
    )
    email = EmailField(
        _l("E-mail address"),
        id="person-email",
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=320)],
        description=_l("Only the account of this address can use the invitation."),
    )
    role = SelectField(
        _l("Role"), id="person-role", choices=options(ROLE_LABELS), default="participant"
    )
    days = _days_field("person-days")
    submit = SubmitField(_l("Send the invitation"), id="person-submit")


class InvitationListForm(FlaskForm):
    """Many people at once: addresses pasted, or a CSV file; checked before anything is sent."""

    addresses = TextAreaField(
        _l("Addresses, one per line"),
        id="list-addresses",
        validators=[Length(max=60_000)],
        # No angle brackets here: a lazy string reaches the page as markup.
        description=_l(
            "On each line an address, alone or after a name: “Awa Diallo, awa@example.org”. "
            "Addresses copied from an e-mail program work too."
        ),
        render_kw={"rows": 5},
    )
    file = FileField(
        _l("Or a CSV file"),
        id="list-file",
        description=_l(
            "With a first line naming the columns name, email and role. The role (host, expert "
            "or participant) may be left out: the one below is given."
        ),
        render_kw={"accept": ".csv,text/csv"},
    )
    role = SelectField(
        _l("Role"), id="list-role", choices=options(ROLE_LABELS), default="participant"
    )
    days = _days_field("list-days")
    submit = SubmitField(_l("Check the list"), id="list-submit")


class SendListForm(FlaskForm):
    """The checked list, signed, sent back to be acted on."""

    checked = HiddenField()
    submit = SubmitField(_l("Send"))
