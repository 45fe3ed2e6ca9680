"""Packing and initialisation experiments: the capacity rule, quick runs with sane documented
fields, budget monotonicity by construction, lossless JSON, clear errors, figures."""

import itertools
import math
from dataclasses import replace

import matplotlib
import numpy as np
import pytest
import torch

from neuromodlab.experiments.initialisation import (
    InitialisationConfig,
    InitResult,
    run_initialisation,
    sign_test,
    wilson_interval,
)
from neuromodlab.experiments.packing import (
    PackingConfig,
    PackingResult,
    capacity,
    run_packing,
)
from neuromodlab.experiments.results import results_equal


# ---------------------------------------------------------------- the capacity rule
def test_capacity_by_hand():
    ks = (1, 2, 4, 6)
    assert capacity(ks, [False] * 4) == 0
    assert capacity(ks, [True, True, False, False]) == 2
    assert capacity(ks, [True, False, True, False]) == 4  # the largest K reached counts
    assert capacity(ks, [True] * 4) == 6
    assert capacity(ks, {1: True, 4: True}) == 4
    with pytest.raises(ValueError, match="entries"):
        capacity(ks, [True])


def test_capacity_is_monotone_in_what_is_reached():
    """Reaching more (N, K) cells -- what a larger budget does -- never lowers capacity."""
    ks = (1, 2, 3, 5)
    for a in itertools.product([False, True], repeat=4):
        for b in itertools.product([False, True], repeat=4):
            if all(y or not x for x, y in zip(a, b, strict=True)):  # b reaches everything a reaches
                assert capacity(ks, b) >= capacity(ks, a)


# ---------------------------------------------------------------- configs
@pytest.mark.parametrize("kwargs, match", [
    (dict(tasks=()), "non-empty"),
    (dict(tasks=("go", "nope")), "unknown task"),
    (dict(n_hidden=(8, 0)), "n_hidden"),
    (dict(n_hidden=(-4,)), "n_hidden"),
    (dict(mechanisms=("rule", "telepathy")), "unknown mechanism"),
    (dict(mechanisms=("none",), matched=()), "unknown mechanism"),
    (dict(task_counts=(1, 9)), "exceeds"),
    (dict(task_counts=()), "task_counts"),
    (dict(seeds=()), "seeds"),
    (dict(criterion=1.5), "criterion"),
    (dict(matched=(("rule", "excitability"),)), "parameters per task"),
    (dict(mechanisms=("rule", "gain"), matched=(("excitability", "synaptic"),)),
     "not in mechanisms"),
])
def test_packing_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PackingConfig(**kwargs)


def test_presets_and_parameter_counts():
    for preset in (PackingConfig.quick(), PackingConfig.default(), PackingConfig.full()):
        assert preset.task_counts[-1] <= len(preset.tasks)
    c = PackingConfig.full()
    assert [c.params_per_task(m, 16) for m in ("rule", "gain", "excitability", "synaptic",
                                               "combined")] == [16, 16, 32, 32, 64]
    with pytest.raises(ValueError, match="init_stds"):
        InitialisationConfig(init_stds=(-0.1,))
    with pytest.raises(ValueError, match="mechanisms"):
        InitialisationConfig(mechanisms=("unknown",))
    with pytest.raises(ValueError, match="tasks"):
        InitialisationConfig(tasks=())


# ---------------------------------------------------------------- a quick packing run
@pytest.fixture(scope="module")
def packing():
    # quick() uses criterion 0.5, so a 40-step run reaches some (N, K): every path is used
    return run_packing(PackingConfig.quick(), quiet=True)


def test_quick_packing_fields_are_documented_and_sane(packing):
    c = packing.config
    assert len(packing.runs) == len(c.mechanisms) * len(c.n_hidden) * len(c.task_counts) * len(
        c.seeds)
    for r in packing.runs:
        assert all(0.0 <= v <= 1.0 for v in r.performance.values())
        assert list(r.performance) == list(c.tasks[:r.n_tasks])  # its own K tasks
        assert 0 < r.steps <= c.max_steps
        assert r.reached == (r.steps_to_criterion is not None)
        if r.reached:
            assert r.steps == r.steps_to_criterion and r.steps % c.eval_every == 0
            assert min(r.performance.values()) >= c.criterion
        assert r.params_per_task == c.params_per_task(r.mechanism, r.n_hidden)
    for row in packing.capacity_table():
        assert all(cap in (0, *c.task_counts) for cap in row["capacities"])
        assert 0 <= row["mean"] <= max(c.task_counts)
    frac = packing.reached_fraction(c.mechanisms[0])
    assert frac.shape == (len(c.n_hidden), len(c.task_counts)) and frac.min() >= 0
    assert sum(r.reached for r in packing.runs) > 0  # the run did reach something
    assert packing.wall_time_s["total"] > 0 and packing.info.seeds == list(c.seeds)
    summary = packing.summary()
    assert set(summary) >= {"capacity", "matched", "networks", "reached"}
    assert "Capacity" in packing.report_markdown()


def test_packing_json_round_trip(packing, tmp_path):
    back = PackingResult.from_json(packing.to_json())
    assert results_equal(back, packing)
    assert back.capacity_table() == packing.capacity_table()
    path = packing.save(tmp_path / "packing.json")
    assert results_equal(PackingResult.load(path), packing)


def test_capacity_never_drops_with_a_larger_budget():
    """By construction: the longer run repeats the shorter one step for step."""
    # N = 16, criterion 0.5: within 60 steps only K = 1 is reached, within 120 also K = 2
    # for one seed (measured), so the check below has runs to compare and growth to see
    base = PackingConfig.quick(mechanisms=("excitability",), matched=(), n_hidden=(16,),
                               criterion=0.5, max_steps=60, eval_every=10)
    short = run_packing(base, quiet=True)
    long = run_packing(replace(base, max_steps=120), quiet=True)
    assert any(r.reached for r in short.runs)
    assert sum(r.reached for r in long.runs) > sum(r.reached for r in short.runs)
    for r in short.runs:
        twin = long.run(r.mechanism, r.n_hidden, r.n_tasks, r.seed)
        if r.reached:  # the same run, step for step: same step, same evaluation
            assert twin.reached and twin.steps_to_criterion == r.steps_to_criterion
            assert twin.performance == r.performance
    assert all(b >= a for a, b in zip(short.capacities("excitability", 16),
                                      long.capacities("excitability", 16), strict=True))


def test_packing_figures(packing, tmp_path):
    figs = packing.figures()  # plot_capacity and plot_reached_grid
    assert set(figs) == {"capacity", "reached"}
    for fig in figs.values():
        ax = fig.axes[0]
        assert ax.get_xlabel() and ax.get_ylabel()
        fig.savefig(tmp_path / "f.png")
        matplotlib.pyplot.close(fig)


# ---------------------------------------------------------------- initialisation
def test_wilson_interval_known_values():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson_interval(5, 5)
    assert lo == pytest.approx(0.5655, abs=1e-4) and hi == 1.0
    lo, hi = wilson_interval(2, 5)
    assert lo == pytest.approx(0.1176, abs=1e-4) and hi == pytest.approx(0.7693, abs=1e-4)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_wilson_interval_is_the_statistics_helper():
    from neuromodlab.experiments import results

    assert wilson_interval is results.wilson_interval  # one implementation, re-exported
    assert wilson_interval(6, 6)[1] == 1.0 and wilson_interval(0, 6)[0] == 0.0


def test_error_bars_are_never_negative():
    """matplotlib refuses a negative yerr: an interval clipped to the quantity's range can end
    inside the mean (a fraction whose mean rounds to 1 + 1e-9), and a NaN interval is 0."""
    from neuromodlab.plotting.packing import _yerr

    np.testing.assert_allclose(_yerr(1.0 + 1e-9, 0.9, 1.1, 0, 1), [[0.1 + 1e-9], [0.0]])
    np.testing.assert_array_equal(_yerr([0.5, 0.2], [np.nan, 0.1], [np.nan, 0.4]),
                                  [[0.0, 0.1], [0.0, 0.2]])
    assert (_yerr([0.0, 3.0], [-0.5, 2.5], [0.4, 3.4], 0, 3) >= 0).all()


def test_sign_test_by_hand():
    assert sign_test(0, 0) == 1.0
    assert sign_test(6, 0) == pytest.approx(2 / 64)  # all 6 discordant pairs one way
    assert sign_test(3, 3) == 1.0
    assert sign_test(1, 4) == pytest.approx(2 * 6 / 32)


def test_initialisation_members_start_as_configured():
    """Zero-init members have a silent context pathway and the same shared weights as their
    random-init twin (paired by seed)."""
    from neuromodlab.ensemble import Ensemble
    from neuromodlab.experiments.initialisation import _set_modulator
    from neuromodlab.modulation import ModulatedRNN

    c = InitialisationConfig.quick()
    ens = Ensemble(c.model_config("excitability", 0.33), [0, 0])
    _set_modulator(ens, 0, ModulatedRNN(c.model_config("excitability", 0.0, 0)))
    assert torch.all(ens.G[0] == 0) and torch.all(ens.B[0] == 0)
    assert torch.equal(ens.W_rec[0], ens.W_rec[1]) and torch.equal(ens.W_in[0], ens.W_in[1])
    ref = ModulatedRNN(c.model_config("excitability", 0.33, 0))
    assert torch.equal(ens.G[1], ref.modulator.G)


def test_quick_initialisation_run(tmp_path):
    res = run_initialisation(InitialisationConfig.quick(), quiet=True)
    c = res.config
    assert len(res.runs) == len(c.mechanisms) * len(c.init_stds) * len(c.seeds)
    for r in res.runs:
        assert all(0 <= v <= 1 for v in r.performance.values())
        assert r.reached == (r.steps_to_criterion is not None)
    s = res.success("rule", 0.0)
    assert s["n"] == len(c.seeds) and 0 <= s["lo"] <= s["fraction"] <= s["hi"] <= 1
    p = res.paired("rule", 0.0, 0.33)
    assert p["only_a"] + p["only_b"] + p["both"] + p["neither"] == len(c.seeds)
    assert 0 <= p["p_sign"] <= 1 and res.paired(None, 0.0, 0.33)["neither"] >= p["neither"]
    assert results_equal(InitResult.from_json(res.to_json()), res)
    assert "Wilson" in res.report_markdown()
    figs = res.figures()  # plot_initialisation and plot_steps_to_criterion
    assert sorted(figs) == ["steps", "success"]
    for fig in figs.values():
        assert fig.axes[0].get_ylabel() and fig.axes[0].get_xticklabels()
        fig.savefig(tmp_path / "i.png")
        matplotlib.pyplot.close(fig)
