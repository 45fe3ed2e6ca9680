"""The pretrained checkpoints shipped in neuromodlab/data/ load and meet their recorded
performance, re-measured with the recorded evaluation seed."""

import hashlib
import sys
from pathlib import Path

import pytest

from neuromodlab.experiments import DATA_DIR, MANIFEST, list_pretrained, load_pretrained
from neuromodlab.train import evaluate

ENTRIES = list_pretrained() if MANIFEST.exists() else []


def test_manifest_lists_one_network_per_mechanism_within_a_few_megabytes():
    assert MANIFEST.exists(), "run scripts/make_checkpoints.py"
    mechs = {e["mechanism"] for e in ENTRIES}
    assert {"rule", "excitability", "synaptic", "combined"} <= mechs
    total = sum((DATA_DIR / e["file"]).stat().st_size for e in ENTRIES)
    assert total < 5e6
    for e in ENTRIES:
        data = (DATA_DIR / e["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"], e["file"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_checkpoint_meets_its_recorded_performance(entry):
    model, taskset, info = load_pretrained(entry["mechanism"], tasks=entry["tasks"],
                                           n_hidden=entry["n_hidden"], return_info=True)
    assert info == entry
    assert list(taskset.names) == entry["tasks"]
    assert model.params_per_task() == entry["params_per_task"]
    perf = evaluate(model, taskset, entry["eval_trials"], seed=entry["eval_seed"],
                    noise=entry["eval_noise"])
    slack = 2 / entry["eval_trials"]  # float rounding may flip a trial on another platform
    assert set(perf) == set(entry["performance"])
    for task, recorded in entry["performance"].items():
        # the same measurement: equal up to a flipped trial (better would mean a stale entry)
        assert abs(perf[task] - recorded) <= slack, (task, perf[task], recorded)
        assert perf[task] >= 0.9, (task, perf[task])


def test_load_pretrained_errors_are_clear():
    with pytest.raises(ValueError, match="mechanism"):
        load_pretrained("telepathy")
    with pytest.raises(ValueError, match="n_hidden"):
        load_pretrained("rule", n_hidden=3)


def test_checkpoints_are_package_data():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    root = Path(__file__).resolve().parents[1]
    cfg = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = cfg["tool"]["setuptools"]["package-data"]["neuromodlab"]
    assert "data/*.pt" in patterns and "data/*.json" in patterns
    assert DATA_DIR == root / "neuromodlab" / "data"
