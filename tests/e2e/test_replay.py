"""`crisiswatch replay` end to end, in its own process (moto's state is per process): recorded
cascades in the CED format -> the platform simulator over simulated time -> the whole loop.

The core tests replay a tiny recording written by the test (tests/ced_fixture.py) on both engines
(the embedded local AWS and the memory runtime) and check they agree tick for tick; the
``shared_data`` test replays a few real events from ../shared/data/streams/ced.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crisiswatch.vocabulary import Level
from tests import ced_fixture as fx
from tests.conftest import SHARED_DATA


def _replay(tmp_path, *args: str, timeout: int = 240) -> dict:
    path = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "tools.cli", "replay", *args, "--report", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    report = json.loads(path.read_text()) if path.exists() else {"passed": False, "checks": []}
    report["exit_code"], report["output"] = run.returncode, run.stdout + run.stderr
    return report


@functools.cache
def _fixture_replay(engine: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"replay-{engine}-"))
    events, posts = fx.write_ced(tmp / "ced")
    return _replay(
        tmp,
        "--events", str(events), "--posts", str(posts), "--speed", "0", "--events-limit", "0",
        "--hours", "0", "--keywords", "鲜味坊", "--ack-timeout", "30", "--engine", engine,
    )  # fmt: skip


@pytest.fixture(scope="module", params=["moto", "memory"])
def report(request) -> dict:
    """The same recording on both engines: every test below holds for each."""
    return _fixture_replay(request.param)


def test_the_replay_exits_0_with_every_tick_processed(report):
    failed = [c for c in report["checks"] if not c["ok"]]
    assert (report["exit_code"], failed) == (0, []), report["output"][-3000:]
    assert "=== Summary" in report["output"]


def test_the_engines_agree_tick_for_tick():
    """What was fetched, stored and decided is the same on moto and in memory. Alerts may differ
    after the first: an escalation's wait is wall-clock seconds on moto, simulated ones in memory."""
    moto, memory = _fixture_replay("moto"), _fixture_replay("memory")
    assert (moto["engine"], memory["engine"]) == ("moto", "memory")
    keep = ("tick", "at", "new", "fetched", "stored", "level", "negatives", "mentions")
    assert [{k: t[k] for k in keep} for t in memory["ticks"]] == [
        {k: t[k] for k in keep} for t in moto["ticks"]
    ]
    for key in ("posts_replayed", "posts_fetched", "posts_stored", "ticks_run", "ticks_skipped"):
        assert memory[key] == moto[key], key
    assert [i["history"] for i in memory["incidents"]] == [i["history"] for i in moto["incidents"]]
    # The first alert says the same; on moto it is sent when the execution gets to it, which can be
    # after the driver has moved the clock on by a tick (the state machine runs on its own thread).
    first_memory, first_moto = memory["alerts"][0], moto["alerts"][0]
    same = {k: v for k, v in first_memory.items() if k not in ("message_id", "at")}
    assert same == {k: v for k, v in first_moto.items() if k not in ("message_id", "at")}
    assert first_memory["at"] <= first_moto["at"]


def test_every_recorded_post_about_the_keyword_is_stored_once(report):
    assert report["posts_replayed"] == len(fx.posts())
    about = [p for p in fx.posts() if p["event_id"] in (fx.A, fx.B)]  # C is about the stock market
    assert report["posts_stored"] == len(about)
    assert report["duplicates"] == report["posts_fetched"] - report["posts_stored"]


def test_idle_days_are_skipped_not_ticked(report):
    assert report["ticks_skipped"] > 10 * 24 * 30 - 100  # ten idle days of 2-minute ticks
    assert report["ticks_run"] < 40
    assert report["simulated_seconds"] >= 10 * 86400


def test_the_incident_lives_on_simulated_time(report):
    (incident,) = report["incidents"]  # A's story (B's three posts are a story of their own)
    assert incident["history"][0]["at"].startswith("2012-09-11T03:")  # 11:4x in China, in UTC
    assert Level(incident["level"]) >= Level.BLUE
    # Quiet time is simulated time too: 30 h after the burst, the late repost finds the story
    # quiet for far longer than the 6 hours that resolve it, and the incident keeps the figures
    # stored last (the replay skips the idle ticks, so no quiet sweep refreshed them: its 16 posts).
    late = next(t for t in report["ticks"] if t["at"] >= fx.T0 + 30 * 3600)
    burst = max(t["mentions"] for t in report["ticks"])
    assert (burst, late["mentions"], incident["stats"]["mentions"]) == (16, 0, 16)
    assert incident["status"] == "resolved" and incident["resolution"]["by"] == "crisiswatch"
    assert incident["resolution"]["at"] == datetime.fromtimestamp(late["at"], UTC).isoformat().replace(
        "+00:00", "Z"
    )


def test_alerts_are_printed_as_they_are_published(report):
    assert report["alerts"], report["output"][-2000:]
    first = report["alerts"][0]
    assert first["kind"] == "alert" and first["tier"] == report["incidents"][0]["history"][0]["level"]
    assert all(len(a["sms"]) <= 70 for a in report["alerts"])
    assert "ALERT 2012-09-11 11:" in report["output"]


@pytest.mark.shared_data
@pytest.mark.parametrize("engine", ["moto", "memory"])
def test_a_few_real_events_replay(tmp_path, engine):
    ced = SHARED_DATA / "streams" / "ced"
    report = _replay(
        tmp_path,
        "--events", str(ced / "events.csv.gz"), "--posts", str(ced / "posts.csv.gz"), "--speed", "0",
        "--since", "2012-09-11", "--events-limit", "1", "--hours", "0.5", "--engine", engine,
        timeout=600,
    )  # fmt: skip
    failed = [c for c in report["checks"] if not c["ok"]]
    assert (report["exit_code"], failed) == (0, []), report["output"][-3000:]
    assert len(report["events"]) == 1 and report["keywords"]
    assert 0 < report["posts_stored"] <= report["posts_replayed"]
    assert report["ticks_run"] > 0
