"""Every tutorial's interactive demos, tested as a student sees them: JupyterLab in Chromium.

For each instructor notebook ``solutions/**/*.ipynb`` (found anew at each run, so new tutorials
are covered), a real JupyterLab server (loopback, token, throwaway config) serves a copy of it;
headless Debian Chromium, driven by Playwright, opens it, runs all cells and waits for the
kernel (the venv's python, importing this checkout's neuromodlab). Then:

- every code cell ran, and no cell shows an error (tracebacks or ``...Error`` in stderr-like
  output; tqdm progress on stderr is fine);
- every widget the kernel displayed was rendered by the widget lab extension;
- every interactive demo (a rendered widget with sliders or dropdowns) shows a figure, and each
  slider / dropdown is moved to two other values: each time the figure's image bytes change,
  the number of figures stays the same, and no error appears;
- one screenshot per demo is saved in ``browser_screenshots/`` for a person to look at.

The server, its kernels and the browser are stopped on every path. If Chromium or Playwright
is missing the test fails (it never skips): run ``bash scripts/install_browser.sh`` first.
``BROWSER_TEST_NOTEBOOKS=a.ipynb:b.ipynb`` tests those notebooks instead of solutions/.
See docs/browser_tests.md.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser_support import (
    REPO,
    SCREENSHOT_DIR,
    BrowserTestSetupError,
    LabServer,
    NotebookPage,
    check_notebook,
    find_chromium,
    import_playwright,
    kill_pids,
    launch_chromium,
    pids_mentioning,
)

pytestmark = pytest.mark.browser

SOLUTIONS = REPO / "solutions"


def _notebooks() -> list[Path]:
    chosen = os.environ.get("BROWSER_TEST_NOTEBOOKS")
    if chosen:
        return [Path(p).resolve() for p in chosen.split(os.pathsep) if p]
    return sorted(p for p in SOLUTIONS.glob("**/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _rel(notebook: Path) -> Path:
    try:
        return notebook.relative_to(SOLUTIONS)
    except ValueError:
        return Path(notebook.name)


NOTEBOOKS = _notebooks()


@pytest.fixture(scope="module")
def notebook_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lab-root")


@pytest.fixture(scope="module")
def lab(request, notebook_root) -> LabServer:
    server = LabServer(notebook_root)
    request.addfinalizer(server.cleanup)
    request.addfinalizer(server.stop)  # runs first, also if start() fails half-way
    server.start()
    specs = server.kernelspecs().get("kernelspecs", {})
    assert "python3" in specs, f"no python3 kernelspec in the server: {sorted(specs)}"
    return server


@pytest.fixture(scope="module")
def browser(request, tmp_path_factory):
    try:  # missing pieces fail the run (never skip), saying what to install
        find_chromium()
        sync_playwright = import_playwright()
    except BrowserTestSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    profile = tmp_path_factory.mktemp("chromium-profile")
    pw = sync_playwright().start()

    def stop():
        try:
            pw.stop()  # ends the browser and Playwright's driver
        finally:
            kill_pids(pids_mentioning(str(profile)))  # a Chromium that outlived its driver

    request.addfinalizer(stop)
    context = launch_chromium(pw, profile)
    request.addfinalizer(context.close)
    return context


@pytest.mark.parametrize(
    "notebook", NOTEBOOKS or [None],
    ids=[str(_rel(p).with_suffix("")) for p in NOTEBOOKS] or ["no-tutorials"])
def test_tutorial_demos_in_jupyterlab(notebook, browser, lab, notebook_root):
    assert notebook is not None, f"no tutorial notebooks found under {SOLUTIONS}"
    rel = _rel(notebook)
    # A copy, with its folder's other files (images, data), in the server's throwaway root.
    dest = notebook_root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    for sibling in notebook.parent.iterdir():
        if sibling.is_file() and (sibling.suffix != ".ipynb" or sibling == notebook):
            shutil.copy2(sibling, dest.parent / sibling.name)
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    for old in SCREENSHOT_DIR.glob(f"{notebook.stem}_*.png"):
        old.unlink()

    page = browser.new_page()
    nb = NotebookPage(page, lab)
    log: list[str] = []
    try:
        check_notebook(nb, rel.as_posix(), notebook.stem, log)
    except BaseException:
        try:
            page.screenshot(path=str(SCREENSHOT_DIR / f"{notebook.stem}_FAILED.png"),
                            full_page=True)
        except Exception:  # noqa: BLE001 (the original failure is what matters)
            pass
        log.append("browser console errors: " + "; ".join(nb.console[-20:]))
        log.append("server log (tail):\n" + lab.log_tail(30))
        raise
    finally:
        print("\n".join(log))
        lab.shutdown_kernels()
        page.close()
