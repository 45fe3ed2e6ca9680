"""A small packing sweep run locally and on a LocalCluster of Dask workers: wall times, ratio.

The sweep is ``PackingConfig.quick()`` with ``--steps`` training steps (criterion 1.0 so no
network stops early: every unit does the full work) and ``--sizes``: 3 mechanisms x the sizes
= the number of units (ensembles). The local run trains them one after another in this
process; the distributed run spreads them over ``--workers`` single-threaded worker processes
(the cluster is started before the clock starts; its start-up time is printed apart). Both
runs must give the same numbers; the script checks it. Rounds alternate local / distributed
and the table gives the median wall time over rounds and speed-up = local / distributed.

    .venv/bin/python benchmarks/bench_distributed_sweep.py                 # ~1-2 minutes
    .venv/bin/python benchmarks/bench_distributed_sweep.py --workers 4 --steps 200 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from neuromodlab.experiments.distributed import local_cluster  # noqa: E402
from neuromodlab.experiments.packing import PackingConfig, run_packing  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100, help="training steps per network")
    ap.add_argument("--sizes", default="8,16,24,32", help="network sizes N (one unit each "
                    "per mechanism)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    sizes = tuple(int(n) for n in args.sizes.split(","))
    config = PackingConfig.quick(n_hidden=sizes, max_steps=args.steps,
                                 eval_every=args.steps, criterion=1.0)
    units = len(config.mechanisms) * len(sizes)
    print(f"packing sweep: {units} units (mechanisms {', '.join(config.mechanisms)} x N "
          f"{list(sizes)}), {len(config.task_counts) * len(config.seeds)} networks per unit, "
          f"{args.steps} steps; {args.workers} Dask workers x 1 thread; "
          f"{os.cpu_count()} CPUs; torch {torch.__version__}")
    t0 = time.perf_counter()
    with local_cluster(args.workers) as client:
        print(f"cluster start-up: {time.perf_counter() - t0:.1f} s (not in the times below)")
        local, remote = [], []
        for r in range(args.rounds):
            t = time.perf_counter()
            a = run_packing(config, quiet=True)
            local.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = run_packing(config, quiet=True, client=client)
            remote.append(time.perf_counter() - t)
            if a.runs != b.runs:
                raise SystemExit("the distributed sweep gave different numbers")
            print(f"round {r + 1}: local {local[-1]:.1f} s, distributed {remote[-1]:.1f} s")
    lm, rm = statistics.median(local), statistics.median(remote)
    print("\n| run | wall time (s, median) |\n|---|---|")
    print(f"| local (1 process) | {lm:.1f} |")
    print(f"| LocalCluster, {args.workers} workers | {rm:.1f} |")
    print(f"\nspeed-up local / distributed: {lm / rm:.2f}x (identical numbers: yes)")


if __name__ == "__main__":  # the workers are spawned processes: they must not rerun this
    main()
