"""Command line: ``python -m neuromodlab reproduce`` and ``python -m neuromodlab info``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _demo(args) -> int:
    """Train one small network per mechanism on a few tasks; print and plot performance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .modulation import build_model
    from .tasks import TaskConfig, TaskSet
    from .train import TrainConfig, evaluate, fit

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = ["go", "anti", "dlygo", "dlyanti"]
    ts = TaskSet(tasks, TaskConfig())
    mechanisms = ["rule", "excitability", "synaptic", "combined"]
    steps = 300 if args.quick else 3000
    results = {}
    t0 = time.perf_counter()
    for mech in mechanisms:
        model = build_model(mech, ts.n_in, ts.n_out, ts.K, n_hidden=64, seed=args.seed)
        hist = fit(model, ts, TrainConfig(max_steps=steps, seed=args.seed), quiet=args.quiet)
        perf = evaluate(model, ts, n_trials=128, seed=args.seed + 1)
        results[mech] = {"performance": perf, "steps": hist.steps[-1],
                         "steps_to_criterion": hist.steps_to_criterion,
                         "params_per_task": model.params_per_task(),
                         "wall_time_s": round(hist.wall_time, 2), "history": hist.to_dict()}
        cells = "  ".join(f"{k}={v:.2f}" for k, v in perf.items())
        print(f"{mech:>13}: {cells}  ({hist.steps[-1]} steps, {hist.wall_time:.1f} s)",
              flush=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for mech, res in results.items():
        h = res["history"]
        worst = [min(v[i] for v in h["performance"].values()) for i in range(len(h["eval_steps"]))]
        ax.plot(h["eval_steps"], worst, marker="o", label=mech)
    ax.axhline(0.9, color="grey", ls="--", lw=1)
    ax.set(xlabel="training step", ylabel="worst-task performance (fraction correct)",
           title=f"{', '.join(tasks)}; N = 64, seed {args.seed}", ylim=(0, 1.02))
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=120)
    for res in results.values():
        res.pop("history")
    summary = {"tasks": tasks, "seed": args.seed, "results": results,
               "wall_time_s": round(time.perf_counter() - t0, 1)}
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {out / 'training.png'} and {out / 'results.json'}")
    return 0


def _info(args) -> int:
    from .modulation import MECHANISMS
    from .tasks import TASK_NAMES

    print("tasks:", ", ".join(TASK_NAMES))
    print("mechanisms:", ", ".join(MECHANISMS))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="neuromodlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run the reduced experiments, write figures + report")
    rep.add_argument("--out", default="results", help="output folder (default: results)")
    rep.add_argument("--seed", type=int, default=0)
    rep.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    rep.add_argument("--quiet", action="store_true", help="no progress bars")
    rep.set_defaults(func=_demo)
    info = sub.add_parser("info", help="list tasks and mechanisms")
    info.set_defaults(func=_info)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
