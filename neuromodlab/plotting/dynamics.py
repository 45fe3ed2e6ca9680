"""Figures for population dynamics: PCA trajectories, subspace overlap, fixed points, dimensions.

(Task variance is drawn by :func:`neuromodlab.plotting.rule.plot_task_variance`.)

Every function takes torch tensors or numpy arrays, draws on ``ax`` (a new figure if None) and
returns the Figure; nothing is shown, so they run headless. Shapes as in
:mod:`neuromodlab.analysis`: trajectories ``(T, B, D)`` or ``(T, D)`` in PC coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _figure(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def _trials(traj, name: str) -> np.ndarray:
    """``(T, D)`` or ``(T, B, D)`` -> ``(T, B, D)`` with D >= 2."""
    traj = _np(traj)
    traj = traj[:, None, :] if traj.ndim == 2 else traj
    if traj.ndim != 3 or traj.shape[-1] < 2:
        raise ValueError(f"{name} must be (T, D) or (T, B, D) with D >= 2, got shape {traj.shape}")
    return traj


def _pc_labels(ax, dims, ratio=None) -> None:
    for set_label, d in ((ax.set_xlabel, dims[0]), (ax.set_ylabel, dims[1])):
        unit = f"{100 * float(ratio[d]):.0f}% var." if ratio is not None else "a.u."
        set_label(f"PC {d + 1} ({unit})")


def _start_end_legend(handles: list) -> list:
    return handles + [
        Line2D([], [], color="k", marker="o", mfc="white", ls="", label="start"),
        Line2D([], [], color="k", marker="s", ls="", label="end"),
    ]


def plot_pca_trajectories(
    proj, labels=None, ax=None, *, dims=(0, 1), explained_variance_ratio=None, title=None
):
    """Trajectories in the plane of two principal components; open circle = start, square = end.

    ``proj``: ``(T, B, D)`` projections (e.g. ``PCA.transform(rates)``), coloured by the
    per-trial ``labels`` ``(B,)`` (task names or ids) if given; or a mapping name -> ``(T, B, D)``
    / ``(T, D)``, one colour per name. ``explained_variance_ratio`` adds % variance to the axes.
    """
    fig, ax = _figure(ax, (5, 4.5))
    if isinstance(proj, Mapping):
        groups = [(str(name), _trials(t, f"proj[{name!r}]")) for name, t in proj.items()]
    else:
        traj = _trials(proj, "proj")
        if labels is None:
            groups = [(None, traj)]
        else:
            labels = np.asarray(labels)
            if labels.shape != (traj.shape[1],):
                raise ValueError(f"labels must be (B,) = ({traj.shape[1]},), got {labels.shape}")
            groups = [(str(lab), traj[:, labels == lab]) for lab in dict.fromkeys(labels.tolist())]
    i, j = dims
    handles = []
    for k, (name, traj) in enumerate(groups):
        color = f"C{k % 10}"
        ax.plot(traj[:, :, i], traj[:, :, j], color=color, lw=1, alpha=0.7)
        ax.plot(traj[0, :, i], traj[0, :, j], "o", color=color, mfc="white", ms=6)
        ax.plot(traj[-1, :, i], traj[-1, :, j], "s", color=color, ms=6)
        if name is not None:
            handles.append(Line2D([], [], color=color, label=name))
    _pc_labels(ax, dims, explained_variance_ratio)
    ax.legend(handles=_start_end_legend(handles), fontsize="small", frameon=False)
    ax.set_title(title or "Population trajectories")
    return fig


def plot_principal_angles(
    matrix, names: Sequence[str], ax=None, *, kind: str = "overlap", title=None
):
    """Heatmap between task subspaces: ``kind="overlap"`` takes the mean cos^2 of the principal
    angles (``analysis.subspace_overlap_matrix``, 0 to 1); ``kind="angle"`` takes radians."""
    m = _np(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(names):
        raise ValueError(
            f"matrix must be (K, K) with K = len(names) = {len(names)}, got shape {m.shape}"
        )
    if kind == "overlap":
        vmax, label = 1.0, r"subspace overlap (mean $\cos^2\theta$)"
    elif kind == "angle":
        m, vmax, label = np.degrees(m), 90.0, "principal angle (deg)"
    else:
        raise ValueError(f"kind must be 'overlap' or 'angle', got {kind!r}")
    K = len(names)
    fig, ax = _figure(ax, (1.2 + 0.6 * K, 0.6 + 0.6 * K))
    im = ax.imshow(m, vmin=0.0, vmax=vmax, cmap="viridis")
    for a in range(K):
        for b in range(K):
            txt = f"{m[a, b]:.2f}" if kind == "overlap" else f"{m[a, b]:.0f}"
            ax.text(
                b,
                a,
                txt,
                ha="center",
                va="center",
                fontsize="small",
                color="w" if m[a, b] < 0.6 * vmax else "k",
            )
    ax.set_xticks(range(K), names, rotation=45, ha="right")
    ax.set_yticks(range(K), names)
    ax.set_xlabel("task subspace")
    ax.set_ylabel("task subspace")
    fig.colorbar(im, ax=ax, label=label)
    ax.set_title(title or "Overlap of task subspaces")
    return fig


def plot_fixed_points(points_proj, stable, trajectories=None, ax=None, *, dims=(0, 1), title=None):
    """Fixed points in PC space: filled = stable, open = unstable; optional trajectories
    ``(T, B, D)`` or ``(T, D)`` drawn behind them in grey (open circle = start)."""
    pts = _np(points_proj)
    pts = pts[None] if pts.ndim == 1 else pts
    stable = np.asarray(_np(stable), dtype=bool).reshape(-1)
    if pts.ndim != 2 or pts.shape[1] < 2 or stable.shape != (pts.shape[0],):
        raise ValueError(
            f"points_proj must be (M, D>=2) with stable (M,), got {pts.shape} and {stable.shape}"
        )
    fig, ax = _figure(ax, (5, 4.5))
    i, j = dims
    if trajectories is not None:
        traj = _trials(trajectories, "trajectories")
        ax.plot(traj[:, :, i], traj[:, :, j], color="0.6", lw=0.8, alpha=0.6, zorder=1)
        ax.plot(traj[0, :, i], traj[0, :, j], "o", color="0.5", mfc="white", ms=4, zorder=1)
    ax.scatter(pts[stable, i], pts[stable, j], s=50, c="k", label="stable", zorder=3)
    ax.scatter(
        pts[~stable, i],
        pts[~stable, j],
        s=50,
        facecolors="white",
        edgecolors="C3",
        lw=1.5,
        label="unstable",
        zorder=3,
    )
    _pc_labels(ax, dims)
    ax.legend(fontsize="small", frameon=False)
    ax.set_title(
        title or f"Fixed points ({int(stable.sum())} stable, {int((~stable).sum())} unstable)"
    )
    return fig


def plot_participation(
    values: Mapping[str, float | Sequence[float]], ax=None, *, ylabel=None, title=None
):
    """Participation ratio per condition (e.g. mechanism): bar = mean, dots = seeds."""
    fig, ax = _figure(ax, (1.5 + 0.9 * len(values), 3.5))
    for k, vals in enumerate(values.values()):
        v = np.atleast_1d(_np(vals))
        ax.bar(k, v.mean(), color=f"C{k % 10}", alpha=0.5, width=0.6)
        jitter = np.linspace(-0.12, 0.12, len(v)) if len(v) > 1 else np.zeros(1)
        ax.plot(k + jitter, v, "o", color=f"C{k % 10}", ms=5)
    ax.set_xticks(range(len(values)), list(values), rotation=20)
    ax.set_xlabel("condition")
    ax.set_ylabel(ylabel or "participation ratio (dimensions)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "Dimensionality")
    return fig
