"""Demos: what a trained network's units and population do (W1D1 Tutorial 2).

The data first: :func:`collect_activity` runs a trained model on fresh trials of every task of
its :class:`~neuromodlab.tasks.TaskSet` and keeps the rates with each trial's stimulus condition
(the nearest of ``n_conditions`` directions) and epochs. Trials of a task have different epoch
durations, so a time step means something different in each trial until the trials are *aligned*
on an event (:func:`align_trials`, :func:`aligned_rates`); then trials of one condition can be
averaged (:func:`condition_average`: a PSTH for every unit).

The plain plotting functions (headless, return a Figure drawn by
:mod:`neuromodlab.plotting.activity`):

- :func:`show_psth(activity, task, unit, align)` -- one unit's PSTH per stimulus direction in one
  task, and its tuning curves in every task (Interactive Demo 4.1, :func:`psth_demo`);
- :func:`show_trajectories(activity, task, pcs, align)` -- condition-averaged population
  trajectories in the plane of two principal components and the PCs over time (Interactive
  Demo 4.2, :func:`trajectory_demo`).

Only widget APIs common to ipywidgets 7 and 8 are used (``interactive``, sliders, dropdowns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..analysis import pca
from ..plotting.activity import plot_pc_trajectories, plot_psth_tuning

# alignment event -> (epoch whose start it is, window before and after it in ms, tuning window)
ALIGNMENTS = {
    "stimulus onset": ("stimulus", 200.0, 500.0, (0.0, 200.0)),
    "go cue": ("decision", 600.0, 300.0, (100.0, 300.0)),
}
PC_PAIRS = {"PC 1 vs PC 2": (0, 1), "PC 1 vs PC 3": (0, 2), "PC 2 vs PC 3": (1, 2)}
ALL_TASKS = "all tasks"


@dataclass
class Activity:
    """Rates of a network on fresh trials of each task.

    rates: task -> (T, B, N); conditions: task -> (B,) long in [0, n_conditions) (the stimulus
    direction rounded to the nearest of n_conditions directions 2 pi k / n_conditions);
    angles: task -> (B,) stimulus angle (rad); epochs: task -> {epoch: (B, 2) [start, end)}.
    """

    task_names: tuple
    dt: float
    n_conditions: int
    rates: dict
    conditions: dict
    angles: dict
    epochs: dict

    @property
    def n_units(self) -> int:
        return next(iter(self.rates.values())).shape[-1]


def stimulus_condition(angle, n_conditions: int = 8) -> torch.Tensor:
    """The nearest of ``n_conditions`` equally spaced directions (index k for 2 pi k / C)."""
    angle = torch.as_tensor(angle, dtype=torch.float64)
    width = 2 * math.pi / n_conditions
    return torch.round(torch.remainder(angle, 2 * math.pi) / width).long() % n_conditions


def _stimulus_angle(batch) -> torch.Tensor:
    for key in ("stim_angle", "stim1_angle"):
        if key in batch.latent:
            return batch.latent[key]
    raise ValueError(f"tasks {batch.task_names} have no stimulus angle to condition on")


@torch.no_grad()
def collect_activity(model, taskset, n_trials: int = 128, seed: int = 0, n_conditions: int = 8,
                     noise: bool = False) -> Activity:
    """Run ``model`` on ``n_trials`` fresh trials of each task of ``taskset`` (trials of task k
    are drawn with seed ``seed + k``; recurrent noise off unless ``noise``)."""
    rates, conditions, angles, epochs = {}, {}, {}, {}
    for k, name in enumerate(taskset.names):
        batch = taskset.sample_task(name, n_trials, seed=seed + k)
        gen = torch.Generator().manual_seed(seed + k)
        out = model(batch.inputs, batch.context, generator=gen, noise=noise)
        angle = _stimulus_angle(batch)
        rates[name] = out.rates.detach()
        angles[name] = angle
        conditions[name] = stimulus_condition(angle, n_conditions)
        epochs[name] = {e: v.clone() for e, v in batch.epochs.items()}
    return Activity(tuple(taskset.names), float(taskset.config.dt), n_conditions, rates,
                    conditions, angles, epochs)


def align_trials(rates, onsets, before: int, after: int) -> torch.Tensor:
    """Cut a window of ``before + after`` steps around each trial's event.

    rates (T, B, N), onsets (B,) steps -> (before + after, B, N); row ``before`` is the event.
    """
    rates = torch.as_tensor(rates)
    onsets = torch.as_tensor(onsets).long().reshape(-1)
    T, B = rates.shape[:2]
    if onsets.shape != (B,):
        raise ValueError(f"onsets must be (B,) = ({B},), got {tuple(onsets.shape)}")
    if before < 0 or after < 1:
        raise ValueError(f"need before >= 0 and after >= 1, got {before}, {after}")
    if int(onsets.min()) - before < 0 or int(onsets.max()) + after > T:
        raise ValueError(f"a window of {before} steps before and {after} after the event does "
                         f"not fit in every trial (events at steps {int(onsets.min())} to "
                         f"{int(onsets.max())} of T = {T})")
    index = onsets[None, :] + torch.arange(-before, after)[:, None]  # (W, B)
    return rates[index, torch.arange(B)[None, :]]


def aligned_rates(activity: Activity, task: str, align: str = "stimulus onset"):
    """``(rates (W, B, N), t0 in ms)``: the task's trials aligned on ``align`` (a key of
    ``ALIGNMENTS``), with the largest window of the table that fits."""
    if align not in ALIGNMENTS:
        raise ValueError(f"align must be one of {list(ALIGNMENTS)}, got {align!r}")
    epoch, before_ms, after_ms, _ = ALIGNMENTS[align]
    rates = activity.rates[task]
    onsets = activity.epochs[task][epoch][:, 0]
    T = rates.shape[0]
    before = min(round(before_ms / activity.dt), int(onsets.min()))
    after = min(round(after_ms / activity.dt), T - int(onsets.max()))
    return align_trials(rates, onsets, before, after), -before * activity.dt


def condition_average(rates, conditions, n_conditions: int) -> torch.Tensor:
    """Mean rate per condition: rates (T, B, N), conditions (B,) -> (T, C, N) (NaN if a condition
    has no trials)."""
    rates = torch.as_tensor(rates)
    onehot = torch.nn.functional.one_hot(torch.as_tensor(conditions).long(),
                                         n_conditions).to(rates.dtype)
    sums = torch.einsum("tbn,bc->tcn", rates, onehot)
    return sums / onehot.sum(0)[None, :, None]


def psths(activity: Activity, align: str = "stimulus onset"):
    """``({task: (W, C, N)}, t0 in ms)``: every task's PSTHs on a common window."""
    windows = {name: aligned_rates(activity, name, align) for name in activity.task_names}
    dt = activity.dt
    t_start = max(t for _, t in windows.values())  # the shortest window before the event
    t_end = min(t + r.shape[0] * dt for r, t in windows.values())
    length = round((t_end - t_start) / dt)
    out = {}
    for name, (rates, t) in windows.items():
        start = round((t_start - t) / dt)
        out[name] = condition_average(rates[start:start + length], activity.conditions[name],
                                      activity.n_conditions)
    t0 = t_start
    return out, t0


def tuning_curves(activity: Activity, unit: int, align: str = "stimulus onset") -> dict:
    """task -> (C,) mean rate of ``unit`` in the alignment's tuning window, per direction."""
    lo, hi = ALIGNMENTS[align][3]
    curves = {}
    for name in activity.task_names:
        rates, t0 = aligned_rates(activity, name, align)
        t = t0 + activity.dt * np.arange(rates.shape[0])
        keep = torch.from_numpy((t >= lo) & (t < hi))
        mean = condition_average(rates[keep], activity.conditions[name], activity.n_conditions)
        curves[name] = mean[:, :, unit].mean(0)
    return curves


def _check_unit(activity: Activity, unit) -> int:
    unit = int(unit)
    if not 0 <= unit < activity.n_units:
        raise ValueError(f"unit must be in [0, {activity.n_units}), got {unit}")
    return unit


def show_psth(activity: Activity, task: str, unit: int, align: str = "stimulus onset"):
    """Left: the PSTH of ``unit`` in ``task`` (one line per stimulus direction), aligned on
    ``align``. Right: the unit's tuning curve in every task (mean rate in the tuning window)."""
    unit = _check_unit(activity, unit)
    if task not in activity.task_names:
        raise ValueError(f"task must be one of {list(activity.task_names)}, got {task!r}")
    rates, t0 = aligned_rates(activity, task, align)
    mean = condition_average(rates, activity.conditions[task], activity.n_conditions)
    return plot_psth_tuning(mean[:, :, unit], tuning_curves(activity, unit, align), activity.dt,
                            t0, unit=unit, task=task, align=align, window=ALIGNMENTS[align][3])


def show_trajectories(activity: Activity, task: str = ALL_TASKS, pcs: str = "PC 1 vs PC 2",
                      align: str = "stimulus onset"):
    """Condition-averaged trajectories (aligned on ``align``) projected on principal components:
    those of all tasks together (``task = "all tasks"``, one colour per task) or of one task
    alone (one colour per stimulus direction). Left: the plane of two PCs. Right: those PCs over
    time, one line per stimulus direction."""
    if pcs not in PC_PAIRS:
        raise ValueError(f"pcs must be one of {list(PC_PAIRS)}, got {pcs!r}")
    if task != ALL_TASKS and task not in activity.task_names:
        raise ValueError(f"task must be {ALL_TASKS!r} or one of {list(activity.task_names)}")
    means, t0 = psths(activity, align)
    shown = activity.task_names if task == ALL_TASKS else (task,)
    stacked = torch.stack([means[n] for n in shown], 1)  # (W, K, C, N)
    fit = pca(stacked.reshape(-1, stacked.shape[-1]), n_components=3)
    proj = {n: fit.transform(means[n]) for n in shown}  # (W, C, 3)
    return plot_pc_trajectories(proj, activity.dt, t0, dims=PC_PAIRS[pcs],
                                explained_variance_ratio=fit.explained_variance_ratio,
                                align=align, by_direction=task != ALL_TASKS)


def _show(fig) -> None:
    from IPython.display import display

    display(fig)
    plt.close(fig)


def psth_demo(activity: Activity, task: str | None = None, unit: int = 0):
    """An ``ipywidgets.interactive`` around :func:`show_psth`: task, unit and alignment."""
    import ipywidgets as widgets

    names = list(activity.task_names)
    return widgets.interactive(
        lambda task, unit, align: _show(show_psth(activity, task, unit, align)),
        task=widgets.Dropdown(options=names, value=task or names[0], description="task"),
        unit=widgets.IntSlider(value=int(unit), min=0, max=activity.n_units - 1, step=1,
                               description="unit", continuous_update=False),
        align=widgets.Dropdown(options=list(ALIGNMENTS), value="stimulus onset",
                               description="align on"),
    )


def trajectory_demo(activity: Activity):
    """An ``ipywidgets.interactive`` around :func:`show_trajectories`."""
    import ipywidgets as widgets

    return widgets.interactive(
        lambda task, pcs, align: _show(show_trajectories(activity, task, pcs, align)),
        task=widgets.Dropdown(options=[ALL_TASKS, *activity.task_names], value=ALL_TASKS,
                              description="show"),
        pcs=widgets.Dropdown(options=list(PC_PAIRS), value="PC 1 vs PC 2", description="plane"),
        align=widgets.Dropdown(options=list(ALIGNMENTS), value="stimulus onset",
                               description="align on"),
    )
