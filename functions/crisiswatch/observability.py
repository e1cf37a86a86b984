"""The service's one logger, tracer and metrics objects (Powertools), shared by every handler."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from crisiswatch.constants import METRICS_NAMESPACE, SERVICE

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def count_now(name: str, value: int = 1) -> None:
    """Publish one count at once, for handlers that have no batch of metrics to flush."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=METRICS_NAMESPACE):
        pass


__all__ = ["MetricUnit", "count_now", "logger", "metrics", "tracer"]
