"""``python -m neuromodlab.grading <command>``: the course pipeline (see docs/instructors.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import grades, settings
from .course import (
    BuildError,
    build,
    check_assignment,
    check_course_root,
    find_course_root,
    release_differences,
)
from .repair import repair_submissions


def _print_totals(root, assignment, db=None) -> None:
    totals = grades.totals(root, assignment, db)
    if not totals:
        print(f"no graded submissions of {assignment} yet (run: python -m neuromodlab.grading "
              f"autograde {assignment})")
        return
    width = max(len(s) for s in totals)
    print(f"{'student':<{width}}  score")
    for student, (score, max_score) in sorted(totals.items()):
        print(f"{student:<{width}}  {score:g} / {max_score:g}")
    manual = grades.needs_manual_grading(root, assignment, db)
    if manual:
        print(f"needs manual grading (formgrader): {manual}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neuromodlab.grading",
                                     description=__doc__.split(":")[1].strip())
    parser.add_argument("--root", type=Path, default=None,
                        help="course directory (default: the one holding nbgrader_config.py "
                             "at or above the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = ("gradebook URL, e.g. postgresql://USER@HOST:5432/DB (default: $NEUROMODLAB_DB_URL, "
               "else gradebook.db in the course root)")

    p = sub.add_parser("build", help="solutions/ -> tutorials/ (nbgrader generate_assignment)")
    p.add_argument("--assignment", action="append", default=None,
                   help="only this assignment (repeatable); default: all")
    p.add_argument("--no-think-answers", action="store_true",
                   help="graded class: replace Think! answers by a note in the release "
                        "(do not commit that release)")
    p.add_argument("--check", action="store_true",
                   help="only check that tutorials/ equals a fresh build (exit 1 if not)")

    p = sub.add_parser("repair", help="fix renamed files / lost metadata / duplicate cells")
    p.add_argument("assignment")

    p = sub.add_parser("autograde", help="repair, then nbgrader autograde --force")
    p.add_argument("assignment")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per cell (default: nbgrader_config.py)")
    p.add_argument("--no-repair", action="store_true")
    p.add_argument("--db", default=None, help=db_help)
    p.add_argument("--workers", type=int, default=None,
                   help="grade in parallel on a local Dask cluster of N worker processes, then "
                        "generate feedback and export grades (N > 1 needs a PostgreSQL --db)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="grade in parallel on the Dask cluster of this scheduler "
                        "(tcp://host:8786); needs a PostgreSQL --db and a shared filesystem")
    p.add_argument("--retries", type=int, default=2,
                   help="parallel: grade a failed submission again, alone, up to this many "
                        "times (default 2)")
    p.add_argument("--batch", type=int, default=None, metavar="K",
                   help="parallel: students per nbgrader process (default: about two batches "
                        "per worker; each process costs a few seconds to start)")
    p.add_argument("--no-feedback", action="store_true",
                   help="parallel: skip feedback generation (grades are still exported)")

    p = sub.add_parser("feedback", help="nbgrader generate_feedback --force (HTML per student)")
    p.add_argument("assignment")
    p.add_argument("--db", default=None, help=db_help)

    p = sub.add_parser("export", help="nbgrader export to a CSV")
    p.add_argument("--to", default=settings.GRADES_CSV)
    p.add_argument("--db", default=None, help=db_help)

    p = sub.add_parser("scores", help="print each student's total from the gradebook")
    p.add_argument("assignment")
    p.add_argument("--db", default=None, help=db_help)

    args = parser.parse_args(argv)
    try:
        root = check_course_root(args.root) if args.root else find_course_root()
        if getattr(args, "assignment", None) and args.command != "build":
            check_assignment(root, args.assignment)
        if args.command == "build":
            if args.check:
                problems = release_differences(root)
                for problem in problems:
                    print(problem)
                print("tutorials/ is in sync with solutions/" if not problems else
                      f"{len(problems)} problem(s)")
                return 1 if problems else 0
            written = build(root, args.assignment, think_answers=not args.no_think_answers)
            print(f"built {len(written)} notebook(s) under {root / settings.RELEASE_DIR}")
        elif args.command == "repair":
            repair_submissions(root, args.assignment)
        elif args.command == "autograde" and (args.workers is not None or args.scheduler):
            return _autograde_parallel(root, args)
        elif args.command == "autograde":
            result = grades.autograde(root, args.assignment, repair=not args.no_repair,
                                      timeout=args.timeout, db=args.db)
            _print_totals(root, args.assignment, args.db)
            if result.missing:
                print(f"nothing handed in (scored 0): {result.missing}")
            if result.failed:
                print(f"NOT graded (see the nbgrader log above): {result.failed}")
                return 1
        elif args.command == "feedback":
            files = grades.feedback(root, args.assignment, db=args.db)
            print(f"{len(files)} feedback file(s) under {root / 'feedback'}")
        elif args.command == "export":
            print(f"grades written to {grades.export(root, args.to, db=args.db)}")
        elif args.command == "scores":
            _print_totals(root, args.assignment, args.db)
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _autograde_parallel(root, args) -> int:
    from . import parallel

    result = parallel.autograde(root, args.assignment, db=args.db, workers=args.workers,
                                scheduler=args.scheduler, repair=not args.no_repair,
                                timeout=args.timeout, retries=args.retries,
                                batch_size=args.batch, feedback=not args.no_feedback)
    _print_totals(root, args.assignment, args.db)
    if result.missing:
        print(f"nothing handed in (scored 0): {result.missing}")
    print(f"grades written to {result.export_path}")
    if result.feedback_error:
        print("feedback NOT generated (see the error above)")
    if result.failed:
        print(f"NOT graded (see the log lines above): {result.failed}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
