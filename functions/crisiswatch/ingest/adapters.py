"""The platform adapters, by platform name: ``ADAPTERS``, ``register_adapter``, ``adapter_for``.

Registered at import: weibo, bilibili, news (RSS/Atom, ``feeds``), douyin and xiaohongshu (data
providers, see ``provider``). Only the fetch path imports this module: it pulls in every adapter
(feedparser among them), which the scheduler and the push function do not need.
"""

from __future__ import annotations

from crisiswatch.ingest.bilibili import BilibiliAdapter
from crisiswatch.ingest.errors import UnsupportedPlatform
from crisiswatch.ingest.feeds import FeedAdapter
from crisiswatch.ingest.platform import PlatformAdapter
from crisiswatch.ingest.provider import SHIPPED_PROVIDERS, load_provider
from crisiswatch.ingest.weibo import WeiboAdapter

ADAPTERS: dict[str, PlatformAdapter] = {}


def register_adapter(adapter: PlatformAdapter) -> None:
    """Make ``adapter`` serve jobs for ``adapter.platform`` (replacing any earlier one)."""
    ADAPTERS[adapter.platform] = adapter


def adapter_for(platform: str) -> PlatformAdapter:
    try:
        return ADAPTERS[platform]
    except KeyError:
        raise UnsupportedPlatform(platform, sorted(ADAPTERS)) from None


register_adapter(WeiboAdapter())
register_adapter(BilibiliAdapter())
register_adapter(FeedAdapter())  # platform "news"
# Douyin and Xiaohongshu through a data provider, without credentials: the fetcher re-registers
# them with ``load_provider(name).with_credentials(key)`` once it has read the key.
for _provider in SHIPPED_PROVIDERS:
    register_adapter(load_provider(_provider))
