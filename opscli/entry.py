"""``bin/ops`` entry point: approval ids are checked before the heavy imports.

``opscli.aws_ops`` imports boto3 and the configuration loader, which costs
0.4 s on an idle machine and several seconds on a loaded one. A malformed
``--approved`` / ``--to`` must be refused quickly and before anything else
(exit 2), so this module looks at those two options with the standard
library only, then hands over to ``aws_ops.main`` (whose argparse checks the
same rule again, for callers that import it directly). Only ``deploy
--approved`` and ``rollback --to`` hold approval ids; ``restore-drill --to``
is a time and goes to its command untouched.
"""
from __future__ import annotations

import sys

from .approval import parse_id

# Which options hold an approval id, per command: ``restore-drill --to`` is a
# time (epoch or ISO-8601), checked by that command.
ID_OPTIONS = {"deploy": ("--approved",), "rollback": ("--to",)}


def malformed_id(argv: list[str]) -> tuple[str, str] | None:
    """(option, message) for the first malformed approval id in argv, else None."""
    command = next((a for a in argv if not a.startswith("-")), "")
    options = ID_OPTIONS.get(command, ())
    for i, arg in enumerate(argv):
        option, _, inline = arg.partition("=")
        if option not in options:
            continue
        value = inline if inline or "=" in arg else (argv[i + 1] if i + 1 < len(argv) else None)
        if value is None:
            return None  # argparse reports the missing value
        try:
            parse_id(value)
        except ValueError as exc:
            return option, str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bad = malformed_id(argv)
    if bad:
        command = next((a for a in argv if not a.startswith("-")), "")
        print(f"bin/ops {command}: error: argument {bad[0]}: {bad[1]}", file=sys.stderr)
        return 2
    from .aws_ops import main as ops_main

    return ops_main(argv)


if __name__ == "__main__":
    sys.exit(main())
