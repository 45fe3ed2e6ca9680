"""Every figure the notebooks show. Each function returns a matplotlib Figure (headless-safe).

Functions live in one module per topic; they are imported from there on first use, so that
importing :mod:`neuromodlab.plotting` stays cheap.
"""

from __future__ import annotations

import importlib

_MODULES = ("trials", "training", "activity", "rule", "modulation", "synaptic", "dynamics",
            "ambiguity", "packing")


def __getattr__(name):
    for module in _MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as err:  # a topic module not installed: skip only that one
            if err.name != f"{__name__}.{module}":
                raise
            continue
        if hasattr(mod, name) and not name.startswith("_"):
            return getattr(mod, name)
    raise AttributeError(f"neuromodlab.plotting has no figure function {name!r}")


def __dir__():
    names = set(globals())
    for module in _MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ImportError:
            continue
        names.update(n for n in dir(mod) if n.startswith("plot_"))
    return sorted(names)
