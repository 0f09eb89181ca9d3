"""Calendar files to download ("Add to calendar"), the private feed, and its address on the
profile: thin routes over ``ics`` and ``feeds``."""

import io
import re
from datetime import datetime

from flask import abort, flash, redirect, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user, login_required

from courses import webinars
from irooms.access import place_in
from irooms.models import LiveSession
from learnplatform import select_time_zone
from learnplatform.audit import record
from learnplatform.calendars import bp, feeds, ics
from learnplatform.extensions import db
from learnplatform.storage import clean_file_name

CALENDAR_TYPE = "text/calendar"
# Characters that file systems refuse in a name, and every kind of white space.
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\s]+')


def _calendar_file(body: bytes, starts_at: datetime, title: str):
    """``body`` as a download named ``2026-03-14 Title.ics`` (the day in the viewer's time zone),
    which no shared cache keeps."""
    words = _NOT_IN_NAMES.sub(" ", title).strip()[:80]
    response = send_file(
        io.BytesIO(body),
        mimetype=CALENDAR_TYPE,
        as_attachment=True,
        download_name=clean_file_name(f"{to_user_timezone(starts_at):%Y-%m-%d} {words}.ics"),
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/sessions/<int:session_id>.ics")
@login_required
def session_ics(session_id):
    """A live session to add to one's calendar, in one's own time zone (members of its room)."""
    found = db.get_or_404(LiveSession, session_id)
    place_in(found.room_id)  # 404 for outsiders, as every page of the room
    body = ics.session_calendar(found, time_zone=select_time_zone())
    return _calendar_file(body, found.starts_at, found.title)


@bp.get("/webinars/<int:webinar_id>.ics")
@login_required
def webinar_ics(webinar_id):
    """A webinar to add to one's calendar, for those who may see its page."""
    found = webinars.visible_webinar(webinar_id)
    body = ics.webinar_calendar(found, time_zone=select_time_zone())
    return _calendar_file(body, found.starts_at, found.title)


@bp.get("/feed/<token>.ics")
def feed(token):
    """Everything on the person's calendar, for the calendar program holding the secret
    address; no login, 404 for an address that is unknown or revoked."""
    owner = feeds.feed_owner(token)
    if owner is None:
        abort(404)
    body = ics.feed_calendar(owner)
    db.session.commit()  # the time of use; after reading, which would load the owner again
    response = send_file(io.BytesIO(body), mimetype=CALENDAR_TYPE)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/feed")
@login_required
def create_feed():
    """Make a new feed address, which stops the one before; the profile shows it once."""
    token, replaced = feeds.create_feed(current_user)
    record("calendar_feed_created", user=current_user, replaced=replaced)
    db.session.commit()
    session[feeds.NEW_ADDRESS_KEY] = url_for("calendars.feed", token=token, _external=True)
    return redirect(url_for("accounts.profile", _anchor="calendar-feed"))


@bp.post("/feed/revoke")
@login_required
def revoke_feed():
    """Stop the feed address: calendar programs reading it get nothing more."""
    if feeds.revoke_feed(current_user):
        record("calendar_feed_revoked", user=current_user)
        db.session.commit()
        flash(
            _("Your calendar feed address is revoked: calendars subscribed to it stop updating."),
            "success",
        )
    return redirect(url_for("accounts.profile", _anchor="calendar-feed"))
