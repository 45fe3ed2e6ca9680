"""Figures about the context pathways themselves (W1D2 Tutorial 4): what one more task costs
each mechanism, and how each pathway starts training (output gap between contexts, gradient).
Returns a Figure; nothing is shown."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .packing import MECH_COLORS

MECHANISMS = ("rule", "gain", "bias", "excitability", "synaptic", "combined")
MARKERS = {"rule": "o-", "gain": "v--", "bias": "^:", "excitability": "s-", "synaptic": "D--",
           "combined": "P-"}


def plot_budgets(params_fn, sizes: Sequence[int], rank: int = 1,
                 mechanisms: Sequence[str] = MECHANISMS):
    """Context parameters per task against network size N (log-log), one line per mechanism;
    ``params_fn(mechanism, n_hidden, rank) -> int`` counts them (e.g. a student's
    ``params_per_task``)."""
    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    for k, mech in enumerate(mechanisms):
        counts = [params_fn(mech, n, rank) for n in sizes]
        ax.plot(sizes, counts, MARKERS.get(mech, "o-"), color=MECH_COLORS.get(mech, f"C{k}"),
                ms=4, label=mech, alpha=0.85)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xticks(list(sizes), [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("network size N (recurrent units)")
    ax.set_ylabel("context parameters per task (count)")
    ax.set_title(f"What one more task costs (synaptic rank R = {rank})", fontsize=10)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def plot_init_probe(rows: Sequence[dict]):
    """Bars per mechanism and initial std of the context pathway: left, the mean output gap
    between two contexts on the same trials; right, the gradient norm of the context pathway
    on one batch. ``rows``: dicts with keys mechanism, init_std, output_gap, grad_norm."""
    mechs = list(dict.fromkeys(r["mechanism"] for r in rows))
    stds = list(dict.fromkeys(r["init_std"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    width = 0.8 / len(stds)
    panels = ((axes[0], "output_gap", "mean |y(go cue) - y(anti cue)|\n(output activity, a.u.)"),
              (axes[1], "grad_norm", "gradient norm of the context\npathway (dimensionless)"))
    for ax, key, label in panels:
        for j, std in enumerate(stds):
            values = [next(r[key] for r in rows if r["mechanism"] == m and r["init_std"] == std)
                      for m in mechs]
            ax.bar(np.arange(len(mechs)) + (j - (len(stds) - 1) / 2) * width, values, width * 0.9,
                   label=f"initial std {std:g}", color=f"C{7 + j}")
        ax.set_xticks(range(len(mechs)), mechs)
        ax.set_xlabel("context mechanism")
        ax.set_ylabel(label)
        ax.legend(fontsize=8, frameon=False)
    axes[0].set_title("how different the two tasks look at the start", fontsize=10)
    axes[1].set_title("how strongly the context pathway starts to learn", fontsize=10)
    return fig
