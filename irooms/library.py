"""A room's library: files with their earlier versions, links to the platform's e-learning
modules and webinar series, and external addresses.

Members search it and download its files; hosts, experts and administrators add, change, replace
and remove resources. Files are served only through the views below, after the room's access
check, and every download that reaches a file's last byte is counted.
"""

import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage
from wtforms import SelectField, StringField, SubmitField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, ValidationError

from courses import webinars
from courses.models import Module, WebinarSeries
from irooms import bp, notices, xapi_events
from irooms.access import Place, contributed_place, place_in
from irooms.labels import CATEGORY_LABELS
from irooms.models import Resource, ResourceDownload, ResourceVersion
from irooms.sections import room_section
from learnplatform import numbers
from learnplatform.accounts.forms import options
from learnplatform.accounts.models import User
from learnplatform.audit import record, utcnow
from learnplatform.choices import LANGUAGES
from learnplatform.extensions import db
from learnplatform.search import matching_every_word
from learnplatform.security import upload_quota
from learnplatform.storage import (
    ATTACHMENT_TYPES,
    StorageRefused,
    StoredFile,
    delete_stored,
    save_upload,
    send_stored,
)
from learnplatform.text import without_hidden

room_section("library", _l("Library"), "irooms.library")

PAGE_SIZE = 20
MAX_TAGS = 10
TAG_LENGTH = 40
#: the length of ``Resource.tags``, which holds the tags joined by commas
TAGS_LENGTH = 400
#: categories that are links to something on the platform, and the kind each needs
LINK_CATEGORIES = {"module": "module", "series": "series"}


def plain(text: str | None) -> str:
    """``text`` without bidi controls and control characters, with Unix line ends, stripped."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return without_hidden(text, keep="\n\t").strip()


def clean_tags(text: str | None) -> list[str]:
    """The tags typed in ``text``, separated by commas: lower-case, spaces collapsed, each once."""
    tags: list[str] = []
    for part in plain(text).split(","):
        tag = " ".join(part.lower().split())
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def tags_of(resource: Resource) -> list[str]:
    return [tag for tag in resource.tags.split(",") if tag] if resource.tags else []


# Forms.
class ResourceForm(FlaskForm):
    """What a resource is about, and what it links to when it is not a file."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[plain])
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=4000)],
        filters=[plain],
        description=_l("What it is and who it is useful for."),
        render_kw={"rows": 4},
    )
    language = SelectField(_l("Language"), choices=options(LANGUAGES), validators=[DataRequired()])
    category = SelectField(
        _l("Category"), choices=options(CATEGORY_LABELS), validators=[DataRequired()]
    )
    tags = StringField(
        _l("Tags"),
        validators=[Length(max=1000)],
        description=_l(
            "Words to find it by, separated by commas: at most %(count)d, of up to %(length)d "
            "characters each.",
            count=MAX_TAGS,
            length=TAG_LENGTH,
        ),
    )
    module_id = SelectField(_l("E-learning module"), coerce=numbers.optional_id)
    series_id = SelectField(_l("Webinar series"), coerce=numbers.optional_id)
    url = URLField(
        _l("Web address"),
        validators=[Length(max=2000)],
        filters=[plain],
        description=_l("An address starting with https:// or http://."),
    )
    submit = SubmitField(_l("Save"))

    #: the fields of which exactly one says what the resource is, with the kind each gives
    TARGETS = {"file": "file", "module_id": "module", "series_id": "series", "url": "link"}

    @property
    def kind(self) -> str | None:
        """The kind of resource the form gives, or ``None`` when it gives none."""
        for name, kind in self.TARGETS.items():
            if name in self and self[name].data:
                return kind
        return None

    def validate_tags(self, field):
        tags = clean_tags(field.data)
        if len(tags) > MAX_TAGS:
            raise ValidationError(_l("Give at most %(count)d tags.", count=MAX_TAGS))
        for tag in tags:
            if len(tag) > TAG_LENGTH:
                raise ValidationError(
                    _l(
                        "“%(tag)s” is longer than %(length)d characters.",
                        tag=tag[:60],
                        length=TAG_LENGTH,
                    )
                )
        if len(",".join(tags)) > TAGS_LENGTH:
            raise ValidationError(_l("The tags are too long together: shorten some of them."))

    def validate_url(self, field):
        """Web addresses only: ``javascript:``, ``data:`` and every other scheme are refused."""
        if not field.data:
            return
        refusal = ValidationError(
            _l("Only web addresses starting with https:// or http:// can be added.")
        )
        if any(char.isspace() or unicodedata.category(char) == "Cc" for char in field.data):
            raise refusal
        try:
            parts = urlsplit(field.data)
            host = parts.hostname
        except ValueError:
            raise refusal from None
        if parts.scheme.lower() not in {"http", "https"} or not host:
            raise refusal

    def validate(self, extra_validators=None) -> bool:
        """The fields, then exactly one of a file, a module, a series or an address (when the
        form offers them), and the module or series that categories of those name."""
        valid = super().validate(extra_validators)
        offered = [name for name in self.TARGETS if name in self]
        if not offered:
            return valid
        given = [name for name in offered if self[name].data]
        if not given:
            self.form_errors.append(
                _l(
                    "Give one of them: a file, an e-learning module, a webinar series or an "
                    "address."
                )
            )
            valid = False
        elif len(given) > 1:
            self.form_errors.append(
                _l(
                    "Give only one of them: a file, an e-learning module, a webinar series or an "
                    "address."
                )
            )
            valid = False
        needed = LINK_CATEGORIES.get(self.category.data)
        if needed is not None and self.kind != needed:
            self.category.errors.append(
                _l("Choose the e-learning module below for this category.")
                if needed == "module"
                else _l("Choose the webinar series below for this category.")
            )
            valid = False
        return valid


class NewResourceForm(ResourceForm):
    """A new resource: a file may be uploaded instead of a link."""

    file = FileField(
        _l("File"),
        id="resource-file",
        description=_l(
            "A document (PDF, Word, Excel, PowerPoint, OpenDocument, text), an image, a sound "
            "or a video."
        ),
    )
    submit = SubmitField(_l("Add to the library"))


class ReplaceForm(FlaskForm):
    """A new version of a resource's file."""

    file = FileField(
        _l("New version"),
        id="replace-file",
        validators=[FileRequired(_l("Choose the file to upload."))],
    )
    submit = SubmitField(_l("Upload the new version"))


# Operations: they flush; the views commit.
def search(place: Place, words: str, category: str, language: str) -> Select[tuple[Resource]]:
    """The room's resources matching every one of ``words`` (in the title, description or tags),
    of ``category`` and in ``language`` when given, newest first, with what their lists show."""
    query = select(Resource).where(
        Resource.room_id == place.room.id,
        *matching_every_word(words, Resource.title, Resource.description, Resource.tags),
    )
    if category in CATEGORY_LABELS:
        query = query.where(Resource.category == category)
    if language in LANGUAGES:
        query = query.where(Resource.language == language)
    return query.options(
        selectinload(Resource.versions).selectinload(ResourceVersion.stored_file),
        selectinload(Resource.module),
        selectinload(Resource.series),
    ).order_by(Resource.created_at.desc(), Resource.id.desc())


def download_counts(resource_ids: list[int]) -> dict[int, int]:
    """How many times each of ``resource_ids`` was downloaded, in one query."""
    if not resource_ids:
        return {}
    rows = db.session.execute(
        select(ResourceDownload.resource_id, func.count())
        .where(ResourceDownload.resource_id.in_(resource_ids))
        .group_by(ResourceDownload.resource_id)
    )
    return dict(rows.all())


def add_resource(place: Place, form: NewResourceForm, user) -> Resource:
    """Add the resource the form describes to the room's library; ``StorageRefused`` when its
    file is refused, leaving nothing."""
    resource = Resource(room_id=place.room.id, kind=form.kind, created_by_id=user.id)
    if resource.kind == "file":
        stored = _keep(form.file.data, user)
        resource.versions.append(
            ResourceVersion(number=1, stored_file=stored, uploaded_by_id=user.id)
        )
    _fill(resource, form)
    db.session.add(resource)
    db.session.flush()
    return resource


def change_resource(resource: Resource, form: ResourceForm) -> None:
    """Save what the form says about ``resource`` and, unless it is a file, what it links to."""
    _fill(resource, form)
    resource.updated_at = utcnow()
    db.session.flush()


def add_version(resource: Resource, upload: FileStorage, user) -> ResourceVersion:
    """Keep ``upload`` as the newest version of the resource's file; earlier ones stay.

    ``StorageRefused`` when the file is refused; ``IntegrityError`` when another version was
    added at the same moment.
    """
    stored = _keep(upload, user)
    number = max((version.number for version in resource.versions), default=0) + 1
    version = ResourceVersion(number=number, stored_file=stored, uploaded_by_id=user.id)
    resource.versions.insert(0, version)
    resource.updated_at = utcnow()
    db.session.flush()
    return version


def remove_resource_and_files(resource: Resource) -> None:
    """Delete ``resource``, its versions and their stored files (once the deletion commits)."""
    stored_files = [version.stored_file for version in resource.versions]
    db.session.delete(resource)
    db.session.flush()
    for stored in stored_files:
        delete_stored(stored)


def download_recorder(resource: Resource, version: ResourceVersion, user) -> Callable[[], None]:
    """A callback recording one download of ``version``, for ``send_stored``, with its xAPI
    statement (made now, in the request) in one transaction. It runs after the response,
    outside the request: it opens its own application context."""
    values = {"resource_id": resource.id, "version_id": version.id, "user_id": user.id}
    statement = xapi_events.resource_downloaded_later(resource, user)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def record() -> None:
        with app.app_context():
            db.session.add(ResourceDownload(**values))
            statement()
            db.session.commit()

    return record


def _keep(upload: FileStorage, user) -> StoredFile:
    return save_upload(
        upload.stream,
        upload.filename or "file",
        allowed=ATTACHMENT_TYPES,
        max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        uploaded_by=user,
    )


def _fill(resource: Resource, form: ResourceForm) -> None:
    resource.title = form.title.data
    resource.description = form.description.data
    resource.language = form.language.data
    resource.category = form.category.data
    resource.tags = ",".join(clean_tags(form.tags.data))
    if "url" in form:  # the form links to something: the resource becomes that link
        resource.kind = form.kind
        resource.module_id = form.module_id.data if resource.kind == "module" else None
        resource.series_id = form.series_id.data if resource.kind == "series" else None
        resource.url = form.url.data if resource.kind == "link" else None


# Pages.
@bp.get("/<int:room_id>/library")
@login_required
def library(room_id):
    """The room's resources, searched by words and filtered by category and language."""
    place = place_in(room_id)
    words = request.args.get("q", "").strip()[:200]
    category = request.args.get("category", "")
    language = request.args.get("language", "")
    page = db.paginate(
        search(place, words, category, language), per_page=PAGE_SIZE, max_per_page=50
    )
    counts = download_counts([item.id for item in page.items]) if place.manages else {}
    return render_template(
        "irooms/library/list.html",
        place=place,
        page=page,
        words=words,
        category=category if category in CATEGORY_LABELS else "",
        language=language if language in LANGUAGES else "",
        counts=counts,
        categories=CATEGORY_LABELS,
        languages=LANGUAGES,
        tags_of=tags_of,
    )


@bp.route("/<int:room_id>/library/new", methods=["GET", "POST"])
@upload_quota
@login_required
def new_resource(room_id):
    """Add a file, a link to a module or series, or a web address to the library."""
    place = contributed_place(room_id)
    form = NewResourceForm(language=place.room.language)
    _offer_links(form, None)
    if form.validate_on_submit():
        try:
            added = add_resource(place, form, current_user)
        except StorageRefused as refusal:
            db.session.rollback()
            form.file.errors.append(str(refusal))
        else:
            record(
                "resource_added",
                actor=current_user,
                room_id=place.room.id,
                resource_id=added.id,
                kind=added.kind,
            )
            notices.resource_added(added, current_user)
            db.session.commit()
            flash(_("%(title)s is added to the library.", title=added.title), "success")
            return redirect(url_for("irooms.resource", room_id=room_id, resource_id=added.id))
    return render_template("irooms/library/form.html", place=place, form=form, resource=None)


@bp.get("/<int:room_id>/library/<int:resource_id>")
@login_required
def resource(room_id, resource_id):
    """A resource: what it is, its file with every version, or what it links to."""
    place = place_in(room_id)
    found = _resource_in(place, resource_id)
    uploader_ids = {v.uploaded_by_id for v in found.versions} | {found.created_by_id}
    names = dict(
        db.session.execute(
            select(User.id, User.name).where(User.id.in_(uploader_ids - {None}))
        ).all()
    )
    counts: dict[int | None, int] = {}
    if place.manages:
        counts = dict(
            db.session.execute(
                select(ResourceDownload.version_id, func.count())
                .where(ResourceDownload.resource_id == found.id)
                .group_by(ResourceDownload.version_id)
            ).all()
        )
    return render_template(
        "irooms/library/detail.html",
        place=place,
        resource=found,
        names=names,
        counts=counts,
        replace_form=ReplaceForm(),
        categories=CATEGORY_LABELS,
        languages=LANGUAGES,
        tags=tags_of(found),
    )


@bp.route("/<int:room_id>/library/<int:resource_id>/edit", methods=["GET", "POST"])
@login_required
def edit_resource(room_id, resource_id):
    """Change what a resource says about itself, or what it links to."""
    place = contributed_place(room_id)
    found = _resource_in(place, resource_id)
    form = ResourceForm(obj=found)
    form.submit.label.text = _("Save changes")
    if request.method == "GET":
        form.tags.data = ", ".join(tags_of(found))
    if found.kind == "file":
        # A file is replaced by a new version on its page; it cannot become a link here.
        for name in ("module_id", "series_id", "url"):
            delattr(form, name)
        form.category.choices = [
            choice for choice in form.category.choices if choice.value not in LINK_CATEGORIES
        ]
    else:
        _offer_links(form, found)
    if form.validate_on_submit():
        change_resource(found, form)
        record("resource_changed", actor=current_user, room_id=place.room.id, resource_id=found.id)
        db.session.commit()
        flash(_("The resource is saved."), "success")
        return redirect(url_for("irooms.resource", room_id=room_id, resource_id=found.id))
    return render_template("irooms/library/form.html", place=place, form=form, resource=found)


@bp.post("/<int:room_id>/library/<int:resource_id>/replace")
@upload_quota
@login_required
def replace_resource(room_id, resource_id):
    """Upload a new version of a resource's file; the earlier versions stay downloadable."""
    place = contributed_place(room_id)
    found = _resource_in(place, resource_id)
    if found.kind != "file":
        abort(404)
    back = redirect(url_for("irooms.resource", room_id=room_id, resource_id=found.id))
    form = ReplaceForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return back
    try:
        version = add_version(found, form.file.data, current_user)
    except StorageRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "danger")
        return back
    except IntegrityError:
        db.session.rollback()
        flash(
            _("Someone uploaded another version at the same moment. Check the versions below."),
            "warning",
        )
        return back
    record(
        "resource_replaced",
        actor=current_user,
        room_id=place.room.id,
        resource_id=found.id,
        version=version.number,
    )
    db.session.commit()
    flash(_("Version %(number)d is uploaded.", number=version.number), "success")
    return back


@bp.post("/<int:room_id>/library/<int:resource_id>/remove")
@login_required
def remove_resource(room_id, resource_id):
    """Remove a resource from the library, with every version of its file."""
    place = contributed_place(room_id)
    found = _resource_in(place, resource_id)
    title = found.title
    remove_resource_and_files(found)
    record(
        "resource_removed",
        actor=current_user,
        room_id=place.room.id,
        resource_id=resource_id,
        title=title,
    )
    db.session.commit()
    flash(_("%(title)s is removed from the library.", title=title), "info")
    return redirect(url_for("irooms.library", room_id=room_id))


# Files: served to members only.
@bp.get("/<int:room_id>/library/<int:resource_id>/download")
@login_required
def download_resource(room_id, resource_id):
    """The newest version of a resource's file, counted once its last byte has been sent."""
    place = place_in(room_id)
    found = _resource_in(place, resource_id)
    if not found.versions:
        abort(404)
    return _send(found, found.versions[0])


@bp.get("/<int:room_id>/library/<int:resource_id>/versions/<int:version_id>/download")
@login_required
def download_version(room_id, resource_id, version_id):
    """One version of a resource's file, counted as a download of the resource."""
    place = place_in(room_id)
    found = _resource_in(place, resource_id)
    version = next((v for v in found.versions if v.id == version_id), None)
    if version is None:
        abort(404)
    return _send(found, version)


def _send(found: Resource, version: ResourceVersion):
    return send_stored(
        version.stored_file, on_complete=download_recorder(found, version, current_user)
    )


def _resource_in(place: Place, resource_id: int) -> Resource:
    """The resource ``resource_id`` of the place's room; 404 for one of another room."""
    found = db.session.scalar(
        select(Resource)
        .where(Resource.id == resource_id, Resource.room_id == place.room.id)
        .options(selectinload(Resource.versions).selectinload(ResourceVersion.stored_file))
    )
    if found is None:
        abort(404)
    return found


def _offer_links(form: ResourceForm, found: Resource | None) -> None:
    """Published modules and the series the user may see; what ``found`` links to stays."""
    modules = db.session.execute(
        select(Module.id, Module.title)
        .where(or_(Module.is_published, Module.id == (found.module_id if found else None)))
        .order_by(Module.title, Module.id)
    ).all()
    series = db.session.execute(
        select(WebinarSeries.id, WebinarSeries.title)
        .where(
            or_(
                webinars.visible_to(current_user),
                WebinarSeries.id == (found.series_id if found else None),
            )
        )
        .order_by(WebinarSeries.title, WebinarSeries.id)
    ).all()
    form.module_id.choices = [("", _("No module")), *((id_, title) for id_, title in modules)]
    form.series_id.choices = [("", _("No series")), *((id_, title) for id_, title in series)]
