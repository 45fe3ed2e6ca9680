"""Self-checks for W1D1 Tutorial 2 (training multitask networks).

Each ``check_<exercise>(your_function)`` calls your function on small inputs and prints one line
when all is well; otherwise it raises :class:`CheckFailed` (an ``AssertionError``) naming the call
that failed and the property that was expected -- never the answer. ``NotImplementedError`` from
an unfinished exercise is passed through unchanged.

The ``reference_*`` functions are the library's versions with the exercises' signatures: the
notebook falls back to them (``yours_or_reference``) and the hidden tests compare with them.

Exercises: ``masked_mse`` (the loss), ``train_step`` (one optimiser step with gradient
clipping), ``train_loop`` (Adam over TaskSet batches), ``condition_average`` (PSTHs) and
``pca_project`` (PCA by SVD).
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .. import analysis, tasks, train
from ..modulation import build_model
from ._core import (
    CheckFailed,
    _call,
    _finite,
    _number,
    _passed,
    _shape,
    _tensor,
    _tuple,
    yours_or_reference,
)

__all__ = [
    "CheckFailed", "yours_or_reference",
    "check_masked_mse", "check_train_step", "check_train_loop", "check_condition_average",
    "check_pca_project",
    "reference_masked_mse", "reference_train_step", "reference_train_loop",
    "reference_condition_average", "reference_pca_project",
    "small_model", "small_taskset",
]


# ---------------------------------------------------------------------------------------------
# Reference versions


def reference_masked_mse(outputs, targets, mask) -> torch.Tensor:
    """sum(mask * (outputs - targets)^2) / sum(mask), a scalar tensor (train.masked_loss)."""
    return train.masked_loss(outputs, targets, mask)


def reference_train_step(model, optimizer, batch, loss_fn=None, clip=1.0):
    """Forward, masked loss, backward, clip the total gradient norm to ``clip``, optimiser step.
    Returns ``(loss, grad_norm)`` as floats; grad_norm is measured before clipping."""
    loss_fn = loss_fn or reference_masked_mse
    out = model(batch.inputs, batch.context)
    loss = loss_fn(out.outputs, batch.targets, batch.mask)
    optimizer.zero_grad()
    loss.backward()
    max_norm = float("inf") if clip is None else clip
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), grad_norm.item()


def reference_train_loop(model, taskset, n_steps, lr=1e-3, batch_size=64, clip=1.0, seed=0,
                         step=None, loss_fn=None):
    """Adam on ``n_steps`` batches ``taskset.sample(batch_size, rng)``, with
    ``rng = np.random.default_rng(seed)``. Returns ``(losses, grad_norms)``, lists of floats."""
    step = step or reference_train_step
    loss_fn = loss_fn or reference_masked_mse
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    losses, grad_norms = [], []
    for _ in range(n_steps):
        batch = taskset.sample(batch_size, rng)
        loss, grad_norm = step(model, optimizer, batch, loss_fn, clip)
        losses.append(float(loss))
        grad_norms.append(float(grad_norm))
    return losses, grad_norms


def reference_condition_average(rates, conditions, n_conditions) -> torch.Tensor:
    """rates (T, B, N), conditions (B,) ints in [0, C) -> (T, C, N): the mean over the trials of
    each condition (NaN for a condition without trials)."""
    # a loop over conditions, independent of widgets.training.condition_average (tests compare)
    rates = torch.as_tensor(rates)
    conditions = torch.as_tensor(conditions).long()
    return torch.stack([rates[:, conditions == c].mean(1) for c in range(n_conditions)], 1)


def reference_pca_project(X, n_components):
    """X (M, N) -> (Z (M, k), components (k, N), explained_variance_ratio (k,)) by SVD of the
    centred data; components sorted by variance, the ratio relative to the total variance."""
    X = torch.as_tensor(X).double()
    fit = analysis.pca(X, n_components)
    return fit.transform(X).float(), fit.components.float(), fit.explained_variance_ratio.float()


# ---------------------------------------------------------------------------------------------
# Small problems the checks (and hidden tests) use


def small_taskset(names=("go",), n_ring: int = 4) -> tasks.TaskSet:
    """A task set with a small ring and short trials (fast to train on)."""
    return tasks.TaskSet(list(names), tasks.TaskConfig(n_ring=n_ring, dt=50.0))


def small_model(taskset, n_hidden: int = 8, seed: int = 0, mechanism: str = "rule"):
    """A tiny network without recurrent noise (so that every run is deterministic)."""
    return build_model(mechanism, taskset.n_in, taskset.n_out, taskset.K, n_hidden=n_hidden,
                       sigma_rec=0.0, dt=50.0, init="gaussian", w_rec_gain=0.8, seed=seed)


# ---------------------------------------------------------------------------------------------
# Helpers


def _parameters(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


# ---------------------------------------------------------------------------------------------
# Exercise checks


def check_masked_mse(masked_mse) -> None:
    """Checks ``masked_mse(outputs, targets, mask) -> scalar tensor``."""
    name = "masked_mse"
    g = torch.Generator().manual_seed(0)
    y, target = torch.rand(5, 3, 2, generator=g), torch.rand(5, 3, 2, generator=g)
    ones = torch.ones(5, 3, 2)
    out, call = _call(masked_mse, name, y, target, ones)
    out = _tensor(out, call, "a scalar torch tensor")
    _shape(out, (), call, "a scalar: one number for the whole batch")
    _finite(out, call)
    if abs(out.item() - ((y - target) ** 2).mean().item()) > 1e-5:
        raise CheckFailed(f"{call}: with a mask of ones everywhere the loss should be the plain "
                          "mean squared error over all entries.")
    same, call0 = _call(masked_mse, name, target, target, ones)
    if abs(_tensor(same, call0).item()) > 1e-7:
        raise CheckFailed(f"{call0}: outputs equal to the targets should give a loss of 0.")
    mask = (torch.rand(5, 3, 2, generator=g) > 0.5).float() * 3
    mask[0, 0, 0] = 3.0
    out1, call1 = _call(masked_mse, name, y, target, mask)
    changed = torch.where(mask > 0, y, y + 10)
    out2, call2 = _call(masked_mse, name, changed, target, mask)
    if abs(_tensor(out1, call1).item() - _tensor(out2, call2).item()) > 1e-5:
        raise CheckFailed(f"{call2}: changing the outputs where the mask is 0 should not change "
                          "the loss (multiply each squared error by its mask entry).")
    out3, call3 = _call(masked_mse, name, y, target, mask / 3)
    if abs(_tensor(out1, call1).item() - _tensor(out3, call3).item()) > 1e-5:
        raise CheckFailed(f"{call3}: multiplying the whole mask by a constant should not change "
                          "the loss: divide by the sum of the mask, not by the number of entries.")
    weights = torch.rand(5, 3, 2, generator=g) * 5
    out4, call4 = _call(masked_mse, name, y, target, weights)
    expected = reference_masked_mse(y, target, weights)
    if abs(_tensor(out4, call4).item() - expected.item()) > 1e-5:
        raise CheckFailed(f"{call4}: with non-uniform weights the loss differs from the weighted "
                          "mean in the instructions.")
    leaf = y.clone().requires_grad_(True)
    out5, call5 = _call(masked_mse, name, leaf, target, weights)
    out5 = _tensor(out5, call5)
    if not out5.requires_grad:
        raise CheckFailed(f"{call5}: the loss must stay connected to the outputs so that "
                          "backward() can compute gradients (use torch operations, no .item(), "
                          "no numpy).")
    _passed(name, 6)


class _CountingLoss:
    def __init__(self):
        self.calls = 0
        self.__name__ = "masked_loss"

    def __call__(self, outputs, targets, mask):
        self.calls += 1
        return reference_masked_mse(outputs, targets, mask)


def check_train_step(train_step) -> None:
    """Checks ``train_step(model, optimizer, batch, loss_fn, clip) -> (loss, grad_norm)``."""
    name = "train_step"
    taskset = small_taskset(("go", "anti"))
    batch = taskset.sample(16, seed=0)
    model = small_model(taskset)
    reference = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.05)
    loss_fn = _CountingLoss()
    before = _parameters(model)
    out, call = _call(train_step, name, model, opt, batch, loss_fn, 1.0)
    loss, grad_norm = _tuple(out, call, ("loss", "grad_norm"))
    loss = _number(loss, call, "loss")
    grad_norm = _number(grad_norm, call, "gradient norm")
    if loss_fn.calls != 1:
        raise CheckFailed(f"{call}: loss_fn should be called exactly once per step "
                          f"(it was called {loss_fn.calls} times).")
    ref_loss, ref_norm = reference_train_step(reference, ref_opt, batch, None, 1.0)
    if abs(loss - ref_loss) > 1e-5:
        raise CheckFailed(f"{call}: the returned loss should be loss_fn(outputs, targets, mask) "
                          "of the model's outputs on this batch, computed before the update.")
    if torch.equal(before, _parameters(model)):
        raise CheckFailed(f"{call}: the parameters did not change; call optimizer.step() after "
                          "loss.backward().")
    if abs(grad_norm - ref_norm) > 1e-4 * max(1.0, ref_norm):
        raise CheckFailed(f"{call}: the returned grad_norm should be the total norm of all "
                          "gradients before clipping (what clip_grad_norm_ returns).")
    if not torch.allclose(_parameters(model), _parameters(reference), atol=1e-6):
        raise CheckFailed(f"{call}: the parameters after the step differ from one step of "
                          "forward, loss, backward, clipping and optimizer.step().")
    out, call = _call(train_step, name, model, opt, batch, loss_fn, 1.0)
    reference_train_step(reference, ref_opt, batch, None, 1.0)
    if not torch.allclose(_parameters(model), _parameters(reference), atol=1e-6):
        raise CheckFailed(f"{call}: the second step in a row differs from the expected one. Are "
                          "the old gradients cleared (optimizer.zero_grad()) before backward()?")
    tiny = copy.deepcopy(model)
    sgd = torch.optim.SGD(tiny.parameters(), lr=1.0)
    before = _parameters(tiny)
    out, call = _call(train_step, name, tiny, sgd, batch, loss_fn, 1e-3)
    _, norm = _tuple(out, call, ("loss", "grad_norm"))
    moved = (_parameters(tiny) - before).norm().item()
    if moved > 1e-3 * 1.01:
        raise CheckFailed(f"{call}: with plain SGD (lr = 1) the parameters moved by {moved:.3g}, "
                          "more than clip allows: clip the total gradient norm "
                          "(torch.nn.utils.clip_grad_norm_) between backward() and step().")
    if _number(norm, call, "gradient norm") <= 1e-3:
        raise CheckFailed(f"{call}: grad_norm should be measured before clipping, not after.")
    free = copy.deepcopy(model)
    free_ref = copy.deepcopy(model)
    out, call = _call(train_step, name, free, torch.optim.SGD(free.parameters(), lr=0.05), batch,
                      loss_fn, None)
    reference_train_step(free_ref, torch.optim.SGD(free_ref.parameters(), lr=0.05), batch,
                         None, None)
    if not torch.allclose(_parameters(free), _parameters(free_ref), atol=1e-6):
        raise CheckFailed(f"{call}: with clip=None the gradients should not be clipped.")
    _passed(name, 8)


def check_train_loop(train_loop) -> None:
    """Checks ``train_loop(model, taskset, n_steps, lr, batch_size, clip, seed, step, loss_fn)``."""
    name = "train_loop"
    taskset = small_taskset(("go", "anti"))
    seen = []

    def recording_step(model, optimizer, batch, loss_fn, clip):
        seen.append((type(optimizer).__name__, batch.batch_size, float(batch.inputs.sum()),
                     clip, optimizer.param_groups[0]["lr"]))
        return reference_train_step(model, optimizer, batch, loss_fn, clip)

    recording_step.__name__ = "recording_step"
    model = small_model(taskset)
    out, call = _call(train_loop, name, model, taskset, 3, lr=0.01, batch_size=12, clip=0.5,
                      seed=4, step=recording_step, loss_fn=reference_masked_mse)
    losses, norms = _tuple(out, call, ("losses", "grad_norms"))
    if len(seen) != 3:
        raise CheckFailed(f"{call}: step should be called once per training step (3 times), it "
                          f"was called {len(seen)} times.")
    if len(losses) != 3 or len(norms) != 3:
        raise CheckFailed(f"{call}: losses and grad_norms should hold one value per step "
                          f"(3 each), got {len(losses)} and {len(norms)}.")
    for value in list(losses) + list(norms):
        _number(value, call, "loss or gradient norm")
    if any(s[0] != "Adam" for s in seen):
        raise CheckFailed(f"{call}: the optimiser should be torch.optim.Adam, got {seen[0][0]}.")
    if any(s[4] != 0.01 for s in seen):
        raise CheckFailed(f"{call}: the optimiser's learning rate should be lr = 0.01, got "
                          f"{seen[0][4]:g}: pass lr=lr when you create it.")
    if any(s[1] != 12 for s in seen):
        raise CheckFailed(f"{call}: each batch should have batch_size = 12 trials, got "
                          f"{seen[0][1]}.")
    if any(s[3] != 0.5 for s in seen):
        raise CheckFailed(f"{call}: pass clip on to step.")
    if len({s[2] for s in seen}) != 3:
        raise CheckFailed(f"{call}: every step should get a new batch (sample inside the loop).")
    reference_model = small_model(taskset)
    ref_losses, _ = reference_train_loop(reference_model, taskset, 3, 0.01, 12, 0.5, seed=4)
    if not np.allclose([float(v) for v in losses], ref_losses, atol=1e-5):
        raise CheckFailed(f"{call}: the batches or the updates differ from the instructions. "
                          "Create the optimiser and rng = np.random.default_rng(seed) once, "
                          "before the loop, and draw each batch with taskset.sample(batch_size, "
                          "rng).")
    if not torch.allclose(_parameters(model), _parameters(reference_model), atol=1e-5):
        raise CheckFailed(f"{call}: the trained parameters differ from 3 Adam steps on the "
                          "instructed batches.")
    _passed(name, 8)


def check_condition_average(condition_average) -> None:
    """Checks ``condition_average(rates (T, B, N), conditions (B,), n_conditions) -> (T, C, N)``."""
    name = "condition_average"

    def average(rates, conditions, n_conditions):
        out, call = _call(condition_average, name, rates, conditions, n_conditions)
        out = _tensor(out, call, finite=True).float()
        T, _, N = rates.shape
        _shape(out, (T, n_conditions, N), call, "(T, n_conditions, N)")
        return out, call

    g = torch.Generator().manual_seed(1)
    rates = torch.rand(4, 6, 3, generator=g)
    out, call = average(rates, torch.zeros(6, dtype=torch.long), 1)
    if not torch.allclose(out[:, 0], rates.mean(1), atol=1e-6):
        raise CheckFailed(f"{call}: with a single condition the result should be the mean over "
                          "all trials (the batch dimension, dim 1).")
    conditions = torch.tensor([2, 0, 1, 2, 0, 1])
    out, call = average(rates, conditions, 3)
    if not torch.allclose(out[:, 2], (rates[:, 0] + rates[:, 3]) / 2, atol=1e-6):
        raise CheckFailed(f"{call}: condition 2 (trials 0 and 3) should be the mean of those "
                          "trials only.")
    if not torch.allclose(out, reference_condition_average(rates, conditions, 3), atol=1e-6):
        raise CheckFailed(f"{call}: some conditions are not the mean of their own trials; column "
                          "c of the result belongs to the trials with conditions == c.")
    order = torch.randperm(6, generator=g)
    shuffled, call2 = average(rates[:, order], conditions[order], 3)
    if not torch.allclose(shuffled, out, atol=1e-6):
        raise CheckFailed(f"{call2}: the order of the trials should not matter (the same "
                          "trials, shuffled, gave different averages).")
    rates = torch.rand(7, 40, 5, generator=g)
    conditions = torch.arange(40) % 8
    out, call = average(rates, conditions, 8)
    if not torch.allclose(out, reference_condition_average(rates, conditions, 8), atol=1e-6):
        raise CheckFailed(f"{call}: the averages differ from the mean rate of each condition's "
                          "trials.")
    _passed(name, 6)


def check_pca_project(pca_project) -> None:
    """Checks ``pca_project(X (M, N), k) -> (Z (M, k), components (k, N), ratio (k,))``."""
    name = "pca_project"
    g = torch.Generator().manual_seed(2)
    # data with a clear order of variances along random orthogonal directions, off-centre
    basis, _ = torch.linalg.qr(torch.randn(6, 6, generator=g))
    X = (torch.randn(200, 6, generator=g) * torch.tensor([3.0, 2.0, 1.0, 0.5, 0.2, 0.1])) \
        @ basis.T + 5.0
    out, call = _call(pca_project, name, X, 3)
    names = ("Z", "components", "explained_variance_ratio")
    Z, comps, ratio = (_tensor(v, call, f"a torch tensor for {n}").double()
                       for v, n in zip(_tuple(out, call, names), names, strict=True))
    _shape(Z, (200, 3), call + " -> Z", "one row per sample, one column per component")
    _shape(comps, (3, 6), call + " -> components", "one row per component, one column per unit")
    _shape(ratio, (3,), call + " -> explained_variance_ratio", "one value per component")
    for v in (Z, comps, ratio):
        _finite(v, call)
    if not torch.allclose(comps @ comps.T, torch.eye(3, dtype=torch.float64), atol=1e-4):
        raise CheckFailed(f"{call}: the components should be orthonormal (unit length, mutually "
                          "orthogonal) rows: the right singular vectors.")
    ref = analysis.pca(X, 3)
    overlap = (comps @ ref.components.double().T).abs().diagonal()
    if not torch.allclose(overlap, torch.ones(3, dtype=torch.float64), atol=1e-3):
        raise CheckFailed(f"{call}: the components are not the directions of largest variance, in "
                          "order. Did you centre X (subtract the mean of each column) and take "
                          "the first rows of Vh?")
    if abs(Z.mean(0)).max() > 1e-3:
        raise CheckFailed(f"{call}: the projections Z should have mean 0: project the centred "
                          "data.")
    expected_Z = (X.double() - X.double().mean(0)) @ comps.T
    if not torch.allclose(Z, expected_Z, atol=1e-3):
        raise CheckFailed(f"{call}: Z should be the centred data projected on your components.")
    if not torch.allclose(ratio, ref.explained_variance_ratio.double(), atol=1e-4):
        raise CheckFailed(f"{call}: explained_variance_ratio should be each component's variance "
                          "(squared singular value) divided by the total variance of all "
                          "directions.")
    out, call = _call(pca_project, name, X, 6)
    ratio6 = _tensor(out[2], call).double()
    if abs(ratio6.sum().item() - 1.0) > 1e-4:
        raise CheckFailed(f"{call}: with all components the ratios should add up to 1.")
    _passed(name, 7)
