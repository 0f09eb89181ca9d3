"""What modules and webinar recordings tell the Learning Record Store, read back from a real
one (Ralph): enrolments, lessons done, completions, tests, downloads and the player's events."""

import pytest

from tests.courses.test_modules import (
    build_module,
    enrol_in,
    enrolment,
    lesson_ids,
    option_ids,
    take_post_test,
)
from tests.courses.test_webinars import read_all, series_with_webinar
from tests.helpers import PASSWORD, Auth, csrf_token, post_form

VERBS = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def app(lrs_app):
    """Every test here sends statements to the LRS."""
    return lrs_app


def said(lrs) -> list[tuple[str, str]]:
    """(verb, activity path) of each statement, in the order the LRS stored them."""
    return [
        (
            statement["verb"]["display"]["en-US"],
            statement["object"]["id"].removeprefix("http://localhost"),
        )
        for statement in lrs.statements()
    ]


def test_a_learner_s_way_through_a_module_reaches_the_lrs(app, client, login_as, lrs):
    module_id = build_module(app)
    learner = login_as()
    enrol_in(client, module_id)
    first, second = lesson_ids(app, module_id)
    for lesson_id in (first, second):
        url = f"/courses/modules/{module_id}/lessons/{lesson_id}"
        post_form(client, url + "/done", {}, form_url=url)
        post_form(client, url + "/done", {}, form_url=url)  # done again: nothing new
    answers = option_ids(app, module_id)
    single, multiple = answers
    take_post_test(client, module_id, {single: answers[single][1][:1]})
    take_post_test(client, module_id, {single: answers[single][0], multiple: answers[multiple][0]})

    module = f"/courses/modules/{module_id}"
    post_test = f"{module}/post_test"
    assert said(lrs) == [
        ("registered", module),
        ("completed", f"{module}/lessons/{first}"),
        ("progressed", module),
        ("completed", f"{module}/lessons/{second}"),
        ("progressed", module),
        ("failed", post_test),
        ("passed", post_test),
        ("completed", module),
    ]
    statements = lrs.statements()
    assert {s["actor"]["account"]["name"] for s in statements} == {learner.xapi_id}
    progress = "https://w3id.org/xapi/cmi5/result/extensions/progress"
    assert [
        s["result"]["extensions"][progress]
        for s in statements
        if s["verb"]["id"].endswith("progressed")
    ] == [50, 100]
    lesson = statements[1]
    assert lesson["object"]["definition"] == {
        "type": "http://adlnet.gov/expapi/activities/lesson",
        "name": {"en": "Lesson 1"},
    }
    assert lesson["context"]["contextActivities"]["parent"][0]["id"].endswith(module)
    assert lesson["context"]["language"] == "en"
    failed, passed, completed = statements[-3:]
    assert failed["result"]["score"] == {"raw": 0, "min": 0, "max": 2, "scaled": 0}
    assert failed["result"]["success"] is False
    assert passed["result"]["score"] == {"raw": 2, "min": 0, "max": 2, "scaled": 1}
    assert passed["result"]["success"] is True
    assert passed["result"]["duration"].startswith("PT")
    assert completed["result"] == {
        "score": {"raw": 100, "min": 0, "max": 100, "scaled": 1},
        "completion": True,
    }


def test_enrolments_by_approval_and_invitation_are_registered_when_active(
    app, client, login_as, create_user, lrs
):
    trainer = create_user(role="trainer", email="trainer@example.org")
    approval_id = build_module(app, trainer.id, mode="approval", title="By approval")
    invitation_id = build_module(app, trainer.id, mode="invitation", title="By invitation")
    learner = login_as(email="learner@example.org")
    enrol_in(client, approval_id)
    assert said(lrs) == []  # a request is not an enrolment

    trainer_client = app.test_client()
    Auth(trainer_client).login("trainer@example.org", PASSWORD)
    manage = f"/courses/manage/{approval_id}"
    request_id = enrolment(app, approval_id, learner.id).id
    post_form(
        trainer_client, f"{manage}/requests/{request_id}", {"decision": "accept"}, form_url=manage
    )
    post_form(
        trainer_client,
        f"/courses/manage/{invitation_id}/invite",
        {"emails": "learner@example.org"},
        form_url=f"/courses/manage/{invitation_id}",
    )

    assert said(lrs) == [
        ("registered", f"/courses/modules/{approval_id}"),
        ("registered", f"/courses/modules/{invitation_id}"),
    ]


def test_downloads_of_a_recording_and_its_slides_are_told_once_complete(
    app, client, login_as, create_user, lrs
):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    login_as()
    response = client.get(f"/courses/webinars/{webinar_id}/recording/download")
    assert said(lrs) == []  # not before the last byte
    read_all(response)
    read_all(client.get(f"/courses/webinars/{webinar_id}/recording"))  # the player's: no

    ((verb, path),) = said(lrs)
    assert (verb, path) == ("downloaded", f"/courses/webinars/{webinar_id}")
    (statement,) = lrs.statements()
    assert statement["object"]["definition"]["type"] == (
        "https://w3id.org/xapi/video/activity-type/video"
    )


def player(client, webinar_id, **form):
    token = csrf_token(client, f"/courses/webinars/{webinar_id}")
    return client.post(
        f"/courses/webinars/{webinar_id}/player-events", data=form, headers={"X-CSRFToken": token}
    )


def test_the_player_tells_plays_pauses_seeks_and_the_end(app, client, login_as, create_user, lrs):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    login_as()
    page = client.get(f"/courses/webinars/{webinar_id}").get_data(as_text=True)
    assert f'data-events-url="/courses/webinars/{webinar_id}/player-events"' in page

    assert player(client, webinar_id, verb="played", time="0", length="300").status_code == 204
    player(client, webinar_id, verb="paused", time="12.5", length="300")
    player(client, webinar_id, verb="seeked", time="200", **{"from": "12.5"}, length="300")
    player(client, webinar_id, verb="completed", time="300", length="300")

    video = "https://w3id.org/xapi/video/extensions/"
    statements = lrs.statements()
    assert [s["verb"]["id"] for s in statements] == [
        "https://w3id.org/xapi/video/verbs/played",
        "https://w3id.org/xapi/video/verbs/paused",
        "https://w3id.org/xapi/video/verbs/seeked",
        VERBS + "completed",
    ]
    played, paused, seeked, completed = statements
    assert played["result"]["extensions"] == {video + "time": 0}
    assert paused["result"]["extensions"] == {video + "time": 12.5}
    assert seeked["result"]["extensions"] == {video + "time-from": 12.5, video + "time-to": 200}
    assert completed["result"] == {
        "completion": True,
        "extensions": {video + "time": 300, video + "progress": 1},
    }
    assert completed["context"]["extensions"] == {video + "length": 300}


def test_the_player_s_reports_are_checked_and_throttled(app, client, login_as, create_user, lrs):
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    _, without_recording = series_with_webinar(app, trainer.id, recording=False)
    login_as()
    assert player(client, webinar_id, verb="liked", time="1").status_code == 400
    assert player(client, webinar_id, verb="played", time="nan").status_code == 400
    assert player(client, webinar_id, verb="played", time="-1").status_code == 400
    assert player(client, without_recording, verb="played", time="1").status_code == 404
    no_token = client.post(
        f"/courses/webinars/{webinar_id}/player-events", data={"verb": "played", "time": "1"}
    )
    assert no_token.status_code == 400
    answers = [player(client, webinar_id, verb="paused", time="1").status_code for _ in range(60)]
    assert answers[-1] == 429
    assert len(lrs.statements()) == answers.count(204)


def test_without_an_lrs_the_player_reports_nothing(app, client, login_as, create_user, lrs):
    app.config["LRS_URL"] = ""
    trainer = create_user(role="trainer")
    _, webinar_id = series_with_webinar(app, trainer.id)
    login_as()
    page = client.get(f"/courses/webinars/{webinar_id}").get_data(as_text=True)
    assert "data-events-url" not in page
    assert player(client, webinar_id, verb="played", time="0").status_code == 204
    assert lrs.statements() == []
