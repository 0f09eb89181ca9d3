"""iRoom pages."""

from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from irooms import bp
from irooms.models import Membership, Room
from learnplatform.choices import LANGUAGES, THEMES
from learnplatform.extensions import db


@bp.get("/")
@login_required
def my_rooms():
    """The rooms the logged-in person belongs to, with how many members each has."""
    member_count = (
        select(func.count(Membership.id))
        .where(Membership.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Room, Membership.role, member_count)
        .join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id == current_user.id, Room.archived_at.is_(None))
        .order_by(Room.name)
    ).all()
    return render_template("irooms/my_rooms.html", rows=rows, themes=THEMES, languages=LANGUAGES)
