"""Figures about excitability modulation (W1D2 Tutorial 1): rate curves under a gain and a bias,
learned per-task gains and biases, similarity between tasks, silenced units, context blends.

Every function takes torch tensors or numpy arrays and returns a Figure; nothing is shown, so they
run headless. Conventions: ``gain`` and ``bias`` are per-task effects ``(K, N)`` (row k = the
effect of the one-hot context e_k: ``g = 1 + G e_k``, ``b = B e_k``); states and rates are in
arbitrary units (a.u.), times in ms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from .dynamics import _figure, _np

ACTIVATION_FUNCTIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "softplus": lambda z: np.logaddexp(0.0, z),
    "tanh": np.tanh,
}


def _activation(name: str):
    if name not in ACTIVATION_FUNCTIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATION_FUNCTIONS)}, got {name!r}")
    return ACTIVATION_FUNCTIONS[name]


def example_states(duration_ms: float = 1000.0, dt: float = 20.0) -> tuple[np.ndarray, dict]:
    """Three made-up state time courses x(t) (a.u.) used to show what a modulation does to a
    unit's rate over a trial: a ramp, an oscillation and a step. Returns (t_ms, {name: x(t)})."""
    t = np.arange(0.0, duration_ms, dt)
    s = t / duration_ms
    return t, {
        "unit A (ramp)": -1.0 + 3.0 * s,
        "unit B (oscillation)": 0.2 + 0.9 * np.sin(2 * np.pi * 2 * s),
        "unit C (step)": np.where(s < 0.4, -0.5, 0.8),
    }


# ------------------------------------------------------------------------------ single units
def plot_rate_curves(x, curves: Mapping, ax=None, title: str | None = None,
                     styles: Mapping | None = None):
    """Rate against input (an f-I curve) for each ``label -> rates`` in ``curves``, all over the
    same input values ``x`` (1-D)."""
    fig, ax = _figure(ax, (5.0, 3.4))
    x = _np(x)
    for k, (label, rates) in enumerate(curves.items()):
        style = dict((styles or {}).get(label, {}))
        style.setdefault("color", f"C{k}")
        ax.plot(x, _np(rates).reshape(-1), label=label, **style)
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("input to the unit, x (a.u.)")
    ax.set_ylabel("rate r (a.u.)")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig


def plot_fi_curves(rate_fn, gains=(0.5, 1.0, 2.0, -1.0), biases=(-1.0, 0.0, 1.0),
                   x_range=(-2.0, 3.0)):
    """Rate curves computed with ``rate_fn(x, gain, bias)`` (all ``(B, N)`` torch tensors, e.g.
    a student's ``modulated_rate``): left, several gains at bias 0; right, several biases at
    gain 1. One unit, 201 input values (as 201 trials)."""
    import torch  # the rate functions of the tutorials take torch tensors

    x = torch.linspace(*x_range, 201)[:, None]
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained", sharey=True)
    plot_rate_curves(x[:, 0], {f"g = {g:g}": rate_fn(x, g * one, zero) for g in gains},
                     ax=axes[0], title="gain changes the slope (b = 0)")
    plot_rate_curves(x[:, 0], {f"b = {b:+g}": rate_fn(x, one, b * one) for b in biases},
                     ax=axes[1], title="bias shifts the threshold (g = 1)")
    return fig


def plot_unit_modulation(gain: float = 1.0, bias: float = 0.0, activation: str = "relu",
                         x_range=(-2.0, 3.0)):
    """Left: the rate curve r = phi(g x + b) against the unmodulated phi(x). Right: three example
    units' rates over a trial (:func:`example_states`), unmodulated (dashed) and modulated."""
    phi = _activation(activation)
    fig, (ax_fi, ax_t) = plt.subplots(1, 2, figsize=(10.5, 3.6), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.4]})
    x = np.linspace(*x_range, 201)
    plot_rate_curves(x, {"unmodulated: $\\phi(x)$": phi(x),
                         f"modulated: $\\phi({gain:.2g}\\,x {bias:+.2g})$": phi(gain * x + bias)},
                     ax=ax_fi, styles={"unmodulated: $\\phi(x)$": {"color": "0.5", "ls": "--"}})
    if gain > 0:  # the threshold: where g x + b crosses 0
        ax_fi.axvline(-bias / gain, color="C1", ls=":", lw=1)
    ax_fi.set_title(f"rate curve ({activation})")
    top = max(2.0, float(np.max(phi(gain * x + bias))), float(np.max(phi(x))))
    bottom = min(0.0, float(np.min(phi(gain * x + bias))), float(np.min(phi(x))))
    ax_fi.set_ylim(bottom - 0.1, top + 0.1)

    t, states = example_states()
    for k, (name, xs) in enumerate(states.items()):
        ax_t.plot(t, phi(xs), color=f"C{k + 2}", ls="--", lw=1)
        ax_t.plot(t, phi(gain * xs + bias), color=f"C{k + 2}", lw=2, label=name)
    ax_t.plot([], [], color="k", ls="--", lw=1, label="unmodulated")
    ax_t.plot([], [], color="k", lw=2, label="modulated")
    ax_t.set_xlabel("time (ms)")
    ax_t.set_ylabel("rate r (a.u.)")
    ax_t.set_title("three units over a trial")
    ax_t.legend(frameon=False, fontsize=8, loc="upper left", ncols=2)
    ax_t.set_ylim(bottom - 0.1, top + 0.6)
    silent = [name.split(" (")[0] for name, xs in states.items()
              if np.all(phi(gain * xs + bias) <= 1e-9) and not np.all(phi(xs) <= 1e-9)]
    note = f" -- silenced: {', '.join(silent)}" if silent and activation == "relu" else ""
    fig.suptitle(f"gain g = {gain:.2g}, bias b = {bias:+.2g}{note}", fontsize=11)
    return fig


# ------------------------------------------------------------------------------ learned effects
def plot_gain_bias(gain, bias, task_names: Sequence[str], order=None, title: str | None = None,
                   order_label: str = "sorted"):
    """Heatmaps of the per-task gains (centred at 1) and biases (centred at 0), tasks x units.

    ``gain``, ``bias``: (K, N) or None. ``order``: a permutation of the N units (e.g. sorted by
    their bias in the first task) to make patterns visible; ``order_label`` says how it sorts
    (shown on the unit axis as "unit (<order_label>)")."""
    panels = [(name, _np(v)) for name, v in (("gain $g_c$", gain), ("bias $b_c$", bias))
              if v is not None]
    if not panels:
        raise ValueError("give at least one of gain and bias")
    K, N = panels[0][1].shape
    xlabel = "unit" if order is None else f"unit ({order_label})"
    order = np.arange(N) if order is None else _np(order).astype(int)
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.2 + 0.55 * K * len(panels)),
                             layout="constrained", squeeze=False)
    for ax, (label, values) in zip(axes[:, 0], panels, strict=True):
        centre = 1.0 if label.startswith("gain") else 0.0
        span = max(float(np.abs(values - centre).max()), 1e-3)
        im = ax.imshow(values[:, order], aspect="auto", cmap="RdBu_r", interpolation="nearest",
                       norm=TwoSlopeNorm(vcenter=centre, vmin=centre - span, vmax=centre + span))
        ax.set_yticks(range(K))
        ax.set_yticklabels(list(task_names))
        ax.set_xlabel(xlabel)
        ax.set_title(label, loc="left", fontsize=10)
        fig.colorbar(im, ax=ax, pad=0.01, fraction=0.03, label=label.split(" ")[0] + " (a.u.)")
        if label.startswith("gain"):
            rows, cols = np.nonzero(values[:, order] <= 0)
            ax.plot(cols, rows, "kx", ms=5, label="gain <= 0")
            if len(rows):
                ax.legend(loc="upper right", fontsize=7, frameon=True, bbox_to_anchor=(1, 1.35))
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_similarity(similarity, task_names: Sequence[str], ax=None, title: str | None = None,
                    label: str = "cosine similarity", colorbar: bool = True):
    """A K x K similarity matrix (values in [-1, 1]) with the values written in the cells."""
    fig, ax = _figure(ax, (4.0, 3.4))
    S = _np(similarity)
    im = ax.imshow(S, cmap="RdBu_r", vmin=-1, vmax=1)
    K = S.shape[0]
    ax.set_xticks(range(K))
    ax.set_xticklabels(list(task_names), rotation=45, ha="right")
    ax.set_yticks(range(K))
    ax.set_yticklabels(list(task_names))
    ax.set_xlabel("task")
    ax.set_ylabel("task")
    for i in range(K):
        for j in range(K):
            ax.text(j, i, f"{S[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(S[i, j]) > 0.6 else "black")
    if colorbar:
        fig.colorbar(im, ax=ax, label=label)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_similarity_grid(similarities: Mapping, task_names: Sequence[str],
                         label: str = "cosine similarity"):
    """Several K x K similarity matrices side by side: ``similarities`` maps
    ``(row name, column name) -> (K, K)``, e.g. ``("biases b", "after training") -> S``; rows
    and columns of the grid follow the order in which the names first appear. One colour bar
    per row (the scale is [-1, 1] everywhere)."""
    rows = list(dict.fromkeys(r for r, _ in similarities))
    cols = list(dict.fromkeys(c for _, c in similarities))
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(4.3 * len(cols), 3.5 * len(rows)),
                             layout="constrained", squeeze=False)
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            ax = axes[i, j]
            if (row, col) not in similarities:
                ax.set_axis_off()
                continue
            plot_similarity(similarities[row, col], task_names, ax=ax, title=f"{row}: {col}",
                            label=label, colorbar=j == len(cols) - 1)
    return fig


def plot_silent_units(silent, task_names: Sequence[str], ax=None, order=None,
                      title: str | None = None, order_label: str = "sorted"):
    """Which units are silent (True) in which task: a tasks x units raster, counts per task.
    ``order``: a permutation of the units; ``order_label`` says how it sorts."""
    fig, ax = _figure(ax, (10, 1.4 + 0.4 * len(task_names)))
    S = _np(silent).astype(bool)
    K, N = S.shape
    xlabel = "unit" if order is None else f"unit ({order_label})"
    order = np.arange(N) if order is None else _np(order).astype(int)
    ax.imshow(S[:, order], aspect="auto", cmap="Greys", vmin=0, vmax=1.4,
              interpolation="nearest")
    ax.set_yticks(range(K))
    ax.set_yticklabels([f"{name} ({int(S[k].sum())} silent)" for k, name in
                        enumerate(task_names)])
    ax.set_xlabel(xlabel)
    ax.set_xticks(np.arange(-0.5, N, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, K, 1), minor=True)
    ax.grid(which="minor", color="white", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title(title or "silent units (dark): rate below threshold throughout every trial",
                 fontsize=10, loc="left")
    return fig


# ------------------------------------------------------------------------------ context blends
def plot_context_blend(unit_effects: Mapping, relative_angle, fixating, ring_output, dt: float,
                       stimulus: float | None = None, title: str | None = None):
    """The context-blend demo (see :func:`neuromodlab.widgets.excitability.show_context_blend`).

    ``unit_effects``: label -> (gain (N,), bias (N,)) for the two pure tasks and the blend;
    ``relative_angle``: (B,) response direction minus stimulus direction (rad) of trials that
    responded; ``fixating``: (B,) bool; ``ring_output``: (T, n_ring) ring outputs of one trial,
    whose stimulus direction ``stimulus`` (rad) is marked (and the opposite direction)."""
    # a fixed layout (no layout engine): this figure is redrawn on every slider move, and the
    # constrained layout would cost a third of the drawing time
    fig = plt.figure(figsize=(13, 4.4))
    grid = fig.add_gridspec(2, 3, width_ratios=[1.3, 1, 1.15], left=0.06, right=0.94,
                            bottom=0.12, top=0.8, wspace=0.28, hspace=0.12)
    ax_g, ax_b = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
    ax_hist, ax_ring = fig.add_subplot(grid[:, 1]), fig.add_subplot(grid[:, 2])
    styles = [dict(color="C0", ls="--", lw=1), dict(color="C3", ls="--", lw=1),
              dict(color="k", lw=2)]
    for (label, (g, b)), style in zip(unit_effects.items(), styles[-len(unit_effects):],
                                      strict=True):
        units = np.arange(len(_np(g)))
        ax_g.plot(units, _np(g), marker="o", ms=3, label=label, **style)
        if b is not None:
            ax_b.plot(units, _np(b), marker="o", ms=3, **style)
    ax_g.axhline(1, color="0.7", lw=0.8, zorder=0)
    ax_b.axhline(0, color="0.7", lw=0.8, zorder=0)
    ax_g.set_ylabel("gain (a.u.)")
    ax_b.set_ylabel("bias (a.u.)")
    ax_b.set_xlabel("unit")
    ax_g.tick_params(labelbottom=False)
    ax_g.legend(frameon=False, fontsize=8, ncols=3, loc="lower left", bbox_to_anchor=(0, 1.0),
                title="effective gain and bias per unit, context:", title_fontsize=9)

    rel = np.degrees(np.mod(_np(relative_angle) + np.pi, 2 * np.pi) - np.pi)
    fix = _np(fixating).astype(bool)
    responded = rel[~fix]
    ax_hist.hist(responded, bins=np.linspace(-180, 180, 19), color="0.4")
    for x, c in ((0, "C0"), (-180, "C3"), (180, "C3")):
        ax_hist.axvline(x, color=c, ls=":", lw=1)
    ax_hist.set_xlabel("response - stimulus direction (deg)")
    ax_hist.set_ylabel("trials")
    n = len(rel)
    toward = np.mean((np.abs(rel) < 36) & ~fix) if n else np.nan
    away = np.mean((np.abs(rel) > 144) & ~fix) if n else np.nan
    ax_hist.set_title(f"toward {toward:.0%}, away {away:.0%}, fixating {fix.mean():.0%}",
                      fontsize=10)

    ring = _np(ring_output)
    T, n_ring = ring.shape
    im = ax_ring.imshow(ring.T, aspect="auto", origin="lower", cmap="viridis",
                        extent=(0, T * dt, -0.5 * 360 / n_ring, 360 - 0.5 * 360 / n_ring))
    ax_ring.set_xlabel("time (ms)")
    ax_ring.set_ylabel("preferred direction (deg)")
    ax_ring.set_title("ring output, trial 0", fontsize=10)
    if stimulus is not None and np.isfinite(stimulus):
        s_deg = np.degrees(np.mod(stimulus, 2 * np.pi))
        ax_ring.axhline(s_deg, color="C0", ls=":", lw=2.5, label="stimulus")
        ax_ring.axhline(np.mod(s_deg + 180, 360), color="C3", ls=":", lw=2.5, label="opposite")
        ax_ring.legend(frameon=False, fontsize=7, loc="upper right", labelcolor="white")
    fig.colorbar(im, ax=ax_ring, label="output (a.u.)", pad=0.02, fraction=0.08)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
