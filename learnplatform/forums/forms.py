"""The forms of the forums: a topic, a reply, an edit, a report, a moderator's decision."""

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from irooms.library import plain

#: characters of a post as typed, markup included
BODY_MAX_LENGTH = 50_000


def _new_token() -> str:
    return secrets.token_urlsafe(16)


class _Body:
    """The text of a post: typed as plain text, or as HTML by the editor (``body_format``)."""

    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=BODY_MAX_LENGTH)],
        description=_l("Write @ and a member's name to tell them."),
        render_kw={"rows": 8, "data-editor": "post"},
    )
    #: ``html`` when the editor wrote the field, else plain text
    body_format = HiddenField(default="text")
    files = MultipleFileField(
        _l("Files"),
        description=_l("Up to 5 documents, images, sound or video files, 50 MB in all."),
    )
    #: the same form sent twice is one post
    client_token = HiddenField(default=_new_token)

    def validate_client_token(self, field):
        if not 8 <= len(field.data or "") <= 64:
            raise ValidationError(_l("The form has expired: please send it again."))


class TopicForm(_Body, FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Category"), coerce=int, validators=[Optional()])
    is_question = BooleanField(
        _l("This is a question for the experts"),
        description=_l("The room's hosts and experts can mark the reply that answers it."),
    )
    submit = SubmitField(_l("Start the topic"))

    def validate_title(self, field):
        field.data = " ".join(plain(field.data).split())
        if not field.data:
            raise ValidationError(_l("Give the topic a title."))


class ReplyForm(_Body, FlaskForm):
    #: the post quoted, if any
    quote_of = HiddenField()
    submit = SubmitField(_l("Post the reply"))


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    body = _Body.body
    body_format = _Body.body_format
    submit = SubmitField(_l("Save the changes"))


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _l("What is wrong with this post?"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Only the forum's moderators read this."),
    )
    submit = SubmitField(_l("Report the post"))


class DeleteForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(_l("Give the reason for deleting.")), Length(max=500)],
        description=_l("Kept in the audit log."),
    )
    submit = SubmitField(_l("Delete"))


class CategoryForm(FlaskForm):
    name = StringField(_l("Name of the new category"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Add the category"))

    def validate_name(self, field):
        field.data = " ".join(plain(field.data).split())
        if not field.data:
            raise ValidationError(_l("Give the category a name."))
