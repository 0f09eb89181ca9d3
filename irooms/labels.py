"""Room roles, resource categories and what the member directory shows, in words."""

from flask_babel import lazy_gettext as _l

from irooms.models import RESOURCE_CATEGORIES, ROOM_ROLES
from learnplatform.accounts.models import DIRECTORY_FIELDS

ROLE_LABELS = {
    "host": _l("Host"),
    "expert": _l("Expert"),
    "participant": _l("Participant"),
}
assert set(ROLE_LABELS) == set(ROOM_ROLES)

CATEGORY_LABELS = {
    "manual": _l("Manual"),
    "key_resolution": _l("Key resolution"),
    "report": _l("Report"),
    "guide": _l("Guide"),
    "module": _l("E-learning module"),
    "series": _l("Webinar series"),
    "other": _l("Other"),
}
assert set(CATEGORY_LABELS) == set(RESOURCE_CATEGORIES)

#: the headings of what members show in the directory (``User.directory_shows``)
DIRECTORY_LABELS = {
    "country": _l("Country"),
    "agency_type": _l("Type of agency"),
    "organisation": _l("Organisation"),
    "expertise": _l("Fields of expertise"),
    "languages": _l("Languages"),
}
assert tuple(DIRECTORY_LABELS) == DIRECTORY_FIELDS
