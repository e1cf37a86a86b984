"""API fuzzing (issue 11, item 4): schemathesis generates requests from the API's own OpenAPI
document, each one goes through the real Lambda handler on moto as an API Gateway REST proxy event
(IAM identity included), and every answer must be no 5xx, a status the route declares, and a body
that matches the declared schema.

    pytest tests/integration/test_api_fuzz.py -s    # prints the status histogram

The figures of the last run are written to build/fuzz-report.json (cases per operation and status).
"""

from __future__ import annotations

import json
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.wrappers import Request, Response

from crisiswatch.handlers import api
from crisiswatch.vocabulary import Level
from tests.builders import incident
from tests.integration.helpers import stores

REPORT = Path(__file__).resolve().parents[2] / "build" / "fuzz-report.json"
EXAMPLES_PER_OPERATION = 170  # fuzzing phase; the coverage and examples phases add their own cases
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# State every operation starts from, so that path ids sometimes exist (see flatmap_path_parameters).
WATCH = {"id": "geek-coffee", "name": "极客咖啡", "keywords": ["极客咖啡"], "rules": {"weibo": "极客咖啡"}}
OPEN = "xianweifang-20261121-0230"
RESOLVED = "old-20261101-0000"
EXISTING = {"watch_id": ["geek-coffee", "xianweifang"], "incident_id": [OPEN, RESOLVED]}

DOCUMENT = json.loads(api.app.get_openapi_json_schema(title="crisiswatch API", version="1"))
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": 11,  # reproducible in CI: the same cases every run
            "generation": {"deterministic": True, "max-examples": EXAMPLES_PER_OPERATION},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)

STATUSES: dict[str, Counter] = defaultdict(Counter)
SERVER_ERRORS: list[dict] = []
IN_HANDLER: Counter = Counter()  # seconds per operation spent in the handler (moto included)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half of the generated ids, an id that exists (an incident open or resolved, a watch)."""
    existing = {name: EXISTING[name] for name in path_parameters or {} if name in EXISTING}
    if not existing:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in existing.items()}).map(
            lambda chosen: path_parameters | chosen
        ),
    )


@schema.hook
def flatmap_case(context, case):
    """Half of the PUTs of a watch name the path's id in the body, so that some reach the store."""
    watch_id = (case.path_parameters or {}).get("watch_id")
    if case.method != "PUT" or not isinstance(case.body, dict) or watch_id is None:
        return st.just(case)

    def same_id(_):
        case.body = case.body | {"id": watch_id}
        return case

    return st.one_of(st.just(case), st.just(None).map(same_id))


def lambda_app(aws):
    """A WSGI app for schemathesis' in-process transport: each request becomes the REST proxy event
    API Gateway would send (IAM identity included) and goes through the real handler."""

    def app(environ, start_response):
        request = Request(environ)
        body = request.get_data(as_text=True) if request.content_length or request.data else None
        query = {key: request.args.getlist(key) for key in request.args}
        routed = aws.api_event(request.method, request.path, body, query, headers=dict(request.headers))
        if routed is None:
            answer = Response(
                json.dumps({"message": "Missing Authentication Token"}), 403, mimetype="application/json"
            )
            return answer(environ, start_response)
        try:
            result = aws.invoke(*routed)
        except Exception as e:  # an uncaught exception: API Gateway's 502
            SERVER_ERRORS.append({"request": f"{request.method} {request.full_path}", "error": repr(e)})
            answer = Response(traceback.format_exc(), 502, mimetype="text/plain")
            return answer(environ, start_response)
        headers = {k: v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = values[-1]
        answer = Response(result.get("body") or "", result["statusCode"], headers=headers)
        return answer(environ, start_response)

    return app


@pytest.fixture
def seeded(aws):
    """The stack on moto with one watch beside the seeded one, an open and a resolved incident."""
    _, incidents = stores()
    incidents.create(incident(level=Level.ORANGE))
    incidents.create(incident(incident_id=RESOLVED, watch_id="old", status="resolved"))
    assert aws.api("POST", "/watches", body=WATCH)[0] == 201
    return lambda_app(aws)


@pytest.fixture(scope="module", autouse=True)
def report(_local_aws):
    started = time.monotonic()  # once the stack is up: generation, the handler and the checks
    yield
    total = sum(sum(c.values()) for c in STATUSES.values())
    by_status = Counter()
    for counts in STATUSES.values():
        by_status.update(counts)
    figures = {
        "cases": total,
        "seconds": round(time.monotonic() - started, 1),
        "seconds_in_handler": round(sum(IN_HANDLER.values()), 1),
        "by_status": {str(k): v for k, v in sorted(by_status.items())},
        "by_operation": {op: {str(k): v for k, v in sorted(c.items())} for op, c in sorted(STATUSES.items())},
        "server_errors": SERVER_ERRORS[:20],
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"\nAPI fuzz: {total} cases in {figures['seconds']} s ({figures['seconds_in_handler']} s in the "
        f"handler); by status {figures['by_status']}"
    )
    for op, counts in figures["by_operation"].items():
        print(f"  {op}: {counts}")


@schema.parametrize()
@settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_5xx_and_every_answer_as_documented(case, seeded):
    started = time.monotonic()
    response = case.call(app=seeded)
    operation = f"{case.method} {case.path}"
    STATUSES[operation][response.status_code] += 1
    IN_HANDLER[operation] += time.monotonic() - started
    case.validate_response(response, checks=CHECKS)
