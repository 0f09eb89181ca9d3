"""E-learning modules and webinar recordings."""

from flask import Blueprint

bp = Blueprint("courses", __name__)
#: pages outside /courses: the public verification of certificates
verify_bp = Blueprint("certificates", __name__)

from courses import (  # noqa: E402,F401  (registers the routes)
    certificate_document_views,
    certificate_views,
    credential_views,
    lesson_video_views,
    manage,
    views,
    webinar_views,
)
from courses.scorm import authoring, player, reports  # noqa: E402,F401
