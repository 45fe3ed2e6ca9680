"""Self-checks and reference versions for W1D1 Tutorial 1 (tasks as data; a rate RNN from its
equation). The notebook uses them through the package: ``from neuromodlab import checks``, then
``checks.check_ring_bump(ring_bump)``.

Exercises: ``ring_bump`` (the stimulus bump), ``go_timecourse`` (fixation input, fixation target
and loss mask of a Go trial), ``trial_correct`` (the performance measure), ``euler_step`` (one
step of the RNN) and ``run_rnn`` (the rollout).
"""

from __future__ import annotations

import math

import torch

from .. import rnn, tasks
from ._core import CheckFailed, _call, _finite, _passed, _shape, _tensor, _tuple, yours_or_reference

__all__ = [
    "CheckFailed", "yours_or_reference", "check_ring_bump", "check_go_timecourse",
    "check_trial_correct", "check_euler_step", "check_run_rnn", "reference_ring_bump",
    "reference_go_timecourse", "reference_trial_correct", "reference_euler_step",
    "reference_run_rnn",
]


# ---------------------------------------------------------------------------------------------
# Reference versions (the library's), with the exercises' signatures


def reference_ring_bump(angle, n_ring: int) -> torch.Tensor:
    """(B,) angles -> (B, n_ring) bump: 0.8 exp(-d^2 / 2), d = circular distance / (pi / 8)."""
    angle = torch.as_tensor(angle, dtype=torch.float64).reshape(-1)
    return torch.as_tensor(tasks.ring_bump(angle.numpy(), n_ring), dtype=torch.float32)


def _grace_steps(dt: float) -> int:
    """Steps t with t * dt < 100 ms (the same rounding as the library's loss mask)."""
    return math.ceil(tasks.MASK_GRACE_MS / dt - 1e-9)


def reference_go_timecourse(n_steps: int, go_step: int, dt: float):
    """Fixation input, fixation target and ring loss mask of a Go trial, each (n_steps,).

    The library builds these for whole batches inside ``tasks.generate``; this is the same rule
    for one trial, from the same constants (tests compare it with generated Go trials)."""
    t = torch.arange(n_steps)
    before_go = t < go_step
    fixation_input = before_go.float()
    fixation_target = torch.where(before_go, torch.tensor(tasks.FIX_TARGET_ON),
                                  torch.tensor(tasks.FIX_TARGET_OFF)).float()
    grace = _grace_steps(dt)
    mask = torch.where(before_go, torch.tensor(tasks.MASK_BEFORE_GO),
                       torch.where(t < go_step + grace, torch.tensor(0.0),
                                   torch.tensor(tasks.MASK_RESPONSE))).float()
    mask[:grace] = 0.0
    return fixation_input, fixation_target, mask


def reference_trial_correct(y_last, target_angle, fixate) -> torch.Tensor:
    """(B, 1 + n_ring) outputs at the last step -> (B,) bool, as ``tasks.performance`` decides
    (which needs a whole Batch; tests check that the two agree)."""
    y_last = torch.as_tensor(y_last).detach().double()
    target_angle = torch.as_tensor(target_angle, dtype=torch.float64)
    fixate = torch.as_tensor(fixate, dtype=torch.bool)
    theta = torch.as_tensor(tasks.preferred_directions(y_last.shape[1] - 1))
    ring = y_last[:, 1:]
    decoded = torch.atan2(ring @ theta.sin(), ring @ theta.cos())
    close = tasks.circular_distance(decoded, target_angle) < tasks.CORRECT_ANGLE
    fixating, released = y_last[:, 0] > 0.5, y_last[:, 0] < 0.5  # exactly 0.5 is neither
    return torch.where(fixate, fixating, released & close)


def reference_euler_step(x, u, W_rec, W_in, b, alpha) -> torch.Tensor:
    """x' = (1 - alpha) x + alpha (W_rec relu(x) + W_in u + b) (rnn.euler_step, no noise)."""
    return rnn.euler_step(x, u, W_rec, W_in, b, alpha)


def reference_run_rnn(inputs, W_rec, W_in, b, alpha, x0=None, step=None) -> torch.Tensor:
    """Roll ``step`` (default: the reference Euler step) over inputs (T, B, n_in) -> (T, B, N)."""
    step = step or reference_euler_step
    x = inputs.new_zeros(inputs.shape[1], W_rec.shape[0]) if x0 is None else x0
    states = []
    for u in inputs:
        x = step(x, u, W_rec, W_in, b, alpha)
        states.append(x)
    return torch.stack(states)


# ---------------------------------------------------------------------------------------------
# Exercise checks

def check_ring_bump(ring_bump) -> None:
    """Checks ``ring_bump(angle (B,), n_ring) -> (B, n_ring)``."""
    name = "ring_bump"
    out, call = _call(ring_bump, name, torch.tensor([0.0]), 8)
    out = _tensor(out, call).float()
    _shape(out, (1, 8), call, "one row per angle, one column per ring unit")
    _finite(out, call)
    if abs(out[0, 0].item() - tasks.BUMP_AMPLITUDE) > 1e-4:
        raise CheckFailed(f"{call}: unit 0 prefers exactly the stimulus angle, so it should carry "
                          f"the peak value 0.8; yours is {out[0, 0].item():.4g}.")
    if (out < -1e-6).any() or (out > tasks.BUMP_AMPLITUDE + 1e-6).any():
        raise CheckFailed(f"{call}: every value should lie between 0 and the peak 0.8.")
    if not torch.allclose(out[0, 1:], out[0, 1:].flip(0), atol=1e-5):
        raise CheckFailed(f"{call}: units on either side of the stimulus (k and n_ring - k) are "
                          "equally far from it and should carry equal values; use the circular "
                          "distance.")
    if not (out[0, :5].diff() < 0).all():
        raise CheckFailed(f"{call}: values should decrease as units get further from the "
                          "stimulus (units 0 to 4).")
    a = torch.tensor([0.3])
    out1, call1 = _call(ring_bump, name, a, 8)
    out2, call2 = _call(ring_bump, name, a + 2 * math.pi, 8)
    if not torch.allclose(_tensor(out1, call1).float(), _tensor(out2, call2).float(), atol=1e-5):
        raise CheckFailed(f"{call1} and {call2} should be equal: angles 2 pi apart are the same "
                          "direction (wrap the distance to [0, pi]).")
    angles = torch.tensor([0.3, 2.5, 5.5])
    for n_ring in (8, 16):
        out, call = _call(ring_bump, name, angles, n_ring)
        out = _tensor(out, call).float()
        _shape(out, (3, n_ring), call, "one row per angle, one column per ring unit")
        expected = reference_ring_bump(angles, n_ring)
        err = (out - expected).abs()
        if err.max() > 1e-4:
            row, unit = divmod(int(err.argmax()), n_ring)
            raise CheckFailed(
                f"{call}: the values differ from the expected bump (largest difference "
                f"{err.max().item():.3g}, for angle {angles[row].item():.2f} at unit {unit}). "
                "Check the preferred directions (2 pi k / n_ring), the circular distance and "
                "that d is measured in units of pi / 8.")
    _passed(name, 7)


def check_go_timecourse(go_timecourse) -> None:
    """Checks ``go_timecourse(n_steps, go_step, dt) -> (fixation_input, fixation_target, mask)``."""
    name = "go_timecourse"
    count = 0
    for n_steps, go_step, dt in ((30, 20, 20.0), (60, 35, 10.0), (25, 12, 30.0)):
        out, call = _call(go_timecourse, name, n_steps, go_step, dt)
        labels = ("fixation_input", "fixation_target", "mask")
        out = _tuple(out, call, labels, kind="tensors")
        expected = reference_go_timecourse(n_steps, go_step, dt)
        for label, got, want in zip(labels, out, expected, strict=True):
            got = _tensor(got, call, f"a torch tensor for {label}").float()
            _shape(got, (n_steps,), call + f" -> {label}", "one value per time step")
            _finite(got, call)
            wrong = (got - want).abs() > 1e-5
            if wrong.any():
                t = int(wrong.nonzero()[0])
                where = ("before the go cue" if t < go_step else "at or after the go cue")
                raise CheckFailed(
                    f"{call} -> {label}: step {t} (t = {t * dt:g} ms, {where} at "
                    f"{go_step * dt:g} ms) is {got[t].item():.3g}, which is not what the "
                    f"instructions ask for. Re-read the rule for {label} around that time "
                    "(the first 100 ms, before the go cue, the 100 ms after it, the rest).")
            count += 1
    _passed(name, count)


def _bump_output(angle: float, n_ring: int, fixation: float) -> torch.Tensor:
    y = torch.full((1 + n_ring,), tasks.RING_BASELINE)
    y[0] = fixation
    y[1:] += reference_ring_bump(torch.tensor([angle]), n_ring)[0]
    return y


def check_trial_correct(trial_correct) -> None:
    """Checks ``trial_correct(y_last (B, 1 + n_ring), target_angle (B,), fixate (B,)) -> (B,)``."""
    name = "trial_correct"
    n = 8
    nan = float("nan")
    cases = [  # (description, ring bump angle, fixation output, target, fixate, correct?)
        ("a fixate trial whose fixation output is 0.9", 1.0, 0.9, nan, True, True),
        ("a fixate trial whose fixation output is 0.1", 1.0, 0.1, nan, True, False),
        ("a response at the target angle with fixation output 0.1", 2.0, 0.1, 2.0, False, True),
        ("a response opposite the target", 2.0 + math.pi, 0.1, 2.0, False, False),
        ("a response at the target but fixation output still 0.9", 2.0, 0.9, 2.0, False, False),
        ("a response 0.15 pi from the target", 1.0 + 0.15 * math.pi, 0.1, 1.0, False, True),
        ("a response 0.25 pi from the target", 1.0 + 0.25 * math.pi, 0.1, 1.0, False, False),
        ("a response at 6.2 rad for a target at 0.05 rad (across 0 = 2 pi)", 6.2, 0.1, 0.05,
         False, True),
    ]
    y = torch.stack([_bump_output(a, n, f) for _, a, f, _, _, _ in cases])
    target = torch.tensor([c[3] for c in cases], dtype=torch.float64)
    fixate = torch.tensor([c[4] for c in cases])
    out, call = _call(trial_correct, name, y, target, fixate)
    out = _tensor(out, call)
    _shape(out, (len(cases),), call, "one answer per trial")
    if out.dtype != torch.bool:
        raise CheckFailed(f"{call} should return a bool tensor (True = correct), got {out.dtype}.")
    for k, (label, *_, correct) in enumerate(cases):
        if bool(out[k]) != correct:
            raise CheckFailed(f"{call}: trial {k} is {label}; it should count as "
                              f"{'correct' if correct else 'wrong'}.")
    g = torch.Generator().manual_seed(0)
    y = torch.rand(64, 1 + n, generator=g)
    target = torch.rand(64, generator=g, dtype=torch.float64) * 2 * math.pi
    fixate = torch.rand(64, generator=g) < 0.3
    target[fixate] = nan
    out, call = _call(trial_correct, name, y, target, fixate)
    out = _tensor(out, call)
    _shape(out, (64,), call, "one answer per trial")
    mismatch = out.bool() != reference_trial_correct(y, target, fixate)
    if mismatch.any():
        raise CheckFailed(f"{call} on 64 random outputs: {int(mismatch.sum())} trial(s) judged "
                          "differently from the performance rule in the instructions (decode "
                          "the angle with the population vector, compare circular distances).")
    _passed(name, len(cases) + 1)


def _rnn_problem(seed: int, B: int = 3, N: int = 5, n_in: int = 4):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, N, generator=g), torch.rand(B, n_in, generator=g),
            torch.randn(N, N, generator=g) / math.sqrt(N), torch.randn(N, n_in, generator=g),
            torch.randn(N, generator=g) * 0.1)


def check_euler_step(euler_step) -> None:
    """Checks ``euler_step(x (B, N), u (B, n_in), W_rec, W_in, b, alpha) -> (B, N)``."""
    name = "euler_step"
    x, u, W_rec, W_in, b = _rnn_problem(0)
    out, call = _call(euler_step, name, x, u, W_rec, W_in, b, 0.2)
    out = _tensor(out, call).float()
    _shape(out, x.shape, call, "the next state: same shape as x, (B, N)")
    _finite(out, call)
    out0, call0 = _call(euler_step, name, x, u, W_rec, W_in, b, 0.0)
    if not torch.allclose(_tensor(out0, call0).float(), x, atol=1e-5):
        raise CheckFailed(f"{call0}: with alpha = 0 (dt = 0) the state should not change.")
    out1, call1 = _call(euler_step, name, x, u, W_rec, W_in, b, 1.0)
    target = reference_euler_step(x, u, W_rec, W_in, b, 1.0)
    if not torch.allclose(_tensor(out1, call1).float(), target, atol=1e-5):
        raise CheckFailed(f"{call1}: with alpha = 1 the old state is forgotten, so the result "
                          "should be the total input W_rec r + W_in u + b alone (r = relu(x)); "
                          "check that term (matrix orientation, the ReLU, the bias).")
    if not torch.allclose(out, reference_euler_step(x, u, W_rec, W_in, b, 0.2), atol=1e-5):
        raise CheckFailed(f"{call}: the result differs from the equation; check how alpha mixes "
                          "the old state and the total input.")
    xs, us = x[:1], u[:1]
    single, call_s = _call(euler_step, name, xs, us, W_rec, W_in, b, 0.2)
    if not torch.allclose(_tensor(single, call_s).float(), out[:1], atol=1e-5):
        raise CheckFailed(f"{call_s}: trial 0 alone should give the same next state as in a batch "
                          "(trials must not mix).")
    _passed(name, 5)


def check_run_rnn(run_rnn) -> None:
    """Checks ``run_rnn(inputs (T, B, n_in), W_rec, W_in, b, alpha, x0=None, step=...)``."""
    name = "run_rnn"
    _, _, W_rec, W_in, b = _rnn_problem(1)
    g = torch.Generator().manual_seed(2)
    inputs = torch.rand(6, 3, 4, generator=g)
    out, call = _call(run_rnn, name, inputs, W_rec, W_in, b, 0.2, step=reference_euler_step)
    out = _tensor(out, call).float()
    _shape(out, (6, 3, 5), call, "one state per time step: (T, B, N)")
    _finite(out, call)
    first = reference_euler_step(torch.zeros(3, 5), inputs[0], W_rec, W_in, b, 0.2)
    if not torch.allclose(out[0], first, atol=1e-5):
        raise CheckFailed(f"{call}: states[0] should be the state after the first step from "
                          "x0 = 0 with the input at time 0.")
    if not torch.allclose(out, reference_run_rnn(inputs, W_rec, W_in, b, 0.2), atol=1e-5):
        raise CheckFailed(f"{call}: later states differ from repeatedly applying step; feed each "
                          "new state into the next step, with the input of that time step.")
    x0 = torch.full((3, 5), 0.5)
    out, call = _call(run_rnn, name, inputs, W_rec, W_in, b, 0.2, x0=x0,
                      step=reference_euler_step)
    if not torch.allclose(_tensor(out, call).float(),
                          reference_run_rnn(inputs, W_rec, W_in, b, 0.2, x0=x0), atol=1e-5):
        raise CheckFailed(f"{call}: the rollout should start from x0 when it is given.")
    calls = []

    def counting_step(x, u, *rest):
        calls.append(1)
        return reference_euler_step(x, u, *rest)

    out, call = _call(run_rnn, name, inputs, W_rec, W_in, b, 0.2, step=counting_step)
    if len(calls) != inputs.shape[0]:
        raise CheckFailed(f"{call}: step should be called once per time step "
                          f"({inputs.shape[0]} times), it was called {len(calls)} times.")
    _passed(name, 4)

