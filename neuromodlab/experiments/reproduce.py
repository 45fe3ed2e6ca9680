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

Experiments owned elsewhere plug in through a small protocol: a module
``neuromodlab.experiments.<name>`` with a config class (``quick()``, ``default()``,
``full()``), a ``run_<name>(config, quiet=...)`` function and a result with ``to_json()``;
optional: ``result.summary() -> dict`` (headline numbers), ``result.report_markdown() -> str``
(a report section) and ``result.figures() -> dict[str, Figure]``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from .results import diff_ci, dumps, run_info, to_jsonable

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


def _fmt(stats: dict, digits: int = 2) -> str:
    m, lo, hi = stats["mean"], stats["lo"], stats["hi"]
    if m is None or (isinstance(m, float) and math.isnan(m)):
        return "n/a"
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


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


def _run_ambiguity(mode, seed, quiet, out, files, problems):
    pa = importlib.import_module("neuromodlab.plotting.ambiguity")
    from .ambiguity import AmbiguityConfig, run_ambiguity

    config = _with_seed(_mode_config(AmbiguityConfig, mode), seed)
    result = run_ambiguity(config, quiet=quiet)
    makers = {}
    for pair in result.curves:
        makers[f"blend {pair}"] = lambda p=pair: pa.plot_blend_curves(result, p)
        makers[f"cues {pair}"] = lambda p=pair: pa.plot_mechanism_comparison(result, p)
    makers["summary"] = lambda: pa.plot_summary_bars(result)
    return result, _figures(makers, "ambiguity", out, files, problems)


def _run_dynamics(mode, seed, quiet, out, files, problems, networks=None, amb_config=None):
    pa = importlib.import_module("neuromodlab.plotting.ambiguity")
    from .dynamics import DynamicsConfig, run_dynamics

    config = _with_seed(_mode_config(DynamicsConfig, mode), seed)
    if amb_config is not None:  # analyse the very networks of the ambiguity experiment
        same = {k: getattr(amb_config, k) for k in config.training_settings()}
        config = dataclasses.replace(config, **same)
        if config.pair not in amb_config.pairs:
            networks = None
    result = run_dynamics(config, quiet=quiet, networks=networks)
    makers = {"trajectories": lambda: pa.plot_dynamics_trajectories(result),
              "interpolation": lambda: pa.plot_interpolation(result),
              "summary": lambda: pa.plot_dynamics_summary(result)}
    return result, _figures(makers, "dynamics", out, files, problems)


def _run_plugin(name, mode, seed, quiet, out, files, problems):
    """Returns (result, figures); result None means the module is not available."""
    module_name, cfg_name, run_name = PLUGINS[name]
    try:
        module = importlib.import_module(f"{__package__}.{module_name}")
        cfg_cls, run = getattr(module, cfg_name), getattr(module, run_name)
    except (ImportError, AttributeError) as err:
        problems.append(f"not available in this version ({err})")
        return None, {}
    config = _with_seed(_mode_config(cfg_cls, mode), seed)
    result = run(config, quiet=quiet)
    figs = {}
    if hasattr(result, "figures"):
        try:
            made = result.figures()
        except Exception as err:  # noqa: BLE001 - reported, the numbers are kept
            problems.append(f"figures failed: {type(err).__name__}: {err}")
            made = {}
        figs = _figures({k: (lambda f=f: f) for k, f in made.items()}, name, out, files,
                        problems)
    return result, figs


def _run_one(name, mode, seed, quiet, out, files, problems, previous=None):
    """One experiment, isolated: returns (result or None, figures, status)."""
    try:
        if name == "ambiguity":
            result, figs = _run_ambiguity(mode, seed, quiet, out, files, problems)
        elif name == "dynamics":
            result, figs = _run_dynamics(
                mode, seed, quiet, out, files, problems,
                networks=getattr(previous, "trained", None),
                amb_config=getattr(previous, "config", None))
        else:
            result, figs = _run_plugin(name, mode, seed, quiet, out, files, problems)
    except Exception as err:  # noqa: BLE001 - one failed experiment must not lose the others
        import traceback

        path = out / "data" / f"{name}_error.txt"
        path.write_text(traceback.format_exc())
        files.append(str(path))
        problems.append(f"failed: {type(err).__name__}: {err} (traceback in data/{path.name})")
        return None, {}, "failed"
    return result, figs, "done" if result is not None else "skipped"


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
    """The full result object as ``data/<name>.json`` (skipped experiments: nothing)."""
    if result is not None:
        path = out / "data" / f"{name}.json"
        path.write_text(result.to_json() + "\n")
        files.append(str(path))


def default_jobs() -> int:
    """2 worker processes when the machine has at least 2 CPUs, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def reproduce(out="results", mode: str = "default", seed: int = 0, quiet: bool = False,
              experiments=EXPERIMENTS, jobs: int | None = None) -> dict:
    """Run the experiments and write the report (see the module docstring).

    jobs: 1 runs everything in this process, one experiment after the other, with progress
    bars; 2 (the default on a machine with >= 2 CPUs) runs packing and initialisation in a
    second process (quietly, one line when done) while ambiguity and dynamics run here. The
    numbers do not depend on ``jobs``. Returns the content of ``results.json``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    unknown = [e for e in experiments if e not in EXPERIMENTS]
    if unknown or not experiments:
        raise ValueError(f"experiments must be a non-empty subset of {EXPERIMENTS}, "
                         f"got {experiments!r}")
    jobs = default_jobs() if jobs is None else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an int >= 1, got {jobs!r}")
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
            name, mode, seed, quiet, out, files, problems[name], results.get("ambiguity"))
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
            "summary": to_jsonable(result.summary()) if hasattr(result, "summary") else None,
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


# --------------------------------------------------------------------------------- report
INTRO = """Reduced experiments inspired by Vedovati & Ching (2024), "Synergistic pathways of
modulation enable robust task packing within neural dynamics" (arXiv:2408.01316). Only the
paper's abstract is known to us: every task, size, criterion and analysis below is our own
design, and every number is what *this* code measured in this run -- none is a number from the
paper. Intervals are 95 % t-intervals over independently seeded networks unless stated (for a
bounded quantity such as a fraction the interval may reach past its range)."""

AMBIGUITY_DESIGN = """Networks with each context mechanism (rule input, excitability = per-neuron
gain and bias, synaptic = rank-R recurrent change, combined) are trained on the same tasks with
the same optimiser, learning rate, step budget, criterion (worst task >= criterion, early stop)
and initial scale of the context pathway (`init_std`). Seed s fixes the shared initial weights
and the data stream, so mechanisms are compared on paired seeds. Each trained network is then
probed on conflicting task pairs (i, j) -- the same stimuli, different correct answers -- with a
blended cue c = (1 - l) e_i + l e_j, a weakened cue c = s e_i and a noisy cue
c = e_i + sigma xi. The same outputs are scored against both tasks' answers: on conflict trials
each response follows task i, task j or neither (P(i) + P(j) + P(neither) = 1), and at l = 0
P(i) is the trained performance. All cue conditions share trials and recurrent noise."""

DYNAMICS_DESIGN = """For the same trained networks (noise off): PCA of the rates of all tasks
(one space per network), the participation ratio of each task's activity, the overlap of task
subspaces (top PCs; mean squared cosine of principal angles), fixed points of the one-step map
under the fixation input for each one-hot context (count, stability), and continuation of the
decision-period attractor as the context moves from task i (l = 0) to task j (l = 1) -- a
forward branch from task i's attractor and a backward branch from task j's. Where both branches
exist and answer their own task at the same l the network is bistable in l (hysteresis)."""


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _settings_table(config) -> str:
    if config is None:
        return ""
    d = to_jsonable(config)
    return _table(["setting", "value"], [(k, f"`{json.dumps(v)}`") for k, v in d.items()])


def _figures_md(figs: dict) -> str:
    return "\n\n".join(f"![{k}](figures/{v})" for k, v in figs.items())


def _diff_rows(metrics: dict, metric: str, mechanisms) -> list:
    """Pairwise differences of one metric between mechanisms (mean, Welch 95 % interval)."""
    rows = []
    mechs = list(mechanisms)
    for a in range(len(mechs)):
        for b in range(a + 1, len(mechs)):
            d = diff_ci(metrics[mechs[a]][metric], metrics[mechs[b]][metric])
            robust = not math.isnan(d["lo"]) and (d["lo"] > 0 or d["hi"] < 0)
            rows.append((f"{mechs[a]} - {mechs[b]}", metric,
                         _fmt({"mean": d["diff"], "lo": d["lo"], "hi": d["hi"]}),
                         "yes" if robust else "no"))
    return rows


def _ambiguity_md(result, figs) -> str:
    from .ambiguity import METRICS

    cfg = result.config
    out = ["## 1. Context ambiguity", AMBIGUITY_DESIGN, "### Settings", _settings_table(cfg)]
    train = result.summary()["training"]
    rows = []
    for mech, t in train.items():
        steps = np.asarray(t["steps"], float)
        rows.append((mech, t["params_per_task"], f"{t['reached']}/{t['n']}",
                     f"{steps.mean():.0f}" if steps.size else "n/a"))
    who = "reached the criterion" if cfg.include == "reached" else "were trained (all)"
    out += ["### Training", f"Tasks {', '.join(cfg.tasks)}; N = {cfg.n_hidden}; seeds "
            f"{list(cfg.seeds)}; criterion {cfg.criterion} within {cfg.max_steps} steps; "
            f"statistics over networks that {who}.",
            _table(["mechanism", "context parameters per task", "reached criterion",
                    "mean steps"], rows)]
    names = [m for m in METRICS if m != "perf_l0"]
    out.append("### Results (mean [95 % interval] over networks)")
    for pair, per_mech in result.metrics.items():
        rows = [(mech, *(_fmt(result.metric_stats(pair, mech, n)) for n in ["perf_l0"] + names))
                for mech in per_mech]
        out += [f"**{pair}**", _table(["mechanism"] + ["perf_l0"] + names, rows)]
    out.append("Metrics: " + "; ".join(f"`{k}` = {v}" for k, v in METRICS.items()) + ".")
    out += ["### Figures", _figures_md(figs)]
    out += ["### Differences between mechanisms", "Difference of means (row mechanism a - b) "
            "with a Welch 95 % interval (df = min(n) - 1); **bold** = the interval excludes 0. "
            "These are many comparisons without correction: expect about 1 in 20 to look "
            "robust by chance."]
    robust = []
    compared = ("l50", "auc_half", "neither_mid", "s50", "noise_auc")
    for pair, per_mech in result.metrics.items():
        columns = {metric: _diff_rows(per_mech, metric, cfg.mechanisms) for metric in compared}
        rows = []
        for k, label in enumerate(row[0] for row in columns[compared[0]]):
            cells = []
            for metric in compared:
                _, _, text, flag = columns[metric][k]
                cells.append(f"**{text}**" if flag == "yes" else text)
                if flag == "yes":
                    robust.append(f"{label} on {metric} ({pair}: {text})")
            rows.append((label, *cells))
        out += [f"**{pair}**", _table(["a - b", *compared], rows)]
    out += ["### Interpretation", _ambiguity_text(result, robust)]
    return "\n\n".join(out)


def _ambiguity_text(result, robust) -> str:
    lines = []
    for pair, per_mech in result.metrics.items():
        l50 = [v for m in per_mech.values() for v in m["l50"]]
        mid = [v for m in per_mech.values() for v in m["neither_mid"]]
        if l50:
            lines.append(f"- {pair}: over all mechanisms, P(i) fell below 0.5 at l = "
                         f"{np.mean(l50):.2f} on average (range {min(l50):.2f}-{max(l50):.2f}); "
                         f"at l = 0.5 a fraction {np.mean(mid):.2f} of responses followed "
                         "neither task (outputs of the two tasks cancel or fall between them).")
    if robust:
        lines.append("- Differences whose interval excludes 0: " + "; ".join(robust) + ". "
                     "With few seeds and many comparisons, treat these as leads to re-test "
                     "with more seeds (`--full`), not as findings.")
    else:
        lines.append("- **No seed-robust difference between mechanisms** on these metrics: every "
                     "interval of a difference includes 0. This is a null result at this "
                     "network size and number of seeds, not evidence that the mechanisms are "
                     "equivalent.")
    return "\n".join(lines)


def _dynamics_md(result, figs, ambiguity=None) -> str:
    from .dynamics import DYNAMICS_METRICS

    cfg = result.config
    summ = result.summary()["metrics"]
    keys = ["pr_mean", "overlap_pair", "overlap_mean", "angle_pair_min_deg", "n_fixed_mean",
            "n_stable_mean", "attractor_i_l0", "attractor_j_l1", "switch_forward",
            "switch_backward", "bistable_fraction", "rest_stable_fraction",
            "rest_displacement_end"]
    keys = [k for k in summ[next(iter(summ))] if k.startswith("pr_") and k != "pr_mean"] + keys
    rows = [(f"`{k}`", *(_fmt(summ[mech][k]) for mech in summ)) for k in keys]
    out = ["## 4. Dynamics", DYNAMICS_DESIGN, "### Settings", _settings_table(cfg),
           f"Pair interpolated: {cfg.pair[0]} (l = 0) -> {cfg.pair[1]} (l = 1); seeds "
           f"{list(cfg.seeds)}; networks: those of the ambiguity experiment when the "
           "settings match (they do in `reproduce`).",
           "### Results (mean [95 % interval] over networks)",
           _table(["metric", *summ], rows),
           "Metrics: " + "; ".join(f"`{k}` = {v}" for k, v in DYNAMICS_METRICS.items()) + ".",
           "### Figures", _figures_md(figs), "### Interpretation",
           _dynamics_text(result, summ, ambiguity)]
    return "\n\n".join(out)


def _dynamics_text(result, summ, ambiguity=None) -> str:
    lines = []
    pair = "->".join(result.config.pair)
    if ambiguity is not None and pair in ambiguity.metrics:
        cells = []
        for mech in summ:
            if mech in ambiguity.metrics[pair]:
                l50 = ambiguity.metric_stats(pair, mech, "l50")["mean"]
                cells.append(f"{mech}: behaviour l50 = {l50:.2f}, attractor switch = "
                             f"{summ[mech]['switch_forward']['mean']:.2f}")
        lines.append("- Behaviour against attractors (pair " + pair + "; the attractor switch "
                     "is where fewer than half of the stable decision fixed points still "
                     "answer task i): " + "; ".join(cells) + ". A behavioural switch earlier "
                     "than the attractor switch means the response is decided before the state "
                     "settles (the trial ends during the transient).")
    per = {m: result.per_seed(m) for m in result.per_network}
    for metric, label in (("pr_mean", "participation ratio"), ("overlap_pair",
                                                              "pair subspace overlap"),
                          ("bistable_fraction", "bistable fraction")):
        robust = [r for r in _diff_rows(per, metric, list(per)) if r[-1] == "yes"]
        if robust:
            lines.append(f"- {label}: differences whose interval excludes 0: "
                         + "; ".join(f"{r[0]} = {r[2]}" for r in robust) + ".")
        else:
            lines.append(f"- {label}: no seed-robust difference between mechanisms.")
    bi = {m: summ[m]["bistable_fraction"]["mean"] for m in summ}
    lines.append("- Bistability (both attractors coexisting at the same l): "
                 + ", ".join(f"{m} {v:.2f}" for m, v in bi.items()) + " of the (l, trial) grid. "
                 "Where it is near 0, one attractor moves (or jumps) as l changes; where it is "
                 "large, the blended cue selects between coexisting attractors, so the answer "
                 "depends on where the state starts.")
    return "\n".join(lines)


def _plugin_md(result, figs) -> str:
    if hasattr(result, "report_markdown"):
        parts = [result.report_markdown()]
    else:
        parts = ["### Settings", _settings_table(getattr(result, "config", None))]
        if hasattr(result, "summary"):
            parts += ["### Summary", "```json\n" + dumps(result.summary()) + "\n```"]
    if figs:
        parts += ["### Figures", _figures_md(figs)]
    return "\n\n".join(parts)


SECTIONS = {"ambiguity": (1, "Context ambiguity"), "packing": (2, "Task packing"),
            "initialisation": (3, "Initialisation of the context pathway"),
            "dynamics": (4, "Dynamics")}


def report_markdown(summary: dict, results: dict, figures: dict) -> str:
    """The report: intro, run table, one section per experiment, caveats."""
    wall = summary["wall_time_s"]
    v = summary["versions"]
    head = [f"# neuromodlab: reduced experiments ({summary['mode']}, seed {summary['seed']})",
            INTRO,
            _table(["experiment", "status", "wall time (s)"],
                   [(k, e["status"], wall.get(k, "")) for k, e in summary["experiments"].items()]
                   + [("total", "", wall["total"])]),
            f"Versions: neuromodlab {v['neuromodlab']}, torch {v['torch']}, numpy {v['numpy']}, "
            f"Python {v['python']} ({v['platform']}). Machine-readable numbers: `results.json`; "
            "full result objects: `data/*.json`."]
    sections = []
    for name, result in results.items():
        number, title = SECTIONS[name]
        entry = summary["experiments"][name]
        if result is None:
            sections.append(f"## {number}. {title}\n\n**{entry['status'].capitalize()}**: "
                            f"{entry.get('reason')}.")
            continue
        if name == "ambiguity":
            text = _ambiguity_md(result, figures[name])
        elif name == "dynamics":
            text = _dynamics_md(result, figures[name], results.get("ambiguity"))
        else:
            text = f"## {number}. {title}\n\n" + _plugin_md(result, figures.get(name, {}))
        if entry.get("problems"):
            text += "\n\n**Problems in this run**: " + "; ".join(entry["problems"]) + "."
        sections.append(text)
    caveats = ["## Caveats", "- Small networks, few seeds, one learning rate and one criterion: "
               "the intervals describe seed-to-seed variation of *this* setup only.",
               "- Mechanisms differ in context parameters per task (see the training tables); "
               "their initial scale (`init_std`) and learning rate are matched.",
               "- Reduced versions inspired by Vedovati & Ching (2024); no number here is "
               "theirs."]
    return "\n\n".join(head + sections + ["\n".join(caveats)]) + "\n"


__all__ = ["reproduce", "prepare_output", "report_markdown", "OutputError", "EXPERIMENTS",
           "MODES", "EXPECTED_MINUTES"]
