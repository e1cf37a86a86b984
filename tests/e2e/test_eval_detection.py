"""`crisiswatch eval detection` against `crisiswatch replay`: the evaluation's lean feed (recorded
posts straight to the scorer's service) decides what the full loop decides (simulator -> fetcher
-> queue -> scorer), alert for alert, on the test's own recording (tests/ced_fixture.py)."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest

from infra.local.drivers.replay import run_replay
from infra.local.simulator.cascades import read_events, read_posts, select_events
from tests import ced_fixture as fx
from tools.cli import main
from tools.evaluation.detection import Settings, evaluate_cascade, onset_of, summarize_cascades


@pytest.fixture(scope="module")
def ced(tmp_path_factory):
    return fx.write_ced(tmp_path_factory.mktemp("ced"))


def _alerts_of_replay(events, posts) -> list[tuple[str, str]]:
    report = run_replay(
        events, posts, event_ids=[fx.A], events_limit=None, hours=None, keywords=["鲜味坊"],
        engine="memory", out=io.StringIO(), handler_log=io.StringIO(),
    )  # fmt: skip
    assert report.passed, report.checks
    return [(h["at"], h["level"]) for i in report.incidents for h in i["history"]]


def test_the_evaluation_alerts_when_and_as_the_replay_does(ced):
    events, posts = ced
    (event,) = select_events(read_events(events), event_ids=[fx.A])
    line = evaluate_cascade(
        event, list(read_posts(posts, [event])), Settings(hours=48, brand_terms=("鲜味坊",))
    )
    evaluated = [(datetime.fromisoformat(a["at"]), a["level"]) for a in line["alerts"]]
    replayed = [(datetime.fromisoformat(at), level) for at, level in _alerts_of_replay(events, posts)]
    assert evaluated and evaluated == replayed


def test_the_command_writes_a_line_per_cascade_and_a_summary(ced, tmp_path):
    events, posts = ced
    out = tmp_path / "alerts.jsonl"
    assert (
        main(
            [
                "eval",
                "detection",
                "--events",
                str(events),
                "--posts",
                str(posts),
                "--workers",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["event_id"] for line in lines[:-1]) == sorted([fx.A, fx.B, fx.C])
    assert set(lines[-1]) == {"summary"}
    first = next(line for line in lines if line.get("event_id") == fx.A)
    assert first["alerts"] and {"at", "level", "incident_id", "reason"} <= set(first["alerts"][0])
    assert datetime.fromisoformat(first["alerts"][0]["at"]).utcoffset().total_seconds() == 8 * 3600


def test_onset_is_the_first_post_with_fifty_in_the_hour_before_it():
    assert onset_of([0] * 49) is None
    assert onset_of(list(range(0, 50 * 60, 60))) == 49 * 60
    assert onset_of([0] * 10 + list(range(4000, 4000 + 50 * 10, 10))) == 4000 + 49 * 10


def test_the_summary_counts_alerted_within_fifteen_minutes_of_onset():
    def line(onset, *alerts, negative=0.5):
        return {
            "event_id": "e", "posts": 600, "onset": onset, "negative_share": negative,
            "alerts": [{"at": at, "level": level} for at, level in alerts],
        }  # fmt: skip

    t = "2012-09-11T12:00:00+08:00"
    lines = [
        line(t, ("2012-09-11T11:50:00+08:00", "blue"), ("2012-09-11T12:40:00+08:00", "orange")),  # early
        line(t, ("2012-09-11T12:20:00+08:00", "yellow")),  # 20 minutes late
        line(t, negative=0.1),  # never
    ]
    summary = summarize_cascades(lines)
    assert summary["alerted_within_15_min"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["orange_within_60_min"] == 0.5  # of the two negative ones
    assert summary["highest_level_big"] == {"none": 1, "blue": 0, "yellow": 1, "orange": 1, "red": 0}
