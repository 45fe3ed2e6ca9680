"""Every figure the notebooks show. Each function returns a matplotlib Figure (headless-safe).

Functions live in one module per topic (``neuromodlab.plotting.<topic>``, e.g. ``trials``,
``training``, ``dynamics``). Each ``plot_*`` function can also be reached directly, as
``neuromodlab.plotting.plot_trial``: the topic modules are found in this package and imported on
first use, so that importing :mod:`neuromodlab.plotting` itself stays cheap.
"""

from __future__ import annotations

import importlib
import pkgutil

_MODULES = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__)
                         if not m.name.startswith("_")))


def _modules():
    for name in _MODULES:
        yield importlib.import_module(f"{__name__}.{name}")


def __getattr__(name):
    if not name.startswith("plot_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    found = [mod for mod in _modules() if callable(getattr(mod, name, None))]
    owners = {getattr(mod, name).__module__ for mod in found}  # re-exports count once
    if len(owners) > 1:
        raise AttributeError(f"{name} is defined in several modules ({', '.join(sorted(owners))})"
                             f": import it from the one you mean")
    if not found:
        raise AttributeError(f"neuromodlab.plotting has no figure function {name!r}; "
                             f"the figure functions are: {', '.join(_plot_names())}")
    return getattr(found[0], name)


def _plot_names() -> list:
    return sorted({n for mod in _modules() for n in dir(mod) if n.startswith("plot_")})


def __dir__():
    return sorted(set(globals()) | set(_plot_names()))
