"""Wall time of autograding N submissions: sequential (SQLite, one nbgrader process) vs parallel
(2-worker Dask LocalCluster, PostgreSQL gradebook), measured in one run on the same hand-ins.

    python benchmarks/bench_autograde.py [--n 8] [--workers 2] [--real]

Default: the small course of tests/tiny_course.py (about a second of notebook per submission,
so the per-submission cost is mostly nbgrader and kernel start-up). ``--real``: the course's
W1D1_Tutorial1 solutions handed in N times (minutes). Needs PostgreSQL's server binaries
(scripts/install_postgres.sh): a throwaway server is started and removed here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from neuromodlab.grading import course, grades, parallel, settings  # noqa: E402
from neuromodlab.grading import notebooks as nbh  # noqa: E402
from neuromodlab.grading.postgres import TemporaryPostgres  # noqa: E402

REAL = ("W1D1_MultitaskRNNs", "W1D1_Tutorial1")


def tiny(tmp: Path, n: int):
    import tiny_course as tc

    root = tc.make_course(tmp / "course")
    kinds = {"correct", "blank", "partial", "partial-cube"}  # one of each per copy, in turn
    plain = [(s, v) for s, v in tc.hand_ins(root, copies=-(-n // 4)).items()
             if s.rsplit("-", 1)[0] in kinds]
    tc.write_hand_ins(root, dict(plain[:n]))
    return root, tc.ASSIGNMENT


def real(tmp: Path, n: int):
    assignment, name = REAL
    root = course.init_course(tmp / "course", ROOT)
    for path in (root / settings.SOURCE_DIR).iterdir():
        if path.name != assignment:
            shutil.rmtree(path)
    for path in (root / settings.SOURCE_DIR / assignment).glob("*.ipynb"):
        if path.stem != name:
            path.unlink()
    course.build(root, quiet=True)
    sol = nbh.read(root / settings.SOURCE_DIR / assignment / f"{name}.ipynb")
    for k in range(n):
        nbh.write(sol, root / "submitted" / f"student-{k:02d}" / assignment / f"{name}.ipynb")
    return root, assignment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="submissions (default 8)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--real", action="store_true", help="grade W1D1_Tutorial1 solutions")
    args = parser.parse_args()
    os.environ.pop("NEUROMODLAB_DB_URL", None)
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        root, assignment = (real if args.real else tiny)(Path(tmp), args.n)
        n = len(list((root / "submitted").glob(f"*/{assignment}")))
        start = time.perf_counter()
        seq = grades.autograde(root, assignment, quiet=True, log=lambda *a: None)
        t_seq = time.perf_counter() - start
        assert seq.ok and len(seq.graded) == n, seq.failed
        with TemporaryPostgres() as pg:
            start = time.perf_counter()
            par = parallel.autograde(root, assignment, db=pg.url, workers=args.workers,
                                     feedback=False, export_to=None, log=lambda *a: None)
            t_par = time.perf_counter() - start
            assert par.returncode == 0 and len(par.graded) == n, par.failed
            same = grades.scores(root, assignment, pg.url) == grades.scores(root, assignment)
    print(f"autograde {n} submissions of {assignment} on {os.cpu_count()} cores:")
    print(f"  sequential (SQLite, 1 nbgrader process): {t_seq:7.1f} s")
    print(f"  parallel   ({args.workers} Dask workers, PostgreSQL):  {t_par:7.1f} s "
          f"(includes cluster start-up and gradebook preparation)")
    print(f"  speed-up: {t_seq / t_par:.2f}x; same grades: {same}")


if __name__ == "__main__":  # Dask's worker processes re-import this file: no work at import
    main()
