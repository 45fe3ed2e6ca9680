"""Oracles for neuromodlab.tasks: every task against a slow, independent reference written with
explicit loops over trials, steps and units (only the random draws are taken from the batch:
epoch boundaries and the trial parameters in batch.latent)."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neuromodlab.plotting.trials import plot_trial
from neuromodlab.tasks import (
    TASK_NAMES,
    Batch,
    TaskConfig,
    TaskSet,
    generate,
    performance,
    performance_by_task,
    ring_bump,
    task_info,
)

torch.set_num_threads(1)
PI = math.pi
GO_FAMILY = ("go", "rtgo", "dlygo", "anti", "rtanti", "dlyanti")
DM_FAMILY = ("dm1", "dm2", "ctxdm1", "ctxdm2", "multidm")
MATCH_FAMILY = ("dms", "dnms", "dmc", "dnmc")
RT = ("rtgo", "rtanti")
GRID = [(task, dt, n) for task in TASK_NAMES for dt in (10.0, 20.0) for n in (8, 16)]
FAST = settings(max_examples=50, deadline=None)  # each example takes about a millisecond


# -- slow reference ---------------------------------------------------------------------------


def ref_bump(angle: float, n: int) -> list:
    """0.8 exp(-d^2 / 2), d = circular distance to unit k's direction 2 pi k / n, in pi/8 units."""
    out = []
    for k in range(n):
        d = abs(angle - 2 * PI * k / n) % (2 * PI)
        d = min(d, 2 * PI - d)
        out.append(0.8 * math.exp(-0.5 * (d / (PI / 8)) ** 2))
    return out


def ref_trial(task: str, batch: Batch, b: int):
    """Stimuli [(ring, angle, strength, on, off)] and target angle (None = fixate) of trial b,
    from the task's rule and the trial's drawn parameters."""
    T = batch.T
    ep = {k: (int(v[b, 0]), int(v[b, 1])) for k, v in batch.epochs.items()}
    lat = {k: float(v[b]) for k, v in batch.latent.items()}
    if task in GO_FAMILY:
        off = ep["stimulus"][1] if task.startswith("dly") else T
        stimuli = [(int(lat["stim_mod"]), lat["stim_angle"], 1.0, ep["stimulus"][0], off)]
        target = (lat["stim_angle"] + (PI if "anti" in task else 0.0)) % (2 * PI)
        return stimuli, target
    if task in DM_FAMILY:
        mods = {"dm1": (1,), "dm2": (2,)}.get(task, (1, 2))
        strength = {}  # (ring, which stimulus) -> strength
        stimuli = []
        for m in mods:
            strength[m, 1] = lat[f"mean_mod{m}"] + lat[f"coh_mod{m}"]
            strength[m, 2] = lat[f"mean_mod{m}"] - lat[f"coh_mod{m}"]
            for i in (1, 2):
                stimuli.append((m, lat[f"stim{i}_angle"], strength[m, i], *ep["stimulus"]))
        deciding = {"dm1": (1,), "dm2": (2,), "ctxdm1": (1,), "ctxdm2": (2,)}.get(task, (1, 2))
        s1 = sum(strength[m, 1] for m in deciding)
        s2 = sum(strength[m, 2] for m in deciding)
        assert s1 != s2
        return stimuli, lat["stim1_angle"] if s1 > s2 else lat["stim2_angle"]
    a1, a2 = lat["stim1_angle"], lat["stim2_angle"]
    stimuli = [(int(lat["stim1_mod"]), a1, 1.0, *ep["stim1"]),
               (int(lat["stim2_mod"]), a2, 1.0, ep["stim2"][0], T)]
    if task in ("dms", "dnms"):
        d = abs(a1 - a2) % (2 * PI)
        match = min(d, 2 * PI - d) < 1e-9
    else:
        match = (a1 < PI) == (a2 < PI)
    respond = match if task in ("dms", "dmc") else not match
    return stimuli, a2 if respond else None


def reference(task: str, batch: Batch, n: int):
    """Noise-free inputs, targets and mask (numpy float64) built step by step."""
    T, B, dt = batch.T, batch.batch_size, batch.dt
    x = np.zeros((T, B, 1 + 2 * n))
    y = np.zeros((T, B, 1 + n))
    m = np.zeros((T, B, 1 + n))
    targets = []
    for b in range(B):
        go = int(batch.epochs["decision"][b, 0])
        stimuli, target = ref_trial(task, batch, b)
        targets.append(target)
        for ring, angle, strength, on, off in stimuli:
            bump = ref_bump(angle, n)
            for t in range(on, off):
                for k in range(n):
                    x[t, b, 1 + (ring - 1) * n + k] += strength * bump[k]
        response = ref_bump(target, n) if target is not None else [0.0] * n
        for t in range(T):
            x[t, b, 0] = 1.0 if (task in RT or t < go) else 0.0
            responding = t >= go and target is not None
            y[t, b, 0] = 0.05 if responding else 0.85
            for k in range(n):
                y[t, b, 1 + k] = 0.05 + (response[k] if responding else 0.0)
            if t * dt < 100:
                w = 0.0
            elif t < go:
                w = 1.0
            elif (t - go) * dt < 100:
                w = 0.0
            else:
                w = 5.0
            m[t, b, 0] = 2 * w
            m[t, b, 1:] = w
    return x, y, m, targets


def batch_of(task, dt=20.0, n=8, B=5, seed=0, noise=0.0, **kw):
    return generate(task, B, TaskConfig(n_ring=n, dt=dt, stim_noise=noise), seed=seed, **kw)


# -- the grammar, every task, several dt and ring sizes ----------------------------------------


def test_bump_by_hand():
    e = math.exp
    expected = 0.8 * np.array([1, e(-2), e(-8), e(-18), e(-32), e(-18), e(-8), e(-2)])
    np.testing.assert_allclose(ring_bump(0.0, 8), expected, rtol=1e-12)
    # pi/16 lies between units 0 and 1 of a 16-ring: d = 0.5 to both, 1.5 to units 15 and 2
    b16 = ring_bump(PI / 16, 16)
    np.testing.assert_allclose(b16[[0, 1, 2, 15]], 0.8 * np.exp([-0.125, -0.125, -1.125, -1.125]))
    np.testing.assert_allclose(ring_bump(2 * PI + 0.3, 8), ring_bump(0.3, 8))
    np.testing.assert_allclose(ring_bump(np.array([0.0, PI / 16]), 16)[1], b16)


@pytest.mark.parametrize("task,dt,n", GRID)
def test_matches_slow_reference(task, dt, n):
    batch = batch_of(task, dt, n, B=4, seed=11)
    x, y, m, targets = reference(task, batch, n)
    np.testing.assert_allclose(batch.inputs.numpy(), x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(batch.targets.numpy(), y, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(batch.mask.numpy(), m)
    assert batch.fixate.tolist() == [t is None for t in targets]
    for b, target in enumerate(targets):
        got = float(batch.target_angle[b])
        assert math.isnan(got) if target is None else got == pytest.approx(target, abs=1e-12)


@pytest.mark.parametrize("task,dt,n", GRID)
def test_fixation_input_exact_and_epochs(task, dt, n):
    batch = batch_of(task, dt, n, B=16, seed=3)
    cfg, info, T = TaskConfig(n_ring=n, dt=dt), task_info(task), batch.T
    assert T == info.n_steps(cfg) and batch.inputs.shape == (T, 16, 1 + 2 * n)
    assert batch.targets.shape == batch.mask.shape == (T, 16, 1 + n)
    assert set(batch.epochs) == set(info.epochs)
    fix = batch.inputs[:, :, 0]
    for b in range(16):
        go = int(batch.epochs["decision"][b, 0])
        assert 0 < go < T and int(batch.epochs["decision"][b, 1]) == T  # decides up to T - 1
        if task in RT:
            assert torch.equal(fix[:, b], torch.ones(T))
            assert batch.epochs["stimulus"][b].tolist() == batch.epochs["decision"][b].tolist()
        else:
            assert torch.equal(fix[:go, b], torch.ones(go))
            assert torch.equal(fix[go:, b], torch.zeros(T - go))
        # consecutive epochs tile [0, T), durations within the timing table
        names = [e for e in info.epochs if not (task in RT and e == "stimulus")]
        assert int(batch.epochs["fixation"][b, 0]) == 0
        for prev, nxt in zip(names, names[1:], strict=False):
            assert int(batch.epochs[prev][b, 1]) == int(batch.epochs[nxt][b, 0])
        fix_len = int(batch.epochs["fixation"][b, 1])
        assert fix_len >= cfg.steps(info.fixation_min)
        for name, lo, hi in info.timing:
            length = int(batch.epochs[name][b, 1] - batch.epochs[name][b, 0])
            assert round(lo / dt) <= length <= round(hi / dt)


@pytest.mark.parametrize("task,dt,n", GRID)
def test_noise_only_on_stimulus_channels(task, dt, n):
    clean = batch_of(task, dt, n, B=8, seed=5)
    noisy = batch_of(task, dt, n, B=8, seed=5, noise=0.1)
    diff = noisy.inputs - clean.inputs
    assert torch.equal(diff[:, :, 0], torch.zeros_like(diff[:, :, 0]))
    assert (diff[:, :, 1:] != 0).float().mean() > 0.99  # every ring channel, every step
    assert torch.equal(noisy.targets, clean.targets) and torch.equal(noisy.mask, clean.mask)
    for key in clean.epochs:
        assert torch.equal(noisy.epochs[key], clean.epochs[key])
    assert torch.equal(noisy.target_angle.nan_to_num(-1), clean.target_angle.nan_to_num(-1))


@pytest.mark.parametrize("dt", [10.0, 20.0, 40.0])
def test_noise_std_scales_with_dt(dt):
    clean = batch_of("go", dt, 8, B=64, seed=1)
    noisy = batch_of("go", dt, 8, B=64, seed=1, noise=0.1)
    std = (noisy.inputs - clean.inputs)[:, :, 1:].std().item()
    assert std == pytest.approx(0.1 * math.sqrt(20.0 / dt), rel=0.03)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_mask_values_and_fixation_weight(task):
    batch = batch_of(task, B=8, seed=2)
    mask = batch.mask
    assert set(mask[:, :, 1:].unique().tolist()) == {0.0, 1.0, 5.0}
    assert torch.equal(mask[:, :, 0], 2 * mask[:, :, 1])
    assert torch.equal(mask[:, :, 1:], mask[:, :, 1:2].expand_as(mask[:, :, 1:]))
    assert torch.equal(mask[:5], torch.zeros_like(mask[:5]))  # first 100 ms at dt = 20
    go = batch.epochs["decision"][:, 0]
    for b in range(8):
        g = int(go[b])
        assert mask[5:g, b, 1].eq(1).all() and mask[g:g + 5, b, 1].eq(0).all()
        assert mask[g + 5:, b, 1].eq(5).all() and mask[-1, b, 0] == 10


# -- task rules --------------------------------------------------------------------------------


def circ(a, b):
    d = (a - b) % (2 * PI)
    return torch.minimum(d, 2 * PI - d)


@pytest.mark.parametrize("task", GO_FAMILY)
def test_go_family_rule(task):
    batch = batch_of(task, B=64, seed=4)
    shift = PI if "anti" in task else 0.0
    assert circ(batch.target_angle, batch.latent["stim_angle"] + shift).max() < 1e-9
    assert not batch.fixate.any()
    assert set(batch.latent["stim_mod"].tolist()) == {1.0, 2.0}


@pytest.mark.parametrize("task", DM_FAMILY)
def test_dm_rule_stronger_stimulus(task):
    batch = batch_of(task, B=128, seed=6)
    lat = batch.latent
    c1, c2 = lat["coh_mod1"], lat["coh_mod2"]
    decisive = {"dm1": c1, "ctxdm1": c1, "dm2": c2, "ctxdm2": c2}.get(task, c1 + c2)
    expected = torch.where(decisive > 0, lat["stim1_angle"], lat["stim2_angle"])
    assert torch.equal(batch.target_angle, expected) and not batch.fixate.any()
    assert (decisive != 0).all() and (decisive > 0).any() and (decisive < 0).any()
    assert circ(lat["stim1_angle"], lat["stim2_angle"]).min() >= PI / 2 - 1e-9
    used = [c for c in (c1, c2) if not c.isnan().any()]
    assert len(used) == {"dm1": 1, "dm2": 1}.get(task, 2)
    for c in used:
        assert set(c.abs().round(decimals=6).tolist()) <= {0.08, 0.16, 0.32}
    if task.startswith("ctx"):  # the ignored ring disagrees on some trials
        assert ((c1 > 0) != (c2 > 0)).any()


def test_dm1_and_dm2_use_their_own_ring():
    n = 8
    dm1, dm2 = batch_of("dm1", n=n, seed=0), batch_of("dm2", n=n, seed=0)
    assert dm1.inputs[:, :, 1:1 + n].abs().sum() > 0 and dm1.inputs[:, :, 1 + n:].eq(0).all()
    assert dm2.inputs[:, :, 1 + n:].abs().sum() > 0 and dm2.inputs[:, :, 1:1 + n].eq(0).all()
    assert torch.equal(dm1.inputs[:, :, 1:1 + n], dm2.inputs[:, :, 1 + n:])


@pytest.mark.parametrize("task", MATCH_FAMILY)
def test_match_rule(task):
    batch = batch_of(task, B=256, seed=8)
    lat = batch.latent
    a1, a2, match = lat["stim1_angle"], lat["stim2_angle"], lat["match"].bool()
    if task in ("dms", "dnms"):
        assert torch.equal(match, circ(a1, a2) < 1e-9)
        assert circ(a1, a2)[~match].min() >= PI / 2 - 1e-9
    else:
        assert torch.equal(match, (a1 < PI) == (a2 < PI))
        for a in (a1, a2):  # at least 0.1 pi from the category boundary
            assert circ(a, torch.zeros_like(a)).min() >= 0.1 * PI - 1e-9
            assert circ(a, torch.full_like(a, PI)).min() >= 0.1 * PI - 1e-9
    respond = match if task in ("dms", "dmc") else ~match
    assert torch.equal(batch.fixate, ~respond)
    assert torch.equal(batch.target_angle[respond], a2[respond])
    assert 0.35 < match.float().mean() < 0.65


def test_timing_tables_and_docstrings():
    cfg = TaskConfig()
    for name in TASK_NAMES:
        info = task_info(name)
        assert 60 <= info.n_steps(cfg) <= 80, name  # 1.2-1.6 s at dt = 20 ms
        assert "Yang et al. 2019" in info.make.__doc__
        assert info.timing_line() in " ".join(info.make.__doc__.split()), name
        assert info.timing[-1][0] == "decision"
    assert len(TASK_NAMES) == 15 and len(set(TASK_NAMES)) == 15


# -- seeds and T -------------------------------------------------------------------------------


def assert_same(a: Batch, b: Batch):
    for field in ("inputs", "targets", "mask", "task_ids", "context", "fixate"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    assert torch.equal(a.target_angle.nan_to_num(-1), b.target_angle.nan_to_num(-1))
    assert a.epochs.keys() == b.epochs.keys() and a.latent.keys() == b.latent.keys()
    assert all(torch.equal(a.epochs[k], b.epochs[k]) for k in a.epochs)
    assert all(torch.equal(a.latent[k].nan_to_num(-9), b.latent[k].nan_to_num(-9))
               for k in a.latent)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_seeds(task):
    cfg = TaskConfig()
    assert_same(generate(task, 8, cfg, seed=7), generate(task, 8, cfg, seed=7))
    assert_same(generate(task, 8, cfg, seed=np.random.default_rng(7)),
                generate(task, 8, cfg, seed=np.random.default_rng(7)))
    assert not torch.equal(generate(task, 8, cfg, seed=7).inputs,
                           generate(task, 8, cfg, seed=8).inputs)
    clean = TaskConfig(stim_noise=0.0)
    a, b = generate(task, 8, clean, seed=1), generate(task, 8, clean, seed=2)
    assert not torch.equal(a.inputs, b.inputs)
    rng = np.random.default_rng(0)  # a generator advances: two draws differ
    assert not torch.equal(generate(task, 8, cfg, seed=rng).inputs,
                           generate(task, 8, cfg, seed=rng).inputs)
    generate(task, 2, cfg, seed=None)


def test_longer_T_lengthens_fixation_and_short_T_fails():
    own = task_info("go").n_steps(TaskConfig())
    long = batch_of("go", seed=3, T=own + 10)
    base = batch_of("go", seed=3)
    assert long.T == own + 10
    for key in ("stimulus", "decision"):
        assert torch.equal(long.epochs[key], base.epochs[key] + 10)
    assert torch.equal(long.inputs[10:], base.inputs)
    assert torch.equal(long.targets[10:], base.targets)
    assert long.inputs[:10, :, 0].eq(1).all()
    with pytest.raises(ValueError, match="T must be an int >= 70"):
        batch_of("go", T=own - 1)
    with pytest.raises(ValueError, match="T"):
        batch_of("go", T=80.0)


# -- performance -------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASK_NAMES)
@pytest.mark.parametrize("n", [8, 16])
def test_performance_on_targets_is_perfect(task, n):
    batch = batch_of(task, n=n, B=64, seed=9, noise=0.1)
    assert performance(batch.targets, batch).all()
    assert performance_by_task(batch.targets, batch) == {task: 1.0}


@pytest.mark.parametrize("task", TASK_NAMES)
def test_performance_fails_on_shifted_angle_or_broken_fixation(task):
    n = 16
    batch = batch_of(task, n=n, B=64, seed=10)
    respond = ~batch.fixate
    rotated = batch.targets.clone()
    rotated[:, :, 1:] = batch.targets[:, :, 1:].roll(n // 4, dims=2)  # +pi/2 > 0.2 pi
    correct = performance(rotated, batch)
    assert not correct[respond].any() and correct[~respond].all()
    nudged = batch.targets.clone()
    nudged[:, :, 1:] = batch.targets[:, :, 1:].roll(1, dims=2)  # +pi/8 < 0.2 pi: still correct
    assert performance(nudged, batch).all()
    broken = batch.targets.clone()
    broken[-1, :, 0] = torch.where(respond, 0.85, 0.05)  # fixation output on the wrong side
    assert not performance(broken, batch).any()


def test_performance_threshold_and_population_vector():
    batch = batch_of("go", n=16, B=4, seed=0)
    target = batch.target_angle
    outputs = batch.targets.clone()
    for delta, ok in ((0.19 * PI, True), (-0.19 * PI, True), (0.21 * PI, False),
                      (-0.21 * PI, False)):
        outputs[-1, :, 1:] = torch.as_tensor(ring_bump((target + delta).numpy(), 16))
        assert performance(outputs, batch).tolist() == [ok] * 4, delta
    one_hot = batch.targets.clone()  # population vector of a single active unit = its direction
    one_hot[-1, :, 1:] = 0
    units = torch.round(target / (2 * PI / 16)).long() % 16
    one_hot[-1, torch.arange(4), 1 + units] = 1.0
    assert performance(one_hot, batch).all()
    outputs[-1, :, 0] = 0.5  # not below 0.5: not a response
    outputs[-1, :, 1:] = torch.as_tensor(ring_bump(target.numpy(), 16))
    assert not performance(outputs, batch).any()


def test_performance_validates_outputs():
    batch = batch_of("go", B=4)
    with pytest.raises(ValueError, match="shape"):
        performance(batch.targets[:, :3], batch)
    with pytest.raises(ValueError, match="shape"):
        performance(batch.targets[-1], batch)
    with pytest.raises(TypeError, match="torch.Tensor"):
        performance(batch.targets.numpy(), batch)


# -- TaskSet -----------------------------------------------------------------------------------


def test_taskset_balance_context_and_mixed_batch():
    names = ["go", "dm2", "dlyanti", "dms", "rtanti"]
    ts = TaskSet(names)
    assert (ts.K, ts.n_in, ts.n_out, ts.T) == (5, 17, 9, 80) and ts.names == tuple(names)
    batch = ts.sample(17, seed=0)
    counts = torch.bincount(batch.task_ids, minlength=5).tolist()
    assert counts == [4, 4, 3, 3, 3]
    assert batch.task_ids.tolist() != sorted(batch.task_ids.tolist())  # shuffled
    assert torch.equal(batch.context, torch.eye(5)[batch.task_ids])
    assert batch.task_names == tuple(names) and batch.T == 80
    assert batch.epochs["decision"][:, 1].eq(80).all()
    assert performance(batch.targets, batch).all()
    assert set(performance_by_task(batch.targets, batch)) == set(names)
    for b in range(17):  # every trial obeys its own task's grammar within the mixed batch
        task = names[int(batch.task_ids[b])]
        go = int(batch.epochs["decision"][b, 0])
        fix = batch.inputs[:, b, 0]
        assert fix.eq(1).all() if task in RT else fix[:go].eq(1).all() and fix[go:].eq(0).all()
        missing = [k for k in batch.epochs if k not in task_info(task).epochs]
        assert all(batch.epochs[k][b].tolist() == [-1, -1] for k in missing)
    assert_same(ts.sample(17, seed=0), batch)
    small = ts.sample(3, seed=1)  # fewer trials than tasks: the first tasks get them
    assert sorted(small.task_ids.tolist()) == [0, 1, 2]


def test_taskset_sample_task():
    ts = TaskSet(["go", "dmc", "anti"])
    for task in ("dmc", 1):
        batch = ts.sample_task(task, 6, seed=3)
        assert batch.T == ts.T == 80 and batch.task_ids.eq(1).all()
        assert torch.equal(batch.context, torch.tensor([[0.0, 1.0, 0.0]]).expand(6, 3))
    assert_same(ts.sample_task("dmc", 6, seed=3), ts.sample_task(1, 6, seed=3))
    for bad in ("go2", 3, -1, "dms"):
        with pytest.raises(ValueError, match="task must be one of"):
            ts.sample_task(bad, 4)


def test_taskset_errors():
    with pytest.raises(ValueError, match="valid names: go, rtgo"):
        TaskSet(["go", "gogo"])
    with pytest.raises(ValueError, match="empty"):
        TaskSet([])
    with pytest.raises(ValueError, match="duplicates"):
        TaskSet(["go", "anti", "go"])
    with pytest.raises(TypeError, match="list of task names"):
        TaskSet("go")
    with pytest.raises(TypeError, match="config must be a TaskConfig"):
        TaskSet(["go"], config={"n_ring": 8})
    with pytest.raises(ValueError, match="unknown task"):
        generate("Go", 4)
    with pytest.raises(ValueError, match="batch_size"):
        TaskSet(["go"]).sample(0, seed=0)


def test_batch_properties_and_to():
    batch = batch_of("dms", B=3)
    assert (batch.T, batch.batch_size, batch.dt) == (80, 3, 20.0)
    assert batch.context.shape == (3, 1) and batch.context.eq(1).all()
    assert batch.inputs.dtype == batch.targets.dtype == batch.mask.dtype == torch.float32
    assert batch.task_ids.dtype == torch.long and batch.fixate.dtype == torch.bool
    assert all(v.shape == (3, 2) and v.dtype == torch.long for v in batch.epochs.values())
    assert_same(batch.to("cpu"), batch)


# -- input validation (hypothesis) -------------------------------------------------------------


@FAST
@given(st.one_of(st.integers(max_value=0), st.floats(), st.booleans(), st.text(max_size=3)))
def test_bad_batch_size(bad):
    with pytest.raises((TypeError, ValueError), match="batch_size"):
        generate("go", bad)


@FAST
@given(st.sampled_from(["n_ring", "dt", "stim_noise", "timing_scale"]),
       st.one_of(st.integers(max_value=-1), st.just(0), st.floats(allow_nan=True).filter(
           lambda v: not v > 0 or math.isinf(v)), st.text(max_size=2), st.none()))
def test_bad_config(field, bad):
    if field == "stim_noise" and bad == 0:
        return  # 0 disables the noise: allowed
    if field == "n_ring" and isinstance(bad, int) and bad >= 2:
        return
    with pytest.raises((TypeError, ValueError), match=field):
        TaskConfig(**{field: bad})


@FAST
@given(st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=2)))
def test_bad_seed(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        generate("go", 2, seed=bad)


@settings(max_examples=150, deadline=None)  # ~10 per task, 2-3 s in all
@given(task=st.sampled_from(TASK_NAMES), dt=st.floats(5.0, 50.0), n=st.integers(4, 20),
       scale=st.floats(0.5, 1.5), seed=st.integers(0, 2**32))
def test_grammar_holds_for_any_config(task, dt, n, scale, seed):
    cfg = TaskConfig(n_ring=n, dt=dt, timing_scale=scale)
    batch = generate(task, 6, cfg, seed=seed)
    T = batch.T
    assert T == task_info(task).n_steps(cfg)
    go = batch.epochs["decision"][:, 0]
    t = torch.arange(T)[:, None]
    before = t < go
    expected_fix = torch.ones(T, 6) if task in RT else before.float()
    assert torch.equal(batch.inputs[:, :, 0], expected_fix)
    assert batch.epochs["decision"][:, 1].eq(T).all() and (go < T).all()
    grace = (t * dt < 100) | ((t >= go) & ((t - go) * dt < 100))
    w = torch.where(grace, 0.0, torch.where(before, 1.0, 5.0))
    assert torch.equal(batch.mask[:, :, 1], w) and torch.equal(batch.mask[:, :, 0], 2 * w)
    assert performance(batch.targets, batch).all()


# -- figure ------------------------------------------------------------------------------------


def test_plot_trial():
    batch = TaskSet(["rtgo", "dnmc"]).sample(4, seed=0)
    index = int((batch.task_ids == 1).nonzero()[0])
    fig = plot_trial(batch, index)
    try:
        assert len(fig.axes) >= 5 and "dnmc" in fig._suptitle.get_text()
        assert "time (ms)" in [ax.get_xlabel() for ax in fig.axes]
        assert fig.axes[0].get_xlim() == (0.0, batch.T * batch.dt)
        other = int((batch.task_ids == 0).nonzero()[0])
        assert plot_trial(batch, other, fig=fig) is fig  # redraw into the same figure
        assert "rtgo" in fig._suptitle.get_text()
        fig.canvas.draw()
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="index"):
        plot_trial(batch, 4)
