"""neuromodlab.checks: the references agree with the library, the checks pass them, catch the usual
mistakes with a message that names the failing call (and not the answer), and the fallback works."""

import importlib
import math
import time

import numpy as np
import pytest
import torch

from neuromodlab import checks, rnn, tasks
from neuromodlab.checks import basics
from neuromodlab.grading.notebooks import last_statement_problem

CHECKS = {
    "ring_bump": (checks.check_ring_bump, checks.reference_ring_bump),
    "go_timecourse": (checks.check_go_timecourse, checks.reference_go_timecourse),
    "trial_correct": (checks.check_trial_correct, checks.reference_trial_correct),
    "euler_step": (checks.check_euler_step, checks.reference_euler_step),
    "run_rnn": (checks.check_run_rnn, checks.reference_run_rnn),
}


# --- the references are the library's behaviour ------------------------------------------------


@pytest.mark.parametrize("n_ring", [4, 8, 16, 32])
def test_reference_ring_bump_is_the_library_bump(n_ring):
    angles = torch.linspace(-7, 13, 41)
    got = checks.reference_ring_bump(angles, n_ring)
    assert got.shape == (41, n_ring) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), tasks.ring_bump(angles.numpy().astype(float), n_ring),
                               atol=1e-6)


@pytest.mark.parametrize("dt", [10.0, 20.0, 30.0, 50.0])
def test_reference_go_timecourse_matches_generated_go_trials(dt):
    batch = tasks.generate("go", 16, tasks.TaskConfig(dt=dt, stim_noise=0.0), seed=3)
    for i in range(16):
        go = int(batch.epochs["decision"][i, 0])
        fix_in, fix_target, mask = checks.reference_go_timecourse(batch.T, go, dt)
        torch.testing.assert_close(fix_in, batch.inputs[:, i, 0])
        torch.testing.assert_close(fix_target, batch.targets[:, i, 0])
        torch.testing.assert_close(mask, batch.mask[:, i, 1])
        torch.testing.assert_close(2 * mask, batch.mask[:, i, 0])


@pytest.mark.parametrize("task", ["go", "anti", "dlyanti", "dm1", "multidm", "dms", "dnmc"])
def test_reference_trial_correct_is_the_performance_measure(task):
    batch = tasks.generate(task, 64, tasks.TaskConfig(), seed=1)
    g = torch.Generator().manual_seed(0)
    for outputs in (batch.targets, torch.rand(batch.targets.shape, generator=g),
                    batch.targets + 0.3 * torch.randn(batch.targets.shape, generator=g)):
        expected = tasks.performance(outputs, batch)
        got = checks.reference_trial_correct(outputs[-1], batch.target_angle, batch.fixate)
        assert torch.equal(got, expected)


def test_reference_trial_correct_fixation_exactly_half_is_neither():
    """performance: a fixation output of exactly 0.5 neither fixates nor releases."""
    batch = tasks.generate("go", 4, tasks.TaskConfig(), seed=0)
    outputs = batch.targets.clone()
    outputs[-1, :, 0] = 0.5
    expected = tasks.performance(outputs, batch)
    assert not expected.any()
    got = checks.reference_trial_correct(outputs[-1], batch.target_angle, batch.fixate)
    assert torch.equal(got, expected)


def test_reference_run_rnn_is_the_ctrnn_rollout():
    net = rnn.CTRNN(rnn.RNNConfig(n_in=17, n_out=9, n_hidden=16, init="gaussian", seed=2))
    batch = tasks.generate("dlygo", 4, tasks.TaskConfig(), seed=0)
    with torch.no_grad():
        expected = net(batch.inputs, noise=False).states
        got = checks.reference_run_rnn(batch.inputs, net.W_rec, net.W_in, net.b, net.alpha)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


# --- the checks pass the references, print one line, return None -------------------------------


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_passes_the_reference_and_returns_none(name, capsys):
    check, reference = CHECKS[name]
    assert check(reference) is None  # a bare call ending a test cell is never read as a score
    out = capsys.readouterr().out
    assert name in out and "passed" in out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_not_implemented_passes_through(name):
    check, _ = CHECKS[name]

    def unfinished(*args, **kwargs):
        raise NotImplementedError("Exercise: replace this line with your code")

    with pytest.raises(NotImplementedError):
        check(unfinished)


# --- the checks catch the usual mistakes, and say where without giving the answer -------------


def _bump(width, wrap=True, amplitude=0.8):
    def ring_bump(angle, n_ring):
        pref = 2 * math.pi * torch.arange(n_ring) / n_ring
        diff = torch.as_tensor(angle, dtype=torch.float32)[:, None] - pref
        dist = torch.abs(torch.remainder(diff + math.pi, 2 * math.pi) - math.pi) if wrap \
            else torch.abs(diff)
        return amplitude * torch.exp(-(dist / width) ** 2 / 2)
    return ring_bump


def _timecourse(grace_ms=100, response=5.0, first_grace=True, fix_on=0.85):
    def go_timecourse(n_steps, go_step, dt):
        t = torch.arange(n_steps)
        before = t < go_step
        grace = math.ceil(grace_ms / dt)
        mask = torch.where(before, 1.0, torch.where(t < go_step + grace, 0.0, response))
        if first_grace:
            mask[:grace] = 0.0
        return before.float(), torch.where(before, fix_on, 0.05), mask
    return go_timecourse


def _correct(threshold=0.2 * math.pi, wrap=True, ignore_fixation=False):
    def trial_correct(y_last, target_angle, fixate):
        n = y_last.shape[1] - 1
        pref = 2 * math.pi * torch.arange(n, dtype=torch.float64) / n
        ring = y_last[:, 1:].double()
        dec = torch.atan2(ring @ pref.sin(), ring @ pref.cos())
        diff = dec - torch.as_tensor(target_angle, dtype=torch.float64)
        dist = torch.abs(torch.remainder(diff + math.pi, 2 * math.pi) - math.pi) if wrap \
            else torch.abs(diff)
        fixating = y_last[:, 0] > 0.5
        respond_ok = (dist < threshold) if ignore_fixation else (~fixating & (dist < threshold))
        return torch.where(torch.as_tensor(fixate), fixating, respond_ok)
    return trial_correct


def _step(kind):
    def euler_step(x, u, W_rec, W_in, b, alpha):
        r = x if kind == "no_relu" else torch.relu(x)
        W = W_rec if kind == "transposed" else W_rec.T
        total = r @ W + u @ W_in.T + b
        if kind == "no_leak":
            return x + alpha * total
        out = (1 - alpha) * x + alpha * total
        return out.T if kind == "shape" else out
    return euler_step


def _run(kind):
    def run_rnn(inputs, W_rec, W_in, b, alpha, x0=None, step=None):
        step = step or checks.reference_euler_step
        x = torch.zeros(inputs.shape[1], W_rec.shape[0]) if x0 is None or kind == "ignore_x0" \
            else x0
        states = []
        for u in inputs:
            if kind == "same_input":
                u = inputs[0]
            x = step(x, u, W_rec, W_in, b, alpha)
            states.append(x)
        if kind == "initial_state_first":
            states = [torch.zeros_like(x)] + states[:-1]
        return torch.stack(states)
    return run_rnn


MISTAKES = [
    ("ring_bump", _bump(math.pi / 4), "ring_bump("),
    ("ring_bump", _bump(math.pi / 8, wrap=False), "ring_bump("),
    ("ring_bump", _bump(math.pi / 8, amplitude=1.0), "ring_bump("),
    ("ring_bump", lambda a, n: _bump(math.pi / 8)(a, n).T, "shape"),
    ("ring_bump", lambda a, n: _bump(math.pi / 8)(a, n).tolist(), "torch tensor"),
    ("go_timecourse", _timecourse(grace_ms=200), "mask"),
    ("go_timecourse", _timecourse(response=1.0), "mask"),
    ("go_timecourse", _timecourse(first_grace=False), "mask"),
    ("go_timecourse", _timecourse(fix_on=1.0), "fixation_target"),
    ("go_timecourse", lambda n, g, dt: _timecourse()(n, g, dt)[:2], "three tensors"),
    ("trial_correct", _correct(threshold=0.3 * math.pi), "trial"),
    ("trial_correct", _correct(wrap=False), "trial"),
    ("trial_correct", _correct(ignore_fixation=True), "trial"),
    ("trial_correct", lambda y, t, f: _correct()(y, t, f).float(), "bool"),
    ("euler_step", _step("no_relu"), "euler_step("),
    ("euler_step", _step("transposed"), "euler_step("),
    ("euler_step", _step("no_leak"), "euler_step("),
    ("euler_step", _step("shape"), "shape"),
    ("run_rnn", _run("ignore_x0"), "x0"),
    ("run_rnn", _run("same_input"), "run_rnn("),
    ("run_rnn", _run("initial_state_first"), "states[0]"),
]


@pytest.mark.parametrize("name, wrong, hint", MISTAKES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES)])
def test_check_catches_mistake_with_a_friendly_message(name, wrong, hint):
    check, _ = CHECKS[name]
    with pytest.raises(AssertionError) as info:
        check(wrong)
    message = str(info.value)
    assert name + "(" in message  # which call failed
    assert hint in message
    assert "Traceback" not in message and len(message) < 600


def test_failure_messages_do_not_contain_the_expected_values():
    """The message may show the student's values, never the reference's."""
    x, u, W_rec, W_in, b = basics._rnn_problem(0)
    expected = checks.reference_euler_step(x, u, W_rec, W_in, b, 0.2)
    for kind in ("no_relu", "transposed", "no_leak"):
        with pytest.raises(AssertionError) as info:
            checks.check_euler_step(_step(kind))
        for value in expected.reshape(-1).tolist():
            assert f"{value:.3f}" not in str(info.value)
    with pytest.raises(AssertionError) as info:
        checks.check_ring_bump(_bump(math.pi / 4))
    for value in checks.reference_ring_bump(torch.tensor([0.3, 2.5, 5.5]), 8).reshape(-1):
        if 1e-3 < value < 0.79:
            assert f"{value:.3f}" not in str(info.value)


def test_other_exceptions_become_friendly_assertions():
    def broken(angle, n_ring):
        return angle @ n_ring  # TypeError

    with pytest.raises(AssertionError, match=r"ring_bump\(.*\) raised TypeError"):
        checks.check_ring_bump(broken)


# --- fallback ----------------------------------------------------------------------------------


def test_yours_or_reference_keeps_a_working_function(capsys):
    fn = checks.yours_or_reference(checks.reference_euler_step, None, *basics._rnn_problem(0), 0.2,
                                   name="euler_step")
    assert fn is checks.reference_euler_step
    assert "Using your euler_step" in capsys.readouterr().out


def _unfinished(*args):
    raise NotImplementedError


def _crashing(*args):
    raise ValueError("oops")


def _looping(*args):
    while True:
        pass


@pytest.mark.parametrize("yours, says", [(_unfinished, "not implemented yet"),
                                         (_crashing, "raised ValueError"),
                                         (_looping, "did not finish")])
def test_yours_or_reference_falls_back(yours, says, capsys):
    reference = object()
    start = time.perf_counter()
    got = checks.yours_or_reference(yours, reference, 1, 2, time_limit=0.5)
    assert got is reference
    assert says in capsys.readouterr().out
    assert time.perf_counter() - start < 5


# --- every tutorial's module offers the same names ---------------------------------------------

TOPICS = ("basics", "training", "rule", "excitability", "synaptic", "ambiguity", "packing",
          "dynamics")


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_module_shares_the_package_machinery(topic):
    """Notebooks import a topic as ``checks`` and call ``checks.CheckFailed``,
    ``checks.yours_or_reference`` and ``checks.check_*``: one CheckFailed for all of them."""
    module = importlib.import_module(f"neuromodlab.checks.{topic}")
    assert module.CheckFailed is checks.CheckFailed
    assert module.yours_or_reference is checks.yours_or_reference
    assert issubclass(module.CheckFailed, AssertionError)
    public = [n for n in module.__all__ if n.startswith("check_")]
    assert public and all(callable(getattr(module, n)) for n in public)
    assert all(hasattr(module, n) for n in module.__all__)
    assert {"CheckFailed", "yours_or_reference"} <= set(module.__all__)


# --- the notebook lint: what may end a test cell ---------------------------------------------

ALLOWED_ENDINGS = [
    "checks.check_ring_bump(ring_bump)",
    "check_synaptic.check_dense_synapses(dense_synapses)",
    "neuromodlab.checks.rule.check_rule_drive(rule_drive)",
    "check_ring_bump(ring_bump)",
    "print('ok')",
    "assert x == 1, 'x should be 1'",
    "x = f(1)",
    "for k in range(3):\n    assert k < 3",
    "import math",
]
SCORE_LIKE_ENDINGS = [
    "x",  # a bare name (its value is the score)
    "1",
    "True",
    "x == 1",  # a comparison: False would give full credit
    "checks.passed",  # an attribute access
    "torch.allclose(a, b)",  # a call that returns a value
    "f(x)",
    "checks.reference_ring_bump(angles, 8)",  # a reference returns a tensor
    "get_checks().check_ring_bump(ring_bump)",  # owner is not a module name
    "'done'",
]


@pytest.mark.parametrize("last", ALLOWED_ENDINGS)
def test_lint_accepts_a_statement_or_a_self_check_call_at_the_end(last):
    assert last_statement_problem("x = 1\n" + last) is None


@pytest.mark.parametrize("last", SCORE_LIKE_ENDINGS)
def test_lint_rejects_a_value_at_the_end(last):
    problem = last_statement_problem("x = 1\n" + last)
    assert problem is not None and "bare expression" in problem


def test_lint_reports_empty_and_unparsable_cells():
    assert last_statement_problem("") == "is empty"
    assert "does not parse" in last_statement_problem("assert (")
