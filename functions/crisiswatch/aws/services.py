"""The response services on the AWS adapters: which adapter each port gets, in one place for the
handlers that share them (the scorer's own is crisiswatch.aws.scoring: it alone ships jieba)."""

from __future__ import annotations

import boto3

from crisiswatch.aws.alerts import SnsAlertPublisher
from crisiswatch.aws.chat_gate import DynamoChatGate
from crisiswatch.aws.held import DynamoHeldAlerts
from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.secrets import SecretsManagerReader
from crisiswatch.aws.timeline import DynamoTimeline
from crisiswatch.aws.timers import scheduler_timers
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.constants import CREDENTIALS_MAX_AGE_SECONDS
from crisiswatch.environment import NotifierSettings
from crisiswatch.escalation.chat_channel import BotChannel
from crisiswatch.escalation.chat_delivery import ChatDelivery
from crisiswatch.escalation.chat_http import HttpChatSender
from crisiswatch.escalation.service import Notifier
from crisiswatch.ports import Clock


def notifier(settings: NotifierSettings, clock: Clock) -> Notifier:
    dynamodb, wakeups = boto3.client("dynamodb"), scheduler_timers(settings, clock)
    gate = DynamoChatGate(dynamodb, settings.state_table)
    chat = ChatDelivery(gate, HttpChatSender(clock), SecretsManagerReader(CREDENTIALS_MAX_AGE_SECONDS))
    return Notifier(
        incidents=DynamoIncidentRepository(dynamodb, settings.incidents_table),
        publisher=SnsAlertPublisher(boto3.client("sns"), settings.alerts_topic_arn),
        clock=clock,
        console_url=settings.console_url,
        watches=DynamoWatchCatalogue(dynamodb, settings.state_table),
        timeline=DynamoTimeline(dynamodb, settings.state_table),
        timers=wakeups,
        held=DynamoHeldAlerts(dynamodb, settings.state_table),
        chat=BotChannel(chat, settings.bots, wakeups),
        routing=settings.routing,
        durations=settings.durations,
    )
