"""Invitations e-mailed to named people: one a host types, or a list pasted or uploaded as CSV and
checked on a preview page before anything is sent.

An invitation sent to an address is kept with it, normalised as accounts keep theirs, and only
the account of that address may use it: by opening the link, or by confirming the address after
registering, with the link or without (``members.claim_invitations``). From a list, the addresses
that have an account are added to the room at once and told (``notices.member_added``); the
others get an invitation.

Sending changes nothing the second time, even twice at once: a room holds one waiting invitation
per address (a partial unique index), a person is a member once (the membership's unique
constraint), and each invitation's e-mail is written once (its outbox key).
"""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from irooms import bp
from irooms.access import managed_place
from irooms.forms import InvitationListForm, PersonInvitationForm, SendListForm
from irooms.labels import ROLE_LABELS
from irooms.members import add_to_room, invitations_page, new_invitation
from irooms.models import ROOM_ROLES, Invitation, Membership, Room
from learnplatform.accounts.models import User
from learnplatform.accounts.services import normalise_email
from learnplatform.accounts.tokens import clean_name
from learnplatform.audit import record, utcnow
from learnplatform.extensions import db
from learnplatform.mail import Addressee, send_mail
from learnplatform.security import upload_quota
from learnplatform.serving import pause

#: people one list may hold
LIST_LIMIT = 500
#: how long a checked list may wait on its preview page before it is sent
PREVIEW_SECONDS = 6 * 3600
#: the longest name kept, as for accounts
NAME_LENGTH = 120

#: what sending the list will do to a row
OUTCOMES = {
    "member": _l("Already a member"),
    "add": _l("Will be added (has an account)"),
    "waiting": _l("Already invited, no answer yet"),
    "invite": _l("Will be invited by e-mail"),
}
#: why a row will be left out
PROBLEMS = {
    "address": _l("Not a valid e-mail address"),
    "duplicate": _l("Already in the list"),
    "role": _l("Unknown role: use host, expert or participant"),
    "name": _l("Name longer than 120 characters"),
    "inactive": _l("The account of this address is deactivated"),
}


@dataclass
class Row:
    """One person of a list: as typed until checked, then with the address normalised and what
    sending will do (a key of ``OUTCOMES``) or why it cannot (a key of ``PROBLEMS``)."""

    name: str
    email: str
    role: str
    outcome: str = ""

    @property
    def problem(self) -> bool:
        return self.outcome in PROBLEMS


class ListRefused(ValueError):
    """The list cannot be read at all; the message says why, to the host."""


# Reading.
_NAME_AND_ADDRESS = re.compile(r"^(?P<name>.*?)<(?P<email>[^<>]*)>\s*$")


def read_pasted(text: str, role: str) -> list[Row]:
    """The people of pasted lines: ``address``, ``Name <address>`` or ``Name, address`` (a
    semicolon or tab, as spreadsheets paste, separates too)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _NAME_AND_ADDRESS.match(line)
        if match:
            name, email = match["name"], match["email"]
        else:
            cut = max(line.rfind(","), line.rfind(";"), line.rfind("\t"))
            name, email = line[: max(cut, 0)], line[cut + 1 :]
            if "@" in name and "@" not in email:  # "address, Name"
                name, email = email, name
        rows.append(Row(name.strip().strip("\"'"), email.strip(), role))
    return rows


def read_csv(data: bytes, role: str) -> list[Row]:
    """The people of a CSV file whose first line names its columns: ``name``, ``email`` (or
    ``e-mail``) and ``role``, which may be missing or empty (``role`` then)."""
    limit = current_app.config["INVITATION_LIST_MAX_BYTES"]
    if len(data) > limit:
        raise ListRefused(_("The file is larger than %(size)d KB.", size=limit // 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\0" in text:
        raise ListRefused(
            _("The file is not a CSV file in UTF-8: save it as “CSV UTF-8” and try again.")
        )
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next((cells for cells in reader if any(cell.strip() for cell in cells)), [])
        columns = [_COLUMNS.get(cell.strip().lower()) for cell in header]
        if "email" not in columns:
            raise ListRefused(
                _(
                    "The first line of the file must name its columns: name, email and role "
                    "(role may be left out)."
                )
            )
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            found = {column: cell for column, cell in zip(columns, cells, strict=False) if column}
            typed_role = found.get("role", "").strip().lower() or role
            rows.append(Row(found.get("name", ""), found.get("email", "").strip(), typed_role))
            if len(rows) > LIST_LIMIT:
                break
    except csv.Error as error:
        raise ListRefused(_("The file could not be read as CSV: %(error)s", error=error)) from None
    return rows


_COLUMNS = {"name": "name", "email": "email", "e-mail": "email", "role": "role"}


def read_list(pasted: str, upload, role: str) -> list[Row]:
    """The people pasted, then those of the uploaded CSV file, if any."""
    rows = read_pasted(pasted or "", role)
    if upload:
        limit = current_app.config["INVITATION_LIST_MAX_BYTES"]
        rows += read_csv(upload.read(limit + 1), role)
    if not rows:
        raise ListRefused(_("Paste at least one address, or choose a CSV file."))
    if len(rows) > LIST_LIMIT:
        raise ListRefused(
            _("A list holds at most %(count)d people: send it in parts.", count=LIST_LIMIT)
        )
    return rows


# Checking.
def check_rows(room_id: int, rows: list[Row]) -> dict[str, User]:
    """Decide what sending will do to each row, against the room as it is now, in three
    queries whatever the number of rows; the accounts of the addresses, by address."""
    seen: set[str] = set()
    for row in rows:
        row.name = clean_name(row.name)
        row.outcome = ""
        if not _is_address(row.email):
            row.outcome = "address"
            continue
        row.email = normalise_email(row.email)
        if row.email in seen:
            row.outcome = "duplicate"
        elif row.role not in ROOM_ROLES:
            row.outcome = "role"
        elif len(row.name) > NAME_LENGTH:
            row.outcome = "name"
        seen.add(row.email)
    addresses = sorted(seen)
    accounts = {
        person.email: person
        for person in db.session.scalars(select(User).where(User.email.in_(addresses)))
    }
    members = set(
        db.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.room_id == room_id, User.email.in_(addresses))
        )
    )
    waiting = set(
        db.session.scalars(
            select(Invitation.email).where(
                Invitation.room_id == room_id,
                Invitation.email.in_(addresses),
                Invitation.revoked_at.is_(None),
                Invitation.uses == 0,
                Invitation.expires_at > utcnow(),
            )
        )
    )
    for row in rows:
        if row.outcome:
            continue
        account = accounts.get(row.email)
        if row.email in members:
            row.outcome = "member"
        elif account is not None:
            row.outcome = "add" if account.active else "inactive"
        else:
            row.outcome = "waiting" if row.email in waiting else "invite"
    return accounts


def _is_address(text: str) -> bool:
    """Whether registration would take ``text`` for an e-mail address."""
    if not text or len(text) > 320:
        return False
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="room-invitation-list")


def signed_list(room_id: int, days: int, rows: list[Row]) -> str:
    """The rows that may be sent, signed for the room: what the preview's button sends back."""
    kept = [[row.name, row.email, row.role] for row in rows if not row.problem]
    return _serializer().dumps({"room": room_id, "days": days, "rows": kept})


def unsigned_list(room_id: int, signed: str) -> tuple[int, list[Row]] | None:
    """The days and rows of a list signed for the room, unless it was changed, is for another
    room or waited too long."""
    try:
        data = _serializer().loads(signed or "", max_age=PREVIEW_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("room") != room_id:
        return None
    return data["days"], [Row(name, email, role) for name, email, role in data["rows"]]


# Sending.
def send_invitation(
    room: Room, *, email: str, name: str, role: str, days: int, actor
) -> Invitation | None:
    """E-mail an invitation to the room to ``email`` (normalised), in the room's language; the
    invitation, or ``None`` when one already waits for that address."""
    now = utcnow()
    # One that expired unanswered no longer waits: the new one takes its place.
    db.session.execute(
        update(Invitation)
        .where(
            Invitation.room_id == room.id,
            Invitation.email == email,
            Invitation.revoked_at.is_(None),
            Invitation.uses == 0,
            Invitation.expires_at <= now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    try:
        with db.session.begin_nested():
            invitation, token = new_invitation(
                room.id, role=role, days=days, actor=actor, email=email, name=name
            )
    except IntegrityError:
        return None
    send_mail(
        Addressee(email, name or email, language=room.language),
        _l("Invitation to %(room)s", room=room.name),
        "room_invitation",
        key=f"room-invitation:{invitation.id}",
        room=room.name,
        role=ROLE_LABELS[role],
        inviter=actor.name,
        link=url_for("irooms.join", token=token, _external=True),
        expires_at=invitation.expires_at,
    )
    return invitation


def send_list(room: Room, rows: list[Row], days: int, actor) -> Counter:
    """Add to the room those of ``rows`` who have an account, and tell them; invite the others by
    e-mail. How many were ``added``, ``invited`` and left ``unchanged``."""
    accounts = check_rows(room.id, rows)
    done: Counter = Counter()
    for row in rows:
        pause()  # some 5 ms a row: the others served meanwhile get their turn
        if row.outcome == "add":
            added = add_to_room(room.id, accounts[row.email], row.role, actor, via="list")
            done["added" if added else "unchanged"] += 1
        elif row.outcome == "invite":
            invitation = send_invitation(
                room, email=row.email, name=row.name, role=row.role, days=days, actor=actor
            )
            done["invited" if invitation else "unchanged"] += 1
        else:
            done["unchanged"] += 1
    record("room_invitation_list_sent", actor=actor, room_id=room.id, **done)
    return done


# Pages.
@bp.post("/<int:room_id>/invitations/email")
@login_required
def invite_person(room_id):
    """E-mail an invitation to one person, named by the host."""
    place = managed_place(room_id)
    form = PersonInvitationForm()
    if not form.validate_on_submit():
        return invitations_page(place, person_form=form)
    row = Row(form.name.data or "", form.email.data, form.role.data)
    check_rows(room_id, [row])
    back = redirect(url_for("irooms.invitations", room_id=room_id))
    if row.outcome == "member":
        flash(_("%(email)s is already a member of the room.", email=row.email), "info")
        return back
    if row.problem:
        flash(f"{row.email}: {PROBLEMS[row.outcome]}", "danger")
        return back
    invitation = send_invitation(
        place.room,
        email=row.email,
        name=row.name,
        role=row.role,
        days=form.days.data,
        actor=current_user,
    )
    if invitation is None:
        flash(
            _("An invitation to %(email)s is already waiting for an answer.", email=row.email),
            "info",
        )
        return back
    db.session.commit()
    flash(_("The invitation is on its way to %(email)s.", email=row.email), "success")
    return back


@bp.post("/<int:room_id>/invitations/list")
@upload_quota
@login_required
def check_invitation_list(room_id):
    """Show what sending a list of people would do to each of them; nothing is sent yet."""
    place = managed_place(room_id)
    form = InvitationListForm()
    if not form.validate_on_submit():
        return invitations_page(place, list_form=form)
    try:
        rows = read_list(form.addresses.data, form.file.data, form.role.data)
    except ListRefused as refused:
        form.form_errors.append(str(refused))
        return invitations_page(place, list_form=form)
    check_rows(room_id, rows)
    counts = Counter(row.outcome for row in rows)
    send_form = SendListForm(formdata=None)
    send_form.checked.data = signed_list(room_id, form.days.data, rows)
    return render_template(
        "irooms/invitation_list.html",
        place=place,
        active="invitations",
        rows=rows,
        counts=counts,
        problems=sum(counts[problem] for problem in PROBLEMS),
        outcomes=OUTCOMES | PROBLEMS,
        send_form=send_form,
    )


@bp.post("/<int:room_id>/invitations/list/send")
@login_required
def send_invitation_list(room_id):
    """Act on a checked list: add the people with an account, invite the others."""
    place = managed_place(room_id)
    form = SendListForm()
    checked = unsigned_list(room_id, form.checked.data) if form.validate_on_submit() else None
    back = redirect(url_for("irooms.invitations", room_id=room_id))
    if checked is None:
        flash(_("This list is too old to be sent: check it again."), "danger")
        return back
    days, rows = checked
    done = send_list(place.room, rows, days, current_user)
    db.session.commit()
    if done["added"]:
        flash(
            ngettext(
                "%(num)d person with an account is now a member of the room.",
                "%(num)d people with an account are now members of the room.",
                done["added"],
            ),
            "success",
        )
    if done["invited"]:
        flash(
            ngettext(
                "%(num)d invitation has been sent by e-mail.",
                "%(num)d invitations have been sent by e-mail.",
                done["invited"],
            ),
            "success",
        )
    if done["unchanged"]:
        flash(
            ngettext(
                "%(num)d person was already a member or invited: nothing changed for them.",
                "%(num)d people were already members or invited: nothing changed for them.",
                done["unchanged"],
            ),
            "info",
        )
    return back
