"""The demo scenario end to end: simulator -> the whole loop on moto -> alerts -> API -> ack.

This is `make demo`, run as a test: it fails if any step of the loop does, and checks what a PR
team relies on, not only that the demo's own checks passed.
"""

from __future__ import annotations

import io

import pytest

from crisiswatch.models import Level
from infra.local.demo import SUBSCRIBERS, run_scenario


@pytest.fixture(scope="module")
def report():
    out, handler_log = io.StringIO(), io.StringIO()
    result = run_scenario(out, ack_timeout=2, handler_log=handler_log)
    result.output = out.getvalue()
    return result


def test_every_step_of_the_loop_passed(report):
    failed = [(name, detail) for name, ok, detail in report.checks if not ok]
    assert failed == [], report.output


def test_the_incident_opened_at_the_right_level_with_its_reasons(report):
    incident = report.incident
    assert Level(incident["level"]) >= Level.ORANGE
    assert [h["level"] for h in incident["history"]][0] in ("blue", "yellow")
    assert all(h["reason"].startswith(h["level"]) for h in incident["history"])
    assert incident["deadlines"]["first_statement"] < incident["deadlines"]["detailed_statement"]
    assert incident["top_posts"] and any(
        "食品安全" in "".join(p["reasons"]) or "food" in "".join(p["reasons"]) for p in incident["top_posts"]
    )


def test_the_right_subscribers_got_the_message(report):
    levels_by_endpoint = {s["endpoint"]: set(s["levels"]) for s in SUBSCRIBERS}
    received = {}
    for delivery in report.deliveries:
        received.setdefault(delivery.subscriber.endpoint, set()).add(delivery.level)
        assert delivery.level in levels_by_endpoint[delivery.subscriber.endpoint]
    assert received["+8613800000002"] == {"red"}  # management hears only red
    assert "blue" in received["analysts@example.com"]
    assert all(len(d.text) <= 70 for d in report.deliveries if d.subscriber.protocol == "sms")
    assert all("依据 Reason" in d.text for d in report.deliveries if d.subscriber.protocol == "email")


def test_an_acknowledgement_ended_the_wait(report):
    by_name = {e["name"]: e for e in report.executions}
    current = by_name[f"{report.incident['incident_id']}-{report.incident['level']}"]
    assert (current["status"], current["path"][-1]) == ("SUCCEEDED", "Acknowledged")
    assert all(e["status"] != "RUNNING" for e in report.executions)


def test_lower_escalations_were_superseded_not_left_running(report):
    levels = [e["name"].rsplit("-", 1)[-1] for e in report.executions]
    assert set(levels) >= {"blue", "orange", report.incident["level"]}
    for execution in report.executions:
        if execution["path"][-1] not in ("Acknowledged", "Informed"):
            # Stopped while waiting: it notified its tier and at most escalated, never past red.
            assert execution["path"].count("NotifyAndWait") <= 3
