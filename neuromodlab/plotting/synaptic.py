"""Figures of W1D2 Tutorial 2 (synaptic modulation): cost of dense vs low-rank synapses,
learning curves of two mechanisms, and what additive vs multiplicative changes touch."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_timing(sizes, dense_ms, lowrank_ms, batch_size: int | None = None):
    """Time per call (ms) of the dense and the low-rank recurrent input against N (log-log)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
    ax.loglog(sizes, dense_ms, "o-", color="C3", label="dense: form $W_c$ for every trial")
    ax.loglog(sizes, lowrank_ms, "s-", color="C0",
              label="low rank: $W_{rec} r + M((c \\otimes 1_R) * (N^T r))$")
    ax.set_xticks(list(sizes))
    ax.set_xticklabels([str(int(s)) for s in sizes])
    ax.minorticks_off()
    ax.set(xlabel="number of units N", ylabel="time per call (ms)",
           title="recurrent input for one batch" + (f" (B = {batch_size})" if batch_size else ""))
    ax.legend(fontsize=8, frameon=False)
    return fig


def plot_learning_comparison(histories: dict, params_per_task: dict | None = None,
                             criterion: float | None = 0.9):
    """Loss and worst-task performance over training for several mechanisms.

    ``histories``: name -> :class:`~neuromodlab.train.History`; ``params_per_task``: name ->
    int, shown in the legend.
    """
    fig, (ax_loss, ax_perf) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for k, (name, hist) in enumerate(histories.items()):
        color = f"C{k}"
        label = name + (f" ({params_per_task[name]} params/task)" if params_per_task else "")
        ax_loss.plot(hist.steps, hist.loss, lw=0.8, color=color, label=label)
        worst = np.min(np.array([hist.performance[t] for t in hist.task_names]), axis=0)
        ax_perf.plot(hist.eval_steps, worst, "o-", ms=3, color=color, label=label)
        if hist.steps_to_criterion is not None:
            ax_perf.axvline(hist.steps_to_criterion, color=color, ls=":", lw=1)
    ax_loss.set(xlabel="training step", ylabel="masked MSE loss", yscale="log",
                title="training loss")
    if criterion is not None:
        ax_perf.axhline(criterion, color="grey", ls="--", lw=1, label="criterion")
    ax_perf.set(xlabel="training step", ylabel="fraction correct, worst task", ylim=(-0.02, 1.02),
                title="performance of the worst task (dotted: criterion reached)")
    ax_loss.legend(fontsize=8, frameon=False)
    ax_perf.legend(fontsize=8, frameon=False, loc="lower right")
    return fig


def plot_weight_changes(W, delta_additive, delta_multiplicative):
    """Heatmaps of a sparse W and of the change made by an additive rank-one term and by a
    rank-one multiplicative mask; each title counts the non-zero entries."""
    W, da, dm = (np.asarray(a, dtype=float) for a in (W, delta_additive, delta_multiplicative))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
    panels = ((W, "shared synapses $W$"),
              (da, "additive change $m n^T$"),
              (dm, "multiplicative change $(u v^T) \\odot W - W$"))
    for ax, (data, title) in zip(axes, panels, strict=True):
        vmax = float(np.abs(data).max()) or 1.0
        im = ax.imshow(data, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        touched = int((np.abs(data) > 1e-12).sum())
        ax.set(xlabel="presynaptic unit j", ylabel="postsynaptic unit i",
               title=f"{title}\n{touched} of {data.size} entries non-zero")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="weight (a.u.)")
    return fig
