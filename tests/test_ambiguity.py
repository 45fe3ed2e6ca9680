"""The ambiguity experiment: settings validation, scoring identities, JSON round trip."""

import math

import numpy as np
import pytest
import torch

from neuromodlab.experiments.ambiguity import (
    METRICS,
    AmbiguityConfig,
    AmbiguityResult,
    first_crossing,
    probe_pair,
    run_ambiguity,
    shared_trials,
)
from neuromodlab.experiments.results import results_equal
from neuromodlab.tasks import TaskConfig, TaskSet, performance

TINY = dict(tasks=("go", "anti"), pairs=(("go", "anti"),), mechanisms=("rule", "synaptic"),
            seeds=(0, 1), n_hidden=8, max_steps=6, eval_every=3, lambdas=(0, 0.5, 1),
            strengths=(0, 0.5, 1), noise_stds=(0, 1), n_trials=24, include="all")


@pytest.fixture(scope="module")
def tiny():
    return run_ambiguity(AmbiguityConfig(**TINY), quiet=True)


# ------------------------------------------------------------------------------ settings
@pytest.mark.parametrize("change, word", [
    (dict(tasks=()), "tasks"),
    (dict(tasks=("go", "nope")), "tasks"),
    (dict(n_hidden=0), "n_hidden"),
    (dict(n_hidden=-3), "n_hidden"),
    (dict(lambdas=(0, 0.5, 1.2)), "lambdas"),
    (dict(lambdas=(-0.1, 0.5)), "lambdas"),
    (dict(lambdas=()), "lambdas"),
    (dict(lambdas=(0.2, 0.5)), "lambdas"),
    (dict(strengths=(0, 0.5)), "strengths"),
    (dict(noise_stds=(0.5, 1.0)), "noise_stds"),
    (dict(strengths=(0, 1.5)), "strengths"),
    (dict(noise_stds=(-1,)), "noise_stds"),
    (dict(mechanisms=("rule", "telepathy")), "mechanism"),
    (dict(mechanisms=()), "mechanisms"),
    (dict(pairs=(("go", "dlygo"),)), "pairs"),
    (dict(pairs=(("go", "go"),)), "pairs"),
    (dict(pairs=()), "pairs"),
    (dict(seeds=()), "seeds"),
    (dict(n_trials=0), "n_trials"),
    (dict(include="some"), "include"),
])
def test_bad_settings_raise_clear_errors(change, word):
    with pytest.raises(ValueError, match=word):
        AmbiguityConfig(**{**TINY, **change})


@pytest.mark.parametrize("change, allowed", [
    (dict(mechanisms=("rule", "telepathy")), "choose from ('rule', 'excitability'"),
    (dict(tasks=("go", "nope")), "choose from ('go', "),
    (dict(n_hidden=0), "n_hidden must be an int >= 1, got 0"),
    (dict(seeds=(0, 0)), "give each once"),
    (dict(lambdas=(0, 1.2)), "in [0, 1], got 1.2"),
    (dict(strengths=(0, 0.5)), "must end at 1"),
    (dict(pairs=(("go", "dlygo"),)), "not in tasks ('go', 'anti')"),
])
def test_error_messages_say_what_is_allowed(change, allowed):
    with pytest.raises(ValueError) as err:
        AmbiguityConfig(**{**TINY, **change})
    assert allowed in str(err.value)


def test_presets_are_valid_and_ordered_by_size():
    q, d, f = AmbiguityConfig.quick(), AmbiguityConfig.default(), AmbiguityConfig.full()
    assert len(d.seeds) >= 3 and len(f.seeds) >= len(d.seeds)
    assert q.max_steps < d.max_steps <= f.max_steps
    assert d.lambdas[0] == 0.0 and d.lambdas[-1] == 1.0 and 0.5 in d.lambdas
    assert set(d.mechanisms) == {"rule", "excitability", "synaptic", "combined"}


def test_non_conflicting_pair_is_rejected():
    ts = TaskSet(["dm1", "dm2"])
    with pytest.raises(ValueError, match="same stimuli"):
        shared_trials(ts, "dm1", "dm2", 4, 0)
    with pytest.raises(ValueError, match="same stimuli"):
        run_ambiguity(AmbiguityConfig(**{**TINY, "tasks": ("dm1", "dm2"),
                                         "pairs": (("dm1", "dm2"),)}), quiet=True)


@pytest.mark.parametrize("i, j", [("go", "anti"), ("dlygo", "dlyanti"), ("ctxdm1", "ctxdm2"),
                                  ("dms", "dnms")])
def test_shared_trials_have_identical_stimuli_and_valid_conflicts(i, j):
    ts = TaskSet([i, j], TaskConfig())
    bi, bj, conflict = shared_trials(ts, i, j, 64, 3)
    assert torch.equal(bi.inputs, bj.inputs)
    if (i, j) in (("go", "anti"), ("dlygo", "dlyanti"), ("dms", "dnms")):
        assert bool(conflict.all())  # opposite answers on every trial
    else:  # ctxdm: only trials whose rings disagree
        assert 0 < int(conflict.sum()) < 64


def test_first_crossing():
    x = [0.0, 0.5, 1.0]
    assert first_crossing(x, [1.0, 0.6, 0.2]) == pytest.approx(0.5 + 0.5 * 0.1 / 0.4)
    assert first_crossing(x, [0.4, 0.6, 0.2]) == 0.0
    assert first_crossing(x, [1.0, 0.9, 0.8], default=1.0) == 1.0
    assert math.isnan(first_crossing(x, [1.0, 0.9, 0.8]))


# ------------------------------------------------------------------------------- results
def test_result_fields_are_sane(tiny):
    cfg = tiny.config
    assert [(r.mechanism, r.seed) for r in tiny.networks] == [
        (m, s) for m in cfg.mechanisms for s in cfg.seeds]
    for by_form in tiny.curves.values():
        assert set(by_form) == {"blend", "weak", "noisy"}
        for by_mech in by_form.values():
            for cur in by_mech.values():
                p = np.array([cur.p_i, cur.p_j, cur.p_neither])  # (3, seeds, x)
                assert p.shape == (3, len(cfg.seeds), len(cur.x))
                assert ((p >= 0) & (p <= 1)).all()
                np.testing.assert_allclose(p.sum(0), 1.0, atol=1e-12)
                assert all(n == cfg.n_trials for n in cur.n_conflict)  # go/anti: all trials
    for by_mech in tiny.metrics.values():
        for values in by_mech.values():
            assert set(values) == set(METRICS)
            assert all(0 <= v <= 1 for v in values["l50"] + values["auc_half"])
    summary = tiny.summary()
    assert summary["training"]["rule"]["n"] == len(cfg.seeds)
    assert set(summary["metrics"]["go->anti"]["synaptic"]["l50"]) == {"mean", "lo", "hi", "n"}


def test_curves_start_at_the_trained_performance(tiny):
    """At l = 0 (and s = 1, sigma = 0) P(task i) is the network's performance on task i with
    its one-hot cue, computed here independently from TaskSet.sample_task + performance."""
    ts = tiny.config.taskset()
    for mech in tiny.config.mechanisms:
        for k, seed in enumerate(tiny.config.seeds):
            model = tiny.trained[mech][k][0]
            batch = ts.sample_task("go", tiny.config.n_trials, 10_000 + seed)
            gen = torch.Generator().manual_seed(10_000 + seed + 2)
            with torch.no_grad():
                out = model(batch.inputs, batch.context, generator=gen).outputs
            trained = performance(out, batch).double().mean().item()
            curves = tiny.curves["go->anti"]
            assert curves["blend"][mech].p_i[k][0] == pytest.approx(trained, abs=1e-12)
            assert curves["weak"][mech].p_i[k][-1] == pytest.approx(trained, abs=1e-12)
            assert curves["noisy"][mech].p_i[k][0] == pytest.approx(trained, abs=1e-12)
            assert tiny.metrics["go->anti"][mech]["perf_l0"][k] == pytest.approx(trained)


def test_pretrained_network_switches_from_go_to_anti():
    """A trained network follows go at l = 0 (at its recorded performance) and anti at l = 1."""
    from neuromodlab.experiments import load_pretrained

    model, ts, entry = load_pretrained("rule", return_info=True)
    out = probe_pair(model, ts, "go", "anti", {"blend": (0.0, 1.0)}, n_trials=128, seed=5)
    p_i, p_j, _ = out["blend"]
    assert p_i[0] == pytest.approx(entry["performance"]["go"], abs=0.08)
    assert p_i[0] > 0.85 and p_j[-1] > 0.85
    assert p_j[0] < 0.1 and p_i[-1] < 0.1


def test_json_round_trip_is_lossless(tiny, tmp_path):
    text = tiny.to_json()
    back = AmbiguityResult.from_json(text)
    assert results_equal(back, tiny)
    assert back.to_json() == text
    path = tiny.save(tmp_path / "amb.json")
    assert results_equal(AmbiguityResult.load(path), tiny)
    assert isinstance(back.config.pairs[0], tuple) and isinstance(back.config.lambdas, tuple)


def test_same_seed_same_numbers(tiny):
    again = run_ambiguity(AmbiguityConfig(**TINY), quiet=True)
    assert again.curves == tiny.curves and again.metrics == tiny.metrics


# ----------------------------------------------------------------------- results helpers
def test_results_helpers_round_trip_and_statistics():
    import dataclasses

    from neuromodlab.experiments.results import (
        JSONResult,
        RunInfo,
        diff_ci,
        format_ci,
        markdown_table,
        mean_ci,
        run_info,
    )

    @dataclasses.dataclass
    class R(JSONResult):
        a: tuple[str, ...] = ("x",)
        b: dict[str, list[float]] = dataclasses.field(
            default_factory=lambda: {"p": [1.0, math.nan, math.inf, -math.inf, 0.1]})
        c: np.ndarray = dataclasses.field(
            default_factory=lambda: np.arange(6, dtype=np.float32).reshape(2, 3))
        d: dict[int, float | None] = dataclasses.field(default_factory=lambda: {3: None})
        e: RunInfo = dataclasses.field(default_factory=lambda: run_info([1, 2], 3.5))
        f: list[tuple[str, str]] = dataclasses.field(default_factory=lambda: [("go", "anti")])

    r = R()
    text = r.to_json()
    assert "NaN" in text and "Infinity" in text
    import json

    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    back = R.from_json(text)
    assert results_equal(back, r) and back.c.dtype == np.float32 and back.f == [("go", "anti")]
    assert back.e.seeds == [1, 2] and back.e.library_version
    mean, lo, hi = mean_ci([[1.0, 2.0], [3.0, np.nan], [5.0, 4.0]])
    assert mean.tolist() == [3.0, 3.0]
    assert lo[0] == pytest.approx(3.0 - 4.303 * 2.0 / math.sqrt(3), rel=1e-3)
    assert math.isnan(mean_ci([0.5])[1])
    d = diff_ci([1.0, 1.1, 0.9], [0.0, 0.1, -0.1])
    assert d["diff"] == pytest.approx(1.0) and d["lo"] > 0
    # Welch by hand: se = sqrt(0.01 / 3 + 0.01 / 3), t_{0.975, 2} = 4.303
    assert d["hi"] - d["diff"] == pytest.approx(4.303 * math.sqrt(0.02 / 3))
    assert format_ci(0.5, 0.25, 0.75) == "0.50 [0.25, 0.75]"
    assert format_ci({"mean": 0.5, "lo": math.nan, "hi": math.nan}) == "0.50"
    assert format_ci(math.nan) == "n/a"
    assert markdown_table(["a", "b"], [(1, "x")]) == "| a | b |\n|---|---|\n| 1 | x |"
