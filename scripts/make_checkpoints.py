"""Train the small pretrained networks shipped in ``neuromodlab/data/`` (for the notebooks).

One network per mechanism (rule, excitability, synaptic, combined) and task set: the tutorial
set (go, anti, dlygo, dlyanti) with N = 64 units, and the ambiguity pair (go, anti) with
N = 32 (as in the ambiguity experiment). Adam lr 1e-3, batch 64, early stop when every task
reaches ``--criterion`` (default 0.95) on 128 held-out trials per task. Each checkpoint's
performance is then measured on ``--eval-trials`` fresh trials per task with a recorded seed
and written to ``neuromodlab/data/checkpoints.json``; ``tests/test_checkpoints.py`` re-measures
it.

    .venv/bin/python scripts/make_checkpoints.py            # ~5-15 min on 2 CPU cores
    .venv/bin/python scripts/make_checkpoints.py --sets go,anti:32 --mechanisms rule
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from neuromodlab import __version__  # noqa: E402
from neuromodlab.modulation import build_model  # noqa: E402
from neuromodlab.tasks import TaskConfig, TaskSet  # noqa: E402
from neuromodlab.train import TrainConfig, evaluate, fit, save_checkpoint  # noqa: E402

TASKS = ("go", "anti", "dlygo", "dlyanti")
SETS = "go,anti,dlygo,dlyanti:64 go,anti:32"  # tasks:N, space-separated
MECHANISMS = ("rule", "excitability", "synaptic", "combined")
EVAL_SEED = 2024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "neuromodlab" / "data"))
    parser.add_argument("--mechanisms", default=",".join(MECHANISMS))
    parser.add_argument("--sets", default=SETS, help=f"task sets and sizes (default {SETS!r})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--criterion", type=float, default=0.95)
    parser.add_argument("--max-steps", type=int, default=5000)
    parser.add_argument("--eval-trials", type=int, default=256)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "checkpoints.json"
    old = json.loads(manifest_path.read_text())["checkpoints"] if manifest_path.exists() else []
    entries = {(e["mechanism"], tuple(e["tasks"]), e["n_hidden"]): e for e in old}
    task_config = TaskConfig()
    for spec in args.sets.split():
        names, n_hidden = spec.split(":")
        tasks = tuple(names.split(","))
        for mech in args.mechanisms.split(","):
            entry = _train_one(mech, tasks, int(n_hidden), task_config, args, out)
            entries[(mech, tasks, int(n_hidden))] = entry
    manifest = {"description": "Pretrained networks for the neuromodlab notebooks; made by "
                               "scripts/make_checkpoints.py; performance = fraction correct "
                               "per task from neuromodlab.train.evaluate(model, taskset, "
                               "eval_trials, seed=eval_seed) with recurrent noise on.",
                "checkpoints": sorted(entries.values(), key=_order)}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {manifest_path}")
    return 0


def _order(e):
    mech = MECHANISMS.index(e["mechanism"]) if e["mechanism"] in MECHANISMS else 99
    return (-len(e["tasks"]), mech, e["file"])


def _train_one(mech, tasks, n_hidden, task_config, args, out) -> dict:
    taskset = TaskSet(list(tasks), task_config)
    model = build_model(mech, taskset.n_in, taskset.n_out, taskset.K,
                        n_hidden=n_hidden, seed=args.seed)
    train_config = TrainConfig(max_steps=args.max_steps, criterion=args.criterion,
                               eval_every=50, eval_trials=128, seed=args.seed)
    start = time.perf_counter()
    hist = fit(model, taskset, train_config, quiet=True)
    perf = evaluate(model, taskset, args.eval_trials, seed=EVAL_SEED)
    name = f"{mech}_{'-'.join(tasks)}_N{n_hidden}.pt"
    path = save_checkpoint(out / name, model, hist,
                           meta={"tasks": list(tasks), "eval_seed": EVAL_SEED})
    entry = {
        "file": name, "mechanism": mech, "tasks": list(tasks), "n_hidden": n_hidden,
        "params_per_task": model.params_per_task(),
        "task_config": dataclasses.asdict(task_config),
        "model_config": dataclasses.asdict(model.config),
        "train_config": dataclasses.asdict(train_config),
        "steps": hist.steps[-1], "steps_to_criterion": hist.steps_to_criterion,
        "train_wall_time_s": round(time.perf_counter() - start, 1),
        "performance": perf, "eval_trials": args.eval_trials, "eval_seed": EVAL_SEED,
        "eval_noise": True, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "size_bytes": path.stat().st_size,
        "versions": {"neuromodlab": __version__, "torch": str(torch.__version__)},
    }
    cells = " ".join(f"{k}={v:.3f}" for k, v in perf.items())
    print(f"{mech:>13} N={n_hidden}: {cells} ({hist.steps[-1]} steps, reached="
          f"{hist.reached}, {entry['train_wall_time_s']} s) -> {path}", flush=True)
    return entry


if __name__ == "__main__":
    sys.exit(main())
