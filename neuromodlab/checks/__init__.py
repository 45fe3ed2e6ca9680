"""Friendly self-checks for the tutorials' coding exercises (they work in Colab, no nbgrader).

Each ``check_<exercise>(your_function)`` calls your function on a few small inputs. When all is
well it prints one line and returns None. When something is off it raises :class:`CheckFailed`
(an ``AssertionError``) saying which call failed and which property was expected (the shape, a
value the instructions give, a symmetry, agreement with the reference to some tolerance) --
never the answer itself. A ``NotImplementedError`` from an unfinished exercise is passed through
unchanged.

``yours_or_reference`` lets the rest of a notebook run when an exercise is unfinished: it returns
your function if it works on a small example, else the library's reference version.

The ``reference_*`` functions are the library's versions with the exercises' signatures; they are
what the tutorials fall back to (and what the hidden tests compare against).

One module per tutorial; each re-exports ``CheckFailed`` and ``yours_or_reference``, so a notebook
can write ``from neuromodlab.checks import rule as checks`` and then ``checks.check_...``:

=============  ======================================================================
``basics``     W1D1 Tutorial 1: tasks as data, the RNN step (also available here, on the package)
``training``   W1D1 Tutorial 2: training multitask networks
``rule``       W1D1 Tutorial 3: what a rule input is
``excitability`` W1D2 Tutorial 1: excitability modulation
``synaptic``   W1D2 Tutorial 2: synaptic modulation
``ambiguity``  W1D2 Tutorial 3: context ambiguity
``packing``    W1D2 Tutorial 4: task packing
``dynamics``   W1D2 Tutorial 5: neural dynamics
=============  ======================================================================
"""

from __future__ import annotations

from ._core import CheckFailed, yours_or_reference
from .basics import (
                     check_euler_step,
                     check_go_timecourse,
                     check_ring_bump,
                     check_run_rnn,
                     check_trial_correct,
                     reference_euler_step,
                     reference_go_timecourse,
                     reference_ring_bump,
                     reference_run_rnn,
                     reference_trial_correct,
)

__all__ = [
    "CheckFailed", "check_ring_bump", "check_go_timecourse", "check_trial_correct",
    "check_euler_step", "check_run_rnn", "yours_or_reference", "reference_ring_bump",
    "reference_go_timecourse", "reference_trial_correct", "reference_euler_step",
    "reference_run_rnn",
]
