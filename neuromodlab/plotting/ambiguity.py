"""Figures of the reduced experiments: context ambiguity and the dynamics under each mechanism.

Every function takes a result object (:class:`~neuromodlab.experiments.ambiguity.AmbiguityResult`
or :class:`~neuromodlab.experiments.dynamics.DynamicsResult`), draws headless and returns the
Figure (nothing is shown). Bands are 95 % t-intervals over networks (seeds); dots are networks.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ..experiments.results import mean_ci
from .dynamics import plot_pca_trajectories
from .packing import _color, _yerr

OUTCOME_STYLE = {"p_i": ("C0", "follows task i"), "p_j": ("C3", "follows task j"),
                 "p_neither": ("0.4", "follows neither")}
FORM_AXIS = {
    "blend": "blend $l$ in $c = (1-l)\\,e_i + l\\,e_j$",
    "weak": "cue strength $s$ in $c = s\\,e_i$",
    "noisy": "cue noise std $\\sigma$ in $c = e_i + \\sigma\\xi$",
}
FRACTIONS = {"attractor_i_l0", "attractor_j_l1", "bistable_fraction", "rest_stable_fraction",
             "overlap_pair", "overlap_mean"}
METRIC_LABELS = {
    "l50": "$l_{50}$: blend where P(i) < 0.5",
    "auc_half": "mean P(i), $l \\in [0, 0.5]$",
    "neither_mid": "P(neither) at $l = 0.5$",
    "neither_peak": "peak P(neither)",
    "s50": "$s_{50}$: strength where P(i) < 0.5",
    "noise_auc": "mean P(i) over cue noise",
    "perf_l0": "P(i) at $l = 0$ (trained)",
}


def _band(ax, x, rows, color, label, ls="-"):
    """Mean line and 95 % band over rows (networks); single network: line only."""
    rows = np.asarray(rows, float).reshape(-1, len(x))
    mean, lo, hi = mean_ci(rows)
    ax.plot(x, mean, color=color, ls=ls, lw=1.8, label=f"{label} (n={rows.shape[0]})")
    if rows.shape[0] > 1:
        ax.fill_between(x, lo.clip(0, 1), hi.clip(0, 1), color=color, alpha=0.2, lw=0)


def _pair_names(result, pair):
    pairs = list(result.curves)
    pair = pairs[0] if pair is None else pair
    if pair not in result.curves:
        raise ValueError(f"pair must be one of {pairs}, got {pair!r}")
    return pair, pair.split("->")


def _legend_below(fig, ax) -> None:
    """One legend for all panels, under them (never on top of a curve)."""
    handles, labels = ax.get_legend_handles_labels()
    try:  # matplotlib >= 3.7 places it outside the axes, in the constrained layout
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels),
                   fontsize=8, frameon=False)
    except ValueError:
        ax.legend(fontsize=7, frameon=False, loc="center right")


def plot_blend_curves(result, pair: str | None = None, form: str = "blend"):
    """One panel per mechanism: P(follows i), P(follows j), P(neither) against the cue
    parameter of ``form`` ("blend", "weak" or "noisy"), mean and 95 % band over networks."""
    pair, (ti, tj) = _pair_names(result, pair)
    mechs = list(result.curves[pair][form])
    fig, axes = plt.subplots(1, len(mechs), figsize=(3.1 * len(mechs) + 0.6, 3.2),
                             sharey=True, layout="constrained", squeeze=False)
    for ax, mech in zip(axes[0], mechs, strict=True):
        cur = result.curves[pair][form][mech]
        for which, (color, label) in OUTCOME_STYLE.items():
            label = label.replace("task i", ti).replace("task j", tj)
            if cur.seeds:
                _band(ax, cur.x, getattr(cur, which), color, label)
        if form == "blend":
            ax.axvline(0.5, color="0.7", lw=0.8, ls=":")
        ax.set_title(mech)
        ax.set_xlabel(FORM_AXIS[form])
        ax.set_ylim(-0.02, 1.02)
    axes[0, 0].set_ylabel("fraction of conflict trials")
    _legend_below(fig, axes[0, -1])
    fig.suptitle(f"Ambiguous cue, {ti} (i) vs {tj} (j): which task does the response follow?",
                 fontsize="medium")
    return fig


def plot_mechanism_comparison(result, pair: str | None = None):
    """P(task i) and P(neither) against the cue for every form, mechanisms overlaid."""
    pair, (ti, tj) = _pair_names(result, pair)
    forms = [f for f in ("blend", "weak", "noisy") if f in result.curves[pair]]
    fig, axes = plt.subplots(2, len(forms), figsize=(3.6 * len(forms), 5.6),
                             layout="constrained", squeeze=False, sharey="row")
    for col, form in enumerate(forms):
        for k, (mech, cur) in enumerate(result.curves[pair][form].items()):
            if not cur.seeds:
                continue
            _band(axes[0, col], cur.x, cur.p_i, _color(mech, k), mech)
            _band(axes[1, col], cur.x, cur.p_neither, _color(mech, k), mech)
        for row in range(2):
            axes[row, col].set_ylim(-0.02, 1.02)
            axes[row, col].set_xlabel(FORM_AXIS[form])
    axes[0, 0].set_ylabel(f"P(response follows {ti})")
    axes[1, 0].set_ylabel("P(follows neither task)")
    axes[0, -1].legend(fontsize="x-small", frameon=False)
    fig.suptitle(f"{ti} (i) vs {tj} (j): mechanisms compared (mean, 95 % band over seeds)",
                 fontsize="medium")
    return fig


def plot_summary_bars(result, metrics=("l50", "auc_half", "neither_mid", "s50", "noise_auc")):
    """Bars = mean over networks, error bars = 95 % t-interval, dots = networks; one panel per
    metric, bars grouped by pair."""
    metrics = [m for m in metrics if m in next(iter(next(iter(result.metrics.values())).values()))]
    pairs = list(result.metrics)
    mechs = list(result.config.mechanisms)
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.2 + 1.2 * len(pairs) * len(metrics)
                                                       + 0.4 * len(mechs), 3.4),
                             layout="constrained", squeeze=False)
    width = 0.8 / len(mechs)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for p, pair in enumerate(pairs):
            for k, mech in enumerate(mechs):
                values = np.asarray(result.metrics[pair][mech][metric], float)
                x = p + (k - (len(mechs) - 1) / 2) * width
                if values.size == 0:
                    continue
                mean, lo, hi = (float(v) for v in mean_ci(values))
                ax.bar(x, mean, width * 0.9, color=_color(mech, k), alpha=0.55,
                       label=mech if p == 0 else None)
                if not math.isnan(lo):  # every metric here lies in [0, 1]
                    ax.errorbar(x, mean, _yerr(mean, lo, hi, 0, 1), color="k", lw=1, capsize=2)
                ax.plot(np.full(values.size, x), values, "o", color=_color(mech, k), ms=3,
                        mec="k", mew=0.4)
        ax.set_xticks(range(len(pairs)), [p.replace("->", "→") for p in pairs],
                      rotation=15, fontsize="small")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric), fontsize="small")
        ax.set_xlabel("pair (i → j)", fontsize="small")
        ax.set_ylim(0, 1.05)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False, fontsize="small")
    fig.suptitle("Ambiguity summary per mechanism (mean, 95 % t-interval, dots = seeds)",
                 fontsize="medium")
    return fig


# ------------------------------------------------------------------------------- dynamics
def plot_dynamics_trajectories(dyn):
    """Per mechanism (first seed): trajectories of each task in the network's 3-PC space,
    with the fixed points under the fixation input (black = stable, red ring = unstable)."""
    mechs = list(dyn.examples)
    fig, axes = plt.subplots(1, len(mechs), figsize=(3.6 * len(mechs), 3.6),
                             layout="constrained", squeeze=False)
    for ax, mech in zip(axes[0], mechs, strict=True):
        ex = dyn.examples[mech]
        plot_pca_trajectories(ex.trajectories, ax=ax,
                              explained_variance_ratio=ex.explained_variance_ratio,
                              title=f"{mech}")
        for task, pts in ex.fixed_points.items():
            pts = np.asarray(pts).reshape(-1, 3)
            stable = np.asarray(ex.fixed_stable[task], bool)
            if len(pts):
                ax.scatter(pts[stable, 0], pts[stable, 1], s=40, c="k", marker="*", zorder=4)
                ax.scatter(pts[~stable, 0], pts[~stable, 1], s=40, facecolors="none",
                           edgecolors="C3", zorder=4)
        leg = ax.get_legend()
        if leg is not None and ax is not axes[0, 0]:
            leg.remove()
    fig.suptitle("Population trajectories per task (first seed; rates projected on 3 PCs; "
                 "stars: fixed points with the fixation input)", fontsize="medium")
    return fig


def plot_interpolation(dyn):
    """Fixed points as the context moves from task i (l = 0) to task j (l = 1).

    Top: fraction of trials whose branch continued from task i's decision attractor (left) /
    from task j's (middle) is a stable fixed point answering its own task; relative
    displacement of the resting fixed point (right). Bottom: the two branches of the first
    trial in the first seed's PC space (rates), coloured by l."""
    i, j = dyn.config.pair
    x = np.asarray(dyn.config.lambdas)
    mechs = list(dyn.per_network)
    ncol = max(len(mechs), 3)
    fig = plt.figure(figsize=(3.4 * ncol, 6.6), layout="constrained")
    grid = fig.add_gridspec(2, ncol)
    top = [fig.add_subplot(grid[0, k]) for k in range(3)]
    for k, mech in enumerate(mechs):
        color = _color(mech, k)
        nets = dyn.per_network[mech]
        _band(top[0], x, [nd.attractors("forward") for nd in nets], color, mech)
        _band(top[1], x, [nd.attractors("backward") for nd in nets], color, mech)
        rest = np.asarray([nd.rest_displacement for nd in nets], float)
        mean, lo, hi = mean_ci(rest)  # NaN (search did not converge) is left out
        top[2].plot(x, mean, color=color, label=f"{mech} (n={len(nets)})")
        if len(nets) > 1:
            top[2].fill_between(x, np.maximum(lo, 0), hi, color=color, alpha=0.2, lw=0)
    for ax, title in ((top[0], f"from {i}'s attractor (l = 0)"),
                      (top[1], f"from {j}'s attractor (l = 1)")):
        ax.set(xlabel=FORM_AXIS["blend"], ylim=(-0.02, 1.02), title=title)
        ax.set_ylabel("fraction of trials: stable fixed\npoint answering that task")
    if ncol > 3:  # the legend gets the free panel
        handles, labels = top[0].get_legend_handles_labels()
        free = fig.add_subplot(grid[0, 3])
        free.axis("off")
        free.legend(handles, labels, loc="center", frameon=False, title="mechanism")
    else:
        top[0].legend(fontsize="x-small", frameon=False)
    top[2].set(xlabel=FORM_AXIS["blend"], ylabel="$\\|x^*(l) - x^*(0)\\| / \\|x^*(0)\\|$",
               title="resting fixed point (fixation input)")
    top[2].set_ylim(bottom=0)
    cmap = plt.get_cmap("viridis")
    bottom = []
    for k, mech in enumerate(mechs):
        ax = fig.add_subplot(grid[1, k])
        bottom.append(ax)
        ex = dyn.examples.get(mech)
        if ex is None:
            continue
        for path, marker, size, name in ((ex.forward, "o", 70, f"continued from {i}"),
                                         (ex.backward, "s", 16, f"continued from {j}")):
            path = np.asarray(path)
            ax.plot(path[:, 0], path[:, 1], color="0.6", lw=0.8, zorder=1)
            ax.scatter(path[:, 0], path[:, 1], c=x, cmap=cmap, vmin=0, vmax=1, marker=marker,
                       s=size, label=name, zorder=2, edgecolors="k", linewidths=0.4)
        ax.set(xlabel="PC 1 of rates (a.u.)", ylabel="PC 2 of rates (a.u.)",
               title=f"{mech}: decision fixed point vs $l$")
        ax.legend(fontsize="x-small", frameon=False)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 1))
    fig.colorbar(sm, ax=bottom, label="blend $l$", shrink=0.8)
    fig.suptitle(f"Interpolating the context from {i} to {j} (decision-period input; mean, "
                 "95 % band over seeds)", fontsize="medium")
    return fig


def plot_dynamics_summary(dyn, metrics=("pr_mean", "overlap_pair", "attractor_i_l0",
                                        "bistable_fraction", "rest_stable_fraction")):
    """Per-mechanism bars (mean, 95 % t-interval, dots = seeds) of dynamics summaries."""
    labels = {"pr_mean": "participation ratio (dims)",
              "overlap_pair": "subspace overlap of the pair",
              "bistable_fraction": "bistable fraction of $l$ grid",
              "switch_forward": "$l$ where branch from $i$ switches",
              "attractor_i_l0": "trials with a stable decision\nfixed point ($l = 0$)",
              "rest_stable_fraction": "$l$ grid with a stable\nresting fixed point",
              "n_stable_mean": "stable fixed points per context",
              "angle_pair_min_deg": "smallest principal angle (deg)"}
    mechs = list(dyn.per_network)
    per = {m: dyn.per_seed(m) for m in mechs}
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.6 * len(metrics) + 0.5, 3.3),
                             layout="constrained", squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for k, mech in enumerate(mechs):
            values = np.asarray(per[mech][metric], float)
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                continue
            mean, lo, hi = (float(v) for v in mean_ci(finite))
            ax.bar(k, mean, 0.7, color=_color(mech, k), alpha=0.55)
            if not math.isnan(lo):  # the t-interval is not bounded; a fraction is
                bounds = (0, 1) if metric in FRACTIONS else (None, None)
                ax.errorbar(k, mean, _yerr(mean, lo, hi, *bounds), color="k", lw=1, capsize=2)
            ax.plot(np.full(finite.size, k), finite, "o", color=_color(mech, k), ms=3,
                    mec="k", mew=0.4)
        ax.set_xticks(range(len(mechs)), mechs, rotation=25, fontsize="small")
        ax.set_ylabel(labels.get(metric, metric), fontsize="small")
        ax.set_xlabel("mechanism", fontsize="small")
        ax.set_ylim(0, 1.05) if metric in FRACTIONS else ax.set_ylim(bottom=0)
    fig.suptitle("Dynamics per mechanism (mean, 95 % t-interval, dots = seeds)",
                 fontsize="medium")
    return fig
