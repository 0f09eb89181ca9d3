"""What a SCORM lesson tells the Learning Record Store: read back from a real one (Ralph)."""

import pytest

from tests.courses.test_scorm_player import (
    CONTENT,
    commit,
    enrolled_learner,
    import_package,
    new_module,
    player_config,
)
from tests.helpers import csrf_token
from tests.scorm_packages import scorm_2004_package


@pytest.fixture
def app(lrs_app):
    lrs_app.config["SCORM_CONTENT_ORIGIN"] = CONTENT
    return lrs_app


def test_a_scorm_lesson_sends_its_statements_in_order(app, client, login_as, lrs):
    trainer = login_as("trainer")
    module_id = new_module(app, trainer.id)
    import_package(client, module_id, scorm_2004_package(title="Returning fighters"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    learner = enrolled_learner(app, client, login_as, module_id)
    lesson_url = next(
        line.split('"')[1]
        for line in client.get(f"/courses/modules/{module_id}").get_data(as_text=True).split()
        if line.startswith('href="/courses/modules/') and "/lessons/" in line
    )

    config, token = player_config(client.get(lesson_url).get_data(as_text=True))
    client.post(config["initializedUrl"], json={"session": 1}, headers={"X-CSRFToken": token})
    commit(client, config, token, 1, {"location": "q2", "exit": "suspend"}, terminate=True)
    config, token = player_config(client.get(lesson_url).get_data(as_text=True))
    client.post(config["initializedUrl"], json={"session": 2}, headers={"X-CSRFToken": token})
    finished = {
        "completion_status": "completed",
        "success_status": "passed",
        "score": {"scaled": "0.9", "raw": "9", "min": "0", "max": "10"},
        "session_time": "PT1M",
        "exit": "normal",
    }
    commit(client, config, token, 1, finished, terminate=True)

    statements = lrs.statements()
    sco_verbs = [
        s["verb"]["id"].rsplit("/", 1)[1]
        for s in statements
        if s["object"]["id"].endswith("sco=ITEM-1")
    ]
    assert sco_verbs == [
        "launched",
        "initialized",
        "terminated",
        "launched",
        "initialized",
        "terminated",
        "passed",
    ]
    passed = next(s for s in statements if s["verb"]["id"].endswith("/passed"))
    assert passed["result"]["score"] == {"scaled": 0.9, "raw": 9, "min": 0, "max": 10}
    assert passed["result"]["success"] is True and passed["result"]["completion"] is True
    assert passed["result"]["duration"] == "PT1M"
    assert passed["object"]["definition"]["name"] == {"en": "Part 1"}
    context = passed["context"]
    assert context["contextActivities"]["grouping"][0]["id"].endswith(f"/modules/{module_id}")
    # One registration per attempt, the same in every statement of it.
    assert (
        len({s["context"]["registration"] for s in statements if "sco=" in s["object"]["id"]}) == 1
    )
    # The learner is a pseudonymous account, never their address.
    for statement in statements:
        assert "mbox" not in statement["actor"]
        assert learner.email not in str(statement)
