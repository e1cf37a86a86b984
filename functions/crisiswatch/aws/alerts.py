"""SNS: the alerts topic, one publish per alert; subscribers' filter policies on `level` decide who receives it."""

from __future__ import annotations

from crisiswatch.escalation.messages import Alert
from crisiswatch.vocabulary import Level

LEVEL_ATTRIBUTE = "level"  # the subscriptions' filter policies match on this message attribute


class SnsAlertPublisher:
    def __init__(self, client, topic_arn: str):
        self._sns = client
        self._topic = topic_arn

    def publish(self, alert: Alert, tier: Level) -> str:
        response = self._sns.publish(
            TopicArn=self._topic,
            Subject=alert.subject,
            Message=alert.sns_message(),
            MessageStructure="json",
            MessageAttributes={LEVEL_ATTRIBUTE: {"DataType": "String", "StringValue": tier.value}},
        )
        return response["MessageId"]
