"""The stack on the embedded local AWS, for every test that needs AWS (integration, contract, e2e):
a moto server in this process, provisioned from the synthesized template once per session and
reset before each test. tests/conftest.py makes these fixtures available everywhere."""

from __future__ import annotations

import pytest

from crisiswatch.escalation.routing import Audience, Routing
from infra.local.emulator.runtime import ACCOUNT, REGION, LocalAws
from infra.local.emulator.template import synthesize
from infra.local.simulator import PlatformSimulator, Scenario

# Acknowledgement timeouts of a second or two, so timeout paths run within a test.
ACK_TIMEOUTS = {"yellow": 1, "orange": 1, "red": 2}
WATCH = {"id": "xianweifang", "name": "鲜味坊", "keywords": ["鲜味坊", "XWF"], "brand_terms": ["鲜味坊"]}
SUBSCRIBERS = [
    {
        "name": "analysts",
        "protocol": "email",
        "endpoint": "analysts@example.com",
        "levels": ["blue", "yellow", "orange", "red"],
    },
    {"name": "pr-duty", "protocol": "sms", "endpoint": "+8613800000001", "levels": ["orange", "red"]},
    {"name": "management", "protocol": "sms", "endpoint": "+8613800000002", "levels": ["red"]},
]
# What the deployed notifier's default on-call policy is made of (its SUBSCRIBERS environment).
ROUTING = Routing(subscribers=[Audience.model_validate(s) for s in SUBSCRIBERS], ack_timeouts=ACK_TIMEOUTS)


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return Scenario.generate()


@pytest.fixture(scope="session")
def simulator(scenario):
    with PlatformSimulator(scenario) as sim:
        yield sim


@pytest.fixture(scope="session")
def template(simulator, scenario) -> dict:
    return synthesize(
        {
            "account": ACCOUNT,
            "region": REGION,
            "weiboBaseUrl": simulator.base_url,
            "watches": [WATCH | {"exclude": list(scenario.exclude)}],
            "subscribers": SUBSCRIBERS,
            "ackTimeoutSeconds": ACK_TIMEOUTS,
        }
    )


@pytest.fixture(scope="session")
def _local_aws(template):
    with LocalAws(template) as aws:
        yield aws


@pytest.fixture
def aws(_local_aws: LocalAws) -> LocalAws:
    """The stack on moto, empty at the start of every test."""
    _local_aws.reset()
    return _local_aws
