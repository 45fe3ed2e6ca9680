"""Demo: what one shipped network answers under a blended cue (W1D2 Tutorial 3).

The network (a shipped checkpoint trained on go and anti, N = 32, one per mechanism) sees one
go/anti stimulus -- the same inputs for both tasks -- under the cue ``c = (1 - l) e_go +
l e_anti``. Left: its response ring at the last step against the go answer and the anti answer
(opposite directions). Middle: its fixation output over the trial. Right: on 128 shared trials,
the fraction of responses that follow go, follow anti, or neither, against ``l`` (the current
``l`` marked).

``show_blend_response(l, mechanism, trial)`` returns the Figure (drawn by
:func:`neuromodlab.plotting.cues.plot_blend_response`; nothing is shown);
``ambiguity_demo()`` wraps it in a slider and dropdowns (ipywidgets 7 and 8).
"""

from __future__ import annotations

import functools
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..experiments import ambiguity as amb
from ..experiments import load_pretrained
from ..modulation import mix_context
from ..plotting.cues import plot_blend_response
from ..tasks import CORRECT_ANGLE, performance, preferred_directions
from ..train import torch_threads

MECHANISMS = ("rule", "excitability", "synaptic", "combined")
PAIR = ("go", "anti")
N_HIDDEN = 32
TRIAL_SEED = 7
NOISE_SEED = 11
N_TRIALS = 128
N_SHOWN = 8  # trials the dropdown offers
CURVE_LAMBDAS = tuple(round(0.1 * k, 10) for k in range(11))


@functools.cache
def _network(mechanism: str):
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {MECHANISMS}, got {mechanism!r}")
    model, taskset, _ = load_pretrained(mechanism, tasks=PAIR, n_hidden=N_HIDDEN,
                                        return_info=True)
    return model, taskset


@functools.cache
def _trials():
    _, taskset = _network(MECHANISMS[0])
    return amb.shared_trials(taskset, PAIR[0], PAIR[1], N_TRIALS, TRIAL_SEED)


def _run(mechanism: str, l: float):  # noqa: E741
    model, taskset = _network(mechanism)
    batch_i, _, _ = _trials()
    context = mix_context(0, 1, float(l), taskset.K, batch_i.batch_size)
    with torch.no_grad(), torch_threads(1):
        gen = torch.Generator().manual_seed(NOISE_SEED)
        return model(batch_i.inputs, context, generator=gen).outputs


@functools.cache
def blend_curve(mechanism: str):
    """P(go), P(anti), P(neither) over ``CURVE_LAMBDAS`` for the demo's network (cached)."""
    model, taskset = _network(mechanism)
    batch_i, batch_j, conflict = _trials()
    contexts = [mix_context(0, 1, float(v), taskset.K, batch_i.batch_size)
                for v in CURVE_LAMBDAS]
    with torch_threads(1):
        return tuple(np.asarray(p) for p in amb.score(model, batch_i, batch_j, conflict,
                                                      contexts, NOISE_SEED))


def _decode(ring: np.ndarray) -> float:
    theta = preferred_directions(ring.shape[-1])
    return float(np.arctan2(ring @ np.sin(theta), ring @ np.cos(theta)) % (2 * math.pi))


def verdict(outputs, batch_i, batch_j, trial: int) -> str:
    """'go', 'anti' or 'neither' for one trial, judged by the library's performance measure."""
    if bool(performance(outputs, batch_i)[trial]):
        return PAIR[0]
    if bool(performance(outputs, batch_j)[trial]):
        return PAIR[1]
    return "neither"


def show_blend_response(l: float = 0.0, mechanism: str = "rule", trial: int = 0):  # noqa: E741
    """Response ring and fixation output of one go/anti trial under the cue
    ``(1 - l) e_go + l e_anti``, and the blend curve of that network; returns the Figure."""
    if not 0.0 <= float(l) <= 1.0:
        raise ValueError(f"l must be in [0, 1], got {l}")
    trial = int(trial)
    if not 0 <= trial < N_TRIALS:
        raise ValueError(f"trial must be in [0, {N_TRIALS}), got {trial}")
    outputs = _run(mechanism, l)
    out = outputs[:, trial].numpy()
    batch_i, batch_j, _ = _trials()
    dt = batch_i.dt
    n_ring = out.shape[1] - 1
    ring_targets = {name: batch.targets[-1, trial, 1:].numpy()
                    for name, batch in zip(PAIR, (batch_i, batch_j), strict=True)}
    target_angles = {name: float(batch.target_angle[trial])
                     for name, batch in zip(PAIR, (batch_i, batch_j), strict=True)}
    go = int(batch_i.epochs["decision"][trial, 0])
    return plot_blend_response(
        out, ring_targets, target_angles, batch_i.targets[:, trial, 0].numpy(),
        preferred_directions(n_ring), CURVE_LAMBDAS, blend_curve(mechanism), l,
        decoded=_decode(out[-1, 1:]), answer=verdict(outputs, batch_i, batch_j, trial), dt=dt,
        go_ms=go * dt, tolerance=CORRECT_ANGLE, n_trials=N_TRIALS,
        suptitle=f"{mechanism} network (N = {N_HIDDEN}), cue (1 - l) e_go + l e_anti with "
                 f"l = {float(l):.2f}, trial {trial}")


def ambiguity_demo(l: float = 0.5, mechanism: str = "rule"):  # noqa: E741
    """An ``ipywidgets.interactive`` around :func:`show_blend_response`."""
    import ipywidgets as widgets

    def update(l, mechanism, trial):  # noqa: E741
        fig = show_blend_response(l, mechanism, trial)
        plt.show()
        plt.close(fig)

    return widgets.interactive(
        update,
        l=widgets.FloatSlider(value=l, min=0.0, max=1.0, step=0.1, description="blend l",
                              continuous_update=False),
        mechanism=widgets.Dropdown(options=list(MECHANISMS), value=mechanism,
                                   description="mechanism"),
        trial=widgets.Dropdown(options=list(range(N_SHOWN)), value=0, description="trial"),
    )
