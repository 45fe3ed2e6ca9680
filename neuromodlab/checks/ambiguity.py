"""Self-checks and reference versions for W1D2 Tutorial 3 (context ambiguity).

Conventions (those of :mod:`neuromodlab.experiments.ambiguity`): ``K`` tasks, the context is a
``(B, K)`` tensor; a blended cue between task ``i`` and task ``j`` is
``c = (1 - l) e_i + l e_j``. Each output is scored against *both* tasks' answers on the same
trials: it follows task i, follows task j, or neither.

How the checks, references and fallback behave: see :mod:`neuromodlab.checks`.

Use in a notebook::

    from neuromodlab.checks import ambiguity as check_ambiguity
    check_ambiguity.check_blend_context(blend_context)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import tasks
from ..experiments import ambiguity as amb
from ..modulation import build_model, mix_context
from ._core import CheckFailed, _call, _number, _passed, _shape, _tensor, yours_or_reference

__all__ = [
    "CheckFailed", "yours_or_reference", "reference_blend_context", "reference_follow_fractions",
    "reference_blend_sweep", "reference_switch_point", "check_blend_context",
    "check_follow_fractions", "check_blend_sweep", "check_switch_point", "tiny_problem",
]

ATOL = 1e-6


# ---------------------------------------------------------------------------------------------
# Reference versions


def reference_blend_context(i: int, j: int, lambdas, n_contexts: int) -> torch.Tensor:
    """(B, K): row b is (1 - lambdas[b]) e_i + lambdas[b] e_j (modulation.mix_context per row)."""
    lambdas = torch.as_tensor(lambdas, dtype=torch.float32).reshape(-1)
    rows = [mix_context(i, j, float(lam), n_contexts) for lam in lambdas]
    return torch.stack(rows) if rows else torch.zeros(0, n_contexts)


def reference_follow_fractions(outputs, batch_i, batch_j):
    """(p_i, p_j, p_neither) as floats: fractions of trials whose response is correct for task
    i, for task j, for neither (every trial counts; use conflicting pairs such as go/anti)."""
    ci = tasks.performance(outputs, batch_i)
    cj = tasks.performance(outputs, batch_j)
    B = ci.shape[0]
    return (ci.sum().item() / B, cj.sum().item() / B, (~ci & ~cj).sum().item() / B)


@torch.no_grad()
def reference_blend_sweep(model, batch_i, batch_j, i, j, lambdas, noise_seed=0, blend=None,
                          score=None):
    """Three numpy arrays (L,): P(i), P(j), P(neither) for each blend in ``lambdas``; every
    blend reuses the recurrent-noise draws of ``torch.Generator().manual_seed(noise_seed)``."""
    blend = blend or reference_blend_context
    score = score or reference_follow_fractions
    K, B = model.config.n_contexts, batch_i.batch_size
    rows = []
    for l in lambdas:  # noqa: E741
        context = blend(i, j, torch.full((B,), float(l)), K)
        gen = torch.Generator().manual_seed(noise_seed)
        out = model(batch_i.inputs, context, generator=gen).outputs
        rows.append(score(out, batch_i, batch_j))
    p = np.asarray(rows, float).reshape(len(rows), 3)
    return p[:, 0], p[:, 1], p[:, 2]


def reference_switch_point(lambdas, p_i, level: float = 0.5) -> float:
    """The first l at which p_i is below ``level``, linearly interpolated between the grid
    points around the crossing; lambdas[0] if p_i starts below; nan if it never falls below."""
    return amb.first_crossing(lambdas, p_i, level, default=math.nan)


def tiny_problem(mechanism: str = "rule", n_trials: int = 16, seed: int = 0):
    """A small untrained network (go, anti; N = 12) and shared go/anti trials:
    ``(model, batch_go, batch_anti)``."""
    taskset = tasks.TaskSet(["go", "anti"], tasks.TaskConfig(n_ring=8))
    model = build_model(mechanism, taskset.n_in, taskset.n_out, taskset.K, n_hidden=12,
                        seed=seed)
    model.eval()
    batch_i, batch_j, _ = amb.shared_trials(taskset, "go", "anti", n_trials, seed + 100)
    return model, batch_i, batch_j


# ---------------------------------------------------------------------------------------------
# Helpers


def _triple(out, call, length=None):
    """Three numbers (length None) or three 1-D arrays of ``length``, as float arrays."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise CheckFailed(f"{call} should return three things (p_i, p_j, p_neither), got "
                          f"{type(out).__name__}.")
    try:
        arrays = [np.asarray(torch.as_tensor(v).detach().double().numpy(), float) for v in out]
    except Exception as err:
        raise CheckFailed(f"{call}: p_i, p_j and p_neither should be numbers or arrays of "
                          f"numbers ({type(err).__name__}: {err}).") from err
    want = () if length is None else (length,)
    for name, a in zip(("p_i", "p_j", "p_neither"), arrays, strict=True):
        if a.shape != want:
            what = "a single number" if length is None else f"one value per blend, shape {want}"
            raise CheckFailed(f"{call}: {name} should be {what}, got shape {a.shape}.")
        if not np.isfinite(a).all() or (a < -ATOL).any() or (a > 1 + ATOL).any():
            raise CheckFailed(f"{call}: {name} is a fraction of trials and must lie in [0, 1].")
    if not np.allclose(arrays[0] + arrays[1] + arrays[2], 1.0, atol=1e-5):
        raise CheckFailed(f"{call}: on conflicting trials every response follows task i, task j "
                          "or neither, so p_i + p_j + p_neither should be 1.")
    return arrays


# ---------------------------------------------------------------------------------------------
# Exercise checks


def check_blend_context(blend_context) -> None:
    """Checks ``blend_context(i, j, lambdas (B,), n_contexts) -> (B, n_contexts)``."""
    name, count = "blend_context", 0
    lambdas = torch.tensor([0.0, 0.25, 0.5, 1.0])
    out, call = _call(blend_context, name, 0, 1, lambdas, 2)
    out = _tensor(out, call, finite=True).double()
    _shape(out, (4, 2), call, "one row per blend, one column per task")
    count += 1
    if not torch.allclose(out[0], torch.tensor([1.0, 0.0], dtype=out.dtype), atol=ATOL):
        raise CheckFailed(f"{call}: with l = 0 the cue should be the clean cue of task i (one-hot "
                          "on column i).")
    if not torch.allclose(out[-1], torch.tensor([0.0, 1.0], dtype=out.dtype), atol=ATOL):
        raise CheckFailed(f"{call}: with l = 1 the cue should be the clean cue of task j.")
    count += 1
    if not torch.allclose(out.sum(1), torch.ones(4, dtype=out.dtype), atol=ATOL):
        raise CheckFailed(f"{call}: each row should sum to 1 (the weights (1 - l) and l).")
    count += 1
    lambdas = torch.tensor([0.1, 0.7, 0.3])
    out, call = _call(blend_context, name, 3, 1, lambdas, 5)
    out = _tensor(out, call, finite=True).double()
    _shape(out, (3, 5), call, "one row per blend, one column per task")
    others = out[:, [0, 2, 4]]
    if others.abs().max() > ATOL:
        raise CheckFailed(f"{call}: channels of tasks other than i and j should stay 0.")
    if not torch.allclose(out, reference_blend_context(3, 1, lambdas, 5).double(), atol=ATOL):
        raise CheckFailed(f"{call}: row b should give weight (1 - lambdas[b]) to task i (column "
                          "3 here) and lambdas[b] to task j (column 1); check which weight goes "
                          "where, row by row.")
    count += 1
    _passed(name, count)


def check_follow_fractions(follow_fractions) -> None:
    """Checks ``follow_fractions(outputs (T, B, n_out), batch_i, batch_j) -> (p_i, p_j, p_n)``."""
    name, count = "follow_fractions", 0
    _, batch_i, batch_j = tiny_problem(n_trials=8)
    out, call = _call(follow_fractions, name, batch_i.targets, batch_i, batch_j)
    p = _triple(out, call)
    if abs(p[0] - 1) > ATOL or abs(p[1]) > ATOL:
        raise CheckFailed(f"{call}: outputs equal to task i's targets should follow task i on "
                          "every trial and task j on none.")
    count += 1
    out, call = _call(follow_fractions, name, batch_j.targets, batch_i, batch_j)
    p = _triple(out, call)
    if abs(p[1] - 1) > ATOL or abs(p[0]) > ATOL:
        raise CheckFailed(f"{call}: outputs equal to task j's targets should follow task j on "
                          "every trial; score the same outputs against both batches.")
    count += 1
    mixed = batch_i.targets.clone()
    mixed[:, :4] = batch_j.targets[:, :4]
    mixed[:, 6:, 0] = 0.9  # trials 6, 7: keep fixating -> neither task
    out, call = _call(follow_fractions, name, mixed, batch_i, batch_j)
    p = _triple(out, call)
    want = reference_follow_fractions(mixed, batch_i, batch_j)
    if not np.allclose(p, want, atol=ATOL):
        raise CheckFailed(f"{call}: with outputs that follow task j on some trials, task i on "
                          "some and keep fixating on others, the three fractions are wrong. "
                          "Use tasks.performance(outputs, batch) for each task and count the "
                          "trials correct for neither.")
    count += 1
    _passed(name, count)


def check_blend_sweep(blend_sweep) -> None:
    """Checks ``blend_sweep(model, batch_i, batch_j, i, j, lambdas, noise_seed=0, blend=...,
    score=...) -> (p_i, p_j, p_neither)`` arrays of shape (L,)."""
    name, count = "blend_sweep", 0
    model, batch_i, batch_j = tiny_problem("excitability", n_trials=16)
    lambdas = [0.0, 0.5, 1.0]
    kwargs = dict(noise_seed=3, blend=reference_blend_context, score=reference_follow_fractions)
    out, call = _call(blend_sweep, name, model, batch_i, batch_j, 0, 1, lambdas, **kwargs)
    p = _triple(out, call, length=3)
    count += 1
    want = reference_blend_sweep(model, batch_i, batch_j, 0, 1, lambdas, **kwargs)
    if not all(np.allclose(a, b, atol=ATOL) for a, b in zip(p, want, strict=True)):
        raise CheckFailed(f"{call}: the fractions differ from running the network under each "
                          "blended cue and scoring its outputs. Build one (B, K) cue per blend "
                          "with `blend`, run model(batch_i.inputs, context, generator=gen) with "
                          "a generator re-seeded with noise_seed for every blend, and score "
                          "with `score`.")
    count += 1
    out2, call2 = _call(blend_sweep, name, model, batch_i, batch_j, 0, 1, lambdas[::-1],
                        **kwargs)
    p2 = _triple(out2, call2, length=3)
    if not np.allclose(p2[0], p[0][::-1], atol=ATOL):
        raise CheckFailed(f"{call2}: reversing the blends should reverse the results: every "
                          "blend must see the same trials and the same noise (re-seed the "
                          "generator for each blend).")
    count += 1
    seen = []

    def spy_blend(i, j, lam, K):
        seen.append((i, j, tuple(torch.as_tensor(lam).shape), K))
        return reference_blend_context(i, j, lam, K)

    spy_blend.__name__ = "blend"
    _, call = _call(blend_sweep, name, model, batch_i, batch_j, 1, 0, [0.2, 0.8], noise_seed=0,
                    blend=spy_blend, score=reference_follow_fractions)
    if len(seen) != 2 or any(s != (1, 0, (16,), 2) for s in seen):
        shown = ", ".join(f"blend({i}, {j}, <shape {s}>, {K})" for i, j, s, K in seen) or "none"
        raise CheckFailed(f"{call} should call blend(i, j, lambdas, K) once per blend (twice "
                          "here), with one blend value per trial (a tensor of shape (B,) = "
                          f"(16,)) and K = model.config.n_contexts (2); its calls were: {shown}.")
    count += 1
    _passed(name, count)


def check_switch_point(switch_point) -> None:
    """Checks ``switch_point(lambdas, p_i, level=0.5) -> float``."""
    name, count = "switch_point", 0
    cases = [
        (([0.0, 0.5, 1.0], [1.0, 0.0, 0.0]), "a straight fall between two grid points"),
        (([0.0, 0.25, 0.5, 0.75, 1.0], [0.9, 0.8, 0.6, 0.2, 0.0]), "a fall after l = 0.5"),
        (([0.0, 0.5, 1.0], [1.0, 0.4, 0.6]), "p_i falls below the level, then rises again"),
        (([0.0, 0.5, 1.0], [0.3, 0.2, 0.1]), "p_i below the level from the start"),
    ]
    for (lam, p), what in cases:
        out, call = _call(switch_point, name, lam, p)
        value = _number(out, call, "the switch point", finite=False)
        want = reference_switch_point(lam, p)
        if not abs(value - want) < 1e-6:
            raise CheckFailed(f"{call} ({what}): yours is {value:.4g}, not the switch point. "
                              "Find the first grid point "
                              "where p_i is below the level and interpolate linearly between it "
                              "and the point before.")
        count += 1
    out, call = _call(switch_point, name, [0.0, 0.5, 1.0], [1.0, 0.9, 0.8])
    never = _number(out, call, "the switch point", finite=False)
    if not math.isnan(never):
        raise CheckFailed(f"{call}: p_i never falls below the level, so the answer should be "
                          "nan (math.nan).")
    count += 1
    out, call = _call(switch_point, name, [0.0, 0.5, 1.0], [1.0, 0.6, 0.0], level=0.8)
    value = _number(out, call, "the switch point", finite=False)
    if not abs(value - reference_switch_point([0.0, 0.5, 1.0], [1.0, 0.6, 0.0], 0.8)) < 1e-6:
        raise CheckFailed(f"{call}: use the `level` argument, not a fixed 0.5.")
    count += 1
    _passed(name, count)
