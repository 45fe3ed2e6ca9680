"""The dynamics experiment on shipped pretrained networks: sane numbers, JSON round trip."""

import math

import numpy as np
import pytest

from neuromodlab.experiments import load_pretrained
from neuromodlab.experiments.dynamics import DynamicsConfig, DynamicsResult, run_dynamics
from neuromodlab.experiments.results import results_equal
from neuromodlab.train import load_checkpoint

MECHS = ("rule", "synaptic")


def _pretrained(mech, tasks):
    from neuromodlab.experiments import DATA_DIR

    _, _, entry = load_pretrained(mech, tasks=tasks, return_info=True)
    model, hist, _ = load_checkpoint(DATA_DIR / entry["file"])
    return model, hist, entry


def _run(tasks):
    nets, entry = {}, None
    for mech in MECHS:
        model, hist, entry = _pretrained(mech, tasks)
        nets[mech] = [(model, hist)]
    config = DynamicsConfig(tasks=tasks, mechanisms=MECHS, seeds=(0,),
                            n_hidden=entry["n_hidden"], lambdas=(0, 0.5, 1), n_trials=16,
                            n_plot=2, fp_starts=4, fp_iters=60, fp_trials=4)
    return run_dynamics(config, quiet=True, networks=nets)


@pytest.fixture(scope="module")
def dyn():
    """The go/anti networks (N = 32) shipped for the ambiguity tutorial."""
    return _run(("go", "anti"))


@pytest.mark.parametrize("change, word", [
    (dict(pair=("go",)), "pair: each entry must be two different names"),
    (dict(pair=("go", "dlygo")), r"pair: \['dlygo'\] of \('go', 'dlygo'\) not in tasks"),
    (dict(tasks=()), "tasks"),
    (dict(n_hidden=0), "n_hidden"),
    (dict(lambdas=(0, 2)), "lambdas"),
    (dict(lambdas=(0, 0.5)), "lambdas"),
    (dict(mechanisms=("magic",)), "mechanism"),
    (dict(fp_starts=0), "fp_starts"),
    (dict(subspace_dim=100, n_hidden=8), "subspace_dim"),
    (dict(fp_tol=0), "fp_tol"),
])
def test_bad_settings_raise_clear_errors(change, word):
    with pytest.raises(ValueError, match=word):
        DynamicsConfig(**change)


def test_numbers_are_sane(dyn):
    names = list(dyn.config.tasks)
    N = dyn.config.n_hidden
    for mech in MECHS:
        (nd,) = dyn.per_network[mech]
        assert set(nd.participation) == set(names)
        assert all(1.0 <= v <= N for v in nd.participation.values())
        ov = np.asarray(nd.overlap)
        assert ov.shape == (len(names), len(names))
        np.testing.assert_allclose(np.diag(ov), 1.0, atol=1e-9)
        assert ((ov >= -1e-9) & (ov <= 1 + 1e-9)).all() and np.allclose(ov, ov.T)
        assert all(0 <= a <= 90 + 1e-6 for a in nd.pair_angles_deg)
        assert all(nd.n_stable[t] <= nd.n_fixed[t] for t in names)
        assert len(nd.forward.converged) == len(dyn.config.lambdas)
        assert nd.rest_displacement[0] == 0.0 and nd.rest_stable[0]
        # these networks settle into a stable decision fixed point that answers go at
        # l = 0 and anti at l = 1
        assert nd.attractors("forward")[0] >= 0.75
        assert nd.attractors("backward")[-1] >= 0.75
    summary = dyn.summary()["metrics"]
    for mech in MECHS:
        assert 0 <= summary[mech]["bistable_fraction"]["mean"] <= 1
        assert summary[mech]["overlap_pair"]["n"] == 1
        assert math.isnan(summary[mech]["overlap_pair"]["lo"])  # one network: no interval
    ex = dyn.examples["rule"]
    assert ex.trajectories["go"].shape[1:] == (2, 3)
    assert np.asarray(ex.forward).shape == (len(dyn.config.lambdas), 3)


def test_four_task_networks_give_bounded_numbers():
    """The N = 64 tutorial networks: not every decision state is a fixed point (some drift
    once the trial is over); every summary must still be a fraction or NaN."""
    summary = _run(("go", "anti", "dlygo", "dlyanti")).summary()["metrics"]
    for mech in MECHS:
        for key in ("attractor_i_l0", "bistable_fraction", "rest_stable_fraction"):
            assert 0.0 <= summary[mech][key]["mean"] <= 1.0


def test_json_round_trip_is_lossless(dyn):
    text = dyn.to_json()
    back = DynamicsResult.from_json(text)
    assert results_equal(back, dyn)
    assert back.to_json() == text


def test_presets_match_ambiguity_training():
    from neuromodlab.experiments.ambiguity import AmbiguityConfig

    q, a = DynamicsConfig.quick(), AmbiguityConfig.quick()
    assert q.training_settings() == {k: getattr(a, k) for k in q.training_settings()}
    for mode in ("default", "full"):
        d, ad = getattr(DynamicsConfig, mode)(), getattr(AmbiguityConfig, mode)()
        assert d.training_settings() == {k: getattr(ad, k) for k in d.training_settings()}
        assert d.pair in ad.pairs and d.lambdas[-1] == 1.0
