"""Autograde a large class in parallel: batches of submissions, one nbgrader process per batch,
spread over Dask workers (a LocalCluster on this machine, or any Dask scheduler), PostgreSQL as
the gradebook.

The coordinator (this process) holds the course lock and does everything that touches shared
state once: it repairs the hand-ins, writes the assignment (notebooks, graded cells, the course
row) into the gradebook with ``nbgrader generate_assignment`` so that no two workers race to
create them, and records 0 for students with nothing to grade. Each Dask task then runs one
``nbgrader autograde A --force`` restricted to its batch of students (``student_id_exclude``
everyone else), which writes only their rows and ``autograded/<student>/``. Starting nbgrader
costs seconds (imports, config, the database connection), so one process per student would
spend more time starting than grading; the default batch gives every worker about two batches
(:func:`default_batch_size`). A worker that dies mid-task has its task rescheduled by Dask (the
nbgrader child dies with it, see :func:`_child_command`); a submission that fails in its batch is
graded again alone, up to ``retries`` times. Every submission ends graded or listed as failed
with its log tail; none is dropped. Feedback (one ``nbgrader generate_feedback``: HTML only, no
kernels, about a second per notebook) and the grade export then run in the coordinator.

Workers on other machines need this course directory at the same path (a shared filesystem)
and the same environment (neuromodlab + nbgrader); see docs/instructors.md.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import settings
from .course import BuildError, check_assignment, course_lock, nbgrader_env, require_nbgrader
from .grades import AutogradeResult, gradebook, prepare_gradebook, record_zero
from .grades import export as export_grades
from .grades import feedback as generate_feedback
from .postgres import is_sqlite, redact, resolve_db_url
from .repair import hand_in_dirs, release_notebooks, repair_submissions

DASK_INSTALL_HINT = 'pip install -e ".[dask]"  (or: pip install "dask[distributed]")'
LOG_TAIL_LINES = 30
SCHEDULER_TIMEOUT = "15s"  # how long to try reaching a --scheduler address


@dataclass
class Outcome:
    """What happened to one student's submission in one stage (autograde or feedback)."""

    student: str
    ok: bool
    seconds: float = 0.0
    worker: str = ""
    log_tail: str = ""


@dataclass
class ParallelResult(AutogradeResult):
    outcomes: list = field(default_factory=list)  # Outcome per autograded student
    batches: dict = field(default_factory=dict)  # Dask task key -> the students it graded
    feedback_error: str = ""
    export_path: Path | None = None


def require_dask():
    try:
        import distributed
    except ImportError as err:
        raise BuildError(f"parallel grading needs Dask distributed ({err}): "
                         f"{DASK_INSTALL_HINT}") from None
    return distributed


def check_parallel_db(url: str, workers: int | None, scheduler: str | None) -> None:
    """A BuildError when several processes would write to an SQLite gradebook."""
    if workers is not None and workers < 1:
        raise BuildError(f"--workers must be at least 1 (got {workers})")
    if is_sqlite(url) and ((workers or 1) > 1 or scheduler):
        raise BuildError(
            f"parallel grading needs a PostgreSQL gradebook, but the gradebook is "
            f"{redact(url)}: SQLite locks the whole database for every write, so concurrent "
            f"nbgrader processes fail with 'database is locked'. Give a server database with "
            f"--db postgresql://USER@HOST:5432/DBNAME (or set NEUROMODLAB_DB_URL), or grade "
            f"sequentially (no --workers / --scheduler).")


# ---------------------------------------------------------------------------------------------
# What runs on a worker


# Run nbgrader through this launcher: it asks Linux to SIGKILL it when the worker thread that
# started it dies, so a killed worker leaves no orphan nbgrader still writing the student's rows
# while Dask grades the same student again elsewhere.
_LAUNCHER = ("import ctypes, os, signal, sys\n"
             "try:\n"
             "    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"  # PR_SET_PDEATHSIG
             "except (AttributeError, OSError):\n"
             "    pass\n"
             "if os.getppid() != int(sys.argv[1]):\n"  # the parent died before prctl
             "    sys.exit(70)\n"
             "os.execv(sys.argv[2], sys.argv[2:])\n")


def _child_command(args) -> list[str]:
    python = sys.executable
    return [python, "-c", _LAUNCHER, str(os.getpid()), python, "-m", "nbgrader", *map(str, args)]


def _run_nbgrader(root, args):
    import subprocess

    require_nbgrader()
    return subprocess.run(_child_command(args), cwd=str(root), env=nbgrader_env(), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:])


def grade_batch(root: str, assignment: str, batch: tuple, others: tuple, db: str,
                timeout: int | None = None) -> list[Outcome]:
    """One ``nbgrader autograde <assignment> --force`` for the students of ``batch`` (a Dask
    task); ``others`` are the remaining students with a hand-in, excluded here. Returns an
    Outcome per student of the batch: graded if its ``autograded/`` folder was written."""
    import shutil

    start = time.perf_counter()
    done = [Path(root) / "autograded" / s / assignment for s in batch]
    for path in done:  # so that a folder left by an earlier run never counts as graded now
        shutil.rmtree(path, ignore_errors=True)
    args = ["autograde", assignment, "--force", f"--CourseDirectory.db_url={db}"]
    if len(batch) == 1:
        args += ["--student", batch[0]]
    elif others:
        args.append("--CourseDirectory.student_id_exclude=" + ",".join(others))
    if timeout is not None:
        args.append(f"--Execute.timeout={int(timeout)}")
    proc = _run_nbgrader(root, args)
    seconds, where, tail = time.perf_counter() - start, _where(), _tail(proc.stdout)
    # nbgrader removes the output folder of a submission it failed to grade
    return [Outcome(s, path.is_dir(), seconds, where, tail) for s, path in zip(batch, done,
                                                                                 strict=True)]


def default_batch_size(n_students: int, n_workers: int) -> int:
    """Students per nbgrader process: about two batches per worker (a slow batch does not
    leave the other workers idle for long, and the start-up cost is paid twice per worker)."""
    return max(1, math.ceil(n_students / (2 * max(1, n_workers))))


def _where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------------------------
# The coordinator


class _Cluster:
    """A Client on ``scheduler``, on the given ``client``, or on a new LocalCluster."""

    def __init__(self, workers, scheduler, client, log):
        self.workers, self.scheduler, self.client, self.log = workers, scheduler, client, log
        self._own = []

    def __enter__(self):
        distributed = require_dask()
        if self.client is not None:
            return self.client
        if self.scheduler:
            try:
                client = distributed.Client(self.scheduler, timeout=SCHEDULER_TIMEOUT)
            except OSError as err:  # TimeoutError and refused connections are OSErrors
                raise BuildError(f"cannot reach the Dask scheduler at {self.scheduler!r} "
                                 f"({err}); start it (`dask scheduler`) and its workers, or "
                                 f"leave out --scheduler to grade on this machine") from None
        else:
            # one thread per worker process: each task is one nbgrader process (and a kernel)
            cluster = distributed.LocalCluster(n_workers=self.workers or 1, threads_per_worker=1,
                                               processes=True, dashboard_address=None,
                                               silence_logs=logging.ERROR)
            self._own.append(cluster)
            client = distributed.Client(cluster)
        self._own.insert(0, client)
        return client

    def __exit__(self, *exc):
        for thing in self._own:
            thing.close()


def _check_workers_see(client, root: Path) -> None:
    seen = client.run(os.path.isdir, str(root))
    blind = [addr for addr, ok in seen.items() if not ok]
    if not seen:
        raise BuildError("the Dask cluster has no workers: start some (`dask worker ADDRESS`)")
    if blind:
        raise BuildError(f"Dask workers {blind} cannot see the course directory {root}: workers "
                         f"need it at the same path (a shared filesystem, e.g. NFS)")


def _fan_out(client, students, batch_size, args, everyone, log) -> tuple[dict, dict]:
    """Grade ``students`` in batches of ``batch_size`` (``everyone``: all students with a
    hand-in, so that a batch can exclude the rest); one progress line per student as its
    batch finishes. Returns ({student: Outcome}, {task key: batch})."""
    from distributed import as_completed

    root, assignment, db, timeout = args
    batches = [tuple(students[i:i + batch_size]) for i in range(0, len(students), batch_size)]
    futures, keys = {}, {}
    for k, batch in enumerate(batches):
        key = f"autograde-batch{k}-{time.time_ns()}"
        others = tuple(sorted(everyone - set(batch)))
        future = client.submit(grade_batch, root, assignment, batch, others, db, timeout,
                               key=key, pure=False)
        futures[future], keys[key] = batch, batch
    outcomes = {}
    for future in as_completed(futures):
        batch = futures[future]
        if future.status == "finished":
            got = future.result()
        else:  # "error" (e.g. KilledWorker: its workers kept dying) or "cancelled"
            err = future.exception() if future.status == "error" else future.status
            got = [Outcome(s, False, 0.0, "", f"the task failed: {err!r}") for s in batch]
        for outcome in got:
            outcomes[outcome.student] = outcome
            status = "ok" if outcome.ok else "failed in its batch"
            log(f"[autograde {len(outcomes)}/{len(students)}] {outcome.student}: {status} "
                f"(batch of {len(batch)}, {outcome.seconds:.1f} s"
                f"{', ' + outcome.worker if outcome.worker else ''})")
    return outcomes, keys


def _retry_alone(client, outcomes: dict, retries: int, args, everyone, log) -> None:
    """Grade each failed submission again in a batch of its own (all of them at once), up to
    ``retries`` times."""
    for attempt in range(1, retries + 1):
        failed = [s for s, o in outcomes.items() if not o.ok]
        if not failed:
            return
        log(f"autograde: grading {len(failed)} failed submission(s) again, alone "
            f"(attempt {attempt} of {retries})")
        again, _ = _fan_out(client, failed, 1, args, everyone, log)
        outcomes.update(again)


def autograde(root, assignment: str, *, db: str | None = None, workers: int | None = None,
              scheduler: str | None = None, client=None, repair: bool = True,
              timeout: int | None = None, retries: int = 2, batch_size: int | None = None,
              feedback: bool = True, export_to=settings.GRADES_CSV,
              log=print) -> ParallelResult:
    """Repair, autograde the students in batches of ``batch_size`` (default:
    :func:`default_batch_size`), one Dask task per batch, grade failed submissions again alone
    (``retries`` times), record 0 for empty hand-ins, then (``feedback``) generate feedback and
    (``export_to``) export grades to a CSV. Re-running re-grades everyone (``--force``) and
    gives the same rows."""
    root = Path(root).resolve()
    check_assignment(root, assignment)
    url = resolve_db_url(root, db)
    check_parallel_db(url, workers, scheduler)
    if retries < 0:
        raise BuildError(f"--retries must be 0 or more (got {retries})")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size < 1):
        raise BuildError(f"--batch must be a whole number of students >= 1 (got {batch_size!r})")
    require_dask()
    require_nbgrader()
    expected = {Path(name).stem for name in release_notebooks(root, assignment)}
    with course_lock(root, log=log):
        result = ParallelResult(assignment, 0)
        if repair:
            result.repairs = repair_submissions(root, assignment, log=log)
        students = [d.parent.name for d in hand_in_dirs(root, assignment)]
        empty = [s for s in students
                 if not any((root / "submitted" / s / assignment / f"{n}.ipynb").exists()
                            for n in expected)]
        todo = [s for s in students if s not in empty]
        log(f"autograde {assignment}: {len(todo)} submission(s) in parallel, gradebook "
            f"{redact(url)}")
        start = time.perf_counter()
        prepare_gradebook(root, assignment, url)
        log(f"autograde: assignment written to the gradebook ({time.perf_counter() - start:.1f} s)")
        start = time.perf_counter()
        with _Cluster(workers, scheduler, client, log) as dask_client:
            _check_workers_see(dask_client, root)
            n_workers = len(dask_client.scheduler_info()["workers"])
            log(f"autograde: {n_workers} Dask worker(s) ready "
                f"({time.perf_counter() - start:.1f} s)")
            size = batch_size or default_batch_size(len(todo), n_workers)
            args = (str(root), assignment, url, timeout)
            everyone = set(students)
            outcomes, result.batches = _fan_out(dask_client, todo, size, args, everyone, log)
            _retry_alone(dask_client, outcomes, retries, args, everyone, log)
            result.outcomes = [outcomes[s] for s in todo]
        for student in empty:
            record_zero(root, assignment, student, url)
            result.missing.append(student)
        _check_gradebook(root, assignment, url, result)
        if feedback and result.graded:
            try:
                generate_feedback(root, assignment, quiet=True, db=url)
            except BuildError as err:  # the grades are in; report, and still export them
                result.feedback_error = str(err)
                log(f"feedback FAILED: {err}")
        if export_to is not None:
            result.export_path = export_grades(root, export_to, quiet=True, db=url)
    for outcome in result.outcomes:
        if not outcome.ok:
            log(f"NOT graded: {outcome.student}; last lines of its nbgrader log:\n"
                f"{outcome.log_tail}")
    result.returncode = 1 if result.failed or result.feedback_error else 0
    return result


def _check_gradebook(root, assignment, url, result) -> None:
    """Sort students into graded / failed from the task outcomes AND the gradebook: a task
    that reported success counts only if its submission is in the gradebook."""
    with gradebook(root, url) as gb:
        in_gradebook = {s.student.id for s in gb.assignment_submissions(assignment)}
    for outcome in result.outcomes:
        if outcome.ok and outcome.student not in in_gradebook:
            outcome.ok = False
            outcome.log_tail = "nbgrader finished but the gradebook has no submission"
        (result.graded if outcome.ok else result.failed).append(outcome.student)
