"""Demo: fixed points and a trajectory as the context moves from task i to task j (W1D2 Tutorial 5).

For one trained network per mechanism and one trial, the context ``c(l) = (1 - l) e_i + l e_j``
is swept over a few values of ``l``. At each ``l`` (recurrent noise off) we keep

- the trial's trajectory (rates, projected on the network's first two PCs, computed once from
  clean-context trials of both tasks);
- the fixed points of the one-step map under the trial's *last* input (stimulus and go cue
  present), found with :func:`neuromodlab.analysis.find_fixed_points` from the trajectory's end
  and from the previous ``l``'s points (continuation), with their stability (all
  ``|eig| < 1``).

``precompute_interpolation(models, taskset, ...)`` does the work once (a few seconds);
``show_interpolation(data, mechanism, l)`` is the plain plotting function (returns the Figure;
nothing is shown); ``interpolation_demo(data)`` wraps it in a slider and a dropdown (ipywidgets 7
and 8).
"""

from __future__ import annotations

import copy

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import analysis
from ..modulation import mix_context
from ..plotting.fixedpoints import plot_interpolation_step

LAMBDAS = tuple(round(0.1 * k, 10) for k in range(11))  # the slider's stops, l = 0, 0.1, ..., 1


def _interpolate_one(model, batch, trial: int, i: int, j: int, lambdas, n_iter: int):
    m64 = copy.deepcopy(model).double().eval()
    K = batch.context.shape[1]
    inputs = batch.inputs[:, trial:trial + 1].double()
    u = inputs[-1]  # (1, n_in): the decision-period input
    with torch.no_grad():
        clean = m64(batch.inputs.double(), batch.context.double(), noise=False)
    pca = analysis.pca(clean.rates, 2)
    out = {"lambdas": [], "traj": [], "fp": [], "stable": [], "n_fixed": [],
           "pca": pca}
    prev = None
    for lam in lambdas:
        c = mix_context(i, j, float(lam), K, 1).double()
        with torch.no_grad():
            run = m64(inputs, c, noise=False)
        starts = run.states[-1]
        if prev is not None:
            starts = torch.cat([starts, prev])
        cM = c.expand(starts.shape[0], K)

        def step(x, cM=cM):
            return m64.step(x, u.expand(x.shape[0], -1), cM[: x.shape[0]])

        fps = analysis.find_fixed_points(step, starts, n_iter=n_iter, tol=1e-10)
        good = fps[fps.converged].unique(1e-4)
        if len(good) == 0:  # keep the slowest point, flagged by n_fixed = 0
            good = fps[torch.argsort(fps.speed)[:1]]
            n_fixed = 0
        else:
            n_fixed = len(good)
        stable = analysis.is_stable(analysis.jacobian_eigenvalues(step, good.points))
        with torch.no_grad():
            rates_fp = m64.rnn.rate(good.points, m64.effect(c.expand(len(good), K)))
        out["lambdas"].append(float(lam))
        out["traj"].append(pca.transform(run.rates[:, 0]).float().numpy())
        out["fp"].append(pca.transform(rates_fp).float().numpy())
        out["stable"].append(stable.numpy())
        out["n_fixed"].append(n_fixed)
        prev = good.points
    return out


def precompute_interpolation(models: dict, taskset, tasks=("go", "anti"), lambdas=LAMBDAS,
                             n_trials: int = 32, trial: int | None = None, seed: int = 0,
                             n_iter: int = 100) -> dict:
    """``models``: mechanism name -> trained ModulatedRNN (same ``taskset``). Returns a dict
    mechanism -> {"lambdas", "traj" (per l: (T, 2)), "fp" (per l: (M, 2)), "stable" (per l:
    (M,) bool), "n_fixed" (per l: converged distinct points; 0 = none, the slowest point is
    kept), "pca" (the network's :class:`~neuromodlab.analysis.PCA` giving those coordinates),
    "tasks", "trial"}."""
    i, j = (list(taskset.names).index(t) for t in tasks)
    batch = taskset.sample(n_trials, seed=seed)
    if trial is None:
        trial = int(torch.nonzero(batch.task_ids == i)[0])
    data = {}
    for name, model in models.items():
        data[name] = _interpolate_one(model, batch, trial, i, j, lambdas, n_iter)
        data[name]["tasks"] = tuple(tasks)
        data[name]["trial"] = trial
    return data


def show_interpolation(data: dict, mechanism: str, l: float, ax=None):  # noqa: E741
    """Trajectory (grey) and fixed points (filled = stable, open = unstable) at the
    precomputed ``l`` nearest to ``l``; faint: the fixed points at every other ``l``."""
    d = data[mechanism]
    k = int(np.argmin(np.abs(np.asarray(d["lambdas"]) - float(l))))
    ti, tj = d["tasks"]
    title = f"{mechanism}: context (1-l) {ti} + l {tj}, l = {d['lambdas'][k]:.2f}"
    if d["n_fixed"][k] == 0:
        title += "\nno search converged: the slowest point is shown"
    fig = plot_interpolation_step(d["lambdas"], d["traj"], d["fp"], d["stable"], k,
                                  explained_variance_ratio=d["pca"].explained_variance_ratio,
                                  ax=ax, title=title)
    return fig


def interpolation_demo(data: dict):
    """Slider for l, dropdown for the mechanism (ipywidgets 7 and 8). The slider steps by the
    spacing of the precomputed grid, so (for an evenly spaced grid such as ``LAMBDAS``) every
    stop is a precomputed ``l`` and every move changes the figure."""
    from ipywidgets import Dropdown, FloatSlider, interact

    lams = data[next(iter(data))]["lambdas"]
    step = round(float(np.min(np.diff(lams))), 10) if len(lams) > 1 else 1.0

    def update(mechanism, l):  # noqa: E741
        # Shown here and closed, returning None: interact would display a returned Figure a
        # second time under the one the inline backend already shows.
        fig = show_interpolation(data, mechanism, l)
        plt.show()
        plt.close(fig)

    return interact(update,
                    mechanism=Dropdown(options=list(data), value=list(data)[0]),
                    l=FloatSlider(min=0.0, max=1.0, step=step, value=lams[0],
                                  continuous_update=False))
