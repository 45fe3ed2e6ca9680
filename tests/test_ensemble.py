"""Ensembles: every member is the single network with its seed (values and gradients), the
fused batched backward matches autograd, training matches ``fit``, stopped members freeze."""

import dataclasses
from dataclasses import replace

import numpy as np
import pytest
import torch

from neuromodlab import ensemble as ens_mod
from neuromodlab.ensemble import (
    Ensemble,
    _clip_per_member,
    _member_losses,
    _MemberAdam,
    _pooled_batch,
    fit_ensemble,
)
from neuromodlab.ensemble_rollout import _EnsembleRollout, readout
from neuromodlab.modulation import MECHANISMS, ModelConfig, ModulatedRNN
from neuromodlab.tasks import TaskSet
from neuromodlab.train import TrainConfig, fit

D = torch.float64
SEEDS = (3, 7, 11)


def config(mechanism, **kw):
    return ModelConfig(mechanism, n_in=5, n_out=3, n_contexts=3, n_hidden=6, rank=2, **kw)


def data(E=3, T=7, B=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(E, T, B, 5, generator=g, dtype=D), torch.randn(E, B, 3, generator=g,
                                                                      dtype=D)


def gens(offset=10, n=3):
    return [torch.Generator().manual_seed(offset + e) for e in range(n)]


def short(name):
    return name.rsplit(".", 1)[-1]


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
def test_members_equal_single_networks_values_and_gradients(mechanism, activation):
    cfg = config(mechanism, activation=activation)
    ens = Ensemble(cfg, SEEDS).to(D)
    inputs, context = data()
    for noise in (False, True):
        ens.zero_grad()
        out = ens(inputs, context, generator=gens(), noise=noise)
        (out.outputs ** 2).sum().backward()  # the summed loss: member e's gradient is its own
        for e, seed in enumerate(SEEDS):
            single = ModulatedRNN(replace(cfg, seed=seed)).to(D)
            o = single(inputs[e], context[e], generator=gens()[e], noise=noise)
            for a, b in zip(o, (out.outputs[e], out.rates[e], out.states[e]), strict=True):
                torch.testing.assert_close(b, a, rtol=0, atol=1e-12)
            (o.outputs ** 2).sum().backward()
            for name, p in single.named_parameters():
                torch.testing.assert_close(getattr(ens, short(name)).grad[e], p.grad, rtol=0,
                                           atol=1e-10)


@pytest.mark.parametrize("mechanism", ["none", "rule", "combined"])
def test_fused_backward_equals_the_autograd_loop(mechanism):
    ens = Ensemble(config(mechanism), SEEDS).to(D)
    inputs, context = data(seed=1)
    x0 = 0.3 * torch.randn(3, 4, 6, dtype=D)
    grads = []
    for fused in (True, False):
        ens.zero_grad()
        x = x0.clone().requires_grad_()
        out = ens(inputs, context, x0=x, generator=gens(), fused=fused)
        ((out.outputs ** 2).sum() + (out.states ** 3).sum()).backward()
        grads.append([x.grad] + [p.grad for p in ens.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_fused_rollout_gradcheck():
    g = torch.Generator().manual_seed(2)
    E, T, B, N, P = 2, 4, 3, 4, 2

    def r(*shape, scale=0.5):
        return (scale * torch.randn(*shape, generator=g, dtype=D)).requires_grad_()

    args = (r(E, B, N), r(E, T, B, N), r(E, N, N), (1 + r(E, B, N, scale=0.2)).detach()
            .requires_grad_(), r(E, B, N), r(E, N, P), r(E, N, P), r(E, B, P))

    def f(*a):
        states, rates = _EnsembleRollout.apply(*a, 0.3, "tanh")
        return states, rates

    assert torch.autograd.gradcheck(f, args, eps=1e-6, atol=1e-7)


def test_readout_equals_the_per_member_linear_map_and_passes_gradcheck():
    g = torch.Generator().manual_seed(4)
    E, T, B, N, n_out = 3, 4, 2, 5, 3
    rates = torch.randn(E, T, B, N, generator=g, dtype=D).requires_grad_()
    W = torch.randn(E, n_out, N, generator=g, dtype=D).requires_grad_()
    b = torch.randn(E, n_out, generator=g, dtype=D).requires_grad_()
    out = readout(rates, W, b)
    for e in range(E):  # oracle: each member's own nn.functional.linear
        torch.testing.assert_close(out[e], torch.nn.functional.linear(rates[e], W[e], b[e]),
                                   rtol=1e-13, atol=1e-13)
    assert torch.autograd.gradcheck(readout, (rates, W, b), eps=1e-6, atol=1e-7)


def test_member_losses_are_each_members_masked_loss():
    from neuromodlab.train import masked_loss

    g = torch.Generator().manual_seed(5)
    out, target = (torch.randn(3, 4, 2, 5, generator=g, dtype=D) for _ in range(2))
    mask = (torch.rand(3, 4, 2, 5, generator=g) > 0.4).to(D) * 2.0
    losses = _member_losses(out, target, mask)
    assert losses.shape == (3,)
    for e in range(3):
        torch.testing.assert_close(losses[e], masked_loss(out[e], target[e], mask[e]))


def test_shared_inputs_and_context_broadcast():
    ens = Ensemble(config("combined"), SEEDS).to(D)
    inputs, context = data()
    shared = ens(inputs[0], context[0], noise=False)
    explicit = ens(inputs[0].expand(3, *inputs[0].shape), context[0].expand(3, 4, 3),
                   noise=False)
    torch.testing.assert_close(shared.outputs, explicit.outputs, rtol=0, atol=1e-12)


def test_member_and_from_models_round_trip():
    cfg = config("synaptic")
    ens = Ensemble(cfg, SEEDS)
    with torch.no_grad():
        ens.W_rec.add_(0.1)  # a "trained" ensemble
    again = Ensemble.from_models(ens.members())
    assert again.seeds == SEEDS
    for p, q in zip(ens.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)
    assert torch.equal(ens.member(1).rnn.W_rec, ens.W_rec[1])
    assert ens.params_per_task() == ModulatedRNN(cfg).params_per_task()


def test_bad_inputs_raise_clear_errors():
    cfg = config("excitability")
    with pytest.raises(ValueError, match="seeds is empty"):
        Ensemble(cfg, [])
    with pytest.raises(TypeError, match="ints"):
        Ensemble(cfg, [1.5])
    with pytest.raises(ValueError, match="models is empty"):
        Ensemble.from_models([])
    with pytest.raises(ValueError, match="n_hidden"):
        Ensemble.from_models([ModulatedRNN(cfg), ModulatedRNN(replace(cfg, n_hidden=7))])
    ens = Ensemble(cfg, SEEDS)
    inputs, context = (t.float() for t in data())
    with pytest.raises(ValueError, match="inputs must have shape"):
        ens(inputs[:2], context)
    with pytest.raises(ValueError, match="inputs must have shape"):
        ens(inputs[..., :4], context)
    with pytest.raises(ValueError, match="context must have shape"):
        ens(inputs, context[..., :2])
    with pytest.raises(ValueError, match="trials"):
        ens(inputs, context[:, :2])
    with pytest.raises(ValueError, match="generators"):
        ens(inputs, context, generator=gens(n=2))
    with pytest.raises(IndexError):
        ens.member(3)
    ts = TaskSet(["go", "anti"])
    with pytest.raises(ValueError, match="K = 2"):
        fit_ensemble(ens, ts, TrainConfig(max_steps=1), quiet=True)
    good = Ensemble(ModelConfig("rule", ts.n_in, ts.n_out, ts.K, n_hidden=4), [0, 1])
    with pytest.raises(ValueError, match="data must be"):
        fit_ensemble(good, ts, TrainConfig(max_steps=1), quiet=True, data="shared")
    with pytest.raises(ValueError, match="train_seeds"):
        fit_ensemble(good, ts, TrainConfig(max_steps=1), quiet=True, train_seeds=[1])


# ---------------------------------------------------------------- training
class TaskSet64(TaskSet):
    """A TaskSet whose batches are float64, so ``fit`` runs in double precision too."""

    @staticmethod
    def _cast(b):
        return dataclasses.replace(b, inputs=b.inputs.double(), targets=b.targets.double(),
                                   mask=b.mask.double(), context=b.context.double())

    def sample(self, *a, **k):
        return self._cast(super().sample(*a, **k))

    def sample_task(self, *a, **k):
        return self._cast(super().sample_task(*a, **k))


@pytest.mark.parametrize("mechanism", ["combined", "rule"])
def test_fit_ensemble_reproduces_fit(mechanism):
    """In float64 each member follows its own ``fit`` run: same losses, weights, evaluations.
    (In float32 rounding differs at 1e-7 and Adam amplifies it where a gradient is ~0.)"""
    ts = TaskSet64(["go", "anti"])
    cfg = ModelConfig(mechanism, ts.n_in, ts.n_out, ts.K, n_hidden=12)
    tc = TrainConfig(max_steps=8, eval_every=4, eval_trials=8, batch_size=16, criterion=1.0)
    ens = Ensemble(cfg, [1, 2]).to(D)
    hists = fit_ensemble(ens, ts, tc, quiet=True)
    for e, seed in enumerate([1, 2]):
        single = ModulatedRNN(replace(cfg, seed=seed)).to(D)
        h = fit(single, ts, replace(tc, seed=seed), quiet=True)
        np.testing.assert_allclose(hists[e].loss, h.loss, rtol=1e-9)
        assert hists[e].performance == h.performance
        assert hists[e].eval_steps == h.eval_steps == [4, 8]
        for name, p in single.named_parameters():
            torch.testing.assert_close(getattr(ens, short(name))[e], p, rtol=0, atol=1e-9)


def test_per_member_clipping_equals_clipping_each_network():
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(3, 4, 5, generator=g, dtype=D), torch.randn(3, 6, generator=g, dtype=D)]
    grads[0][1] *= 0.01  # member 1 is below the threshold: left alone
    expected = []
    for e in range(3):
        ps = [torch.zeros_like(gr[e], requires_grad=True) for gr in grads]
        for p, gr in zip(ps, grads, strict=True):
            p.grad = gr[e].clone()
        torch.nn.utils.clip_grad_norm_(ps, 1.0)
        expected.append([p.grad for p in ps])
    _clip_per_member(grads, 1.0)
    for e in range(3):
        for gr, ex in zip(grads, expected[e], strict=True):
            torch.testing.assert_close(gr[e], ex, rtol=1e-12, atol=0)


def test_member_adam_equals_torch_adam_and_freezes_inactive_members():
    g = torch.Generator().manual_seed(0)
    p0 = torch.randn(3, 4, generator=g, dtype=D)
    stacked = p0.clone()
    ref = [p0[e].clone().requires_grad_() for e in range(3)]
    opts = [torch.optim.Adam([r], lr=0.01, weight_decay=0.1) for r in ref]
    adam = _MemberAdam([stacked], lr=0.01, weight_decay=0.1)
    for _ in range(3):
        grad = torch.randn(3, 4, generator=g, dtype=D)
        adam.step([grad])
        for e in range(3):
            ref[e].grad = grad[e].clone()
            opts[e].step()
    for e in range(3):
        torch.testing.assert_close(stacked[e], ref[e].detach(), rtol=0, atol=1e-15)
    frozen = (stacked[1].clone(), adam.m[0][1].clone(), adam.v[0][1].clone())
    idx = torch.tensor([0, 2])
    adam.step([torch.randn(2, 4, generator=g, dtype=D)], idx)
    assert torch.equal(stacked[1], frozen[0]) and torch.equal(adam.m[0][1], frozen[1])
    assert torch.equal(adam.v[0][1], frozen[2])
    assert not torch.equal(stacked[0], ref[0].detach())


def test_stopped_members_do_not_change(monkeypatch):
    """Member 0 'reaches the criterion' at the first evaluation (step 2); members 1-2 do not.
    Member 0 must then equal a run that ended at step 2, and the others keep training."""
    ts = TaskSet(["go", "anti"])
    cfg = ModelConfig("excitability", ts.n_in, ts.n_out, ts.K, n_hidden=8)
    tc = TrainConfig(max_steps=6, eval_every=2, eval_trials=4, batch_size=8, criterion=0.9)
    real = ens_mod._evaluate

    def fake(ens, p, idx, eval_sets, eval_seeds):
        perfs = real(ens, p, idx, eval_sets, eval_seeds)
        return [{k: (1.0 if e == 0 else 0.0) for k in q} for e, q in zip(idx, perfs, strict=True)]

    short_run = Ensemble(cfg, SEEDS)
    fit_ensemble(short_run, ts, replace(tc, max_steps=2), quiet=True)
    monkeypatch.setattr(ens_mod, "_evaluate", fake)
    ens = Ensemble(cfg, SEEDS)
    hists = fit_ensemble(ens, ts, tc, quiet=True)
    assert hists[0].steps_to_criterion == 2 and len(hists[0].loss) == 2
    assert hists[1].steps_to_criterion is None and len(hists[1].loss) == 6
    assert hists[1].eval_steps == [2, 4, 6]
    for p, q in zip(ens.parameters(), short_run.parameters(), strict=True):
        assert torch.equal(p[0], q[0])  # frozen since step 2
        assert not torch.equal(p[1], q[1])  # kept training


def test_pooled_batches_are_balanced_and_independent():
    ts = TaskSet(["go", "anti", "dm1"])
    batch, context = _pooled_batch(ts, 4, 10, np.random.default_rng(0))
    assert batch["inputs"].shape == (4, ts.T, 10, ts.n_in)
    assert batch["mask"].shape == batch["targets"].shape == (4, ts.T, 10, ts.n_out)
    counts = context.sum(1)  # (members, K): 10 trials = 4 + 3 + 3, as TaskSet.sample
    assert torch.equal(counts, torch.tensor([[4.0, 3.0, 3.0]] * 4))
    # every trial of the stream is dealt to one member only: no two trials are the same
    trials = batch["inputs"].transpose(1, 2).reshape(4 * 10, -1)
    assert len(torch.unique(trials, dim=0)) == 4 * 10
    # each dealt trial is one trial of the stream, intact (inputs, targets and mask together)
    # and of the task its context names: replay the stream's draws (task by task, 4 x counts)
    rng = np.random.default_rng(0)
    stream = [ts.sample_task(k, 4 * int(counts[0, k]), rng) for k in range(ts.K)]
    ids = context.argmax(-1)
    for a in range(4):
        for b in range(10):
            part = stream[int(ids[a, b])]
            hit = [n for n in range(part.inputs.shape[1])
                   if torch.equal(part.inputs[:, n], batch["inputs"][a, :, b])]
            assert len(hit) == 1
            assert torch.equal(part.targets[:, hit[0]], batch["targets"][a, :, b])
            assert torch.equal(part.mask[:, hit[0]], batch["mask"][a, :, b])


def test_fit_ensemble_pooled_runs_and_records():
    ts = TaskSet(["go", "anti"])
    cfg = ModelConfig("synaptic", ts.n_in, ts.n_out, ts.K, n_hidden=8)
    tc = TrainConfig(max_steps=4, eval_every=2, eval_trials=4, batch_size=8)
    hists = fit_ensemble(Ensemble(cfg, [0, 1]), ts, tc, quiet=True, data="pooled")
    again = fit_ensemble(Ensemble(cfg, [0, 1]), ts, tc, quiet=True, data="pooled")
    assert [h.loss for h in hists] == [h.loss for h in again]  # reproducible
    assert all(len(h.loss) == 4 and h.eval_steps == [2, 4] for h in hists)
    assert all(0 <= v <= 1 for h in hists for vs in h.performance.values() for v in vs)


def test_member_task_subsets():
    ts = TaskSet(["go", "anti", "dm1"])
    subsets = [[0], [0, 2], [0, 1, 2]]
    batch, context = _pooled_batch(ts, 3, 7, np.random.default_rng(1), subsets)
    counts = context.sum(1)
    assert torch.equal(counts, torch.tensor([[7.0, 0, 0], [4, 0, 3], [3, 2, 2]]))
    cfg = ModelConfig("gain", ts.n_in, ts.n_out, ts.K, n_hidden=8)
    tc = TrainConfig(max_steps=2, eval_every=2, eval_trials=4, batch_size=8)
    hists = fit_ensemble(Ensemble(cfg, [0, 1]), ts, tc, quiet=True, data="pooled",
                         member_tasks=[["go"], ["anti", "dm1"]])
    assert hists[0].task_names == ["go"] and list(hists[0].performance) == ["go"]
    assert list(hists[1].performance) == ["anti", "dm1"]
    with pytest.raises(ValueError, match="pooled"):
        fit_ensemble(Ensemble(cfg, [0, 1]), ts, tc, quiet=True, member_tasks=[["go"], ["go"]])
    with pytest.raises(ValueError, match="distinct"):
        fit_ensemble(Ensemble(cfg, [0, 1]), ts, tc, quiet=True, data="pooled",
                     member_tasks=[["go"], ["dm2"]])
