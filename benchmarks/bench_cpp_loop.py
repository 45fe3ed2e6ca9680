"""How much of the fused rollout's time is Python: its time loops in C++, with the same ops.

An experiment, not a code path of the library. The forward and backward time loops of
``neuromodlab/bptt.py`` (relu, with and without the low-rank term) are written again in C++,
calling the same ATen operations in the same order, and compiled with
``torch.utils.cpp_extension.load_inline``. They are then timed against the Python loops on the
same tensors (N = 64, batch 64, T = 60, one thread; interleaved, CPU-time medians), after a
check that both give the same states and adjoints. The difference is what a compiled loop of
the same ops would save per training step; BENCHMARKS.md turns it into a projected ratio
against ``torch.nn.RNN``.

Needs a C++ compiler and ``pip install ninja`` (not dependencies of neuromodlab); the first
run compiles for ~45 s into a temporary folder.

    .venv/bin/python benchmarks/bench_cpp_loop.py
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from neuromodlab.bptt import _rollout  # noqa: E402

T, B, N, P, ALPHA = 60, 64, 64, 4, 0.2

CPP = r"""
#include <torch/extension.h>
using torch::Tensor;

// states x[1..T] and rates r[0..T]: bptt._rollout for relu, no gain or bias
std::vector<Tensor> forward_loop(Tensor x0, Tensor drives, Tensor aWT, double alpha,
                                 c10::optional<Tensor> aleftT, c10::optional<Tensor> right,
                                 c10::optional<Tensor> coef) {
  const auto steps = drives.size(0);
  auto states = drives.mul(alpha);
  auto rates = torch::empty({steps + 1, drives.size(1), drives.size(2)}, drives.options());
  Tensor x = x0;
  for (int64_t t = 0; t < steps; ++t) {
    auto r = rates[t];
    at::clamp_min_out(r, x, 0);
    auto next = states[t];
    next.add_(x, 1 - alpha);
    next.addmm_(r, aWT);
    if (aleftT.has_value()) next.addmm_(torch::mm(r, *right).mul_(*coef), *aleftT);
    x = next;
  }
  auto last = rates[steps];
  at::clamp_min_out(last, x, 0);
  return {states, rates};
}

// the adjoint recursion of bptt._FusedRollout.backward (lam[t] = dLoss/dx[t+1])
Tensor backward_loop(Tensor grad_rates, Tensor rates, Tensor aW, double alpha,
                     c10::optional<Tensor> aleft, c10::optional<Tensor> rightT,
                     c10::optional<Tensor> coef) {
  const auto steps = grad_rates.size(0);
  auto dphi = torch::sign(rates);
  auto lam = torch::empty_like(grad_rates);
  auto q = torch::empty_like(rates);
  q[0].zero_();
  q.slice(0, 1).copy_(grad_rates);
  auto top = lam[steps - 1];
  at::mul_out(top, dphi[steps], q[steps]);
  for (int64_t t = steps - 1; t >= 0; --t) {
    auto qt = q[t];
    qt.addmm_(lam[t], aW);
    if (aleft.has_value()) qt.addmm_(torch::mm(lam[t], *aleft).mul_(*coef), *rightT);
    if (t > 0) {
      auto prev = lam[t - 1];
      at::mul_out(prev, lam[t], at::scalar_tensor(1 - alpha));
      prev.addcmul_(dphi[t], qt);
    }
  }
  return lam;
}
"""


def python_backward_loop(grad_rates, rates, aW, aleft, rightT, coef):
    """The loop of ``bptt._FusedRollout.backward`` for relu without gain (its first part)."""
    lam, q = torch.empty_like(grad_rates), torch.empty_like(rates)
    q[0].zero_()
    q[1:].copy_(grad_rates)
    lam_, q_, dphi = lam.unbind(0), q.unbind(0), torch.sign(rates).unbind(0)
    torch.mul(dphi[T], q_[T], out=lam_[T - 1])
    for t in range(T - 1, -1, -1):
        q_[t].addmm_(lam_[t], aW)
        if aleft is not None:
            q_[t].addmm_(torch.mm(lam_[t], aleft).mul_(coef), rightT)
        if t > 0:
            torch.mul(lam_[t], 1 - ALPHA, out=lam_[t - 1])
            lam_[t - 1].addcmul_(dphi[t], q_[t])
    return lam


def compile_extension(build_dir):
    from torch.utils.cpp_extension import load_inline

    return load_inline("neuromodlab_loop_experiment", cpp_sources=CPP,
                       functions=["forward_loop", "backward_loop"], build_directory=build_dir,
                       extra_cflags=["-O2"], verbose=False)


def main():
    missing = [tool for tool in ("ninja", "c++") if shutil.which(tool) is None]
    if missing:
        print(f"skipped: this experiment needs {' and '.join(missing)} on PATH "
              "(pip install ninja; a C++ compiler such as g++)")
        return
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    W = 0.5 * torch.randn(N, N, generator=g) / N ** 0.5
    left, right = 0.3 * torch.randn(N, P, generator=g), 0.3 * torch.randn(N, P, generator=g)
    coef = torch.eye(P)[torch.arange(B) % P]
    drives, x0 = torch.randn(T, B, N, generator=g), torch.zeros(B, N)
    grad_rates = torch.randn(T, B, N, generator=g)
    with tempfile.TemporaryDirectory() as build:
        start = time.perf_counter()
        ext = compile_extension(build)
        print(f"# compiled in {time.perf_counter() - start:.0f} s; torch {torch.__version__}, "
              f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}, one thread; "
              f"N = {N}, batch {B}, T = {T}")
        print("\n| term | Python loops, ms | C++ loops, ms | saved per training step, ms |")
        print("|---|---|---|---|")
        for lowrank in (False, True):
            lr = (left, right, coef) if lowrank else (None, None, None)
            aWT = (ALPHA * W).t().contiguous()
            aleftT = (ALPHA * left).t().contiguous() if lowrank else None
            right_cm = right.t().contiguous().t() if lowrank else None  # as bptt lays it out
            aleft = aleftT.t() if lowrank else None
            rightT = right.t().contiguous() if lowrank else None
            c = coef if lowrank else None
            states_py, rates_py = _rollout(x0, drives, W, ALPHA, "relu", None, None, *lr)
            states_cpp, rates_cpp = ext.forward_loop(x0, drives, aWT, ALPHA, aleftT, right_cm, c)
            torch.testing.assert_close(states_cpp, states_py, rtol=1e-5, atol=1e-5)
            lam_py = python_backward_loop(grad_rates, rates_py, ALPHA * W, aleft, rightT, c)
            lam_cpp = ext.backward_loop(grad_rates, rates_cpp, ALPHA * W, ALPHA, aleft, rightT, c)
            torch.testing.assert_close(lam_cpp, lam_py, rtol=1e-4, atol=1e-4)
            cands = {
                "python": lambda lr=lr, aleft=aleft, rightT=rightT, c=c, r=rates_py: (
                    _rollout(x0, drives, W, ALPHA, "relu", None, None, *lr),
                    python_backward_loop(grad_rates, r, ALPHA * W, aleft, rightT, c)),
                "cpp": lambda aWT=aWT, aleftT=aleftT, right_cm=right_cm, aleft=aleft,
                rightT=rightT, c=c, r=rates_cpp: (
                    ext.forward_loop(x0, drives, aWT, ALPHA, aleftT, right_cm, c),
                    ext.backward_loop(grad_rates, r, ALPHA * W, ALPHA, aleft, rightT, c)),
            }
            res = {k: [] for k in cands}
            rng = random.Random(0)
            for _ in range(40):
                names = list(cands)
                rng.shuffle(names)
                for k in names:
                    t0 = time.process_time()
                    cands[k]()
                    cands[k]()
                    res[k].append((time.process_time() - t0) / 2 * 1e3)
            py, cpp = (statistics.median(res[k]) for k in ("python", "cpp"))
            term = "dense + low rank (P = 4)" if lowrank else "dense only"
            print(f"| {term} | {py:.2f} | {cpp:.2f} | {py - cpp:.2f} |")


if __name__ == "__main__":
    main()
