"""W1D2 Tutorial 2 (synaptic modulation): the demo's plotting function runs headless for several
slider values and shows what it claims; the figures of neuromodlab.plotting.synaptic; the
self-checks of neuromodlab.checks.synaptic accept the references and reject typical mistakes."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from neuromodlab import modulation, rnn, train
from neuromodlab.checks import CheckFailed
from neuromodlab.checks import synaptic as cs
from neuromodlab.plotting import synaptic as psyn
from neuromodlab.widgets import synaptic as wsyn


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _kappa_final(fig):
    """Final |activity along m| of every trajectory in the right panel."""
    return np.array([abs(line.get_ydata()[-1]) for line in fig.axes[1].get_lines()
                     if line.get_label().startswith("start")])


# --- the demo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("c, bulk_gain, seed", [
    (wsyn.C_RANGE[0], 0.3, wsyn.SEED_RANGE[0]), (0.0, 0.5, 3), (0.5, 0.8, 7), (1.5, 0.5, 0),
    (2.0, 0.3, 5), (wsyn.C_RANGE[1], 0.8, wsyn.SEED_RANGE[1]),
])
def test_show_synaptic_context_slider_values(c, bulk_gain, seed):
    fig = wsyn.show_synaptic_context(c, bulk_gain, seed)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax_eig, ax_traj = fig.axes
    for ax in (ax_eig, ax_traj):
        assert ax.get_xlabel() and ax.get_ylabel()
    assert "(ms)" in ax_traj.get_xlabel()
    points = ax_eig.collections[0].get_offsets()
    assert len(points) == wsyn.N_HIDDEN  # every eigenvalue is drawn
    assert np.isfinite(np.asarray(points)).all()
    assert f"seed {seed}" in fig._suptitle.get_text()
    fig.canvas.draw()


@pytest.mark.parametrize("c", [0.5, 1.5, 2.5])
def test_outlier_sits_at_c(c):
    W_rec, m, n = wsyn.rank_one_network(bulk_gain=0.3, seed=1)
    assert torch.isclose(n @ m, torch.tensor(1.0))
    eig = torch.linalg.eigvals((W_rec + c * torch.outer(m, n)).double())
    assert abs(eig.real.max().item() - c) < 0.15


def test_activity_decays_below_the_edge_and_persists_above():
    below = _kappa_final(wsyn.show_synaptic_context(0.5, 0.5, 0))
    above = _kappa_final(wsyn.show_synaptic_context(2.0, 0.5, 0))
    assert below.max() < 0.05
    assert above.min() > 0.5


def test_simulate_matches_an_explicit_euler_loop():
    W_rec, m, n = wsyn.rank_one_network(n_hidden=12, bulk_gain=0.5, seed=2)
    x0 = torch.randn(3, 12, generator=torch.Generator().manual_seed(0))
    states = wsyn.simulate(W_rec, m, n, 1.3, x0, duration_ms=200.0)
    W_c, x, alpha = W_rec + 1.3 * torch.outer(m, n), x0, 0.2
    for t in range(states.shape[0]):
        x = (1 - alpha) * x + alpha * torch.tanh(x) @ W_c.T
        assert torch.allclose(states[t], x, atol=1e-5)


def test_synaptic_demo_builds_and_updates_headless():
    ipywidgets = pytest.importorskip("ipywidgets")
    demo = wsyn.synaptic_demo(c=0.5)
    assert isinstance(demo, ipywidgets.interactive)
    controls = {w.description: w for w in demo.children if hasattr(w, "description")}
    assert isinstance(controls["context c"], ipywidgets.FloatSlider)
    assert (controls["context c"].min, controls["context c"].max) == wsyn.C_RANGE
    assert isinstance(controls["bulk gain"], ipywidgets.Dropdown)
    assert isinstance(controls["seed"], ipywidgets.IntSlider)
    allowed = (ipywidgets.Dropdown, ipywidgets.IntSlider, ipywidgets.FloatSlider,
               ipywidgets.Output)
    assert all(isinstance(w, allowed) for w in demo.children)
    for c, gain, seed in [(2.0, 0.3, 4), (-0.5, 0.8, 10)]:
        controls["context c"].value, controls["bulk gain"].value = c, gain
        controls["seed"].value = seed
        demo.update()  # what a slider move does; raises if the plotting function fails
    assert plt.get_fignums() == []  # each update closes its figure


# --- the figures --------------------------------------------------------------------------------


def test_plot_timing_and_weight_changes():
    fig = psyn.plot_timing((32, 64), [1.0, 3.0], [0.1, 0.2], batch_size=16)
    assert fig.axes[0].get_xlabel() and "(ms)" in fig.axes[0].get_ylabel()
    W = torch.randn(6, 6) * (torch.rand(6, 6) < 0.5)
    fig = psyn.plot_weight_changes(W, torch.ones(6, 6), W * 0.5)
    assert len([ax for ax in fig.axes if ax.get_xlabel()]) == 3


def test_plot_learning_comparison():
    hist = train.History(["go", "anti"], steps=[1, 2, 3], loss=[1.0, 0.5, 0.2],
                         eval_steps=[2, 3], performance={"go": [0.5, 0.95], "anti": [0.4, 0.9]},
                         steps_to_criterion=3)
    fig = psyn.plot_learning_comparison({"a": hist, "b": hist}, {"a": 64, "b": 64})
    worst = fig.axes[1].get_lines()[0].get_ydata()
    assert np.allclose(worst, [0.4, 0.9])
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


# --- the self-checks ----------------------------------------------------------------------------


def test_references_agree_with_the_library():
    for seed, (B, N, K, R) in enumerate(((3, 7, 2, 1), (4, 9, 3, 2))):
        mod = modulation.Synaptic(K, N, rank=R, seed=seed)
        net = rnn.CTRNN(rnn.RNNConfig(n_in=2, n_out=2, n_hidden=N, init="gaussian", seed=seed))
        c = torch.rand(B, K, generator=torch.Generator().manual_seed(seed))
        r = torch.rand(B, N, generator=torch.Generator().manual_seed(seed + 1))
        with torch.no_grad():
            dense = cs.reference_dense_synapses(net.W_rec, mod.left, mod.right, c, R)
            assert torch.allclose(dense, mod.dense(net.W_rec, c), atol=1e-5)
            rec = cs.reference_synaptic_recurrent(r, net.W_rec, mod.left, mod.right, c, R)
            assert torch.allclose(rec, net.recurrent(r, mod(c)), atol=1e-5)
            assert torch.allclose(rec, torch.einsum("bij,bj->bi", dense, r), atol=1e-5)
    W, u, v, r = torch.randn(5, 5), torch.randn(5), torch.randn(5), torch.rand(2, 5)
    want = r @ (torch.diag(u) @ W @ torch.diag(v)).T
    assert torch.allclose(cs.reference_masked_recurrent(r, W, u, v), want, atol=1e-5)


def test_checks_accept_the_references():
    cs.check_dense_synapses(cs.reference_dense_synapses)
    cs.check_synaptic_recurrent(cs.reference_synaptic_recurrent)
    cs.check_synaptic_modulator(cs.ReferenceSynapticModulator)
    cs.check_masked_recurrent(cs.reference_masked_recurrent)


def _dense_swapped(W, L, R, c, rank):
    K, N = c.shape[1], W.shape[0]
    return W + torch.einsum("bk,kri,krj->bij", c, R.T.reshape(K, rank, N), L.T.reshape(K, rank, N))


def _dense_rank_major(W, L, R, c, rank):
    K, N = c.shape[1], W.shape[0]
    return W + torch.einsum("bk,rki,rkj->bij", c, L.T.reshape(rank, K, N), R.T.reshape(rank, K, N))


class _CopiesParameters(modulation.Synaptic):
    def forward(self, context):
        return rnn.ContextEffect(left=self.left.detach().clone(), right=self.right,
                                 coef=context.repeat_interleave(self.rank, dim=1))


class _TiledContext(modulation.Synaptic):
    def forward(self, context):
        return rnn.ContextEffect(left=self.left, right=self.right,
                                 coef=context.repeat(1, self.rank))


@pytest.mark.parametrize("check, wrong", [
    (cs.check_dense_synapses, _dense_swapped),
    (cs.check_dense_synapses, _dense_rank_major),
    (cs.check_synaptic_recurrent,
     lambda r, W, L, R, c, k: r @ W + ((r @ R) * c.repeat_interleave(k, 1)) @ L.T),
    (cs.check_synaptic_recurrent,
     lambda r, W, L, R, c, k: r @ W.T + ((r @ R) * c.repeat(1, k)) @ L.T),
    (cs.check_synaptic_recurrent, lambda r, W, L, R, c, k: r @ W.T),
    (cs.check_synaptic_modulator, _CopiesParameters),
    (cs.check_synaptic_modulator, _TiledContext),
    (cs.check_masked_recurrent, lambda r, W, u, v: v * ((u * r) @ W.T)),
    (cs.check_masked_recurrent, lambda r, W, u, v: u * ((v * r) @ W)),
])
def test_checks_reject_typical_mistakes(check, wrong):
    with pytest.raises(CheckFailed):
        check(wrong)


def test_not_implemented_passes_through_and_falls_back():
    class Unfinished(modulation.Synaptic):
        def forward(self, context):
            raise NotImplementedError

    def unfinished(*args):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        cs.check_synaptic_modulator(Unfinished)
    with pytest.raises(NotImplementedError):
        cs.check_synaptic_recurrent(unfinished)
    assert cs.modulator_or_reference(Unfinished) is cs.ReferenceSynapticModulator
    assert cs.modulator_or_reference(_TiledContext) is _TiledContext  # runs: it is used
