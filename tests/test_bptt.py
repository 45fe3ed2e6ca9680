"""The fused rollout (hand-written backprop through time) against autograd.

Two oracles: ``torch.autograd.gradcheck`` (finite differences) on the Function itself, and the
eager autograd loop of ``CTRNN.forward(..., fused=False)`` for whole models of every mechanism.
"""

import itertools

import pytest
import torch

from neuromodlab.bptt import FUSED_ACTIVATIONS, fused_rollout
from neuromodlab.modulation import MECHANISMS, build_model
from neuromodlab.rnn import CTRNN, ContextEffect, RNNConfig

D = torch.float64
T, B, N, P = 5, 3, 4, 2


def rand(*shape, gen, scale=1.0):
    return (scale * torch.randn(*shape, generator=gen, dtype=D)).requires_grad_()


def rollout_args(seed, gain, bias, lowrank):
    g = torch.Generator().manual_seed(seed)
    args = dict(x0=rand(B, N, gen=g), drives=rand(T, B, N, gen=g),
                W=rand(N, N, gen=g, scale=0.7))
    if gain:
        args["gain"] = (1 + 0.3 * torch.randn(B, N, generator=g, dtype=D)).requires_grad_()
    if bias:
        args["bias"] = rand(B, N, gen=g, scale=0.5)
    if lowrank:
        args.update(left=rand(N, P, gen=g, scale=0.5), right=rand(N, P, gen=g, scale=0.5),
                    coef=rand(B, P, gen=g))
    return args


@pytest.mark.parametrize("activation", FUSED_ACTIVATIONS)
@pytest.mark.parametrize("gain, bias, lowrank", list(itertools.product([False, True], repeat=3)))
def test_gradcheck(activation, gain, bias, lowrank):
    args = rollout_args(1, gain, bias, lowrank)
    names = list(args)

    def f(*tensors):
        kwargs = dict(zip(names, tensors, strict=True))
        return fused_rollout(alpha=0.3, activation=activation, **kwargs)

    assert torch.autograd.gradcheck(f, tuple(args.values()), eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("activation", FUSED_ACTIVATIONS)
def test_gradcheck_broadcast_gain_bias_and_alpha_one(activation):
    """Gain and bias of shape (N,) (broadcast over trials); alpha = 1 (no leak)."""
    g = torch.Generator().manual_seed(2)
    x0, drives, W = rand(B, N, gen=g), rand(T, B, N, gen=g), rand(N, N, gen=g, scale=0.5)
    gain = (1 + 0.3 * torch.randn(N, generator=g, dtype=D)).requires_grad_()
    bias = rand(N, gen=g, scale=0.5)

    def f(x0, drives, W, gain, bias):
        return fused_rollout(x0, drives, W, 1.0, activation, gain, bias)

    assert torch.autograd.gradcheck(f, (x0, drives, W, gain, bias), eps=1e-6, atol=1e-7)


def test_forward_matches_the_equation_step_by_step():
    args = rollout_args(3, True, True, True)
    states, rates = fused_rollout(alpha=0.2, activation="tanh", **args)
    x = args["x0"]
    for t in range(T):
        r = torch.tanh(args["gain"] * x + args["bias"])
        low = args["left"] @ (args["coef"] * (r @ args["right"])).T
        x = 0.8 * x + 0.2 * (r @ args["W"].T + low.T + args["drives"][t])
        torch.testing.assert_close(states[t], x, rtol=1e-13, atol=1e-13)
        torch.testing.assert_close(rates[t], torch.tanh(args["gain"] * x + args["bias"]),
                                   rtol=1e-13, atol=1e-13)


def test_softplus_above_threshold_matches_torch():
    """torch's softplus is the identity above 20 (derivative exactly 1); so is ours."""
    g = torch.Generator().manual_seed(4)
    x0, drives = rand(B, N, gen=g, scale=30), rand(T, B, N, gen=g, scale=30)
    W = rand(N, N, gen=g, scale=0.3)
    bias = rand(B, N, gen=g, scale=20)
    eff = ContextEffect(bias=bias)
    net = CTRNN(RNNConfig(1, 1, N, activation="softplus", sigma_rec=0.0)).double()
    with torch.no_grad():
        net.W_rec.copy_(W)
    out = {}
    for fused in (True, False):
        states, rates = fused_rollout(x0, drives, net.W_rec, net.alpha, "softplus", bias=bias)
        if not fused:  # the eager loop, written out
            x, states = x0, []
            for t in range(T):
                x = torch.lerp(x, net.recurrent(net.rate(x, eff)) + drives[t], net.alpha)
                states.append(x)
            states = torch.stack(states)
            rates = net.rate(states, eff)
        loss = states.pow(2).sum() + rates.sin().sum()
        grads = torch.autograd.grad(loss, (x0, drives, net.W_rec, bias))
        out[fused] = (states, rates, *grads)
    z = torch.cat([(bias + x0)[None], states + bias])
    assert (z > 20).any() and (z < 20).any()
    for a, b in zip(out[True], out[False], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def model_outputs_and_grads(model, inputs, context, fused, x0):
    model.zero_grad()
    x0 = x0.clone().requires_grad_()
    out = model(inputs, context, x0=x0, generator=torch.Generator().manual_seed(9))
    g = torch.Generator().manual_seed(10)
    weights = [torch.randn(t.shape, generator=g, dtype=D) for t in out]
    loss = sum((w * t).sum() for w, t in zip(weights, out, strict=True))
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    grads["x0"] = x0.grad
    return out, grads


@pytest.mark.parametrize("activation", FUSED_ACTIVATIONS)
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_fused_equals_eager_for_every_mechanism(mechanism, activation):
    """Same states, rates, outputs and gradients (every parameter and x0), noise on."""
    K, n_in, n_out, n, steps, batch = 3, 5, 4, 8, 12, 6
    model = build_model(mechanism, n_in, n_out, K, n_hidden=n, rank=2, activation=activation,
                        init="gaussian", w_rec_gain=0.9, sigma_rec=0.1, seed=5).double()
    g = torch.Generator().manual_seed(6)
    with torch.no_grad():
        for p in model.parameters():  # nonzero everything, so every gradient path is used
            p.add_(0.2 * torch.randn(p.shape, generator=g, dtype=D))
    inputs = torch.randn(steps, batch, n_in, generator=g, dtype=D)
    context = torch.softmax(torch.randn(batch, K, generator=g, dtype=D), dim=1)
    x0 = 0.5 * torch.randn(batch, n, generator=g, dtype=D)
    results = {}
    for fused in (True, False):
        model.rnn.fused = fused
        results[fused] = model_outputs_and_grads(model, inputs, context, fused, x0)
    (out_f, grad_f), (out_e, grad_e) = results[True], results[False]
    for name in ("outputs", "rates", "states"):
        torch.testing.assert_close(getattr(out_f, name), getattr(out_e, name), rtol=1e-10,
                                   atol=1e-10)
    assert grad_f.keys() == grad_e.keys()
    for name in grad_e:
        assert grad_e[name].abs().sum() > 0, name
        torch.testing.assert_close(grad_f[name], grad_e[name], rtol=1e-10, atol=1e-10,
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("used", ["states", "rates", "outputs"])
def test_loss_on_one_output_only(used):
    """An output the loss ignores reaches the backward as None (not zeros); still exact."""
    model = build_model("combined", 3, 2, 2, n_hidden=6, sigma_rec=0.1, seed=2).double()
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(7, 4, 3, generator=g, dtype=D)
    context = torch.eye(2, dtype=D)[torch.tensor([0, 1, 1, 0])]
    grads = {}
    for fused in (True, False):
        model.zero_grad()
        out = model.rnn(inputs, model.effect(context), generator=torch.Generator().manual_seed(3),
                        fused=fused)
        getattr(out, used).sin().sum().backward()
        grads[fused] = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert grads[True].keys() == grads[False].keys() and len(grads[True]) >= 6
    for k in grads[False]:
        torch.testing.assert_close(grads[True][k], grads[False][k], rtol=1e-10, atol=1e-10)


def test_single_time_step():
    args = rollout_args(5, True, True, True)
    args["drives"] = args["drives"][:1].detach().requires_grad_()
    names = list(args)

    def f(*tensors):
        return fused_rollout(alpha=0.4, activation="relu", **dict(zip(names, tensors,
                                                                      strict=True)))

    assert torch.autograd.gradcheck(f, tuple(args.values()), eps=1e-6, atol=1e-7)


def test_forward_flag_and_attribute_select_the_path(monkeypatch):
    import neuromodlab.rnn as rnn_module

    calls = []
    real = rnn_module.fused_rollout

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(rnn_module, "fused_rollout", counting)
    net = CTRNN(RNNConfig(2, 2, 6))
    inputs = torch.randn(4, 3, 2, generator=torch.Generator().manual_seed(0))
    net(inputs)
    assert len(calls) == 1
    net(inputs, fused=False)
    assert len(calls) == 1
    net.fused = False
    net(inputs)
    assert len(calls) == 1
    net(inputs, fused=True)
    assert len(calls) == 2


def test_no_grad_and_float32_agree_with_eager():
    model = build_model("combined", 5, 3, 4, n_hidden=16)
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(20, 8, 5, generator=g)
    context = torch.eye(4)[torch.arange(8) % 4]
    with torch.no_grad():
        a = model(inputs, context, generator=torch.Generator().manual_seed(1))
        model.rnn.fused = False
        b = model(inputs, context, generator=torch.Generator().manual_seed(1))
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-5)


def test_bad_arguments_raise_clear_errors():
    x0, drives, W = torch.zeros(2, 3), torch.zeros(4, 2, 3), torch.zeros(3, 3)
    with pytest.raises(ValueError, match="activation"):
        fused_rollout(x0, drives, W, 0.2, "sigmoid")
    with pytest.raises(ValueError, match="left, right and coef"):
        fused_rollout(x0, drives, W, 0.2, left=torch.zeros(3, 1))
    with pytest.raises(ValueError, match="x0"):
        fused_rollout(torch.zeros(3, 3), drives, W, 0.2)
    with pytest.raises(ValueError, match="time step"):
        fused_rollout(x0, drives[:0], W, 0.2)
