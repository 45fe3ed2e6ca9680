"""Build the course: ``solutions/`` (source) -> ``tutorials/`` (release), with real nbgrader.

For every assignment (a folder of ``solutions/``):

1. the source notebooks are normalized in place (no outputs, no widget state, volatile metadata
   dropped, Colab badge and install cell re-rendered from :mod:`.settings`) and linted
   (:func:`.notebooks.lint_source`: a problem stops the build);
2. ``nbgrader generate_assignment <assignment> --force`` writes the release (solution bodies
   replaced by ``raise NotImplementedError``, hidden tests removed, checksums, gradebook entries);
3. the release is post-processed: badge and install cell rendered for the ``tutorials/`` path,
   widget state and volatile metadata stripped, Think! answers kept (default, self-study) or
   replaced by a note (``think_answers=False``, for a graded class).

Steps 2-3 happen in a staging folder under ``nbgrader_work/``; the finished files then replace
those of ``tutorials/<assignment>/`` one by one (``os.replace``), so a reader never sees a missing
or half-written notebook. Every command that writes to the course holds :func:`course_lock`, so
two builds (or a build and an autograde) run one after the other, never interleaved.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no lock (run one pipeline command at a time)
    fcntl = None

from . import notebooks as nbh
from . import settings

CONFIG_FILE = "nbgrader_config.py"

THINK_ANSWER_REMOVED = ("*The answer to this Think! box is not included in this release: "
                        "it is discussed in class.*")


LOCK_FILE = f"{settings.WORK_DIR}/pipeline.lock"


class BuildError(RuntimeError):
    """A problem the instructor can fix; the message says what and how."""


# ---------------------------------------------------------------------------------------------
# Locating the course and running nbgrader


def is_course_root(path) -> bool:
    return (Path(path) / CONFIG_FILE).is_file() and (Path(path) / settings.SOURCE_DIR).is_dir()


def find_course_root(start=None) -> Path:
    """The nearest directory at or above ``start`` (default: cwd) holding nbgrader_config.py and
    solutions/."""
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        if is_course_root(d):
            return d
    raise BuildError(f"no course at or above {here}: a course directory holds {CONFIG_FILE} and "
                     f"a {settings.SOURCE_DIR}/ folder. Run the command from the course root "
                     f"(e.g. your neuromodlab checkout), or pass --root PATH.")


def check_course_root(root) -> Path:
    """``root`` resolved, or a BuildError saying why it is not a course directory."""
    root = Path(root).resolve()
    if not is_course_root(root):
        raise BuildError(f"{root} is not a course directory: it needs {CONFIG_FILE} and a "
                         f"{settings.SOURCE_DIR}/ folder (pass the folder that holds them).")
    return root


def check_assignment(root, name: str) -> None:
    """A BuildError naming the existing assignments when ``name`` is not one of them."""
    known = assignments(root)
    if name not in known:
        raise BuildError(f"unknown assignment {name!r}: assignments are the folders of "
                         f"{Path(root) / settings.SOURCE_DIR} holding notebooks: "
                         f"{', '.join(known) or '(none)'} (names are case-sensitive).")


_held_locks: dict = {}  # lock path -> depth (re-entrant within one process)


@contextlib.contextmanager
def course_lock(root, log=None):
    """Hold the course's pipeline lock (``nbgrader_work/pipeline.lock``, ``flock``) while a
    command writes to the course: a second build/autograde/feedback/export/repair in the same
    course waits, saying so, instead of deleting files under the first or locking the gradebook.
    Re-entrant within a process (``autograde`` calls ``repair``)."""
    path = (Path(root) / LOCK_FILE).resolve()
    if fcntl is None or path in _held_locks:
        _held_locks[path] = _held_locks.get(path, 0) + 1
        try:
            yield
        finally:
            _held_locks[path] -= 1
            if not _held_locks[path]:
                del _held_locks[path]
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            (log or _stderr)(f"waiting for another neuromodlab.grading command in {root} to "
                             f"finish (lock {path}) ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        _held_locks[path] = 1
        try:
            yield
        finally:
            del _held_locks[path]
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def require_nbgrader(python: str | None = None) -> None:
    """A BuildError with the install command when nbgrader is missing (checked for this
    interpreter only; another ``python`` is left to fail on its own)."""
    if python not in (None, sys.executable):
        return
    if importlib.util.find_spec("nbgrader") is None:
        raise BuildError(f"nbgrader is not installed in this Python ({sys.executable}). Install "
                         "the instructor tools in the course checkout: `make venv` or "
                         "`pip install -e \".[instructor]\"`, then run the command with that "
                         "environment's python.")


def nbgrader_env(python: str | None = None) -> dict:
    """Environment for nbgrader and the kernels it starts.

    The interpreter's bin/ goes first on PATH: nbgrader runs ``alembic`` from there to create
    the gradebook, and the ``python3`` kernelspec starts plain ``python``. neuromodlab is made
    importable by the kernels even when it is not pip-installed.
    """
    env = dict(os.environ)
    bindir = str(Path(python or sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # a debugpy note on kernel stderr
    env.setdefault("TQDM_DISABLE", "1")
    return env


def run_nbgrader(root, *args, check: bool = True, python: str | None = None,
                 quiet: bool = False) -> subprocess.CompletedProcess:
    """``nbgrader <args>`` in the course directory ``root`` (its nbgrader_config.py applies)."""
    require_nbgrader(python)
    cmd = [python or sys.executable, "-m", "nbgrader", *map(str, args)]
    proc = subprocess.run(cmd, cwd=str(root), env=nbgrader_env(python), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not quiet:
        sys.stdout.write(proc.stdout)
    if check and proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-40:])
        raise BuildError(f"`nbgrader {' '.join(map(str, args))}` failed "
                         f"(exit {proc.returncode}):\n{tail}")
    return proc


def assignments(root) -> list[str]:
    """Assignment names: folders of solutions/ that hold notebooks (sorted)."""
    src = Path(root) / settings.SOURCE_DIR
    return sorted(d.name for d in src.iterdir()
                  if d.is_dir() and not d.name.startswith((".", "_")) and any(d.glob("*.ipynb")))


def source_notebooks(root) -> list[Path]:
    """Every instructor notebook, ``solutions/<assignment>/<name>.ipynb`` (sorted)."""
    root = Path(root)
    return [p for a in assignments(root)
            for p in sorted((root / settings.SOURCE_DIR / a).glob("*.ipynb"))]


def release_path(root, source_path) -> Path:
    source_path = Path(source_path)
    return Path(root) / settings.RELEASE_DIR / source_path.parent.name / source_path.name


# ---------------------------------------------------------------------------------------------
# Rendering the generated cells


def badge_source(path_in_repo: str) -> str:
    url = settings.colab_url(path_in_repo)
    return (f'<a href="{url}" target="_parent"><img '
            'src="https://colab.research.google.com/assets/colab-badge.svg" '
            'alt="Open In Colab"/></a>')


def install_source() -> str:
    return f'''# @title Install neuromodlab (in Colab: neuromodlab only, never torch)
# Colab already has torch, numpy, matplotlib, ipywidgets and tqdm. `--no-deps` keeps pip away
# from them there: no re-install, no upgrade (a different ipywidgets major breaks the widgets).
import importlib
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("neuromodlab") is None:
    no_deps = ["--no-deps"] if "google.colab" in sys.modules else []
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *no_deps,
                    "{settings.pip_spec()}"], check=True)
    importlib.invalidate_caches()'''


def render_generated_cells(nb, path_in_repo: str) -> None:
    """Fill the cells tagged colab-badge / colab-install (in place)."""
    for cell in nb.cells:
        cell_tags = nbh.tags(cell)
        if settings.TAG_BADGE in cell_tags:
            cell.source = badge_source(path_in_repo)
        if settings.TAG_INSTALL in cell_tags:
            cell.source = install_source()


def strip_think_answers(nb) -> int:
    count = 0
    for cell in nb.cells:
        if settings.TAG_THINK_ANSWER in nbh.tags(cell):
            cell.source = THINK_ANSWER_REMOVED
            count += 1
    return count


def prepare_source(nb, path_in_repo: str):
    """Render a source notebook's generated cells and normalize it (in place, idempotent)."""
    render_generated_cells(nb, path_in_repo)
    nbh.normalize(nb)
    return nb


def postprocess_release(nb, path_in_repo: str, think_answers: bool = True):
    render_generated_cells(nb, path_in_repo)
    nbh.normalize(nb)
    if not think_answers:
        strip_think_answers(nb)
    return nb


# ---------------------------------------------------------------------------------------------
# The build


def build(root=None, names=None, *, think_answers: bool = True, write_sources: bool = True,
          python: str | None = None, quiet: bool = False) -> list[Path]:
    """Regenerate the release of ``names`` (default: every assignment); returns the notebooks
    written under tutorials/. Holds the course lock (a concurrent build waits)."""
    root = Path(root) if root is not None else find_course_root()
    names = list(names) if names else assignments(root)
    if not names:
        raise BuildError(f"no assignments under {root / settings.SOURCE_DIR} (an assignment is a "
                         "folder of notebooks there)")
    for name in names:
        check_assignment(root, name)
    require_nbgrader(python)
    written = []
    with course_lock(root):
        for name in names:
            written += _build_one(root, name, think_answers, write_sources, python, quiet)
    return written


def _build_one(root: Path, name: str, think_answers, write_sources, python, quiet) -> list[Path]:
    problems = []
    for path in sorted((root / settings.SOURCE_DIR / name).glob("*.ipynb")):
        nb = nbh.read(path)
        rel = f"{settings.SOURCE_DIR}/{name}/{path.name}"
        prepare_source(nb, rel)
        problems += nbh.lint_source(nb, rel)
        if write_sources and _write_atomic(path, nbh.dumps(nb)) and not quiet:
            print(f"normalized {rel}")
    if problems:
        raise BuildError("the source has problems:\n  " + "\n  ".join(problems))
    work = root / settings.WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="release-", dir=work))
    release_dir = root / settings.RELEASE_DIR / name
    try:
        run_nbgrader(root, "generate_assignment", name, "--force",
                     "--CourseDirectory.release_directory="
                     + staging.relative_to(root).as_posix(), python=python, quiet=quiet)
        staged = staging / name
        for path in sorted(staged.glob("*.ipynb")):
            nb = nbh.read(path)
            rel = f"{settings.RELEASE_DIR}/{name}/{path.name}"
            postprocess_release(nb, rel, think_answers=think_answers)
            nbh.write(nb, path)
        _replace_tree(staged, release_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    written = sorted(release_dir.glob("*.ipynb"))
    if not quiet:
        for path in written:
            print(f"released {settings.RELEASE_DIR}/{name}/{path.name}")
    return written


def _write_atomic(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (readers see the
    old or the new file, never a partial one); returns whether the file changed."""
    path = Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


def _replace_tree(new: Path, old: Path) -> None:
    """Make ``old`` hold exactly the files of ``new`` (moved there file by file with
    ``os.replace``; unchanged files are left alone, stale ones removed afterwards)."""
    fresh = {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    for rel in sorted(fresh):
        src, dest = new / rel, old / rel
        if dest.is_file() and dest.read_bytes() == src.read_bytes():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    if old.is_dir():
        for path in sorted(old.rglob("*"), reverse=True):  # files before their folders
            rel = path.relative_to(old)
            if path.is_file() and rel not in fresh:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def init_course(dest, source_root=None) -> Path:
    """A fresh course directory at ``dest`` (config + a copy of solutions/), e.g. for tests or to
    grade a class outside the repository."""
    source_root = Path(source_root) if source_root is not None else find_course_root()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source_root / CONFIG_FILE, dest / CONFIG_FILE)
    shutil.copytree(source_root / settings.SOURCE_DIR, dest / settings.SOURCE_DIR,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                    dirs_exist_ok=True)
    return dest


def release_differences(root=None, python: str | None = None) -> list[str]:
    """How the checked-in release differs from a fresh build of the checked-in sources ([] when
    in sync). Builds in a temporary copy: nothing under ``root`` is touched."""
    root = Path(root) if root is not None else find_course_root()
    problems = []
    for path in source_notebooks(root):
        rel = f"{settings.SOURCE_DIR}/{path.parent.name}/{path.name}"
        nb = nbh.read(path)
        if nbh.dumps(prepare_source(nb, rel)) != path.read_text(encoding="utf-8"):
            problems.append(f"{rel} is not normalized (run the build)")
    with tempfile.TemporaryDirectory(prefix="neuromodlab-sync-") as tmp:
        course = init_course(Path(tmp) / "course", root)
        build(course, python=python, quiet=True)
        with course_lock(root):  # not while a build is replacing files under tutorials/
            problems += _tree_differences(course / settings.RELEASE_DIR,
                                          root / settings.RELEASE_DIR)
    return problems


def _tree_differences(fresh_dir: Path, current_dir: Path) -> list[str]:
    def files(d):
        return {p.relative_to(d).as_posix() for p in d.rglob("*")
                if p.is_file() and ".ipynb_checkpoints" not in p.parts
                and "__pycache__" not in p.parts} if d.is_dir() else set()

    problems, fresh, current = [], files(fresh_dir), files(current_dir)
    for rel in sorted(fresh - current):
        problems.append(f"{settings.RELEASE_DIR}/{rel} is missing (run the build)")
    for rel in sorted(current - fresh):
        problems.append(f"{settings.RELEASE_DIR}/{rel} is not generated from "
                        f"{settings.SOURCE_DIR}/ (stale: run the build)")
    for rel in sorted(fresh & current):
        if (fresh_dir / rel).read_bytes() != (current_dir / rel).read_bytes():
            problems.append(f"{settings.RELEASE_DIR}/{rel} differs from a fresh build of "
                            f"{settings.SOURCE_DIR}/ (run the build; never edit it by hand)")
    return problems
