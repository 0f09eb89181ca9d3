"""The JSON API: tokens required, the dashboard's figures and filters, completion records paged by
key, and every example of docs/api.md run as written."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from learnplatform.accounts.tokens import create_token
from learnplatform.audit import AuditEvent
from learnplatform.extensions import db
from tests.stats.test_statistics import ENROLMENTS, data, expected  # noqa: F401  (a fixture)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BASE = "https://learning.example.org"


def token_of(app, user) -> str:
    with app.app_context():
        from learnplatform.accounts.models import User

        owner = db.session.get(User, user.id)
        _, raw = create_token(owner, "Reporting workbook", actor=owner)
        db.session.commit()
        return raw


@pytest.fixture
def api(app, data):  # noqa: F811
    """GET through the API with the administrator's token."""
    token = token_of(app, data["admin"])
    client = app.test_client()

    def get(path, **kwargs):
        headers = kwargs.pop("headers", {"Authorization": f"Bearer {token}"})
        return client.get(path, base_url=BASE, headers=headers, **kwargs)

    return get


def test_every_example_in_the_documentation_answers_as_written(api):
    text = DOCS.read_text(encoding="utf-8")
    examples = re.findall(
        r"```http\n(GET [^\n]+)\n(?:Authorization: [^\n]+\n)?```\n\n"
        r"[^\n]*?(\d{3})[^\n]*\n\n```json\n(.*?)\n```",
        text,
        re.S,
    )
    assert len(examples) >= 6
    for request_line, status, body in examples:
        path = request_line.split()[1]
        with_token = "Authorization" in text.split(request_line, 1)[1].split("```", 1)[0]
        response = api(path) if with_token else api(path, headers={})
        assert response.status_code == int(status), path
        assert response.get_json() == json.loads(body), path


def test_without_a_valid_token_nothing_is_answered(app, api, data):  # noqa: F811
    for headers in (
        {},
        {"Authorization": "Bearer lp_not-a-token"},
        {"Authorization": "Basic YWRtaW46cGFzc3dvcmQ="},
        {"Authorization": "Bearer " + "x" * 5000},
    ):
        response = api("/api/v1/statistics", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorised"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # A logged-in browser session is not a token either.
    from tests.helpers import Auth

    browser = app.test_client()
    Auth(browser).login(data["admin"].email)
    assert browser.get("/api/v1/statistics").status_code == 401


def test_a_token_stops_working_when_its_owner_is_no_longer_an_administrator(app, data):  # noqa: F811
    raw = token_of(app, data["admin"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/statistics", headers=headers).status_code == 200
    with app.app_context():
        from learnplatform.accounts.models import User

        db.session.get(User, data["admin"].id).role = "trainer"
        db.session.commit()
    assert client.get("/api/v1/statistics", headers=headers).status_code == 401


def test_the_figures_are_the_dashboards(api):
    answer = api("/api/v1/statistics?quarter=2026-Q2&group=gender").get_json()
    from datetime import date

    want = expected(date(2026, 4, 1), date(2026, 6, 30))
    assert answer["totals"] == want[None]
    assert {row["gender"] for row in answer["rows"]} == {"woman", "man", "undisclosed"}


def test_completion_records_page_by_key_without_gaps_or_repeats(app, api):
    seen, path, pages = [], "/api/v1/completions?limit=3", 0
    while path:
        answer = api(path).get_json()
        seen += [record["enrolment_id"] for record in answer["records"]]
        path = answer["next"] and answer["next"].removeprefix(BASE)
        pages += 1
    assert len(seen) == len(set(seen)) == len(ENROLMENTS)
    assert seen == sorted(seen)
    assert pages == 4
    # A record added between two pages, after the key, still comes; none comes twice.
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "statistics_exported")
        ).all()
        assert [(e.details["dataset"], e.details["format"]) for e in events] == [
            ("completions", "api")
        ]


def test_bad_parameters_are_refused_with_the_reason(api):
    cases = {
        "/api/v1/statistics?region=999": "invalid_filters",
        "/api/v1/statistics?start=2026-13-01": "invalid_filters",
        "/api/v1/statistics?group=password": "invalid_filters",
        "/api/v1/statistics/periods?interval=week": "invalid_filters",
        "/api/v1/completions?limit=0": "invalid_page",
        "/api/v1/completions?limit=100000": "invalid_page",
        "/api/v1/completions?after=-4": "invalid_page",
        "/api/v1/completions?limit=ten": "invalid_page",
    }
    for path, code in cases.items():
        response = api(path)
        assert response.status_code == 400, path
        assert response.get_json()["error"] == code, path
