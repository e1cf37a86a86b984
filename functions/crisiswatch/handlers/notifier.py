"""Invoked by the escalation state machine (notify a tier) and by due timers (reminders, missed
deadlines, quiet-hours digests, chat-bot backlogs): crisiswatch.escalation.service.Notifier."""

import os

from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws import services
from crisiswatch.constants import Env
from crisiswatch.environment import NotifierSettings
from crisiswatch.escalation.service import Notifier, NotifyRequest
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.wiring import Wiring


def build(clock: Clock) -> Notifier:
    return services.notifier(NotifierSettings.from_env(), clock)


wiring = Wiring(build)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # This function is its timers' target; its own ARN cannot be in its environment (a circular
    # reference for CloudFormation), so it comes from the invocation, without a qualifier.
    os.environ.setdefault(Env.TIMER_TARGET_ARN, ":".join(context.invoked_function_arn.split(":")[:7]))
    if "timer" in event:  # a due timer (crisiswatch.aws.timers): {"timer": name, "payload": {...}}
        done = wiring.get().on_timer(event["payload"])
        logger.info("timer done", timer=event["timer"], done=done)
        return {"timer": event["timer"], "done": done}
    request = NotifyRequest.model_validate(event)
    sent = wiring.get().notify(request)
    metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=len(sent))
    return {"sent": [n.message_id for n in sent], "tier": request.tier.value, "kind": request.kind}
