"""The initial scale of the context pathway: a comparison can measure the start, not the
mechanism.

Design (ours; reduced, inspired by Vedovati & Ching 2024, of which only the abstract is
known). A throwaway prototype (DESIGN.md) found that on dlygo + dlyanti at N = 32 within 2500
steps, excitability modulation whose gain and bias start at exactly zero reached 90 % in 0/10
seeds, but 5/5 when they start at N(0, 0.33^2); a rule input starting at zero, 2/5. Here we
re-measure that with the library:

- for each mechanism and each initial std of its context pathway (``init_stds``; 0 = the
  context has no effect at the start) train one network per seed on ``tasks``, shared weights
  and modulator together, with ``fit``'s settings (Adam ``lr``, batch, clipping, early stop at
  worst task >= ``criterion``, at most ``max_steps`` steps);
- the comparison is **paired**: for a given seed, every initial std starts from the same
  shared weights (W_in, W_rec, W_out), sees the same training batches and the same recurrent
  noise; only the context pathway's initial values differ (each network equals
  ``ModulatedRNN(ModelConfig(..., init_std=std, seed=seed))`` trained by
  ``fit(..., TrainConfig(seed=seed))``, up to float rounding);
- report the fraction of seeds that reach the criterion with a 95 % Wilson score interval
  (:func:`~neuromodlab.experiments.results.wilson_interval`), the steps they needed, and the
  paired outcome (seeds where only one initial scale succeeded, with an exact sign test on
  those discordant seeds).

``default()`` uses the packing experiment's training settings (half-length trials, batch 32,
lr 3e-3, 1000 steps, 6 seeds) so that it runs in about a minute and speaks to that experiment;
``full()`` repeats the prototype's setting (standard trials, batch 64, lr 1e-3, 2500 steps,
10 seeds).

Note: for the synaptic mechanism an initial std of 0 (m = n = 0) is a saddle point with zero
gradient for m and n: it can never learn its context effect. It is not in the default list.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .._validate import check_number
from ..modulation import ModelConfig, ModulatedRNN
from ..tasks import TaskConfig, TaskSet
from ..train import TrainConfig
from ._config import Presets, check_training, int_tuple, mechanism_names, task_names
from .results import JSONResult, RunInfo, markdown_table, run_info, wilson_interval


def sign_test(only_a: int, only_b: int) -> float:
    """Two-sided exact sign (McNemar) test on the discordant pairs: the probability, if both
    conditions were equally likely to be the one that succeeds, of a split at least this
    uneven. 1.0 when there are no discordant pairs."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@dataclass
class InitialisationConfig(Presets, JSONResult):
    """Settings (design in the module docstring). init_stds: initial std of the context
    pathway (rule W_rule, excitability G and B; see :mod:`neuromodlab.modulation`).

    Presets: ``quick()`` (seconds); ``default()`` (run by ``reproduce``, ~1-1.5 CPU-minutes:
    6 seeds and the packing experiment's training settings -- trials at half the standard
    epoch durations, batch 32, lr 3e-3 -- at most 1000 steps); ``full()`` (the prototype's
    setting in DESIGN.md: standard trial timing, batch 64, lr 1e-3, 2500 steps, 10 seeds, plus
    the gain-only and bias-only variants; ~30-40 CPU-minutes, ~15-20 for excitability and rule
    alone)."""

    tasks: tuple[str, ...] = ("dlygo", "dlyanti")
    mechanisms: tuple[str, ...] = ("excitability", "rule")
    init_stds: tuple[float, ...] = (0.0, 0.33)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    n_hidden: int = 32
    rank: int = 1
    lr: float = 3e-3
    batch_size: int = 32
    max_steps: int = 1000
    eval_every: int = 100
    eval_trials: int = 64
    criterion: float = 0.9
    n_ring: int = 8
    timing_scale: float = 0.5

    FULL = dict(mechanisms=("excitability", "gain", "bias", "rule"), seeds=tuple(range(10)),
                batch_size=64, lr=1e-3, max_steps=2500, timing_scale=1.0)
    QUICK = dict(seeds=(0, 1), n_hidden=8, max_steps=40, eval_every=20, eval_trials=16,
                 batch_size=16)

    def __post_init__(self):
        self.tasks = task_names(self.tasks)
        self.mechanisms = mechanism_names(self.mechanisms)
        if isinstance(self.init_stds, (str, int, float)) or not len(self.init_stds):
            raise ValueError(f"init_stds must be a non-empty list of numbers >= 0 (e.g. "
                             f"(0.0, 0.33)), got {self.init_stds!r}")
        self.init_stds = tuple(check_number(v, "init_stds: every entry", 0.0)
                               for v in self.init_stds)
        self.seeds = int_tuple(self.seeds, "seeds", minimum=0)
        check_training(self, ("n_hidden", "rank", "batch_size", "max_steps", "eval_every",
                                 "eval_trials", "n_ring"))
        self.timing_scale = check_number(self.timing_scale, "timing_scale", 0.0, strict=True)

    def taskset(self) -> TaskSet:
        return TaskSet(list(self.tasks), TaskConfig(n_ring=self.n_ring,
                                                    timing_scale=self.timing_scale))

    def model_config(self, mechanism: str, init_std: float, seed: int = 0) -> ModelConfig:
        cfg = TaskConfig(n_ring=self.n_ring)
        return ModelConfig(mechanism, cfg.n_in, cfg.n_out, len(self.tasks),
                           n_hidden=self.n_hidden, rank=self.rank, init_std=init_std,
                           dt=cfg.dt, seed=seed)

    def train_config(self, seed: int = 0) -> TrainConfig:
        return TrainConfig(lr=self.lr, batch_size=self.batch_size, max_steps=self.max_steps,
                           eval_every=self.eval_every, eval_trials=self.eval_trials,
                           criterion=self.criterion, seed=seed)


@dataclass
class InitRun(JSONResult):
    """One network: reached the criterion or not, steps trained, final per-task performance
    (fraction correct in [0, 1] at the last evaluation)."""

    mechanism: str
    init_std: float
    seed: int
    reached: bool
    steps: int
    steps_to_criterion: int | None
    performance: dict[str, float]


@dataclass
class InitResult(JSONResult):
    """Result of :func:`run_initialisation`: ``runs`` (one per mechanism, init std, seed),
    ``wall_time_s`` per mechanism and "total", ``info``. :meth:`success` gives k/n with a
    Wilson interval; :meth:`paired` the seed-by-seed outcomes."""

    config: InitialisationConfig
    runs: list[InitRun] = field(default_factory=list)
    wall_time_s: dict[str, float] = field(default_factory=dict)
    info: RunInfo = field(default_factory=RunInfo)

    def _runs(self, mechanism, init_std):
        return [r for r in self.runs if r.mechanism == mechanism and r.init_std == init_std]

    def success(self, mechanism: str, init_std: float) -> dict:
        """{k, n, fraction, lo, hi (95 % Wilson), median_steps (of those that reached)}."""
        runs = self._runs(mechanism, float(init_std))
        if not runs:
            raise KeyError(f"no runs for ({mechanism}, init_std {init_std})")
        k, n = sum(r.reached for r in runs), len(runs)
        lo, hi = wilson_interval(k, n)
        steps = [r.steps_to_criterion for r in runs if r.reached]
        return dict(k=k, n=n, fraction=k / n, lo=lo, hi=hi,
                    median_steps=float(np.median(steps)) if steps else math.nan)

    def paired(self, mechanism: str | None, a: float, b: float) -> dict:
        """Seeds where only init std ``a`` reached, only ``b``, both, neither, and the exact
        sign-test p-value on the discordant seeds (:func:`sign_test`). ``mechanism=None``
        pools the (mechanism, seed) pairs of every mechanism."""
        mechs = self.config.mechanisms if mechanism is None else (mechanism,)
        ra = {(m, r.seed): r.reached for m in mechs for r in self._runs(m, float(a))}
        rb = {(m, r.seed): r.reached for m in mechs for r in self._runs(m, float(b))}
        keys = sorted(set(ra) & set(rb))
        out = dict(only_a=sum(ra[s] and not rb[s] for s in keys),
                   only_b=sum(rb[s] and not ra[s] for s in keys),
                   both=sum(ra[s] and rb[s] for s in keys),
                   neither=sum(not ra[s] and not rb[s] for s in keys))
        out["p_sign"] = sign_test(out["only_a"], out["only_b"])
        return out

    def summary(self) -> dict:
        out = {}
        for m in self.config.mechanisms:
            for std in self.config.init_stds:
                s = self.success(m, std)
                out[f"{m} init_std={std:g}"] = {k: (round(v, 4) if isinstance(v, float) else v)
                                                for k, v in s.items()}
        paired = {}
        if len(self.config.init_stds) >= 2:
            a, b = self.config.init_stds[0], self.config.init_stds[-1]
            for m in (*self.config.mechanisms, None):
                paired[f"{m or 'all mechanisms'}: {a:g} vs {b:g}"] = self.paired(m, a, b)
        return {"success": out, "paired": paired,
                "wall_time_s": self.wall_time_s.get("total", math.nan)}

    def report_markdown(self) -> str:
        c = self.config
        rows = []
        for m in c.mechanisms:
            for std in c.init_stds:
                s = self.success(m, std)
                med = "n/a" if math.isnan(s["median_steps"]) else f"{s['median_steps']:.0f}"
                rows.append((m, f"{std:g}", f"{s['k']}/{s['n']}", f"{s['fraction']:.2f}",
                             f"[{s['lo']:.2f}, {s['hi']:.2f}]", med))
        text = [
            f"Tasks {' + '.join(c.tasks)}, N = {c.n_hidden}, Adam lr {c.lr:g}, batch "
            f"{c.batch_size}, at most {c.max_steps} steps, criterion {c.criterion:g} on the "
            f"worst task, trials at {c.timing_scale:g} x the standard epoch durations; seeds "
            f"{list(c.seeds)}. Paired design: for a seed every initial std starts from the same "
            "shared weights and sees the same batches and noise; only the initial values of the "
            "context pathway differ.",
            markdown_table(["mechanism", "initial std of context pathway", "reached",
                            "fraction", "95 % Wilson interval", "median steps (reached)"],
                           rows)]
        lines = []
        if len(c.init_stds) >= 2:
            a, b = c.init_stds[0], c.init_stds[-1]
            for m in c.mechanisms:
                p = self.paired(m, a, b)
                sa, sb = self.success(m, a), self.success(m, b)
                disjoint = sa["hi"] < sb["lo"] or sb["hi"] < sa["lo"]
                lines.append(
                    f"- {m}: init {a:g} reached in {sa['k']}/{sa['n']}, init {b:g} in "
                    f"{sb['k']}/{sb['n']} (paired seeds: only {a:g} {p['only_a']}, only {b:g} "
                    f"{p['only_b']}, both {p['both']}, neither {p['neither']}; exact sign test "
                    f"p = {p['p_sign']:.3f}); the Wilson intervals "
                    f"{'do not overlap' if disjoint else 'overlap'}.")
            if len(c.mechanisms) > 1:
                p = self.paired(None, a, b)
                n = p["only_a"] + p["only_b"] + p["both"] + p["neither"]
                lines.append(
                    f"- All mechanisms pooled ({n} paired networks): only init {a:g} reached "
                    f"in {p['only_a']}, only init "
                    f"{b:g} in {p['only_b']} (exact sign test p = {p['p_sign']:.3f}).")
        lines.append("- A mechanism comparison that gave one pathway a zero start and the "
                     "other a random start would report this initialisation effect as a "
                     "difference between mechanisms: match the initial scale (and the learning "
                     "rate) of the context pathways, or report the mismatch as a confound.")
        return "\n\n".join(text + ["### Interpretation", "\n".join(lines)])

    def figures(self) -> dict:
        from ..plotting import packing as pp

        return {"success": pp.plot_initialisation(self),
                "steps": pp.plot_steps_to_criterion(self)}


def _set_modulator(ens, e: int, model: ModulatedRNN) -> None:
    """Give ensemble member e the context-pathway parameters of ``model``."""
    with torch.no_grad():
        for full, p in model.modulator.named_parameters():
            getattr(ens, full.rsplit(".", 1)[-1])[e].copy_(p)


def train_initialisation_job(config: InitialisationConfig, mechanism: str
                             ) -> tuple[list[InitRun], float]:
    """One unit: the paired ensemble of every (init std, seed) network of ``mechanism``;
    returns their runs (init std major, then seeds) and the seconds it took. A top-level
    function of plain arguments, so that a Dask worker can run it (:mod:`.distributed`)."""
    from ..ensemble import Ensemble, fit_ensemble

    t0 = time.perf_counter()
    members = [(std, s) for std in config.init_stds for s in config.seeds]
    ens = Ensemble(config.model_config(mechanism, config.init_stds[0]), [s for _, s in members])
    for e, (std, s) in enumerate(members):
        _set_modulator(ens, e, ModulatedRNN(config.model_config(mechanism, std, s)))
    hists = fit_ensemble(ens, config.taskset(), config.train_config(), quiet=True, data="own",
                         train_seeds=[s for _, s in members])
    runs = [InitRun(mechanism, std, s, h.reached, h.steps[-1] if h.steps else 0,
                    h.steps_to_criterion, {t: float(v[-1]) for t, v in h.performance.items()})
            for (std, s), h in zip(members, hists, strict=True)]
    return runs, round(time.perf_counter() - t0, 2)


def run_initialisation(config: InitialisationConfig | None = None, quiet: bool = False,
                       client=None) -> InitResult:
    """Train every (mechanism, init std, seed) network (one paired ensemble per mechanism).

    client: ``None`` trains here; a Dask ``distributed.Client`` or a scheduler address
    trains the mechanisms' ensembles on its workers, with the same numbers
    (:mod:`.distributed`)."""
    from tqdm.auto import tqdm

    from .distributed import Unit, connect, describe, run_units

    config = config or InitialisationConfig.default()
    if not isinstance(config, InitialisationConfig):
        raise TypeError(f"config must be an InitialisationConfig, got {type(config).__name__}")
    result = InitResult(config)
    start = time.perf_counter()
    units = [Unit(train_initialisation_job, (config, m), f"initialisation {m}")
             for m in config.mechanisms]
    bar = tqdm(total=len(units), desc="initialisation", disable=quiet)
    with connect(client) as cl:
        outputs = run_units(units, cl, lambda k, unit: bar.update())
        where = describe(cl)
    bar.close()
    for mech, (runs, seconds) in zip(config.mechanisms, outputs, strict=True):
        result.runs.extend(runs)
        result.wall_time_s[mech] = seconds
    total = time.perf_counter() - start
    result.wall_time_s["total"] = round(total, 2)
    result.info = run_info(config.seeds, total, backend="ensemble" + where)
    return result


# the name the issue uses
InitConfig = InitialisationConfig

__all__ = ["InitialisationConfig", "InitConfig", "InitRun", "InitResult", "run_initialisation",
           "train_initialisation_job", "wilson_interval", "sign_test"]
