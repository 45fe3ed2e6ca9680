"""Context ambiguity: what a trained network does when its task cue is unclear.

Design (ours; reduced, inspired by Vedovati & Ching 2024 -- only their abstract is known):

1. **Train.** For each mechanism (rule input, excitability, synaptic, combined) and each seed,
   train one network of ``n_hidden`` units on ``tasks`` with the same optimiser, learning
   rate, step budget, early-stopping criterion (worst task >= ``criterion``) and initial scale
   of the context pathway (``init_std``). Seed ``s`` fixes the shared-weight initialisation and
   the training data stream, so mechanisms are compared on paired seeds. Per-task parameter
   counts differ (rule N, excitability 2N, synaptic 2RN, combined 2N + 2RN) and are reported.
2. **Probe.** For each ordered pair ``(i, j)`` of *conflicting* tasks -- tasks whose trials are
   generated from the same random draws, so the same seed gives identical stimuli (go/anti,
   dlygo/dlyanti, rtgo/rtanti, ctxdm1/ctxdm2, dms/dnms, dmc/dnmc) -- build ``n_trials`` trials,
   compute task i's *and* task j's answer for the same stimuli, and run the network under

   - a **blended cue** ``c = (1 - l) e_i + l e_j`` for ``l`` in ``lambdas`` (0 .. 1),
   - a **weakened cue** ``c = s e_i`` for ``s`` in ``strengths`` (1 = clean, 0 = no cue),
   - a **noisy cue** ``c = e_i + sigma xi`` (``xi ~ N(0, I)`` per trial) for ``sigma`` in
     ``noise_stds``.

   Every condition uses the same trials and the same recurrent-noise draws (common random
   numbers), so differences between conditions come from the cue alone.
3. **Score.** Each output is scored against both answers with the library's performance
   measure (:func:`neuromodlab.tasks.performance`). Only *conflict* trials count: trials where
   the two answers cannot both be judged correct (response directions >= 0.4 pi apart, or one
   task says fixate and the other respond). For go/anti and dlygo/dlyanti that is every trial;
   for ctxdm1/ctxdm2 it is the trials whose two rings disagree. On conflict trials each
   response follows task i, follows task j, or neither, so ``P(i) + P(j) + P(neither) = 1``.
   At ``l = 0`` (and ``s = 1``, ``sigma = 0``) ``P(i)`` is the trained performance on task i
   measured on those trials.
4. **Summarise** per network: ``l50`` (the blend at which P(i) first falls below 0.5, linear
   interpolation; 1.0 if it never does), ``auc_half`` (mean P(i) over l in [0, 0.5],
   trapezoid rule), ``neither_mid`` (P(neither) at l = 0.5, interpolated), ``neither_peak``
   (max over l), ``s50`` (the cue strength below which P(i) falls under 0.5, scanning down from
   1; 0.0 if it never does) and ``noise_auc`` (mean P(i) over the noise grid). Across seeds:
   mean and 95 % t-interval (:func:`neuromodlab.experiments.results.mean_ci`).

Entry points: :class:`AmbiguityConfig` (``quick()``, ``default()``, ``full()``),
:func:`run_ambiguity` -> :class:`AmbiguityResult` (JSON round trip through
:mod:`neuromodlab.experiments.results`), :func:`probe_pair` for one trained network. Training
(step 1, shared with :mod:`.dynamics`) is in :mod:`.networks`; its names are re-exported here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .._validate import check_number
from ..modulation import ModulatedRNN, mix_context, noisy_context, weak_context
from ..tasks import CORRECT_ANGLE, TaskConfig, TaskSet, circular_distance, performance
from ..train import TrainConfig, torch_threads
from ._config import (
    Presets,
    check_training,
    increasing_grid,
    int_tuple,
    mechanism_names,
    name_pairs,
    task_names,
)
from .networks import (  # training is shared with .dynamics; re-exported here
    BACKENDS,
    NetworkRecord,
    train_mechanism_job,
    train_mechanisms,
    train_missing,
    train_networks,
)
from .results import JSONResult, RunInfo, mean_ci, run_info

COMPARED = ("rule", "excitability", "synaptic", "combined")
FORMS = ("blend", "weak", "noisy")


@dataclass
class AmbiguityConfig(Presets, JSONResult):
    """Settings of the ambiguity experiment (see the module docstring for the design).

    tasks: trained together (one context channel each); pairs: ordered (i, j) conflicting
    tasks from ``tasks``, blended from i (l = 0) to j (l = 1); mechanisms: modulators compared;
    seeds: one network per (mechanism, seed); lambdas / strengths / noise_stds: the blended,
    weakened and noisy cue grids; n_trials: conflict-scored trials per pair and condition;
    include: which networks enter the statistics, "reached" (only those that met the
    criterion) or "all".

    Presets: ``quick()`` (seconds: two tasks, tiny networks, a few training steps);
    ``default()`` (the reduced experiment of ``reproduce``, a few minutes); ``full()`` (four
    tasks adding the delayed pair, 8 seeds, a finer blend grid; tens of minutes).
    """

    tasks: tuple[str, ...] = ("go", "anti")
    pairs: tuple[tuple[str, str], ...] = (("go", "anti"), ("anti", "go"))
    mechanisms: tuple[str, ...] = COMPARED
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    n_hidden: int = 32
    rank: int = 1
    init_std: float = 0.33
    lr: float = 1e-3
    batch_size: int = 64
    max_steps: int = 2500
    eval_every: int = 50
    criterion: float = 0.9
    lambdas: tuple[float, ...] = tuple(round(0.1 * k, 10) for k in range(11))
    strengths: tuple[float, ...] = tuple(round(0.1 * k, 10) for k in range(11))
    noise_stds: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
    n_trials: int = 256
    n_ring: int = 8
    stim_noise: float = 0.1
    include: str = "reached"

    QUICK = dict(tasks=("go", "anti"), pairs=(("go", "anti"),), seeds=(0, 1), n_hidden=16,
                 max_steps=40, eval_every=20, lambdas=(0, 0.25, 0.5, 0.75, 1),
                 strengths=(0, 0.5, 1), noise_stds=(0, 0.5, 1), n_trials=48, include="all")
    FULL = dict(tasks=("go", "anti", "dlygo", "dlyanti"),
                pairs=(("go", "anti"), ("anti", "go"), ("dlygo", "dlyanti")),
                seeds=tuple(range(8)), max_steps=6000,
                lambdas=tuple(round(0.05 * k, 10) for k in range(21)), n_trials=512)

    def __post_init__(self):
        self.tasks = task_names(self.tasks)
        self.pairs = name_pairs(self.pairs, self.tasks)
        self.mechanisms = mechanism_names(self.mechanisms)
        self.seeds = int_tuple(self.seeds, "seeds", minimum=0)
        check_training(self, ("n_hidden", "rank", "batch_size", "max_steps", "eval_every",
                              "n_trials", "n_ring"))
        self.init_std = check_number(self.init_std, "init_std", 0.0)
        self.stim_noise = check_number(self.stim_noise, "stim_noise", 0.0)
        # every curve starts at the clean, trained cue: l = 0, s = 1, sigma = 0
        self.lambdas = increasing_grid(self.lambdas, "lambdas (blend l)", 0.0, 1.0, start=0.0)
        self.strengths = increasing_grid(self.strengths, "strengths (weak cue s)", 0.0, 1.0,
                                         end=1.0)
        self.noise_stds = increasing_grid(self.noise_stds, "noise_stds (noisy cue sigma)", 0.0,
                                          start=0.0)
        if self.include not in ("reached", "all"):
            raise ValueError(f"include must be 'reached' (only networks that met the criterion) "
                             f"or 'all', got {self.include!r}")

    def taskset(self, stim_noise: float | None = None) -> TaskSet:
        """The task set (``stim_noise`` overrides the configured input noise)."""
        noise = self.stim_noise if stim_noise is None else stim_noise
        return TaskSet(list(self.tasks), TaskConfig(n_ring=self.n_ring, stim_noise=noise))

    def train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(lr=self.lr, batch_size=self.batch_size, max_steps=self.max_steps,
                           eval_every=self.eval_every, criterion=self.criterion, seed=seed)

    def model_kwargs(self) -> dict:
        return dict(n_hidden=self.n_hidden, rank=self.rank, init_std=self.init_std)

    def cue_grids(self) -> dict:
        """The cue form -> grid that :func:`probe_pair` sweeps."""
        return {"blend": self.lambdas, "weak": self.strengths, "noisy": self.noise_stds}


def probe_seed(seed: int) -> int:
    """The probe trials and noise of the network with this seed: the same for every mechanism,
    so that mechanisms are compared on paired trials."""
    return 10_000 + seed


# ------------------------------------------------------------------------------- probing
def conflict_trials(batch_i, batch_j) -> torch.Tensor:
    """(B,) bool: trials whose task-i and task-j answers cannot both be judged correct."""
    fix_i, fix_j = batch_i.fixate, batch_j.fixate
    far = circular_distance(batch_i.target_angle, batch_j.target_angle) >= 2 * CORRECT_ANGLE
    both_respond = ~fix_i & ~fix_j
    return (fix_i != fix_j) | (both_respond & far.nan_to_num(False).bool())


def shared_trials(taskset: TaskSet, i: str, j: str, n_trials: int, seed: int):
    """Trials of tasks i and j built from the same random draws: (batch_i, batch_j, conflict).

    Raises ValueError if the two tasks do not share stimuli (e.g. dm1 and dm2 use different
    rings), because then "which task did the network follow" has no answer."""
    batch_i = taskset.sample_task(i, n_trials, seed)
    batch_j = taskset.sample_task(j, n_trials, seed)
    if not torch.equal(batch_i.inputs, batch_j.inputs):
        raise ValueError(f"tasks {i!r} and {j!r} do not present the same stimuli for the same "
                         "seed; blend a conflicting pair with the same trial structure, e.g. "
                         "go/anti, dlygo/dlyanti, rtgo/rtanti, ctxdm1/ctxdm2, dms/dnms, dmc/dnmc")
    return batch_i, batch_j, conflict_trials(batch_i, batch_j)


@torch.no_grad()
def score(model: ModulatedRNN, batch_i, batch_j, conflict, contexts, noise_seed: int):
    """P(i), P(j), P(neither) on the conflict trials for each context in ``contexts``.

    ``contexts``: a list of (B, K) tensors (one per condition). Every condition reuses the
    same recurrent-noise draws (generator seeded with ``noise_seed``). Returns three lists."""
    p_i, p_j, p_n = [], [], []
    n = max(int(conflict.sum()), 1)
    for context in contexts:
        gen = torch.Generator().manual_seed(noise_seed)
        out = model(batch_i.inputs, context, generator=gen).outputs
        ci = performance(out, batch_i) & conflict
        cj = performance(out, batch_j) & conflict
        p_i.append(ci.sum().item() / n)
        p_j.append(cj.sum().item() / n)
        p_n.append((conflict & ~ci & ~cj).sum().item() / n)
    return p_i, p_j, p_n


def cue_contexts(form: str, grid, i: int, j: int, K: int, B: int, seed: int) -> list:
    """The (B, K) contexts of one ambiguity form over its grid (see the module docstring)."""
    if form == "blend":
        return [mix_context(i, j, float(v), K, B) for v in grid]
    e_i = mix_context(i, j, 0.0, K, B)
    if form == "weak":
        return [weak_context(e_i, float(s)) for s in grid]
    if form == "noisy":  # the same noise draw xi at every sigma (common random numbers)
        return [noisy_context(e_i, float(s), torch.Generator().manual_seed(seed)) for s in grid]
    raise ValueError(f"form must be one of {FORMS}, got {form!r}")


def probe_pair(model: ModulatedRNN, taskset: TaskSet, i: str, j: str, grids: dict,
               n_trials: int, seed: int) -> dict:
    """Probe one network on one pair: ``{form: (p_i, p_j, p_neither)}`` for each grid in
    ``grids`` (form -> values). Trials and noise are fixed by ``seed``."""
    batch_i, batch_j, conflict = shared_trials(taskset, i, j, n_trials, seed)
    ki, kj = taskset.names.index(i), taskset.names.index(j)
    out = {}
    for form, grid in grids.items():
        contexts = cue_contexts(form, grid, ki, kj, taskset.K, n_trials, seed + 1)
        out[form] = score(model, batch_i, batch_j, conflict, contexts, seed + 2)
    return out


# ------------------------------------------------------------------------------- results
def first_crossing(x, y, level: float = 0.5, default: float = math.nan) -> float:
    """The first x at which y drops below ``level`` (linear interpolation between grid
    points); ``default`` if it never does. ``x`` increasing."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if y[0] < level:
        return float(x[0])
    for k in range(1, len(x)):
        if y[k] < level:
            return float(x[k - 1] + (y[k - 1] - level) / (y[k - 1] - y[k]) * (x[k] - x[k - 1]))
    return default


def _mean_on(x, y, lo: float, hi: float) -> float:
    """Mean of y over [lo, hi] by the trapezoid rule on the grid (interpolated at the ends)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xs = np.unique(np.clip(np.concatenate([x, [lo, hi]]), lo, hi))
    ys = np.interp(xs, x, y)
    return float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2) / (hi - lo)) if hi > lo else float(
        ys[0])


@dataclass
class Curves(JSONResult):
    """Per-network curves of one (pair, form, mechanism): rows = networks (``seeds``),
    columns = the grid ``x``. ``p_i + p_j + p_neither = 1`` on every row and column."""

    x: list[float]
    seeds: list[int]
    p_i: list[list[float]]
    p_j: list[list[float]]
    p_neither: list[list[float]]
    n_conflict: list[int]

    def stats(self, which: str = "p_i") -> dict:
        """Mean and 95 % t-interval over networks: {"mean", "lo", "hi"} lists over x."""
        mean, lo, hi = mean_ci(np.asarray(getattr(self, which), float).reshape(-1, len(self.x)))
        return {"mean": mean.tolist(), "lo": lo.tolist(), "hi": hi.tolist()}


METRICS = {
    "l50": "blend l at which P(task i) first falls below 0.5 (1.0 if never)",
    "auc_half": "mean P(task i) over l in [0, 0.5]",
    "neither_mid": "P(neither) at l = 0.5",
    "neither_peak": "largest P(neither) over the blend grid",
    "s50": "cue strength s below which P(task i) falls under 0.5 (0.0 if never)",
    "noise_auc": "mean P(task i) over the noisy-cue grid",
    "perf_l0": "P(task i) at l = 0: trained performance on the conflict trials",
}


def network_metrics(curves: dict, index: int) -> dict:
    """The summary numbers (``METRICS``) of network ``index`` from {form: Curves}."""
    b = curves["blend"]
    x, pi, pn = b.x, b.p_i[index], b.p_neither[index]
    out = {"l50": first_crossing(x, pi, 0.5, default=1.0),
           "auc_half": _mean_on(x, pi, 0.0, min(0.5, x[-1])),
           "neither_mid": float(np.interp(0.5, x, pn)),
           "neither_peak": float(max(pn)), "perf_l0": float(pi[0])}
    if "weak" in curves:
        w = curves["weak"]
        s, ps = np.asarray(w.x)[::-1], np.asarray(w.p_i[index])[::-1]  # from strong to weak
        crossing = first_crossing(-s, ps, 0.5, default=math.nan)  # scan s downwards
        out["s50"] = 0.0 if math.isnan(crossing) else float(-crossing)
    if "noisy" in curves:
        nz = curves["noisy"]
        out["noise_auc"] = _mean_on(nz.x, nz.p_i[index], nz.x[0], nz.x[-1])
    return out


@dataclass
class AmbiguityResult(JSONResult):
    """What :func:`run_ambiguity` measured.

    networks: one :class:`NetworkRecord` per (mechanism, seed), in training order.
    curves: ``curves[pair][form][mechanism]`` -> :class:`Curves` over the included networks,
    with pair keys "i->j" and forms "blend", "weak", "noisy".
    metrics: ``metrics[pair][mechanism][name]`` -> per-network values (``METRICS``), in the
    order of ``curves[pair]["blend"][mechanism].seeds``.
    info: seeds, wall time and versions.
    """

    config: AmbiguityConfig
    networks: list[NetworkRecord]
    curves: dict[str, dict[str, dict[str, Curves]]]
    metrics: dict[str, dict[str, dict[str, list[float]]]]
    info: RunInfo = field(default_factory=RunInfo)

    def included(self, mechanism: str) -> list[int]:
        """Seeds of ``mechanism`` that enter the statistics."""
        return next(iter(self.curves.values()))["blend"][mechanism].seeds

    def metric_stats(self, pair: str, mechanism: str, name: str) -> dict:
        """{"mean", "lo", "hi", "n"} of one metric over networks (95 % t-interval)."""
        values = self.metrics[pair][mechanism][name]
        mean, lo, hi = mean_ci(values) if values else (math.nan,) * 3
        return {"mean": float(mean), "lo": float(lo), "hi": float(hi), "n": len(values)}

    def summary(self) -> dict:
        """Headline numbers: per pair and mechanism each metric's mean and 95 % interval,
        plus training outcomes per mechanism."""
        train = {}
        for mech in self.config.mechanisms:
            recs = [r for r in self.networks if r.mechanism == mech]
            train[mech] = {"reached": sum(r.reached for r in recs), "n": len(recs),
                           "params_per_task": recs[0].params_per_task if recs else None,
                           "steps": [r.steps for r in recs]}
        per_pair = {pair: {mech: {name: self.metric_stats(pair, mech, name)
                                  for name in self.metrics[pair][mech]}
                           for mech in self.metrics[pair]} for pair in self.metrics}
        return {"training": train, "metrics": per_pair, "metric_meaning": dict(METRICS)}


def pair_key(i: str, j: str) -> str:
    return f"{i}->{j}"


def run_ambiguity(config: AmbiguityConfig | None = None, quiet: bool = False,
                  networks: dict | None = None, backend: str = "auto", client=None
                  ) -> AmbiguityResult:
    """Train (or take) networks for each mechanism and probe them (see the module docstring).

    networks: optional ``{mechanism: [(model, History), ...]}`` in ``config.seeds`` order,
    already trained on ``config.tasks`` (skips training). After the run the trained networks
    are available as ``result.trained`` (not saved to JSON). client: ``None`` trains here; a
    Dask ``distributed.Client`` or a scheduler address trains each mechanism's networks on its
    workers, with the same networks (:mod:`.distributed`); probing runs here.
    """
    from tqdm.auto import tqdm

    config = config or AmbiguityConfig.default()
    start = time.perf_counter()
    taskset = config.taskset()
    grids = config.cue_grids()
    for i, j in config.pairs:  # fail early on a non-conflicting pair
        shared_trials(taskset, i, j, 2, 0)
    fresh, where = train_missing(config, networks, backend, client,
                                 "ambiguity: training networks", quiet)
    trained, records = {}, []
    for mech in config.mechanisms:
        trained[mech] = fresh[mech] if mech in fresh else networks[mech]
        for seed, (model, hist) in zip(config.seeds, trained[mech], strict=True):
            records.append(NetworkRecord(
                mech, seed, model.params_per_task(), hist.steps[-1] if hist.steps else 0,
                hist.steps_to_criterion, hist.reached, hist.final_performance, hist.wall_time))
    with torch_threads(1):
        curves: dict = {}
        bar = tqdm(total=len(config.pairs) * len(config.mechanisms), disable=quiet,
                   desc="ambiguity: probing", leave=False)
        for i, j in config.pairs:
            key = pair_key(i, j)
            curves[key] = {form: {} for form in grids}
            for mech in config.mechanisms:
                rows = {form: ([], [], []) for form in grids}
                seeds, n_conflict = [], []
                for seed, (model, hist) in zip(config.seeds, trained[mech], strict=True):
                    if config.include == "reached" and not hist.reached:
                        continue
                    seeds.append(seed)
                    probed = probe_pair(model, taskset, i, j, grids, config.n_trials,
                                        probe_seed(seed))
                    n_conflict.append(int(shared_trials(taskset, i, j, config.n_trials,
                                                        probe_seed(seed))[2].sum()))
                    for form, triple in probed.items():
                        for acc, values in zip(rows[form], triple, strict=True):
                            acc.append(values)
                for form, (pi, pj, pn) in rows.items():
                    curves[key][form][mech] = Curves(list(grids[form]), seeds, pi, pj, pn,
                                                     n_conflict)
                bar.update()
        bar.close()
    metrics = {}
    for key, by_form in curves.items():
        metrics[key] = {}
        for mech in config.mechanisms:
            per_net = [network_metrics({f: by_form[f][mech] for f in by_form}, k)
                       for k in range(len(by_form["blend"][mech].seeds))]
            names = list(METRICS)
            metrics[key][mech] = {n: [m[n] for m in per_net] for n in names}
    used = ("sequential" if backend == "sequential" else "ensemble") + where
    result = AmbiguityResult(config, records, curves, metrics,
                             run_info(config.seeds, time.perf_counter() - start, used))
    result.trained = trained  # not a dataclass field: never saved
    return result


__all__ = ["AmbiguityConfig", "AmbiguityResult", "Curves", "NetworkRecord", "METRICS",
           "COMPARED", "FORMS", "BACKENDS", "run_ambiguity", "train_networks",
           "train_mechanism_job", "train_mechanisms", "conflict_trials", "shared_trials", "score",
           "cue_contexts", "probe_pair", "probe_seed", "first_crossing", "network_metrics",
           "pair_key"]
