"""What a SCORM commit says, read as untrusted data: times, numbers, texts and interactions."""

import pytest

from courses.scorm import cmi


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("00:02:03", 123),
        ("0001:00:00.50", 3600.5),
        ("PT1H2M3.5S", 3723.5),
        ("PT0H0M0S", 0),
        ("P1DT1M", 86460),
        ("PT", 0),
        ("P", 0),
        ("", 0),
        ("12 minutes", 0),
        (None, 0),
        (42, 0),
    ],
)
def test_time_spans_of_both_versions(duration, seconds):
    assert cmi.seconds_of(duration) == seconds


def test_times_are_written_back_as_each_version_reads_them():
    assert cmi.scorm12_time(3723.5) == "01:02:03.50"
    assert cmi.iso_duration(3723.5) == "PT1H2M3.50S"
    assert cmi.iso_duration(150) == "PT0H2M30S"


def test_a_commit_of_each_version_is_read_into_the_same_columns():
    old = cmi.read_commit(
        "1.2",
        {
            "cmi": {
                "core": {
                    "lesson_status": "passed",
                    "score": {"raw": "85", "min": "0", "max": "100"},
                    "lesson_location": "page-4",
                    "exit": "suspend",
                    "session_time": "00:05:00",
                },
                "suspend_data": "abc",
                "interactions": {"0": {"id": "q1", "student_response": "a", "time": "10:01:02"}},
            }
        },
    )
    assert (old.lesson_status, old.score_raw, old.score_percent) == ("passed", 85, 85)
    assert (old.location, old.exit, old.session_seconds, old.suspend_data) == (
        "page-4",
        "suspend",
        300,
        "abc",
    )
    assert old.interactions[0].learner_response == "a"
    assert old.interactions[0].timestamp == "10:01:02"
    assert old.is_done() and old.success == "passed"

    new = cmi.read_commit(
        "2004",
        {"cmi": {"completion_status": "incomplete", "score": {"scaled": "-0.5"}}},
    )
    assert (new.completion_status, new.success_status) == ("incomplete", None)
    assert new.score_percent == 0  # kept within 0 and 100
    assert not new.is_done()


def test_junk_changes_nothing_it_should_not():
    junk = cmi.read_commit(
        "2004",
        {
            "cmi": {
                "completion_status": "done!",
                "success_status": ["passed"],
                "score": {"raw": "NaN", "scaled": "Infinity", "min": True, "max": {"x": 1}},
                "location": "x" * 5000,
                "suspend_data": 12,
                "exit": "explode",
                "session_time": "forever",
                "interactions": {"a": {"id": "q"}, "99999999": {"id": "far"}, "1": "text"},
                "objectives": {},
            }
        },
    )
    assert (junk.completion_status, junk.success_status) == (None, None)
    assert (junk.score_raw, junk.score_scaled, junk.score_min, junk.score_max) == (None,) * 4
    assert len(junk.location) == cmi.LOCATION_LENGTH
    assert (junk.suspend_data, junk.exit, junk.session_seconds) == ("12", "", 0)
    assert junk.interactions == [] and junk.extra == {}
    assert cmi.read_commit("2004", "not a commit") == cmi.Snapshot()
    assert cmi.read_commit("1.2", {"cmi": []}) == cmi.Snapshot()


def test_raw_scores_without_a_range_read_as_percent():
    assert cmi.Snapshot(score_raw=7, score_min=0, score_max=10).score_percent == 70
    assert cmi.Snapshot(score_raw=70).score_percent == 70
    assert cmi.Snapshot(score_raw=5, score_min=5, score_max=5).score_percent == 5
    assert cmi.Snapshot().score_percent is None
