"""The service's one logger, tracer and metrics objects (Powertools), shared by every handler."""

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


logger = Logger(service=SERVICE, logger_formatter=Formatter())
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
