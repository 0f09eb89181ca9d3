"""Who may use which part of the platform, by platform role. Room-level access lives in irooms."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def administrator_required(view):
    """Only administrators; everyone else logged in gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_administrator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def trainer_required(view):
    """Trainers and administrators; practitioners get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_trainer:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
