"""Self-checks and reference versions for W1D2 Tutorial 5 (neural dynamics of the two pathways).

Shapes: eigenvalues ``(N,)``; subspace bases ``(N, d)``; states ``(M, N)``; ``step`` maps states
``(M, N)`` to next states ``(M, N)`` row by row. Each ``check_<exercise>(your_function)`` raises
:class:`CheckFailed` naming the call that failed and the property expected (never the answer);
``NotImplementedError`` passes through.
"""

from __future__ import annotations

import torch

from .. import analysis
from . import CheckFailed, _call, _passed, _tensor

__all__ = [
    "reference_participation_ratio", "reference_principal_angles", "reference_fixed_point_speed",
    "check_participation_ratio", "check_principal_angles", "check_fixed_point_speed",
]


def reference_participation_ratio(eigenvalues) -> float:
    """(sum l)^2 / sum l^2 of covariance eigenvalues ``(N,)``."""
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64)
    return float(lam.sum() ** 2 / (lam**2).sum())


def reference_principal_angles(A, B) -> torch.Tensor:
    """Principal angles (radians, ascending) between span(A) and span(B), ``(min(dA, dB),)``."""
    return analysis.principal_angles(torch.as_tensor(A, dtype=torch.float64),
                                     torch.as_tensor(B, dtype=torch.float64))


def reference_fixed_point_speed(step, x) -> torch.Tensor:
    """q(x) = 0.5 ||step(x) - x||^2 for each row of ``x`` ``(M, N)``: ``(M,)``."""
    return 0.5 * ((step(x) - x) ** 2).sum(-1)


def _float(out, call) -> float:
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            raise CheckFailed(f"{call} should return one number, got shape {tuple(out.shape)}.")
        out = out.item()
    try:
        return float(out)
    except (TypeError, ValueError) as err:
        raise CheckFailed(f"{call} should return a number, got {type(out).__name__}.") from err


def check_participation_ratio(participation_ratio) -> None:
    """Checks ``participation_ratio(eigenvalues (N,)) -> float``."""
    name, n = "participation_ratio", 0
    for lam, expected, why in ((torch.tensor([2.0, 0.0, 0.0]), 1.0, "one non-zero eigenvalue"),
                               (torch.ones(4), 4.0, "four equal eigenvalues")):
        out, call = _call(participation_ratio, name, lam)
        if abs(_float(out, call) - expected) > 1e-5:
            raise CheckFailed(f"{call}: with {why} the participation ratio should equal the "
                              "number of equally used dimensions.")
        n += 1
    lam = torch.tensor([3.0, 1.0, 0.5])
    a, call = _call(participation_ratio, name, lam)
    b, call2 = _call(participation_ratio, name, 7 * lam)
    if abs(_float(a, call) - _float(b, call2)) > 1e-5:
        raise CheckFailed(f"{call} and {call2} should be equal: scaling every eigenvalue does "
                          "not change the dimensionality.")
    n += 1
    gen = torch.Generator().manual_seed(3)
    for _ in range(3):
        lam = torch.rand(6, generator=gen, dtype=torch.float64)
        out, call = _call(participation_ratio, name, lam)
        if abs(_float(out, call) - reference_participation_ratio(lam)) > 1e-5:
            raise CheckFailed(f"{call}: differs from the expected participation ratio; check "
                              "that you square the sum, and sum the squares.")
        n += 1
    _passed(name, n)


def check_principal_angles(principal_angles) -> None:
    """Checks ``principal_angles(A (N, dA), B (N, dB)) -> (min(dA, dB),)`` radians, ascending."""
    name, n = "principal_angles", 0
    eye = torch.eye(4, dtype=torch.float64)
    cases = ((eye[:, :2], eye[:, :2], [0.0, 0.0], "the same plane"),
             (eye[:, :2], eye[:, 2:], [torch.pi / 2] * 2, "orthogonal planes"))
    for A, B, expected, why in cases:
        out, call = _call(principal_angles, name, A, B)
        out = _tensor(out, call).double().reshape(-1)
        if out.shape != (2,) or not torch.allclose(out, torch.tensor(expected, dtype=torch.float64), atol=1e-4):
            raise CheckFailed(f"{call}: for {why} the angles are known exactly; yours differ "
                              "(or have the wrong shape: one angle per dimension of the smaller "
                              "subspace).")
        n += 1
    A = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)  # not orthonormal
    out, call = _call(principal_angles, name, A, eye[:3, :2])
    if not torch.allclose(_tensor(out, call).double().reshape(-1), torch.zeros(2, dtype=torch.float64), atol=1e-4):
        raise CheckFailed(f"{call}: both span the same plane (the first columns are not "
                          "orthonormal: orthonormalise them with QR first).")
    n += 1
    gen = torch.Generator().manual_seed(5)
    for dA, dB in ((3, 3), (2, 4), (4, 1)):
        A = torch.randn(10, dA, generator=gen, dtype=torch.float64)
        B = torch.randn(10, dB, generator=gen, dtype=torch.float64)
        out, call = _call(principal_angles, name, A, B)
        out = _tensor(out, call).double().reshape(-1)
        ref = reference_principal_angles(A, B)
        if out.shape != ref.shape:
            raise CheckFailed(f"{call} should return shape {tuple(ref.shape)} "
                              "(min(dA, dB) angles).")
        if not torch.allclose(out, ref, atol=1e-4):
            raise CheckFailed(f"{call}: angles differ from the expected ones; check the arccos "
                              "of the singular values and the ascending order.")
        n += 1
    _passed(name, n)


def check_fixed_point_speed(fixed_point_speed) -> None:
    """Checks ``fixed_point_speed(step, x (M, N)) -> (M,)``."""
    name, n = "fixed_point_speed", 0
    x = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])

    def identity(v):
        return v

    out, call = _call(fixed_point_speed, name, identity, x)
    out = _tensor(out, call)
    if tuple(out.shape) != (3,):
        raise CheckFailed(f"{call} should return shape (3,): one speed per state (row).")
    if not torch.allclose(out.double(), torch.zeros(3, dtype=torch.float64), atol=1e-8):
        raise CheckFailed(f"{call}: every state is a fixed point of the identity map, so its "
                          "speed should be 0.")
    n += 1
    W = torch.tensor([[0.5, -0.2], [0.1, 0.3]])
    for step in (lambda v: v @ W.T, lambda v: torch.tanh(v @ W.T) + 1.0):
        out, call = _call(fixed_point_speed, name, step, x)
        out = _tensor(out, call).double()
        ref = reference_fixed_point_speed(step, x).double()
        if tuple(out.shape) != (3,) or not torch.allclose(out, ref, atol=1e-5):
            raise CheckFailed(f"{call}: differs from the expected speed; check the factor 0.5 "
                              "and that you sum the squared differences over units, per row.")
        n += 1
    xg = x.clone().requires_grad_(True)
    out, call = _call(fixed_point_speed, name, lambda v: v @ W.T, xg)
    if not (isinstance(out, torch.Tensor) and out.requires_grad):
        raise CheckFailed(f"{call}: the result must stay differentiable with respect to x "
                          "(use torch operations, no .detach() or .item()).")
    n += 1
    _passed(name, n)
