"""SNS: the alerts topic, one publish per alert; each subscription's filter policy names its
subscriber (`recipient`), so a publish reaches exactly the subscribers it lists."""

from __future__ import annotations

import json
from collections.abc import Sequence

from crisiswatch.escalation.messages import Alert
from crisiswatch.vocabulary import Level

LEVEL_ATTRIBUTE = "level"  # the tier told (for the record and for other consumers)
RECIPIENT_ATTRIBUTE = "recipient"  # String.Array of subscriber names: the subscriptions filter on it
WATCH_ATTRIBUTE = "watch"


class SnsAlertPublisher:
    def __init__(self, client, topic_arn: str):
        self._sns = client
        self._topic = topic_arn

    def publish(self, alert: Alert, tier: Level, recipients: Sequence[str], watch_id: str) -> str:
        if not recipients:
            raise ValueError("a publish must name at least one recipient")
        response = self._sns.publish(
            TopicArn=self._topic,
            Subject=alert.subject,
            Message=alert.sns_message(),
            MessageStructure="json",
            MessageAttributes={
                LEVEL_ATTRIBUTE: {"DataType": "String", "StringValue": tier.value},
                WATCH_ATTRIBUTE: {"DataType": "String", "StringValue": watch_id},
                RECIPIENT_ATTRIBUTE: {
                    "DataType": "String.Array",
                    "StringValue": json.dumps(sorted(recipients)),
                },
            },
        )
        return response["MessageId"]
