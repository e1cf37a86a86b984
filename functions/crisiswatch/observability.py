"""The service's one logger, tracer and metrics objects (Powertools), shared by every handler."""

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from crisiswatch.constants import METRICS_NAMESPACE, SERVICE

# What `inject_lambda_context` adds that the log group already says (each function has its own):
# about 190 bytes a line, a third of a fetch job's line (56 million of them a month at 1,000
# watches). The request id and cold start stay.
REDUNDANT_CONTEXT_KEYS = ("function_arn", "function_name", "function_memory_size")


class Formatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines without the keys the log group already names."""

    def serialize(self, log: Any) -> str:
        for key in REDUNDANT_CONTEXT_KEYS:
            log.pop(key, None)
        return super().serialize(log)


# RFC 3339 times: Lambda's JSON log format takes a line's own time and level only with them.
logger = Logger(service=SERVICE, logger_formatter=Formatter(use_rfc3339=True))
# Lambda's log filter (AWS_LAMBDA_LOG_LEVEL, the template's application log level) takes precedence
# over LOG_LEVEL in Powertools, for this logger and every child. The template keeps that filter at
# INFO (DEBUG when asked): a metrics line (EMF) carries no level, so Lambda reads it as INFO and a
# stricter filter would drop every metric, and the alarms on them with it. A stricter LOG_LEVEL
# (context `logLevel`, e.g. WARNING) is applied here, on the one handler all the service's lines
# go through. It is set once, at import: Powertools' log sampling and a later logger.setLevel
# cannot lower it.
if os.environ.get("LOG_LEVEL"):
    logger.registered_handler.setLevel(os.environ["LOG_LEVEL"].upper())
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def add_counts(counts: Mapping[str, int], always: str) -> None:
    """Add a run's counts to the invocation's metrics: `always` (a zero is news: nothing found,
    nothing scored), the others only when something happened, since every name in an invocation's
    metrics is logged on every invocation (EMF) and an alarm on a failure count reads a missing
    point as not breaching."""
    for name, value in counts.items():
        if value or name == always:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_now(name: str, value: int = 1) -> None:
    """Publish one count at once, for handlers that have no batch of metrics to flush."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=METRICS_NAMESPACE):
        pass


__all__ = ["MetricUnit", "add_counts", "count_now", "logger", "metrics", "tracer"]
