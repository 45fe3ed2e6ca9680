"""One command for every reduced experiment: ``python -m neuromodlab reproduce``.

Runs ambiguity, packing, initialisation and dynamics (reduced versions inspired by Vedovati &
Ching 2024), writes into ``out``:

- ``report.md``: design, settings, seeds, numbers with 95 % intervals, figures, interpretation;
- ``results.json``: settings, seeds, headline numbers, wall time per experiment, versions;
- ``figures/*.png`` and ``data/<experiment>.json`` (the full result objects, loadable with
  ``AmbiguityResult.load`` etc.).

Modes: ``quick`` (smoke run, about a minute), ``default`` (<= 10 minutes on 2 CPU cores),
``full`` (larger sweeps; its expected time is printed first). With ``jobs=2`` (the default on
a machine with two or more CPUs) packing and initialisation run in a second process. The same
seed gives the same numbers (wall times aside), whatever ``jobs``. The output folder must be
new, empty, or a previous output of this command; nothing else is overwritten.

With ``client`` (a Dask ``distributed.Client`` or a scheduler address; on the command line
``--scheduler ADDRESS`` or ``--dask-workers N``) the ensembles of every experiment train on
Dask workers, with the same numbers (:mod:`.distributed`, ``docs/distributed.md``).

Packing and initialisation plug in through a small protocol (``PLUGINS``): a module
``neuromodlab.experiments.<name>`` with a config class (``quick()``, ``default()``,
``full()``), a ``run_<name>(config, quiet=..., client=...)`` function (``client`` is only
passed when one is given) and a result with ``to_json()``,
``summary() -> dict`` (headline numbers), ``report_markdown() -> str`` (its report section)
and ``figures() -> dict[str, Figure]``. Ambiguity and dynamics share networks, so their
sections are written by :mod:`.report`, which assembles ``report.md``; this module runs the
experiments (order, second process, Dask client), manages the output folder and writes
``results.json``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import time
from pathlib import Path

from .report import report_markdown
from .results import dumps, run_info, to_jsonable

EXPERIMENTS = ("ambiguity", "packing", "initialisation", "dynamics")
MODES = ("quick", "default", "full")
# CPU-minutes per experiment on one unloaded core (measured here; packing and initialisation:
# their authors' estimates); the wall time is about the sum with --jobs 1, less with 2.
EXPECTED_MINUTES = {
    "quick": {"ambiguity": 0.2, "packing": 0.1, "initialisation": 0.05, "dynamics": 0.2},
    "default": {"ambiguity": 1.5, "packing": 2.8, "initialisation": 1.6, "dynamics": 0.5},
    "full": {"ambiguity": 12.0, "packing": 80.0, "initialisation": 35.0, "dynamics": 5.0},
}
GENERATOR = "neuromodlab reproduce"
PLUGINS = {  # name -> (module, config class, run function)
    "packing": ("packing", "PackingConfig", "run_packing"),
    "initialisation": ("initialisation", "InitialisationConfig", "run_initialisation"),
}


class OutputError(ValueError):
    """The output folder cannot be used (an existing file, or a folder with other files)."""


def prepare_output(out) -> Path:
    """Check ``out`` and create it: it must not be a file, and an existing folder must be empty
    or hold a previous output of this command (its ``results.json`` says so)."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out {str(out)!r} exists and is not a folder; give a new folder")
    if path.is_dir():
        entries = [p for p in path.iterdir() if p.name not in (".DS_Store",)]
        if entries and not _is_previous_output(path):
            raise OutputError(
                f"--out {str(out)!r} is a folder that already holds other files and no "
                "previous reproduce output (results.json); choose a new or empty folder, "
                "nothing was written")
    try:
        (path / "figures").mkdir(parents=True, exist_ok=True)
        (path / "data").mkdir(exist_ok=True)
    except OSError as err:
        raise OutputError(f"--out {str(out)!r} cannot be created: {err}") from err
    return path


def _is_previous_output(path: Path) -> bool:
    try:
        return json.loads((path / "results.json").read_text()).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def _with_seed(config, seed: int):
    """A copy of ``config`` whose seeds are shifted by ``seed`` (``seeds`` or ``seed``)."""
    if not dataclasses.is_dataclass(config) or seed == 0:
        return config
    names = {f.name for f in dataclasses.fields(config)}
    if "seeds" in names:
        return dataclasses.replace(config, seeds=tuple(seed + s for s in config.seeds))
    if "seed" in names:
        return dataclasses.replace(config, seed=config.seed + seed)
    return config


def _mode_config(cls, mode: str, **overrides):
    return getattr(cls, mode)(**overrides) if overrides else getattr(cls, mode)()


def _figures(makers: dict, prefix: str, out: Path, files: list, problems: list) -> dict:
    """Draw and save each figure (key -> function returning a Figure); a figure that fails is
    recorded in ``problems`` and skipped, so one bad plot never loses the run."""
    import matplotlib.pyplot as plt

    saved = {}
    for key, make in makers.items():
        try:
            fig = make()
            path = out / "figures" / f"{prefix}_{key.replace(' ', '_').replace('->', '_to_')}.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
        except Exception as err:  # noqa: BLE001 - reported in report.md and results.json
            problems.append(f"figure {key!r} failed: {type(err).__name__}: {err}")
            plt.close("all")
            continue
        files.append(str(path))
        saved[key] = path.name
    return saved


def _run_ambiguity(mode, seed, quiet, out, files, problems, client=None):
    pa = importlib.import_module("neuromodlab.plotting.ambiguity")
    from .ambiguity import AmbiguityConfig, run_ambiguity

    config = _with_seed(_mode_config(AmbiguityConfig, mode), seed)
    result = run_ambiguity(config, quiet=quiet, client=client)
    makers = {}
    for pair in result.curves:
        makers[f"blend {pair}"] = lambda p=pair: pa.plot_blend_curves(result, p)
        makers[f"cues {pair}"] = lambda p=pair: pa.plot_mechanism_comparison(result, p)
    makers["summary"] = lambda: pa.plot_summary_bars(result)
    return result, _figures(makers, "ambiguity", out, files, problems)


def _run_dynamics(mode, seed, quiet, out, files, problems, networks=None, amb_config=None,
                  client=None):
    pa = importlib.import_module("neuromodlab.plotting.ambiguity")
    from .dynamics import DynamicsConfig, run_dynamics

    config = _with_seed(_mode_config(DynamicsConfig, mode), seed)
    if amb_config is not None:  # analyse the very networks of the ambiguity experiment
        same = {k: getattr(amb_config, k) for k in config.training_settings()}
        config = dataclasses.replace(config, **same)
        if config.pair not in amb_config.pairs:
            networks = None
    result = run_dynamics(config, quiet=quiet, networks=networks, client=client)
    makers = {"trajectories": lambda: pa.plot_dynamics_trajectories(result),
              "interpolation": lambda: pa.plot_interpolation(result),
              "summary": lambda: pa.plot_dynamics_summary(result)}
    return result, _figures(makers, "dynamics", out, files, problems)


def _run_plugin(name, mode, seed, quiet, out, files, problems, client=None):
    """Packing or initialisation: their results draw their own figures (``figures()``)."""
    module_name, cfg_name, run_name = PLUGINS[name]
    module = importlib.import_module(f"{__package__}.{module_name}")
    config = _with_seed(_mode_config(getattr(module, cfg_name), mode), seed)
    run = getattr(module, run_name)
    result = run(config, quiet=quiet) if client is None else run(config, quiet=quiet,
                                                                  client=client)
    try:
        made = result.figures()
    except Exception as err:  # noqa: BLE001 - reported, the numbers are kept
        problems.append(f"figures failed: {type(err).__name__}: {err}")
        made = {}
    figs = _figures({k: (lambda f=f: f) for k, f in made.items()}, name, out, files, problems)
    return result, figs


def _run_one(name, mode, seed, quiet, out, files, problems, previous=None, client=None):
    """One experiment, isolated: returns (result, figures, "done") or (None, {}, "failed").
    client: a connected ``distributed.Client`` (or None) that trains the ensembles."""
    try:
        if name == "ambiguity":
            result, figs = _run_ambiguity(mode, seed, quiet, out, files, problems, client)
        elif name == "dynamics":
            result, figs = _run_dynamics(
                mode, seed, quiet, out, files, problems,
                networks=getattr(previous, "trained", None),
                amb_config=getattr(previous, "config", None), client=client)
        else:
            result, figs = _run_plugin(name, mode, seed, quiet, out, files, problems, client)
    except Exception as err:  # noqa: BLE001 - one failed experiment must not lose the others
        import traceback

        path = out / "data" / f"{name}_error.txt"
        path.write_text(traceback.format_exc())
        files.append(str(path))
        problems.append(f"failed: {type(err).__name__}: {err} (traceback in data/{path.name})")
        return None, {}, "failed"
    return result, figs, "done"


def _plugin_job(names, mode, seed, out) -> dict:
    """Worker process: run plugin experiments quietly; return what the report needs."""
    import matplotlib
    import torch

    matplotlib.use("Agg")
    torch.set_num_threads(1)
    done = {}
    for name in names:
        files: list[str] = []
        problems: list[str] = []
        t0 = time.perf_counter()
        result, figs, status = _run_one(name, mode, seed, True, Path(out), files, problems)
        done[name] = (result, figs, status, problems, time.perf_counter() - t0, files)
    return done


def _save_data(out: Path, name: str, result, files: list) -> None:
    """The full result object as ``data/<name>.json`` (failed experiments: nothing)."""
    if result is not None:
        path = out / "data" / f"{name}.json"
        path.write_text(result.to_json() + "\n")
        files.append(str(path))


def default_jobs() -> int:
    """2 worker processes when the machine has at least 2 CPUs, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def reproduce(out="results", mode: str = "default", seed: int = 0, quiet: bool = False,
              experiments=EXPERIMENTS, jobs: int | None = None, client=None) -> dict:
    """Run the experiments and write the report (see the module docstring).

    jobs: 1 runs everything in this process, one experiment after the other, with progress
    bars; 2 (the default on a machine with >= 2 CPUs) runs packing and initialisation in a
    second process (quietly, one line when done) while ambiguity and dynamics run here.
    client: a Dask ``distributed.Client`` or a scheduler address: every experiment's
    ensembles train on its workers (:mod:`.distributed`) and this process only assembles,
    probes, analyses and writes, so ``jobs`` must then be 1 (the default with a client). The
    numbers depend neither on ``jobs`` nor on ``client``. Returns the content of
    ``results.json``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    unknown = [e for e in experiments if e not in EXPERIMENTS]
    if unknown or not experiments:
        raise ValueError(f"experiments must be a non-empty subset of {EXPERIMENTS}, "
                         f"got {experiments!r}")
    if jobs is None:
        jobs = default_jobs() if client is None else 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}")
    if client is not None and jobs > 1:
        raise ValueError(f"jobs={jobs} runs packing and initialisation in a second local "
                         "process; with a Dask client (--scheduler / --dask-workers) the "
                         "ensembles already run on the Dask workers: use jobs=1 (the default)")
    from .distributed import connect

    # connect before writing anything: a wrong address leaves the output folder untouched
    with connect(client) as cl:
        return _reproduce(out, mode, seed, quiet, experiments, jobs, cl)


def _reproduce(out, mode, seed, quiet, experiments, jobs, client) -> dict:
    out = prepare_output(out)
    _remove_previous(out)
    import matplotlib

    matplotlib.use("Agg")
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    ordered = [e for e in EXPERIMENTS if e in experiments]
    minutes = sum(EXPECTED_MINUTES[mode][e] for e in ordered)
    say(f"neuromodlab reproduce ({mode} mode, seed {seed}): {', '.join(ordered)}; expected "
        f"~{minutes:.0f} CPU-minutes{' (shared by 2 processes)' if jobs > 1 else ''} on an "
        f"unloaded 2-core machine; output in {out}/")
    if client is not None:
        say(f"      ensembles train on the Dask cluster at {client.scheduler.address} "
            f"({len(client.nthreads())} workers now)")
    files: list[str] = []
    start = time.perf_counter()
    results, figures, wall, status, problems = {}, {}, {}, {}, {}
    background = [e for e in ordered if e in PLUGINS] if jobs > 1 else []
    future = pool = None
    if background and len(background) < len(ordered):
        import concurrent.futures
        import multiprocessing

        pool = concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(_plugin_job, background, mode, seed, str(out))
        say(f"      {', '.join(background)}: running in a second process")
    else:
        background = []

    def finish(name, how=""):
        _save_data(out, name, results[name], files)
        extra = "; ".join(problems[name])
        say(f"      {name}: {status[name]} in {wall[name]:.0f} s{how}"
            + (f" -- {extra}" if extra else ""))

    for n, name in enumerate(ordered, 1):
        if name in background:
            continue
        say(f"[{n}/{len(ordered)}] {name} ...")
        t0 = time.perf_counter()
        problems[name] = []
        results[name], figures[name], status[name] = _run_one(
            name, mode, seed, quiet, out, files, problems[name], results.get("ambiguity"),
            client)
        wall[name] = time.perf_counter() - t0
        finish(name)
    if future is not None:
        say(f"      waiting for {', '.join(background)} ...")
        try:
            done = future.result()
        except Exception as err:  # noqa: BLE001 - e.g. the worker process died
            done = {name: (None, {}, "failed", [f"worker failed: {type(err).__name__}: {err}"],
                           0.0, []) for name in background}
        for name, (result, figs, state, notes, seconds, more) in done.items():
            results[name], figures[name], status[name] = result, figs, state
            problems[name], wall[name] = notes, seconds
            files.extend(more)
            finish(name, " (second process)")
        pool.shutdown()
    results = {name: results[name] for name in ordered}
    total = time.perf_counter() - start
    summary = _results_json(mode, seed, results, wall, status, problems, total, files, out)
    (out / "results.json").write_text(dumps(summary) + "\n")
    (out / "report.md").write_text(report_markdown(summary, results, figures))
    say(f"done in {total / 60:.1f} min: {out / 'report.md'}, {out / 'results.json'}")
    return summary


def _remove_previous(out: Path) -> None:
    """Delete the files a previous run listed in its results.json (only those)."""
    try:
        previous = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return
    if previous.get("generator") != GENERATOR:
        return
    root = out.resolve()
    for name in previous.get("files", []):
        p = Path(name)
        p = p if p.is_absolute() else out / p
        try:
            if p.resolve().parent in (root, root / "figures", root / "data") and p.is_file():
                p.unlink()
        except OSError:
            pass


def _results_json(mode, seed, results, wall, status, problems, total, files, out) -> dict:
    experiments = {}
    for name, result in results.items():
        if result is None:
            experiments[name] = {"status": status[name], "reason": "; ".join(problems[name])}
            continue
        info = getattr(result, "info", None)
        entry = {
            "status": "done",
            "problems": list(problems[name]),
            "settings": to_jsonable(getattr(result, "config", None)),
            "seeds": list(getattr(info, "seeds", []) or
                          getattr(getattr(result, "config", None), "seeds", []) or []),
            "wall_time_s": round(wall[name], 2),
            "summary": to_jsonable(result.summary()),
        }
        if hasattr(result, "networks"):
            entry["networks"] = to_jsonable(result.networks)
        experiments[name] = entry
    info = run_info([], total)
    rel = sorted(str(Path(f).relative_to(out)) for f in files)
    return {
        "generator": GENERATOR, "mode": mode, "seed": seed,
        "command": "python -m neuromodlab " + " ".join(sys.argv[1:]) if sys.argv else "",
        "wall_time_s": {"total": round(total, 2), **{k: round(v, 2) for k, v in wall.items()}},
        "versions": {"neuromodlab": info.library_version, "torch": info.torch_version,
                     "numpy": info.numpy_version, "python": info.python_version,
                     "platform": info.platform},
        "experiments": experiments,
        "files": rel + ["report.md", "results.json"],
    }


__all__ = ["reproduce", "prepare_output", "report_markdown", "OutputError", "EXPERIMENTS",
           "MODES", "EXPECTED_MINUTES"]
