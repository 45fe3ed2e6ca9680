"""Figures of W1D2 Tutorial 5 (dynamics of the two pathways): the descent of the fixed-point
speed, fixed points per context, and a fixed point followed as the context is blended.

They build on :func:`neuromodlab.plotting.dynamics.plot_fixed_points` (filled = stable, open =
unstable). Points and trajectories are rates projected on a network's principal components.
Returns a Figure; nothing is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D

from .dynamics import _figure, _np, plot_fixed_points


def _rate_pc_labels(ax, explained_variance_ratio=None) -> None:
    for d, set_label in enumerate((ax.set_xlabel, ax.set_ylabel)):
        unit = "a.u." if explained_variance_ratio is None else \
            f"{100 * float(explained_variance_ratio[d]):.0f}% var."
        set_label(f"PC {d + 1} of rates ({unit})")


def plot_speed_descent(history, ax=None):
    """Mean fixed-point speed q(x) at every gradient-descent step (log scale)."""
    fig, ax = _figure(ax, (5, 3.2))
    ax.semilogy(np.arange(len(history)), _np(history), "k")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("mean speed q(x) (a.u.)")
    ax.set_title("Descending the speed function")
    return fig


def plot_context_fixed_points(points, stable, contexts: Sequence[str], trajectories=None,
                              ax=None, title: str | None = None, explained_variance_ratio=None):
    """Fixed points ``(M, D)`` with their stability ``(M,)``, each labelled by the context it
    belongs to (``contexts``: M names); trajectories ``(T, B, D)`` in grey behind them."""
    fig = plot_fixed_points(points, stable, trajectories=trajectories, ax=ax, title=title)
    ax = ax or fig.axes[0]
    for xy, name in zip(_np(points)[:, :2], contexts, strict=True):
        ax.annotate(f"{name} context", xy, textcoords="offset points", xytext=(6, 6),
                    fontsize="small")
    _rate_pc_labels(ax, explained_variance_ratio)
    return fig


def plot_interpolation_step(lambdas, trajectories, fixed_points, stable, k: int,
                            explained_variance_ratio=None, ax=None, title: str | None = None):
    """A fixed point followed along the blend grid ``lambdas`` (L values): at grid point ``k``
    the trial's trajectory (grey) and the fixed points (filled = stable, open = unstable);
    faint dots: the fixed points at the other grid points, coloured from blue (l = 0) to red
    (l = 1). ``trajectories``, ``fixed_points``, ``stable``: per grid point, ``(T, D)``,
    ``(M_l, D)`` and ``(M_l,)``."""
    fig = plot_fixed_points(fixed_points[k], stable[k], trajectories=trajectories[k], ax=ax,
                            title=title)
    ax = ax or fig.axes[0]
    for kk, (fp, lam) in enumerate(zip(fixed_points, lambdas, strict=True)):
        if kk != k:
            fp = _np(fp)
            ax.scatter(fp[:, 0], fp[:, 1], s=20, color=plt.cm.coolwarm(float(lam)), alpha=0.35,
                       zorder=2)
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[Line2D([], [], color="0.6", lw=0.8, label="the trial's trajectory"),
                       *handles], fontsize="small", frameon=False)
    fig.colorbar(ScalarMappable(Normalize(0.0, 1.0), "coolwarm"), ax=ax, alpha=0.35,
                 label="l of the faint fixed points")
    _rate_pc_labels(ax, explained_variance_ratio)
    return fig
