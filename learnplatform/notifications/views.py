"""The notification centre, the e-mail preferences, and one-click unsubscribing."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from learnplatform import numbers
from learnplatform.accounts.models import User
from learnplatform.audit import record
from learnplatform.extensions import csrf, db
from learnplatform.notifications import bp
from learnplatform.notifications.kinds import KINDS, sentence
from learnplatform.notifications.models import DELIVERIES, Notification
from learnplatform.notifications.services import (
    PAGE_SIZE,
    choices_of,
    mark_read,
    read_unsubscribe_token,
    set_preference,
    unread_count,
)


@bp.get("/")
@login_required
def centre():
    """The person's notifications, newest first, ``PAGE_SIZE`` a page; older ones by key
    (``?before=<id>``), so that the thousandth page costs what the first does."""
    before = numbers.from_text(request.args.get("before"))
    query = select(Notification).where(Notification.user_id == current_user.id)
    if before is not None:
        query = query.where(Notification.id < before)
    rows = db.session.scalars(query.order_by(Notification.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template(
        "notifications/centre.html",
        items=[(row, sentence(row.kind, row.params)) for row in rows],
        older=rows[-1].id if more else None,
        unread=unread_count(current_user.id),
    )


@bp.get("/<int:notification_id>")
@login_required
def open_notification(notification_id):
    """Follow a notification to its page, marking it read."""
    found = _own(notification_id)
    mark_read(current_user.id, found.id)
    db.session.commit()
    target = found.url if found.url.startswith("/") and not found.url.startswith("//") else "/"
    return redirect(target)


@bp.post("/<int:notification_id>/read")
@login_required
def read_one(notification_id):
    mark_read(current_user.id, _own(notification_id).id)
    db.session.commit()
    return redirect(url_for("notifications.centre"))


def _own(notification_id: int) -> Notification:
    """One of the current person's notifications; 404 for anyone else's, as for none."""
    found = db.session.get(Notification, notification_id)
    if found is None or found.user_id != current_user.id:
        abort(404)
    return found


@bp.post("/read")
@login_required
def read_all():
    changed = mark_read(current_user.id)
    db.session.commit()
    if changed:
        flash(_("All your notifications are marked as read."), "success")
    return redirect(url_for("notifications.centre"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """Per kind: e-mail at once, in the daily digest, or not at all."""
    if request.method == "POST":
        wanted = {kind: request.form.get(kind) for kind in KINDS}
        if any(value not in DELIVERIES for value in wanted.values()):
            flash(_("Choose one of the three answers for each kind of notification."), "danger")
            return redirect(url_for("notifications.preferences"))
        changed = [
            kind
            for kind, delivery in wanted.items()
            if set_preference(current_user.id, kind, delivery)
        ]
        if changed:
            record(
                "notification_preferences_changed",
                actor=current_user,
                user=current_user,
                kinds={kind: wanted[kind] for kind in changed},
            )
        db.session.commit()
        flash(_("Your preferences are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    groups: dict = {}
    for kind, spec in KINDS.items():
        groups.setdefault(str(spec.group), []).append((kind, spec))
    return render_template(
        "notifications/preferences.html", groups=groups, chosen=choices_of(current_user.id)
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail programs post here with the token alone (RFC 8058); the token is the proof
def unsubscribe(token):
    """Stop e-mails of one kind: a page with a button, or a mail program's one-click POST."""
    found = read_unsubscribe_token(token[:300])
    person = db.session.get(User, found[0]) if found else None
    if person is None:
        abort(404)
    kind = found[1]
    if request.method == "POST":
        if set_preference(person.id, kind, "off"):
            record("notification_unsubscribed", user=person, kind=kind)
        db.session.commit()
        return render_template("notifications/unsubscribed.html", kind=KINDS[kind])
    return render_template("notifications/unsubscribe.html", kind=KINDS[kind], token=token)
