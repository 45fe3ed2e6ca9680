"""Task packing: how many tasks fit into a network of N units, for each context mechanism.

Design (ours, from first principles; a reduced experiment inspired by Vedovati & Ching 2024,
of which only the abstract is known -- no number or choice here is attributed to the paper):

1. **Tasks.** A fixed order ``tasks`` (default go, anti, rtgo, rtanti, dlygo, dlyanti); the
   task list for K is its first K entries, so a larger K only adds tasks. Most neighbours
   conflict (same stimuli, different answers), so the context is needed to pack them.
2. **Networks.** For each mechanism, size N, count K and seed s one network is trained with
   its shared weights AND its modulator (with frozen shared weights and one-hot contexts the
   tasks would not interact and "packing" would only measure per-task learnability): Adam
   with one learning rate for every parameter, per-network gradient clipping, batches of
   ``batch_size`` task-balanced trials, at most ``max_steps`` steps, evaluated every
   ``eval_every`` steps on ``eval_trials`` trials per task. It **reaches** K when its worst
   task is >= ``criterion`` at an evaluation (it stops there). Every network has a context
   of length ``len(tasks)``; entries of tasks beyond K stay 0, so their modulator columns
   never act and never get a gradient: it is exactly a K-task network, and for a given seed
   all K start from the same weights.
3. **Capacity** of (mechanism, N, seed) = the largest K of the grid that was reached, 0 if
   none (:func:`capacity`). Reported per (mechanism, N) as the mean and a 95 % t-interval
   over seeds, with the context pathway's parameters per task beside it (rule N, gain N,
   bias N, excitability 2N, synaptic 2RN, combined 2N + 2RN), and the N x K grid of the
   fraction of seeds that reached K.
4. **Fairness.** Every mechanism gets the same initial scale of its context pathway
   (``init_std``; for synaptic the std of the effective per-neuron effect, see
   :mod:`neuromodlab.modulation`), learning rate, batch, budget, criterion and seeds (seed s
   fixes the shared initial weights W_in, W_rec, W_out for every mechanism). Mechanisms with
   *different* per-task parameter counts are not a fair capacity comparison; the
   ``matched`` pairs have EQUAL counts (excitability 2N vs synaptic rank 1 2N; rule N vs
   gain N) and are compared seed by seed (difference of capacities, 95 % interval).
5. **Budget monotonicity.** Training is deterministic and evaluations fall on multiples of
   ``eval_every``: a run with a larger ``max_steps`` (a multiple of ``eval_every``) repeats
   the shorter run step for step, so it reaches every K the shorter run reached. Capacity can
   only grow with the budget (tested).

Training runs as ensembles (:mod:`neuromodlab.ensemble`): one per (mechanism, N) holding all
(K, seed) networks. Trials come from one stream per ensemble and are dealt out ('pooled'
data), so every network sees its own independent, task-balanced batches; the recurrent noise
of each network has its own generator (seed ``1000 s + K``). Consequence: the same config
gives the same numbers, but which trials a network sees depends on the ensemble's make-up
(the K grid, the seeds, which members already stopped), so changing ``task_counts`` or
``seeds`` re-draws the data of every network. Near the budget edge (N = 16 in the default)
that alone can move a seed's capacity -- part of the seed-to-seed spread reported. For the same
reason a distributed run (``run_packing(config, client=...)``, :mod:`.distributed`) sends each
(mechanism, N) ensemble whole to a Dask worker: the numbers are those of the local run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._validate import check_number
from ..modulation import ModelConfig
from ..tasks import TaskConfig, TaskSet
from ..train import TrainConfig
from ._config import (
    Presets,
    check_training,
    int_tuple,
    mechanism_names,
    name_pairs,
    task_names,
)
from .results import JSONResult, RunInfo, format_ci, markdown_table, mean_ci, run_info

DEFAULT_TASKS = ("go", "anti", "rtgo", "rtanti", "dlygo", "dlyanti")
FULL_TASKS = DEFAULT_TASKS + ("dm1", "dm2")


def capacity(task_counts, reached) -> int:
    """The largest K in ``task_counts`` whose entry of ``reached`` is true; 0 if none.

    ``reached`` is a sequence of bools aligned with ``task_counts`` (or a dict K -> bool)."""
    if isinstance(reached, dict):
        reached = [bool(reached.get(k, False)) for k in task_counts]
    if len(reached) != len(task_counts):
        raise ValueError(f"reached has {len(reached)} entries for {len(task_counts)} task counts")
    done = [int(k) for k, r in zip(task_counts, reached, strict=True) if r]
    return max(done) if done else 0


@dataclass
class PackingConfig(Presets, JSONResult):
    """Settings of the packing experiment (design in the module docstring).

    tasks: the task order (the first K form the list for K); task_counts: the K grid;
    n_hidden: network sizes N; mechanisms: context pathways compared; matched: pairs of
    mechanisms with equal per-task parameter counts, compared seed by seed; seeds: one network
    per (mechanism, N, K, seed). timing_scale scales every epoch duration of the tasks
    (0.5 halves the trial length and the cost of a step).

    Presets: ``quick()`` (~10 s: two sizes, two task counts, two seeds, 40 steps and a
    criterion of only 0.5 so that something is reached -- not a scientific setting);
    ``default()`` (the reduced experiment of ``reproduce``, ~3-4 CPU-minutes on an unloaded
    core); ``full()`` (N up to 64, eight tasks adding dm1, dm2, standard trial timing, five
    seeds, 1500 steps, gain-only added for the rule-vs-gain matched pair; ~1 CPU-hour,
    estimated from the default's cost per network-step, not run end to end).
    """

    tasks: tuple[str, ...] = DEFAULT_TASKS
    task_counts: tuple[int, ...] = (1, 2, 3, 4, 6)
    n_hidden: tuple[int, ...] = (8, 16, 32)
    mechanisms: tuple[str, ...] = ("rule", "excitability", "synaptic", "combined")
    matched: tuple[tuple[str, str], ...] = (("excitability", "synaptic"),)
    seeds: tuple[int, ...] = (0, 1, 2)
    rank: int = 1
    init_std: float = 0.33
    lr: float = 3e-3
    batch_size: int = 32
    max_steps: int = 500
    eval_every: int = 50
    eval_trials: int = 32
    criterion: float = 0.9
    n_ring: int = 8
    timing_scale: float = 0.5

    QUICK = dict(task_counts=(1, 2), n_hidden=(8, 16), mechanisms=("rule", "excitability",
                 "synaptic"), seeds=(0, 1), max_steps=40, eval_every=20, eval_trials=16,
                 batch_size=16, criterion=0.5)
    FULL = dict(tasks=FULL_TASKS, task_counts=(1, 2, 3, 4, 6, 8), n_hidden=(8, 16, 32, 64),
                mechanisms=("rule", "gain", "excitability", "synaptic", "combined"),
                matched=(("excitability", "synaptic"), ("rule", "gain")),
                seeds=tuple(range(5)), max_steps=1500, timing_scale=1.0)

    def __post_init__(self):
        self.tasks = task_names(self.tasks)
        self.task_counts = tuple(sorted(int_tuple(self.task_counts, "task_counts")))
        if self.task_counts[-1] > len(self.tasks):
            raise ValueError(f"task_counts: K = {self.task_counts[-1]} exceeds the "
                             f"{len(self.tasks)} tasks given; use K <= {len(self.tasks)} or "
                             "list more tasks")
        self.n_hidden = int_tuple(self.n_hidden, "n_hidden (network sizes N)")
        self.mechanisms = mechanism_names(self.mechanisms)
        self.matched = name_pairs(self.matched, self.mechanisms, "matched", "mechanisms",
                                  allow_empty=True)
        self.seeds = int_tuple(self.seeds, "seeds", minimum=0)
        check_training(self, ("rank", "batch_size", "max_steps", "eval_every", "eval_trials",
                                 "n_ring"))
        self.init_std = check_number(self.init_std, "init_std", 0.0)
        self.timing_scale = check_number(self.timing_scale, "timing_scale", 0.0, strict=True)
        for a, b in self.matched:
            pa, pb = (self.params_per_task(m, self.n_hidden[0]) for m in (a, b))
            if pa != pb:
                raise ValueError(f"matched pair ({a}, {b}) has {pa} vs {pb} parameters per task "
                                 f"at N = {self.n_hidden[0]}; pair mechanisms with equal counts, "
                                 "e.g. (excitability, synaptic) or (rule, gain)")

    def taskset(self) -> TaskSet:
        return TaskSet(list(self.tasks), TaskConfig(n_ring=self.n_ring,
                                                    timing_scale=self.timing_scale))

    def model_config(self, mechanism: str, n_hidden: int) -> ModelConfig:
        cfg = TaskConfig(n_ring=self.n_ring)
        return ModelConfig(mechanism, cfg.n_in, cfg.n_out, len(self.tasks), n_hidden=n_hidden,
                           rank=self.rank, init_std=self.init_std, dt=cfg.dt)

    def params_per_task(self, mechanism: str, n_hidden: int) -> int:
        """Context-pathway parameters per task (rule N, excitability 2N, synaptic 2RN, ...)."""
        per = {"rule": n_hidden, "gain": n_hidden, "bias": n_hidden,
               "excitability": 2 * n_hidden, "synaptic": 2 * self.rank * n_hidden}
        per["combined"] = per["excitability"] + per["synaptic"]
        return per[mechanism]

    def train_config(self, n_hidden: int) -> TrainConfig:
        """The data stream of an ensemble is seeded by the smallest seed and N."""
        return TrainConfig(lr=self.lr, batch_size=self.batch_size, max_steps=self.max_steps,
                           eval_every=self.eval_every, eval_trials=self.eval_trials,
                           criterion=self.criterion, seed=min(self.seeds) + 1000 * n_hidden)


@dataclass
class PackingRun(JSONResult):
    """One trained network. steps: steps trained (the step it reached the criterion, else
    max_steps); performance: fraction correct per task at the last evaluation, in [0, 1]."""

    mechanism: str
    n_hidden: int
    n_tasks: int
    seed: int
    params_per_task: int
    reached: bool
    steps: int
    steps_to_criterion: int | None
    performance: dict[str, float]


@dataclass
class PackingResult(JSONResult):
    """Everything a packing run produced. ``runs``: one :class:`PackingRun` per (mechanism, N,
    K, seed); ``wall_time_s``: seconds per ensemble ("mechanism N=..") and "total";
    ``info``: seeds, versions. Derived tables: :meth:`capacities`, :meth:`capacity_table`,
    :meth:`reached_fraction`, :meth:`matched_table`."""

    config: PackingConfig
    runs: list[PackingRun] = field(default_factory=list)
    wall_time_s: dict[str, float] = field(default_factory=dict)
    info: RunInfo = field(default_factory=RunInfo)

    def run(self, mechanism, n_hidden, n_tasks, seed) -> PackingRun:
        for r in self.runs:
            if (r.mechanism, r.n_hidden, r.n_tasks, r.seed) == (mechanism, n_hidden, n_tasks,
                                                                  seed):
                return r
        raise KeyError(f"no run for {(mechanism, n_hidden, n_tasks, seed)}")

    def capacities(self, mechanism: str, n_hidden: int) -> list[int]:
        """Capacity of each seed (in the order of ``config.seeds``)."""
        ks = self.config.task_counts
        return [capacity(ks, [self.run(mechanism, n_hidden, k, s).reached for k in ks])
                for s in self.config.seeds]

    def reached_fraction(self, mechanism: str) -> np.ndarray:
        """(len(n_hidden), len(task_counts)) fraction of seeds that reached each (N, K)."""
        c = self.config
        return np.array([[np.mean([self.run(mechanism, n, k, s).reached for s in c.seeds])
                          for k in c.task_counts] for n in c.n_hidden])

    def capacity_table(self) -> list[dict]:
        """Rows (mechanism, n_hidden, params_per_task, capacities, mean, lo, hi)."""
        rows = []
        for m in self.config.mechanisms:
            for n in self.config.n_hidden:
                caps = self.capacities(m, n)
                mean, lo, hi = (float(v) for v in mean_ci(caps))
                rows.append(dict(mechanism=m, n_hidden=n,
                                 params_per_task=self.config.params_per_task(m, n),
                                 capacities=caps, mean=mean, lo=lo, hi=hi))
        return rows

    def matched_table(self) -> list[dict]:
        """Per matched pair and N: capacity a - b per seed, mean difference and its 95 %
        t-interval (paired by seed), and how many seeds a > b, a < b, a = b."""
        rows = []
        for a, b in self.config.matched:
            for n in self.config.n_hidden:
                ca, cb = np.array(self.capacities(a, n)), np.array(self.capacities(b, n))
                d = ca - cb
                mean, lo, hi = (float(v) for v in mean_ci(d))
                rows.append(dict(pair=f"{a} - {b}", n_hidden=n,
                                 params_per_task=self.config.params_per_task(a, n),
                                 differences=[int(v) for v in d], mean=mean, lo=lo, hi=hi,
                                 a_wins=int((d > 0).sum()), b_wins=int((d < 0).sum()),
                                 ties=int((d == 0).sum())))
        return rows

    def summary(self) -> dict:
        cap = {f"{r['mechanism']} N={r['n_hidden']}": {
            "params_per_task": r["params_per_task"], "capacity_mean": r["mean"],
            "capacity_lo": r["lo"], "capacity_hi": r["hi"], "capacities": r["capacities"]}
            for r in self.capacity_table()}
        matched = {f"{r['pair']} N={r['n_hidden']}": {k: r[k] for k in (
            "mean", "lo", "hi", "a_wins", "b_wins", "ties")} for r in self.matched_table()}
        return {"capacity": cap, "matched": matched,
                "networks": len(self.runs), "reached": int(sum(r.reached for r in self.runs)),
                "wall_time_s": self.wall_time_s.get("total", math.nan)}

    def report_markdown(self) -> str:
        return _report(self)

    def figures(self) -> dict:
        from ..plotting import packing as pp

        return {"capacity": pp.plot_capacity(self), "reached": pp.plot_reached_grid(self)}


def train_packing_job(config: PackingConfig, mechanism: str, n_hidden: int
                      ) -> tuple[list[PackingRun], float]:
    """One unit of the sweep: train the ensemble of every (K, seed) network of (mechanism,
    N); returns their runs (K-major, then seeds) and the seconds it took. A top-level function
    of plain arguments, so that a Dask worker can run it (:mod:`.distributed`)."""
    from ..ensemble import Ensemble, fit_ensemble

    t0 = time.perf_counter()
    members = [(k, s) for k in config.task_counts for s in config.seeds]
    ens = Ensemble(config.model_config(mechanism, n_hidden), [s for _, s in members])
    hists = fit_ensemble(ens, config.taskset(), config.train_config(n_hidden), quiet=True,
                         data="pooled", train_seeds=[1000 * s + k for k, s in members],
                         member_tasks=[list(config.tasks[:k]) for k, _ in members])
    ppt = config.params_per_task(mechanism, n_hidden)
    if ens.params_per_task() != ppt:  # the modulator's own count must agree
        raise RuntimeError(f"{mechanism}: {ens.params_per_task()} != {ppt}")
    runs = [PackingRun(mechanism, n_hidden, k, s, ppt, h.reached, h.steps[-1] if h.steps else 0,
                       h.steps_to_criterion, {t: float(v[-1]) for t, v in h.performance.items()})
            for (k, s), h in zip(members, hists, strict=True)]
    return runs, round(time.perf_counter() - t0, 2)


def run_packing(config: PackingConfig | None = None, quiet: bool = False,
                client=None) -> PackingResult:
    """Train every (mechanism, N, K, seed) network (one ensemble per mechanism and N) and
    collect reached / steps / final performance; see the module docstring.

    client: ``None`` trains the ensembles here, one after the other; a Dask
    ``distributed.Client`` or a scheduler address spreads them over its workers, with the
    same numbers (:mod:`.distributed`)."""
    from tqdm.auto import tqdm

    from .distributed import Unit, connect, describe, run_units

    config = config or PackingConfig.default()
    if not isinstance(config, PackingConfig):
        raise TypeError(f"config must be a PackingConfig, got {type(config).__name__}")
    result = PackingResult(config)
    start = time.perf_counter()
    jobs = [(m, n) for n in config.n_hidden for m in config.mechanisms]
    # larger networks cost more: a cluster starts them first
    units = [Unit(train_packing_job, (config, m, n), f"packing {m} N={n}", priority=n)
             for m, n in jobs]
    bar = tqdm(total=len(units), desc="packing", disable=quiet)

    def done(k, unit):
        bar.set_postfix_str(unit.label.removeprefix("packing "))
        bar.update()

    with connect(client) as cl:
        outputs = run_units(units, cl, done)
        where = describe(cl)
    bar.close()
    for (mechanism, n), (runs, seconds) in zip(jobs, outputs, strict=True):
        result.runs.extend(runs)
        result.wall_time_s[f"{mechanism} N={n}"] = seconds
    total = time.perf_counter() - start
    result.wall_time_s["total"] = round(total, 2)
    result.info = run_info(config.seeds, total, backend="ensemble" + where)
    return result


# ---------------------------------------------------------------- report
def _report(result: PackingResult) -> str:
    c = result.config
    design = (
        f"For each mechanism, network size N and task count K (the first K of "
        f"{', '.join(c.tasks)}), one network per seed is trained -- shared weights and "
        f"modulator together -- with Adam (lr {c.lr:g}), batch {c.batch_size}, at most "
        f"{c.max_steps} steps, evaluated every {c.eval_every} steps on {c.eval_trials} trials "
        f"per task. It reaches K when its worst task is >= {c.criterion:g} (fraction correct). "
        f"Capacity = the largest K of the grid {list(c.task_counts)} that a seed's network "
        f"reached (0 if none). All mechanisms share the initial scale of the context pathway "
        f"(init_std {c.init_std:g}), the learning rate, the budget, the criterion and the seeds "
        f"{list(c.seeds)} (a seed fixes the shared initial weights for every mechanism). "
        f"Trials last {c.timing_scale:g} x the standard epoch durations.")
    rows = [(r["mechanism"], r["n_hidden"], r["params_per_task"], format_ci(r["mean"], r["lo"],
             r["hi"]), r["capacities"]) for r in result.capacity_table()]
    out = [design, "### Capacity (mean [95 % t-interval] over seeds)",
           markdown_table(["mechanism", "N", "context parameters per task", "capacity",
                   "per seed"], rows)]
    steps = []
    for m in c.mechanisms:
        frac = result.reached_fraction(m)
        for i, n in enumerate(c.n_hidden):
            cells = [f"{frac[i, j]:.2f}" for j in range(len(c.task_counts))]
            steps.append((m, n, *cells))
    out += ["### Fraction of seeds reaching the criterion, per (N, K)",
            markdown_table(["mechanism", "N"] + [f"K={k}" for k in c.task_counts], steps)]
    matched = result.matched_table()
    if matched:
        rows = [(r["pair"], r["n_hidden"], r["params_per_task"], format_ci(r["mean"], r["lo"],
                 r["hi"]), f"{r['a_wins']} / {r['b_wins']} / {r['ties']}") for r in matched]
        out += ["### Matched per-task parameter budgets (paired by seed)",
                "Same per-task parameter count, same init_std, same learning rate and "
                "budget; difference of capacities (first - second) per seed.",
                markdown_table(["pair", "N", "parameters per task (each)", "capacity difference",
                        "seeds first > / < / = second"], rows)]
    out += ["### Interpretation", _interpretation(result)]
    return "\n\n".join(out)


def _interpretation(result: PackingResult) -> str:
    c = result.config
    table = result.capacity_table()
    lines = []
    for n in c.n_hidden:
        row = {r["mechanism"]: r for r in table if r["n_hidden"] == n}
        means = ", ".join(f"{m} {row[m]['mean']:.1f}" for m in c.mechanisms)
        lines.append(f"- N = {n}: mean capacity {means}.")
    grow = [m for m in c.mechanisms
            if np.mean(result.capacities(m, c.n_hidden[-1])) >
            np.mean(result.capacities(m, c.n_hidden[0]))]
    if grow:
        lines.append(f"- Capacity grows from N = {c.n_hidden[0]} to N = {c.n_hidden[-1]} for "
                     f"{', '.join(grow)}.")
    robust = [r for r in result.matched_table() if not math.isnan(r["lo"])
              and (r["lo"] > 0 or r["hi"] < 0)]
    if result.matched_table():
        if robust:
            lines.append("- Matched-budget differences whose interval excludes 0: " + "; ".join(
                f"{r['pair']} at N = {r['n_hidden']} ({r['mean']:+.2f})" for r in robust)
                + ". Few seeds and several comparisons: re-test with more seeds (--full).")
        else:
            lines.append("- **No seed-robust capacity difference at matched per-task parameter "
                         "budgets**: every interval includes 0 (or the seeds tie). A null result "
                         "for this size, budget and number of seeds, not proof of equivalence.")
    lines.append("- Mechanisms with different per-task parameter counts (e.g. combined vs rule) "
                 "are not a fair capacity comparison; read them together with the parameter "
                 "column. A fixed step budget also favours mechanisms that learn faster: a "
                 "capacity here is 'within this budget'.")
    return "\n".join(lines)


__all__ = ["PackingConfig", "PackingRun", "PackingResult", "run_packing", "train_packing_job",
           "capacity", "DEFAULT_TASKS", "FULL_TASKS"]
