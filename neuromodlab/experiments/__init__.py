"""Reduced experiments inspired by Vedovati & Ching (2024): ambiguity, packing, dynamics.

- :mod:`.ambiguity`: blended / weakened / noisy context cues -> P(task i), P(task j), P(neither);
- :mod:`.packing` and :mod:`.initialisation`: capacity and the initial-scale confound;
- :mod:`.dynamics`: PCA, dimensionality, task subspaces, fixed points, context interpolation;
- :mod:`.networks`: the training shared by ambiguity and dynamics;
  :mod:`.fixed_points`: fixed-point search and continuation along a blended context;
- :mod:`.results`: result objects <-> JSON without loss, statistics helpers;
- :mod:`.reproduce`: ``python -m neuromodlab reproduce`` (all of them, figures), with
  :mod:`.report` writing report.md;
- :mod:`.distributed`: the same sweeps with their ensembles trained on Dask workers.

Pretrained networks shipped with the package (so notebooks can skip training)::

    from neuromodlab.experiments import load_pretrained, list_pretrained
    model = load_pretrained("synaptic")                       # tasks go, anti, dlygo, dlyanti
    model, taskset, entry = load_pretrained("rule", return_info=True)
    entry["performance"]                                       # recorded fraction correct

The results of the default ambiguity and packing runs ship too (``load_shipped_result``).

Submodules are imported on first use, so importing this package is cheap.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MANIFEST = DATA_DIR / "checkpoints.json"

_LAZY = {
    "AmbiguityConfig": "ambiguity", "AmbiguityResult": "ambiguity", "run_ambiguity": "ambiguity",
    "DynamicsConfig": "dynamics", "DynamicsResult": "dynamics", "run_dynamics": "dynamics",
    "PackingConfig": "packing", "PackingResult": "packing", "run_packing": "packing",
    "InitialisationConfig": "initialisation", "run_initialisation": "initialisation",
    "reproduce": "reproduce", "JSONResult": "results", "RunInfo": "results",
    "mean_ci": "results",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def list_pretrained() -> list[dict]:
    """The manifest entries of the shipped checkpoints (file, mechanism, tasks, sizes,
    training settings, recorded performance and how it was measured)."""
    if not MANIFEST.exists():
        raise FileNotFoundError(f"no checkpoint manifest at {MANIFEST}; run "
                                "scripts/make_checkpoints.py")
    return json.loads(MANIFEST.read_text())["checkpoints"]


def load_pretrained(mechanism: str, tasks=None, n_hidden: int | None = None,
                    return_info: bool = False):
    """A shipped, trained :class:`~neuromodlab.modulation.ModulatedRNN`.

    mechanism: "rule", "excitability", "synaptic" or "combined" (see ``list_pretrained()``);
    tasks / n_hidden: pick among checkpoints of that mechanism (default: the first, trained on
    go, anti, dlygo, dlyanti with N = 64). With ``return_info=True`` returns
    ``(model, taskset, entry)``: the :class:`~neuromodlab.tasks.TaskSet` it was trained on and
    its manifest entry (``entry["performance"]`` was measured with
    ``evaluate(model, taskset, entry["eval_trials"], seed=entry["eval_seed"])``).
    """
    from ..tasks import TaskConfig, TaskSet
    from ..train import load_checkpoint

    entries = list_pretrained()
    mechanisms = sorted({e["mechanism"] for e in entries})
    matches = [e for e in entries if e["mechanism"] == mechanism
               and (tasks is None or tuple(e["tasks"]) == tuple(tasks))
               and (n_hidden is None or e["n_hidden"] == n_hidden)]
    if not matches:
        if mechanism not in mechanisms:
            raise ValueError(f"no pretrained network for mechanism {mechanism!r}; available: "
                             f"{mechanisms}")
        raise ValueError(f"no pretrained {mechanism!r} network with tasks={tasks}, "
                         f"n_hidden={n_hidden}; see list_pretrained()")
    entry = matches[0]
    model, _, _ = load_checkpoint(DATA_DIR / entry["file"])
    model.eval()
    if not return_info:
        return model
    taskset = TaskSet(list(entry["tasks"]), TaskConfig(**entry["task_config"]))
    return model, taskset, entry


RESULTS_DIR = DATA_DIR / "results"
# name -> (module, result class): experiments whose default run ships with the package
SHIPPED_RESULTS = {"ambiguity": ("ambiguity", "AmbiguityResult"),
                   "packing": ("packing", "PackingResult")}


def load_shipped_result(name: str):
    """The result of the *default* run of experiment ``name`` ("ambiguity" or "packing"),
    shipped with the package so that notebooks can show the larger experiment without running
    it: an :class:`~neuromodlab.experiments.ambiguity.AmbiguityResult` or
    :class:`~neuromodlab.experiments.packing.PackingResult` (its ``config`` is the default
    configuration, its ``info`` says when and with which versions it was computed). Produced
    by ``scripts/make_shipped_results.py`` (``python -m neuromodlab reproduce`` computes the
    same numbers)."""
    if name not in SHIPPED_RESULTS:
        raise ValueError(f"no shipped result for {name!r}; shipped: {sorted(SHIPPED_RESULTS)}")
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/make_shipped_results.py")
    module, cls = SHIPPED_RESULTS[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls).load(path)


__all__ = ["load_pretrained", "list_pretrained", "load_shipped_result", *_LAZY]
