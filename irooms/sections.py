"""The parts of a room page (overview, library, sessions, members...), shown as its tabs.

Each module of the package registers its part when it is imported, so that the tabs list what
exists; the order of registration is the order of the tabs.
"""

from dataclasses import dataclass

from flask_babel import LazyString


@dataclass(frozen=True)
class Section:
    #: the name pages give as ``active`` to mark their tab
    name: str
    label: LazyString
    #: the view taking ``room_id``
    endpoint: str
    #: shown only to those who manage the room
    managers_only: bool = False


SECTIONS: list[Section] = []


def room_section(name: str, label: LazyString, endpoint: str, *, managers_only=False) -> None:
    """Add a tab to every room page."""
    SECTIONS.append(Section(name, label, endpoint, managers_only))
