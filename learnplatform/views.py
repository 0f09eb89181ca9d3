"""The home page and the health check."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from courses.models import Module, WebinarSeries
from irooms.models import Membership, Room
from learnplatform.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """Visitors see what the platform is; logged-in people see where to go next."""
    if not current_user.is_authenticated:
        return render_template("home/visitor.html")
    counts = {
        "modules": db.session.scalar(
            select(func.count()).select_from(Module).where(Module.is_published)
        ),
        "series": db.session.scalar(select(func.count()).select_from(WebinarSeries)),
        "rooms": db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(Membership.room)
            .where(Membership.user_id == current_user.id, Room.archived_at.is_(None))
        ),
    }
    return render_template("home/home.html", counts=counts)


@bp.get("/healthz")
def health():
    """A trivial answer for load balancers and for the benchmark's baseline."""
    return {"status": "ok"}
