"""Figures about training: loss and per-task performance over steps."""

from __future__ import annotations

import matplotlib.pyplot as plt


def plot_history(history, criterion: float | None = 0.9, axes=None):
    """Loss (log scale) and per-task performance of a :class:`~neuromodlab.train.History`."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    else:
        fig = axes[0].figure
    ax_loss, ax_perf = axes
    ax_loss.plot(history.steps, history.loss, lw=0.8, color="0.3")
    ax_loss.set(xlabel="training step", ylabel="masked MSE loss", yscale="log",
                title="loss")
    for name, values in history.performance.items():
        ax_perf.plot(history.eval_steps, values, marker="o", ms=3, label=name)
    if criterion is not None:
        ax_perf.axhline(criterion, color="grey", ls="--", lw=1, label="criterion")
    ax_perf.set(xlabel="training step", ylabel="fraction correct", ylim=(-0.02, 1.02),
                title="performance per task")
    ax_perf.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_outputs(outputs, batch, index=0, ax=None):
    """Network output against target for one trial: fixation unit and response-ring heatmap."""
    import numpy as np

    if ax is None:
        fig, ax = plt.subplots(1, 3, figsize=(10, 3))
    else:
        fig = ax[0].figure
    out = outputs.detach()[:, index].cpu().numpy()
    tgt = batch.targets[:, index].cpu().numpy()
    t_ms = np.arange(out.shape[0]) * batch.dt
    ax[0].plot(t_ms, tgt[:, 0], "k--", label="target")
    ax[0].plot(t_ms, out[:, 0], color="C1", label="output")
    ax[0].set(xlabel="time (ms)", ylabel="fixation output", title="fixation unit")
    ax[0].legend(frameon=False, fontsize=8)
    extent = (0, t_ms[-1] + batch.dt, 0, 360)
    for a, data, title in ((ax[1], tgt[:, 1:], "target ring"), (ax[2], out[:, 1:], "output ring")):
        im = a.imshow(data.T, aspect="auto", origin="lower", extent=extent, vmin=0, vmax=1,
                      cmap="viridis")
        a.set(xlabel="time (ms)", ylabel="preferred direction (deg)", title=title)
    fig.colorbar(im, ax=ax[2], label="activity (a.u.)")
    name = batch.task_names[int(batch.task_ids[index])]
    fig.suptitle(f"{name}, trial {index}")
    fig.tight_layout()
    return fig
