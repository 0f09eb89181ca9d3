"""iRoom pages: My iRooms, a room's overview, and creating, editing and archiving rooms."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from irooms import bp
from irooms.access import managed_place, place_in
from irooms.forms import RoomForm
from irooms.models import LiveSession, Membership, Resource, Room
from irooms.sections import room_section
from learnplatform.access import trainer_required
from learnplatform.audit import record, utcnow
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.extensions import db

room_section("overview", _l("Overview"), "irooms.room")

#: how precisely a member's last visit is kept
VISIT_PRECISION = timedelta(minutes=1)


def new_since_visit(model, when_column, room_column, *conditions):
    """How many rows of ``model`` in a room are newer than the member's last visit (or, before
    any, than their joining), as a subquery correlated with ``Room`` and ``Membership``;
    ``conditions`` narrow the rows counted. My iRooms and the home both count with it."""
    since = func.coalesce(Membership.last_visit_at, Membership.joined_at)
    return (
        select(func.count())
        .select_from(model)
        .where(room_column == Room.id, when_column > since, *conditions)
        .correlate(Room, Membership)
        .scalar_subquery()
    )


@bp.get("/")
@login_required
def my_rooms():
    """The rooms the person belongs to, with what is new in each since their last visit."""
    member_count = (
        select(func.count(Membership.id))
        .where(Membership.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery()
    )
    new_resources = new_since_visit(Resource, Resource.updated_at, Resource.room_id)
    new_sessions = new_since_visit(LiveSession, LiveSession.created_at, LiveSession.room_id)
    rows = db.session.execute(
        select(Room, Membership.role, member_count, new_resources, new_sessions)
        .join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id == current_user.id)
        .order_by(Room.archived_at.is_not(None), Room.name)
    ).all()
    others = []
    if current_user.is_administrator:
        mine = {row[0].id for row in rows}
        others = [
            room
            for room in db.session.scalars(select(Room).order_by(Room.name))
            if room.id not in mine
        ]
    return render_template(
        "irooms/my_rooms.html", rows=rows, others=others, themes=THEMES, languages=LANGUAGES
    )


@bp.get("/<int:room_id>")
@login_required
def room(room_id):
    """A room's overview: what it is for, its next sessions and newest resources."""
    place = place_in(room_id)
    from irooms.sessions import upcoming  # the sessions tab comes after this one

    coming = upcoming(place.room.id)
    latest = db.session.scalars(
        select(Resource)
        .where(Resource.room_id == place.room.id)
        .order_by(Resource.updated_at.desc(), Resource.id.desc())
        .limit(5)
    ).all()
    members = db.session.scalar(
        select(func.count(Membership.id)).where(Membership.room_id == place.room.id)
    )
    # The visit is written at most once a minute, so that reloading a room costs no write.
    seen = place.membership.last_visit_at if place.membership is not None else None
    if place.membership is not None and (seen is None or seen < utcnow() - VISIT_PRECISION):
        db.session.execute(
            update(Membership)
            .where(Membership.id == place.membership.id)
            .values(last_visit_at=utcnow())
        )
        db.session.commit()
    return render_template(
        "irooms/room.html",
        place=place,
        active="overview",
        upcoming=coming,
        latest=latest,
        members=members,
        themes=THEMES,
        languages=LANGUAGES,
    )


@bp.route("/new", methods=["GET", "POST"])
@trainer_required
def new_room():
    """A trainer opens a room and becomes its first host."""
    form = RoomForm()
    if form.validate_on_submit():
        created = Room(created_by_id=current_user.id)
        _fill(created, form)
        created.memberships = [Membership(user_id=current_user.id, role="host")]
        db.session.add(created)
        db.session.flush()
        record("room_created", actor=current_user, room_id=created.id)
        db.session.commit()
        flash(_("The room is open. Invite its members from the Members tab."), "success")
        return redirect(url_for("irooms.room", room_id=created.id))
    return render_template("irooms/room_form.html", form=form, place=None)


@bp.route("/<int:room_id>/edit", methods=["GET", "POST"])
@login_required
def edit_room(room_id):
    place = managed_place(room_id, writing=False)
    form = RoomForm(obj=place.room)
    if form.validate_on_submit():
        _fill(place.room, form)
        record("room_edited", actor=current_user, room_id=place.room.id)
        db.session.commit()
        flash(_("The room is saved."), "success")
        return redirect(url_for("irooms.room", room_id=place.room.id))
    return render_template("irooms/room_form.html", form=form, place=place, active="overview")


def _fill(target: Room, form: RoomForm) -> None:
    target.name = form.name.data.strip()
    target.description = (form.description.data or "").strip()
    target.language = form.language.data
    target.theme = form.theme.data
    target.region_focus = (form.region_focus.data or "").strip()
    target.ends_on = form.ends_on.data


@bp.post("/<int:room_id>/<any(archive, reopen):action>")
@login_required
def archive_room(room_id, action):
    """Archive a room (read-only, listed apart) or reopen it."""
    place = managed_place(room_id, writing=False)
    if action == "archive" and place.room.archived_at is None:
        place.room.archived_at = utcnow()
        flash(_("The room is archived: members can still read it, nobody can change it."), "info")
    elif action == "reopen" and place.room.archived_at is not None:
        place.room.archived_at = None
        flash(_("The room is open again."), "success")
    else:
        abort(409)
    record(
        "room_archived" if action == "archive" else "room_reopened",
        actor=current_user,
        room_id=room_id,
    )
    db.session.commit()
    return redirect(url_for("irooms.room", room_id=room_id))
