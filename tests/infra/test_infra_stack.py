"""Template assertions: every resource of the stack, its wiring and its safety settings.

Expected values come from crisiswatch.constants, the same module the stack reads.
"""

from __future__ import annotations

import json

from infra_helpers import (
    CUSTOM_RESOURCE_PROVIDER,
    TEST_CONTEXT,
    expected_stage,
    flatten_join,
    function_by_handler,
    logical_id,
    of_type,
    our_functions,
    state_machine_definition,
)

from crisiswatch import constants
from crisiswatch.constants import Env
from crisiswatch.vocabulary import Watch

# --- DynamoDB -----------------------------------------------------------------------------------


def test_three_tables_on_demand_with_pitr_encryption_and_retain(resources):
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert len(tables) == 3
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"
        assert table["UpdateReplacePolicy"] == "Retain"


def test_posts_table_keys_and_ttl(resources):
    props = resources[logical_id(resources, "AWS::DynamoDB::Table", "StoragePostsTable")]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": constants.TTL_ATTRIBUTE, "Enabled": True}


def test_incidents_table_has_by_status_index(resources):
    props = resources[logical_id(resources, "AWS::DynamoDB::Table", "StorageIncidentsTable")]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "incident_id", "KeyType": "HASH"}]
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == constants.INCIDENTS_BY_STATUS_INDEX == "by-status"
    assert gsi["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "opened_at", "KeyType": "RANGE"},
    ]
    assert gsi["Projection"] == {"ProjectionType": "ALL"}
    assert "TimeToLiveSpecification" not in props


def test_state_table_keys_and_ttl(resources):
    props = resources[logical_id(resources, "AWS::DynamoDB::Table", "StorageStateTable")]["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": constants.TTL_ATTRIBUTE, "Enabled": True}


# --- SQS ------------------------------------------------------------------------------------------

WORK_QUEUES = {  # queue logical-id prefix -> (its DLQ prefix, consuming function)
    "IngestionFetchJobsWeiboQueue": ("IngestionFetchJobsWeiboDLQ", "fetcher"),
    "IngestionFetchJobsBilibiliQueue": ("IngestionFetchJobsBilibiliDLQ", "fetcher"),
    "ScoringPostsQueue": ("ScoringPostsDLQ", "scorer"),
}


def test_work_queues_redrive_to_their_own_dlq(resources):
    for queue, (dlq, _) in WORK_QUEUES.items():
        props = resources[logical_id(resources, "AWS::SQS::Queue", queue)]["Properties"]
        dlq_id = logical_id(resources, "AWS::SQS::Queue", dlq)
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": constants.DLQ_MAX_RECEIVE_COUNT,
        }
        dlq_props = resources[dlq_id]["Properties"]
        assert dlq_props["MessageRetentionPeriod"] == constants.DLQ_RETENTION_DAYS * 86400


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout(resources):
    assert constants.VISIBILITY_TIMEOUT_FACTOR >= 6
    for queue, (_, consumer) in WORK_QUEUES.items():
        props = resources[logical_id(resources, "AWS::SQS::Queue", queue)]["Properties"]
        timeout = constants.FUNCTIONS[consumer].timeout_seconds
        assert props["VisibilityTimeout"] == constants.VISIBILITY_TIMEOUT_FACTOR * timeout
        assert props["VisibilityTimeout"] >= 6 * timeout


def test_every_queue_is_encrypted_and_tls_only(resources):
    queues = of_type(resources, "AWS::SQS::Queue")
    assert (
        len(queues) == 9
    )  # 3 work queues (posts, fetch jobs per platform) + their DLQs + schedule, alert and timer DLQs
    for props in (q["Properties"] for q in queues.values()):
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props
    tls_only = set()
    for policy in of_type(resources, "AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                tls_only.update(q["Ref"] for q in policy["Properties"]["Queues"])
    assert tls_only == set(queues)


def test_event_sources_report_batch_item_failures(resources):
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 3  # one per platform's fetch-jobs queue, one for posts
    by_queue = {
        m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: m["Properties"] for m in mappings.values()
    }
    fetch = by_queue[logical_id(resources, "AWS::SQS::Queue", "IngestionFetchJobsWeiboQueue")]
    fetch_bilibili = by_queue[logical_id(resources, "AWS::SQS::Queue", "IngestionFetchJobsBilibiliQueue")]
    posts = by_queue[logical_id(resources, "AWS::SQS::Queue", "ScoringPostsQueue")]
    for props in (fetch, fetch_bilibili, posts):
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    fetcher_id, _ = function_by_handler(resources, constants.FUNCTIONS["fetcher"].handler)
    scorer_id, _ = function_by_handler(resources, constants.FUNCTIONS["scorer"].handler)
    assert fetch["FunctionName"] == fetch_bilibili["FunctionName"] == {"Ref": fetcher_id}
    assert fetch["BatchSize"] == constants.FETCH_JOBS_BATCH_SIZE
    # Each platform's own cap: the default, and bilibili's from the context.
    assert fetch["ScalingConfig"] == {"MaximumConcurrency": constants.FETCHER_MAX_CONCURRENCY}
    assert fetch_bilibili["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert posts["FunctionName"] == {"Ref": scorer_id}
    assert posts["BatchSize"] == constants.POSTS_BATCH_SIZE
    assert posts["MaximumBatchingWindowInSeconds"] == constants.POSTS_BATCHING_WINDOW_SECONDS


# --- Lambda -------------------------------------------------------------------------------------


CAPABILITY = {
    "scheduler": "Ingestion",
    "fetcher": "Ingestion",
    "scorer": "Scoring",
    "notifier": "Escalation",
    "api": "Api",
    "push": "Push",
}


def test_functions_live_in_their_capability_construct(app_and_stack):
    _, stack = app_and_stack
    for key, spec in constants.FUNCTIONS.items():
        assert (
            stack.functions[key].node.path == f"{constants.STACK_NAME}/{CAPABILITY[key]}/{spec.construct_id}"
        )


def test_one_function_per_spec_with_shared_settings(resources):
    functions = our_functions(resources)
    assert len(functions) == len(constants.FUNCTIONS)
    layers = {k for k in of_type(resources, "AWS::Lambda::LayerVersion")}
    deps = next(k for k in layers if k.startswith("LayersDepsLayer"))
    nlp = next(k for k in layers if k.startswith("LayersNlpLayer"))
    for key, spec in constants.FUNCTIONS.items():
        logical, fn = function_by_handler(resources, spec.handler)
        props = fn["Properties"]
        assert props["Runtime"] == constants.LAMBDA_RUNTIME
        assert props["Architectures"] == ["arm64"]
        assert props["Timeout"] == spec.timeout_seconds
        assert props["MemorySize"] == spec.memory_mb
        mode = {"active": "Active", "passthrough": "PassThrough"}[constants.TRACING[key]]
        assert props["TracingConfig"] == {"Mode": mode}, key
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == constants.SERVICE
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == constants.METRICS_NAMESPACE
        assert env["LOG_LEVEL"] == "INFO"
        expected_layers = [{"Ref": deps}, {"Ref": nlp}] if spec.needs_nlp else [{"Ref": deps}]
        assert props["Layers"] == expected_layers, key
        assert "LogGroup" in props["LoggingConfig"], key
        # JSON, so Lambda filters by level: no START/REPORT lines (INFO), the code's own level kept.
        assert props["LoggingConfig"]["LogFormat"] == "JSON", key
        assert props["LoggingConfig"]["SystemLogLevel"] == "WARN", key
        assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO", key


def _env(resources, key: str) -> dict:
    _, fn = function_by_handler(resources, constants.FUNCTIONS[key].handler)
    return fn["Properties"]["Environment"]["Variables"]


def _ref(resources, cfn_type: str, prefix: str) -> dict:
    return {"Ref": logical_id(resources, cfn_type, prefix)}


def test_scheduler_environment(resources):
    env = _env(resources, "scheduler")
    assert "WATCHES" not in env  # watches live in the state table, seeded at deploy
    assert env[Env.STATE_TABLE] == _ref(resources, "AWS::DynamoDB::Table", "StorageStateTable")
    queue_urls = json.dumps(env[Env.FETCH_QUEUE_URLS])
    for platform in ("Weibo", "Bilibili"):
        assert (
            json.dumps(_ref(resources, "AWS::SQS::Queue", f"IngestionFetchJobs{platform}Queue")) in queue_urls
        )


def test_fetcher_environment(resources):
    env = _env(resources, "fetcher")
    assert env[Env.POSTS_QUEUE_URL] == _ref(resources, "AWS::SQS::Queue", "ScoringPostsQueue")
    assert json.loads(env[Env.PLATFORM_BASE_URLS]) == constants.DEFAULT_BASE_URLS
    assert env[Env.STATE_TABLE] == _ref(resources, "AWS::DynamoDB::Table", "StorageStateTable")
    assert env[Env.HTTP_TIMEOUT_SECONDS] == "10"


def test_the_fetcher_reads_exactly_the_credentials_secrets_of_the_context(resources):
    env = _env(resources, "fetcher")
    assert json.loads(env[Env.PLATFORM_SECRETS]) == TEST_CONTEXT["credentials"]
    statements = [s for logical, s in _statements(resources) if logical.startswith("IngestionFetcherRole")]
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in _as_list(s["Action"])]
    assert len(secret_reads) == 1
    assert flatten_join(secret_reads[0]["Resource"]).endswith(":secret:crisiswatch/bilibili-cookie-??????")


def test_the_fetcher_touches_only_cursor_items(resources):
    statements = [s for logical, s in _statements(resources) if logical.startswith("IngestionFetcherRole")]
    state_table = logical_id(resources, "AWS::DynamoDB::Table", "StorageStateTable")
    on_state = [s for s in statements if state_table in json.dumps(s["Resource"])]
    assert len(on_state) == 1
    assert sorted(on_state[0]["Action"]) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert on_state[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CURSOR#*"]}}


def test_scorer_environment(resources):
    env = _env(resources, "scorer")
    assert env[Env.POSTS_TABLE] == _ref(resources, "AWS::DynamoDB::Table", "StoragePostsTable")
    assert env[Env.INCIDENTS_TABLE] == _ref(resources, "AWS::DynamoDB::Table", "StorageIncidentsTable")
    assert env[Env.STATE_TABLE] == _ref(resources, "AWS::DynamoDB::Table", "StorageStateTable")
    assert env[Env.ESCALATION_STATE_MACHINE_ARN] == _ref(
        resources, "AWS::StepFunctions::StateMachine", "Escalation"
    )
    assert json.loads(env[Env.ACK_TIMEOUT_SECONDS]) == TEST_CONTEXT["ackTimeoutSeconds"]
    assert json.loads(env[Env.LEVEL_THRESHOLDS]) == {"red": {"min_negatives": 100.0}}
    assert env[Env.HEARTBEAT_SILENT_MINUTES] == str(TEST_CONTEXT["heartbeatSilentMinutes"])
    assert "WATCHES" not in env


def test_the_context_watches_are_seeded_create_if_absent(resources):
    seeds = of_type(resources, "Custom::AWS")
    assert len(seeds) == len(TEST_CONTEXT["watches"])
    for seed in seeds.values():
        create = flatten_join(seed["Properties"]["Create"])
        assert '"action":"putItem"' in create and "attribute_not_exists(pk)" in create
        assert '"ignoreErrorCodesMatching":"ConditionalCheckFailedException"' in create
    items = " ".join(flatten_join(s["Properties"]["Create"]) for s in seeds.values())
    seeded = [Watch.model_validate(w) for w in (TEST_CONTEXT["watches"])]
    assert all(f'"WATCH#{w.id}"' in items for w in seeded)


def test_watch_items_are_all_the_api_scheduler_and_push_reach_of_the_state_table(resources):
    state_table = logical_id(resources, "AWS::DynamoDB::Table", "StorageStateTable")
    for role, actions in (
        ("ApiApiRole", {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}),
        ("IngestionSchedulerRole", {"dynamodb:Query"}),
        ("PushPushRole", {"dynamodb:GetItem"}),  # the batch's watch alone
    ):
        on_state = [
            s
            for lid, s in _statements(resources)
            if lid.startswith(role)
            and state_table in json.dumps(s["Resource"])
            and "StringEquals" in json.dumps(s.get("Condition", {}))  # the API's other partitions: below
        ]
        assert len(on_state) == 1, role
        assert set(_as_list(on_state[0]["Action"])) == actions
        assert on_state[0]["Condition"] == {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["WATCHES"]}
        }


def test_the_api_reaches_only_timelines_and_open_pointers_beyond_the_watches(resources):
    state_table = logical_id(resources, "AWS::DynamoDB::Table", "StorageStateTable")
    by_pattern = {
        tuple(s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]): set(_as_list(s["Action"]))
        for lid, s in _statements(resources)
        if lid.startswith("ApiApiRole")
        and state_table in json.dumps(s["Resource"])
        and "StringLike" in json.dumps(s.get("Condition", {}))
    }
    assert by_pattern == {
        # Timelines (events and their key markers): read, and append what people do.
        ("TIMELINE*",): {"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"},
        # A resolve frees the open-incident pointer.
        ("WATCH#*",): {"dynamodb:DeleteItem"},
    }


def test_notifier_and_api_environment(resources):
    notifier = _env(resources, "notifier")
    assert notifier[Env.INCIDENTS_TABLE] == _ref(resources, "AWS::DynamoDB::Table", "StorageIncidentsTable")
    assert notifier[Env.ALERTS_TOPIC_ARN] == _ref(resources, "AWS::SNS::Topic", "EscalationAlertsTopic")
    assert notifier[Env.CONSOLE_URL] == TEST_CONTEXT["consoleUrl"]
    api = _env(resources, "api")
    assert set(api) & {Env.INCIDENTS_TABLE, Env.STATE_TABLE, Env.POSTS_TABLE} == {
        Env.INCIDENTS_TABLE,
        Env.STATE_TABLE,
    }


def test_every_log_group_has_retention(resources):
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) == len(constants.FUNCTIONS) + 3  # + state machine + two APIs' access logs
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == constants.LOG_RETENTION_DAYS >= 30


# --- IAM ----------------------------------------------------------------------------------------

# Actions that AWS offers no resource-level permission for: `*` is the only possible resource.
STAR_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def _statements(resources):
    for logical, policy in of_type(resources, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical, statement


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_and_star_resources_only_where_unavoidable(resources):
    for logical, statement in _statements(resources):
        actions = _as_list(statement["Action"])
        for action in actions:
            assert action != "*" and not action.endswith(":*"), (logical, action)
        if "*" in _as_list(statement["Resource"]):
            assert set(actions) <= STAR_RESOURCE_ACTIONS, (logical, actions)
    for logical, role in of_type(resources, "AWS::IAM::Role").items():
        for managed in role["Properties"].get("ManagedPolicyArns", []):
            # Only API Gateway's account-level CloudWatch role and CDK's deploy-time custom-resource
            # provider (the watch seed) use managed policies.
            if logical.startswith(CUSTOM_RESOURCE_PROVIDER):
                assert "AWSLambdaBasicExecutionRole" in flatten_join(managed)
            else:
                assert "AmazonAPIGatewayPushToCloudWatchLogs" in flatten_join(managed)


def _actions_of(resources, role_prefix: str) -> dict[str, set[str]]:
    """action -> the resources (as logical-id text) it is granted on, for the role's default policy."""
    granted: dict[str, set[str]] = {}
    for logical, statement in _statements(resources):
        if not logical.startswith(role_prefix):
            continue
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                granted.setdefault(action, set()).add(json.dumps(resource))
    return granted


def test_least_privilege_grants(resources):
    scorer = _actions_of(resources, "ScoringScorerRole")
    assert "states:StartExecution" in scorer
    assert "dynamodb:PutItem" in scorer
    api = _actions_of(resources, "ApiApiRole")
    assert {"states:SendTaskSuccess", "states:SendTaskFailure"} <= set(api)
    state_table = logical_id(resources, "AWS::DynamoDB::Table", "StorageStateTable")
    posts_table = logical_id(resources, "AWS::DynamoDB::Table", "StoragePostsTable")
    # The API reaches incidents, and of the state table only the watches (conditioned, tested
    # below); nothing of the posts.
    assert not any(posts_table in r for resources_ in api.values() for r in resources_)
    conditioned = [
        s
        for lid, s in _statements(resources)
        if lid.startswith("ApiApiRole") and state_table in json.dumps(s["Resource"])
    ]
    assert all("dynamodb:LeadingKeys" in json.dumps(s.get("Condition", {})) for s in conditioned)
    notifier = _actions_of(resources, "EscalationNotifierRole")
    assert notifier["sns:Publish"] == {
        json.dumps(_ref(resources, "AWS::SNS::Topic", "EscalationAlertsTopic"))
    }
    assert "states:StartExecution" not in notifier
    scheduler = _actions_of(resources, "IngestionSchedulerRole")
    assert "sqs:SendMessage" in scheduler and "dynamodb:PutItem" not in scheduler


# --- EventBridge --------------------------------------------------------------------------------


def test_one_schedule_rule_per_platform_targeting_the_scheduler(resources):
    rules = of_type(resources, "AWS::Events::Rule")
    scheduler_id, _ = function_by_handler(resources, constants.FUNCTIONS["scheduler"].handler)
    by_platform = {}
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        if target["Arn"] != {"Fn::GetAtt": [scheduler_id, "Arn"]}:
            continue  # the quiet sweep, below
        assert target["Arn"] == {"Fn::GetAtt": [scheduler_id, "Arn"]}
        assert "DeadLetterConfig" in target
        by_platform[json.loads(target["Input"])["platform"]] = rule["Properties"]["ScheduleExpression"]
    assert by_platform == {"weibo": "rate(2 minutes)", "bilibili": "rate(10 minutes)"}


def test_the_quiet_sweep_invokes_the_scorer_every_few_minutes(resources):
    scorer_id, _ = function_by_handler(resources, constants.FUNCTIONS["scorer"].handler)
    sweeps = [
        rule["Properties"]
        for rule in of_type(resources, "AWS::Events::Rule").values()
        if rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [scorer_id, "Arn"]}
    ]
    (sweep,) = sweeps
    assert sweep["ScheduleExpression"] == f"rate({constants.SWEEP_MINUTES} minutes)"
    assert json.loads(sweep["Targets"][0]["Input"]) == {"sweep": True}


# --- SNS ----------------------------------------------------------------------------------------


def test_topics_are_kms_encrypted_and_tls_only(resources):
    topics = of_type(resources, "AWS::SNS::Topic")
    assert len(topics) == 2  # alerts + ops
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    tls_only = set()
    for policy in of_type(resources, "AWS::SNS::TopicPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                tls_only.update(t["Ref"] for t in policy["Properties"]["Topics"])
    assert tls_only == set(topics)
    for key in of_type(resources, "AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


def test_each_subscription_receives_only_publishes_that_name_it(resources):
    alerts = _ref(resources, "AWS::SNS::Topic", "EscalationAlertsTopic")
    subs = {
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"]): s["Properties"]
        for s in of_type(resources, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == alerts
    }
    # The watch's on-call policy names who is told; the subscription is one named person.
    assert subs[("sms", "+8613800000000")]["FilterPolicy"] == {"recipient": ["duty-sms"]}
    assert subs[("email", "analysts@example.com")]["FilterPolicy"] == {"recipient": ["analysts"]}
    dlq = logical_id(resources, "AWS::SQS::Queue", "EscalationAlertsDeliveryDLQ")
    for props in subs.values():
        assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}}


def test_personal_data_stays_out_of_logical_ids(resources):
    for logical in resources:
        assert "8613800000000" not in logical and "example" not in logical.lower()


# --- Step Functions ------------------------------------------------------------------------------


def test_state_machine_is_standard_jsonpath_logged_and_traced(resources):
    (machine,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] in {"ALL", "ERROR"}
    assert "QueryLanguage" not in props
    definition = state_machine_definition(resources)
    assert "JSONata" not in json.dumps(definition)
    assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"
    for state in definition["States"].values():
        assert state.get("QueryLanguage", "JSONPath") == "JSONPath"


def test_state_machine_shape(resources):
    d = state_machine_definition(resources)
    states = d["States"]
    assert d["StartAt"] == "NeedsAck?"
    assert states["NeedsAck?"]["Choices"] == [
        {"Variable": "$.current.tier", "StringEquals": "blue", "Next": "NotifyBlue"}
    ]
    assert states["NeedsAck?"]["Default"] == "NotifyAndWait"

    blue = states["NotifyBlue"]
    payload = {
        "incident_id.$": "$.incident_id",
        "level.$": "$.level",
        "tier.$": "$.current.tier",
        "failed_tier.$": "$.current.failed_from",
    }
    assert blue["Parameters"] == payload | {"kind": "alert"}
    assert blue["ResultPath"] == "$.notified" and blue["Next"] == "Informed"
    assert states["Informed"]["Type"] == "Succeed"

    wait = states["NotifyAndWait"]
    assert wait["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert wait["Parameters"]["Payload"] == payload | {"kind": "alert", "task_token.$": "$$.Task.Token"}
    assert wait["TimeoutSecondsPath"] == "$.current.timeout_seconds"
    assert "TimeoutSeconds" not in wait
    assert wait["ResultPath"] == "$.ack" and wait["Next"] == "Acknowledged"
    assert any("Lambda.ServiceException" in r["ErrorEquals"] for r in wait["Retry"])
    # A channel that failed is retried with backoff; still failing, the next tier is told.
    assert wait["Retry"][1:] == [
        {"ErrorEquals": ["NoRecipients"], "MaxAttempts": 0},
        {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 2},
    ]
    assert wait["Catch"] == [
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "EscalateFrom?"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "TierFailed?"},
    ]
    tier_failed = states["TierFailed?"]
    assert [(c["StringEquals"], c["Next"]) for c in tier_failed["Choices"]] == [
        ("blue", "FailedToYellow"),
        ("yellow", "FailedToOrange"),
        ("orange", "FailedToRed"),
    ]
    assert tier_failed["Default"] == "NotificationFailed"
    assert states["FailedToRed"]["Parameters"] == {
        "tier": "red",
        "timeout_seconds.$": "$.timeouts.red",
        "failed_from": "orange",
    }
    assert states["FailedToRed"]["Next"] == "NotifyAndWait"
    assert states["Acknowledged"]["Type"] == "Succeed"

    escalate = states["EscalateFrom?"]
    assert [(c["StringEquals"], c["Next"]) for c in escalate["Choices"]] == [
        ("yellow", "ToOrange"),
        ("orange", "ToRed"),
    ]
    assert escalate["Default"] == "NotifyUnacknowledged"
    for name, tier in (("ToOrange", "orange"), ("ToRed", "red")):
        assert states[name]["Type"] == "Pass"
        assert states[name]["Parameters"] == {
            "tier": tier,
            "timeout_seconds.$": f"$.timeouts.{tier}",
            "failed_from": "",
        }
        assert states[name]["ResultPath"] == "$.current"
        assert states[name]["Next"] == "NotifyAndWait"

    unack = states["NotifyUnacknowledged"]
    assert unack["Parameters"] == payload | {"kind": "unacknowledged"}
    assert unack["Next"] == "Unacknowledged"
    assert states["Unacknowledged"] == {
        "Type": "Fail",
        "Error": "Unacknowledged",
        "Cause": "No acknowledgement at red",
    }
    assert states["NotifyBlue"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "TierFailed?"}
    ]
    assert states["NotifyUnacknowledged"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotificationFailed"}
    ]
    assert states["NotificationFailed"]["Type"] == "Fail"


def test_state_machine_invokes_only_the_notifier(resources):
    (machine,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    notifier_id, _ = function_by_handler(resources, constants.FUNCTIONS["notifier"].handler)
    refs = [p for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(p, dict)]
    functions = {r["Fn::GetAtt"][0] for r in refs if "Fn::GetAtt" in r}
    assert functions == {notifier_id}


# --- API Gateway ---------------------------------------------------------------------------------


def _paths(resources) -> dict[str, str]:
    """ApiGateway::Resource logical id -> full path."""
    api_resources = of_type(resources, "AWS::ApiGateway::Resource")

    def path(logical: str) -> str:
        props = api_resources[logical]["Properties"]
        parent = props["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    return {logical: path(logical) for logical in api_resources}


def test_api_routes_all_use_iam_auth_and_validation(resources):
    paths = _paths(resources)
    validator = logical_id(resources, "AWS::ApiGateway::RequestValidator", "ApiRestApi")
    api_fn, _ = function_by_handler(resources, constants.FUNCTIONS["api"].handler)
    routes = set()
    incidents_api = logical_id(resources, "AWS::ApiGateway::RestApi", "ApiRestApi")
    methods = of_type(resources, "AWS::ApiGateway::Method")
    assert methods
    for method in methods.values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS" or props["RestApiId"] != {"Ref": incidents_api}:
            continue  # the push API is tested in test_infra_push.py
        assert props["AuthorizationType"] == "AWS_IAM", props
        assert props["RequestValidatorId"] == {"Ref": validator}
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert api_fn in json.dumps(props["Integration"]["Uri"])
        routes.add((props["HttpMethod"], paths[props["ResourceId"]["Ref"]]))
    assert routes == {
        ("GET", "/incidents"),
        ("GET", "/incidents/{incident_id}"),
        ("POST", "/incidents/{incident_id}/ack"),
        ("GET", "/incidents/{incident_id}/timeline"),
        ("POST", "/incidents/{incident_id}/statements"),
        ("POST", "/incidents/{incident_id}/resolve"),
        ("GET", "/watches"),
        ("POST", "/watches"),
        ("GET", "/watches/{watch_id}"),
        ("PUT", "/watches/{watch_id}"),
        ("DELETE", "/watches/{watch_id}"),
    }


def test_api_stage_logs_traces_and_throttles(template, resources):
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        expected_stage(
            logical_id(resources, "AWS::ApiGateway::RestApi", "ApiRestApi"),
            logical_id(resources, "AWS::Logs::LogGroup", "ApiAccessLogs"),
            constants.API_THROTTLE_RATE_LIMIT,
            constants.API_THROTTLE_BURST_LIMIT,
        ),
    )
    template.resource_count_is("AWS::ApiGateway::Account", 1)


# --- Observability -------------------------------------------------------------------------------


def test_alarms_cover_every_dlq_and_function_and_go_to_ops(resources):
    ops = _ref(resources, "AWS::SNS::Topic", "ObservabilityOpsTopic")
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    watched_queues, watched_functions = set(), set()
    for alarm in alarms:
        props = alarm["Properties"]
        assert props["AlarmActions"] == [ops]
        dims = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            watched_queues.add(dims["QueueName"]["Fn::GetAtt"][0])
        if props.get("MetricName") == "Errors" and props["Namespace"] == "AWS/Lambda":
            watched_functions.add(dims["FunctionName"]["Ref"])
    dlqs = {k for k in of_type(resources, "AWS::SQS::Queue") if "DLQ" in k}
    # fetch jobs per platform, posts, schedule, alerts, timers
    assert len(dlqs) == 6 and watched_queues == dlqs
    assert watched_functions == set(our_functions(resources))  # the seed provider runs only at deploy


def test_lambda_never_filters_application_logs_above_info():
    """A metrics (EMF) line carries no level, which Lambda reads as INFO: a stricter filter would drop
    every metric and blind the alarms on them. A stricter context logLevel is Powertools' own."""
    from aws_cdk import aws_lambda as lambda_

    from infra.constructs.function import APPLICATION_LOG_LEVELS
    from infra.context import LOG_LEVELS

    assert set(APPLICATION_LOG_LEVELS) == set(LOG_LEVELS)
    assert APPLICATION_LOG_LEVELS["DEBUG"] == lambda_.ApplicationLogLevel.DEBUG
    assert {APPLICATION_LOG_LEVELS[level] for level in ("INFO", "WARNING", "ERROR")} == {
        lambda_.ApplicationLogLevel.INFO
    }
