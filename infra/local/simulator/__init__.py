"""A local platform simulator: Weibo, Bilibili, RSS/Atom news, Douyin and Xiaohongshu (data-provider)
search formats, a generated brand-crisis scenario, faults.

Used by the ingest integration tests and the local demo in place of the internet. See docs/ingest.md.
Also the chat bots' webhooks (WeCom, DingTalk, Feishu) for the alerts: ``chat_bots``.
"""

from .channels import PLATFORMS, SimItem, generate_items
from .chat_bots import ChatBotSimulator, SimBot
from .scenario import TICK_SECONDS, Scenario, SimPost, SimUser, render_html
from .server import FAULTS, PlatformSimulator, RequestRecord

__all__ = [
    "FAULTS",
    "ChatBotSimulator",
    "PLATFORMS",
    "TICK_SECONDS",
    "PlatformSimulator",
    "RequestRecord",
    "Scenario",
    "SimBot",
    "SimItem",
    "SimPost",
    "SimUser",
    "generate_items",
    "render_html",
]
