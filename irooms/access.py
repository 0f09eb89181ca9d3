"""Who may do what in a room: one place, used by every view of the package.

For someone who is not a member, every URL of a room answers exactly as a room that does not
exist (404). Membership is read from the database on every request, so a removed member loses
access at the next one. Administrators see and manage every room without being members.
"""

from dataclasses import dataclass
from datetime import date

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from irooms.models import Membership, Room
from learnplatform.extensions import db


@dataclass(frozen=True)
class Place:
    """The current user's place in a room: the room, their membership if any, what they may do."""

    room: Room
    membership: Membership | None

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def manages(self) -> bool:
        """Hosts and administrators: members, invitations, sessions, the room itself."""
        return current_user.is_administrator or self.role == "host"

    @property
    def contributes(self) -> bool:
        """Hosts, experts and administrators: resources."""
        return self.manages or self.role == "expert"

    @property
    def read_only(self) -> bool:
        """An archived room, or one past its end date, can be read but not changed."""
        return is_read_only(self.room)


def is_read_only(room: Room) -> bool:
    return room.archived_at is not None or (
        room.ends_on is not None and room.ends_on < date.today()
    )


def place_in(room_id: int) -> Place:
    """The current user's place in room ``room_id``; 404 for outsiders, as for no room."""
    room = db.session.get(Room, room_id)
    if room is None:
        abort(404)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.room_id == room.id, Membership.user_id == current_user.id
        )
    )
    if membership is None and not current_user.is_administrator:
        abort(404)
    return Place(room, membership)


def managed_place(room_id: int, *, writing: bool = True) -> Place:
    """A room the current user manages (403 for other members, 404 for outsiders); when
    ``writing``, a read-only room refuses with 403 too."""
    place = place_in(room_id)
    if not place.manages or (writing and place.read_only):
        abort(403)
    return place


def contributed_place(room_id: int) -> Place:
    """A room where the current user may add resources (hosts and experts), not read-only."""
    place = place_in(room_id)
    if not place.contributes or place.read_only:
        abort(403)
    return place
