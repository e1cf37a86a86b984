"""The `crisiswatch` command: the local demo and the scoring tools."""

from __future__ import annotations

import argparse
import sys

from crisiswatch.ingest.cli import register as register_rules
from crisiswatch.scoring.cli import register as register_scoring


def _demo(args: argparse.Namespace) -> int:
    # The local runtime needs the dev extras (CDK, moto); import it only for this command.
    from infra.local.demo import run_demo

    return run_demo(verbose=args.verbose, ack_timeout=args.ack_timeout, report_path=args.report)


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

    register_scoring(sub)
    register_rules(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
