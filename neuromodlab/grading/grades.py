"""Autograde, feedback, export, and reading scores back from the gradebook.

Scores are always read from the gradebook in Python: ``nbgrader validate`` (and nbgrader's exit
codes in general) do not tell whether tests passed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks as nbh
from . import settings
from .course import BuildError, check_assignment, course_lock, require_nbgrader, run_nbgrader
from .postgres import check_reachable, nbgrader_db_args, resolve_db_url
from .repair import hand_in_dirs, release_notebooks, repair_submissions


def db_url(root, db: str | None = None) -> str:
    """The gradebook: ``db``, else ``$NEUROMODLAB_DB_URL``, else ``gradebook.db`` (SQLite)."""
    return resolve_db_url(root, db)


@contextlib.contextmanager
def gradebook(root, db: str | None = None):
    require_nbgrader()
    from nbgrader.api import Gradebook

    with Gradebook(db_url(root, db), settings.COURSE_ID) as gb:
        yield gb


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


def record_zero(root, assignment: str, student: str, db: str | None = None) -> None:
    """Give ``student`` a submission of ``assignment`` scored 0 (nothing was handed in)."""
    from nbgrader.api import MissingEntry

    with gradebook(root, db) as gb, warnings.catch_warnings():
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


def prepare_gradebook(root, assignment: str, db: str, quiet: bool = True) -> None:
    """Write the assignment, its notebooks and graded cells (and the course) into gradebook
    ``db``, as the build does for the default gradebook. The release goes to a scratch folder,
    so tutorials/ is not touched."""
    check_reachable(db)
    work = Path(root) / settings.WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="gradebook-", dir=work))
    try:
        run_nbgrader(root, "generate_assignment", assignment, "--force",
                     "--CourseDirectory.release_directory=" + scratch.relative_to(root).as_posix(),
                     f"--CourseDirectory.db_url={db}", quiet=quiet)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def autograde(root, assignment: str, *, repair: bool = True, timeout: int | None = None,
              extra_args=(), quiet: bool = False, log=print,
              db: str | None = None) -> AutogradeResult:
    """Repair the hand-ins, run ``nbgrader autograde <assignment> --force`` once for every
    student, and record 0 for students who handed in no gradable notebook."""
    root = Path(root)
    expected = {Path(name).stem for name in release_notebooks(root, assignment)}
    students = [d.parent.name for d in hand_in_dirs(root, assignment)]
    require_nbgrader()
    db_args = nbgrader_db_args(root, db)
    with course_lock(root):
        if db_args:  # not the course's own gradebook (the build fills that one)
            prepare_gradebook(root, assignment, resolve_db_url(root, db), quiet=quiet)
        return _autograde(root, assignment, expected, students, repair, timeout,
                          [*db_args, *extra_args], quiet, log, db)


def _autograde(root, assignment, expected, students, repair, timeout, extra_args, quiet, log,
               db=None):
    result = AutogradeResult(assignment, 0)
    if repair:
        result.repairs = repair_submissions(root, assignment, log=log)
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
        record_zero(root, assignment, student, db)
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


def feedback(root, assignment: str, quiet: bool = False, db: str | None = None) -> list[Path]:
    """``nbgrader generate_feedback <assignment> --force``; returns the HTML files."""
    root = Path(root)
    check_assignment(root, assignment)
    if not any((root / "autograded").glob(f"*/{assignment}")):
        raise BuildError(f"nothing autograded for {assignment} yet: run "
                         f"`python -m neuromodlab.grading autograde {assignment}` first")
    with course_lock(root):
        run_nbgrader(root, "generate_feedback", assignment, "--force",
                     *nbgrader_db_args(root, db), quiet=quiet)
    return sorted((root / "feedback").glob(f"*/{assignment}/*.html"))


def export(root, to=None, quiet: bool = False, db: str | None = None) -> Path:
    """``nbgrader export`` to a CSV (default nbgrader_work/grades.csv); returns its path."""
    root = Path(root)
    path = Path(to) if to is not None else root / settings.GRADES_CSV
    path = path if path.is_absolute() else root / path
    path.parent.mkdir(parents=True, exist_ok=True)
    with course_lock(root):
        run_nbgrader(root, "export", f"--to={path}", *nbgrader_db_args(root, db), quiet=quiet)
    return path


def scores(root, assignment: str, db: str | None = None) -> dict:
    """``{student: {notebook: {grade_id: (score, max_score)}}}`` from the gradebook."""
    out: dict = {}
    with gradebook(root, db) as gb:
        for submission in gb.assignment_submissions(assignment):
            per_nb = out.setdefault(submission.student.id, {})
            for notebook in submission.notebooks:
                per_nb[notebook.name] = {g.name: (float(g.score), float(g.max_score))
                                         for g in notebook.grades}
    return out


def totals(root, assignment: str, db: str | None = None) -> dict:
    """``{student: (score, max_score)}`` summed over the assignment's notebooks."""
    out = {}
    for student, per_nb in scores(root, assignment, db).items():
        cells = [v for nb in per_nb.values() for v in nb.values()]
        out[student] = (sum(s for s, _ in cells), sum(m for _, m in cells))
    return out


def needs_manual_grading(root, assignment: str, db: str | None = None) -> dict:
    """``{student: [grade_id, ...]}`` of cells nbgrader could not score by itself."""
    out = {}
    with gradebook(root, db) as gb:
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
