"""Figures of W1D2 Tutorial 2 (synaptic modulation): cost of dense vs low-rank synapses,
learning curves of two mechanisms, what additive vs multiplicative changes touch, and how a
context-scaled rank-one term moves one eigenvalue (the figure of
:func:`neuromodlab.widgets.synaptic.show_synaptic_context`)."""

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


def plot_rank_one_context(eigenvalues, c: float, bulk_gain: float, t_ms, kappa, starts,
                          *, n_hidden: int, seed: int, c_range=(-0.5, 2.5)):
    """Left: the eigenvalues of ``W_c = W_rec + c m n^T`` in the complex plane, with the circle
    of radius ``bulk_gain`` (the random bulk), the outlier's expected place ``c (n . m) = c``
    (open red circle) and the stability edge Re lambda = 1. Right: the activity along ``m``,
    ``kappa`` (T, B), over time ``t_ms`` (T,) from the initial positions ``starts`` (B,), legend
    beside the axes. ``n_hidden`` and ``seed`` (of the network) go into the figure title;
    ``c_range``: the context values offered (sets the x range of the spectrum)."""
    eig = np.asarray(eigenvalues)
    kappa = np.asarray(kappa, dtype=float)
    fig, (ax_eig, ax_traj) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    theta = np.linspace(0, 2 * np.pi, 200)
    ax_eig.plot(bulk_gain * np.cos(theta), bulk_gain * np.sin(theta), color="0.6", lw=1,
                label=f"bulk radius {bulk_gain:g}")
    ax_eig.scatter(eig.real, eig.imag, s=8, color="C0", label="eigenvalues of $W_c$")
    outlier = eig[np.argmax(eig.real)]
    ax_eig.scatter([float(c)], [0.0], s=90, facecolors="none", edgecolors="C3", lw=1.5,
                   label=f"$c\\,(n\\cdot m)$ = {float(c):.2f}")
    ax_eig.axvline(1.0, color="k", ls="--", lw=1, label="Re $\\lambda$ = 1 (stability edge)")
    ax_eig.set(xlabel="Re $\\lambda$ (dimensionless)", ylabel="Im $\\lambda$ (dimensionless)",
               xlim=(min(c_range) - 0.6, max(c_range) + 0.4), ylim=(-1.2, 1.2),
               title=f"spectrum of $W_c$: largest Re $\\lambda$ = {outlier.real:.2f}")
    ax_eig.set_aspect("equal")
    ax_eig.legend(fontsize=7, loc="upper right")

    for k, a in enumerate(starts):
        ax_traj.plot(t_ms, kappa[:, k], color=plt.cm.coolwarm(k / (len(starts) - 1)),
                     label=f"start {a:+.1f} m")
    ax_traj.axhline(0, color="0.6", lw=0.8)
    lim = max(1.2, 1.15 * float(np.abs(kappa).max()))
    ax_traj.set(xlabel="time (ms)", ylabel="activity along m, $\\kappa$ (a.u.)",
                ylim=(-lim, lim),
                title=f"tanh network, context c = {float(c):.2f}: "
                      f"final $|\\kappa|$ = {np.abs(kappa[-1]).mean():.2f}")
    ax_traj.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                   frameon=False)  # beside the axes: never on a curve
    fig.suptitle(f"rank-one synaptic modulation scaled by the context (N = {n_hidden}, "
                 f"seed {int(seed)})", fontsize=11)
    return fig
