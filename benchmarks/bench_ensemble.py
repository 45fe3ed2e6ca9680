"""Training 16 networks (N = 32) as one Ensemble against one after another with ``fit``.

Both sides do the same work: ``--steps`` training steps per network (batch 64, tasks go, anti,
dlygo, dlyanti, T = 75, recurrent noise on, per-network clipping and Adam) and the one final
evaluation ``fit`` always runs. The sequential side IS ``train.fit``; the ensemble side is
``fit_ensemble`` with ``data='own'`` (every member draws its own batches exactly as ``fit``
would: same numbers) and with ``data='pooled'`` (one task draw for all members per step).
The three candidates run in one process, interleaved in shuffled rounds; the table gives the
median over rounds of the CPU time (``time.process_time``, steadier on a shared machine) and
of the wall time, and the speed-up = sequential / ensemble.

    .venv/bin/python benchmarks/bench_ensemble.py                  # ~2-4 minutes
    .venv/bin/python benchmarks/bench_ensemble.py --mechanism combined --rounds 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from neuromodlab.ensemble import Ensemble, fit_ensemble  # noqa: E402
from neuromodlab.modulation import ModelConfig, ModulatedRNN  # noqa: E402
from neuromodlab.tasks import TaskSet  # noqa: E402
from neuromodlab.train import TrainConfig, fit  # noqa: E402

TASKS = ["go", "anti", "dlygo", "dlyanti"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=16)
    ap.add_argument("--n-hidden", type=int, default=32)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mechanism", default="excitability")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ts = TaskSet(TASKS)
    cfg = ModelConfig(args.mechanism, ts.n_in, ts.n_out, ts.K, n_hidden=args.n_hidden)
    tc = TrainConfig(max_steps=args.steps, eval_every=args.steps, criterion=1.0)
    seeds = list(range(args.members))

    def sequential():
        for s in seeds:
            fit(ModulatedRNN(replace(cfg, seed=s)), ts, replace(tc, seed=s), quiet=True)

    def ensemble(data):
        return lambda: fit_ensemble(Ensemble(cfg, seeds), ts, tc, quiet=True, data=data)

    cands = {"sequential fit": sequential, "ensemble (own data)": ensemble("own"),
             "ensemble (pooled data)": ensemble("pooled")}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# torch {torch.__version__}, {os.cpu_count()} cpus, load {load:.1f}; "
          f"{args.members} x {args.mechanism} N = {args.n_hidden}, {args.steps} steps, "
          f"tasks {', '.join(TASKS)} (T = {ts.T}), batch {tc.batch_size}, 1 thread")
    ensemble("own")()  # warm-up
    cpu, wall = {k: [] for k in cands}, {k: [] for k in cands}
    rng = random.Random(0)
    for _ in range(args.rounds):
        order = list(cands)
        rng.shuffle(order)
        for name in order:
            c0, w0 = time.process_time(), time.perf_counter()
            cands[name]()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    ref_c, ref_w = (statistics.median(d["sequential fit"]) for d in (cpu, wall))
    n = args.members * args.steps
    print("\n| candidate | CPU s | ms per network-step | speed-up (CPU) | wall s | "
          "speed-up (wall) |\n|---|---|---|---|---|---|")
    for name in cands:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(f"| {name} | {c:.2f} | {1e3 * c / n:.1f} | {ref_c / c:.1f}x | {w:.2f} | "
              f"{ref_w / w:.1f}x |")


if __name__ == "__main__":
    main()
