"""Searching by words typed by a person: every word must appear, in any of the given columns.

Text kept for searching is *folded* (``fold``): lower case, without accents or other marks,
full-width forms as their usual ones, and Arabic letters written in several ways (hamza forms,
alef maqsura, ta marbuta, tatweel) as one; the words searched for are folded the same way, so
that "electronicas" finds "electrónicas" and "ارهاب" finds "إرهاب", on SQLite and PostgreSQL
alike.
"""

import unicodedata

from sqlalchemy import ColumnElement, func, or_

#: words of a search beyond this many are ignored
MAX_WORDS = 8

#: Arabic letters folded to the one they are written for, and tatweel (a stretch) dropped; the
#: hamza and madda on alef, waw and yeh are marks that ``fold`` removes with the accents
_ARABIC = {0x0649: "\u064a", 0x0629: "\u0647", 0x0640: None}
#: every combining mark (all lie between U+0300 and U+1EFFF) dropped, and the Arabic letters
#: folded, in one ``str.translate``: done in C, not character by character in Python
_FOLDING = str.maketrans(
    {point: None for point in range(0x300, 0x1F000) if unicodedata.combining(chr(point))} | _ARABIC
)


def fold(text: str) -> str:
    """``text`` as it is kept and compared for searching."""
    return unicodedata.normalize("NFKD", text or "").translate(_FOLDING).casefold()


def _contains(word: str) -> str:
    """A LIKE pattern for ``word`` anywhere, its ``%``, ``_`` and ``\\`` matched as text."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching_every_word(words: str, *columns) -> list[ColumnElement[bool]]:
    """One condition per word of ``words``: the word appears in one of ``columns``, in any case.

    The words are matched as text: ``%``, ``_`` and ``\\`` in them are escaped, never patterns.
    """
    conditions = []
    for word in words.split()[:MAX_WORDS]:
        pattern = _contains(word.lower())
        conditions.append(
            or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
        )
    return conditions


def folded_matching_every_word(words: str, column) -> list[ColumnElement[bool]]:
    """One condition per word of ``words``, folded: it appears in ``column``, which holds folded
    text (``fold``)."""
    return [column.like(_contains(word), escape="\\") for word in fold(words).split()[:MAX_WORDS]]
