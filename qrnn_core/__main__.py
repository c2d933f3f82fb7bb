"""Command line: ``python -m qrnn_core bench [--json PATH]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qrnn_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="time the simulators (and estimators) in one run")
    bench.add_argument("--json", metavar="PATH", help="write the figures, machine and versions here")
    bench.add_argument("--repeats", type=int, default=5, help="timed calls per row (median)")
    bench.add_argument("--full", action="store_true",
                       help="also time an FDSA update through Aer with 1,024 shots (minutes)")
    args = parser.parse_args(argv)
    if args.command == "bench":
        if args.repeats < 1:
            parser.error("--repeats must be >= 1")
        from .bench import main as bench_main

        bench_main(args.json, args.repeats, args.full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
