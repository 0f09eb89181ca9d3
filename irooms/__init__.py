"""iRooms: private rooms for one group of practitioners, with their experts and trainers."""

from flask import Blueprint

bp = Blueprint("irooms", __name__)


@bp.app_context_processor
def room_page_globals() -> dict:
    """What every room page's header needs: its tabs and the room roles in words; and the names
    of what members show in the directory."""
    from irooms.labels import DIRECTORY_LABELS, ROLE_LABELS
    from irooms.sections import SECTIONS

    return {
        "room_sections": SECTIONS,
        "room_roles": ROLE_LABELS,
        "directory_fields": DIRECTORY_LABELS,
    }


# Registers the routes and Socket.IO events; the room tabs follow the order of these imports.
# isort: off
from irooms import views  # noqa: E402,F401  (overview, rooms, My iRooms)
from irooms import library  # noqa: E402,F401
from irooms import sessions  # noqa: E402,F401
from irooms import members  # noqa: E402,F401  (members and invitations)
from irooms import directory  # noqa: E402,F401  (a member's page)
from irooms import email_invitations  # noqa: E402,F401
from irooms import chat  # noqa: E402,F401
# isort: on
