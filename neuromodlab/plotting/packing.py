"""Figures of the packing and initialisation experiments.

Every function takes a result object (:class:`~neuromodlab.experiments.packing.PackingResult`
or :class:`~neuromodlab.experiments.initialisation.InitResult`), draws headless and returns the
Figure (nothing is shown). Error bars are 95 % t-intervals over seeds (capacity) or 95 %
Wilson intervals (success fractions); dots are single seeds.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

MECH_COLORS = {"rule": "C0", "excitability": "C1", "gain": "C4", "bias": "C5",
               "synaptic": "C2", "combined": "C3"}
PARAM_FORMULA = {"rule": "N", "gain": "N", "bias": "N", "excitability": "2N",
                 "synaptic": "2RN", "combined": "2N+2RN"}


def _color(mech: str, k: int) -> str:
    """The mechanism's colour in every experiment figure (the k-th default colour if new)."""
    return MECH_COLORS.get(mech, f"C{k % 10}")


def _yerr(mean, lo, hi, bottom=None, top=None) -> np.ndarray:
    """matplotlib's ``yerr`` (2, n) for intervals [lo, hi] around ``mean``, the interval first
    clipped to [bottom, top] (where the quantity lives). Never negative -- matplotlib refuses
    that, and a clipped interval or float rounding can put an edge a hair inside the mean --
    and 0 where the interval is NaN (a single seed)."""
    mean, lo, hi = (np.atleast_1d(np.asarray(v, float)) for v in (mean, lo, hi))
    if bottom is not None or top is not None:
        lo = np.clip(lo, bottom, top)
        hi = np.clip(hi, bottom, top)
    err = np.vstack([mean - lo, hi - mean])
    return np.clip(np.nan_to_num(err, nan=0.0), 0.0, None)


def plot_capacity(result, ax=None):
    """Capacity (largest K reaching the criterion) against network size N, one line per
    mechanism: mean over seeds with 95 % t-interval bars, single seeds as dots, and the
    context parameters per task written beside each point."""
    c = result.config
    fig, ax = (plt.subplots(figsize=(6.4, 4.2), layout="constrained") if ax is None
               else (ax.figure, ax))
    table = result.capacity_table()
    n_mech = len(c.mechanisms)
    for k, mech in enumerate(c.mechanisms):
        rows = [r for r in table if r["mechanism"] == mech]
        shift = 2 ** (0.06 * (k - (n_mech - 1) / 2))  # spread the mechanisms on the log axis
        x = np.array([r["n_hidden"] for r in rows], float) * shift
        mean = np.array([r["mean"] for r in rows])
        # capacity lives in [0, max K]: the t-interval is clipped there
        err = _yerr(mean, [r["lo"] for r in rows], [r["hi"] for r in rows], 0,
                    max(c.task_counts))
        color = _color(mech, k)
        formula = PARAM_FORMULA.get(mech, "?").replace("R", f"{c.rank}" if c.rank > 1 else "")
        ax.errorbar(x, mean, yerr=err, color=color, marker="o", ms=5, capsize=3, lw=1.6,
                    label=f"{mech} ({formula} per task)")
        for xi, r in zip(x, rows, strict=True):
            ax.scatter(np.full(len(r["capacities"]), xi), r["capacities"], s=12, color=color,
                       alpha=0.35, lw=0)
            ax.annotate(str(r["params_per_task"]), (xi, r["mean"]), textcoords="offset points",
                        xytext=(5, 4), fontsize=7, color=color)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(c.n_hidden), [str(n) for n in c.n_hidden])
    ax.minorticks_off()
    ax.set_ylim(-0.3, max(c.task_counts) + 0.5)
    ax.set_yticks([0, *c.task_counts])
    ax.set_xlabel("network size N (recurrent units)")
    ax.set_ylabel("capacity K (tasks at criterion)")
    ax.set_title(f"Task packing: {len(c.seeds)} seeds, <= {c.max_steps} steps, criterion "
                 f"{c.criterion:g}\n(numbers: context parameters per task; bars: 95 % "
                 "t-interval, clipped to [0, max K])", fontsize=9)
    ax.legend(frameon=False, fontsize=8, loc="upper left")  # capacity grows with N
    ax.grid(alpha=0.3)
    return fig


def plot_reached_grid(result):
    """One panel per mechanism: the fraction of seeds whose network reached the criterion
    for each network size N (rows) and task count K (columns)."""
    c = result.config
    n = len(c.mechanisms)
    fig, axes = plt.subplots(1, n, figsize=(2.3 * n + 1.2, 0.45 * len(c.n_hidden) + 1.9),
                             layout="constrained", squeeze=False)
    for ax, mech in zip(axes[0], c.mechanisms, strict=True):
        frac = result.reached_fraction(mech)
        im = ax.imshow(frac, vmin=0, vmax=1, cmap="Greens", aspect="auto", origin="lower")
        for i in range(frac.shape[0]):
            for j in range(frac.shape[1]):
                ax.text(j, i, f"{frac[i, j]:.2f}".rstrip("0").rstrip(".") if frac[i, j] else "0",
                        ha="center", va="center", fontsize=8,
                        color="white" if frac[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(c.task_counts)), [str(k) for k in c.task_counts])
        ax.set_yticks(range(len(c.n_hidden)), [str(v) for v in c.n_hidden])
        ax.set_xlabel("task count K")
        ax.set_title(mech, fontsize=10)
    axes[0][0].set_ylabel("network size N (units)")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.9,
                 label="fraction of seeds at criterion")
    fig.suptitle(f"Reached the criterion ({c.criterion:g}) within {c.max_steps} steps",
                 fontsize=10)
    return fig


def plot_packing_grid(result, mechanism: str, n_hidden: int, worst):
    """Left: which (K, seed) networks of one mechanism and size N reached the criterion -- a
    task count K (rows) x seed (columns) grid coloured by ``worst`` (len(task_counts),
    len(seeds)), the worst task's fraction correct at the last evaluation, each cell labelled
    "reached @ step s" (bold) or the worst accuracy, each seed's capacity under its column.
    Right: :func:`plot_capacity` of every mechanism, the chosen N marked by a dotted line. (The
    figure of :func:`neuromodlab.widgets.packing.show_packing_grid`.)"""
    c = result.config
    grid = np.asarray(worst, dtype=float)
    caps = result.capacities(mechanism, n_hidden)
    ppt = c.params_per_task(mechanism, n_hidden)
    fig, (ax, ax_cap) = plt.subplots(1, 2, figsize=(11, 3.9), layout="constrained",
                                     gridspec_kw={"width_ratios": [1, 1.35]})
    im = ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto", origin="lower")
    for i, k in enumerate(c.task_counts):
        for j, s in enumerate(c.seeds):
            run = result.run(mechanism, n_hidden, k, s)
            text = (f"reached\n@ step {run.steps_to_criterion}" if run.reached
                    else f"not reached\nworst {grid[i, j]:.2f}")
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5,
                    fontweight="bold" if run.reached else "normal")
    ax.set_xticks(range(len(c.seeds)),
                  [f"seed {s}\ncapacity {cap}" for s, cap in zip(c.seeds, caps, strict=True)])
    ax.set_yticks(range(len(c.task_counts)), [str(k) for k in c.task_counts])
    ax.set_ylabel("task count K (first K tasks)")
    ax.set_xlabel("network (seed)")
    ax.set_title(f"{mechanism}, N = {n_hidden}: {ppt} context parameters per task\n"
                 f"criterion {c.criterion:g} on the worst task within {c.max_steps} steps",
                 fontsize=9)
    fig.colorbar(im, ax=ax, label="worst task: fraction correct (last evaluation)")
    plot_capacity(result, ax=ax_cap)
    ax_cap.axvline(n_hidden, color="0.5", ls=":", lw=1.2)
    return fig


def plot_initialisation(result, ax=None):
    """Fraction of seeds reaching the criterion per (mechanism, initial scale of the context
    pathway), with 95 % Wilson intervals and the counts k/n above each bar."""
    c = result.config
    fig, ax = (plt.subplots(figsize=(1.2 * len(c.mechanisms) * len(c.init_stds) + 2.2, 3.8),
                            layout="constrained") if ax is None else (ax.figure, ax))
    width = 0.8 / len(c.init_stds)
    shades = np.linspace(0.35, 1.0, len(c.init_stds))
    for i, mech in enumerate(c.mechanisms):
        for j, std in enumerate(c.init_stds):
            s = result.success(mech, std)
            x = i + (j - (len(c.init_stds) - 1) / 2) * width
            color = plt.matplotlib.colors.to_rgba(_color(mech, i), alpha=float(shades[j]))
            ax.bar(x, s["fraction"], width * 0.9, color=color, edgecolor=_color(mech, i))
            ax.errorbar(x, s["fraction"], yerr=_yerr(s["fraction"], s["lo"], s["hi"], 0, 1),
                        color="black", capsize=3, lw=1)
            ax.annotate(f"{s['k']}/{s['n']}\ninit {std:g}", (x, min(s["hi"], 1.0)),
                        textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    ax.set_xticks(range(len(c.mechanisms)), list(c.mechanisms))
    ax.set_ylim(0, 1.25)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel(f"fraction of seeds reaching {c.criterion:g}\n(worst-task accuracy)")
    ax.set_xlabel("context mechanism (bars: initial std of the context pathway)")
    ax.set_title(f"{' + '.join(c.tasks)}, N = {c.n_hidden}, <= {c.max_steps} steps "
                 "(95 % Wilson intervals)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_steps_to_criterion(result, ax=None):
    """Steps each seed needed to reach the criterion, per condition (x: not reached)."""
    c = result.config
    fig, ax = (plt.subplots(figsize=(5.5, 3.6), layout="constrained") if ax is None
               else (ax.figure, ax))
    labels = []
    for i, (mech, std) in enumerate((m, s) for m in c.mechanisms for s in c.init_stds):
        runs = [r for r in result.runs if r.mechanism == mech and r.init_std == std]
        color = _color(mech, c.mechanisms.index(mech))
        ys = [r.steps_to_criterion if r.reached else math.nan for r in runs]
        jitter = np.linspace(-0.15, 0.15, len(runs)) if len(runs) > 1 else [0.0]
        ax.scatter(i + np.asarray(jitter), ys, color=color, s=18)
        missed = sum(not r.reached for r in runs)
        if missed:
            ax.scatter([i], [c.max_steps * 1.07], marker="x", color=color)
            ax.annotate(f"{missed} not reached", (i, c.max_steps * 1.07),
                        textcoords="offset points", xytext=(6, -3), fontsize=7)
        labels.append(f"{mech}\ninit {std:g}")
    ax.axhline(c.max_steps, color="0.5", ls="--", lw=1)
    ax.set_xlim(-0.5, len(labels) - 0.5 + 0.5)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(0, c.max_steps * 1.15)
    ax.set_ylabel("training steps to criterion")
    ax.set_xlabel("condition (dashed: step budget; x: seeds that never reached it)")
    ax.set_title(f"{' + '.join(c.tasks)}, N = {c.n_hidden}: steps to {c.criterion:g}",
                 fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return fig
