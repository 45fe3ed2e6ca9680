"""Demo: what one shipped network answers under a blended cue (W1D2 Tutorial 3).

The network (a shipped checkpoint trained on go and anti, N = 32, one per mechanism) sees one
go/anti stimulus -- the same inputs for both tasks -- under the cue ``c = (1 - l) e_go +
l e_anti``. Left: its response ring at the last step against the go answer and the anti answer
(opposite directions). Middle: its fixation output over the trial. Right: on 128 shared trials,
the fraction of responses that follow go, follow anti, or neither, against ``l`` (the current
``l`` marked).

``show_blend_response(l, mechanism, trial)`` returns the Figure (nothing is shown);
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
from ..plotting.cues import plot_sweep
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
    t_ms = (np.arange(batch_i.T) + 1) * dt
    n_ring = out.shape[1] - 1
    deg = np.degrees(preferred_directions(n_ring))
    angle_i = float(batch_i.target_angle[trial])
    angle_j = float(batch_j.target_angle[trial])
    answer = verdict(outputs, batch_i, batch_j, trial)

    fig, (ax_ring, ax_fix, ax_p) = plt.subplots(1, 3, figsize=(13, 4.3), layout="constrained")
    closed = np.r_[deg, 360.0]
    for target, angle, name, color in ((batch_i.targets, angle_i, PAIR[0], "C0"),
                                       (batch_j.targets, angle_j, PAIR[1], "C3")):
        ring = target[-1, trial, 1:].numpy()
        ax_ring.plot(closed, np.r_[ring, ring[0]], "--", color=color, lw=1.5,
                     label=f"{name} target ({np.degrees(angle):.0f} deg)")
        for shift in (-360.0, 0.0, 360.0):  # the tolerance band, wrapped around the ring
            ax_ring.axvspan(np.degrees(angle - CORRECT_ANGLE) + shift,
                            np.degrees(angle + CORRECT_ANGLE) + shift, color=color, alpha=0.08,
                            lw=0)
    ring = out[-1, 1:]
    ax_ring.plot(closed, np.r_[ring, ring[0]], "o-", color="k", ms=4, lw=1.8, label="network")
    ax_ring.axvline(np.degrees(_decode(ring)), color="k", ls=":", lw=1,
                    label=f"decoded ({np.degrees(_decode(ring)):.0f} deg)")
    ax_ring.set(xlabel="preferred direction of the output unit (deg)",
                ylabel="response ring output (a.u.)", xticks=range(0, 361, 90), xlim=(-5, 365),
                title=f"last step: response follows {answer}")
    ax_ring.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
                   frameon=False)  # under the axes: never on a curve

    go = int(batch_i.epochs["decision"][trial, 0])
    ax_fix.plot(t_ms, batch_i.targets[:, trial, 0].numpy(), "--", color="0.5",
                label="target (both tasks)")
    ax_fix.plot(t_ms, out[:, 0], color="k", lw=1.8, label="network")
    ax_fix.axhline(0.5, color="C2", lw=0.8, ls=":", label="threshold 0.5")
    ax_fix.axvline(go * dt, color="0.7", lw=1, label="go cue")
    ax_fix.set(xlabel="time (ms)", ylabel="fixation output (a.u.)", ylim=(-0.3, 1.3),
               title="fixation output")
    ax_fix.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
                  frameon=False)

    plot_sweep(CURVE_LAMBDAS, blend_curve(mechanism), PAIR, ax=ax_p, mark=l,
               title="all trials, this network", xlabel="blend l (dimensionless)",
               ylabel=f"fraction of {N_TRIALS} trials")
    fig.suptitle(f"{mechanism} network (N = {N_HIDDEN}), cue (1 - l) e_go + l e_anti with "
                 f"l = {float(l):.2f}, trial {trial}", fontsize=11)
    return fig


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
