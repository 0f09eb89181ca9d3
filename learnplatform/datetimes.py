"""Times as people type them: in their own time zone on the page, in UTC in the database."""

from flask_babel import to_user_timezone, to_utc
from wtforms import DateTimeLocalField


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed in the person's own time zone (their profile's; UTC for visitors),
    held by the field as a naive UTC datetime like the model columns it fills."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = to_utc(self.data)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        return to_user_timezone(self.data).strftime(self.format[0])
