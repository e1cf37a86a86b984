"""Every crisiswatch Lambda is made here, from its `crisiswatch.constants.FunctionSpec`.

Same shape for all: the configured Python runtime on arm64, its own code asset (what its handler
imports, see `infra.packaging`), X-Ray tracing, its own log group with retention, its own role that can write only to that
log group (no AWSLambdaBasicExecutionRole: that managed policy lets a function create any log group),
the shared `deps` layer and, for functions that segment Chinese text, the `nlp` layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from crisiswatch import constants
from infra import packaging
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime(constants.LAMBDA_RUNTIME, lambda_.RuntimeFamily.PYTHON)
ARCHITECTURE = lambda_.Architecture.ARM_64
TRACING_MODES = {"active": lambda_.Tracing.ACTIVE, "passthrough": lambda_.Tracing.PASS_THROUGH}
# Lambda's filter on what a function's code writes, per context `logLevel`: never above INFO, since
# Lambda reads a line without a level (the metrics' EMF lines) as INFO and would drop it; a stricter
# level is Powertools' own (crisiswatch.observability), from LOG_LEVEL.
APPLICATION_LOG_LEVELS = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARNING": lambda_.ApplicationLogLevel.INFO,
    "ERROR": lambda_.ApplicationLogLevel.INFO,
}

_RETENTION = {
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def log_retention() -> logs.RetentionDays:
    try:
        return _RETENTION[constants.LOG_RETENTION_DAYS]
    except KeyError:
        raise ValueError(f"constants.LOG_RETENTION_DAYS must be one of {sorted(_RETENTION)}") from None


def function_code(key: str) -> lambda_.Code:
    """The code asset of `constants.FUNCTIONS[key]`: `functions/` minus everything its handler does not
    import (`infra.packaging.asset_excludes`), so each function ships only the modules and package
    data it runs. Excludes rather than a staging directory: CDK's own copy and fingerprint of
    `functions/` do the work, the asset hash changes exactly when a shipped file does, and no
    temporary directory has to outlive the synth."""
    handler = constants.FUNCTIONS[key].handler
    return lambda_.Code.from_asset(str(packaging.FUNCTIONS_DIR), exclude=packaging.asset_excludes(handler))


@dataclass(frozen=True)
class Runtime:
    """What every function shares: layers, and the log level and tracing mode of each (per
    function key; the code is per function)."""

    deps_layer: lambda_.ILayerVersion
    nlp_layer: lambda_.ILayerVersion
    log_levels: dict[str, str]
    tracing: dict[str, str]
    system_log_levels: dict[str, str]


def make_function(
    scope: Construct,
    key: str,
    shared: Runtime,
    environment: dict[str, str],
    *,
    description: str,
    **options: Any,
) -> lambda_.Function:
    """The Lambda for `constants.FUNCTIONS[key]`, with construct id `spec.construct_id` in `scope`."""
    spec = constants.FUNCTIONS[key]
    log_group = logs.LogGroup(
        scope,
        f"{spec.construct_id}Logs",
        retention=log_retention(),
        removal_policy=RemovalPolicy.RETAIN,
    )
    role = iam.Role(
        scope,
        f"{spec.construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"crisiswatch {key} function",
    )
    layers = [shared.deps_layer, shared.nlp_layer] if spec.needs_nlp else [shared.deps_layer]
    fn = lambda_.Function(
        scope,
        spec.construct_id,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=spec.handler,
        code=function_code(key),
        timeout=Duration.seconds(spec.timeout_seconds),
        memory_size=spec.memory_mb,
        tracing=TRACING_MODES[shared.tracing[key]],
        log_group=log_group,
        # JSON log format, so that Lambda filters by level: its own START and REPORT lines are INFO,
        # so at WARN (the default, context `systemLogLevel`) a function's log holds only what its
        # code writes (APPLICATION_LOG_LEVELS). About 330 bytes an invocation: 30% of the log bytes
        # of `make cost`. Lambda's own metrics (duration, errors, throttles) are unaffected.
        logging_format=lambda_.LoggingFormat.JSON,
        system_log_level_v2=lambda_.SystemLogLevel[shared.system_log_levels[key]],
        application_log_level_v2=APPLICATION_LOG_LEVELS[shared.log_levels[key]],
        role=role,
        layers=layers,
        description=description,
        environment={
            "POWERTOOLS_SERVICE_NAME": constants.SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
            "LOG_LEVEL": shared.log_levels[key],
            **environment,
        },
        **options,
    )
    log_group.grant_write(role)
    acknowledge(
        role,
        "AwsSolutions-IAM5",
        "Tracing (active, or passing an upstream trace through) needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no "
        "resource-level permissions (resource must be *). Every other statement is scoped to one resource.",
        finding="Resource::*",
    )
    runtime_reason = (
        f"The runtime is pinned in crisiswatch.constants.LAMBDA_RUNTIME ({constants.LAMBDA_RUNTIME}) because the "
        "layers carry compiled wheels for that CPython (pydantic-core, wrapt); moving it is a deliberate "
        "change that rebuilds the layers and reruns the tests, not a drift."
    )
    if shared.tracing[key] == "passthrough":
        acknowledge(
            fn,
            "Serverless-LambdaTracing",
            "The monitoring pipeline (schedule ticks, fetch jobs, post batches): measured by metrics and "
            "structured logs; an active trace per invocation would cost more than the posts it carries. It "
            "joins the traces its callers start (SQS carries the header); context 'tracing' turns it on "
            "(crisiswatch.constants.TRACING).",
        )
    acknowledge(fn, "AwsSolutions-L1", runtime_reason)
    acknowledge(fn, "Serverless-LambdaLatestVersion", runtime_reason)
    return fn
