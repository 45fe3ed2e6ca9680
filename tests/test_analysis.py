"""Oracles for neuromodlab.analysis: numpy references, analytic cases, hand-computed geometry."""

import io
import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neuromodlab import analysis as A

torch.set_num_threads(1)


def rng(seed=0):
    return np.random.default_rng(seed)


def correlated(M=400, N=6, seed=0):
    r = rng(seed)
    return r.normal(size=(M, N)) @ r.normal(size=(N, N)) + r.normal(size=N)


def random_orthonormal(N, d, seed=0):
    return np.linalg.qr(rng(seed).normal(size=(N, d)))[0]


# ------------------------------------------------------------------------------------ PCA
def test_pca_matches_eigh_of_covariance():
    X = correlated()
    p = A.pca(X)
    lam, V = np.linalg.eigh(np.cov(X.T))  # ascending
    lam, V = lam[::-1], V[:, ::-1]
    np.testing.assert_allclose(p.explained_variance.numpy(), lam, rtol=0, atol=1e-8)
    cosines = np.sum(p.components.numpy() * V.T, axis=1)
    np.testing.assert_allclose(np.abs(cosines), 1.0, atol=1e-8)  # same directions, up to sign
    np.testing.assert_allclose(p.components.numpy() @ p.components.numpy().T, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(p.mean.numpy(), X.mean(0), atol=1e-12)
    np.testing.assert_allclose(p.explained_variance_ratio.numpy(), lam / lam.sum(), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), M=st.integers(2, 40), N=st.integers(1, 8))
def test_pca_property_against_eigh(seed, M, N):
    X = rng(seed).normal(size=(M, N)) * rng(seed + 1).uniform(0.1, 3.0, size=N)
    p = A.pca(X)
    lam = np.linalg.eigvalsh(np.atleast_2d(np.cov(X.T)))[::-1]
    np.testing.assert_allclose(p.explained_variance.numpy(), np.clip(lam, 0, None), atol=1e-8)
    np.testing.assert_allclose(p.components.numpy() @ p.components.numpy().T, np.eye(N), atol=1e-10)


def test_pca_flattens_time_and_trials_and_truncates():
    X = correlated(M=60, N=5).reshape(6, 10, 5)
    full, flat, two = A.pca(X), A.pca(X.reshape(-1, 5)), A.pca(X, n_components=2)
    torch.testing.assert_close(full.components, flat.components)
    torch.testing.assert_close(two.components, full.components[:2])
    torch.testing.assert_close(two.explained_variance_ratio, full.explained_variance_ratio[:2])
    assert two.transform(X).shape == (6, 10, 2)  # leading dims kept


def test_transform_with_all_components_reproduces_centred_data():
    X = correlated(M=50, N=4)
    p = A.pca(X)
    Z = p.transform(X)
    np.testing.assert_allclose((Z @ p.components).numpy(), X - X.mean(0), atol=1e-12)
    np.testing.assert_allclose(p.inverse_transform(Z).numpy(), X, atol=1e-12)
    np.testing.assert_allclose(
        Z.var(0, unbiased=True).numpy(), p.explained_variance.numpy(), atol=1e-10
    )


def test_pca_sign_convention_and_dtypes():
    X = correlated(M=30, N=3)
    torch.testing.assert_close(A.pca(-X).components, A.pca(X).components)
    p32 = A.pca(torch.as_tensor(X, dtype=torch.float32))
    assert p32.components.dtype == torch.float32 and p32.transform(X[:2]).dtype == torch.float64
    np.testing.assert_allclose(
        p32.explained_variance.numpy(), A.pca(X).explained_variance.numpy(), rtol=1e-5
    )


def test_pca_with_fewer_samples_than_units_completes_the_basis():
    X = rng(3).normal(size=(4, 7))
    p = A.pca(X, n_components=7)
    np.testing.assert_allclose(p.components.numpy() @ p.components.numpy().T, np.eye(7), atol=1e-12)
    rank = 3  # M - 1 after centring
    np.testing.assert_allclose(p.explained_variance.numpy()[rank:], 0.0, atol=1e-12)


# -------------------------------------------------------------------- participation ratio
def test_participation_ratio_isotropic_gaussian_is_its_dimension():
    d, N, M = 4, 10, 200_000
    X = rng(1).normal(size=(M, d)) @ random_orthonormal(N, d).T  # isotropic in a d-dim subspace
    assert A.participation_ratio(X) == pytest.approx(d, rel=0.01)


def test_participation_ratio_rank_one_and_exact_covariance():
    t = rng(2).normal(size=100)
    assert A.participation_ratio(np.outer(t, [1.0, -2.0, 0.5])) == pytest.approx(1.0, abs=1e-10)
    # 4 points whose unbiased covariance is exactly diag(3, 1): PR = (3 + 1)^2 / (9 + 1) = 1.6
    a, b = math.sqrt(4.5), math.sqrt(1.5)
    X = np.array([[a, 0.0], [-a, 0.0], [0.0, b], [0.0, -b]]) + [5.0, -1.0]
    np.testing.assert_allclose(np.cov(X.T), np.diag([3.0, 1.0]), atol=1e-14)
    np.testing.assert_allclose(A.pca(X).explained_variance.numpy(), [3.0, 1.0], atol=1e-14)
    assert A.participation_ratio(X) == pytest.approx(1.6, abs=1e-12)
    R = np.array([[math.cos(0.7), -math.sin(0.7)], [math.sin(0.7), math.cos(0.7)]])
    assert A.participation_ratio(10 * X @ R.T) == pytest.approx(1.6, abs=1e-12)  # rotation, scale


# ----------------------------------------------------------------------- principal angles
def reference_angles(Ab, Bb):
    """Independent: numpy QR, numpy SVD, arccos."""
    Qa, Qb = np.linalg.qr(Ab)[0], np.linalg.qr(Bb)[0]
    s = np.linalg.svd(Qa.T @ Qb, compute_uv=False)
    return np.sort(np.arccos(np.clip(s, -1, 1)))


def test_two_planes_in_r3_hand_computed():
    xy = np.array([[1.0, 0, 0], [0, 1.0, 0]]).T  # the plane z = 0
    tilted = np.array([[1.0, 0, 0], [0, math.cos(0.3), math.sin(0.3)]]).T
    np.testing.assert_allclose(A.principal_angles(xy, tilted).numpy(), [0.0, 0.3], atol=1e-12)
    # plane x + y + z = 0, non-orthonormal basis: dihedral angle to z = 0 is arccos(1/sqrt(3))
    diag = np.array([[1.0, -1.0, 0.0], [1.0, 0.0, -1.0]]).T
    np.testing.assert_allclose(
        A.principal_angles(xy, diag).numpy(), [0.0, math.acos(1 / math.sqrt(3))], atol=1e-12
    )
    assert A.subspace_overlap(xy, tilted) == pytest.approx((1 + math.cos(0.3) ** 2) / 2, abs=1e-12)


def test_identical_orthogonal_and_basis_invariance():
    Q = random_orthonormal(8, 5, seed=4)
    a, b = Q[:, :2], Q[:, 2:5]
    mix = rng(5).normal(size=(2, 2))  # another (non-orthonormal) basis of the same plane
    np.testing.assert_allclose(A.principal_angles(a, a @ mix).numpy(), 0.0, atol=1e-7)
    np.testing.assert_allclose(A.principal_angles(a, b).numpy(), math.pi / 2, atol=1e-12)
    assert A.subspace_overlap(a, a @ mix) == pytest.approx(1.0, abs=1e-12)
    assert A.subspace_overlap(a, b) == pytest.approx(0.0, abs=1e-12)
    c, d = random_orthonormal(8, 2, seed=6), random_orthonormal(8, 3, seed=7)
    ref = A.principal_angles(c, d)
    assert ref.shape == (2,) and torch.all(ref[1:] >= ref[:-1])
    np.testing.assert_allclose(
        A.principal_angles(c @ random_orthonormal(2, 2, 8), d @ random_orthonormal(3, 3, 9)),
        ref,
        atol=1e-12,
    )
    np.testing.assert_allclose(A.principal_angles(d, c), ref, atol=1e-12)  # symmetric


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000), N=st.integers(3, 12), da=st.integers(1, 3), db=st.integers(1, 3)
)
def test_principal_angles_match_numpy_reference(seed, N, da, db):
    Ab, Bb = rng(seed).normal(size=(N, da)), rng(seed + 1).normal(size=(N, db))
    np.testing.assert_allclose(
        A.principal_angles(Ab, Bb).numpy(), reference_angles(Ab, Bb), atol=1e-6
    )


def test_small_angles_are_accurate():
    eps = 1e-9  # arccos alone would return ~1e-8 noise here
    a = np.array([[1.0, 0, 0]]).T
    b = np.array([[math.cos(eps), math.sin(eps), 0]]).T
    assert A.principal_angles(a, b).item() == pytest.approx(eps, rel=1e-6)


def test_subspace_of_planar_data_and_overlap_matrix():
    plane = random_orthonormal(6, 2, seed=10)
    X = rng(11).normal(size=(500, 2)) * [3.0, 1.0] @ plane.T + 1e-6 * rng(12).normal(size=(500, 6))
    S = A.subspace(X, 2)
    assert S.shape == (6, 2)
    np.testing.assert_allclose(S.T @ S, np.eye(2), atol=1e-12)
    assert A.principal_angles(S, plane).max() < 1e-5
    bases = {"a": plane, "b": random_orthonormal(6, 2, seed=13), "c": plane[:, :1]}
    overlap = A.subspace_overlap_matrix(bases)
    assert overlap.shape == (3, 3) and torch.equal(overlap, overlap.T)
    assert torch.equal(overlap.diagonal(), torch.ones(3, dtype=torch.float64))
    assert overlap[0, 1] == pytest.approx(A.subspace_overlap(plane, bases["b"]))
    assert overlap[0, 2] == pytest.approx(1.0)  # a line inside the plane


# -------------------------------------------------------------------------- task variance
def test_task_variance_hand_computed():
    T, B, N = 3, 5, 2
    r = np.zeros((T, B, N))
    ids = np.array([0, 1, 0, 1, 1])
    r[:, [0, 2], 0] = [1.0, 3.0]  # unit 0, task 0: values 1 and 3 at every step -> variance 1
    r[:, [1, 3, 4], 0] = 2.0  # unit 0, task 1: identical trials -> 0
    r[:, [0, 2], 1] = [[0, 2], [0, 4], [0, 0]]  # unit 1, task 0: variances 1, 4, 0 -> mean 5/3
    r[:, [1, 3, 4], 1] = np.arange(T)[:, None] * 7.0  # varies in time, not across trials -> 0
    tv = A.task_variance(r, ids)
    np.testing.assert_allclose(tv.numpy(), [[1.0, 5 / 3], [0.0, 0.0]], atol=1e-12)
    ntv = A.normalized_task_variance(tv)
    np.testing.assert_allclose(ntv.numpy(), [[1.0, 1.0], [0.0, 0.0]])


def test_task_variance_matches_loop_reference_and_normalization():
    r = rng(14).gamma(2.0, size=(7, 30, 5))
    r[..., 4] = 0.0  # a dead unit
    ids = rng(15).permutation(np.arange(30) % 3)
    tv = A.task_variance(torch.as_tensor(r), torch.as_tensor(ids))
    ref = np.stack([r[:, ids == k, :].var(axis=1).mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(tv.numpy(), ref, atol=1e-12)
    ntv = A.normalized_task_variance(tv).numpy()
    np.testing.assert_allclose(ntv[:, :4].max(axis=0), 1.0)
    np.testing.assert_allclose(ntv[:, 4], 0.0)
    assert ((ntv >= 0) & (ntv <= 1)).all()


# --------------------------------------------------------------------------- fixed points
def linear_map(N=10, a=0.2, gain=0.9, seed=16):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(N, N, generator=g, dtype=torch.float64) * gain / math.sqrt(N)
    b = torch.randn(N, generator=g, dtype=torch.float64)
    return W, b, a, lambda x: (1 - a) * x + a * (x @ W.T + b)


def test_linear_map_fixed_point_and_jacobian_exact():
    N = 10
    W, b, a, step = linear_map(N)
    x_star = torch.linalg.solve(torch.eye(N, dtype=torch.float64) - W, b)
    x0 = 3 * torch.randn(16, N, generator=torch.Generator().manual_seed(17), dtype=torch.float64)
    fps = A.find_fixed_points(step, x0, n_iter=100)
    assert fps.converged.all()
    assert (fps.points - x_star).norm(dim=1).max() < 1e-4
    assert len(fps.unique(1e-6)) == 1
    J_true = (1 - a) * torch.eye(N, dtype=torch.float64) + a * W
    torch.testing.assert_close(A.jacobian(step, x0[0]), J_true, rtol=0, atol=1e-15)
    torch.testing.assert_close(
        A.jacobians(step, x0[:3]), J_true.expand(3, N, N), rtol=0, atol=1e-15
    )
    expected_stable = torch.linalg.eigvals(J_true).abs().max() < 1
    assert A.is_stable(A.jacobian_eigenvalues(step, fps.unique(1e-6))).item() == expected_stable


def test_relu_ctrnn_map_with_known_fixed_point():
    N, a = 8, 0.2
    r = rng(18)
    W = torch.as_tensor(r.normal(size=(N, N)) * 0.6 / math.sqrt(N))
    x_star = torch.as_tensor(r.uniform(0.5, 1.5, size=N) * r.choice([-1.0, 1.0], size=N))
    b = x_star - W @ torch.relu(x_star)  # makes x_star a fixed point

    def step(x):
        return (1 - a) * x + a * (torch.relu(x) @ W.T + b)

    near = x_star + 0.1 * torch.as_tensor(r.normal(size=(6, N)))
    fps = A.find_fixed_points(step, near, n_iter=50)
    assert fps.converged.all() and (fps.points - x_star).abs().max() < 1e-8
    D = torch.diag((x_star > 0).double())
    torch.testing.assert_close(
        A.jacobian(step, x_star), (1 - a) * torch.eye(N, dtype=torch.float64) + a * W @ D
    )
    # from far starts: every converged point solves its own linear region exactly
    found = A.find_fixed_points(step, 3 * torch.as_tensor(r.normal(size=(20, N))), n_iter=200)
    assert found.converged.any()
    for x in found[found.converged].points.numpy():
        Dx = np.diag((x > 0).astype(float))
        np.testing.assert_allclose(
            x, np.linalg.solve(np.eye(N) - W.numpy() @ Dx, b.numpy()), atol=1e-8
        )


def test_stability_from_known_eigenvalues():
    # x' = P L P^-1 x with eigenvalues 0.5, -0.8, 0.6 +- 0.3i (a rotation-scaling block)
    L = torch.zeros(4, 4, dtype=torch.float64)
    L[0, 0], L[1, 1] = 0.5, -0.8
    L[2:, 2:] = torch.tensor([[0.6, -0.3], [0.3, 0.6]])
    P = torch.as_tensor(rng(19).normal(size=(4, 4)))
    for top, stable in [(0.5, True), (1.05, False)]:
        L[0, 0] = top
        Amat = P @ L @ torch.linalg.inv(P)
        ev = A.jacobian_eigenvalues(
            lambda x, Amat=Amat: x @ Amat.T, torch.zeros(1, 4, dtype=torch.float64)
        )
        expected = sorted([top, -0.8, complex(0.6, 0.3), complex(0.6, -0.3)], key=lambda z: -abs(z))
        np.testing.assert_allclose(np.abs(ev[0].numpy()), np.abs(expected), atol=1e-10)
        np.testing.assert_allclose(
            np.sort_complex(ev[0].numpy()), np.sort_complex(np.array(expected)), atol=1e-10
        )
        assert A.is_stable(ev).item() is stable
    eigs = torch.tensor([[0.5, 0.99], [1.0, 0.1], [0.8 + 0.7j, 0.0]])  # |0.8 + 0.7j| = 1.06
    assert A.is_stable(eigs).tolist() == [True, False, False]


def test_tanh_map_two_stable_one_unstable():
    def step(x):
        return torch.tanh(2 * x)

    x_ref = 1.0
    for _ in range(200):  # contraction near the positive fixed point (slope ~0.17)
        x_ref = math.tanh(2 * x_ref)
    fps = A.find_fixed_points(
        step, torch.linspace(-2, 2, 9, dtype=torch.float64)[:, None], n_iter=300
    )
    u = fps[fps.converged].unique(1e-6)
    order = torch.argsort(u.points[:, 0])
    np.testing.assert_allclose(u.points[order, 0].numpy(), [-x_ref, 0.0, x_ref], atol=1e-8)
    stable = A.is_stable(A.jacobian_eigenvalues(step, u.points[order]))
    assert stable.tolist() == [True, False, True]


def test_slow_point_is_found_but_not_converged():
    def step(x):
        return x + x**2 + 0.1  # no fixed point; q = 0.5 (x^2 + 0.1)^2 is slowest at x = 0

    fps = A.find_fixed_points(
        step, torch.tensor([[-1.0], [0.5], [2.0]], dtype=torch.float64), n_iter=500
    )
    assert not fps.converged.any()
    np.testing.assert_allclose(fps.points.numpy(), 0.0, atol=1e-3)
    np.testing.assert_allclose(fps.speed.numpy(), 0.005, rtol=1e-3)


def test_fixed_point_search_leaves_network_parameters_alone():
    torch.manual_seed(0)  # nn.Linear draws its weights from the global generator
    lin = torch.nn.Linear(3, 3)

    def step(x):
        return 0.8 * x + 0.2 * torch.relu(lin(x))

    fps = A.find_fixed_points(step, torch.randn(4, 3, generator=torch.Generator().manual_seed(1)),
                                n_iter=20, newton_steps=2)
    assert all(p.grad is None for p in lin.parameters())
    assert (
        fps.points.dtype == torch.float32
        and fps.speed.shape == (4,)
        and fps.converged.dtype == torch.bool
    )


# ----------------------------------------------------------------------------- bad inputs
def test_bad_inputs_raise_clear_errors():
    X = correlated(M=20, N=3)
    with pytest.raises(ValueError, match=r"X must be \(T, B, N\) or \(M, N\)"):
        A.pca(np.arange(5.0))
    with pytest.raises(ValueError, match="X contains NaN"):
        A.pca(np.where(X > 1, np.nan, X))
    with pytest.raises(ValueError, match=r"n_components must be an integer in \[1, N=3\], got 4"):
        A.pca(X, n_components=4)
    with pytest.raises(ValueError, match="n_components"):
        A.pca(X, n_components=0)
    with pytest.raises(ValueError, match="Y must have last dimension N=3"):
        A.pca(X).transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="zero variance"):
        A.participation_ratio(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"same N \(rows\), got 3 and 4"):
        A.principal_angles(np.eye(3)[:, :2], np.eye(4)[:, :2])
    with pytest.raises(ValueError, match="B must have linearly independent columns"):
        A.principal_angles(np.eye(3)[:, :2], np.ones((3, 2)))
    with pytest.raises(ValueError, match="rates must be 3-D"):
        A.task_variance(np.zeros((4, 3)), [0, 1, 0])
    with pytest.raises(ValueError, match="task_ids must be 1-D of length B=3"):
        A.task_variance(np.zeros((2, 3, 4)), [0, 1])
    with pytest.raises(ValueError, match="task_ids must hold integers"):
        A.task_variance(np.zeros((2, 3, 4)), [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="no trial of task 1"):
        A.task_variance(np.zeros((2, 3, 4)), [0, 2, 0])
    with pytest.raises(ValueError, match=r"task_ids must lie in \[0, K=2\)"):
        A.task_variance(np.zeros((2, 3, 4)), [0, 2, 1], n_tasks=2)
    with pytest.raises(ValueError, match="step must map states"):
        A.find_fixed_points(lambda x: x[:, :1], torch.zeros(2, 3))
    with pytest.raises(ValueError, match="x0 must be 1-D or 2-D"):
        A.find_fixed_points(lambda x: x, torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="x must be 1-D"):
        A.jacobian(lambda x: x, torch.zeros(2, 3))


# --------------------------------------------------------------- dynamics figures (smoke)
def test_dynamics_figures_render_headless():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neuromodlab.plotting import dynamics as D

    r = rng(20)
    traj = np.cumsum(r.normal(size=(20, 6, 3)), axis=0)
    figs = [
        D.plot_pca_trajectories(traj, labels=[0, 0, 1, 1, 2, 2]),
        D.plot_pca_trajectories({"go": traj[:, :3], "anti": torch.as_tensor(traj[:, 3:])}),
        D.plot_principal_angles(np.array([[1.0, 0.3], [0.3, 1.0]]), ["go", "anti"]),
        D.plot_fixed_points(
            r.normal(size=(5, 2)), [True, False, True, True, False], trajectories=traj
        ),
        D.plot_participation({"rule": [3.1, 3.4], "excitability": [2.5, 2.9, 2.7]}),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert all(
            ax.get_xlabel() or ax.get_ylabel() for ax in fig.axes if ax.get_label() != "<colorbar>"
        )
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
