"""Self-checks and reference versions for W1D2 Tutorial 5 (neural dynamics of the two pathways).

Shapes: eigenvalues ``(N,)``; subspace bases ``(N, d)``; states ``(M, N)``; ``step`` maps states
``(M, N)`` to next states ``(M, N)`` row by row. Each ``check_<exercise>(your_function)`` raises
:class:`CheckFailed` naming the call that failed and the property expected (never the answer);
``NotImplementedError`` passes through.
"""

from __future__ import annotations

import torch

from .. import analysis
from ._core import CheckFailed, _call, _number, _passed, _shape, _tensor, yours_or_reference

__all__ = [
    "CheckFailed", "yours_or_reference", "reference_participation_ratio",
    "reference_principal_angles", "reference_fixed_point_speed",
    "check_participation_ratio", "check_principal_angles", "check_fixed_point_speed",
]


def reference_participation_ratio(eigenvalues) -> float:
    """(sum l)^2 / sum l^2 of covariance eigenvalues ``(N,)`` (analysis.participation_ratio
    computes the same from data, not from eigenvalues)."""
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64)
    return float(lam.sum() ** 2 / (lam**2).sum())


def reference_principal_angles(A, B) -> torch.Tensor:
    """Principal angles (radians, ascending) between span(A) and span(B), ``(min(dA, dB),)``."""
    return analysis.principal_angles(torch.as_tensor(A, dtype=torch.float64),
                                     torch.as_tensor(B, dtype=torch.float64))


def reference_fixed_point_speed(step, x) -> torch.Tensor:
    """q(x) = 0.5 ||step(x) - x||^2 for each row of ``x`` ``(M, N)``: ``(M,)`` (the speed
    analysis.find_fixed_points minimises)."""
    return 0.5 * ((step(x) - x) ** 2).sum(-1)


def check_participation_ratio(participation_ratio) -> None:
    """Checks ``participation_ratio(eigenvalues (N,)) -> float``."""
    name, n = "participation_ratio", 0

    def pr(lam):
        out, call = _call(participation_ratio, name, lam)
        return _number(out, call, "the participation ratio"), call

    for lam, expected, why in ((torch.tensor([2.0, 0.0, 0.0]), 1.0, "one non-zero eigenvalue"),
                               (torch.ones(4), 4.0, "four equal eigenvalues")):
        value, call = pr(lam)
        if abs(value - expected) > 1e-5:
            raise CheckFailed(f"{call}: with {why} the participation ratio should equal the "
                              f"number of equally used dimensions; yours is {value:.4g}.")
        n += 1
    lam = torch.tensor([3.0, 1.0, 0.5])
    (a, call), (b, call2) = pr(lam), pr(7 * lam)
    if abs(a - b) > 1e-5:
        raise CheckFailed(f"{call} and {call2} should be equal: scaling every eigenvalue does "
                          "not change the dimensionality (divide by the sum of squares).")
    n += 1
    gen = torch.Generator().manual_seed(3)
    for _ in range(3):
        lam = torch.rand(6, generator=gen, dtype=torch.float64)
        value, call = pr(lam)
        if abs(value - reference_participation_ratio(lam)) > 1e-5:
            raise CheckFailed(f"{call}: differs from (sum of eigenvalues)^2 / (sum of squared "
                              "eigenvalues); check that you square the sum, and sum the "
                              "squares.")
        n += 1
    _passed(name, n)


def check_principal_angles(principal_angles) -> None:
    """Checks ``principal_angles(A (N, dA), B (N, dB)) -> (min(dA, dB),)`` radians, ascending."""
    name, n = "principal_angles", 0

    def angles(A, B):
        out, call = _call(principal_angles, name, A, B)
        out = _tensor(out, call, finite=True).double()
        _shape(out, (min(A.shape[1], B.shape[1]),), call,
               "one angle per dimension of the smaller subspace")
        return out, call

    eye = torch.eye(4, dtype=torch.float64)
    cases = ((eye[:, :2], eye[:, :2], 0.0, "the same plane: both angles 0"),
             (eye[:, :2], eye[:, 2:], torch.pi / 2, "orthogonal planes: both angles pi / 2"),
             (torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]],
                           dtype=torch.float64), eye[:, :2],
              0.0, "the same plane, although the columns of A are not orthonormal: both "
              "angles 0 (orthonormalise A and B with QR first)"))
    for A, B, expected, why in cases:
        out, call = angles(A, B)
        if not torch.allclose(out, torch.full_like(out, expected), atol=1e-4):
            raise CheckFailed(f"{call}: the inputs span {why}.")
        n += 1
    gen = torch.Generator().manual_seed(5)
    for dA, dB in ((3, 3), (2, 4), (4, 1)):
        A = torch.randn(10, dA, generator=gen, dtype=torch.float64)
        B = torch.randn(10, dB, generator=gen, dtype=torch.float64)
        out, call = angles(A, B)
        if not torch.allclose(out, reference_principal_angles(A, B), atol=1e-4):
            raise CheckFailed(f"{call}: for random subspaces the angles differ from the "
                              "expected ones; check the arccos of the singular values of "
                              "Qa^T Qb and the ascending order.")
        n += 1
    _passed(name, n)


def check_fixed_point_speed(fixed_point_speed) -> None:
    """Checks ``fixed_point_speed(step, x (M, N)) -> (M,)``."""
    name, n = "fixed_point_speed", 0
    x = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    W = torch.tensor([[0.5, -0.2], [0.1, 0.3]])

    def identity(v):
        return v

    def linear(v):
        return v @ W.T

    def tanh_map(v):
        return torch.tanh(v @ W.T) + 1.0

    def speed(step, states):
        out, call = _call(fixed_point_speed, name, step, states)
        out = _tensor(out, call, finite=True)
        _shape(out, (states.shape[0],), call, "one speed per state (row of x)")
        return out, call

    out, call = speed(identity, x)
    if not torch.allclose(out.double(), torch.zeros(3, dtype=torch.float64), atol=1e-8):
        raise CheckFailed(f"{call}: every state is a fixed point of the identity map, so its "
                          "speed should be 0.")
    n += 1
    for step in (linear, tanh_map):
        out, call = speed(step, x)
        if not torch.allclose(out.double(), reference_fixed_point_speed(step, x).double(),
                              atol=1e-5):
            raise CheckFailed(f"{call}: differs from 0.5 ||step(x) - x||^2; check the factor "
                              "0.5 and that you sum the squared differences over units, per "
                              "row.")
        n += 1
    out, call = speed(linear, x.clone().requires_grad_(True))
    if not out.requires_grad:
        raise CheckFailed(f"{call}: the result must stay differentiable with respect to x "
                          "(use torch operations, no .detach() or .item()).")
    n += 1
    _passed(name, n)
