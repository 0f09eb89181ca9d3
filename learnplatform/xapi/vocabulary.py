"""The words statements are made of: verbs, activity types and extensions, by short name.

The IRIs are those of the ADL vocabulary, the xAPI Video and cmi5 profiles and the Tin Can
registry, which Learning Record Stores and their dashboards already know; they live in
``learnplatform/data/xapi-vocabulary.json`` so that adding one is a line of data.
"""

import json
from functools import cache
from pathlib import Path

VOCABULARY = Path(__file__).resolve().parent.parent / "data" / "xapi-vocabulary.json"


@cache
def _vocabulary() -> dict:
    return json.loads(VOCABULARY.read_text(encoding="utf-8"))


def verb(name: str) -> dict:
    """The statement's ``verb`` for ``name`` (``"completed"``), its display in en-US; a name
    not in the vocabulary is a programming error (KeyError), not a statement to invent."""
    return {"id": _vocabulary()["verbs"][name], "display": {"en-US": name}}


def activity_type(name: str) -> str:
    """The IRI of an activity type by short name (``"module"``, ``"video"``, ``"sco"``...)."""
    return _vocabulary()["activity_types"][name]


def extension(name: str) -> str:
    """The IRI of a result or context extension by short name (``"progress"``)."""
    return _vocabulary()["extensions"][name]


def verbs() -> list[str]:
    """The short names of the verbs the platform says."""
    return list(_vocabulary()["verbs"])
