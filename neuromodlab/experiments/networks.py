"""The networks the ambiguity and dynamics experiments share: one per (mechanism, seed).

:func:`train_networks` trains one mechanism's networks (all seeds at once with
:mod:`neuromodlab.ensemble`, or one after the other with :func:`neuromodlab.train.fit`);
:func:`train_mechanism_job` is that as a unit of plain arguments and results, so that a Dask
worker can run it (:mod:`.distributed`); :func:`train_mechanisms` runs one unit per mechanism,
here or on a cluster, and rebuilds the networks. :class:`NetworkRecord` is how training went,
as stored in the experiments' results. The settings come from an
:class:`~.ambiguity.AmbiguityConfig` (or a subclass such as :class:`~.dynamics.DynamicsConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..ensemble import Ensemble, fit_ensemble
from ..modulation import ModelConfig, ModulatedRNN, build_model
from ..tasks import TaskSet
from ..train import History, fit
from .results import JSONResult

if TYPE_CHECKING:
    from .ambiguity import AmbiguityConfig

BACKENDS = ("auto", "ensemble", "sequential")


@dataclass
class NetworkRecord(JSONResult):
    """One trained network: how training went and its performance per task."""

    mechanism: str
    seed: int
    params_per_task: int
    steps: int
    steps_to_criterion: int | None
    reached: bool
    performance: dict[str, float]
    wall_time_s: float


def train_networks(mechanism: str, seeds, taskset: TaskSet, model_kwargs: dict,
                   train_config, backend: str = "auto", progress=None
                   ) -> list[tuple[ModulatedRNN, History]]:
    """Train one network per seed (model seed = data seed = ``seed``).

    ``train_config(seed) -> TrainConfig``. ``backend="sequential"`` calls
    :func:`neuromodlab.train.fit` per seed; ``"ensemble"`` trains all seeds at once with
    :mod:`neuromodlab.ensemble` (each member follows ``fit`` up to float rounding);
    ``"auto"`` (default) is the ensemble. Either way the same seeds give the same networks on
    the same machine. ``progress``: a tqdm bar updated per network.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    seeds = [int(s) for s in seeds]
    if backend != "sequential":
        config = ModelConfig(mechanism, taskset.n_in, taskset.n_out, taskset.K, **model_kwargs)
        ens = Ensemble(config, seeds)
        histories = fit_ensemble(ens, taskset, train_config(seeds[0]), quiet=True, data="own",
                                 train_seeds=seeds)
        if progress is not None:
            progress.update(len(seeds))
        return [(ens.member(e), h) for e, h in enumerate(histories)]
    out = []
    for seed in seeds:
        model = build_model(mechanism, taskset.n_in, taskset.n_out, taskset.K, seed=seed,
                            **model_kwargs)
        out.append((model, fit(model, taskset, train_config(seed), quiet=True)))
        if progress is not None:
            progress.update()
    return out


def train_mechanism_job(config: AmbiguityConfig, mechanism: str, backend: str = "auto"
                        ) -> list[tuple[ModelConfig, dict, History]]:
    """One unit: :func:`train_networks` for ``mechanism`` and every seed of ``config`` (an
    :class:`AmbiguityConfig` or a subclass), as plain results: per seed the network's
    ModelConfig, its state dict and its History. A top-level function of plain arguments, so
    that a Dask worker can run it (:mod:`.distributed`); :func:`train_mechanisms` rebuilds the
    networks."""
    nets = train_networks(mechanism, config.seeds, config.taskset(), config.model_kwargs(),
                          config.train_config, backend=backend)
    return [(model.config, model.state_dict(), hist) for model, hist in nets]


def _rebuild(model_config: ModelConfig, state: dict) -> ModulatedRNN:
    model = ModulatedRNN(model_config)
    model.to(next(iter(state.values())).dtype)
    model.load_state_dict(state)
    return model


def train_mechanisms(config: AmbiguityConfig, mechanisms, backend: str = "auto", client=None,
                     progress=None) -> dict[str, list[tuple[ModulatedRNN, History]]]:
    """``{mechanism: [(model, History), ...]}`` in ``config.seeds`` order: one unit
    (:func:`train_mechanism_job`) per mechanism, run here (``client=None``) or on a Dask
    cluster (a ``distributed.Client`` or a scheduler address), with the same networks either
    way. ``progress``: a tqdm bar advanced by one per network."""
    from .distributed import Unit, connect, run_units

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    mechanisms = list(mechanisms)
    units = [Unit(train_mechanism_job, (config, m, backend), f"train {m}") for m in mechanisms]

    def done(k, unit):
        if progress is not None:
            progress.update(len(config.seeds))

    with connect(client) as cl:
        outputs = run_units(units, cl, done)
    return {m: [(_rebuild(cfg, state), hist) for cfg, state, hist in nets]
            for m, nets in zip(mechanisms, outputs, strict=True)}


def train_missing(config: AmbiguityConfig, networks: dict | None, backend: str, client,
                  desc: str, quiet: bool) -> tuple[dict, str]:
    """Train the mechanisms of ``config`` that ``networks`` (mechanism -> list of (model,
    history)) lacks, with a progress bar ``desc``; ``client`` as in
    :func:`neuromodlab.experiments.distributed.connect`. Returns (mechanism -> list of
    (model, history) for the newly trained ones, where they were trained)."""
    from tqdm.auto import tqdm

    from .distributed import connect, describe

    todo = [m for m in config.mechanisms if networks is None or m not in networks]
    bar = tqdm(total=len(todo) * len(config.seeds), desc=desc, disable=quiet or not todo,
               leave=False)
    with connect(client) as cl:
        fresh = train_mechanisms(config, todo, backend, cl, progress=bar)
        where = describe(cl)
    bar.close()
    return fresh, where
