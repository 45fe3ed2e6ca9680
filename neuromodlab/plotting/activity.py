"""Figures about a network's activity and its training (W1D1 Tutorial 2).

- :func:`plot_training_curves`: loss and gradient norm per step of a hand-written training loop;
- :func:`plot_psth`: one unit's trial-averaged rate over time, one line per stimulus condition;
- :func:`plot_psth_grid`: the same for several units (columns) and tasks (rows);
- :func:`plot_tuning`: one unit's mean rate in a time window against the stimulus direction,
  one line per task;
- :func:`plot_variance_explained`: PCA variance per component and cumulative.

Every function takes torch tensors or numpy arrays, draws on ``ax`` (a new figure if None) and
returns the Figure; nothing is shown, so they run headless. Times are in ms, rates in the
network's units (a.u.).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
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
