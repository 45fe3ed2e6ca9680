"""Interactive demos (ipywidgets) for the tutorials.

Every demo is a thin ``interactive`` wrapper around a plain plotting function that takes the
slider values and returns a matplotlib Figure, so the figure code runs (and is tested) headless.
Only widget APIs common to ipywidgets 7 and 8 are used (``interactive``, sliders, dropdowns),
and ipywidgets is imported only when a demo is built.
"""

from .tasks import show_trial, trial_demo

__all__ = ["show_trial", "trial_demo"]
