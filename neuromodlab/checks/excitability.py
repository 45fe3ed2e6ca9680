"""Self-checks for W1D2 Tutorial 1 (excitability modulation).

``check_<exercise>(yours)`` calls your function (or class) on small inputs and raises
:class:`CheckFailed` naming the input that failed and the property that was expected (never the
answer); a ``NotImplementedError`` from an unfinished exercise passes through unchanged.
``reference_<exercise>`` are the library's versions with the exercises' signatures (what the
notebook falls back to, and what the hidden tests compare against).

Use in a notebook::

    from neuromodlab.checks import excitability as checks
    checks.check_modulated_rate(modulated_rate)
    rate_fn = checks.yours_or_reference(modulated_rate, checks.reference_modulated_rate, ...)
    Modulator = checks.modulator_or_reference(ExcitabilityModulator)
"""

from __future__ import annotations

import torch

from .. import modulation, rnn
from ._core import CheckFailed, _call, _int, _passed, _shape, _tensor, yours_or_reference

__all__ = [
    "CheckFailed", "yours_or_reference", "check_modulated_rate", "check_excitability_modulator",
    "check_cosine_similarity_matrix", "check_silent_units", "reference_modulated_rate",
    "reference_excitability_modulator", "reference_cosine_similarity_matrix",
    "reference_silent_units", "modulator_or_reference", "task_effects",
]

# ---------------------------------------------------------------------------------------------
# Reference versions


def reference_modulated_rate(x, gain=None, bias=None) -> torch.Tensor:
    """relu(gain * x + bias); ``gain=None`` means no gain (1), ``bias=None`` no bias (0)."""
    z = x if gain is None else gain * x
    return torch.relu(z if bias is None else z + bias)


#: The library's excitability modulator, with the exercise's signature
#: ``(n_contexts, n_hidden, gain=True, bias=True, init_std=0.33, seed=0)``.
reference_excitability_modulator = modulation.Excitability


def reference_cosine_similarity_matrix(V) -> torch.Tensor:
    """(K, D) rows -> (K, K) cosine similarities v_i . v_j / (|v_i| |v_j|)."""
    V = torch.as_tensor(V).detach().double()
    unit = V / V.norm(dim=1, keepdim=True)
    return (unit @ unit.T).float()


def reference_silent_units(rates, task_ids, n_tasks: int, threshold: float = 1e-3):
    """(T, B, N) rates -> (K, N) bool: unit n never reaches ``threshold`` in trials of task k."""
    rates = torch.as_tensor(rates).detach()
    task_ids = torch.as_tensor(task_ids).long()
    peak = rates.amax(dim=0)  # (B, N): each trial's largest rate per unit
    out = torch.ones(n_tasks, rates.shape[2], dtype=torch.bool)
    for k in range(n_tasks):
        rows = peak[task_ids == k]
        if len(rows):
            out[k] = (rows < threshold).all(dim=0)
    return out


def task_effects(modulator, n_contexts: int | None = None):
    """The effect of each one-hot context: (gain (K, N) or None, bias (K, N) or None)."""
    K = n_contexts if n_contexts is not None else modulator.n_contexts
    with torch.no_grad():
        effect = modulator(torch.eye(K))
    return effect.gain, effect.bias


# ---------------------------------------------------------------------------------------------
# Helpers


def _problem(seed: int, B: int = 3, N: int = 5):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, N, generator=g), 1 + 0.5 * torch.randn(B, N, generator=g),
            0.5 * torch.randn(B, N, generator=g))


# ---------------------------------------------------------------------------------------------
# Exercise 1: the modulated rate


def check_modulated_rate(modulated_rate) -> None:
    """Checks ``modulated_rate(x (B, N), gain, bias) -> (B, N)``."""
    name = "modulated_rate"
    x, gain, bias = _problem(0)
    out, call = _call(modulated_rate, name, x, gain, bias)
    out = _tensor(out, call)
    _shape(out, x.shape, call, "one rate per trial and unit, like x")
    if (out < 0).any():
        raise CheckFailed(f"{call}: a ReLU rate is never negative, but some of yours are; apply "
                          "the ReLU last, to g x + b.")
    ones, zeros = torch.ones_like(x), torch.zeros_like(x)
    out1, call1 = _call(modulated_rate, name, x, ones, zeros)
    if not torch.allclose(_tensor(out1, call1).float(), torch.relu(x), atol=1e-6):
        raise CheckFailed(f"{call1}: with gain 1 and bias 0 the unit is unmodulated, so the "
                          "rate should be relu(x).")
    if not torch.allclose(out.float(), reference_modulated_rate(x, gain, bias), atol=1e-5):
        raise CheckFailed(f"{call}: the rates differ from the equation r = relu(g x + b); check "
                          "that the gain multiplies x and that the bias is added before the "
                          "ReLU.")
    for kwargs, meaning in (({"gain": None, "bias": bias}, "gain=None means no gain (g = 1)"),
                            ({"gain": gain, "bias": None}, "bias=None means no bias (b = 0)"),
                            ({"gain": None, "bias": None}, "no modulation at all: relu(x)")):
        o, c = _call(modulated_rate, name, x, **kwargs)
        o = _tensor(o, c)
        if not torch.allclose(o.float(), reference_modulated_rate(x, **kwargs), atol=1e-5):
            raise CheckFailed(f"{c}: {meaning}.")
    row_gain, row_bias = gain[0], bias[0]  # (N,): the same modulation for every trial
    o, c = _call(modulated_rate, name, x, row_gain, row_bias)
    o = _tensor(o, c)
    _shape(o, x.shape, c, "gain and bias of shape (N,) apply to every trial")
    if not torch.allclose(o.float(), reference_modulated_rate(x, row_gain, row_bias), atol=1e-5):
        raise CheckFailed(f"{c}: a gain and bias of shape (N,) should apply to every trial "
                          "(broadcasting).")
    _passed(name, 7)


# ---------------------------------------------------------------------------------------------
# Exercise 2: the modulator


def _make(cls, *args, **kwargs):
    return _call(cls, getattr(cls, "__name__", "ExcitabilityModulator"), *args, **kwargs)


def check_excitability_modulator(ExcitabilityModulator) -> None:
    """Checks the class ``ExcitabilityModulator(n_contexts, n_hidden, gain=True, bias=True,
    init_std=0.33, seed=0)``: parameters G, B (N, K), ``forward(context (B, K)) ->
    ContextEffect(gain=1 + c G^T, bias=c B^T)`` and ``params_per_task()``."""
    name = getattr(ExcitabilityModulator, "__name__", "ExcitabilityModulator")
    K, N = 3, 5
    mod, call = _make(ExcitabilityModulator, K, N, seed=0)
    if not isinstance(mod, torch.nn.Module):
        raise CheckFailed(f"{call} should build a torch.nn.Module, got {type(mod).__name__}: "
                          "define the class as ExcitabilityModulator(torch.nn.Module) and call "
                          "super().__init__() first in __init__.")
    for attr in ("G", "B"):
        p = getattr(mod, attr, None)
        if not isinstance(p, torch.nn.Parameter):
            raise CheckFailed(f"{call}: self.{attr} should be a torch.nn.Parameter (so that "
                              f"training updates it), got {type(p).__name__}.")
        _shape(p, (N, K), f"{call}.{attr}", "one row per unit, one column per task")
    ref = reference_excitability_modulator(K, N, seed=0)
    if not (torch.allclose(mod.G.detach(), ref.G.detach())
            and torch.allclose(mod.B.detach(), ref.B.detach())):
        raise CheckFailed(f"{call}: the initial G and B differ from the ones the instructions "
                          "describe: init_std * torch.randn((n_hidden, n_contexts), "
                          "generator=gen), drawing G first and then B from the given generator.")
    zero, call0 = _make(ExcitabilityModulator, K, N, init_std=0.0, seed=3)
    if zero.G.detach().abs().max() > 0 or zero.B.detach().abs().max() > 0:
        raise CheckFailed(f"{call0}: with init_std = 0, G and B should start at zero.")
    count = 4

    def effect_of(module, context, label):
        eff, c = _call(module, f"{label}.forward", context)
        if not isinstance(eff, rnn.ContextEffect):
            raise CheckFailed(f"{c} should return a ContextEffect(gain=..., bias=...), got "
                              f"{type(eff).__name__}.")
        return eff, c

    one_hot = torch.eye(K)[[1, 1]]  # two trials of task 1
    eff, c = effect_of(mod, one_hot, name)
    for field, want in (("gain", 1 + mod.G.detach()[:, 1]), ("bias", mod.B.detach()[:, 1])):
        got = getattr(eff, field)
        if not isinstance(got, torch.Tensor):
            raise CheckFailed(f"{c}: ContextEffect.{field} should be a tensor, got "
                              f"{type(got).__name__}.")
        _shape(got, (2, N), f"{c} -> {field}", "one row per trial, one value per unit")
        if not torch.allclose(got.detach(), want.expand(2, N), atol=1e-6):
            expected = "1 + (column 1 of G)" if field == "gain" else "column 1 of B"
            raise CheckFailed(f"{c}: for the one-hot context of task 1 the {field} of every "
                              f"trial should be {expected}.")
    if eff.drive is not None or eff.left is not None:
        raise CheckFailed(f"{c}: an excitability modulator sets only gain and bias; leave "
                          "ContextEffect's drive and left/right/coef as None.")
    count += 3
    eff0, c0 = effect_of(mod, torch.zeros(2, K), name)
    if not (torch.allclose(eff0.gain.detach(), torch.ones(2, N))
            and torch.allclose(eff0.bias.detach(), torch.zeros(2, N))):
        raise CheckFailed(f"{c0}: with no context (all zeros) the gain should be 1 and the bias "
                          "0 for every unit.")
    blend = torch.tensor([[0.25, 0.0, 0.75], [0.0, 1.0, 0.0]])
    effb, cb = effect_of(mod, blend, name)
    want_g, want_b = 1 + blend @ mod.G.detach().T, blend @ mod.B.detach().T
    if not (torch.allclose(effb.gain.detach(), want_g, atol=1e-6)
            and torch.allclose(effb.bias.detach(), want_b, atol=1e-6)):
        raise CheckFailed(f"{cb}: trial 0 has a blended context (0.25 of task 0, 0.75 of task "
                          "2); each trial's effect should use its own row of the context and "
                          "mix the tasks' columns with those weights (a matrix product).")
    count += 2
    mod.zero_grad()
    effg, cg = effect_of(mod, one_hot, name)
    if effg.gain.requires_grad and effg.bias.requires_grad:
        (effg.gain.sum() + effg.bias.sum()).backward()
    if mod.G.grad is None or mod.B.grad is None or mod.G.grad[:, 1].abs().sum() == 0:
        raise CheckFailed(f"{cg}: gain and bias must be computed from the parameters G and B "
                          "with torch operations (no .detach(), no new tensors), otherwise "
                          "training cannot change them.")
    count += 1
    for gain, bias, expected in ((True, True, 2 * N), (True, False, N), (False, True, N)):
        m, cm = _make(ExcitabilityModulator, K, N, gain=gain, bias=bias, seed=1)
        e, ce = effect_of(m, one_hot, name)
        if (getattr(m, "G", None) is None) == gain or (getattr(m, "B", None) is None) == bias:
            raise CheckFailed(f"{cm}: G should exist only if gain=True, and B only if "
                              "bias=True (else None).")
        if (e.gain is None) == gain or (e.bias is None) == bias:
            raise CheckFailed(f"{ce} (built with gain={gain}, bias={bias}): the ContextEffect "
                              "should carry a gain only if gain=True and a bias only if "
                              "bias=True (None otherwise).")
        n, cn = _call(m.params_per_task, f"{cm}.params_per_task")
        n = _int(n, cn)
        if n != expected:
            raise CheckFailed(f"{cn}: count the trainable numbers that belong to one task "
                              f"(one column of each parameter matrix that exists); yours is "
                              f"{n}.")
        count += 2
    _passed(name, count)


def modulator_or_reference(ExcitabilityModulator, time_limit: float | None = 10.0):
    """Your class if it builds, runs ``forward`` and ``params_per_task`` on a small example,
    else the library's :class:`~neuromodlab.modulation.Excitability`. Prints which one."""
    name = getattr(ExcitabilityModulator, "__name__", "ExcitabilityModulator")

    def try_it(n_contexts, n_hidden):
        m = ExcitabilityModulator(n_contexts, n_hidden)
        effect = m(torch.eye(n_contexts))
        m.params_per_task()
        if not isinstance(effect, rnn.ContextEffect):
            raise TypeError("forward did not return a ContextEffect")
        return effect

    chosen = yours_or_reference(try_it, None, 2, 3, name=name, time_limit=time_limit)
    return ExcitabilityModulator if chosen is try_it else reference_excitability_modulator


# ---------------------------------------------------------------------------------------------
# Exercise 3: similarity between tasks


def check_cosine_similarity_matrix(cosine_similarity_matrix) -> None:
    """Checks ``cosine_similarity_matrix(V (K, D)) -> (K, K)``."""
    name = "cosine_similarity_matrix"
    V = torch.tensor([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [-1.0, 0.0, 0.0]])
    out, call = _call(cosine_similarity_matrix, name, V)
    out = _tensor(out, call)
    _shape(out, (4, 4), call, "one row and one column per row of V")
    out = out.double()
    if not torch.allclose(torch.diagonal(out), torch.ones(4, dtype=out.dtype), atol=1e-5):
        raise CheckFailed(f"{call}: every vector has similarity 1 with itself (the diagonal).")
    if abs(out[0, 1] - 1) > 1e-5:
        raise CheckFailed(f"{call}: rows 0 and 1 point the same way (one is twice the other), "
                          "so their similarity should be 1: divide by both lengths.")
    if abs(out[0, 2]) > 1e-5 or abs(out[0, 3] + 1) > 1e-5:
        raise CheckFailed(f"{call}: orthogonal rows (0 and 2) should have similarity 0 and "
                          "opposite rows (0 and 3) similarity -1.")
    if not torch.allclose(out, out.T, atol=1e-6):
        raise CheckFailed(f"{call}: the matrix should be symmetric.")
    g = torch.Generator().manual_seed(0)
    V = torch.randn(5, 16, generator=g) * torch.rand(5, 1, generator=g) * 3
    out, call = _call(cosine_similarity_matrix, name, V)
    out = _tensor(out, call)
    _shape(out, (5, 5), call, "one row and one column per row of V")
    if not torch.allclose(out.float(), reference_cosine_similarity_matrix(V), atol=1e-5):
        raise CheckFailed(f"{call}: the values differ from v_i . v_j / (|v_i| |v_j|) for random "
                          "rows of different lengths.")
    _passed(name, 6)


# ---------------------------------------------------------------------------------------------
# Exercise 4: silent units


def check_silent_units(silent_units) -> None:
    """Checks ``silent_units(rates (T, B, N), task_ids (B,), n_tasks, threshold) -> (K, N)``."""
    name = "silent_units"
    T, N = 4, 3
    rates = torch.zeros(T, 4, N)  # trials 0, 1: task 0; trials 2, 3: task 1
    rates[2, 0, 0] = 0.004  # unit 0 fires once (weakly), in one trial of task 0
    rates[:, 2, 1] = 0.2  # unit 1 fires throughout trial 2 (task 1)
    rates[:, :, 2] = 1e-4  # unit 2 is always below the threshold 1e-3
    task_ids = torch.tensor([0, 0, 1, 1])
    out, call = _call(silent_units, name, rates, task_ids, 2, 1e-3)
    out = _tensor(out, call)
    _shape(out, (2, N), call, "one row per task, one column per unit")
    if out.dtype != torch.bool:
        raise CheckFailed(f"{call} should return a bool tensor (True = silent), got {out.dtype}.")
    expected = torch.tensor([[False, True, True], [True, False, True]])
    cases = {(0, 0): "unit 0 fires at one time step of one trial of task 0",
             (1, 0): "unit 0 never fires in trials of task 1",
             (0, 1): "unit 1 never fires in trials of task 0",
             (1, 1): "unit 1 fires in one trial of task 1",
             (0, 2): "unit 2 stays below the threshold in every trial",
             (1, 2): "unit 2 stays below the threshold in every trial"}
    for (k, n), label in cases.items():
        if bool(out[k, n]) != bool(expected[k, n]):
            raise CheckFailed(f"{call}: entry [{k}, {n}]: {label}, so it should be "
                              f"{'silent (True)' if expected[k, n] else 'active (False)'}.")
    g = torch.Generator().manual_seed(1)
    rates = torch.relu(torch.randn(6, 20, 8, generator=g) - 1.5)
    task_ids = torch.randint(0, 3, (20,), generator=g)
    task_ids[:3] = torch.tensor([0, 1, 2])
    for threshold in (1e-3, 0.5):
        out, call = _call(silent_units, name, rates, task_ids, 3, threshold)
        out = _tensor(out, call)
        _shape(out, (3, 8), call, "one row per task, one column per unit")
        if not torch.equal(out.bool(), reference_silent_units(rates, task_ids, 3, threshold)):
            raise CheckFailed(f"{call}: some units are judged differently from the rule: silent "
                              "in task k if the rate is below the threshold at every time step "
                              "of every trial of task k.")
    _passed(name, 9)

