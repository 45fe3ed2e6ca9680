"""Modulators against dense references and the identities of DESIGN.md."""

from dataclasses import asdict, fields

import numpy as np
import pytest
import torch

from neuromodlab.modulation import (
    MECHANISMS,
    Combined,
    Excitability,
    ModelConfig,
    ModulatedRNN,
    RuleInput,
    Synaptic,
    build_model,
    make_modulator,
    mix_context,
    noisy_context,
    one_hot,
    weak_context,
)
from neuromodlab.rnn import CTRNN, ContextEffect, RNNConfig

N, K = 6, 3


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_synaptic_lowrank_equals_dense_wc():
    for rank in (1, 2):
        syn = Synaptic(K, N, rank=rank, seed=1).double()
        net = CTRNN(RNNConfig(2, 2, N, init="gaussian", w_rec_gain=1.0)).double()
        c = torch.tensor([[1.0, 0, 0], [0, 0, 1.0], [0.3, 0.7, 0.0]], dtype=torch.float64)
        x, u = rand(3, N, seed=2), rand(3, 2, seed=3)
        W_c = syn.dense(net.W_rec, c)  # (B, N, N)
        # dense reference written out: W_c = W_rec + sum_k c_k sum_r m_kr n_kr^T
        m = syn.left.detach().T.reshape(K, rank, N)
        n = syn.right.detach().T.reshape(K, rank, N)
        for b in range(3):
            ref = net.W_rec.detach().clone()
            for k in range(K):
                for r in range(rank):
                    ref += c[b, k] * torch.outer(m[k, r], n[k, r])
            torch.testing.assert_close(W_c[b].detach(), ref)
        r = torch.relu(x)
        want = (1 - net.alpha) * x + net.alpha * (
            torch.einsum("bmn,bn->bm", W_c, r) + u @ net.W_in.T + net.b)
        torch.testing.assert_close(net.step(x, u, syn(c)), want)


def test_excitability_gain_and_bias_formula():
    ex = Excitability(K, N, seed=4).double()
    c = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]], dtype=torch.float64)
    eff = ex(c)
    torch.testing.assert_close(eff.gain[0], 1 + ex.G[:, 1])
    torch.testing.assert_close(eff.bias[1], 0.5 * ex.B[:, 0] + 0.5 * ex.B[:, 2])
    assert Excitability(K, N, bias=False)(c.float()).bias is None
    assert Excitability(K, N, gain=False)(c.float()).gain is None


def test_rule_input_drive_equals_w_rule_column():
    rule = RuleInput(K, N, seed=5)
    eff = rule(one_hot(2, K, 4))
    torch.testing.assert_close(eff.drive, rule.W_rule[:, 2].expand(4, N))


def test_rule_drive_equals_excitability_bias_at_steady_state():
    """A constant drive d (rule input) and an excitability bias b_c = d give the same steady-state
    rates: if x* solves x = W phi(x) + b + d, then x* - d solves x = W phi(x + d) + b. Before
    that they differ: the drive is low-pass filtered by the leak, the bias acts at once."""
    net = CTRNN(RNNConfig(1, 1, N, init="gaussian", w_rec_gain=0.3, sigma_rec=0.0)).double()
    d = rand(1, N, seed=6)
    u = torch.zeros(1, 1, dtype=torch.float64)
    drive, bias = ContextEffect(drive=d), ContextEffect(bias=d)
    x_drive = x_bias = torch.zeros(1, N, dtype=torch.float64)
    first = (net.rate(x_drive, drive), net.rate(x_bias, bias))
    assert not torch.allclose(*first)  # at the start: relu(0) against relu(d)
    with torch.no_grad():
        for _ in range(2000):
            x_drive, x_bias = net.step(x_drive, u, drive), net.step(x_bias, u, bias)
    assert (net.step(x_drive, u, drive) - x_drive).abs().max() < 1e-12  # a fixed point
    torch.testing.assert_close(net.rate(x_drive, drive), net.rate(x_bias, bias), rtol=1e-10,
                               atol=1e-10)
    torch.testing.assert_close(x_drive - d, x_bias, rtol=1e-10, atol=1e-10)


def test_relu_positive_gain_equals_scaling_outgoing_weights():
    """For ReLU and g > 0: W relu(g * x) = (W diag(g)) relu(x)."""
    net = CTRNN(RNNConfig(2, 2, N, init="gaussian", w_rec_gain=1.0)).double()
    g = 0.5 + torch.rand(N, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    x = rand(1, N, seed=8)
    rec_gain = net.recurrent(net.rate(x, ContextEffect(gain=g.unsqueeze(0))))
    rec_scaled = torch.relu(x) @ (net.W_rec * g).T
    torch.testing.assert_close(rec_gain, rec_scaled)


def test_rank1_mask_equals_post_times_pre_gain():
    """(u v^T ⊙ W) r = u ⊙ (W (v ⊙ r))."""
    W, u, v, r = rand(N, N, seed=1), rand(N, seed=2), rand(N, seed=3), rand(N, seed=4)
    torch.testing.assert_close((torch.outer(u, v) * W) @ r, u * (W @ (v * r)))


def test_params_per_task():
    assert RuleInput(K, N).params_per_task() == N
    assert Excitability(K, N).params_per_task() == 2 * N
    assert Excitability(K, N, gain=False).params_per_task() == N
    assert Synaptic(K, N, rank=1).params_per_task() == 2 * N
    assert Synaptic(K, N, rank=3).params_per_task() == 6 * N
    assert Combined(K, N, rank=2).params_per_task() == 2 * N + 4 * N
    assert make_modulator("none", K, N).params_per_task() == 0


def test_synaptic_init_std_sets_effective_scale():
    """E|m (n . r)|^2 / |r|^2 = (s^2 sqrt(N))^2 = init_std^2 for entries of std s."""
    n, K = 400, 60
    syn = Synaptic(K, n, init_std=0.33, seed=0)
    r = torch.rand(500, n, generator=torch.Generator().manual_seed(1))
    ratios = []
    for k in range(K):  # one rank-1 term per context: average over the K independent draws
        eff = syn(one_hot(k, K, 500))
        delta = ((r @ eff.right) * eff.coef) @ eff.left.T
        ratios.append(delta.pow(2).mean() / r.pow(2).mean())
    assert abs(torch.stack(ratios).mean().sqrt().item() - 0.33) < 0.05


def test_zero_context_is_the_unmodulated_network():
    for mech in ("rule", "bias", "synaptic", "combined"):
        model = build_model(mech, 3, 2, K, n_hidden=N, sigma_rec=0.0)
        inputs = torch.randn(5, 2, 3, generator=torch.Generator().manual_seed(1))
        out = model(inputs, torch.zeros(2, K), noise=False)
        bare = model.rnn(inputs, None, noise=False)
        torch.testing.assert_close(out.outputs, bare.outputs)


@pytest.mark.parametrize("mech", MECHANISMS)
def test_build_model_every_mechanism_runs_and_has_gradients(mech):
    """Every mechanism builds, its context changes the output (except 'none'), its parameter
    count per task is as documented, and every parameter receives a nonzero gradient."""
    model = build_model(mech, 3, 2, K, n_hidden=N)
    inputs = torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(0))
    outs = [model(inputs, one_hot(k, K, 2), noise=False).outputs for k in (0, 1)]
    assert outs[0].shape == (4, 2, 2)
    assert torch.equal(outs[0], outs[1]) == (mech == "none")
    per_task = {"none": 0, "rule": N, "excitability": 2 * N, "gain": N, "bias": N,
                "synaptic": 2 * N, "combined": 4 * N}[mech]
    assert model.params_per_task() == per_task
    assert sum(p.numel() for p in model.modulator.parameters()) == per_task * K
    outs[1].pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, (mech, name)
        if name.startswith("modulator"):  # (N, K) columns per task (rank 1): context e_1
            assert p.grad[:, [0, 2]].eq(0).all(), (mech, name)  # trains task 1's only


def test_mix_weak_noisy_context():
    c = mix_context(0, 2, 0.25, 3)
    torch.testing.assert_close(c, torch.tensor([0.75, 0.0, 0.25]))
    assert mix_context(0, 2, 0.25, 3, batch_size=4).shape == (4, 3)
    torch.testing.assert_close(weak_context(c, 0.5), c / 2)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(noisy_context(c, 0.1, g1), noisy_context(c, 0.1, g2))
    assert torch.equal(noisy_context(c, 0.0), c)
    many = torch.zeros(20000, 3)
    noise = noisy_context(many, 0.3, torch.Generator().manual_seed(1))
    assert noise.mean().abs() < 0.01 and noise.std().item() == pytest.approx(0.3, rel=0.02)


@pytest.mark.parametrize("call, word", [
    (lambda: mix_context(0, 1, 1.5, 3), "blend l"),
    (lambda: mix_context(0, 5, 0.5, 3), "task index"),
    (lambda: weak_context(torch.ones(3), -0.1), "strength"),
    (lambda: noisy_context(torch.ones(3), -1.0), "std"),
    (lambda: make_modulator("dopamine", 3, 4), "mechanism"),
    (lambda: Synaptic(3, 4, rank=0), "rank"),
    (lambda: Excitability(3, 4, gain=False, bias=False), "gain=True"),
    (lambda: RuleInput(0, 4), "n_contexts"),
    (lambda: RuleInput(3, -4), "n_hidden"),
    (lambda: ModelConfig("gain", 3, 2, 3, init_std=-1), "init_std"),
    (lambda: ModelConfig("rule", 3, 2, 0), "ModelConfig.n_contexts must be an int >= 1, got 0"),
    (lambda: ModelConfig("synaptic", 3, 2, 2, rank=0), "ModelConfig.rank must be an int >= 1"),
    (lambda: ModelConfig("rule", 3, 2, 2, n_hidden=0), "ModelConfig.n_hidden must be an int"),
    (lambda: ModelConfig("rule", 3, 2, 2, dt=300.0), r"ModelConfig.dt \(300 ms\) must not"),
    (lambda: ModelConfig("Rule", 3, 2, 2), "ModelConfig.mechanism must be one of"),
    (lambda: noisy_context(torch.ones(3), float("nan")), "std must be a finite number >= 0"),
    (lambda: mix_context(0, 1, float("nan"), 3), r"blend l must be a finite number in \[0, 1\]"),
])
def test_bad_arguments(call, word):
    with pytest.raises(ValueError, match=word):
        call()


@pytest.mark.parametrize("call, word", [
    (lambda: one_hot(1.0, 3), "task index must be an int"),
    (lambda: noisy_context([1.0, 0.0], 0.1), "context must be a torch.Tensor, got list"),
    (lambda: ModelConfig("rule", 3, 2, 2.0), "ModelConfig.n_contexts must be an int"),
    (lambda: Synaptic(3, 4, rank=1.5), "rank must be an int >= 1, got 1.5"),
])
def test_wrong_types_raise_type_errors(call, word):
    with pytest.raises(TypeError, match=word):
        call()


def test_model_config_shares_the_rnn_fields_and_round_trips():
    """ModelConfig holds every RNNConfig field with the same default; rnn_config() and the
    checkpoint form (asdict) rebuild it exactly."""
    rnn_fields = {f.name: f.default for f in fields(RNNConfig)}
    model_fields = {f.name: f.default for f in fields(ModelConfig)}
    assert all(model_fields[k] == v for k, v in rnn_fields.items() if k not in ("n_in", "n_out"))
    cfg = ModelConfig("combined", 5, 3, 4, n_hidden=12, rank=2, dt=10.0, tau=50.0,
                      activation="tanh", sigma_rec=0.0, init="gaussian", w_rec_gain=0.9, seed=3)
    assert asdict(cfg.rnn_config()) == {k: v for k, v in asdict(cfg).items() if k in rnn_fields}
    assert ModelConfig(**asdict(cfg)) == cfg
    assert ModelConfig(**asdict(ModelConfig("rule", np.int64(5), 3, np.int64(2)))) == \
        ModelConfig("rule", 5, 3, 2)


def test_context_of_wrong_length_or_batch_is_rejected():
    model = build_model("synaptic", 3, 2, K, n_hidden=N)
    with pytest.raises(ValueError, match="context must have last dimension 3"):
        model(torch.zeros(4, 2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="context has 5 rows"):
        model(torch.zeros(4, 2, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="NaN"):
        model(torch.zeros(4, 2, 3), torch.full((2, 3), float("nan")))


def test_modulated_rnn_rejects_mismatched_modulator():
    with pytest.raises(ValueError, match="n_hidden"):
        ModulatedRNN(ModelConfig("gain", 3, 2, K, n_hidden=8), Excitability(K, 4))
