"""The escalation workflow's contract: Step Functions executing the synthesized state machine on moto
(with the real notifier), and the in-memory workflow on a simulated clock, behave alike."""

from __future__ import annotations

from crisiswatch.aws.workflow import StepFunctionsWorkflow
from crisiswatch.incidents.detection import escalation_input, execution_name
from crisiswatch.incidents.record import Acknowledgement
from crisiswatch.vocabulary import Level
from tests.builders import NOW, incident
from tests.stack import ACK_TIMEOUTS


def _start(ports, level: Level):
    created = incident(level=level)
    ports.incidents.create(created)
    assert ports.workflow.start(execution_name(created), escalation_input(created, ACK_TIMEOUTS)) is True
    return created


def _tiers(ports, incident_id: str) -> list[tuple[str, str]]:
    return [(n.tier.value, n.kind) for n in ports.incidents.get(incident_id).notifications]


def test_an_escalation_runs_once_per_name(ports):
    created = _start(ports, Level.ORANGE)
    name, payload = execution_name(created), escalation_input(created, ACK_TIMEOUTS)
    assert ports.workflow.start(name, payload) is True  # still running: the same execution
    assert ports.eventually(lambda: _tiers(ports, created.incident_id), 2) == [("orange", "alert")]
    _, tokens = ports.incidents.acknowledge(
        created.incident_id, Acknowledgement(by="a", at=NOW, level=Level.ORANGE)
    )
    assert ports.workflow.release(tokens, {}) == 1
    assert ports.eventually(
        lambda: ports.workflow.start(name, payload) is False, 2
    )  # ended: the name is taken
    assert _tiers(ports, created.incident_id) == [("orange", "alert")]


def test_blue_only_informs(ports):
    created = _start(ports, Level.BLUE)
    assert ports.eventually(lambda: _tiers(ports, created.incident_id), 2) == [("blue", "alert")]
    tokens = ports.incidents.acknowledge(
        created.incident_id, Acknowledgement(by="a", at=NOW, level=Level.BLUE)
    )[1]
    assert tokens == []  # nothing waits for an acknowledgement of blue


def test_an_acknowledgement_releases_the_waiting_escalation_once(ports):
    created = _start(ports, Level.ORANGE)
    assert ports.eventually(lambda: _tiers(ports, created.incident_id), 2) == [("orange", "alert")]
    _, tokens = ports.incidents.acknowledge(
        created.incident_id, Acknowledgement(by="王经理", at=NOW, level=Level.ORANGE)
    )
    assert len(tokens) == 1
    assert ports.workflow.release(tokens, {"acknowledged_by": "王经理"}) == 1
    assert ports.workflow.release(tokens, {"acknowledged_by": "王经理"}) == 0  # that wait is over
    assert ports.workflow.stop(execution_name(created), cause="test") in (False, True)  # ended or ending
    assert _tiers(ports, created.incident_id) == [("orange", "alert")]  # and nobody else was told


def test_silence_escalates_one_tier_at_a_time_then_gives_up_at_red(ports):
    created = _start(ports, Level.YELLOW)
    expected = [("yellow", "alert"), ("orange", "alert"), ("red", "alert"), ("red", "unacknowledged")]
    timeouts = sum(ACK_TIMEOUTS.values())
    assert ports.eventually(lambda: _tiers(ports, created.incident_id) == expected, timeouts + 2)


def test_a_stopped_escalation_tells_nobody_more(ports):
    created = _start(ports, Level.YELLOW)
    assert ports.eventually(lambda: _tiers(ports, created.incident_id), 2) == [("yellow", "alert")]
    assert ports.workflow.stop(execution_name(created), cause="superseded") is True
    assert ports.workflow.stop("no-such-execution", cause="superseded") is False
    waited = ports.eventually(lambda: True, ACK_TIMEOUTS["yellow"] + 2)
    assert waited and _tiers(ports, created.incident_id) == [("yellow", "alert")]


def test_releasing_an_unknown_token_releases_nothing(ports):
    if isinstance(ports.workflow, StepFunctionsWorkflow):
        token = "AAAAKgAAAAIAAAAAAAAAAcd2y9xlmJvgkmIQLC/6abLb"  # well formed, never issued
    else:
        token = "never-issued"
    assert ports.workflow.release([token], {}) == 0
