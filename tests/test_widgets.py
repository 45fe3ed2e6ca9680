"""The functions behind each widget run headless for several slider values (issue 3, test 7),
and the widgets use only controls common to ipywidgets 7 and 8."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from neuromodlab import tasks
from neuromodlab.widgets import tasks as wtasks

# every dt choice, both ends of the seed slider, tasks with 2 to 5 epochs
SLIDER_VALUES = list(zip(
    ["go", "dlyanti", "rtgo", "dms", "ctxdm2", "dnmc"],
    [wtasks.SEED_RANGE[0], 7, wtasks.SEED_RANGE[1]] * 2,
    list(wtasks.DT_CHOICES) * 2,
    strict=True,
))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("task", tasks.TASK_NAMES)
def test_show_trial_every_task(task):
    fig = wtasks.show_trial(task, seed=0, dt=20.0)
    assert isinstance(fig, matplotlib.figure.Figure)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 5  # fixation, ring 1, ring 2, response-ring target, loss mask
    assert task in fig._suptitle.get_text()


@pytest.mark.parametrize("task, seed, dt", SLIDER_VALUES)
def test_show_trial_slider_values(task, seed, dt):
    fig = wtasks.show_trial(task, seed, dt)
    ring1 = fig.axes[1].get_images()[0].get_array()
    n_steps = tasks.task_info(task).n_steps(tasks.TaskConfig(dt=dt))
    assert ring1.shape == (8, n_steps)  # ring units x time steps, as generated at that dt
    assert f"seed {seed}" in fig._suptitle.get_text()
    assert np.isfinite(np.asarray(ring1)).all()
    fig.canvas.draw()


def test_show_trial_is_deterministic_in_the_seed():
    a = wtasks.show_trial("go", 3, 20.0).axes[1].get_images()[0].get_array()
    b = wtasks.show_trial("go", 3, 20.0).axes[1].get_images()[0].get_array()
    c = wtasks.show_trial("go", 4, 20.0).axes[1].get_images()[0].get_array()
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_trial_demo_builds_and_updates_headless():
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = wtasks.trial_demo("dlygo")
    assert isinstance(demo, ipywidgets.interactive)
    controls = {w.description: w for w in demo.children if hasattr(w, "description")}
    assert isinstance(controls["task"], ipywidgets.Dropdown)
    assert list(controls["task"].options) == list(tasks.TASK_NAMES)
    assert isinstance(controls["seed"], ipywidgets.IntSlider)
    assert (controls["seed"].min, controls["seed"].max) == wtasks.SEED_RANGE
    assert isinstance(controls["dt (ms)"], ipywidgets.Dropdown)
    # only controls that exist with the same meaning in ipywidgets 7 and 8
    allowed = (ipywidgets.Dropdown, ipywidgets.IntSlider, ipywidgets.FloatSlider,
               ipywidgets.Output)
    assert all(isinstance(w, allowed) for w in demo.children)
    for task, seed, dt in [("anti", 2, 10.0), ("dnms", 20, 50.0)]:
        controls["task"].value, controls["seed"].value, controls["dt (ms)"].value = task, seed, dt
        demo.update()  # what a slider move does; raises if the plotting function fails
    assert plt.get_fignums() == []  # each update closes its figure
