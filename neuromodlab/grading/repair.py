"""Repair handed-in notebooks before nbgrader grades them.

What students' notebooks go through (Colab, LMS uploads, copy and paste) can break grading:

- **renamed files** (``Copy of W1D1_Tutorial1.ipynb``, ``W1D1_Tutorial1 (1).ipynb``,
  ``W1D1_Tutorial1-2.ipynb``): nbgrader only grades the released file name -> renamed back;
- **lost nbgrader metadata** (as may happen after Colab): nbgrader would see no graded cells ->
  the metadata is re-attached from the release, matching cells by cell id, then by identical
  source, then (solution cells) by similarity within the right stretch of the notebook;
- **duplicate grade_ids** (a copy-pasted graded cell): nbgrader fails the whole submission ->
  only one cell keeps the metadata (the one whose id matches the release, else the first);
- **deleted graded cells**: re-inserted from the release at their place (a deleted test cell is
  then run with its hidden tests; a deleted solution cell comes back as the stub).

The original of every changed notebook is kept under ``nbgrader_work/repair_backup/``.
"""

from __future__ import annotations

import copy
import difflib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nbformat.v4.nbbase import random_cell_id

from . import notebooks as nbh
from . import settings
from .course import BuildError, check_assignment, course_lock

_RENAMED = [
    re.compile(r"^copy of\s+", re.I),  # Colab / Google Drive "Save a copy"
    re.compile(r"\s*\(\d+\)$"),  # browser download duplicates: "name (1)"
    re.compile(r"-\d+$"),  # Canvas re-submissions: "name-1"
    re.compile(r"\s+copy$", re.I),  # macOS Finder
]


def canonical_stem(filename: str) -> str:
    """The notebook name a renamed hand-in most likely had (lower case, no suffix)."""
    stem = Path(filename).stem
    changed = True
    while changed:
        changed = False
        for pattern in _RENAMED:
            new = pattern.sub("", stem)
            if new != stem:
                stem, changed = new, True
    return stem.strip().lower()


@dataclass
class RepairReport:
    """What :func:`repair_notebook` (and :func:`repair_submissions`) did to one notebook."""

    path: str = ""
    renamed_from: str | None = None
    by_id: list = field(default_factory=list)
    by_source: list = field(default_factory=list)
    by_similarity: list = field(default_factory=list)
    reinserted: list = field(default_factory=list)
    duplicates_dropped: list = field(default_factory=list)
    unknown_dropped: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.renamed_from or self.by_id or self.by_source or self.by_similarity
                    or self.reinserted or self.duplicates_dropped or self.unknown_dropped)

    def summary(self) -> str:
        parts = []
        for label in ("renamed_from", "by_id", "by_source", "by_similarity", "reinserted",
                      "duplicates_dropped", "unknown_dropped"):
            value = getattr(self, label)
            if value:
                parts.append(f"{label}={value}")
        return f"{self.path}: " + (", ".join(parts) if parts else "ok")


def _norm(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _def_names(source: str) -> set:
    return set(re.findall(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", source, re.M))


def _strip_nbgrader(cell) -> None:
    for key in ("nbgrader", "deletable", "editable"):
        cell.metadata.pop(key, None)


def _attach(cell, release_cell) -> None:
    cell.metadata["nbgrader"] = copy.deepcopy(release_cell.metadata["nbgrader"])
    for key in ("deletable", "editable"):
        if key in release_cell.metadata:
            cell.metadata[key] = release_cell.metadata[key]
        else:
            cell.metadata.pop(key, None)


def repair_notebook(nb, release_nb, report: RepairReport | None = None):
    """Re-attach nbgrader metadata from ``release_nb``; returns (nb, report). Works in place."""
    report = report or RepairReport()
    release = [c for c in release_nb.cells if nbh.is_nbgrader(c)]
    release_by_gid = {nbh.grade_id(c): c for c in release}
    order = {nbh.grade_id(c): k for k, c in enumerate(release)}

    # cells without an id (nbformat < 4.5, e.g. saved by Colab) get one
    if nb.get("nbformat_minor", 0) < 5:
        nb.nbformat_minor = 5
    for cell in nb.cells:
        if not cell.get("id"):
            cell["id"] = random_cell_id()

    # 1. metadata of cells the release does not know, and duplicate grade_ids
    holders: dict[str, list] = {}
    for cell in nb.cells:
        gid = nbh.grade_id(cell)
        if gid is None:
            if "nbgrader" in cell.metadata:
                _strip_nbgrader(cell)
            continue
        if gid not in release_by_gid:
            _strip_nbgrader(cell)
            report.unknown_dropped.append(gid)
            continue
        holders.setdefault(gid, []).append(cell)
    for gid, cells in holders.items():
        if len(cells) > 1:
            rid = release_by_gid[gid].get("id")
            keep = next((c for c in cells if rid and c.get("id") == rid), cells[0])
            for cell in cells:
                if cell is not keep:
                    _strip_nbgrader(cell)
                    report.duplicates_dropped.append(gid)

    def matched_positions():
        return {nbh.grade_id(c): i for i, c in enumerate(nb.cells) if nbh.is_nbgrader(c)}

    def free(cell, rcell):
        return not nbh.is_nbgrader(cell) and cell.cell_type == rcell.cell_type

    # 2. by cell id
    ids = {c.get("id"): c for c in nb.cells}
    for rcell in release:
        gid = nbh.grade_id(rcell)
        if gid in matched_positions():
            continue
        cell = ids.get(rcell.get("id"))
        if cell is not None and free(cell, rcell):
            _attach(cell, rcell)
            report.by_id.append(gid)

    def window(gid):
        """Indices of the submission between the neighbours of ``gid`` that are matched."""
        pos, k = matched_positions(), order[gid]
        before = [pos[nbh.grade_id(r)] for r in release[:k] if nbh.grade_id(r) in pos]
        after = [pos[nbh.grade_id(r)] for r in release[k + 1:] if nbh.grade_id(r) in pos]
        lo = max(before) + 1 if before else 0
        hi = min(after) if after else len(nb.cells)
        return range(lo, hi) if lo <= hi else range(lo, len(nb.cells))

    # 3. by identical source (test cells, read-only cells, untouched stubs), then by a source
    #    that contains the release's (a test cell with lines added, e.g. the instructor's copy)
    for contains in (False, True):
        for rcell in release:
            gid = nbh.grade_id(rcell)
            target = _norm(rcell.source)
            if gid in matched_positions() or (contains and len(target) < 20):
                continue
            for i in window(gid):
                cell = nb.cells[i]
                text = _norm(cell.source)
                if free(cell, rcell) and (target in text if contains else text == target):
                    _attach(cell, rcell)
                    report.by_source.append(gid)
                    break

    # 4. by similarity (solution cells the student edited), within the window
    for rcell in release:
        gid = nbh.grade_id(rcell)
        if gid in matched_positions():
            continue
        names = _def_names(rcell.source)
        best, best_score = None, 0.0
        for i in window(gid):
            cell = nb.cells[i]
            if not free(cell, rcell):
                continue
            score = difflib.SequenceMatcher(None, rcell.source, cell.source).ratio()
            if names and names & _def_names(cell.source):
                score += 1.0
            if score > best_score:
                best, best_score = cell, score
        if best is not None and best_score >= 0.6:
            _attach(best, rcell)
            report.by_similarity.append(gid)

    # 5. re-insert what is still missing, from the release, after its matched predecessor
    for k, rcell in enumerate(release):
        gid = nbh.grade_id(rcell)
        pos = matched_positions()
        if gid in pos:
            continue
        before = [pos[nbh.grade_id(r)] for r in release[:k] if nbh.grade_id(r) in pos]
        after = [pos[nbh.grade_id(r)] for r in release[k + 1:] if nbh.grade_id(r) in pos]
        at = max(before) + 1 if before else (min(after) if after else len(nb.cells))
        new = copy.deepcopy(rcell)
        new["id"] = random_cell_id()
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        nb.cells.insert(at, new)
        report.reinserted.append(gid)
    return nb, report


def _backup(root: Path, path: Path) -> None:
    rel = path.relative_to(root / "submitted")
    dest = root / settings.WORK_DIR / "repair_backup" / rel
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)


def hand_in_dirs(root, assignment: str) -> list[Path]:
    """``submitted/<student>/<assignment>/`` folders; a BuildError saying how to collect hand-ins
    when there are none."""
    root = Path(root)
    dirs = sorted(d for d in (root / "submitted").glob(f"*/{assignment}") if d.is_dir())
    if not dirs:
        raise BuildError(
            f"no hand-ins of {assignment}: nothing under {root / 'submitted'}/<student>/"
            f"{assignment}/. Collect them first: `nbgrader collect {assignment}` (JupyterHub), "
            f"`nbgrader zip_collect {assignment} --force` (LMS downloads in "
            f"{settings.WORK_DIR}/downloaded/{assignment}/archive/), or copy each file to "
            f"submitted/<student id>/{assignment}/<notebook>.ipynb.")
    return dirs


def release_notebooks(root, assignment: str) -> dict:
    """``{file name: release notebook}`` of ``tutorials/<assignment>/``; a BuildError when the
    assignment is unknown or not built."""
    check_assignment(root, assignment)
    release_dir = Path(root) / settings.RELEASE_DIR / assignment
    releases = {p.name: nbh.read(p) for p in sorted(release_dir.glob("*.ipynb"))}
    if not releases:
        raise BuildError(f"no release of {assignment} in {release_dir}: build it first "
                         f"(`python -m neuromodlab.grading build --assignment {assignment}`)")
    return releases


def repair_submissions(root, assignment: str, students=None, log=print) -> list[RepairReport]:
    """Repair ``submitted/<student>/<assignment>/*.ipynb`` in place against the release in
    ``tutorials/<assignment>/``. Returns one report per expected notebook found."""
    root = Path(root)
    releases = release_notebooks(root, assignment)
    reports = []
    with course_lock(root):
        for student_dir in hand_in_dirs(root, assignment):
            student = student_dir.parent.name
            if students is None or student in students:
                reports += _repair_student(root, student_dir, releases, log)
    return reports


def _repair_student(root: Path, student_dir: Path, releases: dict, log) -> list[RepairReport]:
    student, reports = student_dir.parent.name, []
    handed_in = sorted(student_dir.glob("*.ipynb"))
    for name, release_nb in releases.items():
        path = student_dir / name
        report = RepairReport(path=str(path.relative_to(root)))
        if not path.exists():
            candidates = [p for p in handed_in if p.name not in releases
                          and canonical_stem(p.name) == canonical_stem(name)]
            if not candidates:
                log(f"repair: {student}: {name} is missing (scored 0)")
                continue
            newest = max(candidates, key=lambda p: p.stat().st_mtime)
            _backup(root, newest)
            newest.rename(path)
            report.renamed_from = newest.name
        try:
            nb = nbh.read(path)
        except Exception as err:  # not a notebook at all: leave it to nbgrader
            log(f"repair: {student}: cannot read {name}: {err}")
            continue
        before = nbh.dumps(nb) if nb.get("nbformat_minor", 0) >= 5 else None
        repair_notebook(nb, release_nb, report)
        text = nbh.dumps(nb)
        if text != before:
            _backup(root, path)
            path.write_text(text, encoding="utf-8")
        if report.changed:
            log("repair: " + report.summary())
        reports.append(report)
    return reports
