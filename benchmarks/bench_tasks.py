"""Time batch generation for every task (one torch thread).

    python benchmarks/bench_tasks.py [--batch 64] [--reps 200]

Prints, per task, the median and best time to generate one batch with the default input noise
and without it, then a mixed batch of all 15 tasks, and the cost of the Gaussian noise alone
(a floor no generator can beat). Goal: <= 0.5 ms per 64-trial batch of one task.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neuromodlab.tasks import TASK_NAMES, TaskConfig, TaskSet, generate  # noqa: E402


def timed(fn, reps: int) -> tuple[float, float]:
    """(median, best) seconds per call, after a warm-up."""
    for _ in range(max(5, reps // 10)):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    B, reps = args.batch, args.reps
    rng = np.random.default_rng(0)
    noisy, clean = TaskConfig(), TaskConfig(stim_noise=0.0)
    print(f"batch {B}, {reps} repetitions, torch {torch.__version__}, 1 thread; ms per batch")
    print(f"{'task':8s} {'T':>3s}   {'noise 0.1: median':>17s} {'best':>6s}   "
          f"{'no noise: median':>16s} {'best':>6s}")
    medians = []
    for task in TASK_NAMES:
        med, best = timed(lambda task=task: generate(task, B, noisy, seed=rng), reps)
        med0, best0 = timed(lambda task=task: generate(task, B, clean, seed=rng), reps)
        T = generate(task, 1, clean, seed=0).T
        medians.append(med)
        print(f"{task:8s} {T:3d}   {med * 1e3:17.3f} {best * 1e3:6.3f}   "
              f"{med0 * 1e3:16.3f} {best0 * 1e3:6.3f}")
    print(f"median over tasks (noise 0.1): {statistics.median(medians) * 1e3:.3f} ms "
          f"(goal <= 0.5 ms)")
    ts = TaskSet(TASK_NAMES, noisy)
    med, best = timed(lambda: ts.sample(B, rng), reps)
    print(f"TaskSet of all 15 tasks, T={ts.T}: sample({B}) median {med * 1e3:.3f} ms, "
          f"best {best * 1e3:.3f} ms")
    gen = torch.Generator().manual_seed(0)
    shape = (ts.T, B, 2 * noisy.n_ring)
    med, best = timed(lambda: torch.randn(shape, generator=gen), reps)
    print(f"noise floor: torch.randn{shape} alone median {med * 1e3:.3f} ms, "
          f"best {best * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
