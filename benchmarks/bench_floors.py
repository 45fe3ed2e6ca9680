"""The costs that bound our speed goals, measured side by side in one run (one torch thread).

Three parts, each a table of medians over interleaved, shuffled repetitions (CPU time):

1. ``ops``: the per-time-step operations of a training step at N = 64, batch 64: the dense
   recurrent product, the three ops the low-rank synaptic term adds, one elementwise op, and
   the batched alternative (one dense matrix per context, 4 contexts). A training step runs
   each of them T = 60 times forward and about as often backward.
2. ``rng``: Gaussian samples per nanosecond from torch's and NumPy's generators: the recurrent
   noise (T x B x N per network and step) and the input noise of a batch are drawn this way.
3. ``ensemble``: one training step of a 16-member ensemble (N = 32, pooled data) split into
   data, recurrent noise, forward, backward and optimiser, next to one sequential ``fit`` step
   (data + forward + backward + Adam) of one network. Data and noise are per-trial work that
   stacking cannot share, so ``sequential / ((data + noise) / 16)`` bounds the ensemble's
   speed-up even if all its arithmetic were free.

    .venv/bin/python benchmarks/bench_floors.py            # ~1 minute
    .venv/bin/python benchmarks/bench_floors.py --parts ensemble --reps 15
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from neuromodlab.ensemble import (  # noqa: E402
    Ensemble,
    _clip_per_member,
    _member_losses,
    _MemberAdam,
    _pooled_batch,
)
from neuromodlab.modulation import ModelConfig, ModulatedRNN  # noqa: E402
from neuromodlab.tasks import TaskSet  # noqa: E402
from neuromodlab.train import masked_loss  # noqa: E402


def interleaved(cands: dict, reps: int, inner: int = 1, seed: int = 0) -> dict:
    """Median CPU seconds per call of each candidate, candidates shuffled in every round."""
    rng, res = random.Random(seed), {k: [] for k in cands}
    for f in cands.values():
        f()
    for _ in range(reps):
        names = list(cands)
        rng.shuffle(names)
        for k in names:
            t = time.process_time()
            for _ in range(inner):
                cands[k]()
            res[k].append((time.process_time() - t) / inner)
    return {k: statistics.median(v) for k, v in res.items()}


def ops(reps):
    N, B, U, P = 64, 64, 4, 4
    g = torch.Generator().manual_seed(0)
    r, out = torch.randn(B, N, generator=g).relu(), torch.randn(B, N, generator=g)
    W, Wg = torch.randn(N, N, generator=g), torch.randn(U, N, N, generator=g)
    right, leftT = torch.randn(N, P, generator=g), torch.randn(P, N, generator=g)
    coef = torch.eye(P)[torch.arange(B) % P]
    cands = {
        "dense recurrent product, out.addmm_(r, W)": lambda: out.addmm_(r, W),
        "low-rank term, 3 ops: addmm_(mm(r, R).mul_(c), L^T)":
            lambda: out.addmm_(torch.mm(r, right).mul_(coef), leftT),
        "  its thin projection alone, mm(r, R)": lambda: torch.mm(r, right),
        "one elementwise op, out.add_(r)": lambda: out.add_(r),
        "per-context dense matrices, baddbmm_ (4 groups of 16)":
            lambda: out.view(U, B // U, N).baddbmm_(r.view(U, B // U, N), Wg),
    }
    med = interleaved(cands, reps, inner=500)
    print("\n## per-step operations (N = 64, batch 64), microseconds per call\n")
    print("| operation | us per call | x 120 (one training step: 60 steps, 2 directions), ms |")
    print("|---|---|---|")
    for k, v in med.items():
        print(f"| {k} | {1e6 * v:.1f} | {120e3 * v:.2f} |")


def rng_part(reps):
    n = 75 * 64 * 32 * 16  # the recurrent noise of one 16-member ensemble step
    g, npg = torch.Generator().manual_seed(0), np.random.default_rng(0)
    buf, nbuf = torch.empty(n), np.empty(n, np.float32)
    cands = {"torch.randn (float32)": lambda: torch.randn(n, generator=g, out=buf),
             "torch.rand (float32, uniform)": lambda: torch.rand(n, generator=g, out=buf),
             "numpy standard_normal (float32)":
                 lambda: npg.standard_normal(n, dtype=np.float32, out=nbuf)}
    med = interleaved(cands, reps)
    print(f"\n## random numbers, {n} samples per call\n")
    print("| generator | ms per call | ns per sample |\n|---|---|---|")
    for k, v in med.items():
        print(f"| {k} | {1e3 * v:.2f} | {1e9 * v / n:.2f} |")


def ensemble_part(reps):
    E, N, Bt = 16, 32, 64
    ts = TaskSet(["go", "anti", "dlygo", "dlyanti"])
    cfg = ModelConfig("excitability", ts.n_in, ts.n_out, ts.K, n_hidden=N)
    ens = Ensemble(cfg, list(range(E)))
    names = list(ens._paths)
    params = [getattr(ens, k) for k in names]
    opt = _MemberAdam(params, 1e-3)
    rng = np.random.default_rng(0)
    gens = [torch.Generator().manual_seed(s) for s in range(E)]
    state = {}

    def data():
        state["batch"] = _pooled_batch(ts, E, Bt, rng)

    def noise():
        ens._noise((ts.T, Bt, N), torch.float32, gens, E)

    def forward():
        batch, context = state["batch"]
        out = ens._run(dict(zip(names, params, strict=True)), batch["inputs"], context,
                       noise=False)[0]
        state["loss"] = _member_losses(out, batch["targets"], batch["mask"]).sum()

    def backward():
        state["grads"] = list(torch.autograd.grad(state["loss"], params))

    def optimiser():
        _clip_per_member(state["grads"], 1.0)
        opt.step(state["grads"])

    model = ModulatedRNN(cfg)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    srng, sgen = np.random.default_rng(1), torch.Generator().manual_seed(1)

    def sequential():  # what fit does per step, for one network
        b = ts.sample(Bt, srng)
        out = model(b.inputs, b.context, generator=sgen)
        loss = masked_loss(out.outputs, b.targets, b.mask)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        adam.step()

    parts = {"data (pooled, 16 x 64 trials)": data, "recurrent noise": noise,
             "forward + loss (no noise)": forward, "backward": backward,
             "clip + Adam": optimiser}
    res = {k: [] for k in [*parts, "sequential fit step, one network"]}
    order = random.Random(1)
    for i in range(reps + 1):
        cands = [("chain", None), ("sequential fit step, one network", sequential)]
        order.shuffle(cands)
        for name, f in cands:
            if f is not None:
                t = time.process_time()
                f()
                if i:
                    res[name].append(time.process_time() - t)
                continue
            for k, part in parts.items():  # in order: each part feeds the next
                t = time.process_time()
                part()
                if i:
                    res[k].append(time.process_time() - t)
    med = {k: statistics.median(v) for k, v in res.items()}
    seq = med.pop("sequential fit step, one network")
    total = sum(med.values())
    print(f"\n## one ensemble training step ({E} x N = {N}, batch {Bt}, T = {ts.T}), "
          "CPU ms\n")
    print("| part | ms per ensemble step | ms per network-step |\n|---|---|---|")
    for k, v in med.items():
        print(f"| {k} | {1e3 * v:.1f} | {1e3 * v / E:.2f} |")
    print(f"| **total** | {1e3 * total:.1f} | {1e3 * total / E:.2f} |")
    print(f"| sequential `fit` step of one network | - | {1e3 * seq:.2f} |")
    floor = (med["data (pooled, 16 x 64 trials)"] + med["recurrent noise"]) / E
    print(f"\nspeed-up of this ensemble step: {seq / (total / E):.1f}x; bound with free "
          f"arithmetic (data + noise only): {seq / floor:.1f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", nargs="+", default=["ops", "rng", "ensemble"],
                    choices=["ops", "rng", "ensemble"])
    ap.add_argument("--reps", type=int, default=11)
    args = ap.parse_args()
    torch.set_num_threads(1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# torch {torch.__version__}, numpy {np.__version__}, {os.cpu_count()} cpus, "
          f"load {load:.2f}, {time.strftime('%Y-%m-%d %H:%M')}, one torch thread")
    for part in args.parts:
        {"ops": ops, "rng": rng_part, "ensemble": ensemble_part}[part](args.reps)


if __name__ == "__main__":
    main()
