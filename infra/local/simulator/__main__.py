"""Run the simulator standalone: ``python -m infra.local.simulator [--brand 鲜味坊] [--seed 7]``.

Prints the base URL and an example search URL; press Enter to advance one tick, Ctrl-C to stop.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import quote

from .scenario import Scenario
from .server import PlatformSimulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.simulator", description=__doc__)
    parser.add_argument("--brand", default="鲜味坊")
    parser.add_argument("--alias", default="XWF")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--ticks", type=int, default=1, help="ticks visible at start")
    parser.add_argument("--mixed-times", action="store_true", help="also absolute created_at formats")
    parser.add_argument("--late-posts", action="store_true", help="some non-Weibo items appear late")
    parser.add_argument("--api-key", default=None, help="require this X-Api-Key on the provider routes")
    args = parser.parse_args(argv)

    scenario = Scenario.generate(args.brand, alias=args.alias, seed=args.seed)
    sim = PlatformSimulator(
        scenario,
        port=args.port,
        created_at_style="mixed" if args.mixed_times else "relative",
        late_posts=args.late_posts,
        api_key=args.api_key,
    )
    url = sim.start()
    sim.advance(args.ticks)
    cid = quote(f"100103type=61&q={scenario.brand}&t=", safe="")
    print(url, flush=True)
    print(
        f"posts per tick: {scenario.posts_per_tick()}; burst from tick {scenario.burst_start}",
        file=sys.stderr,
    )
    kw = quote(scenario.brand, safe="")
    for example in (
        f"/api/container/getIndex?containerid={cid}&page_type=searchall&page=1",
        f"/x/web-interface/search/type?search_type=video&keyword={kw}&page=1&order=pubdate",
        f"/rss/search?q={kw}",
        f"/atom/search?q={kw}",
        f"/douyin/v1/search/video?keyword={kw}&cursor=0&count=20&sort_type=2",
        f"/xiaohongshu/v1/search/notes?keyword={kw}&page=1&page_size=20&sort=time_descending",
    ):
        print(f"try: curl '{url}{example}'", file=sys.stderr)
    try:
        while True:
            print(f"tick {sim.current_tick} visible; Enter advances", file=sys.stderr)
            if sys.stdin.readline() == "":
                # stdin closed (e.g. run in the background): just serve.
                import threading

                threading.Event().wait()
            sim.advance()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
