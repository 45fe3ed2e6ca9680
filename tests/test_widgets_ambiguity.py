"""W1D2 Tutorial 3 (context ambiguity): the demo's plotting function runs headless for several
slider values and shows what it claims; the self-checks of neuromodlab.checks.ambiguity accept
the references, agree with the library, and reject typical mistakes."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from neuromodlab import modulation, tasks
from neuromodlab.checks import CheckFailed
from neuromodlab.checks import ambiguity as ca
from neuromodlab.experiments import ambiguity as amb
from neuromodlab.widgets import ambiguity as wamb


@pytest.fixture(autouse=True)
def _close_figures():
    torch.set_num_threads(1)
    yield
    plt.close("all")


# --- the demo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("blend, mechanism, trial", [
    (0.0, "rule", 0), (0.25, "excitability", 3), (0.5, "synaptic", 1), (0.75, "combined", 7),
    (1.0, "rule", 5),
])
def test_show_blend_response_slider_values(blend, mechanism, trial):
    fig = wamb.show_blend_response(blend, mechanism, trial)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
    assert "(ms)" in fig.axes[1].get_xlabel() and "(deg)" in fig.axes[0].get_xlabel()
    assert mechanism in fig._suptitle.get_text() and f"trial {trial}" in fig._suptitle.get_text()
    marker = [line for line in fig.axes[2].get_lines() if line.get_label().startswith("l =")]
    assert marker and np.allclose(marker[0].get_xdata(), blend)
    fig.canvas.draw()


def test_demo_verdict_matches_the_library_and_the_curve_endpoints():
    batch_i, batch_j, _ = wamb._trials()
    for mech in wamb.MECHANISMS:
        p_i, p_j, p_n = wamb.blend_curve(mech)
        assert np.allclose(p_i + p_j + p_n, 1.0)
        assert p_i[0] > 0.9 and p_j[-1] > 0.9  # shipped networks follow clean cues
        out = wamb._run(mech, 0.0)
        titles = [wamb.show_blend_response(0.0, mech, k).axes[0].get_title()
                  for k in range(3)]
        plt.close("all")
        for k, title in enumerate(titles):
            expected = "go" if bool(tasks.performance(out, batch_i)[k]) else (
                "anti" if bool(tasks.performance(out, batch_j)[k]) else "neither")
            assert title.endswith(f"follows {expected}")


def test_show_blend_response_rejects_bad_values():
    with pytest.raises(ValueError):
        wamb.show_blend_response(1.5, "rule", 0)
    with pytest.raises(ValueError):
        wamb.show_blend_response(0.5, "nonsense", 0)
    with pytest.raises(ValueError):
        wamb.show_blend_response(0.5, "rule", wamb.N_TRIALS)


def test_ambiguity_demo_builds_and_updates_headless():
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = wamb.ambiguity_demo(l=0.4, mechanism="rule")
    assert isinstance(demo, ipywidgets.interactive)
    controls = {w.description: w for w in demo.children if hasattr(w, "description")}
    assert isinstance(controls["blend l"], ipywidgets.FloatSlider)
    assert (controls["blend l"].min, controls["blend l"].max) == (0.0, 1.0)
    assert isinstance(controls["mechanism"], ipywidgets.Dropdown)
    assert isinstance(controls["trial"], ipywidgets.Dropdown)
    allowed = (ipywidgets.Dropdown, ipywidgets.IntSlider, ipywidgets.FloatSlider,
               ipywidgets.Output)
    assert all(isinstance(w, allowed) for w in demo.children)
    for blend, mech, trial in [(0.0, "synaptic", 2), (1.0, "combined", 0),
                               (0.55, "excitability", 4)]:
        controls["blend l"].value, controls["mechanism"].value = blend, mech
        controls["trial"].value = trial
        demo.update()  # what a slider move does; raises if the plotting function fails
    assert plt.get_fignums() == []  # each update closes its figure


# --- the references agree with the library ------------------------------------------------------


def test_references_agree_with_the_library():
    lam = torch.tensor([0.0, 0.3, 1.0])
    ref = ca.reference_blend_context(2, 0, lam, 4)
    by_hand = torch.tensor([[0.0, 0.0, 1.0, 0.0],    # l = 0: all task 2
                            [0.3, 0.0, 0.7, 0.0],    # l = 0.3
                            [1.0, 0.0, 0.0, 0.0]])   # l = 1: all task 0
    assert torch.allclose(ref, by_hand)
    model, batch_i, batch_j = ca.tiny_problem("synaptic", n_trials=24)
    conflict = amb.conflict_trials(batch_i, batch_j)
    assert bool(conflict.all())  # go/anti: every trial conflicts
    lambdas = [0.0, 0.4, 1.0]
    mine = ca.reference_blend_sweep(model, batch_i, batch_j, 0, 1, lambdas, noise_seed=5)
    contexts = [ca.reference_blend_context(0, 1, torch.full((24,), v), 2) for v in lambdas]
    lib = amb.score(model, batch_i, batch_j, conflict, contexts, 5)
    for a, b in zip(mine, lib, strict=True):
        assert np.allclose(a, b)
    assert ca.reference_switch_point([0, 0.5, 1], [1, 0, 0]) == pytest.approx(0.25)
    assert math.isnan(ca.reference_switch_point([0, 1], [1, 1]))


def test_checks_accept_the_references():
    ca.check_blend_context(ca.reference_blend_context)
    ca.check_follow_fractions(ca.reference_follow_fractions)
    ca.check_blend_sweep(ca.reference_blend_sweep)
    ca.check_switch_point(ca.reference_switch_point)


# --- typical mistakes ---------------------------------------------------------------------------


def _blend_swapped(i, j, lam, K):
    return ca.reference_blend_context(j, i, lam, K)


def _blend_unnormalised(i, j, lam, K):
    c = torch.zeros(len(lam), K)
    c[:, i] = 1.0
    c[:, j] = torch.as_tensor(lam)
    return c


def _fractions_neither_wrong(outputs, bi, bj):
    ci, cj = tasks.performance(outputs, bi), tasks.performance(outputs, bj)
    return ci.float().mean().item(), cj.float().mean().item(), 0.0


def _fractions_only_i(outputs, bi, bj):
    ci = tasks.performance(outputs, bi)
    p = ci.float().mean().item()
    return p, 0.0, 1 - p


@torch.no_grad()
def _sweep_fresh_noise(model, bi, bj, i, j, lambdas, noise_seed=0, blend=None, score=None):
    gen = torch.Generator().manual_seed(noise_seed)  # seeded once: blends see different noise
    rows = []
    for v in lambdas:
        c = blend(i, j, torch.full((bi.batch_size,), float(v)), model.config.n_contexts)
        rows.append(score(model(bi.inputs, c, generator=gen).outputs, bi, bj))
    p = np.array(rows)
    return p[:, 0], p[:, 1], p[:, 2]


@torch.no_grad()
def _sweep_scalar_blend(model, bi, bj, i, j, lambdas, noise_seed=0, blend=None, score=None):
    rows = []
    for v in lambdas:
        c = modulation.mix_context(i, j, float(v), model.config.n_contexts, bi.batch_size)
        gen = torch.Generator().manual_seed(noise_seed)
        rows.append(score(model(bi.inputs, c, generator=gen).outputs, bi, bj))
    p = np.array(rows)
    return p[:, 0], p[:, 1], p[:, 2]


def _switch_no_interp(lam, p, level=0.5):
    for v, q in zip(lam, p, strict=True):
        if q < level:
            return float(v)
    return math.nan


def _switch_fixed_level(lam, p, level=0.5):
    return ca.reference_switch_point(lam, p, 0.5)


def _switch_last_crossing(lam, p, level=0.5):
    lam, p = np.asarray(lam, float), np.asarray(p, float)
    below = np.nonzero(p >= level)[0]
    if len(below) == 0:
        return float(lam[0])
    k = below[-1]
    if k == len(p) - 1:
        return math.nan
    return float(lam[k] + (p[k] - level) / (p[k] - p[k + 1]) * (lam[k + 1] - lam[k]))


@pytest.mark.parametrize("check, wrong", [
    (ca.check_blend_context, _blend_swapped),
    (ca.check_blend_context, _blend_unnormalised),
    (ca.check_follow_fractions, _fractions_neither_wrong),
    (ca.check_follow_fractions, _fractions_only_i),
    (ca.check_blend_sweep, _sweep_fresh_noise),
    (ca.check_blend_sweep, _sweep_scalar_blend),
    (ca.check_switch_point, _switch_no_interp),
    (ca.check_switch_point, _switch_fixed_level),
    (ca.check_switch_point, _switch_last_crossing),
])
def test_checks_reject_typical_mistakes(check, wrong):
    with pytest.raises(CheckFailed):
        check(wrong)


def test_not_implemented_passes_through_and_falls_back():
    def unfinished(*args, **kwargs):
        raise NotImplementedError

    for check in (ca.check_blend_context, ca.check_follow_fractions, ca.check_blend_sweep,
                  ca.check_switch_point):
        with pytest.raises(NotImplementedError):
            check(unfinished)
    fn = ca.yours_or_reference(unfinished, ca.reference_switch_point, [0.0, 1.0], [1.0, 0.0])
    assert fn is ca.reference_switch_point


# --- the tutorial's figures (neuromodlab.plotting.cues) -----------------------------------------


def test_plot_sweep_draws_the_three_fractions_and_the_mark():
    from neuromodlab.plotting import cues

    lams = np.linspace(0, 1, 5)
    fractions = (1 - lams, lams * 0.5, lams * 0.5)
    fig = cues.plot_sweep(lams, fractions, ("go", "anti"), mark=0.25)
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    for label, values in zip(("follows go", "follows anti", "follows neither"), fractions,
                             strict=True):
        assert np.allclose(lines[label].get_ydata(), values)
    assert np.allclose(lines["l = 0.25"].get_xdata(), 0.25)
    assert "(dimensionless)" in fig.axes[0].get_xlabel()


def test_plot_mechanism_sweeps_one_panel_each_with_its_switch_point():
    from neuromodlab.plotting import cues

    lams = np.linspace(0, 1, 5)
    sweeps = {"rule": (1 - lams, lams, 0 * lams), "synaptic": (0 * lams, lams, 1 - lams)}
    fig = cues.plot_mechanism_sweeps(lams, sweeps, {"rule": 0.5, "synaptic": math.nan})
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["rule", "synaptic"]
    dashed = [ln for ln in axes[0].get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and np.allclose(dashed[0].get_xdata(), 0.5)
    assert not [ln for ln in axes[1].get_lines() if ln.get_linestyle() == "--"]  # NaN: none
    assert fig.legends or axes[-1].get_legend()  # one legend, outside the panels if possible
    fig.canvas.draw()


def test_plot_cue_variants_one_line_per_mechanism():
    from neuromodlab.plotting import cues

    s, sd = [0.0, 0.5, 1.0], [0.0, 1.0]
    weak = {"rule": ([0.2, 0.6, 1.0],), "excitability": ([0.1, 0.5, 1.0],)}
    noisy = {"rule": ([1.0, 0.3],), "excitability": ([1.0, 0.4],)}
    ax_w, ax_n = cues.plot_cue_variants(s, weak, sd, noisy).axes
    assert [list(ln.get_ydata()) for ln in ax_w.get_lines()] == [[0.2, 0.6, 1.0], [0.1, 0.5, 1.0]]
    assert ax_w.xaxis_inverted() and all(ax.get_xlabel() for ax in (ax_w, ax_n))
