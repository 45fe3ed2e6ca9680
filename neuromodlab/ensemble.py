"""Ensembles: E independent networks with stacked parameters, run and trained at once.

Member ``e`` of ``Ensemble(config, seeds)`` is exactly ``ModulatedRNN(replace(config,
seed=seeds[e]))``: same initial weights, same equation (:mod:`neuromodlab.rnn`). Parameters
carry a leading member axis: ``W_rec`` (E, N, N), ``W_in`` (E, N, n_in), ``G``/``B``/``W_rule``
(E, N, K), ``left``/``right`` (E, N, K R), ... Shapes: inputs (E, T, B, n_in) or (T, B, n_in)
(shared by all members), context (E, B, K) or (B, K); outputs, rates, states (E, T, B, .).

Speed: at our sizes one network's time step is a handful of tiny ops whose fixed cost
dominates. Here each time step is still a handful of ops, but each is a batched matmul
(``torch.baddbmm``) or elementwise op over all E members, and the backward pass through time
is hand-written (:mod:`neuromodlab.ensemble_rollout`, the batched version of
:mod:`neuromodlab.bptt`; ``fused=False`` gives the plain autograd loop the tests compare
against). Whole-sequence products (input weights, readout, weight gradients) are one batched
matmul over (E, T * B, .) blocks.

Training (:func:`fit_ensemble`): the loss is the SUM of member losses (member e's gradient is
its own), gradient-norm clipping is per member, Adam is elementwise (so stacking does not
couple members), and a member that reaches the criterion stops: it is no longer run, its
parameters and Adam moments stay frozen. Members that are still running always share the
same Adam step count, so they follow ``train.fit`` exactly (up to float rounding).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, replace

import numpy as np
import torch
from torch import nn

from .ensemble_rollout import readout, rollout
from .modulation import ModelConfig, ModulatedRNN
from .rnn import RNNOutput
from .tasks import TaskSet, performance_by_task
from .train import History, TrainConfig, torch_threads

DATA_MODES = ("own", "pooled")
_MAX_EVAL_ROWS = 4096  # members x trials per evaluation forward pass (bounds memory)


# ---------------------------------------------------------------- the ensemble
def _check_seeds(seeds) -> tuple:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a sequence of ints, got {seeds!r}")
    if len(seeds) == 0:
        raise ValueError("seeds is empty: an ensemble needs at least one member")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer))]
    if bad:
        raise TypeError(f"seeds must be ints, got {bad}")
    return tuple(int(s) for s in seeds)


class Ensemble(nn.Module):
    """E networks with one :class:`ModelConfig` that differ only in ``seed``.

    Parameters are named as in the single network without their prefix (``W_in``, ``W_rec``,
    ``b``, ``W_out``, ``b_out``, ``W_rule``, ``G``, ``B``, ``left``, ``right``) and stacked along
    a leading member axis.
    """

    fused = True

    def __init__(self, config: ModelConfig, seeds: Sequence[int]):
        super().__init__()
        seeds = _check_seeds(seeds)
        self._setup(config, seeds, [ModulatedRNN(replace(config, seed=s)) for s in seeds])

    @classmethod
    def from_models(cls, models: Sequence[ModulatedRNN]) -> Ensemble:
        """Stack trained or fresh networks that share everything but the seed."""
        models = list(models)
        if not models:
            raise ValueError("models is empty: an ensemble needs at least one member")
        if not all(isinstance(m, ModulatedRNN) for m in models):
            raise TypeError("from_models expects ModulatedRNN instances")
        ref = {k: v for k, v in asdict(models[0].config).items() if k != "seed"}
        for i, m in enumerate(models[1:], 1):
            cfg = {k: v for k, v in asdict(m.config).items() if k != "seed"}
            diff = sorted(k for k in ref if ref[k] != cfg[k])
            if diff:
                raise ValueError(f"model {i} differs from model 0 in {diff}; ensemble members "
                                 "may differ only in seed")
            if [(n, p.shape) for n, p in m.named_parameters()] != [
                    (n, p.shape) for n, p in models[0].named_parameters()]:
                raise ValueError(f"model {i} has different parameters from model 0")
        obj = cls.__new__(cls)
        nn.Module.__init__(obj)
        obj._setup(models[0].config, tuple(m.config.seed for m in models), models)
        return obj

    def _setup(self, config, seeds, models):
        self.config = config
        self.seeds = seeds
        self._paths = {}  # short name -> name in ModulatedRNN
        for full, _ in models[0].named_parameters():
            short = full.rsplit(".", 1)[-1]
            if short in self._paths:
                raise ValueError(f"two parameters are called {short!r}")
            self._paths[short] = full
            stacked = torch.stack([m.get_parameter(full).detach() for m in models]).clone()
            self.register_parameter(short, nn.Parameter(stacked))
        self.alpha = config.dt / config.tau
        self.noise_std = math.sqrt(2 * self.alpha) * config.sigma_rec

    def __len__(self) -> int:
        return len(self.seeds)

    def member(self, e: int) -> ModulatedRNN:
        """A copy of member ``e`` as a stand-alone network."""
        if not -len(self) <= e < len(self):
            raise IndexError(f"member index {e} out of range for {len(self)} members")
        model = ModulatedRNN(replace(self.config, seed=self.seeds[e]))
        model.to(self.W_rec.dtype)
        model.load_state_dict({full: getattr(self, s)[e].detach().clone()
                               for s, full in self._paths.items()})
        return model

    def members(self) -> list[ModulatedRNN]:
        return [self.member(e) for e in range(len(self))]

    def params_per_task(self) -> int:
        return self.member(0).params_per_task()

    # ---- forward
    def _params(self) -> dict:
        return {s: getattr(self, s) for s in self._paths}

    def _effect(self, p: dict, context):
        """Batched ContextEffect fields for context (E, B, K)."""
        eff = {}
        if "W_rule" in p:
            eff["drive"] = torch.bmm(context, p["W_rule"].transpose(1, 2))
        if "G" in p:
            eff["gain"] = 1 + torch.bmm(context, p["G"].transpose(1, 2))
        if "B" in p:
            eff["bias"] = torch.bmm(context, p["B"].transpose(1, 2))
        if "left" in p:
            eff.update(left=p["left"], right=p["right"],
                       coef=context.repeat_interleave(self.config.rank, dim=2))
        return eff

    def _noise(self, shape, dtype, generator, E):
        """(E, T, B, N) noise; member e draws ``randn(T, B, N)`` from its generator, which is
        what the single network draws (a single generator or None: members draw in turn)."""
        gens = generator if isinstance(generator, (list, tuple)) else [generator] * E
        if len(gens) != E:
            raise ValueError(f"got {len(gens)} generators for {E} members")
        xi = torch.empty((E,) + shape, dtype=dtype)
        for e, g in enumerate(gens):
            torch.randn(shape, generator=g, dtype=dtype, out=xi[e])
        return xi

    def _run(self, p: dict, inputs, context, x0=None, generator=None, noise=True,
             fused=None):
        """Core: inputs (E, T, B, n_in) or (T, B, n_in), context (E, B, K) -> outputs,
        rates, states (E, T, B, .)."""
        E, N = p["W_rec"].shape[0], self.config.n_hidden
        T, B = inputs.shape[-3], context.shape[1]
        flat = inputs.reshape(-1, T * B, inputs.shape[-1])  # (E or 1, T B, n_in)
        if flat.shape[0] == 1:
            drives = torch.matmul(flat[0], p["W_in"].transpose(1, 2)) + p["b"][:, None]
        else:
            drives = torch.baddbmm(p["b"][:, None], flat, p["W_in"].transpose(1, 2))
        drives = drives.view(E, T, B, N)  # a fresh tensor: the adds below can be in place
        eff = self._effect(p, context)
        if "drive" in eff:
            drives.add_(eff["drive"][:, None])
        if noise and self.config.sigma_rec > 0:
            xi = self._noise((T, B, N), drives.dtype, generator, E)
            drives.add_(xi, alpha=self.noise_std / self.alpha)
        x = drives.new_zeros(E, B, N) if x0 is None else x0
        gain, bias = eff.get("gain"), eff.get("bias")
        left, right, coef = eff.get("left"), eff.get("right"), eff.get("coef")
        states, rates = rollout(x, drives, p["W_rec"], gain, bias, left, right, coef,
                                self.alpha, self.config.activation,
                                fused=self.fused if fused is None else fused)
        return readout(rates, p["W_out"], p["b_out"]), rates, states

    def forward(self, inputs, context, x0=None, generator=None, noise=True,
                fused: bool | None = None) -> RNNOutput:
        """inputs (E, T, B, n_in) or (T, B, n_in); context (E, B, K) or (B, K); x0 (E, B, N);
        generator: None, one ``torch.Generator`` or a list of E (member e's noise is then
        what the single network draws from ``generator[e]``). Returns (E, T, B, .) tensors."""
        E, cfg = len(self), self.config
        inputs = self._check("inputs", inputs, (E, None, None, cfg.n_in))
        context = self._check("context", context, (E, None, cfg.n_contexts))
        B = inputs.shape[-2]
        if context.ndim == 2:
            context = context.expand(E, *context.shape)
        if context.shape[1] != B:
            raise ValueError(f"context has {context.shape[1]} trials, inputs have {B}")
        if x0 is not None and tuple(x0.shape) != (E, B, cfg.n_hidden):
            raise ValueError(f"x0 must have shape {(E, B, cfg.n_hidden)}, got {tuple(x0.shape)}")
        return RNNOutput(*self._run(self._params(), inputs, context, x0, generator, noise,
                                    fused))

    @staticmethod
    def _check(name, t, shape):
        """t must match ``shape`` (None = any size) or ``shape`` without its member axis."""
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor")

        def fits(s):
            return t.ndim == len(s) and all(w is None or w == v
                                            for w, v in zip(s, t.shape, strict=True))
        if not (fits(shape) or fits(shape[1:])):
            pretty = tuple("*" if s is None else s for s in shape)
            raise ValueError(f"{name} must have shape {pretty} or {pretty[1:]}, "
                             f"got {tuple(t.shape)}")
        return t


# ---------------------------------------------------------------- training
class _MemberAdam:
    """Adam (torch's single-tensor formulas, so updates equal ``torch.optim.Adam``'s) over
    stacked parameters, updating only the active members. Active members always share one step
    count: members only ever stop, and all start at step 0."""

    def __init__(self, params, lr, weight_decay=0.0, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.wd, self.betas, self.eps = params, lr, weight_decay, betas, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.steps = 0

    @torch.no_grad()
    def step(self, grads, idx=None):
        self.steps += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1 ** float(self.steps))
        bc2_sqrt = (1 - b2 ** float(self.steps)) ** 0.5
        for p, m, v, g in zip(self.params, self.m, self.v, grads, strict=True):
            pa, ma, va = (p, m, v) if idx is None else (p[idx], m[idx], v[idx])
            if self.wd:
                g = g.add(pa, alpha=self.wd)
            ma.lerp_(g, 1 - b1)
            va.mul_(b2).addcmul_(g, g, value=1 - b2)
            pa.addcdiv_(ma, (va.sqrt() / bc2_sqrt).add_(self.eps), value=-step_size)
            if idx is not None:
                p.index_copy_(0, idx, pa)
                m.index_copy_(0, idx, ma)
                v.index_copy_(0, idx, va)


def _member_losses(outputs, targets, mask):
    """(E,) losses: ``train.masked_loss`` of each member, for (E, T, B, n_out) tensors."""
    return (mask * (outputs - targets) ** 2).sum((1, 2, 3)) / mask.sum((1, 2, 3))


def _clip_per_member(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_ applied to each member separately (leading axis)."""
    A = grads[0].shape[0]
    norms = torch.stack([torch.linalg.vector_norm(g.reshape(A, -1), dim=1) for g in grads])
    total = torch.linalg.vector_norm(norms, dim=0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.view((A,) + (1,) * (g.ndim - 1)))


def _pooled_batch(taskset: TaskSet, A: int, B: int, rng, subsets=None):
    """A independent, task-balanced, shuffled batches of B trials from ONE stream: each task is
    drawn once for all members (few large draws instead of A small ones). ``subsets[a]``: the
    task indices member a trains on (default: all), balanced as ``TaskSet.sample`` does."""
    K = taskset.K
    subsets = [range(K)] * A if subsets is None else subsets
    counts = np.zeros((A, K), dtype=np.int64)
    for a, sub in enumerate(subsets):
        for i, k in enumerate(sub):
            counts[a, k] = B // len(sub) + (i < B % len(sub))
    totals = counts.sum(0)
    parts = [taskset.sample_task(k, int(totals[k]), rng) for k in range(K) if totals[k] > 0]
    starts = np.zeros((A, K), dtype=np.int64)  # where member a's trials of task k begin
    offset = 0
    for k in range(K):
        starts[:, k] = offset + np.cumsum(counts[:, k]) - counts[:, k]
        offset += totals[k]
    index = np.stack([np.concatenate([starts[a, k] + np.arange(counts[a, k]) for k in range(K)])
                      for a in range(A)])  # (A, B): member a's trials of its tasks
    index = rng.permuted(index, axis=1)  # shuffled within each member's batch
    flat = torch.from_numpy(index.reshape(-1))
    T = taskset.T
    data = {k: torch.cat([getattr(p, k) for p in parts], 1).index_select(1, flat)
            .view(T, A, B, -1).transpose(0, 1).contiguous() for k in ("inputs", "targets", "mask")}
    ids = torch.cat([p.task_ids for p in parts])[flat].view(A, B)
    return data, torch.eye(K, dtype=data["inputs"].dtype)[ids]


def _check_member_tasks(member_tasks, taskset, E, data) -> list:
    if data != "pooled":
        raise ValueError("member_tasks needs data='pooled' (members then share one stream)")
    if len(member_tasks) != E:
        raise ValueError(f"got {len(member_tasks)} member_tasks for {E} members")
    subsets = []
    for e, tasks in enumerate(member_tasks):
        if isinstance(tasks, str) or len(tasks) == 0:
            raise ValueError(f"member_tasks[{e}] must be a non-empty list of task names")
        unknown = [t for t in tasks if t not in taskset.names]
        if unknown or len(set(tasks)) != len(tasks):
            raise ValueError(f"member_tasks[{e}] = {list(tasks)}: tasks must be distinct "
                             f"names from {list(taskset.names)}")
        subsets.append([taskset.names.index(t) for t in tasks])
    return subsets


def _own_batch(taskset, B, rngs):
    batches = [taskset.sample(B, rng) for rng in rngs]
    data = {k: torch.stack([getattr(b, k) for b in batches]) for k in ("inputs", "targets", "mask")}
    return data, torch.stack([b.context for b in batches])


@torch.no_grad()
def _evaluate(ens, p, idx, eval_sets, eval_seeds):
    """Per active member: {task: fraction correct} on its fixed evaluation trials/noise (all
    tasks of the set; the caller keeps the member's own)."""
    A = len(idx)
    perfs = [None] * A
    rows = max(1, _MAX_EVAL_ROWS // eval_sets[0].batch_size)
    for lo in range(0, A, rows):
        sl = list(range(lo, min(A, lo + rows)))
        batches = [eval_sets[int(idx[i])] for i in sl]
        sub = {k: v[sl] for k, v in p.items()}
        dtype = p["W_rec"].dtype
        inputs = torch.stack([b.inputs for b in batches]).to(dtype)
        context = torch.stack([b.context for b in batches]).to(dtype)
        gens = [torch.Generator().manual_seed(eval_seeds[int(idx[i])]) for i in sl]
        out = ens._run(sub, inputs, context, generator=gens)[0]
        for j, i in enumerate(sl):
            perfs[i] = performance_by_task(out[j], batches[j])
    return perfs


def fit_ensemble(ensemble: Ensemble, taskset: TaskSet, config: TrainConfig | None = None,
                 quiet: bool = False, data: str = "own",
                 train_seeds: Sequence[int] | None = None,
                 member_tasks: Sequence[Sequence[str]] | None = None) -> list[History]:
    """Train all members at once; member e stops when its worst task reaches the criterion.

    ``train_seeds`` (default: the members' model seeds) plays the role of ``TrainConfig.seed``
    for each member. ``data='own'``: member e draws its batches from its own stream, exactly
    as ``fit(ensemble.member(e), taskset, replace(config, seed=train_seeds[e]))`` would, and
    reproduces that run up to float rounding. ``data='pooled'`` (faster): each step draws the
    trials of all running members from one stream seeded by ``config.seed`` and deals them
    out (independent, task-balanced batches; evaluation trials shared, seed
    ``config.seed + 7919``); noise generators stay per member.
    ``member_tasks`` (pooled only): member e trains on, and is judged by, only the tasks
    ``member_tasks[e]`` of the set (the context still has ``taskset.K`` entries; the others
    stay 0). Returns one History per member (``wall_time`` = the ensemble's elapsed time when
    that member stopped).
    """
    from tqdm.auto import tqdm

    config = config or TrainConfig()
    E, mc = len(ensemble), ensemble.config
    if data not in DATA_MODES:
        raise ValueError(f"data must be one of {DATA_MODES}, got {data!r}")
    if mc.n_contexts != taskset.K:
        raise ValueError(f"the ensemble expects contexts of length {mc.n_contexts}, the task "
                         f"set has K = {taskset.K} tasks")
    if mc.n_in != taskset.n_in or mc.n_out != taskset.n_out:
        raise ValueError(f"the ensemble has n_in={mc.n_in}, n_out={mc.n_out}; the task set "
                         f"needs n_in={taskset.n_in}, n_out={taskset.n_out}")
    seeds = _check_seeds(ensemble.seeds if train_seeds is None else train_seeds)
    if len(seeds) != E:
        raise ValueError(f"got {len(seeds)} train_seeds for {E} members")
    subsets = None if member_tasks is None else _check_member_tasks(member_tasks, taskset, E,
                                                                    data)
    names = list(ensemble._paths)
    params = [getattr(ensemble, n) for n in names]
    opt = _MemberAdam(params, config.lr, config.weight_decay)
    noise_gens = [torch.Generator().manual_seed(s + 1) for s in seeds]
    eval_seeds = [s + 7919 for s in seeds]  # evaluation noise (and trials with data='own')
    if data == "own":
        rngs = [np.random.default_rng(s) for s in seeds]
        eval_sets = [taskset.sample(config.eval_trials * taskset.K, s) for s in eval_seeds]
    else:
        rng = np.random.default_rng(config.seed)
        eval_sets = [taskset.sample(config.eval_trials * taskset.K, config.seed + 7919)] * E
    dtype = params[0].dtype
    names_of = [list(taskset.names) if subsets is None else [taskset.names[k] for k in sub]
                for sub in (subsets or [None] * E)]
    hists = [History(n, performance={t: [] for t in n}) for n in names_of]
    active = list(range(E))
    start = time.perf_counter()
    bar = tqdm(range(1, config.max_steps + 1), disable=quiet, desc=f"ensemble x{E}",
               leave=False)
    with torch_threads(config.num_threads):
        for step in bar:
            A = len(active)
            idx = None if A == E else torch.tensor(active)
            leaves = params if idx is None else [
                p.detach().index_select(0, idx).requires_grad_() for p in params]
            p = dict(zip(names, leaves, strict=True))
            if data == "own":
                batch, context = _own_batch(taskset, config.batch_size,
                                            [rngs[e] for e in active])
            else:
                batch, context = _pooled_batch(
                    taskset, A, config.batch_size, rng,
                    None if subsets is None else [subsets[e] for e in active])
            batch = {k: v.to(dtype) for k, v in batch.items()}
            out = ensemble._run(p, batch["inputs"], context.to(dtype),
                                generator=[noise_gens[e] for e in active])[0]
            losses = _member_losses(out, batch["targets"], batch["mask"])
            grads = list(torch.autograd.grad(losses.sum(), leaves))
            if config.clip is not None:
                _clip_per_member(grads, config.clip)
            opt.step(grads, idx)
            for e, loss in zip(active, losses.tolist(), strict=True):
                hists[e].steps.append(step)
                hists[e].loss.append(loss)
            if step % config.eval_every == 0 or step == config.max_steps:
                with torch.no_grad():
                    sub = {n: v.detach() for n, v in zip(names, leaves, strict=True)}
                    if idx is not None:  # the updated values of the running members
                        sub = {n: getattr(ensemble, n).detach()[idx] for n in names}
                perfs = _evaluate(ensemble, sub, active, eval_sets, eval_seeds)
                done = []
                perfs = [{t: perf[t] for t in hists[e].task_names}
                         for e, perf in zip(active, perfs, strict=True)]
                for e, perf in zip(active, perfs, strict=True):
                    h = hists[e]
                    h.eval_steps.append(step)
                    for name, v in perf.items():
                        h.performance[name].append(v)
                    if min(perf.values()) >= config.criterion:
                        h.steps_to_criterion = step
                        h.wall_time = time.perf_counter() - start
                        done.append(e)
                active = [e for e in active if e not in done]
                bar.set_postfix(running=len(active),
                                min_perf=f"{min(min(q.values()) for q in perfs):.2f}")
                if not active:
                    break
    for e in active:
        hists[e].wall_time = time.perf_counter() - start
    return hists
