"""W1D1 Tutorial 3 (what a rule input really is): the drive-vs-bias demo runs headless for
several slider values, its widget uses only controls common to ipywidgets 7 and 8, the figures
have labelled axes, and the tutorial's self-checks accept the reference and reject typical
mistakes."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from neuromodlab import analysis
from neuromodlab.checks import rule as checks
from neuromodlab.plotting import rule as rule_plots
from neuromodlab.widgets import rule as wrule

# both ends of every slider, and values in between (amplitude, tau, baseline, pulse_ms)
SLIDER_VALUES = [
    (0.5, 100.0, 0.2, 400.0),
    (wrule.AMPLITUDE_RANGE[0], wrule.TAU_RANGE[0], wrule.BASELINE_RANGE[1], wrule.PULSE_RANGE[1]),
    (wrule.AMPLITUDE_RANGE[1], wrule.TAU_RANGE[1], wrule.BASELINE_RANGE[0], wrule.PULSE_RANGE[0]),
    (0.0, 250.0, 0.0, 600.0),
    (0.8, 300.0, -0.3, 200.0),
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- the demo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("amplitude, tau, baseline, pulse_ms", SLIDER_VALUES)
def test_show_drive_vs_bias_slider_values(amplitude, tau, baseline, pulse_ms):
    fig = wrule.show_drive_vs_bias(amplitude, tau, baseline, pulse_ms)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(axes) == 2
    for ax in axes:
        assert ax.get_xlabel() == "time (ms)"
        for line in ax.get_lines():
            assert np.isfinite(np.asarray(line.get_ydata(), dtype=float)).all()
    assert axes[0].get_ylabel()
    assert f"{tau:g} ms" in fig._suptitle.get_text()
    fig.canvas.draw()


@pytest.mark.parametrize("amplitude, tau, baseline, pulse_ms", SLIDER_VALUES)
def test_simulation_drive_vs_bias_physics(amplitude, tau, baseline, pulse_ms):
    sim = wrule.simulate_drive_vs_bias(amplitude, tau, baseline, pulse_ms)
    t = sim["t"]
    on = (t >= wrule.ONSET_MS) & (t < wrule.ONSET_MS + pulse_ms)
    before = t < wrule.ONSET_MS
    rest = max(baseline, 0.0)
    # at rest before the context, in both versions
    assert np.allclose(sim["drive_rates"][before], rest, atol=1e-6)
    assert np.allclose(sim["bias_rates"][before], rest, atol=1e-6)
    # the bias acts at once: the rate is relu(I + b) during the whole pulse
    assert np.allclose(sim["bias_rates"][on], max(baseline + amplitude, 0.0), atol=1e-5)
    assert np.allclose(sim["bias_states"], baseline, atol=1e-6)  # the bias never enters x
    # the drive is low-pass filtered: x[t] = I + d (1 - (1 - alpha)^(n + 1)) during the pulse
    alpha = wrule.DT_MS / tau
    n = np.arange(on.sum())
    expected = baseline + amplitude * (1 - (1 - alpha) ** (n + 1))
    assert np.allclose(sim["drive_states"][on], expected, atol=1e-5)
    # long pulses: both reach the same steady state
    if pulse_ms >= 10 * tau:
        assert sim["drive_rates"][on][-1] == pytest.approx(sim["bias_rates"][on][-1], abs=1e-3)


def test_time_to_63_percent_is_tau():
    for tau in (50.0, 100.0, 200.0):
        sim = wrule.simulate_drive_vs_bias(0.5, tau, 0.2, 1000.0, dt=1.0)
        t63 = wrule.time_to_fraction(sim["t"], sim["drive_states"], wrule.ONSET_MS, 0.5)
        assert abs(t63 - tau) <= 2.0
    assert math.isnan(wrule.time_to_fraction(sim["t"], sim["drive_states"], wrule.ONSET_MS, 0.0))


def test_demo_runs_the_function_it_is_given():
    calls = []

    def mine(inputs, drive, bias, alpha, x0=None):
        calls.append(tuple(inputs.shape))
        return checks.reference_run_leaky(inputs, drive, bias, alpha, x0)

    fig = wrule.show_drive_vs_bias(0.5, 100.0, 0.2, 400.0, run_fn=mine)
    assert len(calls) == 2 and calls[0][1:] == (1, 1)
    assert isinstance(fig, matplotlib.figure.Figure)


def test_demo_builds_and_updates_headless():
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = wrule.drive_bias_demo()
    assert isinstance(demo, ipywidgets.interactive)
    controls = {w.description: w for w in demo.children if hasattr(w, "description")}
    allowed = (ipywidgets.Dropdown, ipywidgets.IntSlider, ipywidgets.FloatSlider,
               ipywidgets.Output)
    assert all(isinstance(w, allowed) for w in demo.children)
    assert (controls["tau (ms)"].min, controls["tau (ms)"].max) == wrule.TAU_RANGE
    for amplitude, tau, baseline, pulse_ms in SLIDER_VALUES[:3]:
        controls["amplitude d = b"].value = amplitude
        controls["tau (ms)"].value = tau
        controls["baseline input I"].value = baseline
        controls["pulse (ms)"].value = pulse_ms
        demo.update()  # what a slider move does; raises if the plotting function fails
    assert plt.get_fignums() == []  # each update shows and closes its figure


# --- the figures of the tutorial ----------------------------------------------------------------


def test_figures_have_labelled_axes():
    g = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    names = ("go", "anti", "dlygo")
    figs = [rule_plots.plot_rule_drives(torch.randn(3, 20, generator=g), names)]
    t = np.arange(50) * 5.0
    figs.append(rule_plots.plot_drive_vs_bias(t, (t > 50) * 0.4, rng.random((50, 2)),
                                              rng.random((50, 2)), steady=[0.5, 0.2],
                                              labels=["a", "b"], tau=100.0))
    figs.append(rule_plots.plot_drive_bias_network(t, rng.random((50, 8)),
                                                   rng.random((50, 8)),
                                                   np.exp(-t / 100), np.full(50, 1e-8), tau=100))
    rates = torch.rand(10, 30, 12, generator=g)
    ids = torch.arange(30) % 3
    tv = analysis.task_variance(rates, ids, 3)
    ntv = analysis.normalized_task_variance(tv, 1e-3)
    figs.append(rule_plots.plot_task_variance(ntv, names))
    figs.append(rule_plots.plot_fractional_task_variance(tv, names, [("go", "anti"),
                                                                     ("anti", "dlygo")]))
    for fig in figs:
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                continue
            assert ax.get_xlabel(), ax.get_title()
        assert any(ax.get_ylabel() for ax in fig.axes)
        fig.canvas.draw()


def test_preferred_task_order_and_ftv():
    ntv = torch.tensor([[1.0, 0.2, 0.0, 1.0, 0.0],
                        [0.3, 1.0, 0.0, 0.9, 1.0],
                        [0.0, 0.0, 0.0, 0.1, 0.5]])
    order, preferred = rule_plots.preferred_task_order(ntv)
    assert list(order) == [0, 3, 1, 4]  # unit 2 is silent; within task 0, unit 0 is more selective
    assert list(preferred) == [0, 0, 1, 1]
    tv = torch.tensor([[1.0, 0.0, 0.5, 0.0], [0.0, 2.0, 0.5, 0.0]])
    assert np.allclose(rule_plots.fractional_task_variance(tv, 0, 1, 1e-6), [1.0, -1.0, 0.0])


# --- the tutorial's self-checks -----------------------------------------------------------------


REFERENCES = ["rule_drive", "run_leaky", "steady_state", "task_variance",
              "normalized_task_variance"]


@pytest.mark.parametrize("name", REFERENCES)
def test_checks_accept_the_reference(name, capsys):
    getattr(checks, f"check_{name}")(getattr(checks, f"reference_{name}"))
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", REFERENCES)
def test_checks_pass_not_implemented_through(name):
    def unfinished(*args, **kwargs):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        getattr(checks, f"check_{name}")(unfinished)


def _leaky_bias_in_leak(inputs, drive, bias, alpha, x0=None):
    return checks.reference_run_leaky(inputs, drive + bias, torch.zeros_like(bias), alpha, x0)


def _leaky_ignores_x0(inputs, drive, bias, alpha, x0=None):
    return checks.reference_run_leaky(inputs, drive, bias, alpha, None)


def _tv_unbiased(rates, task_ids, n_tasks):
    return torch.stack([rates[:, task_ids == k].var(dim=1, unbiased=True).mean(0)
                        for k in range(n_tasks)])


def _tv_all_trials(rates, task_ids, n_tasks):
    return rates.var(dim=1, unbiased=False).mean(0).expand(n_tasks, -1)


MISTAKES = [
    ("rule_drive", lambda W, c: c @ W),  # wrong orientation (fails on shapes or values)
    ("rule_drive", lambda W, c: (c @ W.T).abs()),
    ("run_leaky", _leaky_bias_in_leak),
    ("run_leaky", _leaky_ignores_x0),
    ("run_leaky", lambda i, d, b, a, x0=None: (i + d, torch.relu(i + d + b))),
    ("steady_state", lambda i, d, b: (i + d + b, torch.relu(i + d + b))),
    ("steady_state", lambda i, d, b: (i + d, torch.relu(i + d))),
    ("task_variance", _tv_unbiased),
    ("task_variance", _tv_all_trials),
    ("task_variance", lambda r, ids, K: torch.stack([r[0, ids == k].var(0, unbiased=False)
                                                     for k in range(K)])),
    ("normalized_task_variance", lambda tv, m: tv / tv.amax(1, keepdim=True)),
    ("normalized_task_variance", lambda tv, m: tv / tv.amax(0).clamp_min(1e-12)),
]


@pytest.mark.parametrize("name, wrong", MISTAKES)
def test_checks_reject_typical_mistakes(name, wrong):
    with pytest.raises(checks.CheckFailed):
        getattr(checks, f"check_{name}")(wrong)


def test_references_agree_with_the_library():
    g = torch.Generator().manual_seed(5)
    rates = torch.rand(6, 20, 7, generator=g)
    ids = torch.arange(20) % 4
    tv = checks.reference_task_variance(rates, ids, 4)
    assert torch.allclose(tv, analysis.task_variance(rates, ids, 4).float())
    # population variance by hand
    by_hand = torch.stack([((rates[:, ids == k] - rates[:, ids == k].mean(1, keepdim=True)) ** 2)
                           .mean(1).mean(0) for k in range(4)])
    assert torch.allclose(tv, by_hand, atol=1e-6)
    ntv = checks.reference_normalized_task_variance(tv, 0.0)
    assert torch.allclose(ntv.amax(0), torch.ones(7))
