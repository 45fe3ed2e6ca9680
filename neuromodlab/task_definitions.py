"""The 15 tasks of Yang et al. (2019) as neuromodlab defines them: settings, timing, trials.

- :class:`TaskConfig`: ring size, step dt, input-noise level and timing scale, shared by all
  tasks;
- the registry: :class:`TaskInfo` (a task's minimum fixation, timing table in ms,
  reaction-time flag and trial maker), :data:`TASK_NAMES` and :func:`task_info`;
- the task definitions ``_go`` ... ``_dnmc``, registered with ``@_task``: small functions
  ``(rng, epochs) -> _Trials`` that draw each trial's stimuli (ring, angle, strength, on and
  off steps), its target angle (nan: keep fixating) and its latent parameters, built from
  three families (``_one_stimulus``, ``_two_stimuli``, ``_sample_test``).

How trials become inputs, targets and loss masks (the grammar), batches, task sets and the
performance measure are in :mod:`neuromodlab.tasks`, which re-exports every public name of
this module; import them from there.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._validate import check_int, check_number

TWO_PI = 2.0 * math.pi
NOISE_DT_REF = 20.0  # ms: TaskConfig.stim_noise is the input-noise std at this step
# DM rings show strengths mean + c (stimulus 1) and mean - c (stimulus 2), c = +-coherence. With
# noise 0.1 the weakest contrast (2 * 0.8 * 0.08 ~ 0.13) needs a few steps of integration.
DM_COHERENCES, DM_MEAN_STRENGTH = (0.08, 0.16, 0.32), (0.8, 1.2)


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
        object.__setattr__(self, "n_ring", check_int(self.n_ring, "TaskConfig.n_ring", 2))
        for name, strict in (("dt", True), ("stim_noise", False), ("timing_scale", True)):
            value = check_number(getattr(self, name), f"TaskConfig.{name}", 0, strict=strict)
            object.__setattr__(self, name, value)

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


# -- Registry. A task is a small function (rng, epochs) -> _Trials; neuromodlab.tasks._render
# applies the grammar.


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
