"""Self-checks and reference versions for W1D2 Tutorial 4 (task packing).

Conventions (those of :mod:`neuromodlab.experiments.packing`): a network of ``N`` units is
trained on the first ``K`` tasks of a fixed list; it *reaches* K when its worst task is at the
criterion. Capacity = the largest K of the grid that was reached (0 if none); smaller K are
not required to have been reached (each K is its own network, trained from the same start).

How the checks, references and fallback behave: see :mod:`neuromodlab.checks`.

Use in a notebook::

    from neuromodlab.checks import packing as check_packing
    check_packing.check_capacity(capacity)
"""

from __future__ import annotations

import math

import numpy as np

from ..experiments import packing as pk
from ..experiments.results import mean_ci
from ._core import CheckFailed, _call, _int, _number, _passed, _tuple, yours_or_reference

__all__ = [
    "CheckFailed", "yours_or_reference", "MECHANISMS", "reference_capacity",
    "reference_params_per_task", "reference_matched_size", "reference_capacity_summary",
    "check_capacity", "check_params_per_task", "check_matched_size",
    "check_capacity_summary",
]

MECHANISMS = ("rule", "gain", "bias", "excitability", "synaptic", "combined")


# ---------------------------------------------------------------------------------------------
# Reference versions


def reference_capacity(task_counts, reached) -> int:
    """The largest K in ``task_counts`` whose entry of ``reached`` is true; 0 if none."""
    return int(pk.capacity(list(task_counts), [bool(r) for r in reached]))


def reference_params_per_task(mechanism: str, n_hidden: int, rank: int = 1) -> int:
    """Context-pathway parameters per task: rule, gain, bias N; excitability 2N; synaptic 2RN;
    combined 2N + 2RN. ValueError for an unknown mechanism."""
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown mechanism {mechanism!r}; choose from {MECHANISMS}")
    per = {"rule": n_hidden, "gain": n_hidden, "bias": n_hidden, "excitability": 2 * n_hidden,
           "synaptic": 2 * rank * n_hidden}
    per["combined"] = per["excitability"] + per["synaptic"]
    return int(per[mechanism])


def reference_matched_size(mechanism: str, n_hidden: int, other: str, rank: int = 1,
                           params=None):
    """The network size N' at which ``other`` has as many parameters per task as ``mechanism``
    at ``n_hidden`` (both with ``rank``); None if no whole number N' does it."""
    params = params or reference_params_per_task
    budget = int(params(mechanism, n_hidden, rank))
    per_unit = int(params(other, 1, rank))  # every count is proportional to N
    if budget % per_unit:
        return None
    return budget // per_unit


def reference_capacity_summary(capacities):
    """(mean, lo, hi): mean over seeds and its 95 % t-interval (lo = hi = nan with < 2 seeds)."""
    values = np.asarray(capacities, dtype=float).reshape(-1)
    if values.size == 0:
        return (math.nan, math.nan, math.nan)
    mean, lo, hi = (float(v) for v in mean_ci(values))
    return (mean, lo, hi)


# ---------------------------------------------------------------------------------------------
# Exercise checks


def check_capacity(capacity) -> None:
    """capacity(task_counts, reached) -> int."""
    name = "capacity"
    cases = [
        ((1, 2, 3), (True, True, True), "every K reached: the largest K of the grid"),
        ((1, 2, 3), (False, False, False), "nothing reached: capacity 0"),
        ((1, 2, 3), (True, True, False), "the largest K that was reached"),
        ((1, 2, 4, 6), (True, False, True, False),
         "a gap below does not matter: the largest reached K counts"),
        ((1, 2, 3), (False, True, True), "a miss at the smallest K does not matter either"),
        ((2, 4, 8), (True, True, False), "the task counts themselves, not their positions"),
        ([3], [True], "a grid with a single K"),
    ]
    for ks, reached, why in cases:
        out, call = _call(capacity, name, list(ks), list(reached))
        got = _int(out, call)
        if got != reference_capacity(ks, reached):
            raise CheckFailed(f"{call} returned {got}: expected {why}.")
    out, call = _call(capacity, name, [1, 2, 3], np.array([True, False, False]))
    if _int(out, call) != 1:
        raise CheckFailed(f"{call} returned {out!r}: a numpy bool array should work like a "
                          "list of bools.")
    _passed(name, len(cases) + 1)


def check_params_per_task(params_per_task) -> None:
    """params_per_task(mechanism, n_hidden, rank=1) -> int."""
    name = "params_per_task"
    n = 0
    for mech in MECHANISMS:
        for N, R in ((8, 1), (32, 1), (16, 3)):
            out, call = _call(params_per_task, name, mech, N, R)
            got = _int(out, call)
            if got != reference_params_per_task(mech, N, R):
                raise CheckFailed(f"{call} returned {got}: count the context parameters one "
                                  f"task adds for {mech!r} (N = {N} units, rank R = {R}).")
            n += 1
    out, call = _call(params_per_task, name, "rule", 10)
    if _int(out, call) != 10:
        raise CheckFailed(f"{call} returned {out!r}: rank should default to 1 and the rule input "
                          "adds one weight per unit.")
    try:
        params_per_task("telepathy", 8, 1)
    except NotImplementedError:
        raise
    except ValueError:
        pass
    except Exception as err:
        raise CheckFailed(f"{name}('telepathy', 8, 1) raised {type(err).__name__}; an unknown "
                          "mechanism should raise ValueError.") from err
    else:
        raise CheckFailed(f"{name}('telepathy', 8, 1) returned a value; an unknown mechanism "
                          "should raise ValueError.")
    _passed(name, n + 2)


def check_matched_size(matched_size) -> None:
    """matched_size(mechanism, n_hidden, other, rank=1, params=None) -> int or None; called
    with ``params=reference_params_per_task`` so that only matched_size itself is checked."""
    name = "matched_size"
    cases = [("excitability", 16, "synaptic", 1), ("rule", 32, "excitability", 1),
             ("synaptic", 16, "rule", 2), ("combined", 8, "gain", 1),
             ("rule", 7, "excitability", 1), ("excitability", 12, "synaptic", 3),
             ("bias", 24, "bias", 1)]
    for mech, N, other, R in cases:
        out, call = _call(matched_size, name, mech, N, other, R,
                          params=reference_params_per_task)
        want = reference_matched_size(mech, N, other, R)
        if want is None:
            if out is not None:
                raise CheckFailed(f"{call} returned {out!r}: no whole number of units gives "
                                  "an equal budget here, so it should return None.")
            continue
        got = _int(out, call)
        if got != want:
            raise CheckFailed(f"{call} returned {got}: at that size {other!r} does not have "
                              f"as many parameters per task as {mech!r} with N = {N}.")
    _passed(name, len(cases))


def _three_numbers(out, call) -> list:
    names = ("mean", "lo", "hi")
    return [_number(v, call, n, finite=False)
            for v, n in zip(_tuple(out, call, names, kind="numbers"), names, strict=True)]


def check_capacity_summary(capacity_summary) -> None:
    """capacity_summary(capacities) -> (mean, lo, hi)."""
    name = "capacity_summary"
    cases = [[2, 2, 2], [1, 2], [0, 1, 3, 2, 2], [4, 6, 6, 6, 4, 3, 2, 6, 6, 4]]
    for caps in cases:
        out, call = _call(capacity_summary, name, list(caps))
        got = _three_numbers(out, call)
        want = reference_capacity_summary(caps)
        if not math.isclose(got[0], want[0], abs_tol=1e-9):
            raise CheckFailed(f"{call}: the first number should be the mean over seeds.")
        if not (got[1] <= got[0] <= got[2]):
            raise CheckFailed(f"{call}: the interval (lo, hi) should contain the mean.")
        if not np.allclose(got[1:], want[1:], atol=1e-6):
            raise CheckFailed(f"{call}: the interval is not the 95 % t-interval "
                              "mean +- t_quantile(n - 1) * sd / sqrt(n), with the sample sd "
                              "(ddof = 1).")
    out, call = _call(capacity_summary, name, [3])
    got = _three_numbers(out, call)
    if not (math.isclose(got[0], 3.0) and math.isnan(got[1]) and math.isnan(got[2])):
        raise CheckFailed(f"{call}: with a single seed the mean is that seed's capacity and "
                          "the interval is undefined (math.nan, math.nan).")
    _passed(name, len(cases) + 1)
