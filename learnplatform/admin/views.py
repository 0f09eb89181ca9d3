"""Administration pages: accounts and roles, the audit log and its exports, personal API tokens."""

import re
from datetime import date, datetime, time, timedelta

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from learnplatform import numbers
from learnplatform.access import administrator_required
from learnplatform.accounts import services
from learnplatform.accounts.forms import ActivationForm, RoleForm
from learnplatform.accounts.models import ApiToken, User
from learnplatform.accounts.tokens import create_token, revoke_token
from learnplatform.admin import bp
from learnplatform.admin.forms import ApiTokenForm, RevokeTokenForm
from learnplatform.audit import AuditEvent, record, utcnow
from learnplatform.choices import AGENCY_TYPES, ROLES, country_choices, country_name
from learnplatform.exports import table_response
from learnplatform.extensions import db
from learnplatform.search import matching_every_word

PAGE_SIZE = 25
#: the download formats of the audit log, in the order the page offers them
EXPORT_FORMATS = {"csv": "CSV", "xlsx": "Excel", "json": "JSON"}
#: how the audit log's date filters are written, as date fields send them
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: the session key holding a token just made, until the page that follows shows it once
NEW_TOKEN_KEY = "new_api_token"  # noqa: S105  (a session key, not a secret)


@bp.get("/users")
@administrator_required
def users():
    """Accounts, searched by name, e-mail or organisation and filtered by role, status, country
    and agency type; a filter value that is not in its list is named and left out."""
    words = request.args.get("q", "").strip()[:200]
    lists = {
        "role": (_("Role"), ROLES),
        "status": (_("Status"), {"active": _("Active"), "inactive": _("Deactivated")}),
        "country": (_("Country"), dict(country_choices())),
        "agency_type": (_("Agency type"), AGENCY_TYPES),
    }
    chosen, problems = {}, []
    for name, (label, allowed) in lists.items():
        value = request.args.get(name, "")
        if value in allowed:
            chosen[name] = value
        elif value:
            problems.append(
                _(
                    "%(filter)s: “%(value)s” is not in the list, so the accounts are not "
                    "filtered by it.",
                    filter=label,
                    value=value[:40],
                )
            )
    query = select(User).where(
        *matching_every_word(words, User.name, User.email, User.organisation)
    )
    if "role" in chosen:
        query = query.where(User.role == chosen["role"])
    if "status" in chosen:
        query = query.where(User.active.is_(chosen["status"] == "active"))
    if "country" in chosen:
        query = query.where(User.country == chosen["country"])
    if "agency_type" in chosen:
        query = query.where(User.agency_type == chosen["agency_type"])
    page = db.paginate(query.order_by(User.name, User.id), per_page=PAGE_SIZE, max_per_page=100)
    return render_template(
        "admin/users.html",
        page=page,
        words=words,
        chosen=chosen,
        lists={name: allowed for name, (_label, allowed) in lists.items()},
        problems=problems,
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


def _day(text: str) -> date | None:
    """The date written ``2026-03-14`` (as date fields send it), or ``None``."""
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def _audit_filters() -> tuple[dict[str, str], list, list[str]]:
    """The audit-log filters asked for in the address: the non-empty ones, the conditions they
    make, and a message for each one that cannot be used (such conditions are left out)."""
    asked = {
        "action": request.args.get("action", "").strip()[:64],
        "user": request.args.get("user", "").strip()[:200],
        "from": request.args.get("from", "").strip()[:40],
        "to": request.args.get("to", "").strip()[:40],
    }
    filters = {key: value for key, value in asked.items() if value}
    conditions, problems = [], []
    if "action" in filters:
        conditions.append(AuditEvent.action == filters["action"])
    if "user" in filters:
        people = (
            select(User.id)
            .where(*matching_every_word(filters["user"], User.email, User.name))
            .correlate(None)
        )
        conditions.append(or_(AuditEvent.user_id.in_(people), AuditEvent.actor_id.in_(people)))
    days: dict[str, date] = {}
    for key, label in (("from", _("From")), ("to", _("To"))):
        if key not in filters:
            continue
        day = _day(filters[key])
        if day is None:
            problems.append(
                _(
                    "%(field)s: “%(value)s” is not a date; use the form 2026-03-14.",
                    field=label,
                    value=filters[key],
                )
            )
        else:
            days[key] = day
    if "from" in days and "to" in days and days["from"] > days["to"]:
        problems.append(_("The “from” date is after the “to” date; choose dates in order."))
        days.clear()
    if "from" in days:
        conditions.append(AuditEvent.created_at >= datetime.combine(days["from"], time.min))
    if "to" in days and days["to"] < date.max:  # the dates are inclusive
        end = datetime.combine(days["to"] + timedelta(days=1), time.min)
        conditions.append(AuditEvent.created_at < end)
    return filters, conditions, problems


@bp.get("/audit")
@administrator_required
def audit_log():
    """Security events, newest first, filtered by action, person and dates (UTC), paged by id so
    that paging stays cheap; links download the filtered log."""
    filters, conditions, problems = _audit_filters()
    before = request.args.get("before", type=numbers.parse)
    query = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.user), selectinload(AuditEvent.actor))
        .where(*conditions)
    )
    if before:
        query = query.where(AuditEvent.id < before)
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)).all()
    actions = db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    ).all()
    return render_template(
        "admin/audit.html",
        events=events[:PAGE_SIZE],
        more=len(events) > PAGE_SIZE,
        before=before,
        filters=filters,
        problems=problems,
        actions={action: action for action in actions},
        formats=EXPORT_FORMATS,
    )


@bp.get("/audit/export.<any(csv, xlsx, json):fmt>")
@administrator_required
def audit_export(fmt):
    """The audit log with the page's filters, newest first, as a file streamed row by row; the
    export is itself an audit event. Filters that cannot be used export nothing."""
    filters, conditions, problems = _audit_filters()
    if problems:
        flash(_("Nothing was exported: correct the filters first."), "danger")
        return redirect(url_for("admin.audit_log", **filters))
    record("audit_exported", actor=current_user, format=fmt, filters=filters)
    db.session.commit()
    person, actor = aliased(User), aliased(User)
    query = (
        select(
            AuditEvent.id,
            AuditEvent.created_at,
            AuditEvent.action,
            person.email,
            actor.email,
            AuditEvent.address,
            AuditEvent.detail,
        )
        .outerjoin(person, person.id == AuditEvent.user_id)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .execution_options(yield_per=1000)
    )

    def rows():
        # Read while the file is sent, after the commit above: on PostgreSQL the rows come from
        # a server-side cursor that a commit would close.
        yield from db.session.execute(query)

    header = [
        _("ID"),
        _("Time (UTC)"),
        _("Action"),
        _("User e-mail"),
        _("Actor e-mail"),
        _("Address"),
        _("Details"),
    ]
    keys = ["id", "time", "action", "user_email", "actor_email", "address", "details"]
    response = table_response(fmt, f"audit-log-{utcnow():%Y-%m-%d}", header, rows(), keys)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Personal API tokens: each administrator sees and manages only their own.
@bp.route("/tokens", methods=["GET", "POST"])
@administrator_required
def tokens():
    """The administrator's own API tokens and the form that makes one; a new token is shown
    once, on the page that follows its creation."""
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            token, raw = create_token(
                current_user, form.name.data, current_user, form_key=form.form_key.data
            )
            db.session.commit()
        except IntegrityError:  # this form was sent before: a double click
            db.session.rollback()
            flash(
                _(
                    "This form was sent twice; the first sending made the token and this one "
                    "made nothing. If you could not copy the token, revoke it and make another."
                ),
                "warning",
            )
            return redirect(url_for("admin.tokens"))
        session[NEW_TOKEN_KEY] = {"name": token.name, "token": raw}
        return redirect(url_for("admin.tokens"))
    new_token = session.pop(NEW_TOKEN_KEY, None) if request.method == "GET" else None
    mine = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    response = make_response(
        render_template(
            "admin/tokens.html",
            form=form,
            tokens=mine,
            new_token=new_token,
            revoke_form=RevokeTokenForm(),
        )
    )
    response.headers["Cache-Control"] = "private, no-store"  # the new token is on this page
    return response


@bp.post("/tokens/<int:token_id>/revoke")
@administrator_required
def revoke(token_id):
    """Revoke one of one's own tokens: the next API call made with it is refused."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if RevokeTokenForm().validate_on_submit():
        if revoke_token(token, current_user):
            db.session.commit()
            flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
        else:
            flash(_("The token “%(name)s” was already revoked.", name=token.name), "info")
    return redirect(url_for("admin.tokens"))
