"""Who is in a room: members, their roles, and invitation links.

An invitation's token is random, shown once when it is created, and kept only as its SHA-256.
Joining counts a use with a conditional UPDATE in the same transaction as the membership, so
that two people opening a one-use link at once cannot both join, and one person opening it in
two tabs joins once and uses it once.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from irooms import bp, notices
from irooms.access import is_read_only, managed_place, place_in
from irooms.chat import close_room_connections
from irooms.forms import AddMemberForm, InvitationForm
from irooms.labels import ROLE_LABELS
from irooms.models import Invitation, Membership
from irooms.sections import room_section
from learnplatform.accounts.models import User
from learnplatform.audit import record, utcnow
from learnplatform.extensions import db

room_section("members", _l("Members"), "irooms.members")
room_section("invitations", _l("Invitations"), "irooms.invitations", managers_only=True)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Members.
@bp.get("/<int:room_id>/members")
@login_required
def members(room_id):
    """The room's members by role; hosts also add, change and remove them here."""
    place = place_in(room_id)
    rows = db.session.scalars(
        select(Membership)
        .where(Membership.room_id == place.room.id)
        .options(joinedload(Membership.user))
        .join(Membership.user)
        .order_by(Membership.role, User.name)
    ).all()
    return render_template(
        "irooms/members.html",
        place=place,
        active="members",
        rows=rows,
        form=AddMemberForm(),
        role_choices=list(ROLE_LABELS.items()),
    )


@bp.post("/<int:room_id>/members")
@login_required
def add_member(room_id):
    """Add an existing account, found by its e-mail address or its exact name."""
    managed_place(room_id)
    form = AddMemberForm()
    back = redirect(url_for("irooms.members", room_id=room_id))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return back
    who = form.who.data.strip()
    found = db.session.scalars(
        select(User)
        .where(or_(func.lower(User.email) == who.lower(), func.lower(User.name) == who.lower()))
        .limit(2)
    ).all()
    if not found:
        flash(
            _("No account has this name or e-mail address. Send an invitation link instead."),
            "danger",
        )
        return back
    if len(found) > 1:
        flash(_("Several accounts have this name: add the person by e-mail address."), "danger")
        return back
    person = found[0]
    membership = Membership(room_id=room_id, user_id=person.id, role=form.role.data)
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        flash(_("%(name)s is already a member.", name=person.name), "info")
        return back
    record(
        "room_member_added", actor=current_user, user=person, room_id=room_id, role=form.role.data
    )
    notices.member_added(membership, current_user)
    db.session.commit()
    flash(_("%(name)s is now a member of the room.", name=person.name), "success")
    return back


@bp.post("/<int:room_id>/members/<int:membership_id>/role")
@login_required
def change_role(room_id, membership_id):
    place = managed_place(room_id)
    membership = _membership_in(place.room.id, membership_id)
    role = request.form.get("role", "")
    if role not in ROLE_LABELS:
        abort(400)
    if membership.role == "host" and role != "host" and _hosts(place.room.id) == 1:
        flash(_("A room keeps at least one host: make someone else host first."), "danger")
        return redirect(url_for("irooms.members", room_id=room_id))
    record(
        "room_member_role_changed",
        actor=current_user,
        user=membership.user,
        room_id=room_id,
        before=membership.role,
        after=role,
    )
    membership.role = role
    db.session.commit()
    flash(
        _("%(name)s is now %(role)s.", name=membership.user.name, role=ROLE_LABELS[role].lower()),
        "success",
    )
    return redirect(url_for("irooms.members", room_id=room_id))


@bp.post("/<int:room_id>/members/<int:membership_id>/remove")
@login_required
def remove_member(room_id, membership_id):
    """Remove a member: their next request to the room is refused."""
    place = managed_place(room_id)
    membership = _membership_in(place.room.id, membership_id)
    if membership.role == "host" and _hosts(place.room.id) == 1:
        flash(_("A room keeps at least one host: make someone else host first."), "danger")
        return redirect(url_for("irooms.members", room_id=room_id))
    person = membership.user
    db.session.delete(membership)
    record("room_member_removed", actor=current_user, user=person, room_id=room_id)
    db.session.commit()
    close_room_connections(room_id, person.id)
    flash(_("%(name)s is no longer a member of the room.", name=person.name), "info")
    return redirect(url_for("irooms.members", room_id=room_id))


def _membership_in(room_id: int, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.room_id != room_id:
        abort(404)
    return membership


def _hosts(room_id: int) -> int:
    return db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.room_id == room_id, Membership.role == "host"
        )
    )


# Invitations.
@bp.route("/<int:room_id>/invitations", methods=["GET", "POST"])
@login_required
def invitations(room_id):
    """The room's invitation links; a new one is shown once, on the page that creates it."""
    place = managed_place(room_id, writing=request.method == "POST")
    form = InvitationForm()
    link = None
    if form.validate_on_submit():
        token = secrets.token_urlsafe(32)
        invitation = Invitation(
            room_id=room_id,
            token_hash=token_hash(token),
            role=form.role.data,
            expires_at=utcnow() + timedelta(days=form.days.data),
            max_uses=form.max_uses.data,
            note=(form.note.data or "").strip(),
            created_by_id=current_user.id,
        )
        db.session.add(invitation)
        db.session.flush()
        record(
            "room_invitation_created",
            actor=current_user,
            room_id=room_id,
            invitation_id=invitation.id,
        )
        db.session.commit()
        link = url_for("irooms.join", token=token, _external=True)
        form = InvitationForm(formdata=None)
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.room_id == room_id)
        .options(joinedload(Invitation.created_by))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return render_template(
        "irooms/invitations.html",
        place=place,
        active="invitations",
        form=form,
        rows=rows,
        link=link,
        now=utcnow(),
    )


@bp.post("/<int:room_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(room_id, invitation_id):
    managed_place(room_id, writing=False)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.room_id != room_id:
        abort(404)
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        record(
            "room_invitation_revoked",
            actor=current_user,
            room_id=room_id,
            invitation_id=invitation.id,
        )
        db.session.commit()
    flash(_("The link no longer works."), "info")
    return redirect(url_for("irooms.invitations", room_id=room_id))


@bp.get("/join/<token>")
def join(token):
    """Open an invitation link: visitors log in or register first, members go to the room."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token[:100]))
    )
    if invitation is None:
        return render_template("irooms/invitation_refused.html", reason="unknown"), 404
    refusal = _refusal(invitation)
    if refusal:
        return render_template(
            "irooms/invitation_refused.html", reason=refusal, invitation=invitation
        ), 410
    if not current_user.is_authenticated:
        here = url_for("irooms.join", token=token)
        return render_template(
            "irooms/invitation_visitor.html",
            invitation=invitation,
            role=ROLE_LABELS[invitation.role],
            login_url=url_for("accounts.login", next=here),
            register_url=url_for("accounts.register", next=here),
        )
    room_url = url_for("irooms.room", room_id=invitation.room_id)
    already = db.session.scalar(
        select(Membership.id).where(
            Membership.room_id == invitation.room_id, Membership.user_id == current_user.id
        )
    )
    if already:
        flash(_("You are already a member of this room."), "info")
        return redirect(room_url)
    now = utcnow()
    counted = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.uses < Invitation.max_uses,
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(uses=Invitation.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        db.session.rollback()
        return render_template(
            "irooms/invitation_refused.html", reason="used_up", invitation=invitation
        ), 410
    try:
        with db.session.begin_nested():
            db.session.add(
                Membership(
                    room_id=invitation.room_id, user_id=current_user.id, role=invitation.role
                )
            )
    except IntegrityError:
        db.session.rollback()  # joined a moment ago from another tab: the use is given back
        flash(_("You are already a member of this room."), "info")
        return redirect(room_url)
    record(
        "room_invitation_used",
        actor=current_user,
        user=current_user,
        room_id=invitation.room_id,
        invitation_id=invitation.id,
        role=invitation.role,
    )
    db.session.commit()
    flash(_("Welcome to %(room)s.", room=invitation.room.name), "success")
    return redirect(room_url)


def _refusal(invitation: Invitation) -> str | None:
    """Why the link no longer works: ``revoked``, ``expired``, ``used_up``, ``closed`` (the room
    is archived or has ended), or ``None``."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= utcnow():
        return "expired"
    if invitation.uses >= invitation.max_uses:
        return "used_up"
    if is_read_only(invitation.room):
        return "closed"
    return None
