"""The fixed lists a profile is made of: agency types, genders, languages and countries."""

from functools import cache
from zoneinfo import available_timezones

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

AGENCY_TYPES = {
    "police": _l("Police and law enforcement"),
    "prosecution": _l("Prosecution service"),
    "judiciary": _l("Judiciary"),
    "defence": _l("Defence lawyers"),
    "prisons": _l("Prisons and probation"),
    "financial_intelligence": _l("Financial intelligence unit"),
    "customs_borders": _l("Customs and border management"),
    "ministry": _l("Ministry or government department"),
    "civil_society": _l("Civil society"),
    "academia": _l("Academia and research"),
    "international_organisation": _l("International or regional organisation"),
    "other": _l("Other"),
}

GENDERS = {
    "woman": _l("Woman"),
    "man": _l("Man"),
    "other": _l("Another gender"),
    "undisclosed": _l("Prefer not to say"),
}

#: The interface languages: the six official languages of the United Nations and Portuguese.
LANGUAGES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ru": "Русский",
    "ar": "العربية",
    "zh": "中文",
    "pt": "Português",
}

ROLES = {
    "practitioner": _l("Practitioner"),
    "trainer": _l("Trainer"),
    "administrator": _l("Administrator"),
}

# Codes Babel lists among territories that are not countries or territories a person lives in.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}


@cache
def _country_names(locale_code: str) -> tuple[tuple[str, str], ...]:
    territories = Locale.parse(locale_code).territories
    pairs = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda pair: pair[1].casefold()))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes with their names in the interface language, sorted by name."""
    return list(_country_names(str(get_locale() or "en")))


@cache
def _country_lookup(locale_code: str) -> dict[str, str]:
    return dict(_country_names(locale_code))


def country_names() -> dict[str, str]:
    """Country code -> name in the interface language, for looking up many at once."""
    return _country_lookup(str(get_locale() or "en"))


def country_name(code: str | None) -> str:
    """The name of a country in the interface language; the code itself when unknown."""
    if not code:
        return ""
    return country_names().get(code, code)


#: The themes modules, webinar series and iRooms are filed under.
THEMES = {
    "criminal_justice": _l("Criminal justice responses to terrorism"),
    "financing": _l("Countering the financing of terrorism"),
    "cbrn": _l("Chemical, biological, radiological and nuclear terrorism"),
    "foreign_fighters": _l("Foreign terrorist fighters"),
    "electronic_evidence": _l("Electronic evidence"),
    "victims": _l("Victims of terrorism"),
    "children": _l("Children and terrorism"),
    "gender": _l("Gender dimensions"),
    "prisons": _l("Prisons and rehabilitation"),
    "cooperation": _l("International cooperation in criminal matters"),
    "prevention": _l("Preventing violent extremism"),
}


#: Prefixes of IANA names kept for compatibility only: aliases of the regional names.
_LEGACY_ZONES = (
    "Etc/",
    "SystemV/",
    "US/",
    "Canada/",
    "Brazil/",
    "Chile/",
    "Mexico/",
    "posix",
    "right/",
)


@cache
def time_zone_choices() -> tuple[tuple[str, str], ...]:
    """The IANA time zones a person can choose, "Africa/Nairobi" shown as "Africa / Nairobi"."""
    zones = [
        zone for zone in available_timezones() if "/" in zone and not zone.startswith(_LEGACY_ZONES)
    ]
    return (
        ("UTC", "UTC"),
        *((zone, zone.replace("_", " ").replace("/", " / ")) for zone in sorted(zones)),
    )


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zone for zone, _label in time_zone_choices())


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is one of the time zones a person can choose (asked on every request)."""
    return name in _time_zone_names()
