"""A course of one small notebook (three exercises, 6 points) and simulated hand-ins, for grading
tests and benchmarks that need many submissions: each autogrades in about a second, yet goes
through the real build, repair and nbgrader path of the full course."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat

from neuromodlab.grading import course, settings
from neuromodlab.grading import notebooks as nbh

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT, NOTEBOOK = "Tiny", "Tiny_Tutorial1"
POINTS = {"test_square": 2.0, "test_double": 1.0, "test_cube": 3.0}
SOLUTIONS = {"ex_square": "return x * x", "ex_double": "return 2 * x", "ex_cube": "return x ** 3"}


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked,
            "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _source_notebook():
    cells = [nbformat.v4.new_markdown_cell("# Tiny tutorial\n\nThree small exercises."),
             nbformat.v4.new_code_cell("import math", metadata=_meta("setup", locked=True))]
    for name, body in SOLUTIONS.items():
        fn = name[3:]
        cells.append(nbformat.v4.new_code_cell(
            f"def {fn}(x):\n    \"\"\"Exercise: {fn} of x.\"\"\"\n    ### BEGIN SOLUTION\n"
            f"    {body}\n    ### END SOLUTION", metadata=_meta(name, solution=True)))
        check = {"square": (3, 9, -2, 4), "double": (3, 6, -2, -4), "cube": (2, 8, -1, -1)}[fn]
        test = f"test_{fn}"
        cells.append(nbformat.v4.new_code_cell(
            f"assert {fn}({check[0]}) == {check[1]}, \"{fn} is wrong for a positive number\"\n"
            f"### BEGIN HIDDEN TESTS\nassert {fn}({check[2]}) == {check[3]}, "
            f"\"{fn} is wrong for a negative number\"\n### END HIDDEN TESTS",
            metadata=_meta(test, grade=True, locked=True, points=POINTS[test])))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def make_course(dest) -> Path:
    """A built course directory at ``dest`` (the repository's nbgrader_config.py, one
    assignment)."""
    dest = Path(dest)
    (dest / settings.SOURCE_DIR / ASSIGNMENT).mkdir(parents=True)
    shutil.copy2(ROOT / course.CONFIG_FILE, dest / course.CONFIG_FILE)
    nbh.write(_source_notebook(), dest / settings.SOURCE_DIR / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    course.build(dest, quiet=True)
    return dest


# --- hand-ins: student -> (notebook or None, file name, expected {grade_id: score}) ------------


def _cell(nb, gid):
    return next(c for c in nb.cells if nbh.grade_id(c) == gid)


def _solved(rel, sol, names):
    nb = copy.deepcopy(rel)
    for name in names:
        _cell(nb, name).source = _cell(sol, name).source
    return nb


def _stripped(nb):
    """As Colab may save it: no nbgrader metadata, no cell ids."""
    raw = json.loads(nbformat.writes(nb))
    raw["nbformat_minor"] = 0
    for k, cell in enumerate(raw["cells"]):
        cell.pop("id", None)
        cell["metadata"] = {"id": f"colab{k:04d}"}
    return raw


def _duplicated(nb, gid):
    nb = copy.deepcopy(nb)
    cell = _cell(nb, gid)
    twin = copy.deepcopy(cell)
    twin["id"] = cell.get("id", "cell") + "-copy"
    nb.cells.insert(nb.cells.index(cell) + 1, twin)
    return nb


def hand_ins(root, copies: int = 1) -> dict:
    """Simulated submissions: 6 special cases plus 4 plain ones (correct, blank, two partial)
    per ``copies``:
    ``{student: (notebook, file name, {grade_id: expected score})}``."""
    root = Path(root)
    sol = nbh.read(root / settings.SOURCE_DIR / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    rel = nbh.read(root / settings.RELEASE_DIR / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    full, zero = dict(POINTS), dict.fromkeys(POINTS, 0.0)
    name = f"{NOTEBOOK}.ipynb"
    syntax = copy.deepcopy(sol)
    _cell(syntax, "ex_cube").source = "def cube(x:\n    return x"
    raises = copy.deepcopy(sol)
    _cell(raises, "ex_double").source = "def double(x):\n    raise ValueError('oops')"
    wrong = copy.deepcopy(sol)
    _cell(wrong, "ex_square").source = "def square(x):\n    return abs(x) * 3"
    out = {}
    for k in range(copies):
        out |= {
            f"correct-{k}": (sol, name, full),
            f"blank-{k}": (rel, name, zero),
            f"partial-{k}": (_solved(rel, sol, ["ex_square", "ex_double"]), name,
                             {**zero, "test_square": 2.0, "test_double": 1.0}),
            f"partial-cube-{k}": (_solved(rel, sol, ["ex_cube"]), name,
                                  {**zero, "test_cube": 3.0}),
        }
    out |= {
        "broken-syntax": (syntax, name, {**full, "test_cube": 0.0}),
        "broken-raises": (raises, name, {**full, "test_double": 0.0}),
        "wrong-answer": (wrong, name, {**full, "test_square": 0.0}),
        "colab-stripped": (_stripped(_solved(rel, sol, ["ex_square"])), f"Copy of {name}",
                           {**zero, "test_square": 2.0}),
        "duplicated-cell": (_duplicated(sol, "ex_double"), name, full),
        "nothing": (None, "Untitled.ipynb", zero),
    }
    return out


def write_hand_ins(root, submissions: dict) -> None:
    for student, (nb, filename, _) in submissions.items():
        write_notebook(nb, Path(root) / "submitted" / student / ASSIGNMENT / filename)


def write_notebook(nb, path: Path) -> None:
    """A hand-in as a student's tool would save it: ``None`` is an empty notebook, a plain dict
    is written as raw JSON (not validated: e.g. metadata stripped), a NotebookNode by nbformat."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if nb is None:
        nbformat.write(nbformat.v4.new_notebook(), str(path))
    elif isinstance(nb, dict) and not isinstance(nb, nbformat.NotebookNode):
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    else:
        nbformat.write(nb, str(path))
