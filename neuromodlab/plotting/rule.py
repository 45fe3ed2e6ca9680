"""Figures of W1D1 Tutorial 3: what a rule input really is.

- :func:`plot_rule_drives`: the drive ``W_rule c`` each task adds to every unit;
- :func:`plot_leaky_vs_exact`: a drive switched on in a leaky unit, Euler against the exact
  solution;
- :func:`plot_drive_vs_bias`: a context through the leak (drive) against the same context on the
  rate (bias), side by side;
- :func:`plot_drive_bias_network`: the same comparison in a trained network, over a trial;
- :func:`plot_task_variance`: normalised task variance, units sorted by preferred task;
- :func:`plot_fractional_task_variance`: FTV histograms for pairs of tasks (Yang et al. 2019).

Every function takes arrays or tensors and returns a matplotlib Figure (nothing is shown).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .activity import plot_euler_vs_exact


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def preferred_task_order(ntv, min_value: float = 0.0):
    """Units sorted by preferred task (the argmax of their normalised task variance), then by
    how selective they are (largest ``1 - second largest`` first). Units whose maximum is <=
    ``min_value`` (silent) are left out. Returns ``(order, preferred)``, numpy int arrays of the
    kept units' indices and of their preferred task."""
    ntv = _np(ntv)
    peak = ntv.max(0)
    kept = np.flatnonzero(peak > min_value)
    preferred = ntv[:, kept].argmax(0)
    second = np.sort(ntv[:, kept], axis=0)[-2] if ntv.shape[0] > 1 else np.zeros(len(kept))
    selectivity = ntv[:, kept].max(0) - second
    order = np.lexsort((-selectivity, preferred))
    return kept[order], preferred[order]


def plot_rule_drives(drives, task_names, ax=None):
    """Heatmap of the drive ``d_k = W_rule e_k`` (K, N) of each task on every unit; units sorted
    by the task that drives them most."""
    d = _np(drives)
    K, N = d.shape
    order = np.lexsort((-d.max(0), d.argmax(0)))
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 0.45 * K + 1.6), layout="constrained")
    else:
        fig = ax.figure
    vmax = float(np.abs(d).max()) or 1.0
    im = ax.imshow(d[:, order], aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                   interpolation="nearest")
    ax.set_yticks(range(K))
    ax.set_yticklabels(list(task_names))
    ax.set_xlabel("unit (sorted by the task that drives it most)")
    ax.set_ylabel("rule (task)")
    ax.set_title("drive of each one-hot rule on every unit, $d_k = W_{\\rm rule}\\, e_k$")
    fig.colorbar(im, ax=ax, label="drive (a.u.)", fraction=0.04, pad=0.01)
    return fig


def plot_leaky_vs_exact(leaky_fn, d: float = 0.4, I: float = 0.2, tau: float = 100.0,  # noqa: E741 (the input I of the tutorial's equation)
                        dts=(20.0, 5.0), duration: float = 600.0):
    """A drive ``d`` switched on at t = 0 in a unit at rest (x = I): Euler steps of
    ``leaky_fn(inputs, drive, bias, alpha, x0=None) -> (states, rates)`` (the tutorial's
    ``run_leaky``) for each of ``dts`` (ms), against the exact x(t) = I + d (1 - exp(-t / tau))."""
    t_fine = np.linspace(0, duration, 300)
    traces = {}
    for dt in dts:
        T = int(duration / dt)
        full = torch.ones(T, 1, 1)
        states, _ = leaky_fn(I * full, d * full, 0 * full, dt / tau, x0=torch.full((1, 1), I))
        x = np.concatenate([[I], torch.as_tensor(states).reshape(T).numpy()])
        traces[dt] = (np.arange(T + 1) * dt, x)  # states[t] is reached at the END of step t
    return plot_euler_vs_exact(
        t_fine, I + d * (1 - np.exp(-t_fine / tau)), traces, steady=I + d, tau=tau,
        exact_label="exact: $I + d\\,(1 - e^{-t/\\tau})$",
        trace_label="Euler (your run_leaky), dt = {dt:g} ms",
        xlabel="time since the drive was switched on (ms)",
        title=f"a drive d = {d:g} through the leak, $\\tau$ = {tau:g} ms")


def plot_drive_vs_bias(t_ms, amplitude_trace, drive_rates, bias_rates, steady=None,
                       labels=None, tau=None, drive_states=None, axes=None):
    """A context through the leak (left) against the same context on the rate (right).

    t_ms (T,); amplitude_trace (T,): the context's amplitude over time (d(t) = b(t));
    drive_rates, bias_rates (T, U): rates of U units; steady (U,) or None: the steady-state
    rate with the context on; labels: U legend labels; tau: the time constant (ms), marked
    after the context onset; drive_states (T, U) or None: the drive version's states x, drawn
    thin and dotted (they move even while the rate is 0).
    """
    t = _np(t_ms)
    amp = _np(amplitude_trace)
    rd, rb = _np(drive_rates), _np(bias_rates)
    if rd.ndim == 1:
        rd, rb = rd[:, None], rb[:, None]
    U = rd.shape[1]
    labels = list(labels) if labels is not None else [f"unit {u}" for u in range(U)]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True, layout="constrained")
    else:
        fig = axes[0].figure
    on = np.flatnonzero(np.abs(amp) > 0)
    titles = ("context as a drive: $\\tau\\dot x = -x + I + d(t)$, $r = $relu$(x)$",
              "context as a bias: $\\tau\\dot x = -x + I$, $r = $relu$(x + b(t))$")
    for ax, rates, title in zip(axes, (rd, rb), titles, strict=True):
        if len(on):
            ax.axvspan(t[on[0]], t[on[-1]], color="0.92", lw=0, zorder=0,
                       label="context on")
        for u in range(U):
            line, = ax.plot(t, rates[:, u], lw=2, label=labels[u])
            if drive_states is not None and rates is rd:
                xs = _np(drive_states).reshape(len(t), -1)[:, u]
                ax.plot(t, xs, color=line.get_color(), lw=1, ls=":",
                        label="state x (below 0: rate 0)")
            if steady is not None:
                ax.axhline(_np(steady).reshape(-1)[u], color=line.get_color(), ls="--", lw=1)
        if tau is not None and len(on):
            ax.axvline(t[on[0]] + tau, color="0.4", ls=":", lw=1)
            ax.text(t[on[0]] + tau, ax.get_ylim()[1] if ax.get_ylim()[1] > 0 else 1.0,
                    " onset + $\\tau$", fontsize=8, va="top", color="0.3")
        ax.set_xlabel("time (ms)")
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel("rate r (a.u.)" if drive_states is None else "rate r, state x (a.u.)")
    if steady is not None:
        axes[0].plot([], [], "k--", lw=1, label="steady-state rate")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right center", fontsize=8, frameon=False)
    return fig


def plot_drive_bias_network(t_ms, drive_rates, bias_rates, rel_diff, shifted_diff=None,
                            tau=None, units=None, axes=None):
    """A trained network run with its rule as a drive and as a bias (same numbers).

    t_ms (T,); drive_rates, bias_rates (T, N): one trial; rel_diff (T,): mean |r_drive -
    r_bias| / mean r_drive over trials and units; shifted_diff (T,) or None: the same with the
    bias network started at x0 = -d; tau: reference decay exp(-t / tau) drawn if given.
    """
    t = _np(t_ms)
    rd, rb = _np(drive_rates), _np(bias_rates)
    if units is None:
        units = np.argsort(-np.abs(rd - rb)[: max(1, len(t) // 5)].mean(0))[:4]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    else:
        fig = axes[0].figure
    ax = axes[0]
    for k, u in enumerate(units):
        ax.plot(t, rd[:, u], color=f"C{k}", lw=2, label=f"unit {int(u)}: drive")
        ax.plot(t, rb[:, u], color=f"C{k}", lw=1.2, ls="--", label=f"unit {int(u)}: bias")
    ax.set_xlabel("time in the trial (ms)")
    ax.set_ylabel("rate r (a.u.)")
    ax.set_title("one trial: rule as drive (solid) vs as bias (dashed)", fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    ax = axes[1]
    floor = 1e-9
    ax.semilogy(t, np.maximum(_np(rel_diff), floor), lw=2, label="bias network, $x_0 = 0$")
    if shifted_diff is not None:
        ax.semilogy(t, np.maximum(_np(shifted_diff), floor), lw=2,
                    label="bias network, $x_0 = -d$")
    if tau is not None:
        ref = _np(rel_diff)[0] * np.exp(-(t - t[0]) / tau)
        ax.semilogy(t, np.maximum(ref, floor), "k:", lw=1,
                    label=f"$e^{{-t/\\tau}}$, $\\tau$ = {tau:g} ms")
    ax.set_xlabel("time in the trial (ms)")
    ax.set_ylabel("mean |r_drive - r_bias| / mean r")
    ax.set_title("how different are the two networks?", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return fig


def plot_task_variance(ntv, task_names, min_value: float = 0.0, threshold: float = 0.5,
                       axes=None):
    """Left: normalised task variance (K, N), active units sorted by preferred task. Right: how
    many units have a normalised task variance above ``threshold`` in 1, 2, ... K tasks."""
    ntv = _np(ntv)
    K = ntv.shape[0]
    order, preferred = preferred_task_order(ntv, min_value)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * K + 2.2), layout="constrained",
                                 gridspec_kw={"width_ratios": [3, 1]})
    else:
        fig = axes[0].figure
    ax = axes[0]
    im = ax.imshow(ntv[:, order], aspect="auto", cmap="magma", vmin=0, vmax=1,
                   interpolation="nearest")
    for k in range(1, K):
        edge = np.searchsorted(preferred, k) - 0.5
        ax.axvline(edge, color="white", lw=1)
    ax.set_yticks(range(K))
    ax.set_yticklabels(list(task_names))
    ax.set_xlabel(f"active unit ({len(order)} of {ntv.shape[1]}), sorted by preferred task")
    ax.set_ylabel("task")
    ax.set_title("normalised task variance", fontsize=10)
    fig.colorbar(im, ax=ax, label="normalised task variance", fraction=0.04, pad=0.01)
    ax = axes[1]
    n_tasks = (ntv[:, order] > threshold).sum(0)
    counts = [int((n_tasks == m).sum()) for m in range(1, K + 1)]
    ax.bar(range(1, K + 1), counts, color="0.4")
    ax.set_xticks(range(1, K + 1))
    ax.set_xlabel(f"tasks with normalised TV > {threshold:g}")
    ax.set_ylabel("number of units")
    ax.set_title("selective or shared?", fontsize=10)
    return fig


def fractional_task_variance(tv, a: int, b: int, min_variance: float = 0.0):
    """FTV(a, b) = (TV_a - TV_b) / (TV_a + TV_b) per unit, for units with TV_a + TV_b >
    ``min_variance``: +1 = active in a only, -1 = in b only, 0 = equally in both."""
    tv = _np(tv)
    total = tv[a] + tv[b]
    keep = total > min_variance
    return (tv[a, keep] - tv[b, keep]) / total[keep]


def plot_fractional_task_variance(tv, task_names, pairs, min_variance: float = 1e-3,
                                  bins: int = 20, axes=None):
    """Histograms of the fractional task variance FTV(a, b) over units, one panel per pair of
    task names (Yang et al. 2019 used this measure to compare pairs of tasks)."""
    names = list(task_names)
    if axes is None:
        fig, axes = plt.subplots(1, len(pairs), figsize=(3.6 * len(pairs), 3.0),
                                 sharey=True, layout="constrained", squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    edges = np.linspace(-1, 1, bins + 1)
    for ax, (a, b) in zip(axes, pairs, strict=True):
        ftv = fractional_task_variance(tv, names.index(a), names.index(b), min_variance)
        ax.hist(ftv, bins=edges, color="0.35")
        ax.set_xlabel(f"FTV({a}, {b})")
        ax.set_title(f"{a} vs {b}", fontsize=10)
        ax.set_xlim(-1.05, 1.05)
    axes[0].set_ylabel("number of units")
    return fig
