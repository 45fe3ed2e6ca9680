"""Parallel autograde (Dask + PostgreSQL) against the sequential SQLite run, with real components.

One module-wide course (tests/tiny_course.py: one small notebook, 14 simulated hand-ins: correct,
blank, partial, broken, Colab-stripped, duplicated cell, nothing handed in) is graded three times:

1. sequentially into the course's SQLite gradebook (the embedded default);
2. in parallel on a LocalCluster of 3 worker processes into a PostgreSQL gradebook, served by a
   real Debian PostgreSQL server started here on a loopback port with a throwaway data folder;
3. again into the same PostgreSQL gradebook (a rerun), on a 2-worker cluster of which one worker
   process is killed with SIGKILL while it grades a submission.

Every cell's grade must equal the sequential run's (and the hand-in's expected score), with the
same number of rows in every table, after both parallel runs.
"""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import tiny_course as tc

from neuromodlab.grading import __main__ as cli
from neuromodlab.grading import grades, parallel, postgres
from neuromodlab.grading.course import BuildError

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["student", "submitted_assignment", "submitted_notebook", "grade", "comment"]

notebooks = pytest.mark.notebooks


@pytest.fixture(scope="module")
def pg():
    """A PostgreSQL server for this module (stopped, data removed, at the end)."""
    if postgres.find_postgres_bin() is None:
        message = f"PostgreSQL server binaries not found: {postgres.POSTGRES_INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with postgres.TemporaryPostgres() as server:
        yield server


def _cell_grades(root, db):
    """``{(student, notebook, grade_id): (auto, manual, needs_manual, max)}`` from the
    gradebook, through nbgrader's API."""
    out = {}
    with grades.gradebook(root, db) as gb:
        for submission in gb.assignment_submissions(tc.ASSIGNMENT):
            for notebook in submission.notebooks:
                for g in notebook.grades:
                    out[(submission.student.id, notebook.name, g.name)] = (
                        g.auto_score, g.manual_score, g.needs_manual_grade, g.max_score)
    return out


def _row_counts(db):
    import sqlalchemy

    engine = sqlalchemy.create_engine(db)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(sqlalchemy.text(f"SELECT count(*) FROM {t}")).scalar()
                    for t in TABLES}
    finally:
        engine.dispose()


def _snapshot(root, db):
    return SimpleNamespace(cells=_cell_grades(root, db), rows=_row_counts(db))


def _executing(dask_worker):
    return [ts.key for ts in dask_worker.state.executing]


def _kill_a_busy_worker(client, grading: threading.Thread) -> dict:
    """Wait until a worker has been grading the same submission for a second, then SIGKILL
    that worker process. Returns what was killed (pid, task key, its child processes)."""
    import psutil

    seen = {}
    while grading.is_alive():
        now = {addr: keys for addr, keys in client.run(_executing).items() if keys}
        for addr, keys in now.items():
            if seen.get(addr) == keys and time.monotonic() - seen[(addr, "t")] > 1.0:
                pid = client.run(os.getpid, workers=[addr])[addr]
                children = [p.pid for p in psutil.Process(pid).children(recursive=True)]
                os.kill(pid, signal.SIGKILL)
                return {"pid": pid, "keys": keys, "children": children}
            if seen.get(addr) != keys:
                seen[addr], seen[(addr, "t")] = keys, time.monotonic()
        time.sleep(0.1)
    return {}


@pytest.fixture(scope="module")
def runs(pg, tmp_path_factory):
    from distributed import Client, LocalCluster

    root = tc.make_course(tmp_path_factory.mktemp("parallel") / "course")
    submissions = tc.hand_ins(root, copies=2)
    tc.write_hand_ins(root, submissions)
    sqlite_url = postgres.default_db_url(root)

    start = time.perf_counter()
    seq = grades.autograde(root, tc.ASSIGNMENT, quiet=True, log=lambda *a: None, db=sqlite_url)
    seq_seconds = time.perf_counter() - start
    sequential = _snapshot(root, sqlite_url)

    log1 = []
    start = time.perf_counter()
    first = parallel.autograde(root, tc.ASSIGNMENT, db=pg.url, workers=3, log=log1.append)
    first_seconds = time.perf_counter() - start
    after_first = _snapshot(root, pg.url)

    log2 = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        box = {}
        thread = threading.Thread(target=lambda: box.update(result=parallel.autograde(
            root, tc.ASSIGNMENT, db=pg.url, client=client, log=log2.append)))
        thread.start()
        try:
            killed = _kill_a_busy_worker(client, thread)
        finally:
            thread.join()
    second = box["result"]
    after_rerun = _snapshot(root, pg.url)
    return SimpleNamespace(root=root, submissions=submissions, seq=seq, sequential=sequential,
                           first=first, after_first=after_first, log1=log1, second=second,
                           after_rerun=after_rerun, log2=log2, killed=killed,
                           seconds=(seq_seconds, first_seconds))


@notebooks
def test_sequential_run_gives_the_expected_grades(runs):
    assert len(runs.submissions) >= 12
    assert runs.seq.ok and runs.seq.missing == ["nothing"]
    for student, (_, _, expected) in runs.submissions.items():
        got = {gid: auto for (s, _, gid), (auto, *_rest) in runs.sequential.cells.items()
               if s == student}
        assert got == expected, student


@notebooks
@pytest.mark.parametrize("run", ["first", "second"])
def test_parallel_run_grades_every_submission_once(runs, run):
    result = getattr(runs, run)
    students = set(runs.submissions)
    assert result.returncode == 0, getattr(runs, "log1" if run == "first" else "log2")
    assert result.failed == [] and result.feedback_error == ""
    assert result.missing == ["nothing"]
    assert sorted(result.graded) == sorted(students - {"nothing"})
    assert [o.student for o in result.outcomes] == [s for s in sorted(students)
                                                    if s != "nothing"]
    progress = [line for line in (runs.log1 if run == "first" else runs.log2)
                if line.startswith("[autograde ")]
    assert len(progress) == len(students) - 1  # one line per submission, as it finishes


@notebooks
@pytest.mark.parametrize("snapshot", ["after_first", "after_rerun"])
def test_parallel_grades_equal_the_sequential_run(runs, snapshot):
    got = getattr(runs, snapshot)
    assert got.cells == runs.sequential.cells  # every cell of every notebook of every student
    assert got.rows == runs.sequential.rows  # no lost or duplicated rows
    n = len(runs.submissions)
    assert got.rows["submitted_assignment"] == n
    assert got.rows["grade"] == n * len(tc.POINTS)


@notebooks
def test_killed_worker_still_ends_with_everyone_graded(runs):
    import psutil

    killed = runs.killed
    assert killed, "no worker was busy: nothing was killed"
    [key] = killed["keys"]
    batch = runs.second.batches[key]  # the students the killed worker was grading
    assert batch
    for student in batch:
        outcome = next(o for o in runs.second.outcomes if o.student == student)
        assert outcome.ok and not outcome.worker.endswith(f":{killed['pid']}"), outcome
    assert killed["children"], "the killed worker was not running nbgrader"
    alive = [p for p in killed["children"] if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert alive == [], "processes of the killed worker survived it"


@notebooks
def test_feedback_and_export_follow_the_parallel_run(runs):
    feedback = sorted(p.parts[-3] for p in (runs.root / "feedback").glob(
        f"*/{tc.ASSIGNMENT}/{tc.NOTEBOOK}.html"))
    assert feedback == sorted(s for s in runs.submissions if s != "nothing")
    with open(runs.second.export_path, newline="") as handle:
        rows = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(handle)}
    expected = {s: sum(exp.values()) for s, (_, _, exp) in runs.submissions.items()}
    assert rows == expected


# --- refusals and messages (no grading) ---------------------------------------------------------


def test_sqlite_gradebook_is_refused_for_parallel_grading(monkeypatch):
    monkeypatch.delenv(postgres.DB_URL_ENV, raising=False)
    with pytest.raises(BuildError, match="needs a PostgreSQL gradebook.*database is locked"):
        parallel.autograde(ROOT, "W1D1_MultitaskRNNs", workers=2)
    with pytest.raises(BuildError, match="--db postgresql://"):
        parallel.autograde(ROOT, "W1D1_MultitaskRNNs", scheduler="tcp://127.0.0.1:1",
                           db="sqlite:////tmp/x.db")


def test_cli_refuses_bad_input(monkeypatch, capsys):
    monkeypatch.delenv(postgres.DB_URL_ENV, raising=False)
    assert cli.main(["--root", str(ROOT), "autograde", "W1D1_MultitaskRNNs", "--workers",
                     "2"]) == 1
    assert "needs a PostgreSQL gradebook" in capsys.readouterr().err
    assert cli.main(["--root", str(ROOT), "autograde", "W1D1_MultitaskRNNs", "--workers",
                     "0", "--db", "postgresql://u@h/db"]) == 1
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert cli.main(["--root", str(ROOT), "autograde", "NoSuchDay", "--workers", "2",
                     "--db", "postgresql://u@h/db"]) == 1
    assert "unknown assignment 'NoSuchDay'" in capsys.readouterr().err


def test_unreachable_scheduler_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(parallel, "SCHEDULER_TIMEOUT", "2s")
    address = f"tcp://127.0.0.1:{postgres.free_port()}"
    with pytest.raises(BuildError, match="cannot reach the Dask scheduler"):
        with parallel._Cluster(None, address, None, print):
            pass


def test_missing_dask_names_the_install_command(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    with pytest.raises(BuildError, match=r'pip install -e "\.\[dask\]"'):
        parallel.require_dask()


def test_db_url_helpers(monkeypatch, tmp_path):
    monkeypatch.delenv(postgres.DB_URL_ENV, raising=False)
    assert postgres.nbgrader_db_args(tmp_path, None) == []
    assert postgres.is_sqlite(postgres.resolve_db_url(tmp_path))
    monkeypatch.setenv(postgres.DB_URL_ENV, "postgresql://grader:secret@db/course")
    assert postgres.nbgrader_db_args(tmp_path, None) == [  # the driver we install is named
        "--CourseDirectory.db_url=postgresql+psycopg2://grader:secret@db/course"]
    for given in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg2://u@h/db"):
        assert postgres.resolve_db_url(tmp_path, given) == "postgresql+psycopg2://u@h/db"
    assert postgres.resolve_db_url(tmp_path, "postgresql+pg8000://u@h/db") == (
        "postgresql+pg8000://u@h/db")  # an explicit driver is the user's choice
    assert not postgres.is_sqlite(postgres.resolve_db_url(tmp_path))
    assert "secret" not in postgres.redact(postgres.resolve_db_url(tmp_path))
    assert postgres.is_sqlite("sqlite+pysqlite:///x.db")


@notebooks  # builds a small course with nbgrader (~15 s)
def test_an_unusable_gradebook_url_is_a_clear_error_before_grading(tmp_path):
    refused = f"postgresql://grader:secret@127.0.0.1:{postgres.free_port()}/course"
    with pytest.raises(BuildError, match=r"cannot connect to the gradebook database .*"
                       r"Connection refused.*server is running") as err:
        postgres.check_reachable(postgres.resolve_db_url(tmp_path, refused))
    assert "secret" not in str(err.value)
    import importlib.util

    assert importlib.util.find_spec("pg8000") is None  # a known driver we do not install
    with pytest.raises(BuildError, match=r"driver .* is not installed .*No module named "
                       r"'pg8000'.*leave the driver out"):
        postgres.check_reachable("postgresql+pg8000://u@h/db")
    for bad in ("not a url", "postgresql+nosuchdriver://u@h/db"):
        with pytest.raises(BuildError, match=r"is not usable.*postgresql://USER@HOST"):
            postgres.check_reachable(bad)
    root = tc.make_course(tmp_path / "course")  # the library stops there too, before nbgrader
    tc.write_hand_ins(root, {s: v for s, v in tc.hand_ins(root).items() if s == "correct-0"})
    with pytest.raises(BuildError, match="cannot connect to the gradebook database"):
        grades.autograde(root, tc.ASSIGNMENT, quiet=True, log=lambda *a: None, db=refused)


@notebooks
def test_a_submission_nbgrader_cannot_grade_is_retried_alone_then_marked(pg, tmp_path):
    # A hand-in that is not a notebook at all makes nbgrader fail for that student only: the
    # others of its batch are graded, it is graded again alone (retries=1), and then reported.
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # a gradebook of its own, apart from the module's runs
        conn.execute(sqlalchemy.text("CREATE DATABASE retry_test"))
    engine.dispose()
    db = pg.url.rsplit("/", 1)[0] + "/retry_test"
    root = tc.make_course(tmp_path / "course")
    kinds = ("correct", "blank", "partial")
    tc.write_hand_ins(root, {s: v for s, v in tc.hand_ins(root).items()
                             if s.rsplit("-", 1)[0] in kinds})
    broken = root / "submitted" / "broken" / tc.ASSIGNMENT / f"{tc.NOTEBOOK}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text("this is not a notebook {", encoding="utf-8")
    log = []
    result = parallel.autograde(root, tc.ASSIGNMENT, db=db, workers=2, retries=1, batch_size=4,
                                feedback=False, export_to=None, log=log.append)
    graded = sorted(s.parent.name for s in (root / "submitted").glob(f"*/{tc.ASSIGNMENT}")
                    if s.parent.name != "broken")
    assert result.failed == ["broken"] and sorted(result.graded) == graded
    assert result.returncode == 1
    assert any("grading 1 failed submission(s) again, alone" in line for line in log), log
    assert any(line.startswith("NOT graded: broken") for line in log), log
    assert len([line for line in log if line.startswith("[autograde ") and "broken" in line]) == 2


@notebooks
def test_sequential_grading_into_postgresql_gives_the_expected_grades(pg, tmp_path):
    # The sequential path with --db (no Dask): the same nbgrader run, a PostgreSQL gradebook.
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("CREATE DATABASE sequential_test"))
    engine.dispose()
    # the URL as docs/instructors.md writes it: no driver named
    db = pg.url.rsplit("/", 1)[0].replace("postgresql+psycopg2://", "postgresql://") + (
        "/sequential_test")
    assert db.startswith("postgresql://")
    root = tc.make_course(tmp_path / "course")
    keep = ("correct-0", "blank-0", "partial-0", "broken-raises", "colab-stripped", "nothing")
    submissions = {s: v for s, v in tc.hand_ins(root).items() if s in keep}
    tc.write_hand_ins(root, submissions)
    result = grades.autograde(root, tc.ASSIGNMENT, quiet=True, log=lambda *a: None, db=db)
    assert result.ok and result.missing == ["nothing"]
    got = _snapshot(root, postgres.resolve_db_url(root, db))
    for student, (_, _, expected) in submissions.items():
        scores = {gid: auto for (s, _, gid), (auto, *_rest) in got.cells.items() if s == student}
        assert scores == expected, student
    assert got.rows["submitted_assignment"] == len(submissions)
    assert got.rows["grade"] == len(submissions) * len(tc.POINTS)
    sqlite = postgres.default_db_url(root)  # the course's own gradebook got nothing
    assert not (root / "gradebook.db").exists() or _row_counts(sqlite)["grade"] == 0
