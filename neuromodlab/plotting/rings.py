"""Figures about ring-coded stimuli (W1D1 Tutorial 1).

- :func:`plot_bumps`: the bump of activity a stimulus evokes on rings of direction-tuned units.

Every function returns a matplotlib Figure and shows nothing, so it runs headless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def plot_bumps(bump_fn: Callable, angles: Sequence[float], n_rings: Sequence[int] = (8, 32)):
    """Activity of every unit of a ring for stimuli at ``angles`` (radians), one panel per ring
    size in ``n_rings``. ``bump_fn(angle (B,), n_ring) -> (B, n_ring)`` computes the bumps (the
    tutorial's ``ring_bump``); unit k prefers the direction 2 pi k / n_ring. Dotted lines mark
    the stimulus directions."""
    angles = [float(a) for a in angles]
    fig, axes = plt.subplots(1, len(n_rings), figsize=(5 * len(n_rings), 3.2), sharey=True,
                             layout="constrained", squeeze=False)
    axes = axes[0]
    for ax, n_ring in zip(axes, n_rings, strict=True):
        prefs = 2 * np.pi * np.arange(n_ring) / n_ring
        values = torch.as_tensor(bump_fn(torch.tensor(angles), n_ring)).float().numpy()
        for angle, row in zip(angles, values, strict=True):
            line, = ax.plot(prefs / np.pi, row, "o-", ms=3,
                            label=f"stimulus at {angle / np.pi:.2f} $\\pi$")
            ax.axvline(angle / np.pi, color=line.get_color(), ls=":", lw=1)
        ax.set_xlabel("preferred direction of the unit ($\\pi$ rad)")
        ax.set_title(f"n_ring = {n_ring} units")
    axes[0].set_ylabel("input activity (a.u.)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center", fontsize=8,
               frameon=False)
    return fig
