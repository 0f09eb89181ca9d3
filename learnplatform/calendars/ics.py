"""Calendar files (RFC 5545) for live sessions and webinars, and a person's whole feed.

Times are written in the reader's time zone with its VTIMEZONE, so that a calendar program shows
the same local time as the platform's pages, and converts them right if the reader travels. The
functions need an application context, not a request: a background job calls them to attach an
invitation to an e-mail.
"""

import functools
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone, vCalAddress, vDuration
from sqlalchemy import select

from courses import webinars
from courses.models import Webinar
from irooms.models import LiveSession, Membership
from learnplatform.audit import utcnow
from learnplatform.choices import is_time_zone
from learnplatform.extensions import db

PRODID = "-//CT Learning Platform//Calendars//EN"
#: a webinar has no end time: calendars show it as lasting this long
WEBINAR_DURATION = timedelta(hours=1)
#: how far back the feed lists a person's sessions (all those to come are listed)
FEED_PAST = timedelta(days=90)
#: how often calendar programs are asked to read the feed again (those that listen)
FEED_REFRESH = timedelta(hours=1)
#: methods whose events carry an organiser (RFC 5546): invitations and cancellations by e-mail
SCHEDULING_METHODS = {"REQUEST", "CANCEL"}


def absolute_url(endpoint: str, **values) -> str:
    """The full address of a platform page: the request's own during a request, otherwise one
    built on ``PUBLIC_ORIGIN`` (or ``SERVER_NAME``), as a background job needs."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    config = current_app.config
    origin = urlsplit(
        config["PUBLIC_ORIGIN"]
        or f"{config['PREFERRED_URL_SCHEME']}://{config.get('SERVER_NAME') or 'localhost'}"
    )
    adapter = current_app.url_map.bind(
        origin.netloc, script_name=origin.path or "/", url_scheme=origin.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def uid_host() -> str:
    """The domain part of event UIDs: the host of ``PUBLIC_ORIGIN``, else ``SERVER_NAME``, else
    ``learnplatform``. Never the request's host, so that an invitation sent by a background job
    and the file downloaded from a page name the same event, whatever address the page was
    reached at."""
    config = current_app.config
    if config["PUBLIC_ORIGIN"]:
        return urlsplit(config["PUBLIC_ORIGIN"]).hostname or "learnplatform"
    return (config.get("SERVER_NAME") or "learnplatform").split(":")[0]


def session_calendar(
    session: LiveSession, *, method: str = "PUBLISH", time_zone: str = "UTC"
) -> bytes:
    """One live session as a calendar file in ``time_zone`` (UTC when it is not a zone the
    platform offers); ``method`` ``REQUEST`` invites, ``CANCEL`` cancels (its event is
    ``STATUS:CANCELLED``), ``PUBLISH`` is the "Add to calendar" download."""
    calendar = _calendar(method)
    event = _session_event(session, _zone(time_zone), uid_host(), utcnow())
    if method == "CANCEL":
        event["STATUS"] = "CANCELLED"
    if method in SCHEDULING_METHODS:
        event.add("organizer", _organizer())
    calendar.add_component(event)
    return _finished(calendar, [(session.starts_at, session.ends_at)])


def webinar_calendar(webinar: Webinar, *, time_zone: str = "UTC") -> bytes:
    """One webinar as a calendar file to add, lasting ``WEBINAR_DURATION`` from its start."""
    calendar = _calendar("PUBLISH")
    calendar.add_component(_webinar_event(webinar, _zone(time_zone), uid_host(), utcnow()))
    return _finished(calendar, [(webinar.starts_at, webinar.starts_at + WEBINAR_DURATION)])


def feed_calendar(user) -> bytes:
    """Everything on ``user``'s calendar, in their time zone and language: the sessions of every
    room they are a member of from ``FEED_PAST`` ago on, and the webinars to come that they may
    see. Two queries, however many sessions there are."""
    now = utcnow()
    sessions = db.session.scalars(
        select(LiveSession)
        .join(Membership, Membership.room_id == LiveSession.room_id)
        .where(Membership.user_id == user.id, LiveSession.starts_at >= now - FEED_PAST)
        .order_by(LiveSession.starts_at, LiveSession.id)
    ).all()
    coming_webinars = db.session.scalars(
        select(Webinar)
        .join(Webinar.series)
        .where(webinars.visible_to(user), Webinar.starts_at > now)
        .order_by(Webinar.starts_at, Webinar.id)
    ).all()
    zone = _zone(user.time_zone)
    host = uid_host()
    with force_locale(user.language or "en"):
        calendar = _calendar(None)
        calendar.add("name", _("CT Learning Platform"))
        calendar.add("x-wr-calname", _("CT Learning Platform"))
        calendar.add("refresh-interval", vDuration(FEED_REFRESH), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
        for session in sessions:
            calendar.add_component(_session_event(session, zone, host, now))
        for webinar in coming_webinars:
            calendar.add_component(_webinar_event(webinar, zone, host, now))
    spans = [(s.starts_at, s.ends_at) for s in sessions]
    spans += [(w.starts_at, w.starts_at + WEBINAR_DURATION) for w in coming_webinars]
    return _finished(calendar, spans)


def _zone(name: str | None) -> ZoneInfo:
    """The time zone ``name``, or UTC when it is not one a person can choose (as the pages do)."""
    return ZoneInfo(name if name and is_time_zone(name) else "UTC")


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _session_event(session: LiveSession, zone: ZoneInfo, host: str, now: datetime) -> Event:
    page = absolute_url("irooms.session", room_id=session.room_id, session_id=session.id)
    event = _event(f"room-session-{session.id}@{host}", session.title, now)
    event.add("dtstart", _in_zone(session.starts_at, zone))
    event.add("dtend", _in_zone(session.ends_at, zone))
    event.add("sequence", session.sequence)
    event.add("description", _paragraphs(session.agenda, page))
    event.add("location", session.conference_url or page)
    event.add("url", session.conference_url or page)
    return event


def _webinar_event(webinar: Webinar, zone: ZoneInfo, host: str, now: datetime) -> Event:
    page = absolute_url("courses.webinar", webinar_id=webinar.id)
    speakers = _("Speakers: %(names)s", names=webinar.speakers) if webinar.speakers else ""
    event = _event(f"webinar-{webinar.id}@{host}", webinar.title, now)
    event.add("dtstart", _in_zone(webinar.starts_at, zone))
    event.add("duration", WEBINAR_DURATION)
    event.add("description", _paragraphs(speakers, webinar.description, page))
    event.add("location", page)
    event.add("url", page)
    return event


def _event(uid: str, summary: str, now: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.replace(tzinfo=UTC))
    event.add("summary", summary)
    return event


def _in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive UTC time from the database as the same instant in ``zone``."""
    return moment.replace(tzinfo=UTC).astimezone(zone)


def _paragraphs(*texts: str) -> str:
    return "\n\n".join(text.strip() for text in texts if text and text.strip())


def _organizer() -> vCalAddress:
    """The platform's sending address (``MAIL_SENDER``), which invitations come from."""
    name, address = parseaddr(current_app.config["MAIL_SENDER"])
    organizer = vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["CN"] = name
    return organizer


@functools.lru_cache(maxsize=512)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone | None:
    """The VTIMEZONE of ``tzid`` over those years, made once per process: icalendar walks the
    zone's every transition to make it (some 50 ms), and a session's invitations to 500 members
    need the same few."""
    try:
        return Timezone.from_tzid(
            tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1)
        )
    except ValueError:  # a zone icalendar does not know: the event keeps its TZID alone
        return None


def _finished(calendar: Calendar, spans: list[tuple[datetime, datetime]]) -> bytes:
    """The calendar with a VTIMEZONE for each time zone its events use, placed before them as
    some calendar programs expect, covering the years of ``spans`` (naive UTC start and end)."""
    if spans:
        first = min(start for start, _end in spans)
        last = max(end for _start, end in spans)
        for tzid in calendar.get_missing_tzids():
            zone = _vtimezone(tzid, first.year - 1, last.year + 2)
            if zone is not None:
                calendar.add_component(zone)
    calendar.subcomponents.sort(key=lambda component: component.name != "VTIMEZONE")
    return calendar.to_ical()
