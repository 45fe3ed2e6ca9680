"""Distributed sweeps: run the ensembles of an experiment on Dask workers.

An experiment's training is a list of **units**, each one ensemble fit exactly as the local run
does it (packing: one per (mechanism, N); initialisation: one per mechanism; ambiguity and
dynamics: one per mechanism). A unit is a top-level function of plain, picklable arguments
(the experiment's config dataclass, names, sizes) that returns plain results (histories,
runs, state dicts). :func:`run_units` runs the list either here, in order (``client=None``:
the ordinary local run), or on a Dask cluster (``client.submit`` per unit, results put back
in the order of the list), so the experiment assembles the same result either way.

Why the numbers are bitwise identical to the local run: every unit builds its networks and
data from seeds in its arguments (never from global random state), runs with one torch
thread and the caller's default dtype, and is the *same* ensemble as locally (members are
never regrouped: with ``data='pooled'`` the trials a network sees depend on the ensemble's
make-up). This holds when the workers run the same versions of neuromodlab, torch and numpy
on CPUs that take the same code paths; a differing torch version on a worker is reported
with a warning. The parallelism is therefore the number of units (e.g. 20 for the full
packing sweep), not the number of networks.

``client`` everywhere (``run_packing(..., client=...)``, ``reproduce(..., client=...)``) is
``None`` (local), a ``distributed.Client`` (used, left open) or a scheduler address such as
``"tcp://10.0.0.5:8786"`` (connected to, closed at the end). Dask is imported only here and
only when a client is given: the library works without it. Setup (LocalCluster, a cluster
scheduler, SLURM through dask-jobqueue): ``docs/distributed.md``.
"""

from __future__ import annotations

import contextlib
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from .._validate import check_int

INSTALL_HINT = 'pip install -e ".[dask]" (or pip install "dask[distributed]")'
CONNECT_TIMEOUT_S = 30.0


class DaskNotInstalled(ImportError):
    """A distributed run was asked for, but ``dask.distributed`` cannot be imported."""


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler answered at the given address within the timeout."""


def require_distributed():
    """The ``distributed`` module, or :class:`DaskNotInstalled` saying how to install it."""
    try:
        import distributed
    except ImportError as err:
        raise DaskNotInstalled("distributed sweeps need Dask distributed, which is not "
                               f"installed here: {INSTALL_HINT}") from err
    return distributed


@dataclass(frozen=True)
class Unit:
    """One unit of work: ``fn(*args)``. ``label`` names it (progress bars, Dask task keys);
    a larger ``priority`` is started earlier on a cluster (put the long ensembles first)."""

    fn: Callable
    args: tuple
    label: str
    priority: int = 0


@contextlib.contextmanager
def connect(client=None, timeout: float | None = None) -> Iterator:
    """``None`` -> ``None``; a ``distributed.Client`` -> itself (left open); an address
    string -> a new Client, closed on exit. Raises :class:`DaskNotInstalled`,
    :class:`SchedulerUnreachable` (nothing answered within ``timeout`` s, default
    ``CONNECT_TIMEOUT_S``), ``ValueError`` (malformed address) or ``TypeError`` (anything
    else)."""
    if client is None:
        yield None
        return
    if isinstance(client, str):
        distributed = require_distributed()
        timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
        try:  # set_as_default=False: do not hijack the caller's own dask computations
            own = distributed.Client(client, timeout=timeout, set_as_default=False)
        except ValueError as err:
            raise ValueError(f"{client!r} is not a Dask scheduler address ({err}); give one "
                             "such as tcp://host:8786") from err
        except OSError as err:
            raise SchedulerUnreachable(
                f"no Dask scheduler answered at {client!r} within {timeout:g} s; start one "
                "(dask scheduler, then dask worker <address> --nthreads 1 on each machine) "
                "and check that this machine can reach its host and port") from err
        try:
            yield own
        finally:
            own.close()
        return
    distributed = require_distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError("client must be None, a dask.distributed Client or a scheduler address "
                        f"string such as 'tcp://host:8786', got {type(client).__name__}")
    yield client


@contextlib.contextmanager
def local_cluster(n_workers: int, **cluster_kwargs) -> Iterator:
    """A Client on a fresh LocalCluster of ``n_workers`` single-threaded worker processes;
    cluster and client are closed on exit. ``cluster_kwargs`` go to ``LocalCluster``."""
    n_workers = check_int(n_workers, "n_workers (Dask worker processes)")
    distributed = require_distributed()
    kwargs = dict(n_workers=n_workers, threads_per_worker=1, processes=True,
                  dashboard_address=":0")  # any free port: 8787 may be taken
    with distributed.LocalCluster(**{**kwargs, **cluster_kwargs}) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


def _versions() -> tuple[str, str, str]:
    import numpy
    import torch

    from .. import __version__

    return __version__, torch.__version__, numpy.__version__


def _remote(fn, args, dtype_name: str):
    """Worker side of a unit: the caller's default dtype, one torch thread; returns the
    result and the worker's versions (checked by the caller)."""
    import torch

    from ..train import torch_threads

    dtype = getattr(torch, dtype_name)
    old = torch.get_default_dtype()
    if dtype != old:  # process-global: only touched when the caller differs from the worker
        torch.set_default_dtype(dtype)
    try:
        with torch_threads(1):
            return fn(*args), _versions()
    finally:
        if dtype != old:
            torch.set_default_dtype(old)


def _check_workers(client) -> None:
    nthreads = client.nthreads()
    if not nthreads:
        warnings.warn("the Dask cluster has no workers yet; the sweep waits until some join",
                      stacklevel=3)
    multi = sorted(n for n in nthreads.values() if n > 1)
    if multi:
        warnings.warn(f"Dask workers with {multi[-1]} threads run several ensembles in one "
                      "process, which share torch's global thread setting; start workers with "
                      "--nthreads 1 (LocalCluster(threads_per_worker=1)) for results bitwise "
                      "identical to a local run", stacklevel=3)


def run_units(units: Sequence[Unit], client=None,
              on_done: Callable[[int, Unit], None] | None = None) -> list:
    """The results of ``units``, in their order. ``client=None``: run them here, one after
    the other; a ``distributed.Client``: submit them all and gather (cancelling the rest if
    one fails). ``on_done(index, unit)`` is called as each finishes (progress)."""
    from ..train import torch_threads

    units = list(units)
    if client is None:
        out = []
        with torch_threads(1):
            for k, unit in enumerate(units):
                out.append(unit.fn(*unit.args))
                if on_done is not None:
                    on_done(k, unit)
        return out
    distributed = require_distributed()
    import torch

    _check_workers(client)
    dtype_name = str(torch.get_default_dtype()).removeprefix("torch.")
    tag = uuid.uuid4().hex[:8]  # fresh keys: a rerun must recompute, never reuse
    futures = [client.submit(_remote, u.fn, u.args, dtype_name, key=f"{u.label}-{tag}-{k}",
                             priority=u.priority) for k, u in enumerate(units)]
    index = {f.key: k for k, f in enumerate(futures)}
    done: list = [None] * len(units)
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            k = index[future.key]
            done[k] = future.result()  # re-raises a unit's exception here
            if on_done is not None:
                on_done(k, units[k])
    finally:
        client.cancel([f for f in futures if not f.done()])
    here = _versions()
    other = sorted({v for _, v in done if v != here})
    if other:
        warnings.warn(f"Dask workers run (neuromodlab, torch, numpy) {other}, this process "
                      f"{here}: the numbers may differ from a local run in the last bits",
                      stacklevel=2)
    return [value for value, _ in done]


def describe(client) -> str:
    """What to add to ``RunInfo.backend``: '' for a local run, ' on dask' otherwise."""
    return "" if client is None else " on dask"


__all__ = ["Unit", "run_units", "connect", "local_cluster", "require_distributed",
           "DaskNotInstalled", "SchedulerUnreachable", "INSTALL_HINT"]
