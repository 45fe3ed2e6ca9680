"""Demo: which (K, seed) networks of a packing sweep reached the criterion (W1D2 Tutorial 4).

Works on any :class:`~neuromodlab.experiments.packing.PackingResult` (the notebook passes the
one it just ran). For one mechanism and one network size N:

- left: a task count K x seed grid; colour = the worst task's fraction correct at the last
  evaluation, text = "reached @ step s" or the worst task's accuracy; the capacity of each seed
  (largest K reached) is written under its column;
- right: capacity against N for every mechanism (:func:`neuromodlab.plotting.packing.
  plot_capacity`, numbers = context parameters per task), the chosen N marked.

``show_packing_grid(result, mechanism, n_hidden)`` returns the Figure (nothing is shown);
``packing_demo(result)`` wraps it in two dropdowns (ipywidgets 7 and 8).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..plotting.packing import plot_packing_grid


def _check(result, mechanism, n_hidden):
    c = result.config
    if mechanism not in c.mechanisms:
        raise ValueError(f"mechanism must be one of {c.mechanisms}, got {mechanism!r}")
    if n_hidden not in c.n_hidden:
        raise ValueError(f"n_hidden must be one of {c.n_hidden}, got {n_hidden!r}")


def worst_grid(result, mechanism: str, n_hidden: int) -> np.ndarray:
    """(len(task_counts), len(seeds)): worst task's final fraction correct per network."""
    _check(result, mechanism, n_hidden)
    c = result.config
    return np.array([[min(result.run(mechanism, n_hidden, k, s).performance.values())
                      for s in c.seeds] for k in c.task_counts])


def show_packing_grid(result, mechanism: str, n_hidden: int):
    """The figure of the demo (see the module docstring), drawn by
    :func:`neuromodlab.plotting.packing.plot_packing_grid`."""
    _check(result, mechanism, n_hidden)
    return plot_packing_grid(result, mechanism, n_hidden,
                             worst_grid(result, mechanism, n_hidden))


def packing_demo(result, mechanism: str | None = None, n_hidden: int | None = None):
    """An ``ipywidgets.interactive`` around :func:`show_packing_grid` for ``result``."""
    import ipywidgets as widgets

    c = result.config
    mechanism = mechanism or c.mechanisms[0]
    n_hidden = n_hidden or c.n_hidden[0]
    _check(result, mechanism, n_hidden)

    def update(mechanism, n_hidden):
        fig = show_packing_grid(result, mechanism, n_hidden)
        plt.show()
        plt.close(fig)

    return widgets.interactive(
        update,
        mechanism=widgets.Dropdown(options=list(c.mechanisms), value=mechanism,
                                   description="mechanism"),
        n_hidden=widgets.Dropdown(options=list(c.n_hidden), value=n_hidden,
                                  description="N (units)"),
    )


__all__ = ["show_packing_grid", "packing_demo", "worst_grid"]
