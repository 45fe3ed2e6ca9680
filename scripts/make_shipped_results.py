"""Compute the results shipped in ``neuromodlab/data/results/`` (for the notebooks).

The default ambiguity and packing runs of ``python -m neuromodlab reproduce`` (seed 0): W1D2
Tutorials 3 and 4 load them with ``neuromodlab.experiments.load_shipped_result`` to show the
larger experiment next to the quick one students run live. ``tests/test_shipped_results.py``
checks they match the current default configurations and retrains one part of each to compare.

    .venv/bin/python scripts/make_shipped_results.py                 # ~4 min on 2 CPU cores
    .venv/bin/python scripts/make_shipped_results.py --from results  # copy a reproduce output
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from neuromodlab.experiments import RESULTS_DIR, SHIPPED_RESULTS, load_shipped_result  # noqa: E402
from neuromodlab.experiments.reproduce import reproduce  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="a finished `reproduce` output folder (default mode, seed 0) to "
                             "copy data/<name>.json from, instead of running")
    args = parser.parse_args()
    names = sorted(SHIPPED_RESULTS)
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source
        if source is None:
            source = Path(tmp) / "run"
            reproduce(source, mode="default", seed=0, experiments=tuple(names))
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        for name in names:
            path = source / "data" / f"{name}.json"
            if not path.exists():
                sys.exit(f"{path} is missing: is {source} the output of a default reproduce run?")
            shutil.copyfile(path, RESULTS_DIR / f"{name}.json")
    for name in names:
        result = load_shipped_result(name)
        default = type(result.config).default()
        if result.config != default:
            sys.exit(f"{name}: the copied result was not made with the default configuration")
        print(f"{name}: {RESULTS_DIR / (name + '.json')} ({result.info.seeds} seeds)")


if __name__ == "__main__":
    main()
