"""Text as people type it, cleaned of what they cannot see: one rule for names, titles, chat
messages, tags and file names."""

import unicodedata

#: Characters that change how the text around them is shown or read (bidi embeddings, overrides,
#: isolates and marks): a file name or display name could show "exe.pdf" for "pdf.exe".
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
#: Unicode categories that never belong in typed text: control characters and lone surrogates
HIDDEN_CATEGORIES = frozenset({"Cc", "Cs"})


def without_hidden(text: str | None, *, keep: str = "", categories=HIDDEN_CATEGORIES) -> str:
    """``text`` without bidi controls and characters of ``categories`` (control characters),
    except those in ``keep`` (such as ``"\\n\\t"``)."""
    return "".join(
        char
        for char in text or ""
        if char in keep
        or (char not in BIDI_CONTROLS and unicodedata.category(char) not in categories)
    )
