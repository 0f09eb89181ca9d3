"""Recordings, library and iRoom figures of a hand-built data set, checked against counts made
here from the same lists, for a quarter, a quarter in one region, and a trainer's own share."""

from datetime import date, datetime

import pytest

from courses.models import RecordingEvent, Webinar, WebinarSeries
from irooms.models import (
    Attendance,
    LiveSession,
    Membership,
    Message,
    Resource,
    ResourceDownload,
    Room,
)
from learnplatform.extensions import db
from learnplatform.regions import region_of
from tests.stats.test_statistics import PEOPLE, data, export_json, logged_in  # noqa: F401

# (webinar, kind, person, when)
RECORDING_EVENTS = [
    ("w1", "view", "p1", datetime(2026, 2, 3, 10)),
    ("w1", "view", "p2", datetime(2026, 5, 10, 9)),
    ("w1", "view", "p3", datetime(2026, 5, 11, 9)),
    ("w1", "download", "p1", datetime(2026, 5, 12, 9)),
    ("w1", "slides", "p4", datetime(2026, 2, 20, 9)),
    ("w2", "view", "p5", datetime(2026, 4, 2, 9)),
    ("w2", "view", "p6", datetime(2026, 6, 30, 23, 59)),
]
# room: (host, [(member, joined)])
ROOMS = {
    "r1": (
        "trainer_a",
        [
            ("p1", date(2026, 1, 1)),
            ("p2", date(2026, 1, 1)),
            ("p3", date(2026, 1, 1)),
            ("p6", date(2026, 7, 1)),
        ],
    ),
    "r2": ("trainer_b", [("p4", date(2026, 1, 1)), ("p5", date(2026, 3, 1))]),
}
MESSAGES = [
    ("r1", "p1", datetime(2026, 4, 5, 9)),
    ("r1", "p1", datetime(2026, 4, 6, 9)),
    ("r1", "p2", datetime(2026, 2, 1, 9)),
    ("r2", "p4", datetime(2026, 5, 1, 9)),
]
# (room, ends, attendees)
SESSIONS = [
    ("r1", datetime(2026, 4, 10, 15), ["p1", "p3"]),
    ("r1", datetime(2026, 1, 15, 15), ["p2"]),
    ("r2", datetime(2099, 1, 6, 15), []),  # not held yet
]
# (room, person, when)
DOWNLOADS = [
    ("r1", "p3", datetime(2026, 6, 1, 9)),
    ("r1", "p6", datetime(2026, 7, 5, 9)),
    ("r2", "p5", datetime(2026, 4, 20, 9)),
]


@pytest.fixture
def activity(app, data):  # noqa: F811
    people = {key: user.id for key, user in data["people"].items()}
    hosts = {key: user.id for key, user in data["trainers"].items()}
    ids = {}
    with app.app_context():
        for key, author, theme in (
            ("w1", "trainer_a", "financing"),
            ("w2", "trainer_b", "victims"),
        ):
            series = WebinarSeries(
                title=f"Series of {key}", theme=theme, language="en", created_by_id=hosts[author]
            )
            db.session.add(series)
            db.session.flush()
            webinar = Webinar(
                series_id=series.id,
                title=f"Webinar {key}",
                starts_at=datetime(2026, 1, 20),
                language="en",
            )
            db.session.add(webinar)
            db.session.flush()
            ids[key] = webinar.id
        for webinar, kind, person, when in RECORDING_EVENTS:
            db.session.add(
                RecordingEvent(webinar_id=ids[webinar], kind=kind, user_id=people[person], at=when)
            )
        for key, (host, members) in ROOMS.items():
            room = Room(name=f"Room {key}", language="fr", theme="cooperation")
            room.memberships = [
                Membership(user_id=hosts[host], role="host", joined_at=datetime(2025, 12, 1))
            ] + [
                Membership(
                    user_id=people[person],
                    role="participant",
                    joined_at=datetime.combine(joined, datetime.min.time()),
                )
                for person, joined in members
            ]
            db.session.add(room)
            db.session.flush()
            ids[key] = room.id
            resource = Resource(
                room_id=room.id,
                title=f"Manual of {key}",
                language="fr",
                category="guide",
                kind="link",
                url="https://example.org/manual",
            )
            db.session.add(resource)
            db.session.flush()
            ids[f"{key}-resource"] = resource.id
        for number, (room, person, when) in enumerate(MESSAGES, start=1):
            db.session.add(
                Message(
                    room_id=ids[room],
                    seq=number,
                    author_id=people[person],
                    client_id=f"c{number}",
                    body="Bonjour",
                    created_at=when,
                )
            )
        for room, ends, attendees in SESSIONS:
            session = LiveSession(
                room_id=ids[room], title="Session", starts_at=ends.replace(hour=13), ends_at=ends
            )
            db.session.add(session)
            db.session.flush()
            for person in attendees:
                db.session.add(
                    Attendance(
                        session_id=session.id,
                        user_id=people[person],
                        source="host",
                        at=ends.replace(hour=14),
                    )
                )
        for room, person, when in DOWNLOADS:
            db.session.add(
                ResourceDownload(
                    resource_id=ids[f"{room}-resource"], user_id=people[person], at=when
                )
            )
        db.session.commit()
    return ids


def _in(when, start, end):
    moment = when.date() if isinstance(when, datetime) else when
    return (start is None or moment >= start) and (end is None or moment <= end)


def expected_recordings(start, end, keep):
    counts = {}
    for webinar, kind, person, when in RECORDING_EVENTS:
        if _in(when, start, end) and keep(person):
            row = counts.setdefault(f"Webinar {webinar}", {"view": 0, "download": 0, "slides": 0})
            row[kind] += 1
    return counts


def expected_rooms(start, end, keep, host_keep):
    rooms = {}
    for key, (_host, members) in ROOMS.items():
        people = [p for p, joined in members if (end is None or joined <= end) and keep(p)]
        active = {p for room, p, when in MESSAGES if room == key and _in(when, start, end)}
        active |= {
            p for room, ends, who in SESSIONS if room == key for p in who if _in(ends, start, end)
        }
        active |= {p for room, p, when in DOWNLOADS if room == key and _in(when, start, end)}
        held = [
            s
            for s in SESSIONS
            if s[0] == key and _in(s[1], start, end) and s[1] < datetime(2098, 1, 1)
        ]
        rooms[f"Room {key}"] = {
            "members": len(people) + host_keep,
            "active_members": len({p for p in active if keep(p) and p in dict(members)}),
            "messages": sum(
                1 for r, p, w in MESSAGES if r == key and _in(w, start, end) and keep(p)
            ),
            "sessions_held": len(held),
            "attendances": sum(1 for s in held for p in s[2] if keep(p)),
        }
    return rooms


SLICES = [
    ({"quarter": "2026-Q2"}, date(2026, 4, 1), date(2026, 6, 30), lambda p: True, 1),
    (
        {"quarter": "2026-Q2", "region": "002"},
        date(2026, 4, 1),
        date(2026, 6, 30),
        lambda p: region_of(PEOPLE[p][0]) == "002",
        1,
    ),  # the hosts' accounts are in Kenya
    ({"gender": "woman"}, None, None, lambda p: PEOPLE[p][1] == "woman", 0),
]


@pytest.mark.parametrize(("args", "start", "end", "keep", "host_counts"), SLICES)
def test_recording_library_and_iroom_figures_match_counts_made_here(
    app,
    data,  # noqa: F811
    activity,
    args,
    start,
    end,
    keep,
    host_counts,
):
    admin = logged_in(app, data["admin"])
    rows = export_json(admin, "recordings", **args)
    got = {
        row["webinar"]: {
            "view": row["views"],
            "download": row["downloads"],
            "slides": row["slide_downloads"],
        }
        for row in rows
    }
    assert got == expected_recordings(start, end, keep)

    rows = export_json(admin, "resources", **args)
    want = {}
    for room, person, when in DOWNLOADS:
        if _in(when, start, end) and keep(person):
            want[f"Manual of {room}"] = want.get(f"Manual of {room}", 0) + 1
    assert {row["resource"]: row["downloads"] for row in rows} == want

    rows = export_json(admin, "irooms", **args)
    got = {
        row["iroom"]: {
            key: row[key]
            for key in ("members", "active_members", "messages", "sessions_held", "attendances")
        }
        for row in rows
    }
    assert got == expected_rooms(start, end, keep, host_counts)

    periods = export_json(admin, "recording-periods", interval="month", **args)
    months = {}
    for _, kind, person, when in RECORDING_EVENTS:
        if _in(when, start, end) and keep(person) and kind == "view":
            months[f"{when:%Y-%m}"] = months.get(f"{when:%Y-%m}", 0) + 1
    assert {row["period"]: row["views"] for row in periods if row["views"]} == months


def test_a_trainer_sees_the_series_and_rooms_they_run(app, data, activity):  # noqa: F811
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    assert {row["webinar"] for row in export_json(trainer, "recordings")} == {"Webinar w1"}
    assert {row["iroom"] for row in export_json(trainer, "irooms")} == {"Room r1"}
    assert {row["resource"] for row in export_json(trainer, "resources")} == {"Manual of r1"}
