"""Fixed points of one trained network under a fixed input and context, for :mod:`.dynamics`.

- :func:`_float64`: a float64 copy of the network (the searches need the precision);
- :func:`_search`: fixed points of the one-step map ``F`` (:func:`_step_fn`) from given start
  states, with their stability (:mod:`neuromodlab.analysis`);
- :func:`_rates_at` and :func:`_follows`: the rates at a state and whether the readout there,
  taken as a final response, is correct for a task's trials;
- :func:`_continue`: continuation of fixed points along a path of contexts, recorded as a
  :class:`Branch` (part of the dynamics results).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import torch

from .. import analysis
from ..modulation import ModulatedRNN
from ..tasks import performance
from .results import JSONResult


def _float64(model: ModulatedRNN) -> ModulatedRNN:
    return copy.deepcopy(model).double().eval()


def _step_fn(model64: ModulatedRNN, u: torch.Tensor, c: torch.Tensor):
    """x (M, N) -> F(x) under fixed per-row input u (M, n_in) and context c (M, K)."""
    effect = model64.effect(c)

    def step(x):
        return model64.rnn.step(x, u, effect)

    return step


def _search(model64, u, c, starts, n_iter, tol):
    """Fixed points from ``starts`` (M, N), with their stability; float64."""
    step = _step_fn(model64, u, c)
    fps = analysis.find_fixed_points(step, starts, n_iter=n_iter, lr=1e-2, tol=tol)
    stable = analysis.is_stable(analysis.jacobian_eigenvalues(step, fps.points))
    return fps, stable


@torch.no_grad()
def _rates_at(model64, x, c):
    """Rates phi(g_c x + b_c) (M, N) at states x (M, N) under contexts c (M, K)."""
    return model64.rnn.rate(x, model64.effect(c))


def _follows(y, batch, rows) -> torch.Tensor:
    """(M,) bool: the outputs y (M, n_out), read as a final response, are correct for the
    trials ``rows`` of ``batch`` (the library's performance measure)."""
    sub = batch.targets[:, rows]
    out = torch.zeros_like(sub)
    out[-1] = y.to(sub.dtype)
    mini = dataclasses.replace(batch, targets=sub, target_angle=batch.target_angle[rows],
                               fixate=batch.fixate[rows])
    return performance(out, mini)


@dataclass
class Branch(JSONResult):
    """One continued fixed-point branch over the grid ``x`` (rows: grid points, columns:
    trials): converged, stable, answers task i, answers task j; state displacement from the
    branch's start, normalised by the norm of the start state."""

    converged: list[list[bool]]
    stable: list[list[bool]]
    follows_i: list[list[bool]]
    follows_j: list[list[bool]]
    displacement: list[float]


def _continue(model64, u, grid_contexts, start_states, n_iter, tol, batch_i, batch_j, rows):
    """Follow fixed points from ``start_states`` along the contexts (list of (M, K)): the
    first search runs ``n_iter`` Adam iterations, later ones only the Gauss-Newton polish from
    the previous solution (Adam's first steps would move a point that is already fixed)."""
    x = start_states
    conv, stab, fi, fj, disp, path = [], [], [], [], [], []
    x_first = None
    for c in grid_contexts:
        fps, stable = _search(model64, u, c, x, n_iter if x_first is None else 0, tol)
        x = fps.points.detach()
        path.append(x)
        if x_first is None:
            x_first = x.clone()
        with torch.no_grad():
            y = model64.rnn.readout(_rates_at(model64, x, c))
        conv.append(fps.converged.tolist())
        stab.append(stable.tolist())
        fi.append(_follows(y, batch_i, rows).tolist())
        fj.append(_follows(y, batch_j, rows).tolist())
        norm = x_first.norm(dim=1).clamp_min(1e-12)
        disp.append(float(((x - x_first).norm(dim=1) / norm).mean()))
    return Branch(conv, stab, fi, fj, disp), torch.stack(path)
