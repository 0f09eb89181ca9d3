"""Who is in a room: members, their roles, and invitation links.

An invitation's token is random, shown once when it is created, and kept only as its SHA-256.
Joining counts a use with a conditional UPDATE in the same transaction as the membership, so
that two people opening a one-use link at once cannot both join, and one person opening it in
two tabs joins once and uses it once.

A visitor who registers through a link has it kept with the new account, and joins when the
address is confirmed, in whichever browser or device: the same admission as opening the link,
so that its limits hold and nothing is counted twice. Invitations e-mailed to an address
(irooms.email_invitations) are claimed then too, by the account that confirms that address.
"""

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException

from irooms import bp, notices
from irooms.access import is_read_only, managed_place, place_in
from irooms.chat import close_room_connections
from irooms.directory import room_directory
from irooms.forms import AddMemberForm, InvitationForm, InvitationListForm, PersonInvitationForm
from irooms.labels import ROLE_LABELS
from irooms.models import HeldInvitation, Invitation, Membership
from irooms.sections import room_section
from learnplatform.accounts.models import User
from learnplatform.accounts.services import Welcome, address_proven, registered
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
    """The room's member directory, filtered by country and expertise: each member's name, role
    and what they chose to show; hosts also add, change and remove members here."""
    place = place_in(room_id)
    country = request.args.get("country", "")
    expertise = request.args.get("expertise", "").strip()
    return render_template(
        "irooms/members.html",
        place=place,
        active="members",
        directory=room_directory(place.room.id, country=country, expertise=expertise),
        chosen={"country": country, "expertise": expertise},
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
    if add_to_room(room_id, person, form.role.data, current_user) is None:
        flash(_("%(name)s is already a member.", name=person.name), "info")
        return back
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


def add_to_room(room_id: int, person: User, role: str, actor, **detail) -> Membership | None:
    """Make ``person`` a member of the room with ``role`` and tell them; ``None`` if they are
    one already (``detail`` goes to the audit log)."""
    membership = Membership(room_id=room_id, user_id=person.id, role=role)
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        return None
    record("room_member_added", actor=actor, user=person, room_id=room_id, role=role, **detail)
    notices.member_added(membership, actor)
    return membership


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
    """The room's invitations; a new link is shown once, on the page that creates it."""
    place = managed_place(room_id, writing=request.method == "POST")
    form = InvitationForm()
    if not form.validate_on_submit():
        return invitations_page(place, form=form)
    _invitation, token = new_invitation(
        room_id,
        role=form.role.data,
        days=form.days.data,
        max_uses=form.max_uses.data,
        note=(form.note.data or "").strip(),
        actor=current_user,
    )
    db.session.commit()
    return invitations_page(place, link=url_for("irooms.join", token=token, _external=True))


def invitations_page(place, *, form=None, person_form=None, list_form=None, link=None):
    """The Invitations page of a room, with the forms given (those sent back with errors) and
    the others empty."""
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.room_id == place.room.id)
        .options(joinedload(Invitation.created_by))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return render_template(
        "irooms/invitations.html",
        place=place,
        active="invitations",
        form=form or InvitationForm(formdata=None),
        person_form=person_form or PersonInvitationForm(formdata=None),
        list_form=list_form or InvitationListForm(formdata=None),
        rows=rows,
        link=link,
        now=utcnow(),
    )


def new_invitation(
    room_id: int,
    *,
    role: str,
    days: int,
    actor,
    max_uses: int = 1,
    note: str = "",
    email: str | None = None,
    name: str = "",
) -> tuple[Invitation, str]:
    """Create an invitation to the room, valid ``days`` days, and flush it: the invitation and
    its token, which exists nowhere else (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        room_id=room_id,
        token_hash=token_hash(token),
        role=role,
        expires_at=utcnow() + timedelta(days=days),
        max_uses=max_uses,
        note=note,
        email=email,
        name=name,
        created_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    record("room_invitation_created", actor=actor, room_id=room_id, invitation_id=invitation.id)
    return invitation, token


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
    """Open an invitation link: visitors log in or register first, members go to the room. An
    invitation sent to an address opens only for the account of that address."""
    invitation = _invitation_of(token)
    if invitation is None:
        return render_template("irooms/invitation_refused.html", reason="unknown"), 404
    if not current_user.is_authenticated:
        refusal = _refusal(invitation)
        if refusal:
            return _refused(invitation, refusal)
        here = url_for("irooms.join", token=token)
        return render_template(
            "irooms/invitation_visitor.html",
            invitation=invitation,
            role=ROLE_LABELS[invitation.role],
            addressed_to=masked(invitation.email),
            login_url=url_for("accounts.login", next=here),
            register_url=url_for("accounts.register", next=here),
        )
    room_url = url_for("irooms.room", room_id=invitation.room_id)
    outcome = admit(invitation, current_user)
    if outcome == "member":
        flash(_("You are already a member of this room."), "info")
        return redirect(room_url)
    if outcome == "addressed":
        record(
            "room_invitation_refused",
            user=current_user,
            log=True,
            room_id=invitation.room_id,
            invitation_id=invitation.id,
            reason=outcome,
        )
        db.session.commit()
    if outcome != "joined":
        return _refused(invitation, outcome)
    db.session.commit()
    flash(_("Welcome to %(room)s.", room=invitation.room.name), "success")
    return redirect(room_url)


def _invitation_of(token: str) -> Invitation | None:
    return db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token[:100]))
    )


def _refused(invitation: Invitation, reason: str):
    """The page saying why an invitation cannot be used: 403 when it belongs to someone else,
    410 when it no longer works."""
    page = render_template(
        "irooms/invitation_refused.html",
        reason=reason,
        invitation=invitation,
        addressed_to=masked(invitation.email),
    )
    return page, 403 if reason == "addressed" else 410


def masked(email: str | None) -> str | None:
    """An address shown to whoever holds a link sent to it: enough for its owner to recognise,
    ``a•••@example.org``."""
    if not email:
        return None
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def admit(invitation: Invitation, person: User) -> str:
    """Make ``person`` a member of the invitation's room, with its role, counting one use:
    ``joined``; ``member`` when they are one already (no use is counted); otherwise why not:
    ``addressed`` (sent to another address) or a reason of ``_refusal``.

    The use is counted by a conditional UPDATE in one savepoint with the membership: two people
    at once cannot pass the limit, and one person twice at once is counted once.
    """
    if db.session.scalar(
        select(Membership.id).where(
            Membership.room_id == invitation.room_id, Membership.user_id == person.id
        )
    ):
        return "member"
    if invitation.email is not None and invitation.email != person.email:
        return "addressed"
    refusal = _refusal(invitation)
    if refusal:
        return refusal
    try:
        with db.session.begin_nested():
            counted = db.session.execute(
                update(Invitation)
                .where(
                    Invitation.id == invitation.id,
                    Invitation.uses < Invitation.max_uses,
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > utcnow(),
                )
                .values(uses=Invitation.uses + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if counted:
                db.session.add(
                    Membership(room_id=invitation.room_id, user_id=person.id, role=invitation.role)
                )
    except IntegrityError:
        return "member"  # joined a moment ago from another tab: the use is given back
    if not counted:
        return "used_up"
    record(
        "room_invitation_used",
        actor=person,
        user=person,
        room_id=invitation.room_id,
        invitation_id=invitation.id,
        role=invitation.role,
    )
    return "joined"


@registered.connect
def hold_invitation(sender, *, user: User, next_url: str | None = None, **extra) -> None:
    """Keep the invitation link a visitor registered through with their new account, so that
    confirming the address makes them a member wherever they confirm it (the link itself waits
    only in the browser they registered in)."""
    token = _join_token(next_url)
    invitation = _invitation_of(token) if token else None
    # One sent to an address waits for that address anyway, whoever registers with it. One that
    # no longer works is kept too: the confirmation says so.
    if invitation is not None and invitation.email is None:
        db.session.add(HeldInvitation(user_id=user.id, invitation_id=invitation.id))


def _join_token(path: str | None) -> str | None:
    """The token of an invitation link given as a path on the platform, if it is one."""
    try:
        endpoint, values = current_app.url_map.bind("").match(urlsplit(path or "").path)
    except HTTPException:  # not a page of the platform, or one that redirects
        return None
    return values["token"] if endpoint == "irooms.join" else None


@address_proven.connect
def claim_invitations(sender, *, user: User, **extra) -> list[Welcome]:
    """Make ``user``, whose address was just proven, a member of the rooms waiting for it: the
    links they registered through and the invitations e-mailed to their address, each admitted
    as when its link is opened. What to tell them, room by room."""
    held = select(HeldInvitation.invitation_id).where(HeldInvitation.user_id == user.id)
    sent_to_them = and_(
        Invitation.email == user.email,
        Invitation.revoked_at.is_(None),
        Invitation.uses < Invitation.max_uses,
        Invitation.expires_at > utcnow(),
    )
    waiting = db.session.scalars(
        select(Invitation)
        .where(or_(Invitation.id.in_(held), sent_to_them))
        .options(joinedload(Invitation.room))
        .order_by(Invitation.id)
    ).all()
    db.session.execute(delete(HeldInvitation).where(HeldInvitation.user_id == user.id))
    welcomes = []
    for invitation in waiting:
        outcome = admit(invitation, user)
        room = invitation.room
        if outcome == "joined":
            welcomes.append(
                Welcome(
                    _("You are now a member of %(room)s.", room=room.name),
                    url=url_for("irooms.room", room_id=room.id),
                )
            )
        elif outcome != "member":
            welcomes.append(
                Welcome(
                    _(
                        "Your invitation to %(room)s can no longer be used: ask the room's "
                        "hosts for a new one.",
                        room=room.name,
                    ),
                    "warning",
                )
            )
    return welcomes


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
