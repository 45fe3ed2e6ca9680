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
Modules  this one applies the grammar (epochs, rendering), builds batches (:func:`generate`,
    :class:`TaskSet`) and scores them (:func:`performance`); :class:`TaskConfig`, the task
    registry (:class:`TaskInfo`, :data:`TASK_NAMES`, :func:`task_info`) and the 15 task
    definitions are in :mod:`neuromodlab.task_definitions`, re-exported here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import check_int, is_int
from .task_definitions import (
    _TASKS,
    DM_COHERENCES,
    DM_MEAN_STRENGTH,
    NOISE_DT_REF,
    TASK_NAMES,
    TWO_PI,
    TaskConfig,
    TaskInfo,
    _check_names,
    task_info,
)

BUMP_AMPLITUDE, BUMP_WIDTH = 0.8, math.pi / 8
FIX_TARGET_ON, FIX_TARGET_OFF, RING_BASELINE = 0.85, 0.05, 0.05
MASK_GRACE_MS, MASK_BEFORE_GO, MASK_RESPONSE, FIXATION_WEIGHT = 100.0, 1.0, 5.0, 2.0
CORRECT_ANGLE = 0.2 * math.pi


def preferred_directions(n_ring: int) -> np.ndarray:
    """Preferred direction (radians) of each ring unit: 2 pi k / n_ring."""
    return TWO_PI * np.arange(n_ring) / n_ring


def circular_distance(a, b):
    """|a - b| wrapped to [0, pi] (numpy arrays or torch tensors)."""
    return abs((a - b + math.pi) % TWO_PI - math.pi)


def ring_bump(angle, n_ring: int) -> np.ndarray:
    """Ring activity (..., n_ring) of a strength-1 bump at ``angle`` (radians, any shape)."""
    d = np.asarray(angle, dtype=float)[..., None] - preferred_directions(n_ring)
    d = (d + math.pi) % TWO_PI - math.pi  # signed circular distance in [-pi, pi)
    return BUMP_AMPLITUDE * np.exp(d * d * (-0.5 / BUMP_WIDTH**2))


# -- The grammar, applied to whole batches at once ((T, 1) time index vs (1, B) boundaries).


def _make_rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (is_int(seed) and seed >= 0):
        return np.random.default_rng(seed)
    error = ValueError if is_int(seed) else TypeError
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


def generate(task_name: str, batch_size: int, config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
             seed=None, T: int | None = None) -> Batch:
    """A batch of one task (context: one-hot of length 1). T defaults to the task's own length;
    a longer T lengthens the fixation epoch. seed: None, an int or a numpy Generator."""
    info, cfg = task_info(task_name), _check_config(config)
    B = check_int(batch_size, "batch_size")
    need = info.n_steps(cfg)
    if T is not None and (not is_int(T) or T < need):
        raise ValueError(f"T must be an int >= {need} (the length of task {task_name!r} at "
                         f"dt = {cfg.dt:g} ms), got {T!r}")
    return _build((task_name,), {0: B}, cfg, need if T is None else int(T), _make_rng(seed),
                  shuffle=False)


class TaskSet:
    """Tasks sharing one trial length T (the longest of them) and a K-long one-hot context."""

    def __init__(self, task_names: Sequence[str],
                 config: TaskConfig = TaskConfig()):  # noqa: B008 (frozen)
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
        B, K = check_int(batch_size, "batch_size"), self.K
        counts = {k: B // K + (k < B % K) for k in range(K) if B // K + (k < B % K) > 0}
        return _build(self.names, counts, self.config, self.T, _make_rng(seed), shuffle=True)

    def sample_task(self, task, batch_size: int, seed=None) -> Batch:
        """Trials of one task of the set (name or index), with the set's T and context."""
        if isinstance(task, str) and task in self.names:
            task = self.names.index(task)
        if not is_int(task) or not 0 <= task < self.K:
            raise ValueError(f"task must be one of {list(self.names)} or an index in "
                             f"[0, {self.K}), got {task!r}")
        B = check_int(batch_size, "batch_size")
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


__all__ = ["TASK_NAMES", "TaskConfig", "TaskInfo", "TaskSet", "Batch", "generate", "performance",
           "performance_by_task", "task_info", "preferred_directions", "circular_distance",
           "ring_bump", "TWO_PI", "BUMP_AMPLITUDE", "BUMP_WIDTH", "FIX_TARGET_ON",
           "FIX_TARGET_OFF", "RING_BASELINE", "MASK_GRACE_MS", "MASK_BEFORE_GO", "MASK_RESPONSE",
           "FIXATION_WEIGHT", "NOISE_DT_REF", "CORRECT_ANGLE", "DM_COHERENCES",
           "DM_MEAN_STRENGTH"]
