"""Cognitive tasks in the grammar of Yang et al. (2019), re-derived for neuromodlab.

Yang, Joglekar, Song, Newsome & Wang (2019), "Task representations in neural networks trained to
perform many cognitive tasks", Nature Neuroscience 22:297-306 (github.com/gyyang/multitask).
Short names follow neurogym. Shapes are time-major: T steps, B trials.

Channels  inputs (T, B, 1 + 2 n_ring) = [fixation, ring 1, ring 2]; outputs (T, B, 1 + n_ring) =
    [fixation, response ring]. Ring unit k prefers 2 pi k / n_ring. The context is not an input:
    it is Batch.context (one-hot over a TaskSet's tasks), delivered by a modulator.
Grammar (every task)
    bump            strength * 0.8 exp(-d^2 / 2), d = circular distance / (pi / 8)
    fixation input  1 before the go cue, 0 from it on (reaction-time tasks: 1 throughout; their
                    go cue is the stimulus onset)
    fixation target 0.85 before the go cue, 0.05 from it on (0.85 throughout on fixate trials)
    ring target     0.05, plus a strength-1 bump at the target angle from the go cue on
    loss mask       0 in the first 100 ms, 1 until the go cue, 0 for 100 ms, then 5; fixation x2
    input noise     N(0, s^2) per step on the ring channels only, s = stim_noise sqrt(20 ms / dt)
                    (the same noise power for a leaky integrator at every dt)
Timing  the epochs after `fixation` have per-trial uniform durations (whole steps); `fixation`
    takes the rest (at least its minimum), so every trial ends at step T - 1 and its `decision`
    epoch runs from its go cue to the end. Epochs are [start, end) steps. A longer common T
    (mixed batches) lengthens the fixation epoch.
Bump width  d is in units of pi/8 rad for every ring size (Yang's choice): the width belongs to
    the stimulus, not to the ring's sampling. With 8 units a target's population vector decodes
    to within 0.01 pi (16 units: 1e-8 pi; 4 units: 0.15 pi; 2-3 units fail).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

TWO_PI = 2.0 * math.pi
BUMP_AMPLITUDE, BUMP_WIDTH = 0.8, math.pi / 8
FIX_TARGET_ON, FIX_TARGET_OFF, RING_BASELINE = 0.85, 0.05, 0.05
MASK_GRACE_MS, MASK_BEFORE_GO, MASK_RESPONSE, FIXATION_WEIGHT = 100.0, 1.0, 5.0, 2.0
NOISE_DT_REF, CORRECT_ANGLE = 20.0, 0.2 * math.pi
# DM rings show strengths mean + c (stimulus 1) and mean - c (stimulus 2), c = +-coherence. With
# noise 0.1 the weakest contrast (2 * 0.8 * 0.08 ~ 0.13) needs a few steps of integration.
DM_COHERENCES, DM_MEAN_STRENGTH = (0.08, 0.16, 0.32), (0.8, 1.2)


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_real(x) -> bool:
    return (_is_int(x) or isinstance(x, (float, np.floating))) and math.isfinite(x)


@dataclass(frozen=True)
class TaskConfig:
    """n_ring: units per ring; dt: step (ms); stim_noise: input-noise std on the ring channels at
    dt = 20 ms (0 disables it); timing_scale: multiplies every epoch duration (not the mask's
    100 ms)."""

    n_ring: int = 8
    dt: float = 20.0
    stim_noise: float = 0.1
    timing_scale: float = 1.0

    def __post_init__(self):
        if not _is_int(self.n_ring) or self.n_ring < 2:
            error = ValueError if _is_int(self.n_ring) else TypeError
            raise error(f"TaskConfig: n_ring must be an int >= 2, got {self.n_ring!r}")
        object.__setattr__(self, "n_ring", int(self.n_ring))
        for name, strict in (("dt", True), ("stim_noise", False), ("timing_scale", True)):
            value = getattr(self, name)
            if not _is_real(value) or value < 0 or (strict and value == 0):
                number = _is_int(value) or isinstance(value, (float, np.floating))
                error, expected = ValueError if number else TypeError, "> 0" * strict
                raise error(f"TaskConfig: {name} must be a finite number {expected or '>= 0'}, "
                            f"got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def n_in(self) -> int:
        return 1 + 2 * self.n_ring

    @property
    def n_out(self) -> int:
        return 1 + self.n_ring

    @property
    def noise_std(self) -> float:
        return self.stim_noise * math.sqrt(NOISE_DT_REF / self.dt)

    def steps(self, ms: float) -> int:
        """Steps (at least 1) in a duration of ``ms`` (after timing_scale)."""
        return max(1, round(ms * self.timing_scale / self.dt))


def preferred_directions(n_ring: int) -> np.ndarray:
    return TWO_PI * np.arange(n_ring) / n_ring


def circular_distance(a, b):
    """|a - b| wrapped to [0, pi] (numpy arrays or torch tensors)."""
    return abs((a - b + math.pi) % TWO_PI - math.pi)


@functools.lru_cache(maxsize=64)
def _directions(n_ring: int) -> np.ndarray:
    directions = preferred_directions(n_ring)
    directions.flags.writeable = False
    return directions


def ring_bump(angle, n_ring: int) -> np.ndarray:
    """Ring activity (..., n_ring) of a strength-1 bump at ``angle`` (radians, any shape)."""
    d = (np.asarray(angle, dtype=float)[..., None] - _directions(n_ring) + math.pi) % TWO_PI
    d -= math.pi  # signed circular distance in [-pi, pi)
    return BUMP_AMPLITUDE * np.exp(d * d * (-0.5 / BUMP_WIDTH**2))


# -- Registry. A task is a small function (rng, epochs) -> _Trials; _render applies the grammar.


@dataclass
class _Trials:
    stimuli: list  # (ring (B,) in {1, 2}, angle (B,), strength (B,), on (B,), off (B,) steps)
    target: np.ndarray  # (B,) response angle; nan = keep fixating
    latent: dict


@dataclass(frozen=True)
class TaskInfo:
    """A task: name, minimum fixation and timing table (ms), reaction-time flag, trial maker."""

    name: str
    fixation_min: float
    timing: tuple  # ((epoch, min ms, max ms), ...) after the fixation epoch, ending in decision
    reaction_time: bool
    make: Callable = dataclasses.field(repr=False, compare=False)

    @property
    def epochs(self) -> tuple:
        rest = tuple(name for name, _, _ in self.timing)
        return ("fixation",) + ("stimulus",) * self.reaction_time + rest

    def timing_line(self) -> str:
        rt = "stimulus = " if self.reaction_time else ""  # the RT stimulus epoch is the decision
        rest = [f"{rt * (name == 'decision')}{name} {lo:g}-{hi:g}" for name, lo, hi in self.timing]
        return " | ".join([f"fixation >= {self.fixation_min:g}"] + rest)

    def n_steps(self, config: TaskConfig = TaskConfig()) -> int:
        """The task's own trial length: minimum fixation plus the longest other epochs."""
        return config.steps(self.fixation_min) + sum(config.steps(hi) for _, _, hi in self.timing)


_TASKS: dict[str, TaskInfo] = {}


def _task(name: str, fixation: float, reaction_time: bool = False, **timing):
    """Register a task under ``name`` with its timing table (ms), appended to its docstring."""
    def register(make):
        table = tuple((epoch, lo, hi) for epoch, (lo, hi) in timing.items())
        info = _TASKS[name] = TaskInfo(name, fixation, table, reaction_time, make)
        make.__doc__ = f"{make.__doc__}\n\n    Timing (ms): {info.timing_line()}\n"
        return make
    return register


def _one_stimulus(rng, ep, *, anti: bool, until: str) -> _Trials:
    """One stimulus in ring 1 or 2 (at random) from the stimulus onset to the end of epoch
    ``until``; respond toward it (anti: opposite)."""
    B = len(ep["decision"])
    angle, mod = rng.uniform(0, TWO_PI, B), rng.integers(1, 3, B)
    target = (angle + math.pi) % TWO_PI if anti else angle
    stim = (mod, angle, np.ones(B), ep["stimulus"][:, 0], ep[until][:, 1])
    return _Trials([stim], target, {"stim_angle": angle, "stim_mod": mod})


@_task("go", fixation=300, stimulus=(200, 600), decision=(300, 500))
def _go(rng, ep):
    """Go (Yang et al. 2019): after the go cue respond toward the stimulus (on until the end)."""
    return _one_stimulus(rng, ep, anti=False, until="decision")


@_task("rtgo", fixation=300, reaction_time=True, decision=(500, 1000))
def _rtgo(rng, ep):
    """Reaction-time Go (Yang et al. 2019): respond toward the stimulus as soon as it appears;
    stimulus epoch = decision epoch."""
    return _one_stimulus(rng, ep, anti=False, until="decision")


@_task("dlygo", fixation=200, stimulus=(200, 300), delay=(200, 600), decision=(300, 400))
def _dlygo(rng, ep):
    """Delayed Go (Yang et al. 2019): respond toward the stimulus remembered over a delay."""
    return _one_stimulus(rng, ep, anti=False, until="stimulus")


@_task("anti", fixation=300, stimulus=(200, 600), decision=(300, 500))
def _anti(rng, ep):
    """Anti (Yang et al. 2019): as go, but respond opposite to the stimulus (angle + pi)."""
    return _one_stimulus(rng, ep, anti=True, until="decision")


@_task("rtanti", fixation=300, reaction_time=True, decision=(500, 1000))
def _rtanti(rng, ep):
    """Reaction-time Anti (Yang et al. 2019): respond opposite to the stimulus once it appears."""
    return _one_stimulus(rng, ep, anti=True, until="decision")


@_task("dlyanti", fixation=200, stimulus=(200, 300), delay=(200, 600), decision=(300, 400))
def _dlyanti(rng, ep):
    """Delayed Anti (Yang et al. 2019): respond opposite to the stimulus remembered over a delay."""
    return _one_stimulus(rng, ep, anti=True, until="stimulus")


def _two_stimuli(rng, ep, *, mods: tuple, decide: str) -> _Trials:
    """Two directions (>= pi/2 apart) in each ring of ``mods`` during the stimulus epoch, strengths
    mean +- c per ring; respond toward the stronger. decide: 'mod1', 'mod2' or 'sum'."""
    B = len(ep["decision"])
    a1 = rng.uniform(0, TWO_PI, B)
    a2 = (a1 + rng.uniform(0.5 * math.pi, 1.5 * math.pi, B)) % TWO_PI
    coh, mean = {}, {}
    for m in mods:
        coh[m] = rng.choice(DM_COHERENCES, B) * rng.choice([-1.0, 1.0], B)
        mean[m] = rng.uniform(*DM_MEAN_STRENGTH, B)
    if decide == "sum":  # no ties: equal and opposite coherences get the same sign
        coh[2] = np.where(coh[1] == -coh[2], coh[1], coh[2])
    decisive = coh[1] + coh[2] if decide == "sum" else coh[int(decide[-1])]
    on, off = ep["stimulus"].T
    stimuli = [(np.full(B, m), a, mean[m] + s * coh[m], on, off) for m in mods
               for a, s in ((a1, 1), (a2, -1))]
    latent = {"stim1_angle": a1, "stim2_angle": a2}
    for m in (1, 2):
        latent[f"coh_mod{m}"] = coh.get(m, np.full(B, np.nan))
        latent[f"mean_mod{m}"] = mean.get(m, np.full(B, np.nan))
    return _Trials(stimuli, np.where(decisive > 0, a1, a2), latent)


_DM = dict(fixation=200, stimulus=(300, 700), decision=(300, 500))


@_task("dm1", **_DM)
def _dm1(rng, ep):
    """Decision making 1 (Yang et al. 2019): two stimuli in ring 1 only; respond toward the
    stronger."""
    return _two_stimuli(rng, ep, mods=(1,), decide="mod1")


@_task("dm2", **_DM)
def _dm2(rng, ep):
    """Decision making 2 (Yang et al. 2019): as dm1 in ring 2 only (its own ring, so dm1 and dm2
    inputs differ)."""
    return _two_stimuli(rng, ep, mods=(2,), decide="mod2")


@_task("ctxdm1", **_DM)
def _ctxdm1(rng, ep):
    """Context DM 1 (Yang et al. 2019): both rings show the two directions (independent
    coherences); ring 1 decides."""
    return _two_stimuli(rng, ep, mods=(1, 2), decide="mod1")


@_task("ctxdm2", **_DM)
def _ctxdm2(rng, ep):
    """Context DM 2 (Yang et al. 2019): as ctxdm1, but ring 2 decides."""
    return _two_stimuli(rng, ep, mods=(1, 2), decide="mod2")


@_task("multidm", **_DM)
def _multidm(rng, ep):
    """Multisensory DM (Yang et al. 2019): both rings; respond toward the direction stronger in
    sum."""
    return _two_stimuli(rng, ep, mods=(1, 2), decide="sum")


def _sample_test(rng, ep, *, category: bool, respond_on_match: bool) -> _Trials:
    """Sample (stim1) then, after a delay, test (stim2, on to the end), each in ring 1 or 2.
    Match = same angle (else >= pi/2 apart) or, if category, same half-circle [0, pi) or
    [pi, 2 pi) (angles >= 0.1 pi from the boundary). Respond toward the test iff
    match == respond_on_match, else keep fixating."""
    B = len(ep["decision"])
    match = rng.random(B) < 0.5
    if category:
        cat1 = rng.integers(0, 2, B)
        cat2 = np.where(match, cat1, 1 - cat1)
        a1 = cat1 * math.pi + rng.uniform(0.1 * math.pi, 0.9 * math.pi, B)
        a2 = cat2 * math.pi + rng.uniform(0.1 * math.pi, 0.9 * math.pi, B)
    else:
        a1 = rng.uniform(0, TWO_PI, B)
        a2 = np.where(match, a1, (a1 + rng.uniform(0.5 * math.pi, 1.5 * math.pi, B)) % TWO_PI)
    m1, m2 = rng.integers(1, 3, B), rng.integers(1, 3, B)
    ones = np.ones(B)
    test_on, end = ep["stim2"][:, 0], ep["decision"][:, 1]
    stimuli = [(m1, a1, ones, *ep["stim1"].T), (m2, a2, ones, test_on, end)]
    target = np.where(match == respond_on_match, a2, np.nan)
    latent = dict(stim1_angle=a1, stim2_angle=a2, stim1_mod=m1, stim2_mod=m2, match=match)
    return _Trials(stimuli, target, latent)


_MATCH = dict(fixation=200, stim1=(200, 300), delay=(200, 400), stim2=(200, 300),
              decision=(300, 400))


@_task("dms", **_MATCH)
def _dms(rng, ep):
    """Delayed match-to-sample (Yang et al. 2019): respond toward the test if it matches the
    sample's direction, else keep fixating."""
    return _sample_test(rng, ep, category=False, respond_on_match=True)


@_task("dnms", **_MATCH)
def _dnms(rng, ep):
    """Delayed non-match-to-sample (Yang et al. 2019): respond toward the test if its direction
    differs from the sample's, else keep fixating."""
    return _sample_test(rng, ep, category=False, respond_on_match=False)


@_task("dmc", **_MATCH)
def _dmc(rng, ep):
    """Delayed match-to-category (Yang et al. 2019): respond toward the test if it is in the
    sample's half-circle, else keep fixating."""
    return _sample_test(rng, ep, category=True, respond_on_match=True)


@_task("dnmc", **_MATCH)
def _dnmc(rng, ep):
    """Delayed non-match-to-category (Yang et al. 2019): respond toward the test if it is in the
    other half-circle, else keep fixating."""
    return _sample_test(rng, ep, category=True, respond_on_match=False)


TASK_NAMES: tuple = tuple(_TASKS)


def _check_names(names) -> list:
    unknown = [n for n in names if not isinstance(n, str) or n not in _TASKS]
    if unknown:
        raise ValueError(f"unknown task name(s) {unknown}; valid names: {', '.join(_TASKS)}")
    return list(names)


def task_info(name: str) -> TaskInfo:
    """The TaskInfo of a task (timing table, epochs, docstring)."""
    return _TASKS[_check_names([name])[0]]


# -- The grammar, applied to whole batches at once ((T, 1) time index vs (1, B) boundaries).


def _check_batch_size(batch_size) -> int:
    if not _is_int(batch_size) or batch_size <= 0:
        error = ValueError if _is_int(batch_size) else TypeError
        raise error(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _make_rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (_is_int(seed) and seed >= 0):
        return np.random.default_rng(seed)
    error = ValueError if _is_int(seed) else TypeError
    raise error(f"seed must be None, an int >= 0 or a numpy Generator, got {seed!r}")


def _check_config(config) -> TaskConfig:
    if not isinstance(config, TaskConfig):
        raise TypeError(f"config must be a TaskConfig, got {type(config).__name__}")
    return config


def _sample_epochs(info: TaskInfo, cfg: TaskConfig, T: int, B: int, rng) -> dict:
    """name -> (B, 2) [start, end) steps: durations drawn per trial, fixation takes the rest."""
    lo, hi = (np.array([[cfg.steps(row[i])] for row in info.timing]) for i in (1, 2))
    durations = rng.integers(lo, hi + 1, size=(len(info.timing), B))  # (epochs, B)
    starts = T - np.cumsum(durations[::-1], axis=0)[::-1]
    bounds = np.stack([starts, starts + durations], axis=2)  # (epochs, B, 2)
    ep = {"fixation": np.stack([np.zeros(B, dtype=starts.dtype), starts[0]], axis=1)}
    ep.update((name, span) for (name, _, _), span in zip(info.timing, bounds, strict=True))
    if info.reaction_time:  # the stimulus appears at the go cue and stays on
        ep = {"fixation": ep["fixation"], "stimulus": ep["decision"].copy(),
              "decision": ep["decision"]}
    return ep


def _render(stimuli: list, target, go, reaction_time, cfg: TaskConfig, T: int, seed: int):
    """Inputs, targets and loss mask (float32 tensors, (T, B, .)) of a whole batch, from its
    stimuli [(ring, angle, strength, on, off)], target angles, go steps and RT flags (all (B,))."""
    n, B = cfg.n_ring, len(go)
    t = np.arange(T)[:, None]  # (T, 1) against per-trial boundaries (B,)
    before_go = t < go  # (T, B)
    respond = ~np.isnan(target)
    bumps = ring_bump(np.stack([s[1] for s in stimuli] + [np.where(respond, target, 0.0)]), n)
    windows = {}  # stimuli shown over the same steps are added up first: one pass per window
    for (ring, _, strength, on, off), bump in zip(stimuli, bumps, strict=False):
        pattern = np.zeros((B, 2, n))
        pattern[np.arange(B), ring - 1] = strength[:, None] * bump
        window = windows.setdefault((on.tobytes(), off.tobytes()), [on, off, 0.0])
        window[2] = window[2] + pattern.reshape(B, 2 * n)
    rings = torch.zeros(T, B, 2 * n)
    for on, off, pattern in windows.values():
        shown = torch.from_numpy((t >= on) & (t < off))[:, :, None]
        rings.addcmul_(shown, torch.from_numpy(pattern.astype(np.float32)))
    if cfg.stim_noise > 0:
        noise = torch.randn(T, B, 2 * n, generator=torch.Generator().manual_seed(seed))
        rings.add_(noise, alpha=cfg.noise_std)
    fixation = torch.from_numpy(before_go | reaction_time)[:, :, None]
    inputs = torch.cat([fixation.float(), rings], dim=2)
    waiting = torch.tensor([FIX_TARGET_ON] + [RING_BASELINE] * n)  # target row before the go cue
    response = np.concatenate([np.full((B, 1), FIX_TARGET_OFF), RING_BASELINE + bumps[-1]], 1)
    responding = torch.from_numpy(~before_go & respond)[:, :, None]  # fixate trials never do
    targets = torch.where(responding, torch.from_numpy(response.astype(np.float32)), waiting)
    grace = math.ceil(MASK_GRACE_MS / cfg.dt - 1e-9)  # steps s with (s - onset) * dt < 100 ms
    mask = np.where(before_go, MASK_BEFORE_GO, np.where(t < go + grace, 0.0, MASK_RESPONSE))
    mask[:grace] = 0.0
    weights = torch.tensor([FIXATION_WEIGHT] + [1.0] * n)
    return inputs, targets, torch.from_numpy(mask.astype(np.float32))[:, :, None] * weights


@dataclass
class Batch:
    """A batch of trials, time-major.

    inputs (T, B, n_in), targets (T, B, n_out), mask (T, B, n_out): float32.
    epochs: name -> (B, 2) long [start, end) steps (-1 for trials of a mixed batch without it).
    task_ids (B,) long, indexing task_names; context (B, K) float32 one-hot.
    target_angle (B,) float64, nan where the answer is to keep fixating; fixate (B,) bool.
    latent: name -> (B,) float64 trial parameters, nan where not applicable: stim_angle, stim_mod
    (go/anti family); stim1_angle, stim2_angle, coh_mod1/2, mean_mod1/2 (DM family; stimulus 1
    has strength mean + coh); stim1_angle, stim2_angle, stim1_mod, stim2_mod, match (match family).
    dt in ms.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    epochs: dict
    task_ids: torch.Tensor
    context: torch.Tensor
    target_angle: torch.Tensor
    fixate: torch.Tensor
    latent: dict
    task_names: tuple
    dt: float

    @property
    def T(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[1]

    def to(self, device) -> Batch:
        moved = {k: v.to(device) for k, v in vars(self).items() if isinstance(v, torch.Tensor)}
        for key in ("epochs", "latent"):
            moved[key] = {k: v.to(device) for k, v in getattr(self, key).items()}
        return dataclasses.replace(self, **moved)


def _build(names: tuple, counts: dict, cfg: TaskConfig, T: int, rng, shuffle: bool) -> Batch:
    """A batch with counts[k] trials of task names[k] (k in counts), optionally shuffled: the
    tasks draw their trials, then one pass of the grammar renders the whole batch."""
    parts = []  # (task id, B, epochs, trials, reaction time)
    for k, B in counts.items():
        info = _TASKS[names[k]]
        ep = _sample_epochs(info, cfg, T, B, rng)
        parts.append((k, B, ep, info.make(rng, ep), info.reaction_time))
    order = rng.permutation(sum(counts.values())) if shuffle else None
    noise_seed = int(rng.integers(2**63))  # drawn last, with or without noise

    def cat(arrays):  # per-part (B, ...) arrays -> one array in batch order
        if order is None and len(arrays) == 1:
            return arrays[0]
        out = np.concatenate(arrays)
        return out if order is None else out[order]

    def union(dicts, fill, shape=()):  # name -> tensor; trials of parts without it get `fill`
        keys = dict.fromkeys(key for d in dicts for key in d)
        return {key: torch.from_numpy(cat([d[key] if key in d else np.full((p[1],) + shape, fill)
                                           for d, p in zip(dicts, parts, strict=True)]))
                for key in keys}

    def stimulus(part, s):  # the s-th stimulus of a part's trials, or an invisible one
        if s < len(part[3].stimuli):
            return part[3].stimuli[s]
        zero = np.zeros(part[1], dtype=np.int64)
        return zero + 1, zero + 0.0, zero + 0.0, zero, zero

    n_slots = max(len(p[3].stimuli) for p in parts)
    stimuli = [tuple(cat(arrays) for arrays in zip(*(stimulus(p, s) for p in parts), strict=True))
               for s in range(n_slots)]
    target = cat([p[3].target for p in parts])
    go = cat([p[2]["decision"][:, 0] for p in parts])
    reaction_time = cat([np.full(p[1], p[4]) for p in parts])
    inputs, targets, mask = _render(stimuli, target, go, reaction_time, cfg, T, noise_seed)
    epochs = union([p[2] for p in parts], -1, (2,))
    latent = union([p[3].latent for p in parts], np.nan)
    task_ids = torch.from_numpy(cat([np.full(p[1], p[0], dtype=np.int64) for p in parts]))
    return Batch(inputs, targets, mask, {k: v.long() for k, v in epochs.items()}, task_ids,
                 context=torch.eye(len(names))[task_ids], target_angle=torch.tensor(target),
                 fixate=torch.from_numpy(np.isnan(target)),
                 latent={k: v.double() for k, v in latent.items()},
                 task_names=tuple(names), dt=cfg.dt)


def generate(task_name: str, batch_size: int, config: TaskConfig = TaskConfig(), seed=None,
             T: int | None = None) -> Batch:
    """A batch of one task (context: one-hot of length 1). T defaults to the task's own length;
    a longer T lengthens the fixation epoch. seed: None, an int or a numpy Generator."""
    info, B, cfg = task_info(task_name), _check_batch_size(batch_size), _check_config(config)
    need = info.n_steps(cfg)
    if T is not None and (not _is_int(T) or T < need):
        raise ValueError(f"T must be an int >= {need} (the length of task {task_name!r} at "
                         f"dt = {cfg.dt:g} ms), got {T!r}")
    return _build((task_name,), {0: B}, cfg, need if T is None else int(T), _make_rng(seed),
                  shuffle=False)


class TaskSet:
    """Tasks sharing one trial length T (the longest of them) and a K-long one-hot context."""

    def __init__(self, task_names: Sequence[str], config: TaskConfig = TaskConfig()):
        if isinstance(task_names, str) or not isinstance(task_names, Sequence):
            raise TypeError(f"task_names must be a list of task names such as ['go', 'anti'], "
                            f"got {task_names!r}")
        if len(task_names) == 0:
            raise ValueError(f"task_names is empty; choose from: {', '.join(_TASKS)}")
        if len(set(task_names)) != len(task_names):
            raise ValueError(f"task_names has duplicates: {list(task_names)}")
        self.names = tuple(_check_names(task_names))
        self.config = _check_config(config)
        self.K, self.n_in, self.n_out = len(self.names), config.n_in, config.n_out
        self.T = max(_TASKS[name].n_steps(config) for name in self.names)

    def __repr__(self) -> str:
        return f"TaskSet({list(self.names)}, T={self.T}, dt={self.config.dt:g})"

    def sample(self, batch_size: int, seed=None) -> Batch:
        """batch_size // K trials of each task (the remainder to the first tasks), shuffled."""
        B, K = _check_batch_size(batch_size), self.K
        counts = {k: B // K + (k < B % K) for k in range(K) if B // K + (k < B % K) > 0}
        return _build(self.names, counts, self.config, self.T, _make_rng(seed), shuffle=True)

    def sample_task(self, task, batch_size: int, seed=None) -> Batch:
        """Trials of one task of the set (name or index), with the set's T and context."""
        if isinstance(task, str) and task in self.names:
            task = self.names.index(task)
        if not _is_int(task) or not 0 <= task < self.K:
            raise ValueError(f"task must be one of {list(self.names)} or an index in "
                             f"[0, {self.K}), got {task!r}")
        B = _check_batch_size(batch_size)
        return _build(self.names, {int(task): B}, self.config, self.T, _make_rng(seed), False)


def performance(outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Correct (True) or not per trial (B,), read at the last step. A fixate trial is correct iff
    the fixation output (channel 0) is > 0.5; any other iff it is < 0.5 and the population-vector
    angle of the ring outputs, arg(sum_k y_k exp(i theta_k)), is within 0.2 pi of target_angle."""
    if not isinstance(outputs, torch.Tensor):
        raise TypeError(f"outputs must be a torch.Tensor, got {type(outputs).__name__}")
    expected = tuple(batch.targets.shape)
    if tuple(outputs.shape) != expected:
        raise ValueError(f"outputs must have shape (T, B, n_out) = {expected} like the batch's "
                         f"targets, got {tuple(outputs.shape)}")
    last = outputs[-1].detach().double()
    theta = torch.as_tensor(preferred_directions(expected[2] - 1), device=last.device)
    angle = torch.atan2(last[:, 1:] @ theta.sin(), last[:, 1:] @ theta.cos())
    close = circular_distance(angle, batch.target_angle.to(last.device)) < CORRECT_ANGLE
    fixating, released = last[:, 0] > 0.5, last[:, 0] < 0.5  # exactly 0.5 is neither
    return torch.where(batch.fixate.to(last.device), fixating, released & close)


def performance_by_task(outputs: torch.Tensor, batch: Batch) -> dict:
    """Fraction correct per task name, for the tasks present in the batch."""
    correct, ids = performance(outputs, batch).float().cpu(), batch.task_ids.cpu()
    return {name: correct[ids == k].mean().item() for k, name in enumerate(batch.task_names)
            if bool((ids == k).any())}
