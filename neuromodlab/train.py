"""Training: the masked loss, evaluation per task, ``fit`` with early stopping, checkpoints.

``fit`` trains with Adam on mixed-task batches from a :class:`~neuromodlab.tasks.TaskSet` and
stops as soon as the *worst* task reaches the criterion (performance measured on held-out
trials every ``eval_every`` steps). Randomness: the data stream, the recurrent noise and the
evaluation trials each come from generators derived from ``TrainConfig.seed``.
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ._validate import check_int, check_number
from .modulation import ModelConfig, ModulatedRNN
from .tasks import TaskSet, performance_by_task


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch's global generators (for notebooks; the library itself
    always passes explicit generators)."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (notebook code may use the legacy global RNG)
    torch.manual_seed(seed)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Temporarily set torch's intra-op thread count. One thread is the default for training:
    at these sizes a second thread gave no speed-up here and made runs stall when another
    process shared the machine (see BENCHMARKS.md)."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def masked_loss(outputs, targets, mask):
    """Weighted mean squared error: sum(mask * (y - y*)^2) / sum(mask)."""
    for name, t in (("outputs", outputs), ("targets", targets), ("mask", mask)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if outputs.shape != targets.shape or outputs.shape != mask.shape:
        raise ValueError("outputs, targets and mask must have the same shape, got "
                         f"{tuple(outputs.shape)}, {tuple(targets.shape)}, {tuple(mask.shape)}")
    total = mask.sum()
    if total <= 0:
        raise ValueError("mask is zero everywhere: nothing to fit")
    return (mask * (outputs - targets) ** 2).sum() / total


@dataclass
class TrainConfig:
    lr: float = 1e-3
    batch_size: int = 64
    max_steps: int = 2000
    eval_every: int = 100
    eval_trials: int = 64  # per task
    criterion: float = 0.9
    clip: float | None = 1.0
    weight_decay: float = 0.0
    seed: int = 0
    num_threads: int | None = 1

    def __post_init__(self):
        for name in ("batch_size", "max_steps", "eval_every", "eval_trials"):
            setattr(self, name, check_int(getattr(self, name), f"TrainConfig.{name}"))
        self.seed = check_int(self.seed, "TrainConfig.seed", 0)
        self.lr = check_number(self.lr, "TrainConfig.lr", 0, strict=True)
        self.criterion = check_number(self.criterion, "TrainConfig.criterion", 0, 1)
        self.weight_decay = check_number(self.weight_decay, "TrainConfig.weight_decay", 0)
        if self.clip is not None:  # a negative max norm would flip the gradients' sign
            self.clip = check_number(self.clip, "TrainConfig.clip (or None)", 0, strict=True)
        if self.num_threads is not None:
            self.num_threads = check_int(self.num_threads, "TrainConfig.num_threads (or None)")


@dataclass
class History:
    """What happened during ``fit``: losses every step, performance per task at evaluations."""

    task_names: list[str]
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    performance: dict[str, list[float]] = field(default_factory=dict)
    steps_to_criterion: int | None = None
    wall_time: float = 0.0

    @property
    def reached(self) -> bool:
        return self.steps_to_criterion is not None

    @property
    def final_performance(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.performance.items() if v}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**d)


@torch.no_grad()
def evaluate(model: ModulatedRNN, taskset: TaskSet, n_trials: int = 64, seed: int = 12345,
             noise: bool = True) -> dict[str, float]:
    """Fraction correct per task on ``n_trials`` fresh trials of each task."""
    n_trials = check_int(n_trials, "n_trials")
    batch = taskset.sample(n_trials * taskset.K, seed)
    gen = torch.Generator().manual_seed(seed)
    out = model(batch.inputs, batch.context, generator=gen, noise=noise)
    return performance_by_task(out.outputs, batch)


def fit(model: ModulatedRNN, taskset: TaskSet, config: TrainConfig | None = None,
        parameters=None, quiet: bool = False) -> History:
    """Train ``model`` on ``taskset``; stop early when min over tasks >= ``config.criterion``.

    ``parameters``: what to train (default: everything). Returns a :class:`History`.
    """
    from tqdm.auto import tqdm

    config = TrainConfig() if config is None else config
    for name, value, cls in (("taskset", taskset, TaskSet), ("config", config, TrainConfig)):
        if not isinstance(value, cls):
            raise TypeError(f"fit: {name} must be a {cls.__name__}, got {type(value).__name__}")
    if model.config.n_contexts != taskset.K:
        raise ValueError(f"model expects contexts of length {model.config.n_contexts}, "
                         f"the task set has K = {taskset.K} tasks")
    if model.config.n_in != taskset.n_in or model.config.n_out != taskset.n_out:
        raise ValueError(f"model has n_in={model.config.n_in}, n_out={model.config.n_out}; "
                         f"the task set needs n_in={taskset.n_in}, n_out={taskset.n_out}")
    params = [p for p in (parameters if parameters is not None else model.parameters())
              if p.requires_grad]
    if not params:
        raise ValueError("no trainable parameters were given to fit()")
    opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    rng = np.random.default_rng(config.seed)
    noise_gen = torch.Generator().manual_seed(config.seed + 1)
    hist = History(list(taskset.names), performance={n: [] for n in taskset.names})
    start = time.perf_counter()
    bar = tqdm(range(1, config.max_steps + 1), disable=quiet, desc="training", leave=False)
    with torch_threads(config.num_threads):
        for step in bar:
            batch = taskset.sample(config.batch_size, rng)
            out = model(batch.inputs, batch.context, generator=noise_gen)
            loss = masked_loss(out.outputs, batch.targets, batch.mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.clip is not None:
                torch.nn.utils.clip_grad_norm_(params, config.clip)
            opt.step()
            hist.steps.append(step)
            hist.loss.append(loss.item())
            if step % config.eval_every == 0 or step == config.max_steps:
                perf = evaluate(model, taskset, config.eval_trials, seed=config.seed + 7919)
                hist.eval_steps.append(step)
                for name, p in perf.items():
                    hist.performance[name].append(p)
                worst = min(perf.values())
                bar.set_postfix(loss=f"{hist.loss[-1]:.4f}", min_perf=f"{worst:.2f}")
                if worst >= config.criterion:
                    hist.steps_to_criterion = step
                    break
    hist.wall_time = time.perf_counter() - start
    return hist


# ---------------------------------------------------------------- checkpoints
def save_checkpoint(path, model: ModulatedRNN, history: History | None = None,
                    meta: dict | None = None) -> Path:
    """Save weights, the model config, the history and free-form metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": asdict(model.config), "state_dict": model.state_dict(),
                "history": None if history is None else history.to_dict(),
                "meta": meta or {}}, path)
    return path


def load_checkpoint(path) -> tuple[ModulatedRNN, History | None, dict]:
    """Rebuild a model saved by :func:`save_checkpoint` (safe ``weights_only`` load)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    blob = torch.load(path, weights_only=True)
    model = ModulatedRNN(ModelConfig(**blob["config"]))
    model.load_state_dict(blob["state_dict"])
    hist = None if blob["history"] is None else History.from_dict(blob["history"])
    return model, hist, blob["meta"]
