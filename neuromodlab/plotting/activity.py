"""Figures about a network's activity and its training (W1D1 Tutorials 1 and 2).

- :func:`plot_euler_vs_exact`: Euler traces for several time steps against the exact solution
  (:func:`plot_leak` builds them for the free decay of one unit from a one-step function);
- :func:`plot_first_network`: rates and outputs of a network on one trial, outputs against
  targets;
- :func:`plot_training_curves`: loss and gradient norm per step of a hand-written training loop;
- :func:`plot_psth`: one unit's trial-averaged rate over time, one line per stimulus condition;
- :func:`plot_psth_grid`: the same for several units (columns) and tasks (rows);
- :func:`plot_tuning`: one unit's mean rate in a time window against the stimulus direction,
  one line per task;
- :func:`plot_psth_tuning`: one unit's PSTH in one task beside its tuning curves in every task;
- :func:`plot_variance_explained`: PCA variance per component and cumulative;
- :func:`plot_pca_summary`: that, beside condition-averaged trajectories in the plane of PCs 1-2;
- :func:`plot_pc_trajectories`: condition-averaged trajectories in the plane of two PCs beside
  those PCs over time.

Every function takes torch tensors or numpy arrays, draws on ``ax`` (a new figure if None) and
returns the Figure; nothing is shown, so they run headless. Times are in ms, rates in the
network's units (a.u.).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.lines import Line2D


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _condition_colors(n: int) -> list:
    """A cyclic colour map: neighbouring directions get neighbouring colours."""
    cmap = colormaps["hsv"]
    return [cmap(k / n) for k in range(n)]


def _direction_labels(n: int) -> list[str]:
    return [f"{360 * k / n:.0f}°" for k in range(n)]


def plot_euler_vs_exact(t_exact, x_exact, traces: Mapping, *, exact_label: str,
                        steady: float | None = None, tau: float | None = None,
                        xlabel: str = "time (ms)", ylabel: str = "state x (a.u.)",
                        title: str | None = None, trace_label: str = "Euler, dt = {dt:g} ms",
                        ax=None):
    """Euler integrations with several time steps against the exact solution.

    ``t_exact``, ``x_exact``: the exact solution on a fine grid; ``traces``: dt (ms) -> (t, x),
    the Euler states at the times they are reached; ``steady``: a steady state drawn dashed;
    ``tau``: marked by a dotted line at t = tau.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
    fig = ax.figure
    ax.plot(_np(t_exact), _np(x_exact), "k", lw=2, label=exact_label)
    for dt, (t, x) in traces.items():
        ax.plot(_np(t), _np(x), "o-", ms=3, lw=1, label=trace_label.format(dt=dt))
    if steady is not None:
        ax.axhline(steady, color="gray", ls="--", lw=1, label="steady state")
    if tau is not None:
        ax.axvline(tau, color="gray", ls=":", lw=1, label=f"t = $\\tau$ = {tau:g} ms")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return fig


def plot_leak(step_fn, dts=(10.0, 20.0, 50.0, 100.0), tau: float = 100.0,
              duration: float = 500.0):
    """Free decay of one unit from x = 1 (no input, no recurrence) for several ``dts`` (ms),
    stepped by ``step_fn(x, u, W_rec, W_in, b, alpha)`` (the tutorial's ``euler_step``),
    against the exact ``exp(-t / tau)``."""
    t_fine = np.linspace(0, duration, 200)
    zeros11 = torch.zeros(1, 1)
    traces = {}
    for dt in dts:
        x, xs = torch.ones(1, 1), [1.0]
        for _ in range(int(duration / dt)):
            x = step_fn(x, torch.zeros(1, 1), zeros11, zeros11, torch.zeros(1), dt / tau)
            xs.append(float(x))
        traces[dt] = (np.arange(len(xs)) * dt, xs)
    return plot_euler_vs_exact(t_fine, np.exp(-t_fine / tau), traces,
                               exact_label="exact: $e^{-t/\\tau}$",
                               ylabel="state x of one unit (a.u.)",
                               title=f"leak only, $\\tau$ = {tau:g} ms")


def plot_first_network(batch, rates, outputs, trial: int = 0, n_units: int = 8):
    """One trial of a network: the rates of its ``n_units`` most active units, its fixation
    output against the target, and its response-ring outputs against the target ring (same
    colour scale). ``rates`` (T, B, N), ``outputs`` (T, B, 1 + n_ring); times from ``batch.dt``;
    the dotted line is the go cue."""
    rates, outputs = _np(rates)[:, trial], _np(outputs)[:, trial]
    targets = _np(batch.targets)[:, trial]
    t = np.arange(batch.T) * batch.dt
    go = int(batch.epochs["decision"][trial, 0]) * batch.dt
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.3), layout="constrained")
    active = np.argsort(-rates.mean(0))[:n_units]
    axes[0].plot(t, rates[:, active], lw=1)
    axes[0].set(title=f"rates of the {n_units} most active units", ylabel="rate r = relu(x) (a.u.)")
    axes[1].plot(t, outputs[:, 0], color="C1", label="network")
    axes[1].plot(t, targets[:, 0], "k--", label="target")
    axes[1].set(title="fixation output", ylabel="fixation output (a.u.)")
    axes[1].legend(fontsize=8, frameon=False)
    n_ring = targets.shape[1] - 1
    ring = np.concatenate([outputs[:, 1:], targets[:, 1:]])
    vmin, vmax = float(ring.min()), float(ring.max())
    for ax, data, title in ((axes[2], outputs[:, 1:], "ring outputs: network"),
                            (axes[3], targets[:, 1:], "ring outputs: target")):
        im = ax.imshow(data.T, aspect="auto", origin="lower", interpolation="nearest",
                       extent=(t[0], t[-1] + batch.dt, -0.5, n_ring - 0.5), vmin=vmin,
                       vmax=vmax)
        ax.set(title=title, ylabel="ring output unit")
    fig.colorbar(im, ax=axes[2:], label="output (a.u.)")
    for ax in axes:
        ax.axvline(go, color="gray", ls=":", lw=1)
        ax.set_xlabel("time (ms)")
    axes[0].text(go, 1.0, " go cue", transform=axes[0].get_xaxis_transform(), fontsize=8,
                 va="top", color="0.3")
    return fig


def plot_training_curves(losses, grad_norms=None, clip: float | None = None, axes=None,
                         title: str | None = None):
    """Masked loss per step (log scale) and, if given, the gradient norm before clipping.

    ``losses`` and ``grad_norms``: sequences of floats, one per training step. ``clip``: the
    clipping threshold, drawn as a dashed line on the gradient-norm panel.
    """
    losses = _np(losses).reshape(-1)
    n_panels = 1 if grad_norms is None else 2
    if axes is None:
        fig, axes = plt.subplots(1, n_panels, figsize=(4.6 * n_panels, 3.2),
                                 layout="constrained", squeeze=False)
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    steps = np.arange(1, len(losses) + 1)
    axes[0].plot(steps, losses, color="0.3", lw=0.9)
    axes[0].set(xlabel="training step", ylabel="masked MSE loss", yscale="log", title="loss")
    if grad_norms is not None:
        norms = _np(grad_norms).reshape(-1)
        axes[1].plot(np.arange(1, len(norms) + 1), norms, color="C0", lw=0.9,
                     label="before clipping")
        if clip is not None:
            axes[1].axhline(clip, color="C3", ls="--", lw=1, label=f"clip = {clip:g}")
            axes[1].plot(np.arange(1, len(norms) + 1), np.minimum(norms, clip), color="C1",
                         lw=0.9, label="after clipping")
        axes[1].set(xlabel="training step", ylabel="gradient norm", yscale="log",
                    title="gradient norm (all parameters)")
        axes[1].legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_psth(psth, dt: float, t0: float = 0.0, ax=None, *, events: Mapping | None = None,
              title: str | None = None, legend: bool = True, labels: Sequence[str] | None = None,
              event_labels: bool = True, xlabel: str = "time from alignment (ms)"):
    """One unit's PSTH: ``psth`` (T, C), the trial-averaged rate for C stimulus conditions.

    ``dt``: ms per step; ``t0``: time (ms) of the first row, e.g. -200 when the window starts
    200 ms before the alignment event. ``events``: name -> time (ms), drawn as dotted lines.
    ``labels``: one per condition (default: the C directions 0°, 360°/C, ...).
    """
    psth = _np(psth)
    if psth.ndim != 2:
        raise ValueError(f"psth must be (T, C), got shape {psth.shape}")
    T, C = psth.shape
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    fig = ax.figure
    t = t0 + dt * np.arange(T)
    labels = list(labels) if labels is not None else _direction_labels(C)
    for c, color in enumerate(_condition_colors(C)):
        ax.plot(t, psth[:, c], color=color, lw=1.3, label=labels[c])
    for name, time in (events or {}).items():
        ax.axvline(time, color="0.4", ls=":", lw=1)
        if event_labels:
            ax.text(time, 1.0, f" {name}", transform=ax.get_xaxis_transform(), fontsize=8,
                    va="top", ha="left", color="0.3")
    ax.set(xlabel=xlabel, ylabel="rate (a.u.)")
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(title="stimulus", fontsize=7, title_fontsize=8, frameon=False,
                  loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_psth_grid(psths: Mapping, units: Sequence[int], dt: float, t0: float = 0.0, *,
                   events: Mapping | None = None, title: str | None = None,
                   xlabel: str = "time from alignment (ms)"):
    """PSTHs of several ``units`` (columns) in several tasks (rows).

    ``psths``: task name -> (T, C, N) condition-averaged rates (same window for every task).
    ``events``: name -> time (ms), drawn in every panel. Rows share the y axis per unit.
    """
    names = list(psths)
    if not names or not len(units):
        raise ValueError("psths and units must not be empty")
    fig, axes = plt.subplots(len(names), len(units), figsize=(2.6 * len(units) + 1.2,
                                                              2.0 * len(names) + 0.6),
                             sharex=True, sharey="col", squeeze=False, layout="constrained")
    for r, name in enumerate(names):
        data = _np(psths[name])
        if data.ndim != 3:
            raise ValueError(f"psths[{name!r}] must be (T, C, N), got shape {data.shape}")
        for c, unit in enumerate(units):
            ax = axes[r, c]
            plot_psth(data[:, :, unit], dt, t0, ax=ax, events=events, legend=False,
                      event_labels=r == 0, xlabel=xlabel)
            ax.set_title(f"{name}, unit {unit}", fontsize=9)
            if r < len(names) - 1:
                ax.set_xlabel("")
            if c > 0:
                ax.set_ylabel("")
    C = _np(psths[names[0]]).shape[1]
    handles = [Line2D([], [], color=color, label=label)
               for color, label in zip(_condition_colors(C), _direction_labels(C), strict=True)]
    fig.legend(handles=handles, title="stimulus", loc="outside right center", fontsize=7,
               title_fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_tuning(tuning: Mapping, ax=None, *, title: str | None = None,
                ylabel: str = "mean rate (a.u.)"):
    """Tuning curves: ``tuning`` maps a task name to (C,) mean rates, one per stimulus direction
    (0°, 360°/C, ...). The curve is closed (360° = 0°)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.2), layout="constrained")
    fig = ax.figure
    for k, (name, values) in enumerate(tuning.items()):
        v = _np(values).reshape(-1)
        C = len(v)
        deg = 360 * np.arange(C + 1) / C
        ax.plot(deg, np.append(v, v[0]), "o-", ms=4, color=f"C{k % 10}", label=name)
    ax.set(xlabel="stimulus direction (deg)", ylabel=ylabel, xticks=np.arange(0, 361, 90))
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_psth_tuning(psth, tuning: Mapping, dt: float, t0: float = 0.0, *, unit: int,
                     task: str, align: str, window: tuple[float, float]):
    """Left: :func:`plot_psth` of ``unit`` in ``task`` (``psth`` (T, C), aligned on the event
    ``align`` at time 0), the tuning ``window`` (ms from the event) shaded. Right:
    :func:`plot_tuning` of the unit in every task (``tuning``: task -> (C,) mean rate in that
    window). The figure of :func:`neuromodlab.widgets.training.show_psth`."""
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.6), layout="constrained",
                             gridspec_kw={"width_ratios": [1.5, 1]})
    plot_psth(psth, dt, t0, ax=axes[0], events={align: 0.0},
              title=f"unit {unit} in {task}: PSTH by stimulus direction",
              xlabel=f"time from {align} (ms)")
    lo, hi = window
    axes[0].axvspan(lo, hi, color="0.9", zorder=0)
    plot_tuning(tuning, ax=axes[1], title=f"unit {unit}: tuning, {lo:g} to {hi:g} ms after {align}")
    return fig


def plot_variance_explained(ratio, ax=None, *, n_show: int = 10, title: str | None = None):
    """Fraction of variance per principal component (bars) and cumulative (line)."""
    ratio = _np(ratio).reshape(-1)[:n_show]
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.2), layout="constrained")
    fig = ax.figure
    k = np.arange(1, len(ratio) + 1)
    ax.bar(k, ratio, color="C0", alpha=0.7, label="each PC")
    ax.plot(k, np.cumsum(ratio), "o-", color="C3", ms=4, label="cumulative")
    ax.set(xlabel="principal component", ylabel="fraction of variance", ylim=(0, 1.02),
           xticks=k)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title or "Variance explained", fontsize=10)
    return fig


def plot_pca_summary(ratio, trajectories: Mapping, *, n_show: int = 10,
                     title: str = "condition-averaged trajectories (one line per direction)"):
    """Left: variance explained per PC (:func:`plot_variance_explained`). Right: trajectories
    in the plane of PCs 1 and 2 (:func:`~neuromodlab.plotting.dynamics.plot_pca_trajectories`);
    ``trajectories``: name -> (T, C, >= 2) projections, one colour per name."""
    from .dynamics import plot_pca_trajectories

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1.3]})
    plot_variance_explained(ratio, ax=axes[0], n_show=n_show)
    plot_pca_trajectories(trajectories, ax=axes[1], explained_variance_ratio=ratio, title=title)
    return fig


def plot_pc_trajectories(proj: Mapping, dt: float, t0: float = 0.0, *, dims=(0, 1),
                         explained_variance_ratio=None, align: str = "the event",
                         by_direction: bool = False):
    """Condition-averaged trajectories projected on principal components, aligned on ``align``
    (time 0). ``proj``: task name -> (T, C, >= max(dims) + 1) projections of the C stimulus
    directions, rows every ``dt`` ms from ``t0``. Left: the plane of the PCs ``dims``
    (:func:`~neuromodlab.plotting.dynamics.plot_pca_trajectories`), one colour per task; or, if
    ``by_direction`` (one task in ``proj``), one colour per stimulus direction. Right: those two
    PCs over time (solid: the first, dashed: the second), one line per direction. Both legends
    are to the right of their axes. The figure of
    :func:`neuromodlab.widgets.training.show_trajectories`."""
    from .dynamics import plot_pca_trajectories

    names = list(proj)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.0), layout="constrained")
    if by_direction:
        (name,) = names
        plot_pca_trajectories(proj[name], labels=_direction_labels(_np(proj[name]).shape[1]),
                              ax=axes[0], dims=dims,
                              explained_variance_ratio=explained_variance_ratio,
                              title=f"{name} alone, aligned on {align}")
    else:
        plot_pca_trajectories(proj, ax=axes[0], dims=dims,
                              explained_variance_ratio=explained_variance_ratio,
                              title=f"all tasks, aligned on {align}")
    t = t0 + dt * np.arange(_np(proj[names[0]]).shape[0])
    for k, name in enumerate(names):
        data = _np(proj[name])
        for d, style in zip(dims, ("-", "--"), strict=True):
            for c in range(data.shape[1]):
                color = f"C{c % 10}" if by_direction else f"C{k % 10}"
                axes[1].plot(t, data[:, c, d], color=color, ls=style, lw=0.8, alpha=0.7)
            axes[1].plot([], [], color="0.3" if by_direction else color, ls=style,
                         label=f"PC {d + 1}" if by_direction else f"{name}: PC {d + 1}")
    axes[1].axvline(0.0, color="0.4", ls=":", lw=1)
    axes[1].set(xlabel=f"time from {align} (ms)", ylabel="projection (a.u.)",
                title="the two PCs over time (one line per direction)")
    axes[1].legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _legend_outside(axes[0])
    return fig


def _legend_outside(ax) -> None:
    """Move ``ax``'s legend to the right of the axes, off the data."""
    legend = ax.get_legend()
    if legend is None:
        return
    handles = getattr(legend, "legend_handles", None) or legend.legendHandles  # mpl < 3.7
    legend.remove()
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="upper left",
              bbox_to_anchor=(1.0, 1.0))
