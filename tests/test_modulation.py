"""Modulators against dense references and the identities of DESIGN.md."""

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


def test_rule_input_equals_bias_modulation_at_steady_state():
    """A constant drive d through the leak equals, at the fixed point, a bias shift on x."""
    net = CTRNN(RNNConfig(1, 1, N, init="gaussian", w_rec_gain=0.3, sigma_rec=0.0)).double()
    d = rand(1, N, seed=6)
    u = torch.zeros(1, 1, dtype=torch.float64)
    x = torch.zeros(1, N, dtype=torch.float64)
    for _ in range(2000):
        x = net.step(x, u, ContextEffect(drive=d))
    # the same steady state is reached by an unmodulated net whose bias b is b + d
    with torch.no_grad():
        net.b += d[0]
    x2 = torch.zeros(1, N, dtype=torch.float64)
    for _ in range(2000):
        x2 = net.step(x2, u)
    torch.testing.assert_close(x, x2, rtol=1e-10, atol=1e-10)


def test_relu_positive_gain_equals_scaling_outgoing_weights():
    """For ReLU and g > 0: W relu(g * x) = (W diag(g)) relu(x)."""
    net = CTRNN(RNNConfig(2, 2, N, init="gaussian", w_rec_gain=1.0)).double()
    g = 0.5 + torch.rand(N, dtype=torch.float64)
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
        inputs = torch.randn(5, 2, 3)
        out = model(inputs, torch.zeros(2, K), noise=False)
        bare = model.rnn(inputs, None, noise=False)
        torch.testing.assert_close(out.outputs, bare.outputs)


def test_build_model_every_mechanism_runs_and_has_gradients():
    for mech in MECHANISMS:
        model = build_model(mech, 3, 2, K, n_hidden=N)
        out = model(torch.randn(4, 2, 3), one_hot(1, K, 2))
        assert out.outputs.shape == (4, 2, 2)
        out.outputs.sum().backward()
        for name, p in model.modulator.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, (mech, name)


def test_mix_weak_noisy_context():
    c = mix_context(0, 2, 0.25, 3)
    torch.testing.assert_close(c, torch.tensor([0.75, 0.0, 0.25]))
    assert mix_context(0, 2, 0.25, 3, batch_size=4).shape == (4, 3)
    torch.testing.assert_close(weak_context(c, 0.5), c / 2)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(noisy_context(c, 0.1, g1), noisy_context(c, 0.1, g2))
    assert torch.equal(noisy_context(c, 0.0), c)


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
])
def test_bad_arguments(call, word):
    with pytest.raises(ValueError, match=word):
        call()


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
