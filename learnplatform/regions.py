"""The United Nations M49 regions of the world, from ``data/m49.csv``.

Each country (ISO 3166 alpha-2) belongs to one region (Africa, Americas, Asia, Europe, Oceania) and
to one sub-region (the M49 intermediate region where there is one, such as Western Africa or the
Caribbean, otherwise the sub-region, such as Northern Africa). Codes are M49's three digits; their
names come from the Unicode CLDR through Babel, in the interface language.
"""

import csv
from functools import cache
from pathlib import Path

from babel import Locale
from flask_babel import get_locale
from sqlalchemy import ColumnElement, case, literal

DATA = Path(__file__).parent / "data" / "m49.csv"
LEVELS = ("region", "subregion")


@cache
def _countries() -> dict[str, dict[str, str]]:
    """Country code -> {"region": code, "subregion": code}."""
    with DATA.open(newline="", encoding="utf-8") as file:
        return {
            row["country"]: {"region": row["region_code"], "subregion": row["subregion_code"]}
            for row in csv.DictReader(file)
        }


@cache
def _members() -> dict[str, tuple[str, ...]]:
    """Region or sub-region code -> the countries in it, sorted."""
    members: dict[str, list[str]] = {}
    for country, codes in _countries().items():
        for code in codes.values():
            members.setdefault(code, []).append(country)
    return {code: tuple(sorted(countries)) for code, countries in members.items()}


@cache
def _tree() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each region with its sub-regions, in code order."""
    tree: dict[str, set[str]] = {}
    for codes in _countries().values():
        tree.setdefault(codes["region"], set()).add(codes["subregion"])
    return tuple((region, tuple(sorted(subs))) for region, subs in sorted(tree.items()))


def region_of(country: str | None, level: str = "region") -> str | None:
    """The M49 code of ``country``'s region or sub-region; None for an unknown country."""
    codes = _countries().get(country or "")
    return codes[level] if codes else None


def countries_in(code: str) -> tuple[str, ...]:
    """The countries of a region or sub-region (none for an unknown code)."""
    return _members().get(code, ())


def is_region(code: str | None) -> bool:
    return bool(code) and code in _members()


@cache
def _names(locale_code: str) -> dict[str, str]:
    territories = Locale.parse(locale_code).territories
    return {code: territories.get(code, code) for code in _members()}


def region_names() -> dict[str, str]:
    """Region and sub-region code -> name in the interface language."""
    return _names(str(get_locale() or "en"))


def region_name(code: str | None) -> str:
    """The name of a region or sub-region in the interface language."""
    if not code:
        return ""
    return region_names().get(code, code)


def region_choices() -> list[tuple[str, str]]:
    """Regions, each followed by its sub-regions (indented), for a select list."""
    choices = []
    for region, subregions in _tree():
        choices.append((region, region_name(region)))
        choices.extend((sub, "\u2003" + region_name(sub)) for sub in subregions)
    return choices


def region_column(country: ColumnElement, level: str = "region") -> ColumnElement:
    """SQL for the region (or sub-region) code of the ``country`` column; NULL when unknown."""
    groups: dict[str, list[str]] = {}
    for code, codes in _countries().items():
        groups.setdefault(codes[level], []).append(code)
    return case(
        *(
            (country.in_(sorted(members)), literal(code))
            for code, members in sorted(groups.items())
        ),
        else_=None,
    )
