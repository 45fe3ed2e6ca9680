"""The course build: tutorials/ is exactly what nbgrader makes from solutions/ (sync), nothing of
the solutions or hidden tests leaks into tutorials/, and both follow the notebook hygiene rules
(COURSE_GUIDE.md). Runs real nbgrader (generate_assignment), no notebook execution."""

import ast
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from neuromodlab.grading import course as gbuild
from neuromodlab.grading import notebooks as nbh
from neuromodlab.grading import settings

ROOT = Path(__file__).resolve().parents[1]
SOURCES = gbuild.source_notebooks(ROOT)
RELEASES = [gbuild.release_path(ROOT, p) for p in SOURCES]
IDS = [f"{p.parent.name}/{p.stem}" for p in SOURCES]
# Issue 3 asks this tutorial for at least 4 graded exercises and an interactive demo.
FIRST_TUTORIAL = "W1D1_MultitaskRNNs/W1D1_Tutorial1"


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_there_are_tutorials():
    assert SOURCES, "no notebooks under solutions/"
    assert FIRST_TUTORIAL in IDS


# --- 1. sync -----------------------------------------------------------------------------------


def test_tutorials_equal_a_fresh_build_of_solutions():
    """tutorials/ == nbgrader generate_assignment (+ post-processing) of solutions/ right now."""
    problems = gbuild.release_differences(ROOT)
    assert not problems, ("tutorials/ is out of sync; run `make course` "
                          "(python -m neuromodlab.grading build):\n" + "\n".join(problems))


# --- 6. leaks ----------------------------------------------------------------------------------


def _release_text() -> dict:
    """Every file under tutorials/ as text (notebooks: their cell sources and outputs)."""
    out = {}
    for path in sorted((ROOT / settings.RELEASE_DIR).rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            nb = nbh.read(path)
            text += "\n".join(c.source for c in nb.cells)
        out[_rel(path)] = text
    return out


@pytest.mark.parametrize("marker", [nbh.BEGIN_SOLUTION, nbh.END_SOLUTION, "BEGIN HIDDEN",
                                    "HIDDEN TESTS", "END HIDDEN"])
def test_no_markers_in_release(marker):
    for rel, text in _release_text().items():
        assert marker not in text, f"{rel} contains {marker!r}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_no_solution_body_or_hidden_test_in_release(source):
    nb = nbh.read(source)
    solution = nbh.distinctive_lines(nb, nbh.BEGIN_SOLUTION, nbh.END_SOLUTION)
    hidden = nbh.distinctive_lines(nb, nbh.BEGIN_HIDDEN, nbh.END_HIDDEN)
    assert solution, "a tutorial without solution bodies?"
    assert hidden, "a tutorial without hidden tests?"
    for rel, text in _release_text().items():
        for line in sorted(solution):
            assert line not in text, f"solution line {line!r} leaked into {rel}"
        for line in sorted(hidden):
            assert line not in text, f"hidden-test line {line!r} leaked into {rel}"


@pytest.mark.parametrize("release", RELEASES, ids=IDS)
def test_every_solution_cell_is_a_stub_in_release(release):
    nb = nbh.read(release)
    solutions = [c for c in nb.cells if nbh.is_solution(c) and c.cell_type == "code"]
    assert solutions
    for cell in solutions:
        assert "raise NotImplementedError" in cell.source, nbh.grade_id(cell)


# --- hygiene: sources ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_source_is_normalized_and_lint_clean(source):
    nb = nbh.read(source)
    rel = _rel(source)
    assert nbh.lint_source(nb, rel) == []
    fresh = gbuild.prepare_source(nbh.read(source), rel)
    assert nbh.dumps(fresh) == source.read_text(encoding="utf-8"), (
        f"{rel} is not normalized (outputs, widget state or metadata): run `make course`")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_normalizing_a_freshly_saved_source_is_idempotent(source):
    """As if saved from Jupyter: outputs, widget state, timings, no folded cells."""
    nb = nbh.read(source)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for k, cell in enumerate(nb.cells):
        cell.metadata.pop("cellView", None)
        if cell.cell_type == "code":
            cell.execution_count = k
            cell.outputs = [nbformat.v4.new_output("stream", text="hi\n")]
            cell.metadata["execution"] = {"iopub.execute_input": "2025-01-01T00:00:00Z"}
    once = nbh.dumps(gbuild.prepare_source(nb, _rel(source)))
    twice = nbh.dumps(gbuild.prepare_source(nbh.read_text(once), _rel(source)))
    assert once == twice == source.read_text(encoding="utf-8")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_source_grade_ids_and_kernel(source):
    nb = nbh.read(source)
    assert nb.metadata.kernelspec.name == "python3"
    ids = [nbh.grade_id(c) for c in nb.cells if nbh.is_nbgrader(c)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids)


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_each_exercise_has_a_graded_test_with_visible_and_hidden_parts(source):
    nb = nbh.read(source)
    cells = nb.cells
    exercises = 0
    for i, cell in enumerate(cells):
        if not (nbh.is_solution(cell) and cell.cell_type == "code"):
            continue
        exercises += 1
        test = cells[i + 1]
        gid = nbh.grade_id(cell)
        assert nbh.is_test(test), f"{gid}: the cell after a solution cell must be its test cell"
        visible = nbh.remove_regions(test.source, nbh.BEGIN_HIDDEN, nbh.END_HIDDEN)
        assert nbh.BEGIN_HIDDEN in test.source, f"{nbh.grade_id(test)} has no hidden tests"
        assert "checks.check_" in visible or "assert" in visible, \
            f"{nbh.grade_id(test)} has no visible tests"
        # only asserts, never a bare expression at the end (read as partial credit)
        for version in (test.source, visible):
            assert nbh.last_statement_problem(version) is None
        # the markdown above names the exercise
        above = "\n".join(c.source for c in cells[max(0, i - 3):i] if c.cell_type == "markdown")
        assert "### Coding Exercise" in above, f"{gid}: no '### Coding Exercise' heading above"
    assert exercises >= (4 if FIRST_TUTORIAL in _rel(source) else 1)


def _assert_messages(source: str) -> list:
    tree = ast.parse(source)
    return [node.msg for node in ast.walk(tree) if isinstance(node, ast.Assert)]


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_assertion_messages_state_no_numbers(source):
    """Assertion messages say what is wrong, never the expected values."""
    for cell in nbh.read(source).cells:
        if nbh.is_test(cell):
            for msg in _assert_messages(cell.source):
                assert msg is not None, f"{nbh.grade_id(cell)}: an assert without a message"
                assert isinstance(msg, ast.Constant), f"{nbh.grade_id(cell)}: computed message"
                assert not re.search(r"\d\.\d", msg.value), msg.value


# --- hygiene: releases (and the Neuromatch skeleton) --------------------------------------------


@pytest.mark.parametrize("release", RELEASES, ids=IDS)
def test_release_has_no_outputs_widget_state_or_volatile_metadata(release):
    raw = json.loads(release.read_text(encoding="utf-8"))
    assert set(raw["metadata"]) <= {"kernelspec", "language_info"}
    assert raw["metadata"]["kernelspec"]["name"] == "python3"
    for cell in raw["cells"]:
        assert set(cell["metadata"]) <= set(nbh.KEEP_CELL_METADATA)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def _cells_with_tag(nb, tag):
    return [c for c in nb.cells if tag in nbh.tags(c)]


@pytest.mark.parametrize("release", RELEASES, ids=IDS)
def test_release_badge_and_install_cell_come_from_the_repo_setting(release):
    nb = nbh.read(release)
    badge, = _cells_with_tag(nb, settings.TAG_BADGE)
    url = settings.colab_url(_rel(release))
    assert f'href="{url}"' in badge.source
    assert url.startswith(f"https://colab.research.google.com/github/{settings.repo_slug()}/")
    install, = _cells_with_tag(nb, settings.TAG_INSTALL)
    assert install.source.startswith("# @title")
    assert install.metadata.get("cellView") == "form"
    assert nb.cells.index(install) < min(i for i, c in enumerate(nb.cells) if "import " in
                                         c.source and c is not install)
    # installs exactly one thing, neuromodlab from REPO_URL, and never torch & co. in Colab
    calls = [node for node in ast.walk(ast.parse(install.source)) if isinstance(node, ast.Call)
             and ast.unparse(node.func) == "subprocess.run"]
    assert len(calls) == 1
    args = [e.value for e in calls[0].args[0].elts if isinstance(e, ast.Constant)]
    assert args[:3] == ["-m", "pip", "install"]
    assert [a for a in args[3:] if not a.startswith("-")] == [settings.pip_spec()]
    assert settings.REPO_URL in settings.pip_spec()
    assert '"--no-deps"] if "google.colab" in sys.modules' in install.source
    assert not re.search(r"torch|numpy|matplotlib|ipywidgets|tqdm", settings.pip_spec())


@pytest.mark.parametrize("release", RELEASES, ids=IDS)
def test_release_follows_the_neuromatch_skeleton(release):
    nb = nbh.read(release)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("# Tutorial Objectives", "# Setup", "# Section 1", "# Summary",
                    "## Further reading"):
        assert re.search(rf"^{re.escape(heading)}", markdown, re.M), f"missing {heading!r}"
    assert re.search(r"^# Tutorial \d+: ", markdown, re.M)
    assert markdown.count("Estimated timing") >= 3
    assert "arXiv:2408.01316" in markdown  # the paper, cited (by its abstract only)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert settings.TAG_INSTALL in nbh.tags(first_code)
    assert any("set_seed(" in c.source for c in nb.cells if c.cell_type == "code")


def _headed(cells, heading: str) -> list[int]:
    """Indices of the markdown cells with a line starting with ``heading``."""
    return [i for i, c in enumerate(cells) if c.cell_type == "markdown"
            and re.search(rf"^{re.escape(heading)}", c.source, re.M)]


def _python(source: str) -> ast.Module:
    """A code cell's AST (IPython magics and shell lines dropped)."""
    return ast.parse(re.sub(r"^\s*[%!].*$", "", source, flags=re.M))


def _widget_names(cells) -> set:
    """Names bound by ``from neuromodlab.widgets[.x] import ...`` / ``import ... as`` in code."""
    names = set()
    for cell in cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(_python(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "neuromodlab.widgets"):
                names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.asname for a in node.names
                          if a.asname and a.name.startswith("neuromodlab.widgets")}
    return names


def _called_roots(source: str) -> set:
    """Root names of every call in ``source`` (``mod.f(x)`` -> ``mod``, ``f(x)`` -> ``f``)."""
    roots = set()
    for node in ast.walk(_python(source)):
        if isinstance(node, ast.Call):
            func = node.func
            while isinstance(func, ast.Attribute):
                func = func.value
            if isinstance(func, ast.Name):
                roots.add(func.id)
    return roots


@pytest.mark.parametrize("release", RELEASES, ids=IDS)
def test_think_boxes_have_collapsed_answers(release):
    cells = nbh.read(release).cells
    thinks = _headed(cells, "### Think! ")
    assert thinks, "no Think! box"
    for i in thinks:
        answer = cells[i + 1]
        assert settings.TAG_THINK_ANSWER in nbh.tags(answer)
        text = answer.source.strip()
        assert text.startswith("<details>") and text.endswith("</details>")
        assert "<summary>" in text


@pytest.mark.parametrize("release", RELEASES, ids=IDS)
def test_interactive_demos_use_a_neuromodlab_widget(release):
    cells = nbh.read(release).cells
    demos = _headed(cells, "### Interactive Demo ")
    if FIRST_TUTORIAL in _rel(release):
        assert demos
    widgets = _widget_names(cells)
    for i in demos:
        code = next(c for c in cells[i + 1:] if c.cell_type == "code")
        assert code.source.startswith("# @title")
        assert _called_roots(code.source) & widgets, (
            f"the demo after cell {i} must call a function imported from neuromodlab.widgets "
            f"(imported: {sorted(widgets)})")


def test_no_think_answers_option_strips_them():
    nb = nbh.read(RELEASES[0])
    n = len(_cells_with_tag(nb, settings.TAG_THINK_ANSWER))
    gbuild.postprocess_release(nb, _rel(RELEASES[0]), think_answers=False)
    stripped = _cells_with_tag(nb, settings.TAG_THINK_ANSWER)
    assert n > 0 and len(stripped) == n
    assert all(c.source == gbuild.THINK_ANSWER_REMOVED for c in stripped)


# --- configuration -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config():
    loader = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT))
    return loader.load_config()


def test_nbgrader_config(config):
    assert config.CourseDirectory.root == str(ROOT)
    assert config.CourseDirectory.source_directory == settings.SOURCE_DIR == "solutions"
    assert config.CourseDirectory.release_directory == settings.RELEASE_DIR == "tutorials"
    assert config.CourseDirectory.db_url == f"sqlite:///{ROOT / settings.DB_FILE}"
    assert isinstance(config.Execute.timeout, int) and config.Execute.timeout >= 60
    assert config.Execute.kernel_name == "python3"
    assert config.Execute.interrupt_on_timeout is True
    assert config.OverwriteCells.add_missing_cells is True
    assert config.IgnorePattern.enabled is True
    assert "HideHiddenTests" in [p.__name__ for p in config.GenerateFeedback.preprocessors]


def test_ignore_pattern_drops_warnings_and_progress_bars_only(config):
    pattern = re.compile(config.IgnorePattern.pattern)
    noise = [
        "/x/torch/nn/modules/rnn.py:83: UserWarning: dropout option adds dropout\n"
        "  warnings.warn(\"dropout option\")\n",
        "/x/y.py:1: DeprecationWarning: old\n",
        "training:  40%|████      | 40/100 [00:01<00:02, 25.3it/s]",
    ]
    assert all(pattern.search(text) for text in noise)
    assert not pattern.search("AssertionError: ring_bump differs from the reference\n")


def test_lms_file_names_give_student_and_notebook(config):
    regexp = re.compile(config.FileNameCollectorPlugin.named_regexp)
    m = regexp.match("/c/nbgrader_work/downloaded/A/extracted/"
                     "doejane_late_12345_67890_Copy of W1D1_Tutorial1.ipynb")
    assert m and m["student_id"] == "doejane" and m["file_id"] == "Copy of W1D1_Tutorial1.ipynb"


@pytest.mark.parametrize("path", ["gradebook.db", "submitted/s/A/n.ipynb", "autograded/x",
                                  "feedback/x", f"{settings.WORK_DIR}/grades.csv",
                                  f"{settings.WORK_DIR}/downloaded/A/archive/x.ipynb"])
def test_grading_state_is_git_ignored(path):
    proc = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
    if proc.returncode == 128:
        pytest.skip("not a git checkout")
    assert proc.returncode == 0, f"{path} is not git-ignored"


def test_cli_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "-m", "neuromodlab.grading", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for command in ("build", "repair", "autograde", "feedback", "export", "scores"):
        assert re.search(rf"^\s+{command}\s", out, re.M), f"{command} missing from --help"


# --- the CLI's errors say what is wrong and how to fix it (no nbgrader run) ---------------------

A = "W1D1_MultitaskRNNs"


@pytest.fixture
def bare_course(tmp_path):
    """A course with config and solutions only (not built, nothing handed in)."""
    return gbuild.init_course(tmp_path / "course", ROOT)


def _release_without_nbgrader(course):
    """tutorials/<A>/ as if built (copied from the checked-in release)."""
    dest = course / settings.RELEASE_DIR / A
    dest.mkdir(parents=True)
    for path in (ROOT / settings.RELEASE_DIR / A).glob("*.ipynb"):
        (dest / path.name).write_bytes(path.read_bytes())


def _cli_error(capsys, *argv):
    from neuromodlab.grading.__main__ import main

    assert main([*map(str, argv)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


def test_cli_error_outside_a_course(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _cli_error(capsys, "scores", A)
    assert f"no course at or above {tmp_path.resolve()}" in err and "--root" in err
    err = _cli_error(capsys, "--root", tmp_path, "export")
    assert "is not a course directory" in err and "nbgrader_config.py" in err


@pytest.mark.parametrize("command", ["build --assignment", "repair", "autograde", "feedback",
                                     "scores"])
def test_cli_error_unknown_assignment_lists_the_known_ones(capsys, bare_course, command):
    err = _cli_error(capsys, "--root", bare_course, *command.split(), "W1D1")
    assert "unknown assignment 'W1D1'" in err
    assert all(a in err for a in gbuild.assignments(ROOT))


def test_cli_error_assignment_not_built(capsys, bare_course):
    err = _cli_error(capsys, "--root", bare_course, "autograde", A)
    assert f"no release of {A}" in err and f"build --assignment {A}" in err


@pytest.mark.parametrize("command", ["repair", "autograde"])
def test_cli_error_nothing_handed_in_says_how_to_collect(capsys, bare_course, command):
    _release_without_nbgrader(bare_course)
    err = _cli_error(capsys, "--root", bare_course, command, A)
    assert f"no hand-ins of {A}" in err
    assert f"nbgrader zip_collect {A}" in err and f"submitted/<student id>/{A}/" in err


def test_cli_error_feedback_before_autograde(capsys, bare_course):
    _release_without_nbgrader(bare_course)
    err = _cli_error(capsys, "--root", bare_course, "feedback", A)
    assert f"nothing autograded for {A}" in err and f"autograde {A}" in err


def test_cli_error_without_nbgrader_says_how_to_install_it(capsys, bare_course, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "nbgrader" else real(name, *a))
    for argv in (["build"], ["export"]):
        err = _cli_error(capsys, "--root", bare_course, *argv)
        assert "nbgrader is not installed" in err and '.[instructor]' in err


# --- concurrent commands: the course lock and the file-by-file release -------------------------


def test_course_lock_makes_a_second_command_wait(tmp_path):
    """A second holder waits (and says so) until the first releases the lock; the lock is
    re-entrant within a process (autograde calls repair)."""
    held, leaving = tmp_path / "held", tmp_path / "leaving"
    lock = tmp_path / gbuild.LOCK_FILE
    lock.parent.mkdir(parents=True)
    code = ("import fcntl, pathlib, time\n"  # another process holding the course's lock file
            f"with open({str(lock)!r}, 'a') as f:\n"
            "    fcntl.flock(f, fcntl.LOCK_EX)\n"
            f"    pathlib.Path({str(held)!r}).touch()\n"
            "    time.sleep(2)\n"
            f"    pathlib.Path({str(leaving)!r}).touch()\n")
    other = subprocess.Popen([sys.executable, "-c", code])
    try:
        for _ in range(600):
            if held.exists() or other.poll() is not None:
                break
            time.sleep(0.05)
        assert held.exists(), "the other process never took the lock"
        messages = []
        start = time.perf_counter()
        with gbuild.course_lock(tmp_path, log=messages.append):
            waited = time.perf_counter() - start
            assert leaving.exists(), "got the lock while the other process still held it"
            with gbuild.course_lock(tmp_path, log=messages.append):  # re-entrant: no wait
                pass
    finally:
        assert other.wait(timeout=60) == 0
    assert waited > 0.5
    assert len(messages) == 1 and "waiting for another neuromodlab.grading command" in \
        messages[0]


def test_release_files_are_replaced_one_by_one(tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    for d, files in ((new, {"a.ipynb": "A2", "same.ipynb": "S", "sub/c.txt": "C"}),
                     (old, {"a.ipynb": "A1", "same.ipynb": "S", "stale.ipynb": "X",
                            "gone/d.txt": "D"})):
        for rel, text in files.items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_text(text)
    same_inode = (old / "same.ipynb").stat().st_ino
    gbuild._replace_tree(new, old)
    got = {p.relative_to(old).as_posix(): p.read_text() for p in old.rglob("*") if p.is_file()}
    assert got == {"a.ipynb": "A2", "same.ipynb": "S", "sub/c.txt": "C"}
    assert not (old / "gone").exists()
    assert (old / "same.ipynb").stat().st_ino == same_inode  # unchanged files are not touched
