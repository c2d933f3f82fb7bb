"""Command line of the study: one front door over the study's runner (``run``), the core's training
(``train``, :func:`qrnn_core.train.train`) and the benchmark (``bench``, :mod:`qrnn_tools.bench`).

  python -m qrnn_study run [--profile quick|paper]      run the study's notebooks into the book
  python -m qrnn_study train --method spsa --epochs 1   train one run (every TrainConfig field is an option)
  python -m qrnn_study bench [--json PATH]              time simulators, updates and epochs
"""

from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    """Refusals in one line (``prog: error: ...``), exit status 2, no usage block, no traceback."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m qrnn_study", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    bench = sub.add_parser("bench", help="time the simulators, one update and one epoch per estimator")
    bench.add_argument("--json", metavar="PATH", help="write the figures, machine and versions here")
    bench.add_argument("--repeats", type=int, default=5, help="timed calls per row (median)")
    bench.add_argument("--only", default="simulator,update,epoch",
                       help="comma-separated sections: kernel, simulator, update, epoch")
    bench.add_argument("--gpu", action="store_true",
                       help="the GPU benchmark (CUDA simulator, Aer GPU, an FDSA epoch); needs an NVIDIA GPU")
    bench.add_argument("--full", action="store_true",
                       help="also time an FDSA update through Aer with 1,024 shots (minutes)")

    from .cli import add_config_arguments

    train = sub.add_parser("train", help="train one run with the seed's protocol")
    train.add_argument("--out", required=True, help="run folder: checkpoints, metrics.json, config.json")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(train)

    run = sub.add_parser("run", help="run the study's notebooks on a Dask cluster (resumable)")
    run.add_argument("--profile", default="quick", help="quick (default), paper, or tiny (tests)")
    run.add_argument("--only", metavar="NAME",
                     help="this run (or every seed of it) and whatever it depends on that is out of date")
    run.add_argument("--jobs", type=int, default=None,
                     help="workers of the local cluster, one thread each (default: one per core)")
    cluster = run.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="ADDRESS", help="use this running Dask cluster (tcp://host:8786)")
    cluster.add_argument("--scheduler-file", metavar="PATH", help="use the Dask cluster this scheduler file names")
    from .cluster import CONNECT_TIMEOUT

    run.add_argument("--connect-timeout", metavar="SECONDS", type=float, default=CONNECT_TIMEOUT,
                     help=f"seconds to wait for the scheduler file and the scheduler (default: {CONNECT_TIMEOUT:g})")
    run.add_argument("--rerun", action="store_true", help="re-run even what is up to date")
    run.add_argument("--rekey", action="store_true",
                     help="compute no result: re-key the finished training runs whose inputs differ in science core "
                          "source only, where today's code re-computes their first updates bit for bit")
    run.add_argument("-n", "--dry-run", action="store_true",
                     help="compute nothing: print what would run, why, and its cost at the recorded rates")
    run.add_argument("--no-train", action="store_true",
                     help="run no training: build the pages from the seeds finished so far")
    run.add_argument("--study-file", default=None, help="default: study.yml at the top of the repository")

    args = parser.parse_args(argv)
    if args.command == "bench":
        sections = {s.strip() for s in args.only.split(",") if s.strip()}
        unknown = sections - {"simulator", "update", "epoch"}
        if unknown or not sections:
            parser.error(f"--only: unknown sections {sorted(unknown)}; use simulator, update, epoch")
        if args.repeats < 1:
            parser.error("--repeats must be >= 1")
        from qrnn_tools.bench import main as bench_main

        bench_main(args.json, args.repeats, args.full, sections, gpu=args.gpu)
    elif args.command == "train":
        return _train_command(train, args)
    elif args.command == "run":
        from .cluster import SchedulerUnreachable
        from .drive import StudyLocked, run_study
        from .plan import dry_run
        from .study_file import ROOT, load_study

        if args.jobs is not None and args.jobs < 1:
            run.error("--jobs must be >= 1")
        if not 0 < args.connect_timeout < float("inf"):
            run.error(f"--connect-timeout must be a positive number of seconds, got {args.connect_timeout}")
        try:
            spec = load_study(args.study_file or ROOT / "study.yml", args.profile)
            if args.rekey:
                from .rekey import rekey

                outcomes = rekey(spec, only=args.only)
                print(f"re-keyed {sum(o.done for o in outcomes)} of {len(outcomes)} training run(s) whose inputs "
                      "differ in science core source only")
                return 0 if all(o.done for o in outcomes) else 1
            if args.dry_run:
                print(dry_run(spec, only=args.only, rerun=args.rerun, train=not args.no_train))
                return 0
            return 1 if run_study(spec, only=args.only, jobs=args.jobs, scheduler=args.scheduler,
                                  scheduler_file=args.scheduler_file, rerun=args.rerun,
                                  train=not args.no_train, connect_timeout=args.connect_timeout) else 0
        except (ValueError, StudyLocked, SchedulerUnreachable) as err:
            run.error(str(err))
    return 0


def _train_command(parser, args) -> int:
    from .cli import as_typed, check_out_dir, config_from_args
    from qrnn_core.train import RunLocked, TrainingDiverged, last_epoch
    from qrnn_core.train import train as run_training

    try:
        out = check_out_dir(args.out)
        config = config_from_args(args)
        config.check()
    except (ValueError, TypeError) as err:
        parser.error(as_typed(str(err)))
    try:
        run_training(config, out, progress=not args.quiet)
    except ValueError as err:  # the folder holds another run
        parser.error(str(err))
    except RunLocked as err:
        parser.error(str(err))
    except TrainingDiverged as err:
        print(f"{parser.prog}: diverged: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted after epoch {last_epoch(out)}; re-run the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
