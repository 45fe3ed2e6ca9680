"""The Markdown report of ``python -m neuromodlab reproduce`` (``report.md``).

:func:`report_markdown` assembles the report from the content of ``results.json`` and the
result objects: an intro and a run table, one section per experiment, caveats. The ambiguity
and dynamics sections (design, settings, training, results with 95 % intervals, pairwise
differences between mechanisms, figures, interpretation) are written here, because the two
experiments share networks; packing and initialisation write their own sections
(``result.report_markdown()``). Running the experiments and writing the files is
:mod:`.reproduce`.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .results import diff_ci, format_ci, markdown_table, to_jsonable

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


def _settings_table(config) -> str:
    if config is None:
        return ""
    d = to_jsonable(config)
    return markdown_table(["setting", "value"], [(k, f"`{json.dumps(v)}`") for k, v in d.items()])


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
                         format_ci(d["diff"], d["lo"], d["hi"]),
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
            markdown_table(["mechanism", "context parameters per task", "reached criterion",
                    "mean steps"], rows)]
    names = [m for m in METRICS if m != "perf_l0"]
    out.append("### Results (mean [95 % interval] over networks)")
    for pair, per_mech in result.metrics.items():
        rows = [(mech, *(format_ci(result.metric_stats(pair, mech, n))
                         for n in ["perf_l0"] + names)) for mech in per_mech]
        out += [f"**{pair}**", markdown_table(["mechanism"] + ["perf_l0"] + names, rows)]
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
        out += [f"**{pair}**", markdown_table(["a - b", *compared], rows)]
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
    rows = [(f"`{k}`", *(format_ci(summ[mech][k]) for mech in summ)) for k in keys]
    out = ["## 4. Dynamics", DYNAMICS_DESIGN, "### Settings", _settings_table(cfg),
           f"Pair interpolated: {cfg.pair[0]} (l = 0) -> {cfg.pair[1]} (l = 1); seeds "
           f"{list(cfg.seeds)}; networks: those of the ambiguity experiment when the "
           "settings match (they do in `reproduce`).",
           "### Results (mean [95 % interval] over networks)",
           markdown_table(["metric", *summ], rows),
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
    parts = [result.report_markdown()]
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
            markdown_table(["experiment", "status", "wall time (s)"],
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


__all__ = ["report_markdown"]
