"""A local platform simulator: Weibo's mobile search format, a generated brand-crisis scenario, faults.

Used by the ingest integration tests and the local demo in place of the internet. See docs/ingest.md.
"""

from .scenario import TICK_SECONDS, Scenario, SimPost, SimUser, render_html
from .server import FAULTS, PlatformSimulator, RequestRecord

__all__ = [
    "FAULTS",
    "TICK_SECONDS",
    "PlatformSimulator",
    "RequestRecord",
    "Scenario",
    "SimPost",
    "SimUser",
    "render_html",
]
