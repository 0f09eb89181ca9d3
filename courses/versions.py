"""Versions of a module or a webinar series in other languages.

A module and its translations share a ``family_id``, the id of one of them; a module with no other
version has none. A family holds one version per language: the unique constraint on
``(family_id, language)`` keeps it so even when two trainers link versions at the same moment.
Webinar series work the same way, through the same functions.
"""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from courses.models import Module, WebinarSeries
from learnplatform.choices import LANGUAGES
from learnplatform.extensions import db

Versioned = Module | WebinarSeries


class LanguageTaken(Exception):
    """The family already has a version in that language."""


def _language_order(code: str) -> int:
    """Where a language comes in the list of interface languages: versions are listed so."""
    return list(LANGUAGES).index(code) if code in LANGUAGES else len(LANGUAGES)


def versions_of(item: Versioned, *conditions) -> list[Versioned]:
    """The other versions of ``item`` that meet ``conditions``, in the order of the languages."""
    if item.family_id is None:
        return []
    model = type(item)
    query = select(model).where(model.family_id == item.family_id, model.id != item.id, *conditions)
    return sorted(db.session.scalars(query), key=lambda version: _language_order(version.language))


def languages_of_families(model: type[Versioned], items, *conditions) -> dict[int, list[str]]:
    """For each of ``items``, the languages of its versions that meet ``conditions``, its own
    included: {item id: [language, ...]}. One query for a whole page of items."""
    families = {item.family_id for item in items if item.family_id is not None}
    found: dict[int, set[str]] = {}
    if families:
        query = select(model.family_id, model.language).where(
            model.family_id.in_(families), *conditions
        )
        for family_id, language in db.session.execute(query):
            found.setdefault(family_id, set()).add(language)
    return {
        item.id: sorted(found.get(item.family_id, set()) | {item.language}, key=_language_order)
        for item in items
    }


def link(item: Versioned, other: Versioned) -> None:
    """Make ``item`` a version of ``other`` (and of every version ``other`` already has).

    Raises ``LanguageTaken`` when the family already has a version in ``item``'s language; the
    transaction must then be rolled back.
    """
    if other.id == item.id or (item.family_id and item.family_id == other.family_id):
        return
    family = other.family_id or other.id
    siblings = [other, *versions_of(other)]
    if any(sibling.language == item.language for sibling in siblings):
        raise LanguageTaken
    unlink(item)
    other.family_id = family
    item.family_id = family
    _flush()


def unlink(item: Versioned) -> None:
    """Take ``item`` out of its family; the versions left stay linked with each other."""
    if item.family_id is None:
        return
    rest = versions_of(item)
    if len(rest) == 1:
        rest[0].family_id = None
    elif item.family_id == item.id:
        # The family is named after the item leaving it: renamed, so that a later link to the
        # item starts a new family rather than rejoining this one.
        renamed = min(version.id for version in rest)
        for version in rest:
            version.family_id = renamed
    item.family_id = None
    _flush()


def _flush() -> None:
    """Flush; a concurrent link that took the same language first becomes ``LanguageTaken``, after
    which the request's transaction can only be rolled back."""
    try:
        db.session.flush()
    except IntegrityError as error:
        raise LanguageTaken from error


def set_version_of(item: Versioned, other: Versioned | None) -> None:
    """Save ``item`` (added to the session, changes applied) as a version of ``other``, or as a
    module (series) of its own when ``other`` is None.

    Raises ``LanguageTaken`` when its family would hold two versions in one language, whether by
    this link or by a change of ``item``'s own language; the transaction must then be rolled back.
    """
    _flush()  # a new item gets its id; a language its family already has is refused here
    if other is None:
        unlink(item)
    else:
        link(item, other)


def offer_versions(form, item: Versioned, candidates: dict[str, Versioned]) -> None:
    """Fill the form's "Version of" field: every candidate but ``item``, with its language; on
    first display, one of the versions ``item`` has."""
    form.version_of.choices = [("", _("None: no version in another language"))] + [
        (key, f"{candidate.title} · {LANGUAGES.get(candidate.language, '')}")
        for key, candidate in candidates.items()
        if candidate.id != item.id
    ]
    if not form.is_submitted():
        form.version_of.data = next((str(version.id) for version in versions_of(item)), "")


def save_version_of(form, item: Versioned, candidates: dict[str, Versioned]) -> bool:
    """Link ``item`` as the form says. When the family already has a version in ``item``'s
    language, nothing of the request is kept: False, with the reason on the form."""
    try:
        set_version_of(item, candidates.get(form.version_of.data))
    except LanguageTaken:
        db.session.rollback()
        language = LANGUAGES.get(form.language.data, form.language.data)
        form.version_of.errors.append(
            _("These versions already include one in %(language)s.", language=language)
        )
        return False
    return True
