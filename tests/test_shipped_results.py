"""The results shipped in neuromodlab/data/results/ (W1D2 Tutorials 3 and 4 show them): they
load, were made with today's default configurations, are internally consistent, and retraining
a part of each with today's code gives the same networks (a same-platform check: torch 2.13 on
CPU, as scripts/make_shipped_results.py ran; a different CPU or torch may round differently)."""

from __future__ import annotations

import math

import pytest

from neuromodlab.experiments import SHIPPED_RESULTS, load_shipped_result
from neuromodlab.experiments.ambiguity import (
    AmbiguityConfig,
    AmbiguityResult,
    pair_key,
    probe_pair,
    probe_seed,
)
from neuromodlab.experiments.networks import _rebuild, train_mechanism_job
from neuromodlab.experiments.packing import PackingConfig, PackingResult, train_packing_job


def test_shipped_results_load_with_the_default_configs():
    amb = load_shipped_result("ambiguity")
    pk = load_shipped_result("packing")
    assert isinstance(amb, AmbiguityResult) and isinstance(pk, PackingResult)
    assert amb.config == AmbiguityConfig.default()  # stale data fails here: rerun the script
    assert pk.config == PackingConfig.default()
    c = pk.config
    expected = {(m, n, k, s) for m in c.mechanisms for n in c.n_hidden for k in c.task_counts
                for s in c.seeds}
    got = [(r.mechanism, r.n_hidden, r.n_tasks, r.seed) for r in pk.runs]
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))
    assert {(r.mechanism, r.seed) for r in amb.networks} == {
        (m, s) for m in amb.config.mechanisms for s in amb.config.seeds}


def test_shipped_ambiguity_curves_are_probabilities():
    amb = load_shipped_result("ambiguity")
    for pair in amb.curves.values():
        for form in pair.values():
            for curves in form.values():
                for rows in zip(curves.p_i, curves.p_j, curves.p_neither, strict=True):
                    for p_i, p_j, p_n in zip(*rows, strict=True):
                        assert min(p_i, p_j, p_n) >= 0
                        assert math.isclose(p_i + p_j + p_n, 1.0, abs_tol=1e-9)


@pytest.mark.parametrize("name", ["dynamics", "Packing", ""])
def test_unknown_shipped_result_names_the_shipped_ones(name):
    with pytest.raises(ValueError, match="shipped: \\['ambiguity', 'packing'\\]"):
        load_shipped_result(name)
    assert sorted(SHIPPED_RESULTS) == ["ambiguity", "packing"]


@pytest.mark.slow
def test_retraining_a_packing_unit_gives_the_shipped_runs():
    pk = load_shipped_result("packing")
    n = min(pk.config.n_hidden)
    runs, _ = train_packing_job(pk.config, "rule", n)  # ~15 s
    assert runs == [r for r in pk.runs if r.mechanism == "rule" and r.n_hidden == n]


@pytest.mark.slow
def test_retraining_an_ambiguity_mechanism_gives_the_shipped_networks_and_curves():
    # excitability: its curves moved in the third decimal when the ensemble read-out changed
    # (2026-11-28) while rule's did not, so it is the more sensitive check
    amb = load_shipped_result("ambiguity")
    mech = "excitability"
    trained = train_mechanism_job(amb.config, mech)  # ~20 s
    shipped = [r for r in amb.networks if r.mechanism == mech]
    assert len(trained) == len(shipped) == len(amb.config.seeds)
    for (_, _, hist), rec in zip(trained, shipped, strict=True):
        assert (hist.steps[-1], hist.steps_to_criterion, hist.reached) == (
            rec.steps, rec.steps_to_criterion, rec.reached)
        assert hist.final_performance == rec.performance
    # probing the first network again gives its shipped curves, every value of every form
    (i, j), seed = amb.config.pairs[0], amb.config.seeds[0]
    model = _rebuild(*trained[0][:2])
    probed = probe_pair(model, amb.config.taskset(), i, j, amb.config.cue_grids(),
                        amb.config.n_trials, probe_seed(seed))
    for form, (p_i, p_j, p_n) in probed.items():
        curves = amb.curves[pair_key(i, j)][form][mech]
        row = curves.seeds.index(seed)
        assert (list(p_i), list(p_j), list(p_n)) == (
            curves.p_i[row], curves.p_j[row], curves.p_neither[row]), form
