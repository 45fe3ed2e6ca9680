"""Training-step time of our CTRNN (each modulator) against torch.nn.RNN (relu), side by side.

One training step = forward + masked MSE loss + backward + Adam, batch 64, T = 60 steps,
n_in = 17, n_out = 9 (the task layout with an 8-unit ring), K = 4 contexts, recurrent noise on.
All candidates are timed in the same process, interleaved in a shuffled order, ``--reps``
times each (a block of ``--block`` steps per timing); the table shows medians and the ratio of
medians. The machine may be shared, so read the ratios, not the absolute times.

    .venv/bin/python benchmarks/bench_train_step.py                # full table + thread check
    .venv/bin/python benchmarks/bench_train_step.py --sizes 64 --reps 10 --no-threads
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from neuromodlab.modulation import build_model  # noqa: E402

MECHS = ("none", "rule", "excitability", "synaptic", "combined")
B, T, N_IN, N_OUT, K = 64, 60, 17, 9, 4


def data(seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(T, B, N_IN, generator=g)
    targets = torch.rand(T, B, N_OUT, generator=g)
    mask = (torch.rand(T, B, N_OUT, generator=g) > 0.2).float()
    context = torch.eye(K)[torch.arange(B) % K]
    return inputs, targets, mask, context


def loss_fn(y, targets, mask):
    return (mask * (y - targets) ** 2).sum() / mask.sum()


def ours(mechanism, n, fused=True, noise=True):
    model = build_model(mechanism, N_IN, N_OUT, K, n_hidden=n, rank=1)
    model.rnn.fused = fused
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs, targets, mask, context = data()
    gen = torch.Generator().manual_seed(1)

    def step():
        out = model(inputs, context, generator=gen, noise=noise)
        loss = loss_fn(out.outputs, targets, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def torch_rnn(n):
    torch.manual_seed(0)
    rnn, readout = nn.RNN(N_IN, n, nonlinearity="relu"), nn.Linear(n, N_OUT)
    opt = torch.optim.Adam([*rnn.parameters(), *readout.parameters()], lr=1e-3)
    inputs, targets, mask, _ = data()

    def step():
        h, _ = rnn(inputs)
        loss = loss_fn(readout(h), targets, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def measure(candidates: dict, reps: int, block: int, seed=0):
    """ms per step of every candidate, ``reps`` interleaved blocks in shuffled order, on two
    clocks: wall time and this process's CPU time (which does not count the time other
    processes hold the cores). A candidate is a step function or (function, torch threads)."""
    rng = random.Random(seed)
    wall = {name: [] for name in candidates}
    cpu = {name: [] for name in candidates}
    names = list(candidates)

    def unpack(c):
        return c if isinstance(c, tuple) else (c, 1)

    for name in names:  # warm-up
        fn, threads = unpack(candidates[name])
        torch.set_num_threads(threads)
        for _ in range(3):
            fn()
    for _ in range(reps):
        rng.shuffle(names)
        for name in names:
            fn, threads = unpack(candidates[name])
            torch.set_num_threads(threads)
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(block):
                fn()
            cpu[name].append((time.process_time() - c0) / block * 1e3)
            wall[name].append((time.perf_counter() - w0) / block * 1e3)
    torch.set_num_threads(1)
    return wall, cpu


def header():
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} cpus, "
          f"load avg {load:.2f} at start, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"# batch {B}, T {T}, n_in {N_IN}, n_out {N_OUT}, K {K}, one torch thread; "
          "medians of interleaved blocks; ratio = ours / nn.RNN")


def table(sizes, reps, block, eager):
    print("\n| N | mechanism | CPU ms ours | CPU ms nn.RNN | ratio (CPU) | ratio (wall) |"
          " ratio, noise off (CPU) |" + (" eager ratio (CPU) |" if eager else ""))
    print("|---|---|---|---|---|---|---|" + ("---|" if eager else ""))
    for n in sizes:
        cands = {"nn.RNN": torch_rnn(n)}
        for m in MECHS:
            cands[m] = ours(m, n)
            cands[m + " quiet"] = ours(m, n, noise=False)
            if eager:
                cands[m + " eager"] = ours(m, n, fused=False)
        wall, cpu = measure(cands, reps, block)
        cm = {k: statistics.median(v) for k, v in cpu.items()}
        wm = {k: statistics.median(v) for k, v in wall.items()}
        ref = cm["nn.RNN"]
        for m in MECHS:
            row = (f"| {n} | {m} | {cm[m]:.2f} | {ref:.2f} | {cm[m] / ref:.2f} | "
                   f"{wm[m] / wm['nn.RNN']:.2f} | {cm[m + ' quiet'] / ref:.2f} |")
            if eager:
                row += f" {cm[m + ' eager'] / ref:.2f} |"
            print(row, flush=True)


def threads(n, reps, block):
    print(f"\n## one vs two torch threads, N = {n}: wall ms per step (median / 90th percentile /"
          " max over blocks)")
    cands = {}
    for th in (1, 2):
        cands[f"nn.RNN, {th} thread(s)"] = (torch_rnn(n), th)
        cands[f"ours none, {th} thread(s)"] = (ours("none", n), th)
        cands[f"ours combined, {th} thread(s)"] = (ours("combined", n), th)
    wall, _ = measure(cands, reps, block, seed=1)
    print("\n| candidate | median | p90 | max |\n|---|---|---|---|")
    for name, v in wall.items():
        v = sorted(v)
        p90 = v[min(len(v) - 1, int(0.9 * len(v)))]
        print(f"| {name} | {statistics.median(v):.2f} | {p90:.2f} | {v[-1]:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--block", type=int, default=5)
    ap.add_argument("--eager", action="store_true", help="also time the eager reference loop")
    ap.add_argument("--no-threads", action="store_true", help="skip the 1-vs-2 thread check")
    args = ap.parse_args()
    torch.set_num_threads(1)
    header()
    table(args.sizes, args.reps, args.block, args.eager)
    if not args.no_threads:
        threads(64, args.reps, args.block)


if __name__ == "__main__":
    main()
