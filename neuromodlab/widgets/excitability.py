"""Demos of excitability modulation (W1D2 Tutorial 1).

- ``show_unit_modulation(gain, bias, activation)``: what a gain and a bias do to a unit's rate
  curve and to three example units' rates over a trial; ``unit_modulation_demo()`` wraps it in
  sliders.
- ``show_context_blend(model, taskset, task_i, task_j, blend)``: a trained network driven by the
  blended context ``(1 - blend) e_i + blend e_j``: the effective gains and biases, where its
  responses point relative to the stimulus, and one trial's ring output;
  ``context_blend_demo(model, taskset)`` wraps it in dropdowns and a slider.

The ``show_*`` functions are plain: they return a Figure and show nothing (tested headless).
The demos call them and then ``plt.show()``, so the figure is drawn in the widget's output on
every change (ipywidgets 7 and 8).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from ..modulation import mix_context
from ..plotting.modulation import plot_context_blend, plot_unit_modulation
from ..tasks import preferred_directions

GAIN_RANGE = (-1.0, 3.0)
BIAS_RANGE = (-2.0, 2.0)
ACTIVATIONS = ("relu", "softplus", "tanh")


def show_unit_modulation(gain: float = 1.0, bias: float = 0.0, activation: str = "relu"):
    """Rate curve and example rates of a unit with rate ``phi(gain * x + bias)``; a Figure."""
    return plot_unit_modulation(float(gain), float(bias), activation)


def unit_modulation_demo(gain: float = 1.0, bias: float = 0.0):
    """Sliders for the gain and the bias, a dropdown for the nonlinearity."""
    import ipywidgets as widgets

    def update(gain, bias, activation):
        show_unit_modulation(gain, bias, activation)
        plt.show()

    return widgets.interactive(
        update,
        gain=widgets.FloatSlider(value=gain, min=GAIN_RANGE[0], max=GAIN_RANGE[1], step=0.1,
                                 description="gain g", continuous_update=False),
        bias=widgets.FloatSlider(value=bias, min=BIAS_RANGE[0], max=BIAS_RANGE[1], step=0.1,
                                 description="bias b", continuous_update=False),
        activation=widgets.Dropdown(options=list(ACTIVATIONS), value="relu",
                                    description="phi"),
    )


@torch.no_grad()
def blend_responses(model, taskset, task_i, task_j, blend: float, n_trials: int = 64,
                    seed: int = 0) -> dict:
    """Run ``model`` on ``n_trials`` trials of ``task_i`` under the context
    ``(1 - blend) e_i + blend e_j``. Returns a dict: ``effect`` (the ContextEffect of e_i, e_j and
    the blend, each for one trial), ``relative_angle`` (B,) response minus stimulus direction
    (rad), ``fixating`` (B,) bool, ``outputs`` (T, B, n_out), ``batch``."""
    names = list(taskset.names)
    i, j = names.index(task_i), names.index(task_j)
    batch = taskset.sample_task(i, n_trials, seed=seed)
    K = taskset.K
    context = mix_context(i, j, float(blend), K, n_trials)
    gen = torch.Generator().manual_seed(seed)
    out = model(batch.inputs, context, generator=gen).outputs
    last = out[-1].double()
    theta = torch.as_tensor(preferred_directions(last.shape[1] - 1))
    response = torch.atan2(last[:, 1:] @ theta.sin(), last[:, 1:] @ theta.cos())
    stim = batch.latent.get("stim_angle", batch.latent.get("stim1_angle"))
    if stim is None or torch.isnan(stim).all():
        stim = batch.target_angle
    effects = {label: model.effect(c[None]) for label, c in
               ((task_i, mix_context(i, j, 0.0, K)), (task_j, mix_context(i, j, 1.0, K)),
                (f"blend {float(blend):.2f}", mix_context(i, j, float(blend), K)))}
    return dict(effect=effects, relative_angle=(response - stim).numpy(),
                fixating=(last[:, 0] > 0.5).numpy(), outputs=out, batch=batch,
                stimulus=stim.numpy())


def show_context_blend(model, taskset, task_i: str = "go", task_j: str = "anti",
                       blend: float = 0.0, n_trials: int = 64, seed: int = 0):
    """Figure: effective gain/bias per unit (task i, task j, the blend), the distribution of
    response directions relative to the stimulus on trials of task i, one trial's ring output."""
    res = blend_responses(model, taskset, task_i, task_j, blend, n_trials, seed)
    N = model.config.n_hidden

    def per_unit(effect):
        g = effect.gain[0] if effect.gain is not None else torch.ones(N)
        b = effect.bias[0] if effect.bias is not None else None
        return g, b

    unit_effects = {label: per_unit(e) for label, e in res["effect"].items()}
    c = f"{1 - float(blend):.2f} x {task_i} + {float(blend):.2f} x {task_j}"
    return plot_context_blend(unit_effects, res["relative_angle"], res["fixating"],
                              res["outputs"][:, 0, 1:], taskset.config.dt,
                              stimulus=float(res["stimulus"][0]),
                              title=f"trials of {task_i} under the context {c}")


def context_blend_demo(model, taskset, task_i: str | None = None, task_j: str | None = None):
    """Dropdowns for the two tasks, a slider for the blend (0 = task i, 1 = task j)."""
    import ipywidgets as widgets

    names = list(taskset.names)
    task_i = task_i or names[0]
    task_j = task_j or names[1 % len(names)]

    def update(task_i, task_j, blend):
        show_context_blend(model, taskset, task_i, task_j, blend)
        plt.show()

    return widgets.interactive(
        update,
        task_i=widgets.Dropdown(options=names, value=task_i, description="trials of"),
        task_j=widgets.Dropdown(options=names, value=task_j, description="blend with"),
        blend=widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1,
                                  description="blend", continuous_update=False),
    )


__all__ = ["show_unit_modulation", "unit_modulation_demo", "blend_responses",
           "show_context_blend", "context_blend_demo"]
