"""Figure of one trial of a task batch: inputs, targets and loss mask against time (ms).

Works headless (nothing is shown); returns the matplotlib Figure.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

_EPOCH_COLORS = ("#f2f2f2", "#ffffff")


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _epochs(batch, index: int) -> list:
    """[(name, start ms, end ms)] of the trial in time order; epochs with the same span (the
    stimulus and decision of reaction-time tasks) are merged, absent ones (-1) skipped."""
    spans = {}
    for name, start_end in batch.epochs.items():
        start, end = (int(v) for v in start_end[index])
        if start >= 0:
            spans.setdefault((start, end), []).append(name)
    return [("/".join(names), start * batch.dt, end * batch.dt)
            for (start, end), names in sorted(spans.items())]


def _ring_image(ax, values: np.ndarray, T: int, dt: float, vmin: float, vmax: float):
    """values (T, n) as an image: time (ms) on x, preferred direction (deg) on y."""
    n = values.shape[1]
    image = ax.imshow(values.T, aspect="auto", origin="lower", interpolation="nearest",
                      cmap="viridis", vmin=vmin, vmax=vmax,
                      extent=(0, T * dt, -180 / n, 360 - 180 / n))
    ax.set_yticks([0, 90, 180, 270])
    ax.set_ylabel("pref. dir. (deg)")
    return image


def plot_trial(batch, index: int = 0, fig=None):
    """Plot trial ``index`` of a Batch: fixation input and target, ring 1 and ring 2 inputs,
    response-ring target, and the loss mask, with the trial's epochs marked. ``fig``: draw into
    this Figure (cleared) instead of a new one. Returns the Figure."""
    B = batch.batch_size
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -B <= index < B:
        raise ValueError(f"index must be an int in [0, {B}), got {index!r}")
    index = int(index) % B
    T, dt = batch.T, batch.dt
    n = batch.targets.shape[2] - 1
    x, y, m = (_np(a[:, index]) for a in (batch.inputs, batch.targets, batch.mask))
    edges = np.arange(T + 1) * dt
    task = batch.task_names[int(batch.task_ids[index])]
    epochs = _epochs(batch, index)

    if fig is None:
        fig = plt.figure(figsize=(8, 8.5), layout="constrained")
    else:
        fig.clear()
    axes = fig.subplots(5, 1, sharex=True, height_ratios=[1.1, 1, 1, 1, 0.9])
    ax_fix, ax_r1, ax_r2, ax_out, ax_mask = axes

    line = dict(baseline=None, lw=1.5)
    ax_fix.stairs(x[:, 0], edges, color="k", label="fixation input", **line)
    ax_fix.stairs(y[:, 0], edges, color="tab:orange", ls="--", label="fixation target", **line)
    ax_fix.set(ylim=(-0.1, 1.25), ylabel="fixation")
    ax_fix.legend(loc="center left", fontsize=8, ncols=2, frameon=False)

    lo, hi = min(0.0, float(x[:, 1:].min())), max(1.0, float(x[:, 1:].max()))
    image = _ring_image(ax_r1, x[:, 1:1 + n], T, dt, lo, hi)
    _ring_image(ax_r2, x[:, 1 + n:], T, dt, lo, hi)
    ax_r1.set_title("ring 1 input (modality 1)", fontsize=9, loc="left")
    ax_r2.set_title("ring 2 input (modality 2)", fontsize=9, loc="left")
    fig.colorbar(image, ax=[ax_r1, ax_r2], label="input", shrink=0.9)
    target_image = _ring_image(ax_out, y[:, 1:], T, dt, 0.0, 0.9)
    ax_out.set_title("response-ring target", fontsize=9, loc="left")
    fig.colorbar(target_image, ax=ax_out, label="target")

    ax_mask.stairs(m[:, 0], edges, color="tab:orange", label="fixation output", **line)
    ax_mask.stairs(m[:, 1], edges, color="tab:blue", ls="--", label="ring outputs", **line)
    ax_mask.set(ylabel="loss weight", xlabel="time (ms)", ylim=(-0.5, 1.15 * max(1.0, m.max())))
    ax_mask.legend(loc="upper left", fontsize=8, frameon=False)

    for i, (name, start, end) in enumerate(epochs):
        for ax in (ax_fix, ax_mask):
            ax.axvspan(start, end, color=_EPOCH_COLORS[i % 2], zorder=0)
        for ax in axes:
            ax.axvline(start, color="0.4", lw=0.8, ls=":")
        ax_fix.text((start + end) / 2, 1.12, name, ha="center", va="center", fontsize=8)
    ax_mask.set_xlim(0, T * dt)

    if bool(batch.fixate[index]):
        goal = "keep fixating"
    else:
        goal = f"respond toward {math.degrees(float(batch.target_angle[index])):.0f} deg"
    fig.suptitle(f"{task}: trial {index} ({goal})")
    return fig
