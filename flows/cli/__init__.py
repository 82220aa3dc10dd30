"""The `breaknews` command, the edge of the program: parse the arguments, call one handler, print, and
turn typed errors into one clean line and an exit code (0 done, 1 warehouse or run failure, 2 usage
error, 3 site unreachable).

Nothing below this edge prints errors or exits; nothing here does work of its own.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from breaknews.flows.cli.commands import EXIT_INTERRUPTED
from breaknews.flows.prefect_environment import command_environment
from breaknews.warehouse.errors import BreaknewsError


def main(argv: Sequence[str] | None = None) -> int:
    command_environment()  # before anything imports Prefect
    from breaknews.flows.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as given: `serve` starts itself again with them
    try:
        return int(args.handler(args))
    except BreaknewsError as exc:
        print(f"breaknews: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("breaknews: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # e.g. Prefect's API failing to start: one line, unless debugging
        if os.environ.get("BREAKNEWS_DEBUG"):
            raise
        print(f"breaknews: error: {type(exc).__name__}: {exc} (set BREAKNEWS_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def run() -> NoReturn:
    """The `breaknews` console script: main(), then exit without the last garbage collection.
    Python's shutdown walks every object Prefect and pydantic created (0.3-0.4 s of every command
    here); frozen, they are left to the process's end. Files and connections are closed by then."""
    code = main()
    sys.stdout.flush()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
