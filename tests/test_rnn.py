"""The CTRNN against an independent numpy implementation of the same equation."""

import math

import numpy as np
import pytest
import torch

from neuromodlab.rnn import CTRNN, ContextEffect, RNNConfig, euler_step

NP_ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "tanh": np.tanh,
}


def numpy_step(x, u, W_rec, W_in, b, alpha, act, gain=None, bias=None, drive=None,
               dense_delta=None):
    """x' = (1-a) x + a (W r + W_in u + b + d) with r = act(g x + b_c); per trial, explicit."""
    B, N = x.shape
    out = np.empty_like(x)
    for i in range(B):
        z = x[i].copy()
        if gain is not None:
            z = z * gain[i]
        if bias is not None:
            z = z + bias[i]
        r = act(z)
        W = W_rec if dense_delta is None else W_rec + dense_delta[i]
        total = np.zeros(N)
        for n in range(N):
            total[n] = sum(W[n, m] * r[m] for m in range(N)) + sum(
                W_in[n, k] * u[i, k] for k in range(u.shape[1])) + b[n]
            if drive is not None:
                total[n] += drive[i, n]
        out[i] = (1 - alpha) * x[i] + alpha * total
    return out


def make_net(activation="relu", init="gaussian", n_in=3, n_out=2, n=5, seed=1):
    cfg = RNNConfig(n_in=n_in, n_out=n_out, n_hidden=n, activation=activation, init=init,
                    w_rec_gain=1.0, seed=seed)
    net = CTRNN(cfg).double()
    with torch.no_grad():
        net.b.copy_(torch.linspace(-0.3, 0.4, n, dtype=torch.float64))
    return net


@pytest.mark.parametrize("activation", ["relu", "softplus", "tanh"])
def test_step_matches_numpy(activation):
    net = make_net(activation)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 5, generator=g, dtype=torch.float64)
    u = torch.randn(4, 3, generator=g, dtype=torch.float64)
    got = net.step(x, u).detach().numpy()
    want = numpy_step(x.numpy(), u.numpy(), net.W_rec.detach().numpy(),
                      net.W_in.detach().numpy(), net.b.detach().numpy(), net.alpha,
                      NP_ACT[activation])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_euler_step_function_matches_module():
    net = make_net("relu")
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 5, generator=g, dtype=torch.float64)
    u = torch.randn(2, 3, generator=g, dtype=torch.float64)
    got = euler_step(x, u, net.W_rec, net.W_in, net.b, net.alpha)
    torch.testing.assert_close(got, net.step(x, u), rtol=0, atol=1e-14)


def test_step_with_gain_bias_drive_matches_numpy():
    net = make_net("relu")
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 5, generator=g, dtype=torch.float64)
    u = torch.randn(3, 3, generator=g, dtype=torch.float64)
    eff = ContextEffect(gain=1 + 0.5 * torch.randn(3, 5, generator=g, dtype=torch.float64),
                        bias=0.3 * torch.randn(3, 5, generator=g, dtype=torch.float64),
                        drive=torch.randn(3, 5, generator=g, dtype=torch.float64))
    got = net.step(x, u, eff).detach().numpy()
    want = numpy_step(x.numpy(), u.numpy(), net.W_rec.detach().numpy(),
                      net.W_in.detach().numpy(), net.b.detach().numpy(), net.alpha,
                      NP_ACT["relu"], eff.gain.numpy(), eff.bias.numpy(), eff.drive.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_lowrank_effect_matches_dense_matrix():
    net = make_net("relu", n=6)
    g = torch.Generator().manual_seed(7)
    B, P = 3, 4
    left = torch.randn(6, P, generator=g, dtype=torch.float64)
    right = torch.randn(6, P, generator=g, dtype=torch.float64)
    coef = torch.randn(B, P, generator=g, dtype=torch.float64)
    # dense reference: delta_b = sum_p coef[b,p] left[:,p] right[:,p]^T, built by loops
    dense = np.zeros((B, 6, 6))
    for b in range(B):
        for p in range(P):
            dense[b] += coef[b, p].item() * np.outer(left[:, p].numpy(), right[:, p].numpy())
    x = torch.randn(B, 6, generator=g, dtype=torch.float64)
    u = torch.randn(B, 3, generator=g, dtype=torch.float64)
    got = net.step(x, u, ContextEffect(left=left, right=right, coef=coef)).detach().numpy()
    want = numpy_step(x.numpy(), u.numpy(), net.W_rec.detach().numpy(),
                      net.W_in.detach().numpy(), net.b.detach().numpy(), net.alpha,
                      NP_ACT["relu"], dense_delta=dense)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_rollout_equals_repeated_steps_with_same_noise(activation):
    net = make_net(activation, n=7)
    net.config.sigma_rec = 0.1
    T, B = 9, 4
    g = torch.Generator().manual_seed(11)
    inputs = torch.randn(T, B, 3, generator=g, dtype=torch.float64)
    eff = ContextEffect(gain=1 + 0.2 * torch.randn(B, 7, generator=g, dtype=torch.float64))
    out = net(inputs, eff, generator=torch.Generator().manual_seed(2))
    # the rollout draws all noise up front as one (T, B, N) standard normal tensor
    xi = torch.randn(T, B, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x = torch.zeros(B, 7, dtype=torch.float64)
    for t in range(T):
        x = net.step(x, inputs[t], eff, noise=net.noise_std * xi[t])
        torch.testing.assert_close(out.states[t], x, rtol=1e-10, atol=1e-10)
        r = torch.tanh(x * eff.gain) if activation == "tanh" else torch.relu(x * eff.gain)
        torch.testing.assert_close(out.rates[t], r, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(out.outputs[t], r @ net.W_out.T + net.b_out)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("activation", ["relu", "softplus", "tanh"])
def test_rollout_with_every_context_term_equals_repeated_steps(activation, fused):
    """Gain, bias, drive and a low-rank term at once, x0 != 0, noise on; both time loops
    (the default fused one and the eager reference) against the public one-step map."""
    net = make_net(activation, n=6)
    net.config.sigma_rec = 0.2
    T, B, P = 8, 3, 2
    g = torch.Generator().manual_seed(12)

    def rnd(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=g, dtype=torch.float64)

    eff = ContextEffect(gain=1 + rnd(B, 6, scale=0.3), bias=rnd(B, 6, scale=0.3),
                        drive=rnd(B, 6, scale=0.5), left=rnd(6, P, scale=0.5),
                        right=rnd(6, P, scale=0.5), coef=rnd(B, P))
    inputs, x0 = rnd(T, B, 3), rnd(B, 6)
    out = net(inputs, eff, x0=x0, generator=torch.Generator().manual_seed(2), fused=fused)
    xi = torch.randn(T, B, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x = x0
    for t in range(T):
        x = net.step(x, inputs[t], eff, noise=net.noise_std * xi[t])
        torch.testing.assert_close(out.states[t], x, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(out.rates[t], net.rate(x, eff), rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(out.outputs[t], net.readout(net.rate(x, eff)), rtol=1e-10,
                                   atol=1e-10)


def test_the_public_rollout_uses_the_fused_loop_by_default():
    assert CTRNN(RNNConfig(2, 2, 4)).fused is True


@pytest.mark.parametrize("fused", [True, False])
def test_noise_scale_is_sqrt_2_alpha_sigma(fused):
    """alpha = 0.1, sigma = 0.3: std sqrt(0.2) * 0.3 = 0.134. The alternatives a slip would give
    (no sqrt(2): 0.095; alpha instead of sqrt(alpha): 0.042; sqrt(2 alpha) / alpha: 1.34) are
    > 25% away; 10^5 samples estimate the std to ~0.3%, so a 2% tolerance separates them."""
    cfg = RNNConfig(n_in=1, n_out=1, n_hidden=200, sigma_rec=0.3, dt=10, tau=100)
    net = CTRNN(cfg)
    assert net.noise_std == pytest.approx(math.sqrt(2 * 0.1) * 0.3, rel=1e-12)
    with torch.no_grad():
        net.W_rec.zero_()
        net.W_in.zero_()
    out = net(torch.zeros(2, 500, 1), generator=torch.Generator().manual_seed(0), fused=fused)
    # one step from x = 0 with no drive leaves only the noise
    std = out.states[0].std().item()
    assert std == pytest.approx(math.sqrt(2 * 0.1) * 0.3, rel=0.02)
    # the second step: the first step's noise decays by (1 - alpha) and fresh noise adds up
    assert out.states[1].std().item() == pytest.approx(std * math.sqrt(1 + 0.9**2), rel=0.02)


def test_noise_off_is_deterministic_and_generator_reproducible():
    net = make_net()
    inputs = torch.randn(5, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a = net(inputs, noise=False).outputs
    b = net(inputs, noise=False).outputs
    assert torch.equal(a, b)
    c = net(inputs, generator=torch.Generator().manual_seed(4)).outputs
    d = net(inputs, generator=torch.Generator().manual_seed(4)).outputs
    e = net(inputs, generator=torch.Generator().manual_seed(5)).outputs
    assert torch.equal(c, d) and not torch.equal(c, e)


def test_gradients_match_finite_differences():
    net = make_net("tanh", n=4)
    inputs = torch.randn(6, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def f(W_rec):
        with torch.no_grad():
            net.W_rec.copy_(W_rec)
        return net(inputs, noise=False).outputs.pow(2).sum()

    W0 = net.W_rec.detach().clone()
    net.zero_grad()
    net(inputs, noise=False).outputs.pow(2).sum().backward()
    grad = net.W_rec.grad.clone()
    eps = 1e-6
    for (i, j) in [(0, 0), (1, 3), (3, 2)]:
        Wp, Wm = W0.clone(), W0.clone()
        Wp[i, j] += eps
        Wm[i, j] -= eps
        fd = (f(Wp) - f(Wm)) / (2 * eps)
        assert abs(fd.item() - grad[i, j].item()) < 1e-6


def test_inits():
    n = 16
    d = CTRNN(RNNConfig(2, 2, n, init="diagonal", w_rec_gain=0.7)).W_rec.detach()
    assert torch.equal(d, 0.7 * torch.eye(n))
    o = CTRNN(RNNConfig(2, 2, n, init="orthogonal", w_rec_gain=1.0)).W_rec.detach()
    torch.testing.assert_close(o @ o.T, torch.eye(n), atol=1e-5, rtol=0)
    a = CTRNN(RNNConfig(2, 2, n, init="gaussian", seed=1)).W_rec
    b = CTRNN(RNNConfig(2, 2, n, init="gaussian", seed=1)).W_rec
    c = CTRNN(RNNConfig(2, 2, n, init="gaussian", seed=2)).W_rec
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_in=0, n_out=2), ValueError, "RNNConfig.n_in must be an int >= 1, got 0"),
    (dict(n_in=2, n_out=-1), ValueError, "RNNConfig.n_out must be an int >= 1, got -1"),
    (dict(n_in=2, n_out=2, n_hidden=2.5), TypeError, "n_hidden must be an int >= 1, got 2.5"),
    (dict(n_in=2, n_out=2, activation="sigmoid"), ValueError, "activation must be one of"),
    (dict(n_in=2, n_out=2, init="xavier"), ValueError, "init must be one of"),
    (dict(n_in=2, n_out=2, dt=200, tau=100), ValueError, r"dt \(200 ms\) must not exceed tau"),
    (dict(n_in=2, n_out=2, dt="20"), TypeError, "dt must be a finite number > 0, got '20'"),
    (dict(n_in=2, n_out=2, tau=0), ValueError, "tau must be a finite number > 0, got 0"),
    (dict(n_in=2, n_out=2, sigma_rec=-1), ValueError, "sigma_rec must be a finite number >= 0"),
    (dict(n_in=2, n_out=2, sigma_rec=float("nan")), ValueError, "sigma_rec .* got nan"),
    (dict(n_in=2, n_out=2, w_rec_gain=float("inf")), ValueError, "w_rec_gain .* got inf"),
    (dict(n_in=2, n_out=2, seed=1.5), TypeError, "seed must be an int, got 1.5"),
])
def test_bad_config_names_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        RNNConfig(**kwargs)


def test_config_accepts_numpy_scalars_and_stores_python_types():
    cfg = RNNConfig(np.int64(3), np.int32(2), n_hidden=np.int64(8), dt=np.float32(10), tau=100)
    assert (cfg.n_in, cfg.n_out, cfg.n_hidden, cfg.dt) == (3, 2, 8, 10.0)
    assert type(cfg.n_hidden) is int and type(cfg.dt) is float and cfg.alpha == 0.1


def test_bad_inputs_raise_clear_errors():
    net = CTRNN(RNNConfig(3, 2, 5))
    with pytest.raises(ValueError, match="inputs must have 3 dimensions"):
        net(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="last dimension 3"):
        net(torch.zeros(4, 2, 5))
    with pytest.raises(TypeError, match="floating-point"):
        net(torch.zeros(4, 2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN"):
        net(torch.full((4, 2, 3), float("nan")))
    with pytest.raises(TypeError, match="torch.Tensor"):
        net(np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match="x0 must have shape"):
        net(torch.zeros(4, 2, 3), x0=torch.zeros(3, 5))
    with pytest.raises(TypeError, match=r"inputs has dtype torch.float64 .* weights are "
                                        r"torch.float32: convert"):
        net(torch.zeros(4, 2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"u must be a tensor with last dimension 3 "
                                         r"\(shape \(B, 3\)\), got \(2, 4\)"):
        net.step(torch.zeros(2, 5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="x must be a tensor with last dimension 5"):
        net.step(torch.zeros(2, 4), torch.zeros(2, 3))
