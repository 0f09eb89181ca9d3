"""Videos in lessons through the pages: the one form the sanitiser keeps, uploads with captions,
the player on the lesson page, seeking by ranges, who may fetch the files, views counted once;
and embeds only from the hosts an administrator allows, with the page's frame-src built from
them (docs/lesson-video.md)."""

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from courses.lesson_videos import LessonVideo, LessonVideoView
from learnplatform.audit import AuditEvent
from learnplatform.embeds import EmbedHost
from learnplatform.extensions import db
from learnplatform.richtext import clean_html, clean_lesson_html
from learnplatform.storage import StoredFile
from tests.courses.test_lesson_content import fetch
from tests.courses.test_modules import build_module, lesson_ids
from tests.helpers import (
    PASSWORD,
    Auth,
    count_queries,
    csrf_token,
    in_parallel,
    post_form,
    post_later,
)

SAMPLE = Path(__file__).resolve().parents[2] / "learnplatform/data/demo/webinar-sample.webm"
CAPTIONS_EN = (
    b"WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nThe parcel is scanned first.\n\n"
    b"00:00:05.000 --> 00:00:12.000\nThen the team checks the seals.\n"
)
CAPTIONS_FR = b"WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nLe colis est d'abord scann\xc3\xa9.\n"
YOUTUBE = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
SANDBOX = 'sandbox="allow-scripts allow-same-origin allow-presentation"'


def allow_host(app, host: str) -> None:
    with app.app_context():
        db.session.add(EmbedHost(host=host))
        db.session.commit()


def stored_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(StoredFile.id)))


def upload_video(client, module_id, lesson_id, *, video=None, name="sample.webm", captions=None):
    edit = f"/courses/manage/{module_id}/lessons/{lesson_id}"
    data = {
        "csrf_token": csrf_token(client, edit),
        "file": (io.BytesIO(video if video is not None else SAMPLE.read_bytes()), name),
        "language": "en",
    }
    if captions is not None:
        data["captions"] = (io.BytesIO(captions), "sample.en.vtt")
    return client.post(edit + "/videos", data=data, content_type="multipart/form-data")


def only_video(app) -> int:
    with app.app_context():
        return db.session.scalar(select(LessonVideo.id))


def save_body(client, module_id, lesson_id, body):
    return post_form(
        client,
        f"/courses/manage/{module_id}/lessons/{lesson_id}",
        {"title": "Checking a parcel", "body": body},
    )


def learner_client(app, create_user, module_id, email="learner@example.org"):
    learner = create_user(email=email)
    browser = app.test_client()
    Auth(browser).login(learner.email, PASSWORD)
    if module_id is not None:
        post_form(
            browser,
            f"/courses/modules/{module_id}/enrol",
            {},
            form_url=f"/courses/modules/{module_id}",
        )
    return browser


@pytest.fixture
def lesson_with_video(app, client, login_as):
    """A trainer's published module whose first lesson shows an uploaded video with English
    captions: (module id, lesson id, video id)."""
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=2, post_test=False)
    lesson_id = lesson_ids(app, module_id)[0]
    response = upload_video(client, module_id, lesson_id, captions=CAPTIONS_EN)
    assert response.status_code == 302
    video_id = only_video(app)
    save_body(
        client,
        module_id,
        lesson_id,
        f'<p>Watch first.</p><figure data-video="{video_id}"><figcaption>How a team checks a '
        "parcel</figcaption></figure>",
    )
    return module_id, lesson_id, video_id


# The sanitiser.
def test_the_sanitiser_keeps_a_video_reference_in_its_one_form(app_context):
    kept = clean_lesson_html(
        '<p>Intro</p><figure data-video="12" class="wide" onclick="x()" data-other="1">'
        "<figcaption>The <b>sample</b></figcaption><script>alert(1)</script><p>more</p></figure>"
    )
    assert kept == (
        '<p>Intro</p><figure data-video="12"><figcaption>The sample more</figcaption></figure>'
    )
    bare = '<figure data-video="7"></figure>'
    assert clean_lesson_html(bare) == bare


@pytest.mark.parametrize(
    "markup",
    [
        '<video src="/courses/videos/1" controls></video>',
        '<video><source src="/courses/videos/1"><track src="/x.vtt"></video>',
        '<audio src="/courses/videos/1"></audio>',
        '<iframe src="https://evil.example/embed"></iframe>',
        '<iframe src="https://www.youtube-nocookie.com/embed/x"></iframe>',  # no host allowed yet
        '<figure data-video="1 onload=alert(1)"></figure>',
        '<figure data-video="javascript:alert(1)"></figure>',
        '<figure data-embed="https://evil.example/embed"></figure>',
        '<object data="/x.swf"></object><embed src="/x.swf">',
    ],
)
def test_the_sanitiser_strips_every_other_video_or_frame(app_context, markup):
    cleaned = clean_lesson_html(f"<p>Before</p>{markup}<p>After</p>")
    for forbidden in ("<video", "<audio", "<source", "<track", "<iframe", "<object", "<embed"):
        assert forbidden not in cleaned
    assert "data-video" not in cleaned and "data-embed" not in cleaned
    assert cleaned.startswith("<p>Before</p>") and cleaned.endswith("<p>After</p>")


def test_figures_that_are_no_reference_keep_only_their_text(app_context):
    assert clean_lesson_html("<figure><p>Map</p><figcaption>Borders</figcaption></figure>") == (
        "<p>Map</p>Borders"
    )
    nested = clean_lesson_html(
        '<figure data-video="3"><figure data-video="4"><figcaption>in</figcaption></figure>'
        "</figure><p>after</p>"
    )
    assert nested == '<figure data-video="3"><figcaption>in</figcaption></figure><p>after</p>'


def test_forum_posts_keep_no_figure(app_context):
    cleaned = clean_html('<figure data-video="3"><figcaption>Cap</figcaption></figure>')
    assert cleaned.strip() == "Cap"


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        (YOUTUBE, True),
        ("http://www.youtube-nocookie.com/embed/x", False),
        ("https://www.youtube-nocookie.com:8443/embed/x", False),
        ("https://user:pw@www.youtube-nocookie.com/embed/x", False),
        ("https://www.youtube-nocookie.com.evil.example/embed/x", False),
        ("https://youtube-nocookie.com/embed/x", False),
        ("//www.youtube-nocookie.com/embed/x", False),
    ],
)
def test_embeds_stay_only_from_an_allowed_host_over_https(app, address, kept):
    allow_host(app, "www.youtube-nocookie.com")
    with app.test_request_context():
        pasted = clean_lesson_html(
            f'<iframe width="560" src="{address}" title="Evidence" onload="x()" '
            'allow="autoplay" allowfullscreen></iframe>'
        )
        typed = clean_lesson_html(f'<figure data-embed="{address}"></figure>')
    if kept:
        assert pasted == (
            f'<figure data-embed="{address}"><figcaption>Evidence</figcaption></figure>'
        )
        assert typed == f'<figure data-embed="{address}"></figure>'
    else:
        assert pasted == "" and typed == ""


# Uploads and the lesson page.
def test_a_learner_gets_the_player_with_captions_and_the_trainer_sees_the_video(
    app, client, create_user, lesson_with_video
):
    module_id, lesson_id, video_id = lesson_with_video
    edit = client.get(f"/courses/manage/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    assert 'id="videos"' in edit and "sample.webm" in edit
    assert f'data-insert-video="{video_id}"' in edit
    assert "0 views" in edit

    browser = learner_client(app, create_user, module_id)
    response = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}")
    page = response.get_data(as_text=True)
    assert f'<video id="lesson-video-{video_id}"' in page
    assert f'<source src="/courses/videos/{video_id}" type="video/webm">' in page
    assert f'src="/courses/videos/{video_id}/captions/en.vtt" default>' in page
    assert "data-transcript" in page
    assert "How a team checks a parcel</figcaption>" in page
    assert "js/media-player.js" in page
    # No embed on this page: no other site may be framed.
    policy = response.headers["Content-Security-Policy"]
    assert "frame-src" not in policy and "default-src 'self'" in policy

    captions = fetch(browser, f"/courses/videos/{video_id}/captions/en.vtt")
    assert captions.status_code == 200 and captions.data == CAPTIONS_EN
    assert captions.mimetype == "text/vtt"


def test_the_video_is_served_with_ranges_for_seeking(app, client, create_user, lesson_with_video):
    module_id, _lesson_id, video_id = lesson_with_video
    browser = learner_client(app, create_user, module_id)
    size = SAMPLE.stat().st_size
    whole = fetch(browser, f"/courses/videos/{video_id}")
    assert whole.status_code == 200 and whole.data == SAMPLE.read_bytes()
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Disposition"].startswith("inline")
    part = fetch(browser, f"/courses/videos/{video_id}", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{size}"
    assert part.data == SAMPLE.read_bytes()[1000:2000]
    several = fetch(browser, f"/courses/videos/{video_id}", headers={"Range": "bytes=0-1,5-9"})
    assert several.status_code == 416
    beyond = fetch(browser, f"/courses/videos/{video_id}", headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416


def test_only_people_who_may_read_the_lesson_fetch_the_video(
    app, client, create_user, lesson_with_video
):
    module_id, _lesson_id, video_id = lesson_with_video
    outsider = learner_client(app, create_user, None, email="outsider@example.org")
    for path in (
        f"/courses/videos/{video_id}",
        f"/courses/videos/{video_id}/captions/en.vtt",
        f"/courses/videos/{video_id + 1000}",
    ):
        assert fetch(outsider, path).status_code == 404
        assert fetch(outsider, path, headers={"Range": "bytes=0-99"}).status_code == 404
    token = csrf_token(outsider, "/courses/")
    played = outsider.post(f"/courses/videos/{video_id}/played", data={"csrf_token": token})
    assert played.status_code == 404
    anonymous = app.test_client()
    assert fetch(anonymous, f"/courses/videos/{video_id}").status_code in (302, 401)
    # Another trainer cannot manage it either.
    other = app.test_client()
    Auth(other).login(create_user(role="trainer").email, PASSWORD)
    for action in ("remove", "captions/en/remove"):
        removed = post_form(
            other,
            f"/courses/manage/{module_id}/videos/{video_id}/{action}",
            {},
            form_url="/courses/manage",
        )
        assert removed.status_code == 404
    with app.app_context():
        assert [c.language for c in db.session.get(LessonVideo, video_id).captions] == ["en"]


def test_a_view_counts_once_per_person_even_when_sent_together(
    app, client, create_user, lesson_with_video
):
    module_id, lesson_id, video_id = lesson_with_video
    lesson_page = f"/courses/modules/{module_id}/lessons/{lesson_id}"
    learner_client(app, create_user, module_id, email="twice@example.org")
    statuses = in_parallel(
        app,
        "twice@example.org",
        4,
        post_later(f"/courses/videos/{video_id}/played", lesson_page),
    )
    assert statuses == [200] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count(LessonVideoView.id))) == 1
    edit = client.get(f"/courses/manage/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    assert "1 view · 1 person" in edit


def test_a_wrong_file_is_refused_with_a_message_and_nothing_kept(app, client, login_as):
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    (lesson_id,) = lesson_ids(app, module_id)
    before = stored_count(app)
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    refused = upload_video(client, module_id, lesson_id, video=pdf, name="talk.webm")
    assert refused.status_code == 302
    page = client.get(refused.location).get_data(as_text=True)
    assert "alert-danger" in page
    bad_captions = upload_video(client, module_id, lesson_id, captions=b"<html>no</html>")
    page = client.get(bad_captions.location).get_data(as_text=True)
    assert "alert-danger" in page
    assert stored_count(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count(LessonVideo.id))) == 0


def test_captions_in_another_language_and_removal(app, client, create_user, lesson_with_video):
    module_id, lesson_id, video_id = lesson_with_video
    edit = f"/courses/manage/{module_id}/lessons/{lesson_id}"
    response = client.post(
        f"/courses/manage/{module_id}/videos/{video_id}/captions",
        data={
            "csrf_token": csrf_token(client, edit),
            "language": "fr",
            "file": (io.BytesIO(CAPTIONS_FR), "fr.vtt"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    browser = learner_client(app, create_user, module_id)
    page = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    assert 'srclang="fr"' in page and 'srclang="en"' in page

    # the English captions removed alone: the French ones stay
    before = stored_count(app)
    removed = post_form(
        client,
        f"/courses/manage/{module_id}/videos/{video_id}/captions/en/remove",
        {},
        form_url=edit,
        follow_redirects=True,
    )
    assert "The captions in English are removed." in removed.get_data(as_text=True)
    assert stored_count(app) == before - 1
    page = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    assert 'srclang="fr"' in page and 'srclang="en"' not in page
    assert fetch(browser, f"/courses/videos/{video_id}/captions/en.vtt").status_code == 404
    again = post_form(
        client,
        f"/courses/manage/{module_id}/videos/{video_id}/captions/en/remove",
        {},
        form_url=edit,
    )
    assert again.status_code == 404

    before = stored_count(app)
    post_form(client, f"/courses/manage/{module_id}/videos/{video_id}/remove", {}, form_url=edit)
    assert stored_count(app) == before - 2  # the video and its French captions
    page = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}").get_data(as_text=True)
    assert "<video" not in page and "data-video" not in page
    assert fetch(browser, f"/courses/videos/{video_id}").status_code == 404


def test_removing_the_lesson_removes_its_videos_files(app, client, lesson_with_video):
    module_id, lesson_id, _video_id = lesson_with_video
    before = stored_count(app)
    post_form(
        client,
        f"/courses/manage/{module_id}/lessons/{lesson_id}/delete",
        {},
        form_url=f"/courses/manage/{module_id}",
    )
    assert stored_count(app) == before - 2
    with app.app_context():
        assert db.session.scalar(select(func.count(LessonVideo.id))) == 0


def test_a_reference_to_another_lessons_video_shows_nothing(
    app, client, create_user, lesson_with_video
):
    module_id, _lesson_id, video_id = lesson_with_video
    other_lesson = lesson_ids(app, module_id)[1]
    save_body(client, module_id, other_lesson, f'<figure data-video="{video_id}"></figure>')
    browser = learner_client(app, create_user, module_id)
    page = browser.get(f"/courses/modules/{module_id}/lessons/{other_lesson}")
    assert "<video" not in page.get_data(as_text=True)


# Embeds.
def test_administrators_list_the_hosts_audited_and_others_may_not(app, client, login_as):
    login_as("administrator")
    page = client.get("/admin/embeds").get_data(as_text=True)
    assert "No site is allowed" in page
    added = post_form(client, "/admin/embeds", {"host": "https://WWW.YouTube-NoCookie.com/x"})
    assert added.status_code == 302
    again = post_form(client, "/admin/embeds", {"host": "www.youtube-nocookie.com"})
    assert "is already allowed" in again.get_data(as_text=True)
    wrong = post_form(client, "/admin/embeds", {"host": "not a host"})
    assert "is not a host name" in wrong.get_data(as_text=True)
    with app.app_context():
        hosts = db.session.scalars(select(EmbedHost)).all()
        assert [host.host for host in hosts] == ["www.youtube-nocookie.com"]
        host_id = hosts[0].id
    post_form(client, f"/admin/embeds/{host_id}/remove", {}, form_url="/admin/embeds")
    with app.app_context():
        assert db.session.scalar(select(func.count(EmbedHost.id))) == 0
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("embed_host.%"))
        ).all()
        assert sorted(actions) == ["embed_host.added", "embed_host.removed"]

    assert app.test_client().get("/admin/embeds").status_code in (302, 401)


def test_trainers_and_practitioners_are_refused_the_hosts_page(client, login_as):
    login_as("trainer")
    assert client.get("/admin/embeds").status_code == 403
    assert post_form(client, "/admin/embeds", {"host": "evil.example"}).status_code in (400, 403)


def test_an_allowed_embed_shows_sandboxed_with_frame_src_from_the_list(
    app, client, create_user, login_as
):
    allow_host(app, "www.youtube-nocookie.com")
    allow_host(app, "player.vimeo.com")
    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    (lesson_id,) = lesson_ids(app, module_id)
    save_body(
        client,
        module_id,
        lesson_id,
        f'<p>Talk</p><iframe src="{YOUTUBE}" title="Interview" allow="autoplay"></iframe>'
        '<iframe src="https://evil.example/x"></iframe>',
    )
    browser = learner_client(app, create_user, module_id)
    response = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}")
    page = response.get_data(as_text=True)
    assert f'<iframe src="{YOUTUBE}" title="Interview"' in page
    assert SANDBOX in page and "allow-top-navigation" not in page
    assert "evil.example" not in page
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("; frame-src https://www.youtube-nocookie.com")
    assert "frame-ancestors 'none'" in policy

    # Off the list: the embed stays in the text but shows nothing, and no frame is allowed.
    with app.app_context():
        db.session.execute(EmbedHost.__table__.delete())
        db.session.commit()
    response = browser.get(f"/courses/modules/{module_id}/lessons/{lesson_id}")
    assert "<iframe" not in response.get_data(as_text=True)
    assert "frame-src" not in response.headers["Content-Security-Policy"]


def test_other_pages_frame_no_other_site(app, client, login_as):
    allow_host(app, "www.youtube-nocookie.com")
    login_as("trainer")
    for path in ("/courses/", "/courses/manage"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "youtube" not in policy and "frame-src" not in policy


def test_pages_ask_as_many_queries_for_five_videos_as_for_one(app, client, login_as):
    from courses import lesson_videos
    from courses.models import Lesson
    from learnplatform.accounts.models import User

    trainer = login_as("trainer")
    module_id = build_module(app, trainer.id, lessons=1, post_test=False)
    (lesson_id,) = lesson_ids(app, module_id)
    paths = (
        f"/courses/modules/{module_id}/lessons/{lesson_id}",
        f"/courses/manage/{module_id}/lessons/{lesson_id}",
    )

    def add_videos(number):
        with app.app_context():
            lesson = db.session.get(Lesson, lesson_id)
            author = db.session.get(User, trainer.id)
            for _ in range(number):
                video = lesson_videos.add_video(
                    lesson, io.BytesIO(SAMPLE.read_bytes()), "clip.webm", user=author
                )
                for language, captions in (("en", CAPTIONS_EN), ("fr", CAPTIONS_FR)):
                    lesson_videos.set_captions(
                        video, language, io.BytesIO(captions), "c.vtt", user=author
                    )
                lesson_videos.count_view(video, author)
            lesson.body_html = clean_lesson_html(
                "".join(f'<figure data-video="{v.id}"></figure>' for v in lesson.videos)
            )
            db.session.commit()

    add_videos(1)
    for path in paths:
        client.get(path)  # warm
    one = [count_queries(app, client, path) for path in paths]
    add_videos(4)
    page = client.get(paths[0]).get_data(as_text=True)
    assert page.count("<video ") == 5
    assert [count_queries(app, client, path) for path in paths] == one
