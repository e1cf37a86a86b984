"""A local platform simulator: Weibo, Bilibili, RSS/Atom news, Douyin and Xiaohongshu (data-provider)
search formats, a generated brand-crisis scenario, faults.

Used by the ingest integration tests and the local demo in place of the internet. See docs/ingest.md.
"""

from .channels import PLATFORMS, SimItem, generate_items
from .scenario import TICK_SECONDS, Scenario, SimPost, SimUser, render_html
from .server import FAULTS, PlatformSimulator, RequestRecord

__all__ = [
    "FAULTS",
    "PLATFORMS",
    "TICK_SECONDS",
    "PlatformSimulator",
    "RequestRecord",
    "Scenario",
    "SimItem",
    "SimPost",
    "SimUser",
    "generate_items",
    "render_html",
]
