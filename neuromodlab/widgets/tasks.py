"""Demo: what one trial of a task looks like, as data (W1D1 Tutorial 1, Interactive Demo 1.2).

``show_trial(task, seed, dt)`` generates one trial and draws it with
:func:`neuromodlab.plotting.plot_trial` (inputs, targets and loss mask, epochs marked); it returns
the Figure and shows nothing, so it runs headless. ``trial_demo()`` wraps it in a dropdown of
tasks, a seed slider and a dropdown of time steps.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from .. import tasks
from ..plotting.trials import plot_trial

DT_CHOICES = (10.0, 20.0, 50.0)
SEED_RANGE = (0, 20)


def show_trial(task: str = "go", seed: int = 0, dt: float = 20.0, n_ring: int = 8,
               stim_noise: float = 0.1):
    """One trial of ``task`` (trial drawn with ``seed``, time step ``dt`` ms) as the network sees
    it, with the input noise it really gets. Returns the Figure."""
    config = tasks.TaskConfig(n_ring=n_ring, dt=float(dt), stim_noise=stim_noise)
    batch = tasks.generate(task, 1, config, seed=int(seed))
    fig = plot_trial(batch, 0)
    if bool(batch.fixate[0]):
        goal = "keep fixating"
    else:
        goal = f"respond toward {math.degrees(float(batch.target_angle[0])):.0f} deg"
    fig.suptitle(f"{task}, seed {int(seed)}, dt = {config.dt:g} ms: {goal}")
    return fig


def trial_demo(task: str = "go"):
    """An ``ipywidgets.interactive`` around :func:`show_trial`: task, seed and dt controls."""
    import ipywidgets as widgets
    from IPython.display import display

    def update(task, seed, dt):
        fig = show_trial(task, seed, dt)
        display(fig)
        plt.close(fig)

    return widgets.interactive(
        update,
        task=widgets.Dropdown(options=list(tasks.TASK_NAMES), value=task, description="task"),
        seed=widgets.IntSlider(value=0, min=SEED_RANGE[0], max=SEED_RANGE[1], step=1,
                               description="seed", continuous_update=False),
        dt=widgets.Dropdown(options=list(DT_CHOICES), value=20.0, description="dt (ms)"),
    )
