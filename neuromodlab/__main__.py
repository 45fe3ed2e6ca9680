"""Command line: ``python -m neuromodlab reproduce`` and ``python -m neuromodlab info``."""

from __future__ import annotations

import argparse
import sys


def _reproduce(args) -> int:
    import contextlib

    from .experiments.distributed import DaskNotInstalled, SchedulerUnreachable, local_cluster
    from .experiments.reproduce import EXPERIMENTS, OutputError, reproduce

    mode = "quick" if args.quick else "full" if args.full else "default"
    only = tuple(args.only.split(",")) if args.only else EXPERIMENTS
    try:
        if args.dask_workers is not None and args.dask_workers < 1:
            raise ValueError(f"--dask-workers must be >= 1, got {args.dask_workers}")
        with contextlib.ExitStack() as stack:
            client = args.scheduler
            if args.dask_workers is not None:
                client = stack.enter_context(local_cluster(args.dask_workers))
            summary = reproduce(args.out, mode=mode, seed=args.seed, quiet=args.quiet,
                                experiments=only, jobs=args.jobs, client=client)
    # bad arguments, no Dask, no scheduler: raised before anything runs
    except (OutputError, ValueError, DaskNotInstalled, SchedulerUnreachable) as err:
        print(f"neuromodlab reproduce: error: {err}", file=sys.stderr)
        return 2
    failed = [k for k, e in summary["experiments"].items() if e["status"] == "failed"]
    if failed:
        print(f"neuromodlab reproduce: {', '.join(failed)} failed (see report.md and "
              "data/*_error.txt); the other results were written", file=sys.stderr)
        return 1
    return 0


def _info(args) -> int:
    from .modulation import MECHANISMS
    from .tasks import TASK_NAMES

    print("tasks:", ", ".join(TASK_NAMES))
    print("mechanisms:", ", ".join(MECHANISMS))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="neuromodlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "reproduce", help="run the reduced experiments, write figures, report.md, results.json",
        description="Run the reduced ambiguity, packing, initialisation and dynamics "
                    "experiments (inspired by Vedovati & Ching 2024) and write PNG figures, "
                    "report.md and results.json into --out. Default: <= 10 min on 2 CPU cores.")
    size = rep.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a smoke run (about a minute)")
    size.add_argument("--full", action="store_true",
                      help="larger sweeps (the expected time is printed first)")
    rep.add_argument("--out", default="results",
                     help="output folder: new, empty, or a previous output (default: results)")
    rep.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    rep.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    rep.add_argument("--jobs", type=int, default=None,
                     help="processes: 1 = one after the other with progress bars; 2 (default "
                          "with >= 2 CPUs) = packing and initialisation in a second process; "
                          "must be 1 with --scheduler or --dask-workers")
    dask = rep.add_mutually_exclusive_group()
    dask.add_argument("--scheduler", default=None, metavar="ADDRESS",
                      help="train the ensembles on the Dask cluster whose scheduler is at "
                           "ADDRESS (e.g. tcp://host:8786); same numbers as a local run; see "
                           "docs/distributed.md")
    dask.add_argument("--dask-workers", type=int, default=None, metavar="N",
                      help="train the ensembles on a local Dask cluster of N single-threaded "
                           "worker processes (started and stopped here)")
    rep.add_argument("--only", default="",
                     help="comma-separated subset of: ambiguity,packing,initialisation,dynamics")
    rep.set_defaults(func=_reproduce)
    info = sub.add_parser("info", help="list tasks and mechanisms")
    info.set_defaults(func=_info)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
