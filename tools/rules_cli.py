"""Rule commands: ``rules match``.

The project's ``crisiswatch`` entry point calls :func:`register` with its subparsers; this module
can also run alone: ``python -m tools.rules_cli rules match --rule "鲜味坊 投诉" --text "…"``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def cmd_rules_match(args: argparse.Namespace) -> int:
    from crisiswatch.rules import RuleSyntaxError, parse_rule

    try:
        rule = parse_rule(args.rule)
    except RuleSyntaxError as e:
        sys.stderr.write(f"invalid rule: {e}\n")
        return 2
    found = rule.match(args.text)
    sys.stdout.write(json.dumps({"matched": found.matched, "terms": found.terms}, ensure_ascii=False) + "\n")
    return 0


def register(subparsers: Any) -> None:
    """Add ``rules match`` to an argparse subparsers object."""
    rules = subparsers.add_parser("rules", help="watch rules: keyword expressions with AND / OR / NOT")
    what = rules.add_subparsers(dest="rules_what", required=True)
    match = what.add_parser(
        "match", help='match one text against a rule; prints {"matched": bool, "terms": [...]}'
    )
    match.add_argument(
        "--rule", required=True, metavar="EXPR", help="e.g. '(鲜味坊 OR XWF) NOT \"鲜味坊小区\"'"
    )
    match.add_argument("--text", required=True, metavar="TEXT")
    match.set_defaults(func=cmd_rules_match)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crisiswatch")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
