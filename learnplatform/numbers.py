"""Whole numbers from outside, bounded where they enter to what the database can hold.

Every id and count column of the platform is a 32-bit integer: PostgreSQL refuses to compare one
with 2,147,483,648 ("integer out of range") and SQLite's driver cannot even pass 2**63
(``OverflowError``). A number beyond :data:`LARGEST` in an address, a query string, a form or a
Socket.IO payload is therefore taken as what it must mean, a thing that does not exist: the
``int`` converter of every route refuses it (404), and :func:`from_text` and
:func:`from_payload` read the others.
"""

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

#: the largest number the platform's integer columns hold, on every database
LARGEST = 2**31 - 1


def _in_range(value: int, minimum: int) -> bool:
    return minimum <= value <= LARGEST


def from_payload(value, default=None, *, minimum: int = 0):
    """A whole number sent as a JSON number (Socket.IO events), ``minimum`` to LARGEST;
    ``default`` for anything else, text and booleans included."""
    valid = isinstance(value, int) and not isinstance(value, bool) and _in_range(value, minimum)
    return value if valid else default


def from_text(text, default=None, *, minimum: int = 0):
    """A whole number written in decimal digits (query strings, form fields), ``minimum`` to
    LARGEST; ``default`` for anything else."""
    if not isinstance(text, str) or not (text.isascii() and text.isdecimal()) or len(text) > 10:
        return default
    value = int(text)
    return value if _in_range(value, minimum) else default


def parse(text: str) -> int:
    """:func:`from_text` for Werkzeug's ``request.args.get(name, type=parse)`` and WTForms'
    ``coerce``: raises ValueError for what it refuses."""
    value = from_text(text)
    if value is None:
        raise ValueError(f"not a whole number from 0 to {LARGEST}")
    return value


def optional_id(value) -> int | None:
    """A select's value as a row id, or None for its empty choice; ValueError for anything else
    (WTForms then says the choice is not valid)."""
    if value in (None, "", "None"):
        return None
    return value if from_payload(value) is not None else parse(value)


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number beyond LARGEST names nothing, so the answer is 404
    whatever the method (Werkzeug's own ``max`` would let another method's rule answer 405)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > LARGEST:
            raise NotFound()
        return number


def init_app(app: Flask) -> None:
    """Bound the ``int`` converter; before any route is registered."""
    app.url_map.converters["int"] = IdConverter
