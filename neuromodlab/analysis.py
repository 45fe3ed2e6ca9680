"""Population analysis: PCA, dimensionality, subspaces, task variance, fixed points.

Shapes (time-major, as everywhere in neuromodlab): ``T`` time steps, ``B`` trials, ``N`` units,
``M`` samples or starting points, ``K`` tasks, ``n`` components, ``d`` subspace dimension.

- activity ``X``: ``(T, B, N)`` or ``(M, N)``; leading dimensions are flattened to ``(M, N)``;
- subspace ``basis``: ``(N, d)``, columns spanning it (orthonormalised here; ``(N,)`` is a line);
- ``rates`` ``(T, B, N)`` with ``task_ids`` ``(B,)``, integers in ``[0, K)``;
- ``step``: any callable mapping states ``(M, N)`` to next states ``(M, N)``, acting on each row
  independently, e.g. a trained RNN's one-step map with a fixed input and context, noise off.

Inputs may be torch tensors or numpy arrays; results are torch tensors (or Python floats).
Decompositions run in float64 and come back in the input's floating dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

Step = Callable[[Tensor], Tensor]


def _tensor(x, name: str, ndims: tuple[int, ...] | None = None) -> Tensor:
    """``x`` as a detached, finite torch tensor (integers become float64)."""
    if not isinstance(x, Tensor):
        try:
            x = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"{name} must be a tensor or array, got {type(x).__name__}") from err
    x = x.detach()
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.float64)
    if ndims is not None and x.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want}, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf values")
    return x


def _samples(X, name: str = "X") -> Tensor:
    """Activity ``(..., N)`` flattened to samples ``(M, N)``, M >= 2."""
    X = _tensor(X, name)
    if X.ndim < 2:
        raise ValueError(f"{name} must be (T, B, N) or (M, N), got shape {tuple(X.shape)}")
    X = X.reshape(-1, X.shape[-1])
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 samples and 1 unit, got {tuple(X.shape)}")
    return X


# ---------------------------------------------------------------------------------- PCA
@dataclass
class PCA:
    """Principal components of activity. ``components`` rows are orthonormal, sorted by variance;
    each component's largest-magnitude entry is positive (a fixed sign convention).

    ``explained_variance`` uses the unbiased covariance (divides by M - 1);
    ``explained_variance_ratio`` is relative to the total variance of all N directions.
    """

    mean: Tensor  # (N,)
    components: Tensor  # (n, N)
    explained_variance: Tensor  # (n,)
    explained_variance_ratio: Tensor  # (n,)

    @property
    def n_components(self) -> int:
        return self.components.shape[0]

    def transform(self, Y) -> Tensor:
        """Project ``Y`` ``(..., N)`` onto the components: ``(..., n)``, leading dims kept."""
        Y = _tensor(Y, "Y")
        N = self.mean.shape[0]
        if Y.ndim < 1 or Y.shape[-1] != N:
            raise ValueError(f"Y must have last dimension N={N}, got shape {tuple(Y.shape)}")
        Z = (Y.double() - self.mean.double()) @ self.components.double().T
        return Z.to(Y.dtype)

    def inverse_transform(self, Z) -> Tensor:
        """Map projections ``(..., n)`` back to activity space ``(..., N)``."""
        Z = _tensor(Z, "Z")
        if Z.ndim < 1 or Z.shape[-1] != self.n_components:
            raise ValueError(
                f"Z must have last dimension n={self.n_components}, got shape {tuple(Z.shape)}"
            )
        X = Z.double() @ self.components.double() + self.mean.double()
        return X.to(Z.dtype)


def _pca64(X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Mean (N,), all N components (N, N) and their variances (N,), in float64."""
    X = X.double()
    M, N = X.shape
    mean = X.mean(0)
    Xc = X - mean
    if M >= N:
        _, s, vh = torch.linalg.svd(Xc, full_matrices=False)
    else:  # fewer samples than units: complete the basis so that any n <= N is defined
        u, s, _ = torch.linalg.svd(Xc.T, full_matrices=True)
        vh, s = u.T, torch.cat([s, s.new_zeros(N - M)])
    biggest = vh.gather(1, vh.abs().argmax(1, keepdim=True))
    return mean, vh * torch.sign(biggest), s**2 / (M - 1)


def pca(X, n_components: int | None = None) -> PCA:
    """PCA of ``X`` ``(T, B, N)`` or ``(M, N)`` by SVD of the centred data (float64)."""
    X = _samples(X)
    N = X.shape[1]
    n = N if n_components is None else n_components
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= N:
        raise ValueError(f"n_components must be an integer in [1, N={N}], got {n_components!r}")
    mean, comps, var = _pca64(X)
    total = var.sum()
    ratio = var / total if total > 0 else torch.zeros_like(var)
    dt = X.dtype
    return PCA(mean.to(dt), comps[:n].to(dt), var[:n].to(dt), ratio[:n].to(dt))


def participation_ratio(X) -> float:
    """Dimensionality ``(sum_i l_i)^2 / sum_i l_i^2`` of the covariance eigenvalues ``l_i``:
    1 for rank-one data, d for isotropic data in d dimensions."""
    _, _, var = _pca64(_samples(X))
    if not var.sum() > 0:
        raise ValueError("X has zero variance: its participation ratio is undefined")
    return float(var.sum() ** 2 / (var**2).sum())


# ---------------------------------------------------------------------------- subspaces
def subspace(X, n: int) -> Tensor:
    """Orthonormal basis ``(N, n)`` of the top-``n`` principal components of ``X``."""
    return pca(X, n).components.T


def _basis(A, name: str) -> Tensor:
    """Orthonormal basis (N, d), float64, of the column span of ``A`` (N, d) or (N,)."""
    A = _tensor(A, name, ndims=(1, 2)).double()
    A = A[:, None] if A.ndim == 1 else A
    N, d = A.shape
    if d < 1 or d > N:
        raise ValueError(f"{name} must be (N, d) with 1 <= d <= N, got shape {(N, d)}")
    U, S, _ = torch.linalg.svd(A, full_matrices=False)
    if S[-1] <= S[0] * N * torch.finfo(S.dtype).eps:
        raise ValueError(f"{name} must have linearly independent columns (full column rank {d})")
    return U


def principal_angles(A, B) -> Tensor:
    """Principal angles ``(min(dA, dB),)`` in radians, ascending, between span(A) and span(B).

    Cosines are the singular values of ``Qa^T Qb`` (clipped into [-1, 1]); angles whose cosine
    is near 1 use the sines of ``(I - Qa Qa^T) Qb`` instead (Knyazev & Argentati 2002), which
    keeps small angles accurate.
    """
    dtype = torch.promote_types(_tensor(A, "A").dtype, _tensor(B, "B").dtype)
    Qa, Qb = _basis(A, "A"), _basis(B, "B")
    if Qa.shape[0] != Qb.shape[0]:
        raise ValueError(
            f"A and B must have the same N (rows), got {Qa.shape[0]} and {Qb.shape[0]}"
        )
    if Qa.shape[1] < Qb.shape[1]:
        Qa, Qb = Qb, Qa  # the angles are symmetric; dA >= dB makes the sine formula hold
    cos = torch.linalg.svdvals(Qa.T @ Qb).clamp(-1.0, 1.0)  # descending
    sin = torch.linalg.svdvals(Qb - Qa @ (Qa.T @ Qb)).clamp(-1.0, 1.0).flip(0)  # ascending
    angles = torch.where(cos**2 > 0.5, torch.arcsin(sin), torch.arccos(cos))
    return angles.to(dtype if dtype.is_floating_point else torch.float64)


def subspace_overlap(A, B) -> float:
    """Mean squared cosine of the principal angles: 1 for the same subspace, 0 if orthogonal."""
    return float((torch.cos(principal_angles(A, B).double()) ** 2).mean())


def subspace_overlap_matrix(bases: Sequence | Mapping) -> Tensor:
    """Overlap between every pair of subspaces: ``(K, K)`` float64, symmetric, ones on the diagonal.
    ``bases`` is a sequence of ``(N, d_k)`` bases or a mapping name -> basis (order kept)."""
    items = list(bases.values()) if isinstance(bases, Mapping) else list(bases)
    K = len(items)
    out = torch.ones(K, K, dtype=torch.float64)
    for i in range(K):
        for j in range(i + 1, K):
            out[i, j] = out[j, i] = subspace_overlap(items[i], items[j])
    return out


# ------------------------------------------------------------------------ task variance
def task_variance(rates, task_ids, n_tasks: int | None = None) -> Tensor:
    """Task variance ``(K, N)`` (Yang et al. 2019): for each task, the variance across that
    task's trials of each unit's rate (population variance, divides by the trial count),
    averaged over time. ``K = n_tasks`` or ``max(task_ids) + 1``; every task needs a trial."""
    rates = _tensor(rates, "rates", ndims=(3,))
    ids = torch.as_tensor(np.asarray(task_ids) if not isinstance(task_ids, Tensor) else task_ids)
    if ids.ndim != 1 or ids.shape[0] != rates.shape[1]:
        raise ValueError(
            f"task_ids must be 1-D of length B={rates.shape[1]}, got {tuple(ids.shape)}"
        )
    if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
        raise ValueError(f"task_ids must hold integers, got dtype {ids.dtype}")
    K = int(ids.max()) + 1 if n_tasks is None else int(n_tasks)
    if ids.min() < 0 or ids.max() >= K:
        raise ValueError(f"task_ids must lie in [0, K={K}), got {int(ids.min())}..{int(ids.max())}")
    onehot = torch.nn.functional.one_hot(ids.long(), K).double()  # (B, K)
    count = onehot.sum(0)
    if (count == 0).any():
        raise ValueError(f"task_ids has no trial of task {int((count == 0).nonzero()[0])} (K={K})")
    r = rates.double()
    mean = torch.einsum("tbn,bk->tkn", r, onehot) / count[:, None]  # (T, K, N)
    dev2 = (r - mean[:, ids.long(), :]) ** 2  # (T, B, N)
    var = torch.einsum("tbn,bk->tkn", dev2, onehot) / count[:, None]
    return var.mean(0).to(rates.dtype)


def normalized_task_variance(tv, min_variance: float = 0.0) -> Tensor:
    """Task variance ``(K, N)`` divided by each unit's maximum over tasks, so every active unit
    peaks at 1 on its preferred task; units whose maximum is <= ``min_variance`` become 0."""
    tv = _tensor(tv, "tv", ndims=(2,))
    if (tv < 0).any():
        raise ValueError("tv must be non-negative (a variance)")
    peak = tv.max(0).values
    return tv * torch.where(peak > min_variance, 1 / peak, torch.zeros_like(peak))


# ------------------------------------------------------------------------- fixed points
@dataclass
class FixedPoints:
    """Candidate fixed (or slow) points of a map, found by :func:`find_fixed_points`."""

    points: Tensor  # (M, N)
    speed: Tensor  # (M,) q(x) = 0.5 * ||step(x) - x||^2
    converged: Tensor  # (M,) bool, speed < tol
    tol: float

    def __len__(self) -> int:
        return self.points.shape[0]

    def __getitem__(self, idx) -> FixedPoints:
        """Select points by boolean mask ``(M,)``, index tensor or int (keeps the M axis)."""
        idx = torch.as_tensor(idx)
        idx = idx[None] if idx.ndim == 0 else idx
        return FixedPoints(self.points[idx], self.speed[idx], self.converged[idx], self.tol)

    def unique(self, tol: float = 1e-3) -> FixedPoints:
        """Merge points closer than ``tol`` (Euclidean), keeping the slowest of each group.
        For converged points only: ``fps[fps.converged].unique()``."""
        keep: list[int] = []
        for i in torch.argsort(self.speed).tolist():
            dist = torch.linalg.vector_norm(self.points[keep] - self.points[i], dim=1)
            if not (dist <= tol).any():
                keep.append(i)
        return self[torch.tensor(keep, dtype=torch.long)]


def _speed(step: Step, x: Tensor) -> Tensor:
    return 0.5 * ((step(x) - x) ** 2).sum(-1)


def find_fixed_points(
    step: Step, x0, n_iter: int = 2000, lr: float = 1e-2, tol: float = 1e-6, *, newton_steps=20
) -> FixedPoints:
    """Minimise ``q(x) = 0.5 * ||step(x) - x||^2`` from each of the M starting states ``x0``
    ``(M, N)`` at once (Sussillo & Barak 2013).

    First ``n_iter`` Adam iterations with a cosine-decaying learning rate (``lr`` down to
    ``lr / 1000``), then ``newton_steps`` damped Gauss-Newton (Levenberg-Marquardt) steps, each
    kept only where it lowers q: Adam finds the basins, Gauss-Newton makes the points precise.
    Local minima with ``q > 0`` are slow points; ``converged`` marks ``q < tol``. The search runs
    in ``x0``'s dtype (pass float32 states for a float32 network). Only ``x`` is differentiated:
    the parameters inside ``step`` get no gradient.
    """
    x0 = _tensor(x0, "x0", ndims=(1, 2))
    x0 = x0[None] if x0.ndim == 1 else x0
    if n_iter < 0 or newton_steps < 0:
        raise ValueError(f"n_iter and newton_steps must be >= 0, got {n_iter} and {newton_steps}")
    if not (lr > 0 and tol > 0):
        raise ValueError(f"lr and tol must be > 0, got lr={lr}, tol={tol}")
    with torch.no_grad():
        out = step(x0)
    if not isinstance(out, Tensor) or out.shape != x0.shape:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"step must map states x0 {tuple(x0.shape)} to that shape, got {got}")
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(n_iter, 1), eta_min=lr * 1e-3)
    for _ in range(n_iter):
        x.grad = torch.autograd.grad(_speed(step, x).sum(), x)[0]
        opt.step()
        sched.step()
    x = _gauss_newton(step, x.detach(), newton_steps)
    with torch.no_grad():
        speed = _speed(step, x)
    return FixedPoints(x, speed, speed < tol, tol)


def _gauss_newton(step: Step, x: Tensor, n_steps: int) -> Tensor:
    """Levenberg-Marquardt on the residual ``step(x) - x``, batched, accept-if-better per point."""
    M, N = x.shape
    eye = torch.eye(N, dtype=x.dtype, device=x.device)
    mu = torch.full((M,), 1e-3, dtype=x.dtype, device=x.device)  # damping / mean curvature
    with torch.no_grad():
        q = _speed(step, x)
    for _ in range(n_steps):
        Jr = jacobians(step, x) - eye  # (M, N, N) Jacobian of the residual
        with torch.no_grad():
            r = step(x) - x
            JtJ = Jr.mT @ Jr
            scale = JtJ.diagonal(dim1=-2, dim2=-1).mean(-1) + torch.finfo(x.dtype).eps
            A = JtJ + (mu * scale)[:, None, None] * eye
            dx = -torch.linalg.solve(A, (Jr.mT @ r[..., None]))[..., 0]
            q_new = _speed(step, x + dx)
            better = q_new < q  # NaN or worse: reject and damp more
            x = torch.where(better[:, None], x + dx, x)
            q = torch.where(better, q_new, q)
            mu = torch.where(better, mu / 3, mu * 4).clamp(1e-12, 1e12)
    return x


def jacobian(step: Step, x) -> Tensor:
    """Jacobian ``(N, N)`` of ``step`` at a state ``x`` ``(N,)``: ``J[i, j] = d step_i / d x_j``."""
    x = _tensor(x, "x", ndims=(1,))
    return torch.autograd.functional.jacobian(lambda v: step(v[None])[0], x)


def jacobians(step: Step, points) -> Tensor:
    """Jacobians ``(M, N, N)`` at M states ``(M, N)`` (or a :class:`FixedPoints`) in one batched
    call; relies on ``step`` acting on each row independently."""
    points = points.points if isinstance(points, FixedPoints) else points
    points = _tensor(points, "points", ndims=(2,))

    def summed(p: Tensor) -> Tensor:
        return step(p).sum(0)

    try:
        J = torch.autograd.functional.jacobian(summed, points, vectorize=True)  # (N, M, N)
    except RuntimeError:  # an operation vmap does not support: one backward pass per unit
        J = torch.autograd.functional.jacobian(summed, points)
    return J.permute(1, 0, 2)


def jacobian_eigenvalues(step: Step, points) -> Tensor:
    """Eigenvalues ``(M, N)`` (complex) of the Jacobian at each point, by decreasing modulus."""
    eig = torch.linalg.eigvals(jacobians(step, points))
    return torch.gather(eig, -1, torch.argsort(eig.abs(), dim=-1, descending=True))


def is_stable(eigenvalues) -> Tensor:
    """Stability ``(...,)`` of discrete-time fixed points from eigenvalues ``(..., N)``:
    stable iff every ``|eigenvalue| < 1``."""
    eigenvalues = _tensor(eigenvalues, "eigenvalues")
    if eigenvalues.ndim < 1:
        raise ValueError("eigenvalues must be (..., N), got a scalar")
    return eigenvalues.abs().amax(-1) < 1
