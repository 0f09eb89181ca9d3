"""The pages of a forum: its topics, a topic's posts, writing, following, answers, reports and
moderation. Every view starts from ``access.venue``: 404 for whoever may not read the forum."""

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from irooms.access import place_in
from irooms.sections import room_section
from learnplatform.extensions import db
from learnplatform.forums import bp, services
from learnplatform.forums.access import Venue, forum_of, post_in, topic_in, venue
from learnplatform.forums.forms import (
    CategoryForm,
    DeleteForm,
    EditForm,
    ReplyForm,
    ReportForm,
    TopicForm,
)
from learnplatform.forums.models import ForumCategory, Post, PostAttachment, PostReport
from learnplatform.richtext import paragraphs_of
from learnplatform.security import upload_quota
from learnplatform.storage import StorageRefused, send_stored

#: what the list of topics can be narrowed to
SHOWS = ("all", "unread", "questions", "unanswered", "answered")

_REFUSALS = {
    "empty": lambda: _("Write a message first."),
    "locked": lambda: _("This topic is locked: no more replies."),
    "too many files": lambda: _(
        "Attach at most %(number)d files.", number=services.MAX_ATTACHMENTS
    ),
    "reason": lambda: _("Give the reason for deleting."),
    "category": lambda: _("Choose a category of this forum."),
}


def _refusal(error: services.Refused) -> str:
    found = _REFUSALS.get(str(error))
    return found() if found else _("This cannot be done.")


def _page(template: str, found: Venue, **context):
    return render_template(
        template,
        venue=found,
        place=found.place,
        active="forum",
        **context,
    )


def _typed(form) -> str:
    """The body as rich text: the editor's HTML, or plain text made into paragraphs."""
    return form.body.data if form.body_format.data == "html" else paragraphs_of(form.body.data)


def _saved(form, write):
    """What ``write()`` returns, committed; ``None`` when it was refused, with the reason on the
    form and nothing kept."""
    try:
        result = write()
    except services.Refused as error:
        db.session.rollback()
        form.body.errors.append(_refusal(error))
        return None
    except StorageRefused as error:
        db.session.rollback()
        form.files.errors.append(str(error))
        return None
    db.session.commit()
    return result


def _writing(found: Venue) -> None:
    if not found.writes:
        abort(403)


# Entry points from a room and a module.
@bp.get("/room/<int:room_id>")
@login_required
def room_forum(room_id):
    """The forum of a room (its tab): made the first time a member opens it."""
    place = place_in(room_id)
    return redirect(url_for("forums.index", forum_id=forum_of(room=place.room).id))


@bp.get("/module/<int:module_id>")
@login_required
def module_forum(module_id):
    """The discussion space of a module, for its learners and trainers."""
    from courses.access import can_author, visible_module
    from courses.services import enrolment_of

    module = visible_module(module_id)
    enrolment = enrolment_of(module, current_user)
    if not (
        (enrolment is not None and enrolment.status == "active")
        or can_author(current_user, module)
        or current_user.is_administrator
    ):
        abort(404)
    return redirect(url_for("forums.index", forum_id=forum_of(module=module).id))


# Reading.
@bp.get("/<int:forum_id>")
@login_required
def index(forum_id):
    found = venue(forum_id)
    show = request.args.get("show", "all")
    if show not in SHOWS:
        show = "all"
    category_id = request.args.get("category", type=int)
    after = None
    if request.args.get("after_at") and request.args.get("after_id", type=int):
        try:
            datetime.fromisoformat(request.args["after_at"])
        except ValueError:
            abort(404)
        after = (request.args["after_at"], request.args.get("after_id", type=int))
    rows, following = services.topics_page(
        found, current_user, show=show, category_id=category_id, after=after
    )
    reports = 0
    if found.moderates:
        reports = db.session.scalar(
            select(func.count())
            .select_from(PostReport)
            .where(PostReport.forum_id == found.forum.id, PostReport.resolved_at.is_(None))
        )
    return _page(
        "forums/index.html",
        found,
        rows=rows,
        show=show,
        shows=SHOWS,
        category_id=category_id,
        following=following,
        first_page=after is None,
        follows=services.follows_forum(current_user, found.forum),
        reports=reports,
        category_form=CategoryForm(),
    )


@bp.get("/<int:forum_id>/search")
@login_required
def search(forum_id):
    found = venue(forum_id)
    words = request.args.get("q", "").strip()[:200]
    before = request.args.get("before", type=int)
    posts, more = services.search(found, words, before=before) if words else ([], False)
    return _page(
        "forums/search.html",
        found,
        words=words,
        posts=posts,
        more=more,
        paged=more or before is not None,
        excerpt=services.excerpt,
    )


@bp.get("/<int:forum_id>/topics/<int:topic_id>")
@login_required
def topic(forum_id, topic_id):
    found = venue(forum_id)
    shown = topic_in(found, topic_id)
    before = request.args.get("before", type=int)
    after = max(request.args.get("after", 0, type=int), 0)
    posts, earlier, later = services.posts_page(found, shown, after=after, before=before)
    if not posts and (after or before):
        return redirect(url_for("forums.topic", forum_id=forum_id, topic_id=topic_id))
    read_before = services.last_read(current_user.id, shown.id)
    form = ReplyForm()
    quote = None
    quoted = request.args.get("quote", type=int)
    if quoted:
        quote = post_in(found, quoted)
        form.quote_of.data = str(quote.id)
    page = _topic_page(found, shown, posts, earlier, later, read_before, form, quote)
    if posts:  # once the page is written: committing would make every post load again
        services.mark_read(current_user.id, shown.id, posts[-1].seq)
        db.session.commit()
    return page


def _topic_page(found, shown, posts, earlier, later, read_before, form, quote, status=200):
    return (
        _page(
            "forums/topic.html",
            found,
            topic=shown,
            posts=posts,
            earlier=earlier,
            later=later,
            read_before=read_before,
            form=form,
            quote=quote,
            follows=services.follows_topic(current_user, shown),
            categories=found.forum.categories,
            excerpt=services.excerpt,
            roles=services.roles_of(found, {post.author_id for post in posts}),
        ),
        status,
    )


# Writing.
@bp.route("/<int:forum_id>/new", methods=["GET", "POST"])
@upload_quota
@login_required
def new_topic(forum_id):
    found = venue(forum_id)
    _writing(found)
    form = TopicForm()
    categories = found.forum.categories
    form.category.choices = [(category.id, category.name) for category in categories]
    if request.method == "GET" and request.args.get("question"):
        form.is_question.data = True
    if form.validate_on_submit():
        category = next((c for c in categories if c.id == form.category.data), None)
        saved = _saved(
            form,
            lambda: services.start_topic(
                found,
                current_user,
                title=form.title.data,
                body_html=_typed(form),
                category=category,
                is_question=form.is_question.data,
                client_token=form.client_token.data,
                files=request.files.getlist(form.files.name),
            ),
        )
        if saved:
            started, new = saved
            if new:
                flash(_("Your topic is posted."), "success")
            return redirect(url_for("forums.topic", forum_id=forum_id, topic_id=started.id))
    return _page("forums/topic_form.html", found, form=form)


@bp.post("/<int:forum_id>/topics/<int:topic_id>/reply")
@upload_quota
@login_required
def reply(forum_id, topic_id):
    found = venue(forum_id)
    shown = topic_in(found, topic_id)
    _writing(found)
    form = ReplyForm()
    quote = None
    if form.quote_of.data and form.quote_of.data.isdigit():
        quote = post_in(found, int(form.quote_of.data))
        if quote.topic_id != shown.id:
            abort(404)
    if form.validate_on_submit():
        saved = _saved(
            form,
            lambda: services.reply(
                found,
                shown,
                current_user,
                body_html=_typed(form),
                quote_of=quote,
                client_token=form.client_token.data,
                files=request.files.getlist(form.files.name),
            ),
        )
        if saved:
            post, new = saved
            if new:
                flash(_("Your reply is posted."), "success")
            return redirect(services.post_url(shown, post))
    posts, earlier, later = services.posts_page(found, shown, before=shown.last_seq + 1)
    return _topic_page(found, shown, posts, earlier, later, shown.last_seq, form, quote, 422)


def _editable(found: Venue, post: Post) -> None:
    """Authors edit their own posts while they may write; moderators any post."""
    if not (found.moderates or (post.author_id == current_user.id and found.writes)):
        abort(403)


@bp.route("/<int:forum_id>/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(forum_id, post_id):
    found = venue(forum_id)
    post = post_in(found, post_id)
    _editable(found, post)
    form = EditForm()
    if request.method == "GET":
        form.body.data = post.body_html
        form.body_format.data = "html"
        form.title.data = post.topic.title
    if form.validate_on_submit():
        title = " ".join((form.title.data or "").split()) or None
        try:
            changed = services.edit(post, current_user, body_html=_typed(form), title=title)
        except services.Refused as error:
            db.session.rollback()
            form.body.errors.append(_refusal(error))
        else:
            db.session.commit()
            flash(_("The post is changed.") if changed else _("Nothing was changed."), "info")
            return redirect(services.post_url(post.topic, post))
    return _page("forums/edit.html", found, form=form, post=post, topic=post.topic)


@bp.get("/<int:forum_id>/posts/<int:post_id>/history")
@login_required
def history(forum_id, post_id):
    found = venue(forum_id)
    post = post_in(found, post_id)
    return _page(
        "forums/history.html",
        found,
        post=post,
        topic=post.topic,
        revisions=services.revisions_of(post),
    )


# Attachments.
def _attachment(found: Venue, attachment_id: int) -> PostAttachment:
    attachment = db.session.get(PostAttachment, attachment_id)
    if attachment is None:
        abort(404)
    post_in(found, attachment.post_id)
    return attachment


@bp.get("/<int:forum_id>/attachments/<int:attachment_id>")
@login_required
def attachment(forum_id, attachment_id):
    found = venue(forum_id)
    return send_stored(_attachment(found, attachment_id).stored_file)


@bp.get("/<int:forum_id>/attachments/<int:attachment_id>/inline")
@login_required
def attachment_inline(forum_id, attachment_id):
    found = venue(forum_id)
    stored = _attachment(found, attachment_id).stored_file
    if not stored.content_type.startswith("image/"):
        abort(404)
    return send_stored(stored, as_attachment=False)


# Following.
@bp.post("/<int:forum_id>/topics/<int:topic_id>/follow")
@login_required
def follow_topic(forum_id, topic_id):
    found = venue(forum_id)
    shown = topic_in(found, topic_id)
    following = request.form.get("following") == "1"
    services.follow_topic(current_user, shown, following)
    db.session.commit()
    flash(
        _("You follow this topic: replies will reach you as you chose in your notifications.")
        if following
        else _("You no longer follow this topic."),
        "success",
    )
    return redirect(url_for("forums.topic", forum_id=forum_id, topic_id=topic_id))


@bp.post("/<int:forum_id>/follow")
@login_required
def follow_forum(forum_id):
    found = venue(forum_id)
    following = request.form.get("following") == "1"
    services.follow_forum(current_user, found.forum, following)
    db.session.commit()
    flash(
        _("You follow this forum: new topics and replies will reach you.")
        if following
        else _("You no longer follow this forum."),
        "success",
    )
    return redirect(url_for("forums.index", forum_id=forum_id))


# Answers.
@bp.post("/<int:forum_id>/posts/<int:post_id>/answer")
@login_required
def answer(forum_id, post_id):
    found = venue(forum_id)
    post = post_in(found, post_id)
    shown = post.topic
    if not found.answers or found.read_only:
        abort(403)
    if request.form.get("answer") == "0":
        if shown.answer_post_id == post.id:
            services.unmark_answer(shown)
        flash(_("The reply is no longer marked as the answer."), "success")
    else:
        try:
            services.mark_answer(shown, post, current_user)
        except services.Refused:
            abort(400)
        flash(_("The reply is marked as the answer."), "success")
    db.session.commit()
    return redirect(services.post_url(shown, post))


# Reports.
@bp.route("/<int:forum_id>/posts/<int:post_id>/report", methods=["GET", "POST"])
@login_required
def report(forum_id, post_id):
    found = venue(forum_id)
    post = post_in(found, post_id)
    form = ReportForm()
    if form.validate_on_submit():
        filed = services.report(found, post, current_user, " ".join(form.reason.data.split()))
        db.session.commit()
        flash(
            _("Thank you: the moderators are told.")
            if filed
            else _("You have already reported this post: the moderators are told."),
            "success" if filed else "info",
        )
        return redirect(services.post_url(post.topic, post))
    return _page(
        "forums/report.html",
        found,
        form=form,
        post=post,
        topic=post.topic,
        excerpt=services.excerpt,
    )


def _moderated(forum_id: int) -> Venue:
    found = venue(forum_id)
    if not found.moderates:
        abort(403)
    return found


@bp.get("/<int:forum_id>/reports")
@login_required
def reports(forum_id):
    found = _moderated(forum_id)
    return _page(
        "forums/reports.html",
        found,
        reports=services.open_reports(found.forum),
        excerpt=services.excerpt,
    )


@bp.post("/<int:forum_id>/posts/<int:post_id>/dismiss")
@login_required
def dismiss(forum_id, post_id):
    found = _moderated(forum_id)
    post = post_in(found, post_id)
    services.resolve_reports(post, current_user)
    db.session.commit()
    flash(_("The reports on this post are closed; the post stays."), "success")
    return redirect(url_for("forums.reports", forum_id=forum_id))


# Moderation.
@bp.post("/<int:forum_id>/topics/<int:topic_id>/moderate")
@login_required
def moderate_topic(forum_id, topic_id):
    found = _moderated(forum_id)
    shown = topic_in(found, topic_id)
    action = request.form.get("action", "")
    category = None
    if action == "move":
        category = db.session.get(ForumCategory, request.form.get("category", type=int) or 0)
    try:
        services.moderate_topic(
            shown, current_user, action, reason=request.form.get("reason", ""), category=category
        )
    except services.Refused as error:
        db.session.rollback()
        flash(_refusal(error), "danger")
        return redirect(url_for("forums.topic", forum_id=forum_id, topic_id=topic_id))
    db.session.commit()
    flash(_MODERATED[action](), "success")
    if request.form.get("back") == "reports":
        return redirect(url_for("forums.reports", forum_id=forum_id))
    if action == "delete":
        return redirect(url_for("forums.index", forum_id=forum_id))
    return redirect(url_for("forums.topic", forum_id=forum_id, topic_id=topic_id))


_MODERATED = {
    "pin": lambda: _("The topic is pinned at the top of the forum."),
    "unpin": lambda: _("The topic is no longer pinned."),
    "lock": lambda: _("The topic is locked: no more replies."),
    "unlock": lambda: _("The topic is open to replies again."),
    "hide": lambda: _("The topic is hidden: only moderators see it."),
    "show": lambda: _("The topic is shown again."),
    "move": lambda: _("The topic is moved."),
    "delete": lambda: _("The topic is deleted."),
}


@bp.route("/<int:forum_id>/topics/<int:topic_id>/delete", methods=["GET", "POST"])
@login_required
def delete_topic(forum_id, topic_id):
    found = _moderated(forum_id)
    shown = topic_in(found, topic_id)
    form = DeleteForm()
    if form.validate_on_submit():
        services.moderate_topic(shown, current_user, "delete", reason=form.reason.data)
        db.session.commit()
        flash(_MODERATED["delete"](), "success")
        return redirect(url_for("forums.index", forum_id=forum_id))
    return _page("forums/delete.html", found, form=form, topic=shown, post=None)


@bp.post("/<int:forum_id>/posts/<int:post_id>/moderate")
@login_required
def moderate_post(forum_id, post_id):
    found = _moderated(forum_id)
    post = post_in(found, post_id)
    action = request.form.get("action", "")
    if action not in ("hide", "show"):
        abort(400)
    try:
        services.moderate_post(post, current_user, action)
    except services.Refused:
        abort(400)
    db.session.commit()
    flash(
        _("The post is hidden: only moderators see it.")
        if action == "hide"
        else _("The post is shown again."),
        "success",
    )
    if request.form.get("back") == "reports":
        return redirect(url_for("forums.reports", forum_id=forum_id))
    return redirect(services.post_url(post.topic, post))


@bp.route("/<int:forum_id>/posts/<int:post_id>/delete", methods=["GET", "POST"])
@login_required
def delete_post(forum_id, post_id):
    found = _moderated(forum_id)
    post = post_in(found, post_id)
    if post.seq == 1:
        return redirect(url_for("forums.delete_topic", forum_id=forum_id, topic_id=post.topic_id))
    form = DeleteForm()
    if form.validate_on_submit():
        services.moderate_post(post, current_user, "delete", reason=form.reason.data)
        db.session.commit()
        flash(_("The post is deleted."), "success")
        return redirect(url_for("forums.topic", forum_id=forum_id, topic_id=post.topic_id))
    return _page("forums/delete.html", found, form=form, topic=post.topic, post=post)


@bp.post("/<int:forum_id>/categories")
@login_required
def add_category(forum_id):
    found = _moderated(forum_id)
    form = CategoryForm()
    if not form.validate_on_submit():
        flash(" ".join(form.name.errors) or _("Give the category a name."), "danger")
        return redirect(url_for("forums.index", forum_id=forum_id))
    try:
        with db.session.begin_nested():
            db.session.add(
                ForumCategory(
                    forum_id=found.forum.id,
                    name=form.name.data,
                    position=len(found.forum.categories),
                )
            )
    except IntegrityError:  # the name is taken (or the same form was sent twice)
        flash(_("This forum already has a category of that name."), "warning")
    else:
        db.session.commit()
        flash(_("The category is added."), "success")
    return redirect(url_for("forums.index", forum_id=forum_id))


room_section("forum", _l("Forum"), "forums.room_forum")
