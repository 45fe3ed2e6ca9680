"""``python -m neuromodlab.grading <command>``: the course pipeline (see docs/instructors.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import grades, settings
from .course import BuildError, build, find_course_root, release_differences
from .repair import repair_submissions


def _print_totals(root, assignment) -> None:
    totals = grades.totals(root, assignment)
    if not totals:
        print(f"no graded submissions of {assignment}")
        return
    width = max(len(s) for s in totals)
    print(f"{'student':<{width}}  score")
    for student, (score, max_score) in sorted(totals.items()):
        print(f"{student:<{width}}  {score:g} / {max_score:g}")
    manual = grades.needs_manual_grading(root, assignment)
    if manual:
        print(f"needs manual grading (formgrader): {manual}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neuromodlab.grading",
                                     description=__doc__.split(":")[1].strip())
    parser.add_argument("--root", type=Path, default=None,
                        help="course directory (default: the one holding nbgrader_config.py "
                             "at or above the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)

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

    p = sub.add_parser("feedback", help="nbgrader generate_feedback --force (HTML per student)")
    p.add_argument("assignment")

    p = sub.add_parser("export", help="nbgrader export to a CSV")
    p.add_argument("--to", default=settings.GRADES_CSV)

    p = sub.add_parser("scores", help="print each student's total from the gradebook")
    p.add_argument("assignment")

    args = parser.parse_args(argv)
    try:
        root = args.root.resolve() if args.root else find_course_root()
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
        elif args.command == "autograde":
            result = grades.autograde(root, args.assignment, repair=not args.no_repair,
                                      timeout=args.timeout)
            _print_totals(root, args.assignment)
            if result.missing:
                print(f"nothing handed in (scored 0): {result.missing}")
            if result.failed:
                print(f"NOT graded (see the nbgrader log above): {result.failed}")
                return 1
        elif args.command == "feedback":
            files = grades.feedback(root, args.assignment)
            print(f"{len(files)} feedback file(s) under {root / 'feedback'}")
        elif args.command == "export":
            print(f"grades written to {grades.export(root, args.to)}")
        elif args.command == "scores":
            _print_totals(root, args.assignment)
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
