"""Training: loss by hand, checkpoints, early stopping, and real learning (slow)."""

import json

import pytest
import torch

from neuromodlab.modulation import build_model
from neuromodlab.tasks import TaskConfig, TaskSet
from neuromodlab.train import (
    History,
    TrainConfig,
    evaluate,
    fit,
    load_checkpoint,
    masked_loss,
    save_checkpoint,
)


def test_masked_loss_by_hand():
    y = torch.tensor([[[1.0, 2.0]], [[0.0, 0.5]]])  # (T=2, B=1, 2)
    t = torch.tensor([[[0.0, 2.0]], [[1.0, 0.0]]])
    m = torch.tensor([[[2.0, 1.0]], [[0.0, 5.0]]])
    # (2*1 + 1*0 + 0*1 + 5*0.25) / (2+1+0+5)
    assert masked_loss(y, t, m).item() == pytest.approx(3.25 / 8)


def test_masked_loss_errors():
    with pytest.raises(ValueError, match="same shape"):
        masked_loss(torch.zeros(2, 1, 2), torch.zeros(2, 1, 3), torch.ones(2, 1, 2))
    with pytest.raises(ValueError, match="mask is zero"):
        masked_loss(torch.zeros(2, 1, 2), torch.zeros(2, 1, 2), torch.zeros(2, 1, 2))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(lr=0), ValueError, "TrainConfig.lr must be a finite number > 0, got 0"),
    (dict(lr=float("nan")), ValueError, "TrainConfig.lr .* got nan"),
    (dict(batch_size=0), ValueError, "TrainConfig.batch_size must be an int >= 1, got 0"),
    (dict(max_steps=10.0), TypeError, "TrainConfig.max_steps must be an int >= 1, got 10.0"),
    (dict(criterion=1.5), ValueError, r"TrainConfig.criterion must be a finite number in \[0, 1\]"),
    (dict(clip=-1.0), ValueError, r"TrainConfig.clip \(or None\) must be a finite number > 0"),
    (dict(weight_decay=-0.1), ValueError, "TrainConfig.weight_decay must be a finite number >= 0"),
    (dict(num_threads=0), ValueError, r"TrainConfig.num_threads \(or None\) must be an int >= 1"),
    (dict(seed=-1), ValueError, "TrainConfig.seed must be an int >= 0, got -1"),
])
def test_train_config_validation(kwargs, error, message):
    with pytest.raises(error, match=message):
        TrainConfig(**kwargs)


def test_wrong_argument_types_to_fit_evaluate_and_loss():
    ts = TaskSet(["go", "anti"])
    model = build_model("rule", ts.n_in, ts.n_out, ts.K, n_hidden=8)
    with pytest.raises(TypeError, match="fit: taskset must be a TaskSet, got list"):
        fit(model, ["go", "anti"], quiet=True)
    with pytest.raises(TypeError, match="fit: config must be a TrainConfig, got dict"):
        fit(model, ts, {"lr": 1e-3}, quiet=True)
    with pytest.raises(ValueError, match="n_trials must be an int >= 1, got 0"):
        evaluate(model, ts, n_trials=0)
    with pytest.raises(TypeError, match="outputs must be a torch.Tensor, got ndarray"):
        masked_loss(torch.zeros(2, 1, 2).numpy(), torch.zeros(2, 1, 2), torch.ones(2, 1, 2))


def test_fit_rejects_mismatched_model():
    ts = TaskSet(["go", "anti"])
    model = build_model("rule", ts.n_in, ts.n_out, 3, n_hidden=8)
    with pytest.raises(ValueError, match="K = 2"):
        fit(model, ts, TrainConfig(max_steps=1), quiet=True)


def test_fit_is_reproducible_and_records_history(tmp_path):
    ts = TaskSet(["go", "anti"])
    cfg = TrainConfig(max_steps=6, eval_every=3, eval_trials=8, batch_size=16, seed=3)
    runs = []
    for _ in range(2):
        model = build_model("synaptic", ts.n_in, ts.n_out, ts.K, n_hidden=12, seed=1)
        runs.append((model, fit(model, ts, cfg, quiet=True)))
    (m1, h1), (m2, h2) = runs
    assert h1.loss == h2.loss and len(h1.loss) == 6
    assert h1.eval_steps == [3, 6] and set(h1.performance) == {"go", "anti"}
    for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p1, p2)
    # history survives JSON
    h3 = History.from_dict(json.loads(json.dumps(h1.to_dict())))
    assert h3 == h1
    # checkpoint round trip gives the same network
    path = save_checkpoint(tmp_path / "net.pt", m1, h1, {"note": "x"})
    m3, h4, meta = load_checkpoint(path)
    assert meta == {"note": "x"} and h4 == h1
    batch = ts.sample(8, 0)
    a = m1(batch.inputs, batch.context, noise=False).outputs
    b = m3(batch.inputs, batch.context, noise=False).outputs
    assert torch.equal(a, b)


def test_fit_trains_only_the_given_parameters():
    ts = TaskSet(["go", "anti"])
    model = build_model("excitability", ts.n_in, ts.n_out, ts.K, n_hidden=8)
    before = [p.detach().clone() for p in model.rnn.parameters()]
    mod_before = [p.detach().clone() for p in model.modulator.parameters()]
    fit(model, ts, TrainConfig(max_steps=3, eval_every=3, eval_trials=4, batch_size=8),
        parameters=model.modulator.parameters(), quiet=True)
    assert all(torch.equal(a, b) for a, b in zip(before, model.rnn.parameters(), strict=True))
    after = model.modulator.parameters()
    assert not all(torch.equal(a, b) for a, b in zip(mod_before, after, strict=True))


def test_fit_stops_at_the_first_evaluation_that_meets_the_criterion():
    """criterion 0: met at the first evaluation (step eval_every), so training stops there;
    criterion 1 for an untrained network: never met, so it runs all max_steps."""
    ts = TaskSet(["go", "anti"])
    cfg = TrainConfig(max_steps=9, eval_every=4, eval_trials=4, batch_size=8, criterion=0.0)
    model = build_model("rule", ts.n_in, ts.n_out, ts.K, n_hidden=8)
    hist = fit(model, ts, cfg, quiet=True)
    assert hist.reached and hist.steps_to_criterion == 4
    assert hist.steps == [1, 2, 3, 4] and hist.eval_steps == [4]
    hist = fit(model, ts, TrainConfig(max_steps=9, eval_every=4, eval_trials=4, batch_size=8,
                                      criterion=1.0), quiet=True)
    assert not hist.reached and hist.eval_steps == [4, 8, 9] and len(hist.loss) == 9


def test_load_checkpoint_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", ["rule", "excitability", "synaptic", "combined"])
def test_small_network_learns_go_and_anti(mechanism):
    """Budget: N = 32, <= 1500 Adam steps (lr 1e-3, batch 64), seed 0; criterion 90%."""
    ts = TaskSet(["go", "anti"], TaskConfig())
    model = build_model(mechanism, ts.n_in, ts.n_out, ts.K, n_hidden=32, seed=0)
    hist = fit(model, ts, TrainConfig(max_steps=1500, eval_every=50, seed=0), quiet=True)
    assert hist.reached, f"{mechanism}: {hist.final_performance}"
    # an independent evaluation on fresh trials agrees
    perf = evaluate(model, ts, n_trials=256, seed=999)
    assert min(perf.values()) >= 0.85, perf
