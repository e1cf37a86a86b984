"""Fetching a watch's posts from a platform: search, page, de-duplicate, match.

``crisiswatch.ingest.fetching.fetch_posts`` is the one entry point of the fetch path::

    result = fetch_posts(job, base_url, HttpClient(timeout=5), now=clock.now())

Platforms plug in through ``crisiswatch.ingest.adapters.ADAPTERS`` (platform name -> adapter, see
``platform.PlatformAdapter``); ``adapters.register_adapter`` adds one. Registered: weibo, bilibili,
news (RSS/Atom), douyin and xiaohongshu (data providers, see ``provider``). Errors: see
``crisiswatch.ingest.errors``. Scheduling (``scheduling``) and the push endpoint (``webhook``,
``push_receiver``) live here too.

This ``__init__`` imports nothing on purpose: every function that imports a module of this package
runs it, and only the fetcher needs the adapters (feedparser, the provider mappings).
"""
