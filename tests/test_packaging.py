"""Packaging checks: dependency declarations, the torch pin, Colab compatibility, importability.

- environment.yml and pyproject.toml declare the same dependencies with the same ranges;
- every place that creates an environment installs torch pinned (an unpinned torch pulls a
  multi-GB CUDA build), before the package;
- (slow) installing the package into a Colab-like environment, whose libraries are at
  older-but-allowed versions, changes none of them;
- the package imports and has a version.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TORCH_PIN = "torch==2.13.0"

# A Colab-like baseline: every core dependency at an older version that our ranges allow
# (all have wheels for CPython 3.11). Colab shipped ipywidgets 7.7.1 for years.
COLAB_BASELINE = {
    "torch": "2.13.0",
    "numpy": "1.26.4",
    "matplotlib": "3.7.5",
    "ipywidgets": "7.7.1",
    "tqdm": "4.66.6",
}
# Modules that need the instructor extra (nbgrader) and so are not imported in the Colab check.
INSTRUCTOR_ONLY = ("neuromodlab.grading", "neuromodlab.__main__")


# ----------------------------------------------------------------------------- helpers


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _core_requirements() -> dict[str, Requirement]:
    reqs = [Requirement(s) for s in _pyproject()["project"]["dependencies"]]
    return {canonicalize_name(r.name): r for r in reqs}


def _environment_yml() -> tuple[dict[str, Requirement], list[str]]:
    """Return (requirements by name, raw pip lines) from environment.yml."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    reqs: dict[str, Requirement] = {}
    pip_lines: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_lines.extend(dep.get("pip", []))
            continue
        name = re.split(r"[<>=!~ ]", dep, maxsplit=1)[0]
        if name in ("python", "pip"):
            continue
        reqs[canonicalize_name(name)] = Requirement(dep)
    for line in pip_lines:
        if line.startswith("-"):  # -e .[dev,instructor], options
            continue
        r = Requirement(line)
        reqs[canonicalize_name(r.name)] = r
    return reqs, pip_lines


def _fmt(reqs: dict[str, Requirement]) -> list[str]:
    return [f"{name}{reqs[name].specifier}" for name in sorted(reqs)]


def _is_exact_pin(spec: SpecifierSet) -> Version | None:
    specs = list(spec)
    if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
        return Version(specs[0].version)
    return None


def _makefile_vars(text: str) -> dict[str, str]:
    out = {}
    for m in re.finditer(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[:?]?=\s*(.*?)\s*$", text, re.M):
        out[m.group(1)] = re.sub(r"\s+#.*$", "", m.group(2))
    return out


def _pip_install_lines(text: str, variables: dict[str, str] | None = None) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith("#") or "pip install" not in line:
            continue
        for name, value in (variables or {}).items():
            line = line.replace(f"$({name})", value)
        lines.append(line.strip())
    return lines


def _installs_torch_unpinned(line: str) -> bool:
    """True if a pip-install line names torch without the exact pin."""
    for m in re.finditer(r"(?<![\w.-])torch(?![\w-])([^\s\"']*)", line):
        if f"torch{m.group(1)}" != TORCH_PIN:
            return True
    return False


def _installs_package(line: str) -> bool:
    return bool(re.search(r"(?:^|\s)(-e\s+)?[\"']?\.(\[[^\]]*\])?[\"']?(\s|$)", line))


# ----------------------------------------------------------------------------- (a) in sync


def test_environment_yml_matches_pyproject():
    core = _core_requirements()
    env, pip_lines = _environment_yml()

    def ok(name: str) -> bool:
        if name not in core or name not in env:
            return False
        want, have = core[name].specifier, env[name].specifier
        if str(want) == str(have):
            return True
        pin = _is_exact_pin(have)  # an exact pin inside the range is fine (torch)
        return pin is not None and want.contains(pin, prereleases=True)

    if not all(ok(n) for n in set(core) | set(env)):
        # an allowed pin is shown as agreeing, so the diff lists only real mismatches
        shown = {n: core[n] if ok(n) else r for n, r in env.items()}
        diff = "\n".join(
            difflib.unified_diff(
                _fmt(core), _fmt(shown), "pyproject.toml", "environment.yml", lineterm=""
            )
        )
        pytest.fail(f"environment.yml and pyproject.toml disagree:\n{diff}")

    # The extras come from pyproject.toml itself, so they cannot drift.
    extras = _pyproject()["project"]["optional-dependencies"]
    editable = [ln for ln in pip_lines if ln.startswith("-e")]
    assert editable == ["-e .[dev,instructor]"], editable
    assert {"dev", "instructor"} <= set(extras)


def test_all_extras_declared():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"dev", "instructor", "browser", "dask", "test"} <= set(extras)
    (test_req,) = (Requirement(s) for s in extras["test"])
    assert canonicalize_name(test_req.name) == "neuromodlab"
    assert {"dev", "instructor", "browser", "dask"} <= test_req.extras


# ----------------------------------------------------------------------------- (b) torch pin


def test_torch_pin_is_allowed_by_library_range():
    pin = Requirement(TORCH_PIN)
    (version,) = (s.version for s in pin.specifier)
    assert _core_requirements()["torch"].specifier.contains(version)
    assert COLAB_BASELINE["torch"] == version


def test_makefile_installs_pinned_torch_before_package():
    text = (ROOT / "Makefile").read_text()
    variables = _makefile_vars(text)
    assert variables.get("TORCH_PIN") == TORCH_PIN, "Makefile TORCH_PIN must be " + TORCH_PIN
    lines = _pip_install_lines(text, variables)
    assert lines, "Makefile installs nothing?"
    unpinned = [ln for ln in lines if _installs_torch_unpinned(ln)]
    assert not unpinned, f"torch installed without the pin {TORCH_PIN}: {unpinned}"

    package_idx = [i for i, ln in enumerate(lines) if _installs_package(ln)]
    torch_only_idx = [
        i for i, ln in enumerate(lines) if TORCH_PIN in ln and not _installs_package(ln)
    ]
    assert package_idx, f"Makefile never installs the package: {lines}"
    assert torch_only_idx and torch_only_idx[0] < package_idx[0], (
        f"Makefile must install {TORCH_PIN} on its own before the package: {lines}"
    )
    # and keeps the pin while resolving the package, so nothing can upgrade torch
    for i in package_idx:
        assert TORCH_PIN in lines[i], lines[i]


def test_ci_and_environment_never_unpin_torch():
    ci = (ROOT / ".ci" / "run").read_text()
    for line in _pip_install_lines(ci):
        assert not _installs_torch_unpinned(line), line
        assert not _installs_package(line) or TORCH_PIN in line, line
    _, pip_lines = _environment_yml()
    torch_lines = [ln for ln in pip_lines if re.match(r"torch\b", ln)]
    assert torch_lines == [TORCH_PIN]
    assert pip_lines.index(TORCH_PIN) < pip_lines.index("-e .[dev,instructor]")


def test_ci_runs_the_readme_test_command():
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert any(re.match(r"make test(\s|$)", ln) for ln in ci)
    assert "set -euo pipefail" in ci
    assert "make test" in (ROOT / "README.md").read_text()


# ----------------------------------------------------------------------------- (c) Colab


def test_colab_baseline_is_older_but_allowed():
    core = _core_requirements()
    assert set(COLAB_BASELINE) == set(core), (
        "COLAB_BASELINE must list exactly the core dependencies "
        f"(a new dependency needs a Colab-like version here): {sorted(core)}"
    )
    for name, version in COLAB_BASELINE.items():
        assert core[name].specifier.contains(version), f"{name}=={version} not in {core[name]}"


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_USER", "PIP_TARGET")
    }
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONNOUSERSITE="1")
    return env


def _run(cmd: list[str], timeout: float, cwd: Path) -> str:
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        out = e.output.decode(errors="replace") if isinstance(e.output, bytes) else e.output
        pytest.fail(f"timed out after {timeout:.0f} s: {' '.join(cmd)}\n{(out or '')[-3000:]}")
    if proc.returncode != 0:
        pytest.fail(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stdout[-5000:]}")
    return proc.stdout


def _freeze(python: Path, cwd: Path) -> dict[str, str]:
    out = _run([str(python), "-m", "pip", "freeze", "--all"], 120, cwd)
    pkgs = {}
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if " @ " in line:
            name, version = line.split(" @ ", 1)
        elif "==" in line:
            name, version = line.split("==", 1)
        else:
            name, version = line, ""
        pkgs[canonicalize_name(name)] = version
    return pkgs


def _copy_repo(dst: Path) -> Path:
    """Copy the working tree (uncommitted files included), so the build leaves no
    build/ or *.egg-info behind in the repository."""
    anywhere = shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis", ".ipynb_checkpoints",
    )  # fmt: skip
    # run outputs and course state at the top only (neuromodlab/data/results/ is package data)
    top = {"results", "outputs", "submitted", "autograded", "feedback", "nbgrader_work",
           "gradebook.db"}

    def ignore(folder, names):
        skipped = anywhere(folder, names)
        return skipped | (top & set(names)) if Path(folder) == ROOT else skipped

    shutil.copytree(ROOT, dst, ignore=ignore, symlinks=True)
    return dst


def _data_files(pkg_dir: Path) -> set[str]:
    data = pkg_dir / "data"
    if not data.is_dir():
        return set()
    return {
        p.relative_to(pkg_dir).as_posix()
        for p in data.rglob("*")
        if p.is_file() and p.suffix in (".pt", ".json")
    }


@pytest.mark.slow
def test_colab_compatibility(tmp_path):
    """Install the package into an environment that already has the core libraries at
    older-but-allowed versions (as Colab does): pip must resolve the dependencies, find them
    satisfied and change none of them."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], 180, tmp_path)
    python = venv / "bin" / "python"

    baseline = [f"{name}=={version}" for name, version in COLAB_BASELINE.items()]
    # --no-compile: skipping .pyc compilation halves the CPU time of this test
    _run([str(python), "-m", "pip", "install", "--no-compile", *baseline], 1500, tmp_path)
    before = _freeze(python, tmp_path)
    for name, version in COLAB_BASELINE.items():
        assert before[name].split("+")[0] == version, (name, before[name])

    src = _copy_repo(tmp_path / "src")
    log = _run([str(python), "-m", "pip", "install", "--no-compile", str(src)], 900, tmp_path)
    after = _freeze(python, tmp_path)

    changed = {n: (v, after.get(n)) for n, v in before.items() if after.get(n) != v}
    added = {n: v for n, v in after.items() if n not in before and n != "neuromodlab"}
    assert not changed, f"installing neuromodlab changed preinstalled packages: {changed}\n{log}"
    assert not added, (
        f"installing neuromodlab pulled in packages a Colab-like env lacks: {added}\n{log}"
    )
    assert "neuromodlab" in after

    # Imports with only the core dependencies, and ships its data files.
    script = (
        "import importlib, pkgutil, pathlib, neuromodlab\n"
        "print(neuromodlab.__version__)\n"
        "print(pathlib.Path(neuromodlab.__file__).parent)\n"
        "for m in pkgutil.walk_packages(neuromodlab.__path__, 'neuromodlab.'):\n"
        f"    if not m.name.startswith({INSTRUCTOR_ONLY!r}):\n"
        "        importlib.import_module(m.name)\n"
    )
    out = _run([str(python), "-c", script], 300, tmp_path).splitlines()
    installed_dir = Path(out[-1].strip())
    assert installed_dir.is_relative_to(venv), f"imported from {installed_dir}, not the venv"
    assert _data_files(installed_dir) == _data_files(ROOT / "neuromodlab"), (
        "package data (neuromodlab/data/**/*.pt, *.json) missing from the installed package"
    )


# ----------------------------------------------------------------------------- (d) import


def test_package_imports_and_has_version():
    nml = importlib.import_module("neuromodlab")
    assert isinstance(nml.__version__, str) and nml.__version__
    Version(nml.__version__)  # PEP 440
    declared = _pyproject()["project"].get("version")
    if declared is not None:
        assert nml.__version__ == declared, "neuromodlab.__version__ != pyproject version"


def test_console_script_target_exists():
    module, _, func = _pyproject()["project"]["scripts"]["neuromodlab"].partition(":")
    assert module == "neuromodlab.__main__"
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{module} is missing"
    text = Path(spec.origin).read_text()
    assert re.search(rf"^def {func}\(", text, re.M), f"{module} defines no {func}()"


def test_top_level_exports_resolve_lazily():
    """``from neuromodlab import TaskSet, build_model, fit`` works, each name is the object of
    the module that defines it, and ``import neuromodlab`` alone does not import torch."""
    nml = importlib.import_module("neuromodlab")
    for module, names in nml._EXPORTS.items():
        mod = importlib.import_module(f"neuromodlab.{module}")
        for name in names:
            assert getattr(nml, name) is getattr(mod, name), name
    assert set(nml.__all__) <= set(dir(nml))
    code = ("import sys, neuromodlab; assert 'torch' not in sys.modules, 'torch imported'; "
            "from neuromodlab import TaskSet, build_model, fit; print(TaskSet.__module__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "neuromodlab.tasks"
    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        nml.fitt  # noqa: B018


def test_every_plot_function_resolves_from_the_plotting_package():
    """Every ``plot_*`` of every module in neuromodlab/plotting/ (found on disk, independently
    of the package's own discovery) is reachable as ``neuromodlab.plotting.<name>``."""
    import pkgutil

    plotting = importlib.import_module("neuromodlab.plotting")
    folder = Path(plotting.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
    assert {"trials", "training", "dynamics", "rule", "activity", "modulation", "synaptic",
            "ambiguity", "packing"} <= set(modules)
    assert modules == sorted(m.name for m in pkgutil.iter_modules([str(folder)]))
    owners = {}
    for name in modules:
        mod = importlib.import_module(f"neuromodlab.plotting.{name}")
        for attr in dir(mod):
            if attr.startswith("plot_") and callable(getattr(mod, attr)):
                owners.setdefault(attr, set()).add(getattr(mod, attr).__module__)
    assert len(owners) > 30
    for attr, defined_in in owners.items():
        assert len(defined_in) == 1, f"{attr} is defined in {sorted(defined_in)}"
        function = getattr(plotting, attr)
        assert function.__module__ == defined_in.pop() and function.__name__ == attr
    assert set(owners) <= set(dir(plotting))
    with pytest.raises(AttributeError, match="no figure function 'plot_nothing'"):
        plotting.plot_nothing  # noqa: B018
