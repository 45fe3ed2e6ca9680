"""Self-checks and reference versions for W1D2 Tutorial 2 (synaptic modulation).

Conventions (those of :class:`neuromodlab.modulation.Synaptic`): ``W_rec`` is (N, N);
``left`` and ``right`` are (N, K * R), columns ``k*R .. k*R + R - 1`` belonging to task k;
``context`` is (B, K); rates ``r`` are (B, N). For one trial with context ``c``::

    W_c = W_rec + sum_k c_k sum_{rho < R} left[:, k*R + rho] right[:, k*R + rho]^T

Each ``check_<exercise>(your_function)`` raises :class:`CheckFailed` naming the call that failed
and the property that was expected (never the answer); ``NotImplementedError`` passes through.
"""

from __future__ import annotations

import math

import torch

from .. import modulation
from ..rnn import CTRNN, ContextEffect, RNNConfig
from ._core import CheckFailed, _call, _passed, _shape, _tensor, yours_or_reference

__all__ = [
    "CheckFailed", "yours_or_reference", "reference_dense_synapses",
    "reference_synaptic_recurrent", "reference_masked_recurrent",
    "ReferenceSynapticModulator", "check_dense_synapses", "check_synaptic_recurrent",
    "check_synaptic_modulator", "check_masked_recurrent", "modulator_or_reference",
    "synaptic_problem",
]

ATOL = 1e-4


# ---------------------------------------------------------------------------------------------
# Reference versions


def reference_dense_synapses(W_rec, left, right, context, rank: int) -> torch.Tensor:
    """(B, N, N): W_c for every trial, formed explicitly (teaching and testing only)."""
    # written apart from modulation.Synaptic.dense: the checks use it as an independent oracle
    B, K = context.shape
    N = W_rec.shape[0]
    m = left.T.reshape(K, rank, N)
    n = right.T.reshape(K, rank, N)
    return W_rec + torch.einsum("bk,kri,krj->bij", context.to(W_rec.dtype), m, n)


def reference_synaptic_recurrent(r, W_rec, left, right, context, rank: int) -> torch.Tensor:
    """(B, N): W_c r for every trial without forming W_c."""
    # apart from CTRNN.recurrent: check_synaptic_modulator compares the two
    coef = context.to(r.dtype).repeat_interleave(rank, dim=1)
    return r @ W_rec.T + ((r @ right) * coef) @ left.T


def reference_masked_recurrent(r, W, u, v) -> torch.Tensor:
    """(B, N): ((u v^T) * W) r for every trial, as a post- (u) and a pre-synaptic (v) gain."""
    return u * ((v * r) @ W.T)


ReferenceSynapticModulator = modulation.Synaptic


def synaptic_problem(seed: int = 0, B: int = 3, N: int = 6, K: int = 2, R: int = 1,
                     dtype=torch.float64):
    """A random small problem: W_rec (N, N), left, right (N, K R), context (B, K), r (B, N)."""
    g = torch.Generator().manual_seed(seed)
    W_rec = torch.randn(N, N, generator=g, dtype=dtype) / math.sqrt(N)
    left = torch.randn(N, K * R, generator=g, dtype=dtype)
    right = torch.randn(N, K * R, generator=g, dtype=dtype) / math.sqrt(N)
    context = torch.rand(B, K, generator=g, dtype=dtype)
    r = torch.relu(torch.randn(B, N, generator=g, dtype=dtype))
    return W_rec, left, right, context, r


# ---------------------------------------------------------------------------------------------
# Helpers


def _call_tensor(fn, name, *args):
    """Call ``fn``; its result as a finite float64 tensor, and the call's description."""
    out, call = _call(fn, name, *args)
    return _tensor(out, call, finite=True).double(), call


def _close(out, want, call, hint):
    err = (out - want.double()).abs().max().item()
    if err > ATOL:
        raise CheckFailed(f"{call}: the values differ from what was expected (largest "
                          f"difference {err:.3g}). {hint}")


# ---------------------------------------------------------------------------------------------
# Exercise checks


def check_dense_synapses(dense_synapses) -> None:
    """Checks ``dense_synapses(W_rec, left, right, context, rank) -> (B, N, N)``."""
    name, count = "dense_synapses", 0
    W_rec, left, right, context, _ = synaptic_problem(0, B=3, N=5, K=2, R=1)
    out, call = _call_tensor(dense_synapses, name, W_rec, left, right, context, 1)
    _shape(out, (3, 5, 5), call, "one N x N matrix per trial")
    count += 1
    zero = torch.zeros(2, 2, dtype=W_rec.dtype)
    out0, call0 = _call_tensor(dense_synapses, name, W_rec, left, right, zero, 1)
    _shape(out0, (2, 5, 5), call0, "one N x N matrix per trial")
    if not torch.allclose(out0, W_rec.expand(2, 5, 5), atol=ATOL):
        raise CheckFailed(f"{call0}: with a zero context every trial should get W_rec itself.")
    count += 1
    for k in range(2):
        e = torch.zeros(1, 2, dtype=W_rec.dtype)
        e[0, k] = 1.0
        out1, call1 = _call_tensor(dense_synapses, name, W_rec, left, right, e, 1)
        delta = out1[0] - W_rec
        _close(delta, torch.outer(left[:, k], right[:, k]), call1,
               f"With the one-hot context of task {k} and rank 1, W_c - W_rec should be the "
               f"outer product of column {k} of left (postsynaptic side, rows) and column {k} "
               "of right (presynaptic side, columns).")
        count += 1
    W_rec, left, right, context, _ = synaptic_problem(1, B=4, N=6, K=3, R=2)
    e = torch.zeros(1, 3, dtype=W_rec.dtype)
    e[0, 1] = 1.0
    out2, call2 = _call_tensor(dense_synapses, name, W_rec, left, right, e, 2)
    want = torch.outer(left[:, 2], right[:, 2]) + torch.outer(left[:, 3], right[:, 3])
    _close(out2[0] - W_rec, want, call2,
           "With rank R = 2, task k owns the columns k*R .. k*R + R - 1 of left and right "
           "(here task 1: columns 2 and 3); W_c - W_rec is the sum of their R outer products.")
    count += 1
    out3, call3 = _call_tensor(dense_synapses, name, W_rec, left, right, context, 2)
    _shape(out3, (4, 6, 6), call3, "one N x N matrix per trial")
    _close(out3, reference_dense_synapses(W_rec, left, right, context, 2), call3,
           "With a blended context, each task's term is weighted by its c_k (the sum runs over "
           "tasks), and every trial uses its own row of the context.")
    count += 1
    _passed(name, count)


def check_synaptic_recurrent(synaptic_recurrent) -> None:
    """Checks ``synaptic_recurrent(r, W_rec, left, right, context, rank) -> (B, N)``."""
    name, count = "synaptic_recurrent", 0
    W_rec, left, right, context, r = synaptic_problem(2, B=3, N=5, K=2, R=1)
    out, call = _call_tensor(synaptic_recurrent, name, r, W_rec, left, right, context, 1)
    _shape(out, (3, 5), call, "the recurrent input of each trial, (B, N)")
    count += 1
    zero = torch.zeros(3, 2, dtype=r.dtype)
    out0, call0 = _call_tensor(synaptic_recurrent, name, r, W_rec, left, right, zero, 1)
    _close(out0, r @ W_rec.T, call0, "With a zero context the result should be W_rec r for "
           "every trial (rows of r are trials: r @ W_rec.T).")
    count += 1
    for seed, (B, N, K, R) in enumerate(((3, 5, 2, 1), (4, 7, 3, 2), (1, 6, 1, 3)), start=3):
        W_rec, left, right, context, r = synaptic_problem(seed, B=B, N=N, K=K, R=R)
        out, call = _call_tensor(synaptic_recurrent, name, r, W_rec, left, right, context, R)
        _shape(out, (B, N), call, "the recurrent input of each trial, (B, N)")
        dense = reference_dense_synapses(W_rec, left, right, context, R)
        _close(out, torch.einsum("bij,bj->bi", dense, r), call,
               f"It should equal W_c r with W_c = W_rec + sum_k c_k M_k N_k^T (K = {K} tasks, "
               f"rank R = {R}): repeat each c_k R times to match the columns of left/right.")
        count += 1
    single, call1 = _call_tensor(synaptic_recurrent, name, r[:1], W_rec, left, right,
                                 context[:1], 3)
    _close(single, out[:1], call1, "Trial 0 alone should give the same result as inside a "
           "batch (trials must not mix).")
    count += 1
    _passed(name, count)


def check_synaptic_modulator(cls) -> None:
    """Checks a modulator class: ``cls(K, N, rank=R, seed=s)(context) -> ContextEffect``."""
    name, count = getattr(cls, "__name__", "SynapticModulator"), 0
    for K, N, R, B in ((2, 5, 1, 3), (3, 6, 2, 4)):
        module, made = _call(cls, name, K, N, rank=R, seed=1)
        g = torch.Generator().manual_seed(K)
        context = torch.rand(B, K, generator=g)
        effect, call = _call(module, made, context)
        if not isinstance(effect, ContextEffect):
            raise CheckFailed(f"{call} should return a neuromodlab.rnn.ContextEffect, got "
                              f"{type(effect).__name__}.")
        for field in ("gain", "bias", "drive"):
            if getattr(effect, field) is not None:
                raise CheckFailed(f"{call}: a synaptic modulator changes only the recurrent "
                                  f"weights; leave ContextEffect.{field} as None.")
        if effect.left is not module.left or effect.right is not module.right:
            raise CheckFailed(f"{call}: pass the module's own parameters self.left and "
                              "self.right (not copies), so that training can change them.")
        if effect.coef is None:
            raise CheckFailed(f"{call}: ContextEffect.coef is None; set it to the (B, K * R) "
                              "weight of each column of left/right for every trial.")
        coef = effect.coef
        if tuple(coef.shape) != (B, K * R):
            raise CheckFailed(f"{call}: coef should have shape (B, K * R) = {(B, K * R)} (one "
                              f"weight per column of left/right), got {tuple(coef.shape)}.")
        if not torch.allclose(coef.double(), context.double().repeat_interleave(R, dim=1),
                              atol=1e-6):
            raise CheckFailed(f"{call}: column k*R + rho of left/right belongs to task k, so "
                              "coef[:, k*R + rho] should be the context weight c_k of task k.")
        count += 1
    # plugged into the network, it gives W_c r and gradients reach left and right
    module, made = _call(cls, name, 2, 5, rank=1, seed=3)
    net = CTRNN(RNNConfig(n_in=2, n_out=2, n_hidden=5, init="gaussian", sigma_rec=0.0, seed=3))
    context = torch.tensor([[1.0, 0.0], [0.3, 0.7]])
    effect = module(context)
    r = torch.rand(2, 5, generator=torch.Generator().manual_seed(4))
    rec = net.recurrent(r, effect)
    want = reference_synaptic_recurrent(r, net.W_rec, module.left, module.right, context, 1)
    if not torch.allclose(rec, want, atol=ATOL):
        raise CheckFailed(f"{made}: inside a CTRNN (context [[1, 0], [0.3, 0.7]]) the recurrent "
                          "input W_rec r + left (coef * (right^T r)) differs from W_c r; check "
                          "which columns of left/right coef weights.")
    out = net(torch.rand(4, 2, 2, generator=torch.Generator().manual_seed(5)), effect,
              x0=torch.rand(2, 5, generator=torch.Generator().manual_seed(6)), noise=False)
    out.outputs.pow(2).sum().backward()
    for pname in ("left", "right"):
        grad = getattr(module, pname).grad
        if grad is None or not torch.isfinite(grad).all() or grad.abs().sum() == 0:
            raise CheckFailed(f"{made}: after a backward pass through a CTRNN, "
                              f"self.{pname} received no gradient; keep it in the graph.")
    count += 1
    _passed(name, count)


def check_masked_recurrent(masked_recurrent) -> None:
    """Checks ``masked_recurrent(r, W, u, v) -> (B, N)``: ((u v^T) * W) r per trial."""
    name, count = "masked_recurrent", 0
    W, _, _, _, r = synaptic_problem(7, B=3, N=5)
    ones = torch.ones(5, dtype=W.dtype)
    out, call = _call_tensor(masked_recurrent, name, r, W, ones, ones)
    _shape(out, (3, 5), call, "the recurrent input of each trial, (B, N)")
    _close(out, r @ W.T, call, "With u = v = 1 the mask is all ones: the result should be W r.")
    count += 1
    g = torch.Generator().manual_seed(8)
    u = torch.rand(5, generator=g, dtype=W.dtype) + 0.5
    v = torch.rand(5, generator=g, dtype=W.dtype) + 0.5
    post_only, callp = _call_tensor(masked_recurrent, name, r, W, u, ones)
    _close(post_only, u * (r @ W.T), callp,
           "With v = 1, entry (i, j) of the mask is u_i: unit i's whole recurrent input "
           "should be scaled by u_i (u is on the postsynaptic side).")
    count += 1
    pre_only, callq = _call_tensor(masked_recurrent, name, r, W, ones, v)
    _close(pre_only, (v * r) @ W.T, callq,
           "With u = 1, entry (i, j) of the mask is v_j: every synapse from unit j should be "
           "scaled by v_j (v is on the presynaptic side).")
    count += 1
    for seed, (B, N) in enumerate(((4, 7), (1, 9)), start=9):
        W, _, _, _, r = synaptic_problem(seed, B=B, N=N)
        g = torch.Generator().manual_seed(seed)
        u, v = torch.randn(N, generator=g, dtype=W.dtype), torch.randn(N, generator=g,
                                                                        dtype=W.dtype)
        out, call = _call_tensor(masked_recurrent, name, r, W, u, v)
        _shape(out, (B, N), call, "the recurrent input of each trial, (B, N)")
        mask = torch.outer(u, v)
        _close(out, r @ (mask * W).T, call, "It should equal ((u v^T) * W) r for each trial.")
        count += 1
    _passed(name, count)


# ---------------------------------------------------------------------------------------------
# Fallback for the module exercise


def modulator_or_reference(cls, reference=ReferenceSynapticModulator):
    """Your modulator class if it builds and runs on a small example, else the library's."""
    def build_and_run(cls_):
        return cls_(2, 4, rank=1, seed=0)(torch.eye(2))

    def yours():
        return build_and_run(cls)

    yours.__name__ = getattr(cls, "__name__", "your modulator")
    chosen = yours_or_reference(yours, None)
    return cls if chosen is yours else reference
