"""Self-checks and reference versions for W1D1 Tutorial 3 (what a rule input really is).

Each ``check_<exercise>(your_function)`` calls your function on small inputs and either prints
one line (all is well) or raises :class:`~neuromodlab.checks.CheckFailed` naming the call that
failed and the property that was expected -- never the answer. A ``NotImplementedError`` from
an unfinished exercise is passed through unchanged.

The ``reference_*`` functions have the exercises' signatures; the tutorial falls back to them
when an exercise is unfinished. The notebook imports this module as ``checks``
(``from neuromodlab.checks import rule as checks``), so ``CheckFailed`` and
``yours_or_reference`` of :mod:`neuromodlab.checks` are re-exported here.

Shapes: ``T`` time steps, ``B`` trials, ``N`` units, ``K`` tasks (length of the context).
"""

from __future__ import annotations

import torch

from .. import analysis
from ._core import CheckFailed, _call, _passed, _shape, _tensor, _tuple, yours_or_reference

__all__ = [
    "CheckFailed", "yours_or_reference",
    "check_rule_drive", "check_run_leaky", "check_steady_state", "check_task_variance",
    "check_normalized_task_variance", "reference_rule_drive", "reference_run_leaky",
    "reference_steady_state", "reference_task_variance", "reference_normalized_task_variance",
]


# ---------------------------------------------------------------------------------------------
# Reference versions (the exercises' signatures)


def reference_rule_drive(W_rule, context) -> torch.Tensor:
    """W_rule (N, K), context (B, K) -> the drive W_rule c of every trial, (B, N)."""
    return torch.as_tensor(context).float() @ torch.as_tensor(W_rule).float().T


def reference_run_leaky(inputs, drive, bias, alpha, x0=None):
    """Independent leaky units: x[t] = (1 - alpha) x[t-1] + alpha (I[t] + d[t]), x[-1] = x0,
    r[t] = relu(x[t] + b[t]). inputs, drive, bias (T, B, N) -> (states, rates), each (T, B, N)."""
    inputs = torch.as_tensor(inputs).float()
    drive, bias = torch.as_tensor(drive).float(), torch.as_tensor(bias).float()
    x = torch.zeros(inputs.shape[1:]) if x0 is None else torch.as_tensor(x0).float()
    states = []
    for t in range(inputs.shape[0]):
        x = (1 - alpha) * x + alpha * (inputs[t] + drive[t])
        states.append(x)
    states = torch.stack(states)
    return states, torch.relu(states + bias)


def reference_steady_state(inputs, drive, bias):
    """Constant I, d, b (B, N) -> (x_inf, r_inf): x_inf = I + d, r_inf = relu(x_inf + b)."""
    x_inf = torch.as_tensor(inputs).float() + torch.as_tensor(drive).float()
    return x_inf, torch.relu(x_inf + torch.as_tensor(bias).float())


def reference_task_variance(rates, task_ids, n_tasks) -> torch.Tensor:
    """rates (T, B, N), task_ids (B,) -> (K, N): per task, the variance across that task's trials
    (divide by their number) of each unit's rate, averaged over time (analysis.task_variance)."""
    return analysis.task_variance(torch.as_tensor(rates).float(), task_ids, n_tasks).float()


def reference_normalized_task_variance(tv, min_variance=1e-3) -> torch.Tensor:
    """tv (K, N) -> tv divided by each unit's maximum over tasks; 0 for units whose maximum is
    <= min_variance (analysis.normalized_task_variance)."""
    return analysis.normalized_task_variance(torch.as_tensor(tv).float(), min_variance).float()


# ---------------------------------------------------------------------------------------------
# Helpers


def _values(out, call: str, what: str = "a torch tensor") -> torch.Tensor:
    """A finite tensor, detached, as float32."""
    return _tensor(out, call, what, finite=True).detach().float()


def _pair(out, call: str, names: tuple) -> tuple:
    return tuple(_values(o, call, f"a torch tensor for {n}")
                 for o, n in zip(_tuple(out, call, names, kind="tensors"), names, strict=True))


def _close(a, b, atol=1e-5) -> bool:
    return torch.allclose(a, b, atol=atol, rtol=1e-4)


# ---------------------------------------------------------------------------------------------
# Exercise checks


def check_rule_drive(rule_drive) -> None:
    """Checks ``rule_drive(W_rule (N, K), context (B, K)) -> (B, N)``."""
    name = "rule_drive"
    g = torch.Generator().manual_seed(0)
    N, K = 6, 3
    W = torch.randn(N, K, generator=g)
    onehot = torch.eye(K)
    out, call = _call(rule_drive, name, W, onehot)
    out = _values(out, call)
    _shape(out, (K, N), call, "one row per trial, one column per unit")
    for k in range(K):
        if not _close(out[k], W[:, k]):
            raise CheckFailed(f"{call}: trial {k} has the one-hot context of task {k}, so its "
                              f"drive should be exactly column {k} of W_rule (task {k}'s input "
                              "weights); it is not.")
    zero, call0 = _call(rule_drive, name, W, torch.zeros(2, K))
    if not _close(_values(zero, call0), torch.zeros(2, N)):
        raise CheckFailed(f"{call0}: with no context at all there should be no drive.")
    blend = torch.tensor([[0.7, 0.3, 0.0]])
    out_b, call_b = _call(rule_drive, name, W, blend)
    if not _close(_values(out_b, call_b)[0], 0.7 * W[:, 0] + 0.3 * W[:, 1]):
        raise CheckFailed(f"{call_b}: the drive is linear in the context, so a blend of two "
                          "tasks should give the same blend of their two columns.")
    W2, c2 = torch.randn(11, 4, generator=g), torch.rand(5, 4, generator=g)
    out2, call2 = _call(rule_drive, name, W2, c2)
    out2 = _values(out2, call2)
    _shape(out2, (5, 11), call2, "(B, N)")
    if not _close(out2, reference_rule_drive(W2, c2)):
        raise CheckFailed(f"{call2}: the drive differs from W_rule c on random contexts; check "
                          "the orientation of the matrix product.")
    _passed(name, 6)


def _leaky_case(seed: int, T: int = 12, B: int = 2, N: int = 3):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(T, B, N, generator=g) * 0.5, torch.randn(T, B, N, generator=g) * 0.5,
            torch.randn(T, B, N, generator=g) * 0.5)


def check_run_leaky(run_leaky) -> None:
    """Checks ``run_leaky(inputs, drive, bias (T, B, N), alpha, x0=None) -> (states, rates)``."""
    name = "run_leaky"
    names = ("states", "rates")
    inputs, drive, bias = _leaky_case(0)
    T, B, N = inputs.shape
    out, call = _call(run_leaky, name, inputs, drive, bias, 0.2)
    states, rates = _pair(out, call, names)
    _shape(states, (T, B, N), call + " -> states", "one state per time step, (T, B, N)")
    _shape(rates, (T, B, N), call + " -> rates", "one rate per time step, (T, B, N)")
    first = 0.2 * (inputs[0] + drive[0])
    if not _close(states[0], first):
        raise CheckFailed(f"{call} -> states[0] should be the state after ONE step from x0 = 0, "
                          "using the input and drive of time 0.")
    if not _close(rates, torch.relu(states + bias)):
        raise CheckFailed(f"{call} -> rates should be relu(state + bias) at every time step "
                          "(the bias acts on the rate, not inside the leak).")
    out1, call1 = _call(run_leaky, name, inputs, drive, bias, 1.0)
    states1, _ = _pair(out1, call1, names)
    if not _close(states1, inputs + drive):
        raise CheckFailed(f"{call1}: with alpha = 1 the leak forgets everything each step, so "
                          "states[t] should be inputs[t] + drive[t].")
    other = bias + 3.0
    out2, call2 = _call(run_leaky, name, inputs, drive, other, 0.2)
    states2, _ = _pair(out2, call2, names)
    if not _close(states2, states):
        raise CheckFailed(f"{call2}: changing only the bias changed the states; the bias must "
                          "not enter the leaky integration.")
    x0 = torch.full((B, N), 0.7)
    out3, call3 = _call(run_leaky, name, inputs, drive, bias, 0.0, x0=x0)
    states3, _ = _pair(out3, call3, names)
    if not _close(states3, x0.expand(T, B, N)):
        raise CheckFailed(f"{call3}: with alpha = 0 nothing changes, so every state should "
                          "equal x0 (start from x0 when it is given).")
    want_states, want_rates = reference_run_leaky(inputs, drive, bias, 0.2)
    if not _close(states, want_states):
        t = int(((states - want_states).abs().amax(dim=(1, 2)) > 1e-5).nonzero()[0])
        raise CheckFailed(f"{call} -> states: steps 0..{t - 1} are right but step {t} is not; "
                          "feed each new state into the next step.")
    if not _close(rates, want_rates):
        raise CheckFailed(f"{call} -> rates differ from relu(state + bias).")
    _passed(name, 7)


def check_steady_state(steady_state) -> None:
    """Checks ``steady_state(inputs, drive, bias (B, N)) -> (x_inf, r_inf)``."""
    name = "steady_state"
    names = ("x_inf", "r_inf")
    g = torch.Generator().manual_seed(1)
    inp, d, b = (torch.randn(4, 5, generator=g) * 0.5 for _ in range(3))
    out, call = _call(steady_state, name, inp, d, b)
    x_inf, r_inf = _pair(out, call, names)
    _shape(x_inf, (4, 5), call + " -> x_inf", "one value per trial and unit, (B, N)")
    _shape(r_inf, (4, 5), call + " -> r_inf", "one value per trial and unit, (B, N)")
    # a fixed point: one more Euler step from x_inf leaves it where it is
    stepped = 0.7 * x_inf + 0.3 * (inp + d)
    if not _close(stepped, x_inf):
        raise CheckFailed(f"{call} -> x_inf is not a steady state: one Euler step "
                          "x <- (1 - alpha) x + alpha (I + d) from it moves it.")
    out_b, call_b = _call(steady_state, name, inp, d, b + 1.0)
    if not _close(_pair(out_b, call_b, names)[0], x_inf):
        raise CheckFailed(f"{call_b}: the bias should not change the steady state x_inf "
                          "(it acts on the rate only).")
    if not _close(r_inf, torch.relu(x_inf + b)):
        raise CheckFailed(f"{call} -> r_inf should be the rate at the steady state, "
                          "relu(x_inf + bias).")
    swap, call_s = _call(steady_state, name, inp, b, d)
    if not _close(_pair(swap, call_s, names)[1], r_inf):
        raise CheckFailed(f"{call_s}: swapping the drive and the bias should leave the "
                          "steady-state rate unchanged.")
    states, _ = reference_run_leaky(inp.expand(400, 4, 5), d.expand(400, 4, 5),
                                    b.expand(400, 4, 5), 0.2)
    if not _close(states[-1], x_inf, atol=1e-4):
        raise CheckFailed(f"{call} -> x_inf is not where the leaky integrator ends up after a "
                          "long time.")
    _passed(name, 5)


def check_task_variance(task_variance) -> None:
    """Checks ``task_variance(rates (T, B, N), task_ids (B,), n_tasks) -> (K, N)``."""
    name = "task_variance"
    # 2 tasks, 4 trials each, 3 units, 2 time steps
    T, N = 2, 3
    ids = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    rates = torch.zeros(T, 8, N)
    rates[:, :, 0] = 1.0  # unit 0: constant
    rates[:, ids == 1, 1] = torch.tensor([0.0, 2.0, 0.0, 2.0])  # unit 1: varies in task 1 only
    rates[0, ids == 0, 2] = torch.tensor([1.0, -1.0, 1.0, -1.0])  # unit 2: task 0, first step
    out, call = _call(task_variance, name, rates, ids, 2)
    out = _values(out, call)
    _shape(out, (2, N), call, "one row per task, one column per unit")
    if not _close(out[:, 0], torch.zeros(2)):
        raise CheckFailed(f"{call}: unit 0 has the same rate on every trial, so its task "
                          "variance should be 0 in both tasks.")
    if not (abs(out[0, 1]) < 1e-6 and out[1, 1] > 1e-3):
        raise CheckFailed(f"{call}: unit 1 varies across the trials of task 1 only; its task "
                          "variance should be 0 for task 0 and positive for task 1 (use only "
                          "each task's own trials).")
    if abs(out[0, 2] - 0.5) < 1e-4:
        pass
    elif abs(out[0, 2] - 1.0) < 1e-4:
        raise CheckFailed(f"{call}: unit 2 varies at time step 0 only; average the variance "
                          "over time steps, do not take only one step.")
    else:
        raise CheckFailed(f"{call}: unit 2's task variance for task 0 is not what the "
                          "definition gives: the variance across that task's trials (divide by "
                          "their number, not number - 1) at each time step, then averaged over "
                          "time.")
    g = torch.Generator().manual_seed(3)
    rates = torch.rand(5, 12, 4, generator=g)
    ids = torch.tensor([2, 0, 1, 2, 2, 0, 1, 1, 0, 2, 1, 0])
    out, call = _call(task_variance, name, rates, ids, 3)
    out = _values(out, call)
    _shape(out, (3, 4), call, "(K, N)")
    if not _close(out, reference_task_variance(rates, ids, 3)):
        raise CheckFailed(f"{call}: differs from the definition on random rates with shuffled "
                          "task ids; select each task's trials with task_ids == k.")
    _passed(name, 5)


def check_normalized_task_variance(normalized_task_variance) -> None:
    """Checks ``normalized_task_variance(tv (K, N), min_variance) -> (K, N)``."""
    name = "normalized_task_variance"
    tv = torch.tensor([[0.2, 0.0, 0.05, 1e-5],
                       [0.1, 0.3, 0.05, 2e-5],
                       [0.0, 0.6, 0.05, 0.0]])
    out, call = _call(normalized_task_variance, name, tv, 1e-3)
    out = _values(out, call)
    _shape(out, tv.shape, call, "the same shape as tv, (K, N)")
    active = out[:, :3]
    if not _close(active.amax(0), torch.ones(3)):
        raise CheckFailed(f"{call}: every active unit's largest normalised value (over tasks) "
                          "should be exactly 1 (divide each column by its maximum).")
    if not _close(out[:, 3], torch.zeros(3)):
        raise CheckFailed(f"{call}: unit 3's largest task variance is below min_variance, so "
                          "its normalised values should all be 0 (a silent unit has no "
                          "preferred task).")
    if not _close(out[:, 2], torch.ones(3)):
        raise CheckFailed(f"{call}: unit 2 varies equally in every task: all three normalised "
                          "values should be equal to the maximum.")
    if not _close(out, reference_normalized_task_variance(tv, 1e-3)):
        raise CheckFailed(f"{call}: the values differ from tv divided by each unit's maximum "
                          "over tasks (the maximum of a column, not of a row).")
    _passed(name, 4)
