"""W1D2 Tutorial 4 (task packing): the demo's plotting function runs headless for every dropdown
value and shows what it claims; the self-checks of neuromodlab.checks.packing accept the
references and reject typical mistakes."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from neuromodlab.checks import CheckFailed
from neuromodlab.checks import packing as cp
from neuromodlab.experiments import packing as pk
from neuromodlab.widgets import packing as wp


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def result():
    """A tiny packing sweep (a few seconds): 2 mechanisms x 2 sizes x 2 K x 2 seeds."""
    cfg = pk.PackingConfig.quick(mechanisms=("rule", "synaptic"), matched=(), max_steps=40)
    return pk.run_packing(cfg, quiet=True)


# --- the demo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["rule", "synaptic"])
@pytest.mark.parametrize("n_hidden", [8, 16])
def test_show_packing_grid_every_dropdown_value(result, mechanism, n_hidden):
    fig = wp.show_packing_grid(result, mechanism, n_hidden)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax_grid = fig.axes[0]
    image = ax_grid.get_images()[0].get_array()
    c = result.config
    assert image.shape == (len(c.task_counts), len(c.seeds))
    np.testing.assert_allclose(image, wp.worst_grid(result, mechanism, n_hidden))
    # one text per network, "reached" exactly where the run reached
    texts = [t.get_text() for t in ax_grid.texts]
    assert len(texts) == len(c.task_counts) * len(c.seeds)
    n_reached = sum(result.run(mechanism, n_hidden, k, s).reached
                    for k in c.task_counts for s in c.seeds)
    assert sum(t.startswith("reached") for t in texts) == n_reached
    # the capacity of each seed is written under its column, and the title has the budget
    labels = [t.get_text() for t in ax_grid.get_xticklabels()]
    for s, cap in zip(c.seeds, result.capacities(mechanism, n_hidden), strict=True):
        assert f"seed {s}\ncapacity {cap}" in labels
    assert f"{c.params_per_task(mechanism, n_hidden)} context parameters" in ax_grid.get_title()
    assert ax_grid.get_xlabel() and ax_grid.get_ylabel()
    assert fig.axes[1].get_xlabel().startswith("network size N")


def test_show_packing_grid_rejects_values_not_in_the_sweep(result):
    with pytest.raises(ValueError, match="mechanism"):
        wp.show_packing_grid(result, "combined", 8)
    with pytest.raises(ValueError, match="n_hidden"):
        wp.show_packing_grid(result, "rule", 64)


def test_packing_demo_builds_a_widget(result, monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    demo = wp.packing_demo(result, mechanism="synaptic", n_hidden=16)
    values = {w.description: w.value for w in demo.children if hasattr(w, "value")}
    assert values["mechanism"] == "synaptic" and values["N (units)"] == 16


# --- the checks ---------------------------------------------------------------------------------


def test_checks_accept_the_references():
    cp.check_capacity(cp.reference_capacity)
    cp.check_params_per_task(cp.reference_params_per_task)
    cp.check_matched_size(cp.reference_matched_size)
    cp.check_capacity_summary(cp.reference_capacity_summary)


def test_references_agree_with_the_library(result):
    c = result.config
    for m in c.mechanisms:
        for n in c.n_hidden:
            assert cp.reference_params_per_task(m, n, c.rank) == c.params_per_task(m, n)
            caps = [cp.reference_capacity(c.task_counts, [result.run(m, n, k, s).reached
                                                          for k in c.task_counts])
                    for s in c.seeds]
            assert caps == result.capacities(m, n)


def _not_implemented(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("check", [cp.check_capacity, cp.check_params_per_task,
                                   cp.check_matched_size, cp.check_capacity_summary])
def test_checks_pass_not_implemented_through(check):
    with pytest.raises(NotImplementedError):
        check(_not_implemented)


def test_check_capacity_rejects_typical_mistakes():
    def strict(ks, r):  # every smaller K required as well
        cap = 0
        for k, v in zip(ks, r, strict=True):
            if not v:
                break
            cap = k
        return cap

    mistakes = [
        lambda ks, r: sum(bool(v) for v in r),                                   # counts successes
        lambda ks, r: max([i for i, v in enumerate(r) if v], default=0),         # an index
        lambda ks, r: max([k for k, v in zip(ks, r, strict=True) if v]),         # fails on none
        # needs K = 1:
        lambda ks, r: ([0] + [k for k, v in zip(ks, r, strict=True) if v])[-1] if r[0] else 0,
        strict,
    ]
    for wrong in mistakes:
        with pytest.raises(CheckFailed):
            cp.check_capacity(wrong)


def test_check_params_per_task_rejects_typical_mistakes():
    def no_rank(m, n, rank=1):
        return cp.reference_params_per_task(m, n, 1)

    def no_error(m, n, rank=1):
        return cp.reference_params_per_task(m, n, rank) if m in cp.MECHANISMS else 0

    def combined_wrong(m, n, rank=1):
        return 2 * n if m == "combined" else cp.reference_params_per_task(m, n, rank)

    for wrong in (no_rank, no_error, combined_wrong):
        with pytest.raises(CheckFailed):
            cp.check_params_per_task(wrong)


def test_check_matched_size_rejects_typical_mistakes():
    def inverted(m, n, other, rank=1, params=None):
        return params(other, n, rank) // params(m, 1, rank)

    def never_none(m, n, other, rank=1, params=None):
        return params(m, n, rank) // params(other, 1, rank)

    for wrong in (inverted, never_none):
        with pytest.raises(CheckFailed):
            cp.check_matched_size(wrong)


def test_check_capacity_summary_rejects_typical_mistakes():
    def population_sd(caps):
        v = np.asarray(caps, float)
        half = 1.96 * v.std() / math.sqrt(len(v))
        return v.mean(), v.mean() - half, v.mean() + half

    def no_single_seed_case(caps):
        v = np.asarray(caps, float)
        return v.mean(), v.min(), v.max()

    for wrong in (population_sd, no_single_seed_case):
        with pytest.raises(CheckFailed):
            cp.check_capacity_summary(wrong)


# --- the tutorial's figures (neuromodlab.plotting.pathways) -------------------------------------


def test_plot_budgets_draws_the_counts():
    from neuromodlab.plotting import pathways

    fig = pathways.plot_budgets(cp.reference_params_per_task, (8, 16))
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    assert set(lines) == set(pathways.MECHANISMS)
    assert list(lines["synaptic"].get_ydata()) == [16, 32]
    assert list(lines["combined"].get_ydata()) == [32, 64]


def test_plot_init_probe_bar_heights():
    from neuromodlab.plotting import pathways

    rows = [dict(mechanism=m, init_std=s, output_gap=g, grad_norm=2 * g)
            for m, s, g in (("rule", 0.0, 0.0), ("rule", 0.33, 0.3),
                            ("synaptic", 0.0, 0.0), ("synaptic", 0.33, 0.1))]
    ax_gap, ax_grad = pathways.plot_init_probe(rows).axes
    assert [p.get_height() for p in ax_gap.patches] == [0.0, 0.0, 0.3, 0.1]
    assert [p.get_height() for p in ax_grad.patches] == [0.0, 0.0, 0.6, 0.2]
