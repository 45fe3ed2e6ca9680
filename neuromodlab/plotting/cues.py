"""Figures of W1D2 Tutorial 3 (context ambiguity) drawn from plain arrays: the three outcome
fractions of one network against a blended cue, one panel per mechanism, weakened / noisy
cues, and one trial's response beside the blend curve (:func:`plot_blend_response`, the figure
of :func:`neuromodlab.widgets.ambiguity.show_blend_response`). (The figures of the library's
multi-seed experiment, drawn from its result object, are in
:mod:`neuromodlab.plotting.ambiguity`.)

``fractions`` is always the triple ``(p_i, p_j, p_neither)`` of arrays over the cue grid, as
returned by ``blend_sweep`` in the tutorial and by
:func:`neuromodlab.experiments.ambiguity.score`. Returns a Figure; nothing is shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .ambiguity import FORM_AXIS, OUTCOME_STYLE, _legend_below
from .dynamics import _figure
from .packing import MECH_COLORS

MARKERS = {"p_i": "o-", "p_j": "s-", "p_neither": "^-"}


def _axis_label(form: str) -> str:
    return FORM_AXIS[form] + " (dimensionless)"


def plot_sweep(lambdas, fractions, names: Sequence[str] = ("i", "j"), ax=None,
               title: str | None = None, xlabel: str | None = None, mark=None,
               legend: bool = True, ylabel: str = "fraction of trials"):
    """P(follows i), P(follows j), P(neither) against the blend ``l`` (dotted: l = 0.5).

    ``names``: the two tasks, replacing "task i" / "task j" in the legend; ``mark``: a value
    of l to mark with a dashed line (e.g. the current slider value)."""
    fig, ax = _figure(ax, (5.5, 3.4))
    for values, (key, (color, label)) in zip(fractions, OUTCOME_STYLE.items(), strict=True):
        label = label.replace("task i", names[0]).replace("task j", names[1])
        ax.plot(lambdas, np.asarray(values, dtype=float), MARKERS[key], color=color, ms=3,
                label=label)
    ax.axvline(0.5, color="0.8", lw=0.8, ls=":")
    if mark is not None:
        ax.axvline(float(mark), color="k", lw=1, ls="--", label=f"l = {float(mark):.2f}")
    ax.set(xlabel=xlabel or _axis_label("blend"), ylabel=ylabel, ylim=(-0.03, 1.03))
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(fontsize=7, frameon=False, loc="best")
    return fig


def plot_mechanism_sweeps(lambdas, sweeps: Mapping, switch: Mapping | None = None,
                          names: Sequence[str] = ("go", "anti"), suptitle: str | None = None):
    """One panel per mechanism (``sweeps``: name -> fractions), the switch point ``switch[name]``
    (the l where P(i) falls below 0.5; NaN if it never does) marked by a dashed line."""
    fig, axes = plt.subplots(1, len(sweeps), figsize=(3.3 * len(sweeps), 3.4), sharey=True,
                             layout="constrained", squeeze=False)
    for k, (ax, (mech, fractions)) in enumerate(zip(axes[0], sweeps.items(), strict=True)):
        plot_sweep(lambdas, fractions, names, ax=ax, title=mech, xlabel="blend l (dimensionless)",
                   legend=False, ylabel="fraction of trials" if k == 0 else "")
        l50 = (switch or {}).get(mech, math.nan)
        if not math.isnan(l50):
            ax.axvline(l50, color=OUTCOME_STYLE["p_i"][0], lw=1, ls="--")
    _legend_below(fig, axes[0, 0])
    fig.suptitle(suptitle or f"Blended cue {names[0]} (i) -> {names[1]} (j), one network per "
                 "mechanism (dashed: switch point)", fontsize=10)
    return fig


def plot_cue_variants(strengths, weak: Mapping, noise_stds, noisy: Mapping,
                      names: Sequence[str] = ("go", "anti")):
    """P(follows i) against the cue strength s (left; from the clean cue s = 1 to no cue) and
    the cue noise std (right), one line per mechanism (``weak``, ``noisy``: name -> fractions)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained", sharey=True)
    for k, mech in enumerate(weak):
        style = dict(ms=3, color=MECH_COLORS.get(mech, f"C{k}"), label=mech)
        axes[0].plot(strengths, weak[mech][0], "o-", **style)
        axes[1].plot(noise_stds, noisy[mech][0], "o-", **style)
    axes[0].set(xlabel=_axis_label("weak"), ylabel=f"fraction following {names[0]} (i)",
                ylim=(-0.03, 1.03), title="weakened cue")
    axes[1].set(xlabel=_axis_label("noisy"), title="noisy cue")
    axes[0].invert_xaxis()  # from the clean cue (s = 1) to no cue (s = 0)
    axes[1].legend(fontsize=8, frameon=False)
    return fig


def _legend_under(ax) -> None:
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
              frameon=False)  # under the axes: never on a curve


def plot_blend_response(output, ring_targets: Mapping, target_angles: Mapping, fixation_target,
                        directions, lambdas, fractions, l: float, *,  # noqa: E741
                        decoded: float, answer: str, dt: float, go_ms: float, tolerance: float,
                        n_trials: int, suptitle: str | None = None):
    """One trial of two tasks i, j sharing their inputs, under a blended cue, and the blend curve.

    Left: the network's response ring at the last step (``output`` (T, 1 + n_ring), column 0 the
    fixation output) against the ring target of each task (``ring_targets``: name -> (n_ring,),
    dashed, the tolerance band ``target_angles[name] +- tolerance`` (rad) shaded), the decoded
    direction ``decoded`` (rad) dotted and the verdict ``answer`` in the title; ``directions``
    (n_ring,): the preferred directions (rad) of the output units. Middle: the fixation output
    over the trial (step k at ``(k + 1) dt`` ms) against ``fixation_target`` (T,), the 0.5
    threshold and the go cue at ``go_ms``. Right: :func:`plot_sweep` of ``fractions`` over
    ``lambdas`` (on ``n_trials`` trials) with the current ``l`` marked. Legends of the first two
    panels are under the axes.
    """
    out = np.asarray(output, dtype=float)
    names = tuple(ring_targets)
    t_ms = (np.arange(out.shape[0]) + 1) * dt
    fig, (ax_ring, ax_fix, ax_p) = plt.subplots(1, 3, figsize=(13, 4.3), layout="constrained")
    closed = np.r_[np.degrees(directions), 360.0]
    for name, (color, _) in zip(names, OUTCOME_STYLE.values(), strict=False):
        ring = np.asarray(ring_targets[name], dtype=float)
        angle = float(target_angles[name])
        ax_ring.plot(closed, np.r_[ring, ring[0]], "--", color=color, lw=1.5,
                     label=f"{name} target ({np.degrees(angle):.0f} deg)")
        for shift in (-360.0, 0.0, 360.0):  # the tolerance band, wrapped around the ring
            ax_ring.axvspan(np.degrees(angle - tolerance) + shift,
                            np.degrees(angle + tolerance) + shift, color=color, alpha=0.08,
                            lw=0)
    ring = out[-1, 1:]
    ax_ring.plot(closed, np.r_[ring, ring[0]], "o-", color="k", ms=4, lw=1.8, label="network")
    ax_ring.axvline(np.degrees(decoded), color="k", ls=":", lw=1,
                    label=f"decoded ({np.degrees(decoded):.0f} deg)")
    ax_ring.set(xlabel="preferred direction of the output unit (deg)",
                ylabel="response ring output (a.u.)", xticks=range(0, 361, 90), xlim=(-5, 365),
                title=f"last step: response follows {answer}")
    _legend_under(ax_ring)

    ax_fix.plot(t_ms, np.asarray(fixation_target, dtype=float), "--", color="0.5",
                label="target (both tasks)")
    ax_fix.plot(t_ms, out[:, 0], color="k", lw=1.8, label="network")
    ax_fix.axhline(0.5, color="C2", lw=0.8, ls=":", label="threshold 0.5")
    ax_fix.axvline(go_ms, color="0.7", lw=1, label="go cue")
    ax_fix.set(xlabel="time (ms)", ylabel="fixation output (a.u.)", ylim=(-0.3, 1.3),
               title="fixation output")
    _legend_under(ax_fix)

    plot_sweep(lambdas, fractions, names, ax=ax_p, mark=l, title="all trials, this network",
               xlabel="blend l (dimensionless)", ylabel=f"fraction of {n_trials} trials")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig
