"""The statistics form that changes something: asking for an export made in the background."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Length

from learnplatform.admin.forms import new_form_key


class ExportRequestForm(FlaskForm):
    """Ask for one table of the dashboard to be prepared as a file in the background; which
    table, format and filters are in the address it is sent to, as for the download links."""

    #: a new key each time the dashboard is shown; a second post with the same key asks nothing
    form_key = HiddenField(
        default=new_form_key,
        validators=[InputRequired(_l("Reload the page and try again.")), Length(max=64)],
    )
