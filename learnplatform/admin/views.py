"""Administration pages: thin views over the account services."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from learnplatform.access import administrator_required
from learnplatform.accounts import services
from learnplatform.accounts.forms import ActivationForm, RoleForm
from learnplatform.accounts.models import User
from learnplatform.admin import bp
from learnplatform.audit import AuditEvent
from learnplatform.choices import AGENCY_TYPES, ROLES, country_name
from learnplatform.extensions import db

PAGE_SIZE = 25


@bp.get("/users")
@administrator_required
def users():
    """Accounts, searchable by name, e-mail or organisation and filtered by role and status."""
    words = request.args.get("q", "").strip()[:200]
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    query = select(User)
    if words:
        pattern = (
            "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            or_(
                User.email.like(pattern, escape="\\"),
                User.name.ilike(pattern, escape="\\"),
                User.organisation.ilike(pattern, escape="\\"),
            )
        )
    if role in ROLES:
        query = query.where(User.role == role)
    if status in {"active", "inactive"}:
        query = query.where(User.active.is_(status == "active"))
    page = db.paginate(query.order_by(User.name, User.id), per_page=PAGE_SIZE, max_per_page=100)
    return render_template(
        "admin/users.html",
        page=page,
        words=words,
        role=role,
        status=status,
        roles=ROLES,
        agency_types=AGENCY_TYPES,
        country_name=country_name,
    )


def _target(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/<int:user_id>")
@administrator_required
def user(user_id):
    """One account: profile, role, status and recent security events."""
    target = _target(user_id)
    events = db.session.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .where(AuditEvent.user_id == target.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "admin/user.html",
        target=target,
        events=events,
        role_form=RoleForm(role=target.role),
        activation_form=ActivationForm(),
        roles=ROLES,
        agency_types=AGENCY_TYPES,
        country_name=country_name,
    )


@bp.post("/users/<int:user_id>/role")
@administrator_required
def change_role(user_id):
    """Give an account another platform role."""
    target = _target(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "danger")
    elif target.id == current_user.id and form.role.data != "administrator":
        flash(_("You cannot remove your own administrator role."), "danger")
    else:
        services.set_role(target, form.role.data, actor=current_user)
        db.session.commit()
        flash(
            _("The role of %(name)s is now %(role)s.", name=target.name, role=ROLES[target.role]),
            "success",
        )
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<int:user_id>/<any(deactivate, reactivate):action>")
@administrator_required
def set_active(user_id, action):
    """Deactivate an account (every session ends at once) or reactivate it."""
    target = _target(user_id)
    if ActivationForm().validate_on_submit():
        if target.id == current_user.id:
            flash(_("You cannot deactivate your own account."), "danger")
        else:
            services.set_active(target, action == "reactivate", actor=current_user)
            db.session.commit()
            if target.active:
                flash(_("%(name)s can log in again.", name=target.name), "success")
            else:
                flash(
                    _("%(name)s has been deactivated and logged out everywhere.", name=target.name),
                    "success",
                )
    return redirect(url_for("admin.user", user_id=target.id))


@bp.get("/audit")
@administrator_required
def audit_log():
    """The most recent security events, newest first, paged by id so that paging stays cheap."""
    before = request.args.get("before", type=int)
    query = select(AuditEvent).options(
        selectinload(AuditEvent.user), selectinload(AuditEvent.actor)
    )
    if before:
        query = query.where(AuditEvent.id < before)
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(events) > PAGE_SIZE
    return render_template("admin/audit.html", events=events[:PAGE_SIZE], more=more)
