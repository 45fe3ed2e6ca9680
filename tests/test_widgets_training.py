"""W1D1 Tutorial 2: the demos' plain functions run headless for several control values, the
activity helpers agree with loops, the figures have labelled axes, and the tutorial's self-checks
accept the reference implementations and reject broken ones with a friendly message."""

from __future__ import annotations

import copy
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from neuromodlab import tasks
from neuromodlab.checks import training as checks
from neuromodlab.modulation import build_model
from neuromodlab.plotting import activity as pact
from neuromodlab.widgets import training as wt

TASKS = ("go", "anti", "dlygo")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def taskset():
    return tasks.TaskSet(list(TASKS), tasks.TaskConfig(n_ring=8, dt=20.0))


@pytest.fixture(scope="module")
def activity(taskset):
    torch.manual_seed(0)
    model = build_model("rule", taskset.n_in, taskset.n_out, taskset.K, n_hidden=12, seed=3,
                        init="gaussian", w_rec_gain=0.8)
    return wt.collect_activity(model, taskset, n_trials=48, seed=1)


def _labelled(fig):
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>" or not ax.has_data():
            continue
        assert ax.get_xlabel() and ax.get_ylabel(), f"unlabelled axes: {ax.get_title()!r}"


# --- data helpers ------------------------------------------------------------------------------


def test_stimulus_condition_rounds_to_the_nearest_direction():
    angles = torch.tensor([0.0, 2 * math.pi - 0.1, math.pi, math.pi / 4 + 0.3, -math.pi / 2,
                           4 * math.pi + math.pi / 2])
    assert wt.stimulus_condition(angles, 8).tolist() == [0, 0, 4, 1, 6, 2]
    assert wt.stimulus_condition(angles, 4).tolist() == [0, 0, 2, 1, 3, 1]


def test_collect_activity_shapes_and_conditions(activity, taskset):
    assert activity.task_names == TASKS and activity.n_units == 12
    for name in TASKS:
        assert activity.rates[name].shape == (taskset.T, 48, 12)
        assert activity.conditions[name].shape == (48,)
        assert torch.equal(activity.conditions[name],
                           wt.stimulus_condition(activity.angles[name], 8))
        assert (activity.rates[name] >= 0).all()  # ReLU rates


def test_align_trials_matches_a_loop():
    g = torch.Generator().manual_seed(0)
    rates = torch.rand(20, 5, 3, generator=g)
    onsets = torch.tensor([4, 7, 10, 5, 6])
    out = wt.align_trials(rates, onsets, before=3, after=6)
    assert out.shape == (9, 5, 3)
    for b, onset in enumerate(onsets.tolist()):
        assert torch.equal(out[:, b], rates[onset - 3:onset + 6, b])
    with pytest.raises(ValueError, match="does not fit"):
        wt.align_trials(rates, onsets, before=5, after=3)
    with pytest.raises(ValueError, match="onsets"):
        wt.align_trials(rates, onsets[:3], before=1, after=1)


@pytest.mark.parametrize("align", list(wt.ALIGNMENTS))
def test_aligned_rates_put_the_event_at_time_zero(activity, align):
    epoch = wt.ALIGNMENTS[align][0]
    for name in TASKS:
        rates, t0 = wt.aligned_rates(activity, name, align)
        row = round(-t0 / activity.dt)
        onsets = activity.epochs[name][epoch][:, 0]
        expected = activity.rates[name][onsets, torch.arange(len(onsets))]
        assert torch.equal(rates[row], expected)


def test_condition_average_agrees_with_the_reference():
    g = torch.Generator().manual_seed(1)
    rates = torch.rand(6, 40, 4, generator=g)
    conditions = torch.randint(0, 5, (40,), generator=g)
    conditions[:5] = torch.arange(5)
    assert torch.allclose(wt.condition_average(rates, conditions, 5),
                          checks.reference_condition_average(rates, conditions, 5), atol=1e-6)


@pytest.mark.parametrize("align", list(wt.ALIGNMENTS))
def test_psths_share_one_window(activity, align):
    means, t0 = wt.psths(activity, align)
    shapes = {m.shape for m in means.values()}
    assert len(shapes) == 1
    W, C, N = shapes.pop()
    assert C == 8 and N == 12 and W > 5 and t0 < 0
    assert all(torch.isfinite(m).all() for m in means.values())


# --- demo functions for several control values --------------------------------------------------


@pytest.mark.parametrize("task, unit, align", [
    ("go", 0, "stimulus onset"), ("anti", 5, "go cue"), ("dlygo", 11, "stimulus onset"),
    ("dlygo", 3, "go cue"),
])
def test_show_psth(activity, task, unit, align):
    fig = wt.show_psth(activity, task, unit, align)
    assert isinstance(fig, matplotlib.figure.Figure)
    psth_ax, tuning_ax = fig.axes[:2]
    assert len(psth_ax.get_lines()) >= 8  # one line per direction (+ the event line)
    assert len(tuning_ax.get_lines()) == len(TASKS)
    assert f"unit {unit}" in psth_ax.get_title() and task in psth_ax.get_title()
    for line in psth_ax.get_lines()[:8]:
        assert np.isfinite(line.get_ydata()).all()
    _labelled(fig)
    fig.canvas.draw()


def test_show_psth_changes_with_the_unit(activity):
    a = wt.show_psth(activity, "go", 0).axes[1].get_lines()[0].get_ydata()
    b = wt.show_psth(activity, "go", 1).axes[1].get_lines()[0].get_ydata()
    assert not np.allclose(a, b)


def test_show_psth_rejects_bad_controls(activity):
    with pytest.raises(ValueError, match="unit"):
        wt.show_psth(activity, "go", 12)
    with pytest.raises(ValueError, match="task"):
        wt.show_psth(activity, "dms", 0)
    with pytest.raises(ValueError, match="align"):
        wt.show_psth(activity, "go", 0, "trial end")


@pytest.mark.parametrize("task", [wt.ALL_TASKS, *TASKS])
@pytest.mark.parametrize("pcs", list(wt.PC_PAIRS))
def test_show_trajectories(activity, task, pcs):
    for align in wt.ALIGNMENTS:
        fig = wt.show_trajectories(activity, task, pcs, align)
        plane, over_time = fig.axes[:2]
        i, j = wt.PC_PAIRS[pcs]
        assert plane.get_xlabel().startswith(f"PC {i + 1}")
        assert plane.get_ylabel().startswith(f"PC {j + 1}")
        assert over_time.get_lines()
        _labelled(fig)
        plt.close(fig)


def test_show_trajectories_rejects_bad_controls(activity):
    with pytest.raises(ValueError, match="pcs"):
        wt.show_trajectories(activity, wt.ALL_TASKS, "PC 3 vs PC 4")
    with pytest.raises(ValueError, match="task"):
        wt.show_trajectories(activity, "dms")


def _controls(demo):
    return {w.description: w for w in demo.children if hasattr(w, "description")}


def test_psth_demo_builds_and_updates_headless(activity):
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = wt.psth_demo(activity, task="anti", unit=4)
    assert isinstance(demo, ipywidgets.interactive)
    controls = _controls(demo)
    assert list(controls["task"].options) == list(TASKS) and controls["task"].value == "anti"
    assert (controls["unit"].min, controls["unit"].max, controls["unit"].value) == (0, 11, 4)
    allowed = (ipywidgets.Dropdown, ipywidgets.IntSlider, ipywidgets.FloatSlider,
               ipywidgets.Output)
    assert all(isinstance(w, allowed) for w in demo.children)
    for task, unit, align in [("go", 0, "go cue"), ("dlygo", 11, "stimulus onset")]:
        controls["task"].value, controls["unit"].value = task, unit
        controls["align on"].value = align
        demo.update()
    assert plt.get_fignums() == []


def test_trajectory_demo_builds_and_updates_headless(activity):
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = wt.trajectory_demo(activity)
    controls = _controls(demo)
    assert list(controls["show"].options) == [wt.ALL_TASKS, *TASKS]
    allowed = (ipywidgets.Dropdown, ipywidgets.IntSlider, ipywidgets.FloatSlider,
               ipywidgets.Output)
    assert all(isinstance(w, allowed) for w in demo.children)
    for show, plane, align in [("dlygo", "PC 2 vs PC 3", "go cue"), (wt.ALL_TASKS, "PC 1 vs PC 3",
                                                                     "stimulus onset")]:
        controls["show"].value, controls["plane"].value = show, plane
        controls["align on"].value = align
        demo.update()
    assert plt.get_fignums() == []


# --- plotting.activity ------------------------------------------------------------------------


def test_plot_training_curves():
    losses = np.geomspace(1, 0.01, 30)
    fig = pact.plot_training_curves(losses)
    assert len(fig.axes) == 1
    fig = pact.plot_training_curves(losses, np.linspace(3, 0.1, 30), clip=1.0, title="t")
    assert len(fig.axes) == 2 and fig.axes[1].get_yscale() == "log"
    _labelled(fig)


def test_plot_psth_grid_tuning_and_variance():
    g = torch.Generator().manual_seed(2)
    psths = {name: torch.rand(10, 8, 5, generator=g) for name in TASKS}
    fig = pact.plot_psth_grid(psths, [0, 3], dt=20.0, t0=-100.0, events={"on": 0.0})
    assert len(fig.axes) == 6
    assert fig.axes[0].get_lines()[0].get_xdata()[0] == -100.0
    bottom_left = fig.axes[4]  # 3 rows x 2 columns; labels only on the outer axes
    assert bottom_left.get_xlabel() and bottom_left.get_ylabel()
    fig = pact.plot_tuning({"go": torch.rand(8, generator=g)})
    _labelled(fig)
    fig = pact.plot_variance_explained(torch.tensor([0.5, 0.3, 0.2]))
    _labelled(fig)
    with pytest.raises(ValueError):
        pact.plot_psth(torch.rand(3, 4, 5), 20.0)


# --- the tutorial's self-checks ---------------------------------------------------------------


def test_checks_accept_the_references(capsys):
    checks.check_masked_mse(checks.reference_masked_mse)
    checks.check_train_step(checks.reference_train_step)
    checks.check_train_loop(checks.reference_train_loop)
    checks.check_condition_average(checks.reference_condition_average)
    checks.check_condition_average(wt.condition_average)
    checks.check_pca_project(checks.reference_pca_project)
    assert capsys.readouterr().out.count("checks passed") == 6


def test_reference_masked_mse_by_hand():
    # T = 2, B = 1, two outputs; errors 1, 2, 3, 4 with weights 1, 0, 0.5, 2:
    # (1*1 + 0*4 + 0.5*9 + 2*16) / (1 + 0 + 0.5 + 2) = 37.5 / 3.5
    outputs = torch.tensor([[[1.0, 2.0]], [[3.0, 4.0]]])
    targets = torch.zeros(2, 1, 2)
    mask = torch.tensor([[[1.0, 0.0]], [[0.5, 2.0]]])
    loss = checks.reference_masked_mse(outputs, targets, mask)
    assert loss.ndim == 0 and loss.item() == pytest.approx(37.5 / 3.5)


def test_reference_pca_recovers_known_axes():
    # Data with known principal axes: orthonormal directions Q[:, k] with standard deviations
    # 6, 3, 1, 0.1 (well separated), so the components, the variance ratios and the scores are
    # known in closed form up to sign.
    gen = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(6, 6, generator=gen, dtype=torch.float64))
    stds = torch.tensor([6.0, 3.0, 1.0, 0.1], dtype=torch.float64)
    raw = torch.randn(4000, 4, generator=gen, dtype=torch.float64)
    raw = (raw - raw.mean(0)) / raw.std(0, unbiased=False)  # exactly unit variance
    raw = torch.linalg.qr(raw)[0] * raw.shape[0] ** 0.5     # and exactly uncorrelated
    X = (raw * stds) @ Q[:, :4].T + 5.0                     # plus an offset to centre away
    Z, comps, ratio = checks.reference_pca_project(X, 3)
    assert torch.allclose((comps.double() @ Q[:, :3]).abs().diagonal(),
                          torch.ones(3, dtype=torch.float64), atol=1e-4)
    expected = stds[:3] ** 2 / (stds ** 2).sum()
    assert torch.allclose(ratio.double(), expected, atol=1e-5)
    assert torch.allclose(Z.double().abs(), (raw[:, :3] * stds[:3]).abs(), atol=1e-3)


def _unfinished(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("check", [checks.check_masked_mse, checks.check_train_step,
                                   checks.check_train_loop, checks.check_condition_average,
                                   checks.check_pca_project])
def test_checks_pass_not_implemented_through(check):
    with pytest.raises(NotImplementedError):
        check(_unfinished)


def _step_without_zero_grad(model, optimizer, batch, loss_fn, clip=1.0):
    out = model(batch.inputs, batch.context)
    loss = loss_fn(out.outputs, batch.targets, batch.mask)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip or float("inf"))
    optimizer.step()
    return loss.item(), norm.item()


def _step_without_clipping(model, optimizer, batch, loss_fn, clip=1.0):
    return checks.reference_train_step(model, optimizer, batch, loss_fn, None)


def _step_norm_after_clipping(model, optimizer, batch, loss_fn, clip=1.0):
    loss, _ = checks.reference_train_step(model, optimizer, batch, loss_fn, clip)
    norm = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm()
    return loss, float(norm)


def _loop_new_rng_each_step(model, taskset, n_steps, lr=1e-3, batch_size=64, clip=1.0, seed=0,
                            step=None, loss_fn=None):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, norms = [], []
    for _ in range(n_steps):
        batch = taskset.sample(batch_size, np.random.default_rng(seed))
        loss, norm = step(model, optimizer, batch, loss_fn, clip)
        losses.append(loss)
        norms.append(norm)
    return losses, norms


def _loop_sgd(model, taskset, n_steps, lr=1e-3, batch_size=64, clip=1.0, seed=0, step=None,
              loss_fn=None):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    out = [step(model, optimizer, taskset.sample(batch_size, rng), loss_fn, clip)
           for _ in range(n_steps)]
    return [o[0] for o in out], [o[1] for o in out]


@pytest.mark.parametrize("check, broken, message", [
    (checks.check_masked_mse, lambda y, t, m: ((y - t) ** 2 * m).mean(), "sum of the mask"),
    (checks.check_masked_mse, lambda y, t, m: ((y - t) ** 2).mean(), "mask"),
    (checks.check_masked_mse, lambda y, t, m: torch.tensor(
        (((y - t) ** 2 * m).sum() / m.sum()).item()), "connected"),
    (checks.check_train_step, _step_without_zero_grad, "zero_grad"),
    (checks.check_train_step, _step_without_clipping, "clip"),
    (checks.check_train_step, _step_norm_after_clipping, "before clipping"),
    (checks.check_train_loop, _loop_new_rng_each_step, "new batch"),
    (checks.check_train_loop, _loop_sgd, "Adam"),
    (checks.check_condition_average, lambda r, c, n: r.mean(1, keepdim=True).expand(
        -1, n, -1), "condition"),
    (checks.check_condition_average, lambda r, c, n: torch.stack(
        [r[:, c == k].sum(1) for k in range(n)], 1), "mean"),
    (checks.check_pca_project, lambda X, k: tuple(
        (X @ torch.linalg.svd(X, full_matrices=False)[2][:k].T,
         torch.linalg.svd(X, full_matrices=False)[2][:k],
         torch.ones(k) / X.shape[1])), "centre"),
])
def test_checks_reject_broken_functions_with_a_hint(check, broken, message):
    with pytest.raises(checks.CheckFailed, match=message):
        check(broken)


def test_checks_do_not_change_global_state():
    state = torch.get_rng_state()
    checks.check_train_step(checks.reference_train_step)
    assert torch.equal(state, torch.get_rng_state())


def test_small_model_is_deterministic():
    ts = checks.small_taskset(("go", "anti"))
    a, b = checks.small_model(ts), checks.small_model(ts)
    batch = ts.sample(4, seed=0)
    assert torch.equal(a(batch.inputs, batch.context).outputs,
                       copy.deepcopy(b)(batch.inputs, batch.context).outputs)
