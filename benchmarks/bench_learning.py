"""Steps and seconds to reach the criterion (min over tasks >= 90%) for each mechanism.

Trains one network per (mechanism, seed) with ``neuromodlab.train.fit`` defaults (Adam,
lr 1e-3, batch 64, evaluation every 100 steps, one torch thread) on go, anti, dlygo and
dlyanti at N = 64, capped at ``--max-steps``. Steps to criterion are deterministic for a seed;
seconds depend on the machine and its load (both wall and CPU time are printed).

    .venv/bin/python benchmarks/bench_learning.py                  # 5 mechanisms x 2 seeds
    .venv/bin/python benchmarks/bench_learning.py --mechanisms rule --seeds 0 --eager
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
from neuromodlab.modulation import build_model  # noqa: E402
from neuromodlab.tasks import TaskSet  # noqa: E402
from neuromodlab.train import TrainConfig, fit  # noqa: E402

MECHS = ("none", "rule", "excitability", "synaptic", "combined")
TASKS = ("go", "anti", "dlygo", "dlyanti")


def run(mechanism, seed, ts, args, fused=True):
    model = build_model(mechanism, ts.n_in, ts.n_out, ts.K, n_hidden=args.n_hidden, seed=seed)
    model.rnn.fused = fused
    config = TrainConfig(max_steps=args.max_steps, seed=seed, num_threads=args.threads)
    c0 = time.process_time()
    hist = fit(model, ts, config, quiet=True)
    cpu = time.process_time() - c0
    steps = hist.steps[-1]
    return {"mechanism": mechanism + ("" if fused else " (eager)"), "seed": seed,
            "reached": hist.reached, "steps": hist.steps_to_criterion or steps,
            "wall": hist.wall_time, "cpu": cpu, "ms_per_step": 1e3 * hist.wall_time / steps,
            "final": hist.final_performance}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mechanisms", nargs="+", default=list(MECHS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--max-steps", type=int, default=3000)
    ap.add_argument("--n-hidden", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eager", action="store_true",
                    help="also train with the eager reference loop (same seeds)")
    args = ap.parse_args()
    ts = TaskSet(list(TASKS))
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # pay torch's one-off import here
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# torch {torch.__version__}, {os.cpu_count()} cpus, load avg {load:.2f} at start, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; tasks {', '.join(TASKS)} (T = {ts.T}); "
          f"N = {args.n_hidden}; cap {args.max_steps} steps; {args.threads} torch thread(s)")
    print("\n| mechanism | seed | reached 90% | steps | wall s | CPU s | wall ms/step |"
          " final performance (go, anti, dlygo, dlyanti) |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for mech in args.mechanisms:
        for seed in args.seeds:
            for fused in (True, False) if args.eager else (True,):
                r = run(mech, seed, ts, args, fused)
                rows.append(r)
                final = ", ".join(f"{r['final'].get(t, float('nan')):.2f}" for t in TASKS)
                print(f"| {r['mechanism']} | {seed} | {'yes' if r['reached'] else 'no'} | "
                      f"{r['steps']} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                      f"{r['ms_per_step']:.1f} | {final} |", flush=True)
    print("\n| mechanism | reached | median steps | median wall s |\n|---|---|---|---|")
    for name in dict.fromkeys(r["mechanism"] for r in rows):
        rs = [r for r in rows if r["mechanism"] == name]
        print(f"| {name} | {sum(r['reached'] for r in rs)}/{len(rs)} | "
              f"{statistics.median(r['steps'] for r in rs):.0f} | "
              f"{statistics.median(r['wall'] for r in rs):.1f} |")


if __name__ == "__main__":
    main()
