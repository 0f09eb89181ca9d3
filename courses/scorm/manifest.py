"""What a SCORM package's ``imsmanifest.xml`` says: version, organisation, items and SCOs.

Authoring tools are sloppy in ways that do no harm, and the reading forgives them: elements and
attributes are found by their local name whatever their namespace prefix or letter case, and a
manifest without ``schemaversion`` is given the version its namespaces show. What matters for
safety is strict: the XML may not declare entities, and a launch address must stay inside the
package.
"""

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask_babel import lazy_gettext as _l

SCORM_12 = "1.2"
SCORM_2004 = "2004"

_XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
# Namespaces that only one version uses, to tell the version when schemaversion does not.
_NAMESPACES_2004 = frozenset(
    {
        "http://www.adlnet.org/xsd/adlcp_v1p3",
        "http://www.imsglobal.org/xsd/imsss",
        "http://www.adlnet.org/xsd/adlseq_v1p3",
        "http://www.adlnet.org/xsd/adlnav_v1p3",
        "http://www.imsglobal.org/xsd/imscp_v1p1",
    }
)
_NAMESPACES_12 = frozenset(
    {
        "http://www.adlnet.org/xsd/adlcp_rootv1p2",
        "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    }
)
# What the platform keeps of a manifest's names (courses.scorm.models).
_IDENTIFIER_LENGTH = 255
_TITLE_LENGTH = 500
_PACKAGE_TITLE_LENGTH = 200
_EDITION = re.compile(r"2004\s*(2nd|3rd|4th)\b")
# A scheme ("http:", "file:", "javascript:") or a Windows drive ("C:").
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class ManifestError(ValueError):
    """The manifest cannot be played; ``str()`` of it tells the trainer what is wrong."""


@dataclass(frozen=True)
class Item:
    """An entry of the table of contents."""

    identifier: str
    title: str
    #: 0 for the organisation's own items, 1 for the items inside them, and so on
    depth: int
    #: identifier of the launchable item (its own), or ``None`` for an item that only groups others
    sco: str | None


@dataclass(frozen=True)
class Sco:
    """A launchable item: a SCO, which talks to the runtime, or an asset, which does not."""

    identifier: str
    title: str
    #: launch address relative to the package's root, with the item's parameters
    href: str
    #: ``"sco"`` or ``"asset"``
    scorm_type: str
    #: SCORM 1.2 ``adlcp:masteryscore``, 0 to 100
    mastery_score: float | None = None
    #: ``adlcp:datafromlms`` (1.2) or ``adlcp:dataFromLMS`` (2004), given to the SCO as launch data
    launch_data: str | None = None
    #: SCORM 2004: the primary objective's minimum normalised measure, -1 to 1, when satisfied by it
    scaled_passing_score: float | None = None
    #: SCORM 2004 ``adlcp:completionThreshold``, 0 to 1
    completion_threshold: float | None = None
    #: ``adlcp:timeLimitAction``: "exit,message", "exit,no message", "continue,message" ...
    time_limit_action: str | None = None
    #: ``adlcp:maxtimeallowed`` (1.2, HH:MM:SS) or ``attemptAbsoluteDurationLimit`` (2004, ISO 8601)
    max_time_allowed: str | None = None


@dataclass(frozen=True)
class Package:
    """What a package's manifest says, as far as playing it needs."""

    #: ``"1.2"`` or ``"2004"``
    version: str
    #: for 2004: ``"2nd"``, ``"3rd"`` or ``"4th"``; ``None`` for 1.2 or when the manifest is silent
    edition: str | None
    title: str
    #: identifier of the organisation played
    default_organisation: str
    #: the organisation's items, flattened in order
    items: tuple[Item, ...]
    #: the launchable items, in order
    scos: tuple[Sco, ...]


def parse_manifest(data: bytes) -> Package:
    """Read the manifest ``data``; :class:`ManifestError` when it cannot be played."""
    try:
        root = fromstring(data)
    except DefusedXmlException as e:
        raise ManifestError(
            _l("The package's imsmanifest.xml declares XML entities, which are not accepted.")
        ) from e
    except (ParseError, ValueError) as e:
        raise ManifestError(
            _l("The package's imsmanifest.xml is not well-formed XML and cannot be read.")
        ) from e
    if _local(root.tag) != "manifest":
        raise ManifestError(_l("The package's imsmanifest.xml does not describe a package."))
    version, edition = _version(root)

    organisations = _child(root, "organizations")
    candidates = _children(organisations, "organization") if organisations is not None else []
    if not candidates:
        raise ManifestError(_l("The package's manifest has no organisation (table of contents)."))
    default = _attribute(organisations, "default")
    organisation = next(
        (o for o in candidates if _attribute(o, "identifier") == default), candidates[0]
    )

    resources_element = _child(root, "resources")
    outer_bases = [_base(root), _base(resources_element)]
    resources = {
        _attribute(resource, "identifier"): resource
        for resource in (
            _children(resources_element, "resource") if resources_element is not None else []
        )
    }

    items: list[Item] = []
    scos: list[Sco] = []
    for element, depth in _walk(organisation, 0):
        identifier = _attribute(element, "identifier")
        title = _text(_child(element, "title")) or identifier or ""
        reference = _attribute(element, "identifierref")
        if not identifier or len(identifier) > _IDENTIFIER_LENGTH:
            raise ManifestError(
                _l("An item of the package's manifest has no identifier, or one too long.")
            )
        title = title[:_TITLE_LENGTH]
        if not reference:
            items.append(Item(identifier, title, depth, None))
            continue
        resource = resources.get(reference)
        if resource is None:
            raise ManifestError(
                _l(
                    "The item “%(title)s” points to a resource (%(resource)s) that the package's "
                    "manifest does not list.",
                    title=title,
                    resource=reference,
                )
            )
        href = _attribute(resource, "href")
        if not href:
            raise ManifestError(
                _l("The item “%(title)s” points to a resource without a launch file.", title=title)
            )
        if any(sco.identifier == identifier for sco in scos):
            raise ManifestError(
                _l("Two items of the package's manifest have the identifier %(id)s.", id=identifier)
            )
        location = _launch_address(
            [*outer_bases, _base(resource)], href, _attribute(element, "parameters"), title
        )
        scorm_type = "sco" if _attribute(resource, "scormtype").lower() == "sco" else "asset"
        scos.append(_sco(element, identifier, title, location, scorm_type, version))
        items.append(Item(identifier, title, depth, identifier))
    if not scos:
        raise ManifestError(_l("The package's manifest has no item that can be launched."))
    return Package(
        version=version,
        edition=edition,
        title=(_text(_child(organisation, "title")) or scos[0].title)[:_PACKAGE_TITLE_LENGTH],
        default_organisation=_attribute(organisation, "identifier"),
        items=tuple(items),
        scos=tuple(scos),
    )


def launch_file(href: str) -> str:
    """The path inside the package of the file a launch address opens (no query, no fragment)."""
    return unquote(re.split(r"[?#]", href, maxsplit=1)[0])


def _sco(
    item: Element, identifier: str, title: str, href: str, scorm_type: str, version: str
) -> Sco:
    time_limit_action = _text(_child(item, "timelimitaction")) or None
    if version == SCORM_12:
        return Sco(
            identifier=identifier,
            title=title,
            href=href,
            scorm_type=scorm_type,
            mastery_score=_number(_child(item, "masteryscore"), 0, 100, title),
            launch_data=_text(_child(item, "datafromlms")) or None,
            time_limit_action=time_limit_action,
            max_time_allowed=_text(_child(item, "maxtimeallowed")) or None,
        )
    sequencing = _child(item, "sequencing")
    scaled_passing_score = None
    max_time_allowed = None
    if sequencing is not None:
        objectives = _child(sequencing, "objectives")
        primary = _child(objectives, "primaryobjective") if objectives is not None else None
        if primary is not None and _attribute(primary, "satisfiedbymeasure").lower() in {
            "true",
            "1",
        }:
            measure = _child(primary, "minnormalizedmeasure")
            # IMS Simple Sequencing's default when the measure is not given is 1.0.
            scaled_passing_score = (
                1.0 if measure is None or not _text(measure) else _number(measure, -1, 1, title)
            )
        limits = _child(sequencing, "limitconditions")
        if limits is not None:
            max_time_allowed = _attribute(limits, "attemptabsolutedurationlimit") or None
    threshold = _child(item, "completionthreshold")
    completion_threshold = None
    if threshold is not None:
        # 3rd edition: the value is the text; 4th edition: the minProgressMeasure attribute.
        if _text(threshold):
            completion_threshold = _number(threshold, 0, 1, title)
        elif _attribute(threshold, "minprogressmeasure"):
            completion_threshold = _parse_number(
                _attribute(threshold, "minprogressmeasure"), 0, 1, title
            )
    return Sco(
        identifier=identifier,
        title=title,
        href=href,
        scorm_type=scorm_type,
        launch_data=_text(_child(item, "datafromlms")) or None,
        scaled_passing_score=scaled_passing_score,
        completion_threshold=completion_threshold,
        time_limit_action=time_limit_action,
        max_time_allowed=max_time_allowed,
    )


def _version(root: Element) -> tuple[str, str | None]:
    """The SCORM version and 2004 edition, from ``schemaversion`` or else from the namespaces."""
    metadata = _child(root, "metadata")
    declared = _text(_child(metadata, "schemaversion")) if metadata is not None else ""
    declared = " ".join(declared.lower().split())
    if declared == "1.2":
        return SCORM_12, None
    if declared in {"cam 1.3", "1.3"}:
        return SCORM_2004, "2nd"
    if edition := _EDITION.search(declared):
        return SCORM_2004, edition.group(1)
    namespaces = set(_namespaces(root))
    if namespaces & _NAMESPACES_2004 and not namespaces & _NAMESPACES_12:
        return SCORM_2004, None
    if "http://www.adlnet.org/xsd/adlcp_v1p3" in namespaces:
        return SCORM_2004, None
    return SCORM_12, None


def _launch_address(bases: list[str], href: str, parameters: str, title: str) -> str:
    """``href`` resolved against the ``xml:base`` values, with the item's parameters appended
    as SCORM's Content Aggregation Model says; :class:`ManifestError` if it leaves the package."""
    for part in [*bases, href]:
        _check_relative(part, title)
    path, _, fragment = href.partition("#")
    path, question, query = path.partition("?")
    joined = "".join(base if base.endswith("/") else f"{base}/" for base in bases if base) + path
    segments: list[str] = []
    for segment in joined.split("/"):
        decoded = unquote(segment)
        if "/" in decoded or "\\" in decoded or "\x00" in decoded:
            raise _outside(title)
        if decoded in {"", "."}:
            continue
        if decoded == "..":
            if not segments:
                raise _outside(title)
            segments.pop()
            continue
        segments.append(segment)
    if not segments:
        raise _outside(title)
    address = "/".join(segments) + (question + query)
    parameters = parameters.strip()
    if parameters.startswith("#"):
        if not fragment and "#" not in href:
            fragment = parameters[1:]
    elif parameters := parameters.lstrip("?&"):
        address += ("&" if "?" in address else "?") + parameters
    return address + (f"#{fragment}" if fragment or "#" in href else "")


def _check_relative(part: str, title: str) -> None:
    if (
        "\x00" in part
        or "\\" in part
        or part.startswith("/")
        or _SCHEME.match(part)
        or _SCHEME.match(unquote(part))
    ):
        raise _outside(title)


def _outside(title: str) -> ManifestError:
    return ManifestError(
        _l(
            "The launch file of “%(title)s” is not inside the package: it must be a path "
            "relative to the package's top folder.",
            title=title,
        )
    )


def _number(element: Element | None, low: float, high: float, title: str) -> float | None:
    text = _text(element)
    return _parse_number(text, low, high, title) if text else None


def _parse_number(text: str, low: float, high: float, title: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise ManifestError(
            _l(
                "The score or threshold “%(value)s” of “%(title)s” must be a number from "
                "%(low)s to %(high)s.",
                value=text[:40],
                title=title,
                low=f"{low:g}",
                high=f"{high:g}",
            )
        )
    return value


def _walk(parent: Element, depth: int) -> Iterator[tuple[Element, int]]:
    for item in _children(parent, "item"):
        yield item, depth
        yield from _walk(item, depth + 1)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _namespaces(root: Element) -> Iterator[str]:
    for element in root.iter():
        for name in (element.tag, *element.attrib):
            if isinstance(name, str) and name.startswith("{"):
                yield name[1:].split("}", 1)[0]


def _children(parent: Element, name: str) -> list[Element]:
    return [child for child in parent if isinstance(child.tag, str) and _local(child.tag) == name]


def _child(parent: Element, name: str) -> Element | None:
    found = _children(parent, name)
    return found[0] if found else None


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _attribute(element: Element, name: str) -> str:
    """The attribute whose local name is ``name`` in any letter case, whatever its prefix."""
    for key, value in element.attrib.items():
        if _local(key) == name and not key.startswith("{" + _XML_NAMESPACE):
            return value.strip()
    return ""


def _base(element: Element | None) -> str:
    if element is None:
        return ""
    return element.attrib.get("{" + _XML_NAMESPACE + "}base", "").strip()
