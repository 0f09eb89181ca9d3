"""Account pages: thin views that validate, call a service and respond."""

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learnplatform import audit
from learnplatform.accounts import bp, services
from learnplatform.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from learnplatform.accounts.models import DIRECTORY_FIELDS
from learnplatform.calendars import feeds as calendar_feeds
from learnplatform.extensions import db, limiter
from learnplatform.network import client_address, safe_next_url
from learnplatform.passwords import verify_password


def _submitted_email() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))[:320]


def _attempt_failed(response) -> bool:
    return bool(g.get("login_failed"))


def _log_throttled(limit) -> None:
    audit.log_security_event(
        "login.throttled", email=request.form.get("email", ""), limit=str(limit.limit)
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_submitted_email,
    methods=["POST"],
    deduct_when=_attempt_failed,
    on_breach=_log_throttled,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=client_address,
    methods=["POST"],
    deduct_when=_attempt_failed,
    on_breach=_log_throttled,
    scope="login-address",
)
def login():
    """Log in with e-mail address and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.LoginRefused as refused:
            g.login_failed = True
            audit.record(
                "login.failure",
                user=refused.user,
                log=True,
                email=form.email.data,
                reason=refused.reason,
            )
            if refused.reason == "email not confirmed":
                services.send_confirmation(refused.user)
                form.form_errors.append(
                    _("Confirm your e-mail address first: we have sent a new link to it.")
                )
            elif refused.reason == "account deactivated":
                form.form_errors.append(
                    _("This account has been deactivated. Contact an administrator.")
                )
            else:
                form.form_errors.append(_("The e-mail address or the password is not right."))
            db.session.commit()
            return render_template("accounts/login.html", form=form)
        services.start_session(user)
        audit.record("login.success", user=user)
        db.session.commit()
        return redirect(safe_next_url(request.args.get("next")) or url_for("main.home"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    """End this browser's session, here and on the server."""
    if current_user.is_authenticated:
        audit.record("logout", user=current_user)
    services.end_current_session()
    db.session.commit()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


#: What a person may change on their own profile.
PROFILE_FIELDS = (
    "name",
    "country",
    "organisation",
    "agency_type",
    "gender",
    "language",
    "time_zone",
    "expertise",
    "languages_spoken",
)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MAIL_LIMIT_PER_ADDRESS"], methods=["POST"])
def register():
    """Create an account; the confirmation link arrives by e-mail."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        # Where to go after the first login (an iRoom invitation): kept in this browser's
        # session, which lasts until the login that follows the confirmation.
        after = safe_next_url(request.args.get("next"))
        if after:
            session["after_first_login"] = after
        services.register(
            services.Registration(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                country=form.country.data,
                organisation=form.organisation.data or "",
                agency_type=form.agency_type.data,
                gender=form.gender.data,
                language=form.language.data,
                time_zone=form.time_zone.data,
                next_url=after,
            )
        )
        db.session.commit()
        return redirect(url_for("accounts.check_email"))
    return render_template("accounts/register.html", form=form)


@bp.get("/register/check-email")
def check_email():
    """Tell the person to look for the confirmation e-mail."""
    return render_template("accounts/check_email.html")


@bp.get("/confirm/<token>")
def confirm_email(token):
    """Confirm an address with the link from the e-mail; what waited for it is handed over."""
    user = services.confirm_email(token)
    welcomes = services.hand_over(user) if user is not None else []
    db.session.commit()
    if user is None:
        return render_template("accounts/token_refused.html", purpose="confirm_email"), 410
    flash(_("Your e-mail address is confirmed. You can log in now."), "success")
    # Where the person was going: kept by the browser that registered, else carried by the link
    # (opened in another browser: the phone that reads the e-mail). When what waited for the
    # address was handed over (an iRoom invitation), its welcome says where to go instead.
    after = session.pop("after_first_login", None) or safe_next_url(request.args.get("next"))
    return redirect(
        url_for("accounts.login", next=_welcome(welcomes) or (None if welcomes else after))
    )


def _welcome(welcomes: list[services.Welcome]) -> str | None:
    """Tell the person what their proven address was handed; the first page it leads to."""
    for welcome in welcomes:
        flash(welcome.message, welcome.category)
    return next((welcome.url for welcome in welcomes if welcome.url), None)


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MAIL_LIMIT_PER_ADDRESS"], methods=["POST"])
def request_reset():
    """Ask for a password-reset link; the answer is the same whether the address is known."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return redirect(url_for("accounts.reset_sent"))
    return render_template("accounts/reset_request.html", form=form)


@bp.get("/password/reset/sent")
def reset_sent():
    """Tell the person a link is on its way if the address has an account."""
    return render_template("accounts/reset_sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password with the link from the e-mail."""
    if services.usable_token(token, "reset_password") is None:
        return render_template("accounts/token_refused.html"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.reset_password(token, form.password.data)
        if user is None:
            db.session.rollback()
            return render_template("accounts/token_refused.html"), 410
        welcomes = services.hand_over(user)  # the link proved the address
        if current_user.is_authenticated:
            services.end_current_session()
        db.session.commit()
        flash(_("Your password has been changed. Log in with the new one."), "success")
        return redirect(url_for("accounts.login", next=_welcome(welcomes)))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    """See and edit one's own profile."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        for field in PROFILE_FIELDS:
            setattr(current_user, field, (getattr(form, field).data or "").strip())
        chosen = set(form.shown_in_directory.data)
        current_user.directory_shows = ",".join(f for f in DIRECTORY_FIELDS if f in chosen)
        db.session.commit()
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/profile.html", form=form, **calendar_feeds.on_profile(current_user)
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; every other browser is logged out."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            user = current_user._get_current_object()
            services.change_password(user, form.password.data)
            services.start_session(user)
            db.session.commit()
            flash(
                _("Your password has been changed. Other browsers have been logged out."), "success"
            )
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)
