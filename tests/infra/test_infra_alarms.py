"""Ops alarms: who they reach (the ops topic's subscribers, and a synth warning when there is none),
and each family's count, metric and threshold."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Annotations, Match, Template
from infra_helpers import TEST_CONTEXT, logical_id, of_type, our_functions

from crisiswatch import constants
from infra.constructs.observability import NO_OPS_SUBSCRIBER, fetch_jobs_max_age_seconds
from infra.context import ContextError, load_settings

OPS_TOPIC = "/CrisisWatch/Observability/OpsTopic"
NO_SUBSCRIBER = Match.string_like_regexp(NO_OPS_SUBSCRIBER)


def _alarms(resources, metric_name: str | None = None, suffix: str = "") -> dict[str, dict]:
    return {
        k: v["Properties"]
        for k, v in of_type(resources, "AWS::CloudWatch::Alarm").items()
        if (metric_name is None or v["Properties"].get("MetricName") == metric_name)
        and k.startswith("Observability")
        and suffix in k
    }


def _dims(props: dict) -> dict:
    return {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}


# --- who the alarms reach ------------------------------------------------------------------------


def test_with_no_ops_subscriber_synth_warns(app_and_stack):
    _, stack = app_and_stack  # TEST_CONTEXT has neither opsEmails nor opsSms
    Annotations.from_stack(stack).has_warning(OPS_TOPIC, NO_SUBSCRIBER)


def test_ops_subscribers_come_from_the_context_and_silence_the_warning():
    from infra.app import build_app

    context = TEST_CONTEXT | {"opsEmails": ["ops@corp.test"], "opsSms": ["+8613912345678"]}
    _, stack = build_app(context=context, skip_bundling=True)
    Annotations.from_stack(stack).has_no_warning("*", NO_SUBSCRIBER)
    template = Template.from_stack(stack)
    topic = {"Ref": logical_id(template.to_json()["Resources"], "AWS::SNS::Topic", "ObservabilityOpsTopic")}
    resources = template.to_json()["Resources"]
    dlq = logical_id(resources, "AWS::SQS::Queue", "ObservabilityOpsDeliveryDLQ")
    for protocol, endpoint in (("email", "ops@corp.test"), ("sms", "+8613912345678")):
        template.has_resource_properties(
            "AWS::SNS::Subscription",
            {
                "TopicArn": topic,
                "Protocol": protocol,
                "Endpoint": endpoint,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}},
            },
        )
    depths = _alarms(resources, "ApproximateNumberOfMessagesVisible")  # a delivery SNS gave up on
    assert dlq in {_dims(p)["QueueName"]["Fn::GetAtt"][0] for p in depths.values()}


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("opsSms", ["13912345678"], "E.164"),
        ("opsEmails", ["ops"], "e-mail"),
        ("heartbeatSilentMinutes", 5, "between 30 and 1440"),
        ("heartbeatSilentMinutes", "[not json", "must be JSON"),
    ],
)
def test_bad_ops_context(key, value, expected):
    with pytest.raises(ContextError, match=expected):
        load_settings({key: value}.get)


def test_ops_context_defaults_and_cli_strings():
    defaults = load_settings({}.get)
    assert (defaults.ops_emails, defaults.ops_sms) == ([], [])
    assert defaults.heartbeat_silent_minutes == constants.DEFAULT_HEARTBEAT_SILENT_MINUTES
    cli = load_settings({"heartbeatSilentMinutes": "180", "opsSms": '["+8613912345678"]'}.get)
    assert (cli.heartbeat_silent_minutes, cli.ops_sms) == (180, ["+8613912345678"])


# --- the alarm families --------------------------------------------------------------------------


def test_every_alarm_goes_to_the_ops_topic(resources):
    ops = {"Ref": logical_id(resources, "AWS::SNS::Topic", "ObservabilityOpsTopic")}
    alarms = _alarms(resources)
    assert alarms and all(props["AlarmActions"] == [ops] for props in alarms.values())
    assert all(props.get("AlarmDescription") for props in alarms.values())


def test_message_age_on_every_queue_a_function_consumes(resources):
    ages = _alarms(resources, "ApproximateAgeOfOldestMessage")
    by_queue = {_dims(p)["QueueName"]["Fn::GetAtt"][0]: p for p in ages.values()}
    consumed = {
        m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    }
    assert set(by_queue) == consumed and len(consumed) == len(TEST_CONTEXT["schedules"]) + 1
    posts = by_queue[logical_id(resources, "AWS::SQS::Queue", "ScoringPostsQueue")]
    assert (posts["Threshold"], posts["Statistic"], posts["Period"]) == (
        constants.POSTS_MAX_MESSAGE_AGE_SECONDS,
        "Maximum",
        60,
    )
    for platform, minutes in TEST_CONTEXT["schedules"].items():
        queue = logical_id(resources, "AWS::SQS::Queue", f"IngestionFetchJobs{platform.title()}Queue")
        assert by_queue[queue]["Threshold"] == fetch_jobs_max_age_seconds(minutes)


def test_fetch_job_age_is_two_periods_but_outlasts_one_retry():
    visibility = constants.VISIBILITY_TIMEOUT_FACTOR * constants.FUNCTIONS["fetcher"].timeout_seconds
    assert fetch_jobs_max_age_seconds(10) == 2 * 600  # two periods of a slow schedule
    assert fetch_jobs_max_age_seconds(2) == visibility + 120  # a retried job on weibo's 2 min does not page
    assert all(fetch_jobs_max_age_seconds(m) > visibility for m in range(1, 60))


def test_every_dlq_keeps_its_depth_alarm(resources):
    depths = _alarms(resources, "ApproximateNumberOfMessagesVisible")
    dlqs = {k for k in of_type(resources, "AWS::SQS::Queue") if "DLQ" in k}
    assert {_dims(p)["QueueName"]["Fn::GetAtt"][0] for p in depths.values()} == dlqs
    assert all(p["Threshold"] == 1 for p in depths.values())


def test_throttles_of_every_function(resources):
    throttles = _alarms(resources, "Throttles")
    assert {_dims(p)["FunctionName"]["Ref"] for p in throttles.values()} == set(our_functions(resources))
    one = next(iter(throttles.values()))
    assert (one["Namespace"], one["Statistic"], one["Period"], one["Threshold"]) == (
        "AWS/Lambda",
        "Sum",
        300,
        constants.LAMBDA_THROTTLES_PER_5_MINUTES,
    )
    assert one["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_throttled_reads_and_writes_of_every_table_and_index(resources):
    alarms = _alarms(resources, suffix="TableThrottlesAlarm")
    watched = {}
    for props in alarms.values():
        (expression,) = [m for m in props["Metrics"] if "Expression" in m]
        stats = [m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m]
        assert expression["Expression"] == " + ".join(
            sorted(m["Id"] for m in props["Metrics"] if "MetricStat" in m)
        )
        assert props["Threshold"] == constants.DYNAMODB_THROTTLES_PER_5_MINUTES
        (table,) = {_dims(s["Metric"])["TableName"]["Ref"] for s in stats}
        watched[table] = sorted(
            (s["Metric"]["MetricName"], _dims(s["Metric"]).get("GlobalSecondaryIndexName", "")) for s in stats
        )
    assert set(watched) == set(of_type(resources, "AWS::DynamoDB::Table"))
    incidents = logical_id(resources, "AWS::DynamoDB::Table", "StorageIncidentsTable")
    index = constants.INCIDENTS_BY_STATUS_INDEX
    assert watched[incidents] == [
        ("ReadThrottleEvents", ""),
        ("ReadThrottleEvents", index),
        ("WriteThrottleEvents", ""),
        ("WriteThrottleEvents", index),
    ]
    posts = logical_id(resources, "AWS::DynamoDB::Table", "StoragePostsTable")
    assert watched[posts] == [("ReadThrottleEvents", ""), ("WriteThrottleEvents", "")]


def test_5xx_of_each_api_by_its_own_name(resources):
    names = {k: v["Properties"]["Name"] for k, v in of_type(resources, "AWS::ApiGateway::RestApi").items()}
    assert len(set(names.values())) == len(names) == 2  # API Gateway's metrics know an API by its name
    errors = {k: _dims(p)["ApiName"] for k, p in _alarms(resources, "5XXError").items()}
    push = names[logical_id(resources, "AWS::ApiGateway::RestApi", "PushRestApi")]
    incidents = names[logical_id(resources, "AWS::ApiGateway::RestApi", "ApiRestApi")]
    assert sorted(errors.values()) == sorted([push, incidents])
    push_alarm = _alarms(resources, "5XXError", suffix="Push5xx")
    (props,) = push_alarm.values()
    assert (_dims(props)["ApiName"], props["Threshold"], props["Statistic"]) == (
        push,
        constants.PUSH_API_5XX_PER_5_MINUTES,
        "Sum",
    )


def test_failed_escalations_are_alarmed(resources):
    (props,) = _alarms(resources, "ExecutionsFailed").values()
    machine = logical_id(resources, "AWS::StepFunctions::StateMachine", "Escalation")
    assert _dims(props)["StateMachineArn"] == {"Ref": machine} and props["Threshold"] == 1


@pytest.mark.parametrize(("metric", "log_line"), [("FetchJobsFailed", "fetch job not queued"),
                                                  ("WatchAssessmentsFailed", "watch assessment failed")])  # fmt: skip
def test_a_watch_failing_alone_is_alarmed(resources, metric, log_line):
    (props,) = _alarms(resources, metric).values()
    assert (props["Namespace"], _dims(props)) == (constants.METRICS_NAMESPACE, {"service": constants.SERVICE})
    assert (props["Statistic"], props["Period"], props["Threshold"]) == ("Sum", 300, 1)
    assert log_line in props["AlarmDescription"]


def test_silent_watches_alarm_on_the_sweeps_one_metric(resources):
    (props,) = _alarms(resources, "SilentWatches").values()
    assert props["Namespace"] == constants.METRICS_NAMESPACE
    assert _dims(props) == {"service": constants.SERVICE}  # Powertools' default: no per-watch dimension
    assert (props["Statistic"], props["Period"]) == ("Maximum", constants.SWEEP_MINUTES * 60)
    assert props["Threshold"] == constants.SILENT_WATCHES_THRESHOLD == 1
    assert f"{TEST_CONTEXT['heartbeatSilentMinutes']} min" in props["AlarmDescription"]
