"""Neural dynamics under each mechanism: geometry, dimensionality, fixed points, interpolation.

Design (ours; reduced, inspired by Vedovati & Ching 2024 -- only their abstract is known).
For every trained network (one per mechanism and seed, trained exactly as in the ambiguity
experiment, which can hand its networks over), with recurrent and input noise off:

1. **Trajectories.** ``n_trials`` trials per task. PCA of the rates of all tasks together
   (one shared space per network); the first seed's trajectories of ``n_plot`` trials per task
   are kept in the first 3 PCs for figures.
2. **Dimensionality.** Participation ratio of each task's rates (all time steps and trials).
3. **Task subspaces.** Top-``subspace_dim`` PCs of each task's rates; overlap (mean squared
   cosine of the principal angles) between every pair of tasks, and the principal angles
   between the two tasks of ``pair``.
4. **Fixed points per context.** With the fixation-period input (fixation 1, no stimulus) and
   the one-hot context of each task, minimise ``|F(x) - x|^2`` for the network's one-step map
   ``F`` (:func:`neuromodlab.analysis.find_fixed_points`, float64 copy of the network) from
   ``fp_starts`` states sampled from that task's trajectories; count the distinct converged
   points and the stable ones (all Jacobian eigenvalues inside the unit circle).
5. **Interpolation.** For ``fp_trials`` shared trials of ``pair = (i, j)`` (same stimuli, see
   :mod:`.ambiguity`), take the decision-period input of each trial (its last step) and the
   context ``c(l) = (1 - l) e_i + l e_j``. At ``l = 0`` start from the state the network reaches
   at the end of the trial and converge to a fixed point; then follow that fixed point as ``l``
   grows (continuation: each search starts from the previous solution) -- the *forward
   branch*. Likewise from ``l = 1`` downwards -- the *backward branch*. At each ``l`` and for
   each branch we record whether the search converged, whether the point is stable, and what
   the network would answer there (the readout, scored against tasks i and j with the
   library's performance measure). A range of ``l`` where the forward branch still answers i
   and the backward branch already answers j is *bistability* (hysteresis): the context picks
   between coexisting attractors. Without it, one attractor moves continuously. The same is
   done for the fixation-period input to see how far the resting state moves with ``l``.

Entry points: :class:`DynamicsConfig` (``quick()``, ``default()``, ``full()``),
:func:`run_dynamics` -> :class:`DynamicsResult` (JSON round trip; per-trial trajectories are
kept only for the first seed, projected onto 3 PCs). The fixed-point searches and their
continuation (steps 4 and 5) are in :mod:`.fixed_points`; the networks are trained by
:mod:`.networks`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import analysis
from .._validate import check_int, check_number
from ..modulation import ModulatedRNN, mix_context
from ..train import torch_threads
from ._config import name_pairs, task_names
from .ambiguity import AmbiguityConfig, shared_trials
from .fixed_points import Branch, _continue, _float64, _rates_at, _search
from .networks import NetworkRecord, train_missing
from .results import JSONResult, RunInfo, mean_ci, run_info


def _training_preset(preset: dict) -> dict:
    """An ambiguity preset without the probe settings the dynamics experiment does not use."""
    return {k: v for k, v in preset.items()
            if k not in ("pairs", "n_trials", "strengths", "noise_stds")}


@dataclass
class DynamicsConfig(AmbiguityConfig):
    """Training settings as in :class:`AmbiguityConfig` (its fields, same meaning; the blend
    grid ``lambdas`` is the interpolation grid) plus the analysis settings:

    pair: the two tasks interpolated between; n_trials: trials per task for PCA, participation
    ratio and subspaces; n_plot: trials per task kept for figures; subspace_dim: PCs per task
    subspace; fp_starts: starting states per fixed-point search; fp_iters: Adam iterations of
    a fresh search (then 20 Gauss-Newton steps; a continuation step runs only those);
    fp_trials: shared trials whose decision input is used for the interpolation; fp_tol: q(x)
    below which a point counts as fixed. Presets as :class:`AmbiguityConfig`'s (same
    training), with the analysis scaled to match.
    """

    QUICK = dict(_training_preset(AmbiguityConfig.QUICK), n_trials=16, n_plot=4, fp_starts=4,
                 fp_iters=60, fp_trials=2)
    FULL = dict(_training_preset(AmbiguityConfig.FULL), n_trials=128, fp_starts=32,
                fp_iters=600, fp_trials=16)

    pair: tuple[str, str] = ("go", "anti")
    n_plot: int = 8
    subspace_dim: int = 3
    fp_starts: int = 16
    fp_iters: int = 150
    fp_trials: int = 8
    fp_tol: float = 1e-10
    n_trials: int = 64

    def __post_init__(self):
        (self.pair,) = name_pairs((self.pair,), task_names(self.tasks), "pair")
        self.pairs = (self.pair,)  # the inherited field: only this pair is used
        super().__post_init__()
        if self.lambdas[-1] != 1.0:
            raise ValueError(f"lambdas must run from 0 to 1 (both tasks' clean cues), got "
                             f"{self.lambdas}")
        for name in ("n_plot", "subspace_dim", "fp_starts", "fp_trials"):
            setattr(self, name, check_int(getattr(self, name), name))
        self.fp_iters = check_int(self.fp_iters, "fp_iters", minimum=0)
        self.fp_tol = check_number(self.fp_tol, "fp_tol", 0.0, strict=True)
        if self.subspace_dim > self.n_hidden:
            raise ValueError(f"subspace_dim ({self.subspace_dim}) must be <= n_hidden "
                             f"({self.n_hidden})")

    def training_settings(self) -> dict:
        """The settings that determine the trained networks (to reuse another run's)."""
        keys = ("tasks", "mechanisms", "seeds", "n_hidden", "rank", "init_std", "lr",
                "batch_size", "max_steps", "eval_every", "criterion", "n_ring", "stim_noise")
        return {k: getattr(self, k) for k in keys}


# ------------------------------------------------------------------------- per network
@dataclass
class NetworkDynamics(JSONResult):
    """Numbers of one network (see :class:`DynamicsResult`)."""

    participation: dict[str, float]
    explained_variance_3pc: float
    overlap: list[list[float]]
    pair_angles_deg: list[float]
    n_fixed: dict[str, int]
    n_stable: dict[str, int]
    forward: Branch
    backward: Branch
    rest_displacement: list[float]
    rest_stable: list[bool]

    def attractors(self, branch: str) -> list[float]:
        """Per l: fraction of trials whose ``branch`` ("forward" or "backward") is a converged,
        stable fixed point answering its own task (i forward, j backward)."""
        b = getattr(self, branch)
        own = b.follows_i if branch == "forward" else b.follows_j
        return [float(np.mean([c and s and f for c, s, f in zip(cr, sr, fr, strict=True)]))
                for cr, sr, fr in zip(b.converged, b.stable, own, strict=True)]


@dataclass
class Example(JSONResult):
    """Figure material for one network (the first seed of a mechanism), in its 3-PC space.

    Everything is in rate space, projected on the network's 3 PCs: trajectories: task ->
    (T, n_plot, 3) float32; fixed_points: task -> (M, 3) rates at the distinct converged fixed
    points under the fixation input, with ``fixed_stable`` flags; forward / backward: (L, 3)
    path of the first interpolation trial's branches; rest_path: (L, 3) fixation-input fixed
    point along l."""

    explained_variance_ratio: list[float]
    trajectories: dict[str, np.ndarray]
    fixed_points: dict[str, np.ndarray]
    fixed_stable: dict[str, list[bool]]
    forward: np.ndarray
    backward: np.ndarray
    rest_path: np.ndarray


def analyse_network(model: ModulatedRNN, config: DynamicsConfig, taskset, seed: int,
                    keep_example: bool = False):
    """All measurements of one network; returns (NetworkDynamics, Example or None)."""
    names, K = taskset.names, taskset.K
    i, j = config.pair
    ki, kj = names.index(i), names.index(j)
    model.eval()
    rates, states, fix_end = {}, {}, {}
    with torch.no_grad():
        for k, name in enumerate(names):
            batch = taskset.sample_task(k, config.n_trials, seed=20_000 + 97 * seed + k)
            out = model(batch.inputs, batch.context, noise=False)
            rates[name], states[name] = out.rates, out.states
            fix_end[name] = batch.epochs["fixation"][0, 1]
    all_rates = torch.cat([rates[n] for n in names], 1)
    pca = analysis.pca(all_rates, 3)
    participation = {n: analysis.participation_ratio(rates[n]) for n in names}
    bases = {n: analysis.subspace(rates[n], config.subspace_dim) for n in names}
    overlap = analysis.subspace_overlap_matrix(bases).tolist()
    angles = torch.rad2deg(analysis.principal_angles(bases[i], bases[j])).tolist()

    model64 = _float64(model)
    n_in = taskset.n_in
    u_fix = torch.zeros(1, n_in, dtype=torch.float64)
    u_fix[:, 0] = 1.0
    gen = torch.Generator().manual_seed(30_000 + seed)
    n_fixed, n_stable, fixed_examples, stable_examples = {}, {}, {}, {}
    for k, name in enumerate(names):
        flat = states[name].reshape(-1, states[name].shape[-1]).double()
        pick = torch.randperm(flat.shape[0], generator=gen)[: config.fp_starts]
        starts = flat[pick]
        M = starts.shape[0]
        c = torch.zeros(M, K, dtype=torch.float64)
        c[:, k] = 1.0
        fps, stable = _search(model64, u_fix.expand(M, -1), c, starts, config.fp_iters,
                              config.fp_tol)
        good = fps[fps.converged]
        stable_good = stable[fps.converged]
        uniq = good.unique(tol=1e-4) if len(good) else good
        keep = [int(torch.nonzero((good.points == p).all(1))[0]) for p in uniq.points]
        n_fixed[name] = len(uniq)
        n_stable[name] = int(stable_good[keep].sum()) if keep else 0
        fixed_examples[name] = np.zeros((0, 3), np.float32)
        if len(uniq):
            rates_fp = _rates_at(model64, uniq.points, c[: len(uniq)])
            fixed_examples[name] = pca.transform(rates_fp.float()).numpy()
        stable_examples[name] = stable_good[keep].tolist() if keep else []

    # interpolation between the pair's contexts, decision input of shared trials
    batch_i, batch_j, _ = shared_trials(taskset, i, j, config.fp_trials, 40_000 + seed)
    rows = torch.arange(config.fp_trials)
    M = config.fp_trials
    u_dec = batch_i.inputs[-1].double()
    contexts = [mix_context(ki, kj, float(v), K, M).double() for v in config.lambdas]
    with torch.no_grad():
        end_i = model64(batch_i.inputs.double(), contexts[0], noise=False).states[-1]
        end_j = model64(batch_i.inputs.double(), contexts[-1], noise=False).states[-1]
    iters = max(config.fp_iters // 4, 1)
    forward, fwd_path = _continue(model64, u_dec, contexts, end_i, iters, config.fp_tol,
                                 batch_i, batch_j, rows)
    backward_rev, bwd_path = _continue(model64, u_dec, contexts[::-1], end_j, iters,
                                      config.fp_tol, batch_i, batch_j, rows)
    backward = Branch(*(getattr(backward_rev, f.name)[::-1]
                        for f in dataclasses.fields(Branch)))
    # resting state (fixation input) along l, by continuation from the l = 0 fixed point,
    # starting from the state at the end of the fixation epoch of a task-i trial
    rest_start = states[i][int(fix_end[i]) - 1, :1].double()
    rest_contexts = [mix_context(ki, kj, float(v), K, 1).double() for v in config.lambdas]
    rest_path, rest_stable, rest_conv = [], [], []
    x = rest_start
    for c in rest_contexts:
        fps, stable = _search(model64, u_fix, c, x, config.fp_iters if not rest_path else 0,
                              config.fp_tol)
        x = fps.points.detach()
        rest_path.append(x[0])
        rest_conv.append(bool(fps.converged[0]))
        rest_stable.append(bool(stable[0]) and rest_conv[-1])
    rest0 = rest_path[0]
    rest_disp = [float((p - rest0).norm() / rest0.norm().clamp_min(1e-12))
                 if ok and rest_conv[0] else math.nan for p, ok in zip(rest_path, rest_conv,
                                                                      strict=True)]
    numbers = NetworkDynamics(participation, float(pca.explained_variance_ratio.sum()), overlap,
                              angles, n_fixed, n_stable, forward, backward, rest_disp,
                              rest_stable)
    if not keep_example:
        return numbers, None

    def proj(x):
        return pca.transform(x.float()).numpy()

    def proj_path(states_path, ctxs):  # (L, N) fixed points -> their rates on the PCs
        return proj(torch.cat([_rates_at(model64, x[None], c[:1])
                               for x, c in zip(states_path, ctxs, strict=True)]))

    example = Example(
        pca.explained_variance_ratio.tolist(),
        {n: proj(rates[n][:, : config.n_plot]) for n in names},
        fixed_examples, stable_examples,
        forward=proj_path(fwd_path[:, 0], contexts),
        backward=proj_path(bwd_path.flip(0)[:, 0], contexts),
        rest_path=proj_path(torch.stack(rest_path), rest_contexts))
    return numbers, example


# ------------------------------------------------------------------------------ results
def _bistable_fraction(fwd: Branch, bwd: Branch) -> float:
    """Fraction of (l, trial) where the forward branch answers i and the backward branch
    answers j, both converged and stable: coexisting attractors for the two tasks."""
    hits = total = 0
    for k in range(len(fwd.converged)):
        for t in range(len(fwd.converged[k])):
            total += 1
            hits += (fwd.converged[k][t] and fwd.stable[k][t] and fwd.follows_i[k][t]
                     and bwd.converged[k][t] and bwd.stable[k][t] and bwd.follows_j[k][t])
    return hits / max(total, 1)


def _switch_l(x, fractions, forward: bool) -> float:
    """The l at which the fraction of trials with an own-task attractor falls below half of
    its value at the branch's start (l = 0 forward, l = 1 backward), scanning away from the
    start (linear interpolation); NaN if there is none at the start, 1 (forward) or 0
    (backward) if it never falls that low."""
    from .ambiguity import first_crossing

    x, f = (list(x), list(fractions)) if forward else ([-v for v in x[::-1]], fractions[::-1])
    if f[0] <= 0:
        return math.nan
    crossing = first_crossing(x, f, 0.5 * f[0], default=x[-1])
    return crossing if forward else -crossing


@dataclass
class DynamicsResult(JSONResult):
    """What :func:`run_dynamics` measured.

    networks: training records (one per mechanism and seed).
    per_network: mechanism -> list (seeds order) of :class:`NetworkDynamics`.
    examples: mechanism -> :class:`Example` (the first seed) for figures.
    """

    config: DynamicsConfig
    networks: list[NetworkRecord]
    per_network: dict[str, list[NetworkDynamics]]
    examples: dict[str, Example]
    info: RunInfo = field(default_factory=RunInfo)

    def per_seed(self, mechanism: str) -> dict[str, list[float]]:
        """Scalar summaries per network of ``mechanism`` (lists over seeds)."""
        i, j = self.config.pair
        names = list(self.config.tasks)
        ki, kj = names.index(i), names.index(j)
        x = list(self.config.lambdas)
        out: dict[str, list[float]] = {}
        for nd in self.per_network[mechanism]:
            vals = {f"pr_{n}": nd.participation[n] for n in names}
            vals["pr_mean"] = float(np.mean(list(nd.participation.values())))
            vals["overlap_pair"] = nd.overlap[ki][kj]
            off = [nd.overlap[a][b] for a in range(len(names)) for b in range(len(names))
                   if a < b]
            vals["overlap_mean"] = float(np.mean(off)) if off else math.nan
            vals["angle_pair_min_deg"] = nd.pair_angles_deg[0]
            vals["n_fixed_mean"] = float(np.mean(list(nd.n_fixed.values())))
            vals["n_stable_mean"] = float(np.mean(list(nd.n_stable.values())))
            fwd, bwd = nd.attractors("forward"), nd.attractors("backward")
            vals["attractor_i_l0"] = fwd[0]
            vals["attractor_j_l1"] = bwd[-1]
            vals["switch_forward"] = _switch_l(x, fwd, True)
            vals["switch_backward"] = _switch_l(x, bwd, False)
            vals["bistable_fraction"] = _bistable_fraction(nd.forward, nd.backward)
            vals["rest_stable_fraction"] = float(np.mean(nd.rest_stable))
            vals["rest_displacement_end"] = nd.rest_displacement[-1]
            for k, v in vals.items():
                out.setdefault(k, []).append(float(v))
        return out

    def summary(self) -> dict:
        """Mean, 95 % t-interval and n of every per-network scalar, per mechanism."""
        res = {}
        for mech in self.per_network:
            res[mech] = {}
            for k, vals in self.per_seed(mech).items():
                m, lo, hi = mean_ci(vals)
                n = int(np.isfinite(vals).sum())
                res[mech][k] = {"mean": float(m), "lo": float(lo), "hi": float(hi), "n": n}
        return {"metrics": res, "metric_meaning": dict(DYNAMICS_METRICS)}


DYNAMICS_METRICS = {
    "pr_<task>": "participation ratio of the task's rates (dimensions)",
    "pr_mean": "participation ratio averaged over tasks",
    "overlap_pair": "overlap (mean cos^2 of principal angles) of the pair's task subspaces",
    "overlap_mean": "mean overlap over all task pairs",
    "angle_pair_min_deg": "smallest principal angle between the pair's subspaces (deg)",
    "n_fixed_mean": "distinct fixed points per one-hot context, fixation input (mean over tasks)",
    "n_stable_mean": "stable fixed points per one-hot context, fixation input",
    "attractor_i_l0": "fraction of trials whose end state converges to a stable fixed point "
                      "answering task i (decision input, l = 0)",
    "attractor_j_l1": "the same for task j at l = 1",
    "switch_forward": "l where the task-i attractors (continued from l = 0) drop below half",
    "switch_backward": "l where the task-j attractors (continued from l = 1) drop below half",
    "bistable_fraction": "fraction of (l, trial) with an i-attractor and a j-attractor at once",
    "rest_stable_fraction": "fraction of l with a stable resting fixed point (fixation input)",
    "rest_displacement_end": "relative displacement of the resting fixed point from l=0 to l=1 "
                             "(NaN if not converged)",
}


def run_dynamics(config: DynamicsConfig | None = None, quiet: bool = False,
                 networks: dict | None = None, backend: str = "auto",
                 client=None) -> DynamicsResult:
    """Train (or take) networks and analyse their dynamics (see the module docstring).

    networks: optional ``{mechanism: [(model, History), ...]}`` in ``config.seeds`` order,
    trained with the same settings (e.g. ``run_ambiguity(...).trained``). client: ``None``
    trains here; a Dask ``distributed.Client`` or a scheduler address trains on its workers,
    with the same networks (:mod:`.distributed`); the analysis runs here.
    """
    from tqdm.auto import tqdm

    config = config or DynamicsConfig.default()
    start = time.perf_counter()
    taskset = config.taskset()
    clean = config.taskset(stim_noise=0.0)  # analysis trials: no input noise either
    shared_trials(taskset, *config.pair, 2, 0)  # fail early on a non-conflicting pair
    records, per_network, examples = [], {}, {}
    total = len(config.mechanisms) * len(config.seeds)
    fresh, where = train_missing(config, networks, backend, client,
                                 "dynamics: training networks", quiet)
    bar = tqdm(total=total, desc="dynamics: analysing networks", disable=quiet, leave=False)
    with torch_threads(1):
        for mech in config.mechanisms:
            nets = fresh[mech] if mech in fresh else networks[mech]
            per_network[mech] = []
            for n, (seed, (model, hist)) in enumerate(zip(config.seeds, nets, strict=True)):
                records.append(NetworkRecord(
                    mech, seed, model.params_per_task(), hist.steps[-1] if hist.steps else 0,
                    hist.steps_to_criterion, hist.reached, hist.final_performance,
                    hist.wall_time))
                numbers, example = analyse_network(model, config, clean, seed,
                                                   keep_example=n == 0)
                per_network[mech].append(numbers)
                if example is not None:
                    examples[mech] = example
                bar.update()
    bar.close()
    used = ("sequential" if backend == "sequential" else "ensemble") + where
    return DynamicsResult(config, records, per_network, examples,
                          run_info(config.seeds, time.perf_counter() - start, used))
