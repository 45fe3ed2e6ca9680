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
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import notebooks as nbh
from . import settings

CONFIG_FILE = "nbgrader_config.py"

THINK_ANSWER_REMOVED = ("*The answer to this Think! box is not included in this release: "
                        "it is discussed in class.*")


class BuildError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Locating the course and running nbgrader


def find_course_root(start=None) -> Path:
    """The nearest directory at or above ``start`` (default: cwd) holding nbgrader_config.py and
    solutions/; else the repository this package sits in."""
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        if (d / CONFIG_FILE).is_file() and (d / settings.SOURCE_DIR).is_dir():
            return d
    repo = Path(__file__).resolve().parents[2]
    if (repo / CONFIG_FILE).is_file():
        return repo
    raise BuildError(f"no course found at or above {here} (looked for {CONFIG_FILE} and "
                     f"{settings.SOURCE_DIR}/)")


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
    written under tutorials/."""
    root = Path(root) if root is not None else find_course_root()
    names = list(names) if names else assignments(root)
    if not names:
        raise BuildError(f"no assignments under {root / settings.SOURCE_DIR}")
    written = []
    for name in names:
        src_dir = root / settings.SOURCE_DIR / name
        if not src_dir.is_dir():
            raise BuildError(f"no assignment {name!r} under {root / settings.SOURCE_DIR}")
        problems = []
        for path in sorted(src_dir.glob("*.ipynb")):
            nb = nbh.read(path)
            rel = f"{settings.SOURCE_DIR}/{name}/{path.name}"
            prepare_source(nb, rel)
            problems += nbh.lint_source(nb, rel)
            if write_sources and nbh.write(nb, path) and not quiet:
                print(f"normalized {rel}")
        if problems:
            raise BuildError("the source has problems:\n  " + "\n  ".join(problems))
        release_dir = root / settings.RELEASE_DIR / name
        if release_dir.exists():  # nothing stale survives (e.g. a renamed notebook)
            shutil.rmtree(release_dir)
        run_nbgrader(root, "generate_assignment", name, "--force", python=python, quiet=quiet)
        for path in sorted(release_dir.glob("*.ipynb")):
            nb = nbh.read(path)
            rel = f"{settings.RELEASE_DIR}/{name}/{path.name}"
            postprocess_release(nb, rel, think_answers=think_answers)
            nbh.write(nb, path)
            written.append(path)
            if not quiet:
                print(f"released {rel}")
    return written


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
    import tempfile

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
        fresh_dir, current_dir = course / settings.RELEASE_DIR, root / settings.RELEASE_DIR

        def files(d):
            return {p.relative_to(d).as_posix() for p in d.rglob("*")
                    if p.is_file() and ".ipynb_checkpoints" not in p.parts
                    and "__pycache__" not in p.parts}

        fresh, current = files(fresh_dir), files(current_dir) if current_dir.is_dir() else set()
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
