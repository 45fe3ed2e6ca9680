"""neuromodlab: multitask RNNs and two pathways of context modulation (a course library).

The names most scripts need can be imported from the top level::

    from neuromodlab import TaskSet, build_model, fit, TrainConfig

They are loaded on first use (``import neuromodlab`` alone does not import torch); each lives
in the module named in ``_EXPORTS`` below, where its documentation is.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "tasks": ("TASK_NAMES", "TaskConfig", "TaskSet", "Batch", "generate", "performance",
              "performance_by_task"),
    "rnn": ("RNNConfig", "CTRNN"),
    "modulation": ("MECHANISMS", "ModelConfig", "ModulatedRNN", "build_model", "make_modulator",
                   "one_hot", "mix_context", "weak_context", "noisy_context"),
    "train": ("TrainConfig", "History", "fit", "evaluate", "masked_loss", "set_seed",
              "save_checkpoint", "load_checkpoint"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = ["__version__", *_WHERE]


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'neuromodlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
