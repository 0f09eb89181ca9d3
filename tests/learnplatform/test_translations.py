"""Every interface string is translated into every language, keeps its placeholders and its terms.

The strings are extracted afresh from the code and templates, so a string added without running
``make messages`` and translating it fails here, as does a translation that drops or renames a
``%(name)s``, or one that calls an iRoom, a module or an enrolment by another name than the
language's glossary (``learnplatform/translations/<language>/glossary.json``) gives it.
"""

import json
import re
from functools import cache

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from learnplatform.choices import LANGUAGES
from learnplatform.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "learnplatform" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_ngettext": (1, 2)}
TRANSLATED = [code for code in LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifr%])")

#: The English words whose translation a glossary fixes, as they appear in the interface.
TERMS = {
    "iRoom": r"\biRooms?\b",
    "module": r"\bmodules?\b",
    "enrolment": r"\benrol(?:ment|ments|led|ling|s)?\b",
    "webinar": r"\bwebinars?\b",
    "lesson": r"\blessons?\b",
    "trainer": r"\btrainers?\b",
    "practitioner": r"\bpractitioners?\b",
    "certificate": r"\bcertificates?\b",
}


@cache
def source_messages() -> dict[str, tuple[str, ...]]:
    """Every message in the code and templates, keyed by its id: its singular and plural forms."""
    with open(TRANSLATIONS / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        forms = message if isinstance(message, tuple) else (message,)
        found[forms[0]] = forms
    return found


@cache
def catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def placeholders(text: str) -> set[str]:
    """The named placeholders of a string, and its positional ones by their conversion."""
    return {name or f"#{conversion}" for name, conversion in PLACEHOLDER.findall(text)} - {"#%"}


def test_strings_are_extracted():
    """The extraction finds the interface, forms, flash messages and e-mails."""
    messages = source_messages()
    assert len(messages) > 900
    assert "Log in" in messages  # a template
    assert "Preferred language" in messages  # a form label
    assert "Confirm your e-mail address" in messages  # an e-mail subject
    assert "Hello %(name)s," in messages  # an e-mail body


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated(language):
    """No string of the interface is missing, empty or fuzzy in the catalogue."""
    messages = catalogue(language)
    missing = []
    for key, forms in source_messages().items():
        translated = messages.get(key)
        strings = () if translated is None else translated.string
        strings = strings if isinstance(strings, tuple) else (strings,)
        incomplete = translated is None or translated.fuzzy or not all(strings)
        if incomplete or (len(forms) == 2 and len(strings) != messages.num_plurals):
            missing.append(key)
    assert not missing, f"{len(missing)} strings lack a {language} translation: {missing[:20]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_match(language):
    """A translation has the placeholders of its string: no more, none fewer, none renamed.

    A plural form may leave out the count when it stands for one number only (Arabic's forms
    for zero, one and two, for instance), never another placeholder.
    """
    messages = catalogue(language)
    wrong = []
    for key, forms in source_messages().items():
        translated = messages.get(key)
        if translated is None or not translated.string:
            continue
        expected = set().union(*(placeholders(form) for form in forms))
        if len(forms) == 1:
            if placeholders(translated.string) != expected:
                wrong.append((key, translated.string))
            continue
        for form in translated.string:
            found = placeholders(form)
            if not found <= expected or expected - found - {"num", "count", "#d"}:
                wrong.append((key, form))
    assert not wrong, f"{language} placeholders differ: {wrong[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_terms_are_consistent(language):
    """Each glossary term is rendered the same way wherever the interface uses it."""
    glossary = json.loads((TRANSLATIONS / language / "glossary.json").read_text())
    assert set(glossary) == set(TERMS), "the glossary names every term, and only those"
    messages = catalogue(language)
    strays = []
    for term, pattern in TERMS.items():
        renderings = [stem.casefold() for stem in glossary[term]]
        for key, forms in source_messages().items():
            translated = messages.get(key)
            if translated is None or not translated.string:
                continue
            if not any(re.search(pattern, form, re.IGNORECASE) for form in forms):
                continue
            strings = (
                translated.string if isinstance(translated.string, tuple) else (translated.string,)
            )
            for string in strings:
                if not any(stem in string.casefold() for stem in renderings):
                    strays.append((term, key, string))
    assert not strays, f"{language} strays from its glossary: {strays[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_is_compiled(language):
    """The set-up compiled the catalogue, so the language is offered."""
    from learnplatform import available_locales

    assert language in available_locales()
