"""The `crisiswatch` command: the local demo and the scoring tools."""

from __future__ import annotations

import argparse
import sys

from tools.rules_cli import register as register_rules
from tools.scoring.cli import register as register_scoring


def _demo(args: argparse.Namespace) -> int:
    # The local runtime needs the dev extras (CDK, moto); import it only for this command.
    from infra.local.drivers.demo import run_demo

    return run_demo(verbose=args.verbose, ack_timeout=args.ack_timeout, report_path=args.report)


def _replay(args: argparse.Namespace) -> int:
    from infra.local.drivers.replay import run_replay_command  # dev extras, as for the demo

    return run_replay_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crisiswatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="run the whole loop on the embedded local AWS (moto) and a platform simulator"
    )
    demo.add_argument("--verbose", action="store_true", help="show the handlers' structured logs")
    demo.add_argument(
        "--ack-timeout",
        type=int,
        default=3,
        metavar="SECONDS",
        help="how long the demo's escalation waits for an acknowledgement per tier (default 3)",
    )
    demo.add_argument(
        "--report", metavar="FILE", help="also write what happened as JSON (used by the e2e test)"
    )
    demo.set_defaults(func=_demo)

    replay = sub.add_parser(
        "replay",
        help="replay recorded Weibo cascades (THU CED format) through the local loop",
        description="Serve recorded cascades as Weibo search results over simulated time and run "
        "them through the local loop (see docs/ingest.md, 'Replay').",
    )
    replay.add_argument("--events", required=True, metavar="E.csv.gz", help="the CED events file")
    replay.add_argument("--posts", required=True, metavar="P.csv.gz", help="the CED posts file")
    replay.add_argument(
        "--speed",
        type=float,
        default=0,
        metavar="N",
        help="simulated seconds per wall second (default 0: as fast as possible)",
    )
    replay.add_argument(
        "--events-limit",
        type=int,
        default=20,
        metavar="K",
        help="the first K selected events (default 20, 0: all)",
    )
    replay.add_argument("--event-ids", action="append", metavar="ID[,ID...]", help="only these events")
    replay.add_argument(
        "--since", metavar="DATE", help="events whose source post is at or after (China time)"
    )
    replay.add_argument("--until", metavar="DATE", help="events whose source post is before (China time)")
    replay.add_argument(
        "--hours",
        type=float,
        default=24,
        metavar="H",
        help="each cascade's first H hours (default 24, 0: all)",
    )
    replay.add_argument(
        "--keywords",
        action="append",
        metavar="KW[,KW...]",
        help="what the watch searches for (default: nouns most selected source posts share)",
    )
    replay.add_argument(
        "--ack-timeout",
        type=int,
        metavar="SECONDS",
        help="wall seconds an alert waits for an acknowledgement per tier (default: the template's)",
    )
    replay.add_argument(
        "--engine",
        choices=("moto", "memory"),
        default="moto",
        help="moto: the embedded local AWS, end to end (default); memory: the same services on "
        "in-memory adapters and the simulated clock, hundreds of times faster",
    )
    replay.add_argument("--verbose", action="store_true", help="show the handlers' structured logs")
    replay.add_argument("--report", metavar="FILE", help="also write what happened as JSON")
    replay.set_defaults(func=_replay)

    register_scoring(sub)
    register_rules(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
