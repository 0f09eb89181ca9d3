"""Administration: the sites lessons may embed from (``learnplatform.embeds``)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from learnplatform import embeds
from learnplatform.access import administrator_required
from learnplatform.accounts.models import User
from learnplatform.admin import bp
from learnplatform.extensions import db


class EmbedHostForm(FlaskForm):
    """A host to allow, typed alone or as an address of it."""

    host = StringField(
        _l("Host"),
        description=_l("For instance www.youtube-nocookie.com or https://player.vimeo.com"),
        validators=[DataRequired(_l("Give a host name.")), Length(max=300)],
    )
    submit = SubmitField(_l("Allow"))


@bp.route("/embeds", methods=["GET", "POST"])
@administrator_required
def embed_hosts():
    """The hosts lessons may embed from, and the form that allows one more."""
    form = EmbedHostForm()
    if form.validate_on_submit():
        try:
            added = embeds.add_host(form.host.data, current_user)
        except embeds.HostRefused as refusal:
            form.host.errors = [str(refusal)]
        else:
            db.session.commit()
            flash(_("Lessons may now embed pages of %(host)s.", host=added.host), "success")
            return redirect(url_for("admin.embed_hosts"))
    listed = db.session.execute(
        select(embeds.EmbedHost, User.name)
        .outerjoin(User, User.id == embeds.EmbedHost.added_by_id)
        .order_by(embeds.EmbedHost.host)
    ).all()
    return render_template("admin/embed_hosts.html", form=form, listed=listed)


@bp.post("/embeds/<int:host_id>/remove")
@administrator_required
def remove_embed_host(host_id):
    """Take a host off the list: its embeds stop showing in lessons at once."""
    listed = db.session.get(embeds.EmbedHost, host_id)
    if listed is None:
        abort(404)
    embeds.remove_host(listed, current_user)
    db.session.commit()
    flash(_("Lessons no longer show pages of %(host)s.", host=listed.host), "info")
    return redirect(url_for("admin.embed_hosts"))
