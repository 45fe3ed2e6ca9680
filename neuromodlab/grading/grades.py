"""Autograde, feedback, export, and reading scores back from the gradebook.

Scores are always read from the gradebook in Python: ``nbgrader validate`` (and nbgrader's exit
codes in general) do not tell whether tests passed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks as nbh
from . import settings
from .course import BuildError, run_nbgrader
from .repair import repair_submissions


def db_url(root) -> str:
    return "sqlite:///" + str(Path(root).resolve() / settings.DB_FILE)


@contextlib.contextmanager
def gradebook(root):
    from nbgrader.api import Gradebook

    with Gradebook(db_url(root), settings.COURSE_ID) as gb:
        yield gb


def release_notebooks(root, assignment) -> list[str]:
    return sorted(p.stem for p in (Path(root) / settings.RELEASE_DIR / assignment).glob("*.ipynb"))


def submitted_students(root, assignment) -> list[str]:
    return sorted(d.parent.name for d in (Path(root) / "submitted").glob(f"*/{assignment}")
                  if d.is_dir())


@dataclass
class AutogradeResult:
    assignment: str
    returncode: int
    graded: list = field(default_factory=list)  # students with an autograded folder
    failed: list = field(default_factory=list)  # nbgrader could not grade them (see log)
    missing: list = field(default_factory=list)  # nothing to grade: recorded as 0
    repairs: list = field(default_factory=list)
    log: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed


def record_zero(root, assignment: str, student: str) -> None:
    """Give ``student`` a submission of ``assignment`` scored 0 (nothing was handed in)."""
    from nbgrader.api import MissingEntry

    with gradebook(root) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy session warnings
        gb.update_or_create_student(student)
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            submission = gb.add_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.auto_score is None and grade.manual_score is None:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
        gb.db.commit()


def autograde(root, assignment: str, *, repair: bool = True, timeout: int | None = None,
              extra_args=(), quiet: bool = False, log=print) -> AutogradeResult:
    """Repair the hand-ins, run ``nbgrader autograde <assignment> --force`` once for every
    student, and record 0 for students who handed in no gradable notebook."""
    root = Path(root)
    expected = set(release_notebooks(root, assignment))
    if not expected:
        raise BuildError(f"no release of {assignment!r}: run the build first")
    result = AutogradeResult(assignment, 0)
    if repair:
        result.repairs = repair_submissions(root, assignment, log=log)
    students = submitted_students(root, assignment)
    empty = [s for s in students
             if not any((root / "submitted" / s / assignment / f"{n}.ipynb").exists()
                        for n in expected)]
    args = ["autograde", assignment, "--force", *extra_args]
    if timeout is not None:
        args.append(f"--Execute.timeout={int(timeout)}")
    if empty:
        args.append("--CourseDirectory.student_id_exclude=" + ",".join(empty))
    if len(empty) < len(students):
        proc = run_nbgrader(root, *args, check=False, quiet=quiet)
        result.returncode, result.log = proc.returncode, proc.stdout
    for student in empty:
        record_zero(root, assignment, student)
        result.missing.append(student)
    for student in students:
        if student in empty:
            continue
        if (root / "autograded" / student / assignment).is_dir():
            result.graded.append(student)
        else:
            result.failed.append(student)
    if result.failed:
        log(f"autograde: nbgrader could not grade {result.failed} (see its log above)")
    return result


def feedback(root, assignment: str, quiet: bool = False) -> list[Path]:
    """``nbgrader generate_feedback <assignment> --force``; returns the HTML files."""
    root = Path(root)
    run_nbgrader(root, "generate_feedback", assignment, "--force", quiet=quiet)
    return sorted((root / "feedback").glob(f"*/{assignment}/*.html"))


def export(root, to=None, quiet: bool = False) -> Path:
    """``nbgrader export`` to a CSV (default nbgrader_work/grades.csv); returns its path."""
    root = Path(root)
    path = Path(to) if to is not None else root / settings.GRADES_CSV
    path = path if path.is_absolute() else root / path
    path.parent.mkdir(parents=True, exist_ok=True)
    run_nbgrader(root, "export", f"--to={path}", quiet=quiet)
    return path


def scores(root, assignment: str) -> dict:
    """``{student: {notebook: {grade_id: (score, max_score)}}}`` from the gradebook."""
    out: dict = {}
    with gradebook(root) as gb:
        for submission in gb.assignment_submissions(assignment):
            per_nb = out.setdefault(submission.student.id, {})
            for notebook in submission.notebooks:
                per_nb[notebook.name] = {g.name: (float(g.score), float(g.max_score))
                                         for g in notebook.grades}
    return out


def totals(root, assignment: str) -> dict:
    """``{student: (score, max_score)}`` summed over the assignment's notebooks."""
    out = {}
    for student, per_nb in scores(root, assignment).items():
        cells = [v for nb in per_nb.values() for v in nb.values()]
        out[student] = (sum(s for s, _ in cells), sum(m for _, m in cells))
    return out


def needs_manual_grading(root, assignment: str) -> dict:
    """``{student: [grade_id, ...]}`` of cells nbgrader could not score by itself."""
    out = {}
    with gradebook(root) as gb:
        for submission in gb.assignment_submissions(assignment):
            for notebook in submission.notebooks:
                names = [g.name for g in notebook.grades if g.needs_manual_grade]
                if names:
                    out.setdefault(submission.student.id, []).extend(names)
    return out


def execution_seconds(nb) -> float | None:
    """Wall time of an executed notebook, from the timings nbclient records per cell (first
    cell started -> last cell finished; kernel start-up not included)."""
    starts, ends = [], []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing:
            starts.append(timing["iopub.execute_input"])
        if "shell.execute_reply" in timing:
            ends.append(timing["shell.execute_reply"])
    if not starts or not ends:
        return None

    def parse(stamp):
        return _dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))

    return (max(map(parse, ends)) - min(map(parse, starts))).total_seconds()


def error_names(nb) -> list[tuple[int, str]]:
    """``(cell index, exception name)`` of every error output of an executed notebook."""
    return [(i, out.get("ename", "?")) for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" for out in cell.get("outputs", [])
            if out.get("output_type") == "error"]


def autograded_notebook(root, assignment: str, student: str, notebook: str):
    return nbh.read(Path(root) / "autograded" / student / assignment / f"{notebook}.ipynb")
