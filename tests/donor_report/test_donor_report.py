"""The donor report: its figures checked against counts made here from the statistics' hand-built
data set, narrowed by the modules, iRooms and webinar series chosen; a trainer's own share; no
report for practitioners nor from a bad form; the PDF made in the background, in English and in
Arabic, read back with pdftotext; its download recorded."""

import html
import re
import shutil
import subprocess
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from courses.models import Enrolment, Module, WebinarSeries
from irooms.models import LiveSession, Room
from learnplatform.accounts.models import User
from learnplatform.audit import AuditEvent
from learnplatform.donor_report import pdf
from learnplatform.extensions import db
from learnplatform.stats.models import StatisticsExport
from tests.helpers import count_queries, csrf_token
from tests.stats import test_activity_figures, test_statistics
from tests.stats import test_knowledge_gain as gain_tests
from tests.stats.test_activity_figures import RECORDING_EVENTS, SESSIONS
from tests.stats.test_statistics import ENROLMENTS, PEOPLE, logged_in
from tests.surveys import test_results as survey_tests
from tests.surveys.test_results import SIX

#: the statistics' data set: six learners, trainer A (modules m1 and m2, webinar w1's series,
#: iRoom r1), trainer B (m3, w2's series, r2) and an administrator; with its recordings, iRooms
#: and live sessions
data = test_statistics.data
activity = test_activity_figures.activity

Q2 = (date(2026, 4, 1), date(2026, 6, 30))
EVERYTHING = {"modules": ("m1", "m2", "m3"), "rooms": ("r1", "r2"), "webinars": ("w1", "w2")}


def expected(
    start=None, end=None, modules=("m1", "m2", "m3"), rooms=("r1", "r2"), webinars=("w1", "w2")
):
    """The report's figures as the page shows them in English, counted from the lists."""

    def inside(moment):
        return (
            moment is not None
            and (start is None or moment.date() >= start)
            and (end is None or moment.date() <= end)
        )

    kept = [row for row in ENROLMENTS if row[1] in modules]
    trained = {person for person, _, _, completed, _ in kept if inside(completed)}
    enrolled = [row for row in kept if inside(row[2])]
    women = {person for person in trained if PEOPLE[person][1] == "woman"}
    held = [
        row
        for row in SESSIONS
        if row[0] in rooms and inside(row[1]) and row[1] < datetime(2098, 1, 1)
    ]
    events = [row for row in RECORDING_EVENTS if row[0] in webinars and inside(row[3])]
    return {
        "trained": str(len(trained)),
        "enrolled": str(len({person for person, *_ in enrolled})),
        "countries": str(len({PEOPLE[person][0] for person in trained})),
        "women": percent(len(women), len(trained)),
        "enrolments": str(len(enrolled)),
        "completions": str(sum(1 for row in kept if inside(row[3]))),
        "completion-rate": percent(sum(1 for row in enrolled if row[3]), len(enrolled)),
        "views": str(sum(1 for row in events if row[1] == "view")),
        "downloads": str(sum(1 for row in events if row[1] in ("download", "slides"))),
        "sessions": str(len(held)),
        "attendances": str(sum(len(row[2]) for row in held)),
    }


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "\N{EN DASH}"


FIGURE = re.compile(r'id="figure-([\w-]+)">\s*<dt>[^<]*</dt>\s*<dd>(.*?)</dd>')


def figures_on(page: str) -> dict[str, str]:
    """The report's headline figures as the page shows them."""
    return {key: html.unescape(re.sub("<[^>]+>", "", value)) for key, value in FIGURE.findall(page)}


def report_page(browser, **args):
    response = browser.get("/stats/donor-report/", query_string=args)
    return response, response.get_data(as_text=True)


def series_ids(app) -> dict[str, int]:
    with app.app_context():
        return {
            title.removeprefix("Series of "): series_id
            for series_id, title in db.session.execute(
                select(WebinarSeries.id, WebinarSeries.title)
            )
        }


@pytest.mark.parametrize(
    ("args", "period"),
    [
        ({"quarter": "2026-Q2"}, Q2),
        ({}, (None, None)),
        ({"start": "2026-02-01", "end": "2026-04-30"}, (date(2026, 2, 1), date(2026, 4, 30))),
    ],
)
def test_the_figures_match_counts_made_here(app, data, activity, args, period):
    admin = logged_in(app, data["admin"])
    response, page = report_page(admin, **args)
    assert response.status_code == 200
    assert figures_on(page) == expected(*period)


def test_choosing_modules_rooms_and_series_narrows_the_figures(app, data, activity):
    admin = logged_in(app, data["admin"])
    series = series_ids(app)
    response, page = report_page(
        admin,
        modules=[data["modules"]["m2"]],
        rooms=[activity["r1"]],
        series=[series["w2"]],
    )
    assert response.status_code == 200
    assert figures_on(page) == expected(modules=("m2",), rooms=("r1",), webinars=("w2",))
    selection = page[page.index('id="report-selection"') :]
    assert "Preuves électroniques" in selection[: selection.index("</dl>")]
    assert "Room r1" in selection[: selection.index("</dl>")]
    # Modules alone: the iRooms and webinar series are all of them.
    _, page = report_page(
        admin, quarter="2026-Q2", modules=[data["modules"]["m1"], data["modules"]["m3"]]
    )
    assert figures_on(page) == expected(*Q2, modules=("m1", "m3"))
    assert "All the iRooms covered (2)" in page


def test_a_trainer_sees_the_modules_rooms_and_series_they_run_and_no_other(app, data, activity):
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    response, page = report_page(trainer)
    assert response.status_code == 200
    assert figures_on(page) == expected(modules=("m1", "m2"), rooms=("r1",), webinars=("w1",))
    assert "Supporting victims" not in page and "Room r2" not in page
    # Their one room and one series, worded as one.
    assert "The iRoom covered (1)" in page and "The webinar series covered (1)" in page
    response, page = report_page(trainer, modules=[data["modules"]["m3"]])
    assert response.status_code == 400
    assert "Choose modules from the list." in page
    assert 'id="figure-trained"' not in page
    response, page = report_page(trainer, rooms=[activity["r2"]])
    assert response.status_code == 400
    assert "Choose iRooms from the list." in page


def test_a_practitioner_gets_no_report(app, data):
    learner = logged_in(app, data["people"]["p1"])
    assert learner.get("/stats/donor-report/").status_code == 403
    token = csrf_token(learner, "/")
    response = learner.post("/stats/donor-report/pdf", data={"csrf_token": token, "form_key": "k"})
    assert response.status_code == 403
    assert app.test_client().get("/stats/donor-report/").status_code == 302  # to log in


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"quarter": "2026-Q7"}, "Choose a quarter from the list."),
        (
            {"start": "2026-05-01", "end": "2026-04-01"},
            "The end of the period comes before its start.",
        ),
        ({"start": "the first of May"}, "Not a valid date value."),
        ({"modules": "abc"}, "Choose modules from the list."),
        ({"series": "999999"}, "Choose webinar series from the list."),
        ({"language": "de"}, "Not a valid choice."),
    ],
)
def test_a_bad_form_is_refused_with_a_message_and_asks_no_pdf(app, data, args, message):
    admin = logged_in(app, data["admin"])
    response, page = report_page(admin, **args)
    assert response.status_code == 400
    assert message in html.unescape(page)
    assert 'id="figure-trained"' not in page
    token = csrf_token(admin, "/stats/donor-report/")
    response = admin.post(
        "/stats/donor-report/pdf", query_string=args, data={"csrf_token": token, "form_key": "k1"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatisticsExport)) == 0


def ask_for_pdf(app, browser, person, **args) -> StatisticsExport:
    """Press "Prepare as PDF" under the report of ``args``, as ``person``; their one export."""
    page = browser.get("/stats/donor-report/", query_string=args).get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="(/stats/donor-report/pdf[^"]*)"(.*?)</form>', page, re.S
    )
    action = html.unescape(form[1])
    fields = dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]*)"', form[2]))
    response = browser.post(action, data=fields)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/stats/exports/")
    with app.app_context():
        (export,) = db.session.scalars(
            select(StatisticsExport).where(StatisticsExport.user_id == person.id)
        ).all()
        db.session.expunge(export)
    assert export.status == "ready", export.failure
    return export


def pdf_text(browser, export, tmp_path) -> str:
    """The text of the export's PDF, downloaded as its person does, read by pdftotext."""
    response = browser.get(f"/stats/exports/{export.id}/download")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    path = tmp_path / export.file_name
    path.write_bytes(response.data)
    response.close()
    program = shutil.which("pdftotext")
    assert program, "pdftotext (poppler-utils) is needed"
    return subprocess.run(  # noqa: S603 (our own file, a fixed program)
        [program, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_pdf_in_english_holds_the_figures_and_its_download_is_recorded(
    app, data, activity, tmp_path
):
    admin = logged_in(app, data["admin"])
    export = ask_for_pdf(app, admin, data["admin"], quarter="2026-Q2", language="en")
    assert export.file_name.endswith("-en.pdf")
    listed = admin.get("/stats/exports/").get_data(as_text=True)
    assert "Donor report (English)" in listed and "PDF" in listed
    text = " ".join(pdf_text(admin, export, tmp_path).split())
    want = expected(*Q2)
    assert "Training report" in text
    assert "From April 1, 2026 to June 30, 2026" in text
    assert f"{want['trained']} learners completed at least one module in this period." in text
    assert f"Women are {want['women']} of them." in text
    assert f"Webinar recordings were watched {want['views']} times in the period" in text
    assert f"{want['sessions']} live session was held" in text
    assert "Police and law enforcement" in text  # p2 (police) completed m3 in April
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "statistics_exported")
        ).one()
        assert event.actor_id == data["admin"].id
        assert event.details["dataset"] == "donor-report"
        assert event.details["format"] == "pdf"
        assert event.details["filters"]["quarter"] == "2026-Q2"


def test_the_pdf_in_arabic_is_written_in_arabic(app, data, activity, tmp_path):
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    export = ask_for_pdf(app, trainer, data["trainers"]["trainer_a"], language="ar")
    assert export.file_name.endswith("-ar.pdf")
    # pdftotext writes lam-alef ligatures apart, out of order: words without one are checked;
    # and it marks right-to-left runs (U+202B ... U+202C), which go.
    text = re.sub("[\u202a-\u202e]", "", pdf_text(trainer, export, tmp_path))
    for words in ("منصة التعلم", "البلدان", "الجلسات المعقودة", "المشاهدات", "ديسمبر"):
        assert words in text, words
    assert "Supporting victims" not in text  # trainer B's module


def test_a_trainer_who_lost_a_module_since_gets_no_pdf_of_it(app, data, activity):
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    with app.app_context():
        export = pdf.ask_for_pdf(
            db.session.get(User, data["trainers"]["trainer_a"].id),
            {"language": "en", "modules": [str(data["modules"]["m3"])]},
            form_key="lost",
        )
        db.session.commit()
        db.session.refresh(export)
        assert (export.status, export.failure, export.file) == ("failed", "filters", None)
    assert "no longer fit" in trainer.get("/stats/exports/").get_data(as_text=True)


def test_the_dashboard_and_the_administrators_home_link_to_it(app, data):
    admin = logged_in(app, data["admin"])
    assert 'href="/stats/donor-report/"' in admin.get("/").get_data(as_text=True)
    dashboard = admin.get("/stats/?quarter=2026-Q2").get_data(as_text=True)
    assert 'href="/stats/donor-report/?quarter=2026-Q2"' in dashboard
    trainer = logged_in(app, data["trainers"]["trainer_a"])
    assert 'href="/stats/donor-report/"' in trainer.get("/stats/").get_data(as_text=True)


tests_taken = gain_tests.tests_taken


def said(page: str) -> str:
    """The page's text, tags out and spaces collapsed, to find its sentences in."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return re.sub(r" ([:;,.])", r"\1", text)


@pytest.fixture
def surveyed(app, data, create_user):
    """An anonymous evaluation of m1 answered by six people, a three-month follow-up of m2
    answered by five and a six-month one of m3 by four, all in May 2026."""
    modules = data["modules"]
    evaluation = survey_tests.build_survey(app, module_id=modules["m1"])
    follow_up = survey_tests.build_survey(
        app, module_id=modules["m2"], purpose="follow_up", months=3
    )
    few = survey_tests.build_survey(app, module_id=modules["m3"], purpose="follow_up", months=6)
    in_may = date(2026, 5, 10)
    for survey_id, answers in ((evaluation, SIX), (follow_up, SIX[:5]), (few, SIX[:4])):
        for values in answers:
            survey_tests.answer(app, survey_id, create_user(), values, day=in_may)


def test_knowledge_gain_satisfaction_and_follow_ups_are_those_counted_here(
    app, data, tests_taken, surveyed
):
    admin = logged_in(app, data["admin"])
    _, page = report_page(admin, quarter="2026-Q2")
    figures, text = figures_on(page), said(page)

    gained = gain_tests.expected(*Q2)[None]
    assert figures["gain-learners"] == str(gained["learners"])
    assert figures["pre"] == f"{round(gained['average_pre'])}%"
    assert figures["post"] == f"{round(gained['average_post'])}%"
    assert figures["improved"] == f"{round(gained['share_improved'])}%"
    sign = "+" if gained["average_gain"] > 0 else ""
    assert f"a change of {sign}{gained['average_gain']:g} percentage points" in text

    agreement = [values[0] for values in SIX]
    marks = [values[1] for values in SIX]
    assert figures["respondents"] == "6"
    assert figures["agreement"] == f"{round(sum(agreement) / 6, 2):g}"
    assert figures["recommendation"] == f"{round(sum(marks) / 6, 1):g}"
    score = round(100 * (sum(m >= 9 for m in marks) - sum(m <= 6 for m in marks)) / 6)
    assert figures["recommendation-score"] == f"+{score}"

    assert "Preuves électroniques · 3 months after completion" in text
    assert "5 people answered this follow-up survey in the period." in text
    agree = sum(values[0] >= 4 for values in SIX[:5])
    average = sum(values[0] for values in SIX[:5]) / 5
    assert (
        f"The module was useful for my work. {round(100 * agree / 5)}% agree or strongly agree; "
        f"average {average:g} on a scale from 1 to 5."
    ) in text
    assert "Lessons: 40% · Case studies: 40% · Post-test: 20%" in text
    assert "More case studies from the Sahel" not in text  # free text stays in the results
    # Four answers to an anonymous survey: none shown.
    assert "Supporting victims in criminal proceedings · 6 months after completion" in text
    assert "Fewer than five people answered this anonymous survey" in text


def test_the_surveys_and_the_gain_follow_the_modules_chosen(app, data, tests_taken, surveyed):
    admin = logged_in(app, data["admin"])
    _, page = report_page(admin, quarter="2026-Q2", modules=[data["modules"]["m1"]])
    text = said(page)
    assert figures_on(page)["respondents"] == "6"
    assert "No follow-up survey asks the learners of these modules" in text
    # m1's post-tests were all taken before April.
    assert gain_tests.expected(*Q2, keep=lambda person, module: module == "m1") == {}
    assert "No learner took both the pre-test and the post-test" in text
    _, page = report_page(admin, quarter="2026-Q2", modules=[data["modules"]["m2"]])
    in_m2 = gain_tests.expected(*Q2, keep=lambda person, module: module == "m2")[None]
    assert figures_on(page)["gain-learners"] == str(in_m2["learners"])
    assert figures_on(page)["pre"] == f"{round(in_m2['average_pre'])}%"
    _, page = report_page(admin, quarter="2026-Q2", modules=[data["modules"]["m3"]])
    text = said(page)
    assert "respondents" not in figures_on(page)
    assert "Nobody answered an end-of-module evaluation" in text
    assert "Fewer than five people answered this anonymous survey" in text
    assert "Preuves électroniques · 3 months" not in text


def test_the_report_costs_the_same_queries_for_a_few_rows_as_for_many(
    app, data, activity, surveyed, create_user
):
    admin = logged_in(app, data["admin"])
    path = "/stats/donor-report/?quarter=2026-Q2"
    few = count_queries(app, admin, path)
    with app.app_context():
        for number in range(4):
            module = Module(
                title=f"Module {number}",
                theme="financing",
                language="en",
                is_published=True,
                created_by_id=data["trainers"]["trainer_a"].id,
            )
            room = Room(name=f"Room {number}", language="en", theme="cooperation")
            db.session.add_all([module, room])
            db.session.flush()
            for person in data["people"].values():
                db.session.add(
                    Enrolment(
                        module_id=module.id,
                        user_id=person.id,
                        status="active",
                        requested_at=datetime(2026, 5, 1),
                        enrolled_at=datetime(2026, 5, 1),
                        completed_at=datetime(2026, 5, 20),
                    )
                )
            ended = datetime(2026, 5, 2, 15)
            db.session.add(
                LiveSession(room_id=room.id, title="Session", starts_at=ended, ends_at=ended)
            )
        db.session.commit()
        module_ids = db.session.scalars(select(Module.id).where(Module.title.like("Module %")))
        module_ids = list(module_ids)
    for module_id in module_ids:
        survey_id = survey_tests.build_survey(app, module_id=module_id, purpose="follow_up")
        survey_tests.answer(app, survey_id, create_user(), SIX[0], day=date(2026, 5, 10))
    assert count_queries(app, admin, path) == few
