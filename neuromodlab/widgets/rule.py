"""Demo: a context as a drive (through the leak) or as a bias (on the rate), W1D1 Tutorial 3.

``show_drive_vs_bias(amplitude, tau, baseline, pulse_ms)`` simulates one leaky unit,
``tau dx/dt = -x + I + d(t)``, ``r = relu(x + b(t))``, with the context pulse given either as a
drive ``d`` or as a bias ``b`` of the same amplitude, and returns the Figure (side by side).
``drive_bias_demo()`` wraps it in sliders. Both accept ``run_fn``: any function with the
signature of the tutorial's ``run_leaky(inputs, drive, bias, alpha, x0=None) -> (states, rates)``
(default: :func:`neuromodlab.checks.rule.reference_run_leaky`, the tutorial's own fallback),
so the demo can run the student's own integrator.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..checks.rule import reference_run_leaky
from ..plotting.rule import plot_drive_vs_bias

DURATION_MS = 1500.0
ONSET_MS = 300.0
DT_MS = 5.0
AMPLITUDE_RANGE = (-1.0, 1.5)
TAU_RANGE = (20.0, 500.0)
BASELINE_RANGE = (-1.0, 1.0)
PULSE_RANGE = (20.0, 1000.0)


def simulate_drive_vs_bias(amplitude=0.5, tau=100.0, baseline=0.2, pulse_ms=400.0,
                           dt=DT_MS, run_fn=None):
    """Time (ms), the context's amplitude, and (states, rates) of the drive and bias versions.

    The unit starts at rest (x = baseline); the context is on from ONSET_MS for pulse_ms.
    Returns ``dict(t, context, drive_states, drive_rates, bias_states, bias_rates)``, numpy
    arrays of shape (T,).
    """
    if not (0 < dt <= tau):
        raise ValueError(f"need 0 < dt <= tau, got dt={dt}, tau={tau}")
    run = run_fn or reference_run_leaky
    T = int(round(DURATION_MS / dt))
    t = np.arange(T) * dt
    on = (t >= ONSET_MS) & (t < ONSET_MS + pulse_ms)
    context = torch.tensor(on, dtype=torch.float32)[:, None, None] * float(amplitude)
    inputs = torch.full((T, 1, 1), float(baseline))
    zero = torch.zeros(T, 1, 1)
    x0 = torch.full((1, 1), float(baseline))  # at rest before the context
    alpha = dt / tau
    with torch.no_grad():
        drive_states, drive_rates = run(inputs, context, zero, alpha, x0=x0)
        bias_states, bias_rates = run(inputs, zero, context, alpha, x0=x0)

    def flat(v):
        return torch.as_tensor(v).detach().float().reshape(T).numpy()

    return dict(t=t, context=context.reshape(T).numpy(), drive_states=flat(drive_states),
                drive_rates=flat(drive_rates), bias_states=flat(bias_states),
                bias_rates=flat(bias_rates))


FRACTION_TAU = 1 - math.exp(-1)  # the fraction of a step a leaky unit covers in one tau


def time_to_fraction(t, trace, start_ms, change, fraction=FRACTION_TAU):
    """First time (ms after ``start_ms``) at which ``trace`` has moved by ``fraction`` of
    ``change`` from its value just before ``start_ms``; nan if it never does."""
    t, trace = np.asarray(t), np.asarray(trace)
    if change == 0:
        return float("nan")
    before = trace[t < start_ms][-1] if (t < start_ms).any() else trace[0]
    after = t >= start_ms
    hit = np.flatnonzero((trace[after] - before) / change >= fraction - 1e-9)
    return float(t[after][hit[0]] - start_ms) if len(hit) else float("nan")


def show_drive_vs_bias(amplitude=0.5, tau=100.0, baseline=0.2, pulse_ms=400.0, dt=DT_MS,
                       run_fn=None):
    """The figure of the demo: the rate of one unit with the context as a drive (left) and as
    a bias (right); dashed: the steady-state rate with the context on. Returns the Figure."""
    sim = simulate_drive_vs_bias(amplitude, tau, baseline, pulse_ms, dt, run_fn)
    steady = max(baseline + amplitude, 0.0)
    fig = plot_drive_vs_bias(sim["t"], sim["context"], sim["drive_rates"], sim["bias_rates"],
                             steady=[steady], labels=[f"unit with I = {baseline:g}"], tau=tau,
                             drive_states=sim["drive_states"])
    # how far the drive got: the state covers 63% of its step after about tau
    window = sim["t"] < ONSET_MS + pulse_ms
    t63 = time_to_fraction(sim["t"][window], sim["drive_states"][window], ONSET_MS, amplitude)
    reached = (sim["drive_states"][window][-1] - baseline) / amplitude if amplitude else 1.0
    msg = (f"drive: x covers 63% of its step {t63:g} ms after onset" if t63 == t63 else
           "drive: x does not cover 63% of its step while the context is on")
    fig.suptitle(f"amplitude {amplitude:g}, $\\tau$ = {tau:g} ms, pulse {pulse_ms:g} ms\n{msg}; "
                 f"by the end of the pulse it covered {100 * reached:.0f}%.  Bias: at once.",
                 fontsize=9)
    return fig


def drive_bias_demo(run_fn=None):
    """An ``ipywidgets.interactive`` around :func:`show_drive_vs_bias` (amplitude, tau,
    baseline input and pulse duration)."""
    import ipywidgets as widgets

    def update(amplitude, tau, baseline, pulse_ms):
        fig = show_drive_vs_bias(amplitude, tau, baseline, pulse_ms, run_fn=run_fn)
        plt.show()
        plt.close(fig)

    def slider(value, bounds, step, description):
        return widgets.FloatSlider(value=value, min=bounds[0], max=bounds[1], step=step,
                                   description=description, continuous_update=False,
                                   style={"description_width": "initial"})

    return widgets.interactive(
        update,
        amplitude=slider(0.5, AMPLITUDE_RANGE, 0.1, "amplitude d = b"),
        tau=slider(100.0, TAU_RANGE, 10.0, "tau (ms)"),
        baseline=slider(0.2, BASELINE_RANGE, 0.1, "baseline input I"),
        pulse_ms=slider(400.0, PULSE_RANGE, 20.0, "pulse (ms)"),
    )
