"""Searching by words typed by a person: every word must appear, in any of the given columns."""

from sqlalchemy import ColumnElement, func, or_

#: words of a search beyond this many are ignored
MAX_WORDS = 8


def matching_every_word(words: str, *columns) -> list[ColumnElement[bool]]:
    """One condition per word of ``words``: the word appears in one of ``columns``, in any case.

    The words are matched as text: ``%``, ``_`` and ``\\`` in them are escaped, never patterns.
    """
    conditions = []
    for word in words.split()[:MAX_WORDS]:
        escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions.append(
            or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
        )
    return conditions
