"""`crisiswatch demo` end to end, in its own process as `make demo` runs it: simulator -> the whole
loop on moto -> alerts -> API -> acknowledgement.

It fails if any step of the loop does, and checks what a PR team relies on, not only that the
demo's own checks passed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crisiswatch.vocabulary import Level
from infra.local.drivers.demo import SUBSCRIBERS


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("demo") / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "tools.cli", "demo", "--ack-timeout", "2", "--report", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = json.loads(path.read_text()) if path.exists() else {"passed": False, "checks": []}
    result["exit_code"], result["output"] = run.returncode, run.stdout + run.stderr
    return result


def test_the_demo_exits_0_with_every_step_passed(report):
    failed = [c for c in report["checks"] if not c["ok"]]
    assert (report["exit_code"], failed) == (0, []), report["output"][-3000:]
    assert len(report["checks"]) >= 15


def test_the_incident_opened_at_the_right_level_with_its_reasons(report):
    incident = report["incident"]
    assert Level(incident["level"]) >= Level.ORANGE
    assert [h["level"] for h in incident["history"]][0] in ("blue", "yellow")
    assert all(h["reason"].startswith(Level(h["level"]).chinese) for h in incident["history"])
    assert incident["deadlines"]["first_statement"] < incident["deadlines"]["detailed_statement"]
    assert any("food_safety" in p["categories"] for p in incident["top_posts"])


def test_the_right_subscribers_got_the_message(report):
    levels_by_endpoint = {s["endpoint"]: set(s["levels"]) for s in SUBSCRIBERS}
    received: dict[str, set[str]] = {}
    for delivery in report["deliveries"]:
        endpoint = delivery["subscriber"]["endpoint"]
        received.setdefault(endpoint, set()).add(delivery["level"])
        assert delivery["level"] in levels_by_endpoint[endpoint]
    assert received["+8613800000002"] == {"red"}  # management hears only red
    assert "blue" in received["analysts@example.com"]
    sms = [d for d in report["deliveries"] if d["subscriber"]["protocol"] == "sms"]
    assert sms and all(len(d["text"]) <= 70 for d in sms)
    alerts = [
        d
        for d in report["deliveries"]
        if d["subscriber"]["protocol"] == "email"
        and not any(k in d["subject"] for k in ("due soon", "MISSED", "digest"))
    ]
    assert alerts and all("依据 Reason" in d["text"] for d in alerts)
    for delivery in report["deliveries"]:  # each publish reached only the people it named
        assert delivery["subscriber"]["filter_policy"]["recipient"][0] in delivery["recipients"]


def test_the_response_was_pushed_through_the_playbook(report):
    """A reminder, a statement stopping its clock, a missed deadline escalating, a digest, the
    three bots, a resolve, and a timeline that tells it all in order."""
    by_name = {c["name"]: c["ok"] for c in report["checks"]}
    for name in (
        "a reminder went out before the first statement was due",
        "the first statement stopped its clock",
        "the missed detailed statement escalated one tier up (management's phone)",
        "the held alert went out as one digest when quiet hours ended",
        "each of the three chat bots received the alerts",
        "no chat message was refused (signatures right, limits kept)",
        "the resolve stopped every clock and left no timer",
    ):
        assert by_name.get(name) is True, name
    kinds = [e["kind"] for e in report["timeline"]]
    assert kinds[0] == "opened" and kinds[-1] == "resolved"
    order = [
        kinds.index(k) for k in ("opened", "acknowledged", "reminder", "statement", "missed", "resolved")
    ]
    assert order == sorted(order)
    sms = [d for d in report["deliveries"] if d["subscriber"]["protocol"] == "sms"]
    assert any(d["text"].startswith("【首次声明提醒】") for d in sms)
    assert any(
        d["text"].startswith("【详细声明已超时】") and d["subscriber"]["endpoint"] == "+8613800000002"
        for d in sms
    )


def test_an_acknowledgement_ended_the_wait(report):
    by_name = {e["name"]: e for e in report["executions"]}
    current = by_name[f"{report['incident']['incident_id']}-{report['incident']['level']}"]
    assert (current["status"], current["path"][-1]) == ("SUCCEEDED", "Acknowledged")
    assert all(e["status"] != "RUNNING" for e in report["executions"])


def test_lower_escalations_were_superseded_not_left_running(report):
    levels = [e["name"].rsplit("-", 1)[-1] for e in report["executions"]]
    assert set(levels) >= {"blue", "orange", report["incident"]["level"]}
    for execution in report["executions"]:
        if execution["path"][-1] not in ("Acknowledged", "Informed"):
            # Stopped while waiting: it had notified its tier and escalated at most to red.
            assert execution["path"].count("NotifyAndWait") <= 3


def test_a_duplicated_delivery_changed_nothing(report):
    check = next(c for c in report["checks"] if c["name"] == "a duplicated SQS delivery changed nothing")
    assert check["ok"]
