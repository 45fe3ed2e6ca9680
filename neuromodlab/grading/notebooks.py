"""Small nbformat helpers shared by the build, the repair step and the tests.

nbgrader cell kinds (``cell.metadata.nbgrader``): *solution* cells (students write there; the
build replaces ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` by a stub), *grade* cells (test
cells: locked, worth points, may hold ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``)
and *locked* read-only cells.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
# Cell metadata worth keeping in sources and releases; everything else (execution timings,
# collapsed/scrolled state, Colab output ids, ...) is dropped.
KEEP_CELL_METADATA = ("nbgrader", "tags", "deletable", "editable", "cellView")
# Top-level notebook metadata worth keeping ("widgets" = saved widget state: never).
KEEP_NB_METADATA = ("kernelspec", "language_info")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def read_text(text: str) -> nbformat.NotebookNode:
    return nbformat.reads(text, as_version=4)


def dumps(nb) -> str:
    """The text ``write`` produces (1-space indent, like Jupyter, trailing newline)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write(nb, path) -> bool:
    """Write ``nb`` to ``path``; returns whether the file changed."""
    path, text = Path(path), dumps(nb)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_grade(cell) -> bool:
    return bool(nbgrader_meta(cell).get("grade"))


def is_locked(cell) -> bool:
    return bool(nbgrader_meta(cell).get("locked"))


def is_nbgrader(cell) -> bool:
    return bool(nbgrader_meta(cell).get("grade_id"))


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_test(cell) -> bool:
    """An autograded test cell: a grade cell with code that is not a solution."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def tags(cell) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def regions(source: str, begin: str, end: str) -> list[str]:
    """The text strictly between each ``begin`` line and the next ``end`` line."""
    out, current = [], None
    for line in source.splitlines():
        if begin in line:
            current = []
        elif end in line and current is not None:
            out.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return out


def remove_regions(source: str, begin: str, end: str, replacement: str | None = None) -> str:
    """``source`` without the lines from ``begin`` to ``end`` (both included)."""
    out, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
            if replacement is not None:
                out.append(line[: len(line) - len(line.lstrip())] + replacement)
        elif end in line and inside:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def normalize(nb) -> nbformat.NotebookNode:
    """Strip outputs, execution counts, widget state and volatile metadata (in place)."""
    nb.metadata = nbformat.NotebookNode(
        {k: v for k, v in nb.metadata.items() if k in KEEP_NB_METADATA})
    nb.metadata["kernelspec"] = nbformat.NotebookNode(KERNELSPEC)
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode(
            {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if cell.source.lstrip().startswith("# @title"):
                cell.metadata["cellView"] = "form"  # Colab folds the cell behind its title
    return nb


def _returns_none(call: ast.Call) -> bool:
    """Calls known to return None: ``print(...)`` and the self-checks, ``check_*(...)`` or
    ``<module>.check_*(...)`` (e.g. ``checks.check_ring_bump(ring_bump)``,
    ``check_synaptic.check_dense_synapses(dense_synapses)``)."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "print" or func.id.startswith("check_")
    if isinstance(func, ast.Attribute) and func.attr.startswith("check_"):
        owner = func.value
        while isinstance(owner, ast.Attribute):  # a dotted module path: a.b.check_x(...)
            owner = owner.value
        return isinstance(owner, ast.Name)
    return False


def last_statement_problem(source: str) -> str | None:
    """Why a test cell's last statement could be read as a score, or None if it cannot.

    nbgrader reads a test cell's displayed value as partial credit (a number above the cell's
    points breaks grading; ``False`` or a tensor gives full credit), so a test cell must end in a
    statement (an assert, an assignment, a loop, ...) or in a call known to return None (see
    ``_returns_none``). Any other bare expression is a problem: a name, a number, a comparison,
    an attribute, or a call that returns a value (``torch.allclose(a, b)``).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        return f"does not parse: {err}"
    if not tree.body:
        return "is empty"
    last = tree.body[-1]
    if not isinstance(last, ast.Expr):
        return None
    if isinstance(last.value, ast.Call) and _returns_none(last.value):
        return None
    return (f"ends with a bare expression ({ast.unparse(last)[:60]!r}), which nbgrader would "
            "read as a score: end the cell with an assert, or assign the value (_ = ...)")


def lint_source(nb, name: str = "notebook") -> list[str]:
    """Problems that would break grading or leak answers; [] when the source is fine."""
    problems, seen = [], {}
    for index, cell in enumerate(nb.cells):
        where = f"{name} cell {index}"
        meta = nbgrader_meta(cell)
        text = cell.source
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{where}: has outputs (save the source without outputs)")
        has_solution = BEGIN_SOLUTION in text or END_SOLUTION in text
        has_hidden = BEGIN_HIDDEN in text or END_HIDDEN in text
        if not meta:
            if has_solution or has_hidden:
                problems.append(f"{where}: solution/hidden-test markers without nbgrader metadata")
            continue
        gid = meta.get("grade_id")
        if not gid or not GRADE_ID.match(gid):
            problems.append(f"{where}: grade_id {gid!r} must match [A-Za-z0-9_-]+")
        elif gid in seen:
            problems.append(f"{where}: grade_id {gid!r} already used by cell {seen[gid]}")
        else:
            seen[gid] = index
        if has_solution and not meta.get("solution"):
            problems.append(f"{where}: solution markers in a cell not marked as a solution")
        if meta.get("solution") and cell.cell_type == "code" and text.count(BEGIN_SOLUTION) != \
                text.count(END_SOLUTION):
            problems.append(f"{where}: unbalanced solution markers")
        if has_hidden and not meta.get("grade"):
            problems.append(f"{where}: hidden tests in a cell that is not a grade cell")
        if is_test(cell):
            if not meta.get("locked"):
                problems.append(f"{where}: test cell {gid!r} is not locked")
            if not float(meta.get("points", 0)) > 0:
                problems.append(f"{where}: test cell {gid!r} is worth no points")
            visible = remove_regions(text, BEGIN_HIDDEN, END_HIDDEN)
            for label, src in (("source", text), ("release", visible)):
                problem = last_statement_problem(src)
                if problem:
                    problems.append(f"{where}: test cell {gid!r} ({label} version) {problem}")
    return problems


def distinctive_lines(nb, begin: str, end: str, min_length: int = 12) -> set:
    """Lines inside ``begin``/``end`` regions that appear nowhere outside them (comments and
    short lines excluded): if one shows up in a student notebook or feedback, it leaked."""
    inside, outside = set(), set()
    for cell in nb.cells:
        for region in regions(cell.source, begin, end):
            inside |= {line.strip() for line in region.splitlines()}
        outside |= {line.strip() for line in remove_regions(cell.source, begin, end).splitlines()}
    return {line for line in inside - outside
            if len(line) >= min_length and not line.startswith("#")}
