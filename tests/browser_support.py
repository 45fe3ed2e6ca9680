"""Helpers for tests/test_browser.py: a throwaway JupyterLab server and headless Chromium.

- :class:`LabServer` starts ``jupyter lab`` from the virtual environment's ``bin/`` on a free
  loopback port, with a token and throwaway config / data / runtime / settings / workspace
  directories, in its own process group. :meth:`LabServer.stop` asks the server to shut down
  (it stops its kernels), then kills the process group and any kernel it left behind: nothing
  of it survives, on any path.
- :func:`launch_chromium` starts Debian's Chromium (``shutil.which("chromium")``) headless
  through Playwright's ``executable_path``. Playwright's own browser download is never used.
- :class:`NotebookPage` drives one notebook in JupyterLab: open, run all cells, wait for the
  kernel, find the interactive demos, move their controls and read the figures.

The page talks to JupyterLab through ``window.jupyterapp`` (``LabApp.expose_app_in_browser``,
what JupyterLab's own UI-test tool Galata uses): opening a notebook and running all cells are the
same commands as the File and Run menus, and the kernel / execution state comes from the
notebook model instead of guessed timeouts. Everything about the demos themselves (widgets,
figures, errors) is read from the rendered page, as a student sees it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCREENSHOT_DIR = REPO / "browser_screenshots"

# Debian's Chromium, headless, as root, on a machine with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
# What counts as an error in stderr-like output (tqdm progress bars and warnings do not).
ERROR_PATTERN = r"Traceback|\b[A-Za-z_]*(Error|Exception)\b"


NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.validate_assignment")


class BrowserTestSetupError(RuntimeError):
    """Something the browser test needs is missing (Chromium, Playwright, the venv)."""


# ----------------------------------------------------------------------------------------------
# processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def pids_mentioning(marker: str) -> list[int]:
    """Our own processes whose command line contains ``marker`` (a unique temp path)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != me and marker in _cmdline(int(entry.name)):
            found.append(int(entry.name))
    return found


def kill_pids(pids, timeout: float = 5.0) -> None:
    """SIGTERM the given pids, then SIGKILL what is still alive after ``timeout`` seconds."""
    pids = list(pids)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if Path(f"/proc/{p}").exists() and not _is_zombie(p)]
        time.sleep(0.1)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


# ----------------------------------------------------------------------------------------------
# the JupyterLab server


def venv_bin() -> Path:
    """The ``bin/`` of the interpreter running the tests (the project's .venv under make)."""
    return Path(sys.executable).parent


@dataclass
class LabServer:
    """``jupyter lab`` serving ``root_dir``, isolated from the user's Jupyter configuration."""

    root_dir: Path
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nml-lab-")))
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    proc: subprocess.Popen | None = None
    url: str = ""
    log_path: Path | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        # Matplotlib as a student gets it: ipykernel's inline backend, not the tests' Agg.
        env.pop("MPLBACKEND", None)
        env["PATH"] = f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}"
        # Kernels import the working tree's neuromodlab (as an editable install would).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        # Throwaway user-level dirs. The environment's own dirs (sys.prefix/share/jupyter with
        # the python3 kernelspec and the widget lab extension, sys.prefix/etc/jupyter) stay on
        # the search paths; only the user's ~/.jupyter and ~/.local/share/jupyter are replaced.
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
            env[var] = str(self.base / sub)
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        env["JUPYTER_PREFER_ENV_PATH"] = "1"
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["JUPYTER_TOKEN"] = self.token
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        return env

    def _write_settings(self) -> None:
        # No news / update toasts over the screenshots.
        labconfig = self.base / "config" / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(json.dumps({
            "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True,
                                   "@jupyter/nbgrader": True}}))
        # Every cell in the DOM (no virtual scrolling), so every demo can be found and shot.
        tracker = self.base / "settings" / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True, exist_ok=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({
            "windowingMode": "none"}))

    def start(self, timeout: float = 90.0) -> LabServer:
        jupyter = venv_bin() / "jupyter"
        if not jupyter.exists():
            raise BrowserTestSetupError(
                f"{jupyter} not found: install the test extras into the venv "
                "(make venv, or pip install -e '.[browser]')")
        self._write_settings()
        self.log_path = self.base / "server.log"
        cmd = [str(jupyter), "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={free_port()}",
               "--ServerApp.port_retries=50",
               f"--ServerApp.root_dir={self.root_dir}",
               "--ServerApp.open_browser=False",
               "--ServerApp.terminals_enabled=False",
               "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--MappingKernelManager.cull_idle_timeout=0",
               "--KernelSpecManager.ensure_native_kernel=True"]
        # No nbgrader: students never have it (they work in Colab), and it slows the start.
        # (On the command line: the environment's config outranks a user-level config file.)
        cmd += [f"--ServerApp.jpserver_extensions={name}=False"
                for name in NBGRADER_SERVER_EXTENSIONS]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self._log = log
        self.proc = subprocess.Popen(cmd, env=self.env(), cwd=self.root_dir, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        runtime = self.base / "runtime"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n"
                                   + self.log_tail())
            for info in runtime.glob("jpserver-*.json"):
                try:
                    data = json.loads(info.read_text())
                except (OSError, ValueError):
                    continue  # being written
                if data.get("pid") == self.proc.pid:
                    self.url = f"http://127.0.0.1:{data['port']}/"
            if self.url and self._api("api/status", timeout=2) is not None:
                return self
            time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n"
                           + self.log_tail())

    def _api(self, path: str, method: str = "GET", timeout: float = 10):
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = resp.read()
                return json.loads(body) if body else {}
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def kernelspecs(self) -> dict:
        return self._api("api/kernelspecs") or {}

    def shutdown_kernels(self) -> None:
        for session in self._api("api/sessions") or []:
            self._api(f"api/sessions/{session['id']}", method="DELETE", timeout=30)
        for kernel in self._api("api/kernels") or []:
            self._api(f"api/kernels/{kernel['id']}", method="DELETE", timeout=30)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except (OSError, AttributeError):
            return "(no server log)"

    def stop(self) -> None:
        """Stop the server, its kernels and anything else started under its temp dir."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                if self.url:
                    self.shutdown_kernels()
                    self._api("api/shutdown", method="POST", timeout=10)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            if self.proc is not None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.proc.wait(timeout=5)
        finally:
            # Kernels run in sessions of their own (jupyter_client starts them with
            # start_new_session), so killing the server's group does not reach them; their
            # connection files live in our runtime dir, which names them uniquely.
            kill_pids(pids_mentioning(str(self.base)))
            if getattr(self, "_log", None) is not None:
                self._log.close()

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# the browser


def find_chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise BrowserTestSetupError(
            "Chromium not found on PATH: the browser test needs Debian's chromium package. "
            "Run `bash scripts/install_browser.sh` (apt-get install chromium chromium-driver) "
            "before pytest.")
    return path


def import_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserTestSetupError(
            f"Playwright's Python package is not importable ({exc}): install the `browser` "
            "extra into the venv (make venv, or pip install -e '.[browser]'). Never run "
            "`playwright install`: the test drives Debian's Chromium.") from exc
    return sync_playwright


def launch_chromium(playwright, user_data_dir: Path, viewport=(1400, 1000)):
    """Debian's Chromium, headless, with a fresh profile in ``user_data_dir`` (empty, ours).

    Returns a Playwright BrowserContext; closing it ends the browser."""
    executable = find_chromium()
    try:
        return playwright.chromium.launch_persistent_context(
            str(user_data_dir), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": viewport[0], "height": viewport[1]}, timeout=60_000)
    except Exception as exc:
        raise BrowserTestSetupError(
            f"Chromium at {executable} did not start under Playwright: {exc}") from exc


# ----------------------------------------------------------------------------------------------
# driving one notebook

JS_WAIT_APP = """async () => {
  const app = window.jupyterapp;
  if (!app) return false;
  await app.started; await app.restored;
  return true;
}"""

JS_OPEN = """async (path) => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  app.shell.activateById(panel.id);
  await panel.context.ready;
  await panel.sessionContext.ready;
  window.__nml_panel = panel;
  const s = panel.sessionContext;
  window.__nml_busy = 0;  // how many times the kernel went busy: tells an update happened
  s.statusChanged.connect((_, status) => { if (status === 'busy') window.__nml_busy++; });
  return {id: panel.id, kernel: s.session && s.session.kernel ? s.session.kernel.name : null,
          display: s.kernelDisplayName};
}"""

JS_STATE = """() => {
  const panel = window.__nml_panel;
  const s = panel.sessionContext;
  const kernel = s.session && s.session.kernel;
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const c = model.cells.get(i);
    if (c.type !== 'code') continue;
    const outputs = [];
    for (let j = 0; j < c.outputs.length; j++) outputs.push(c.outputs.get(j).toJSON());
    cells.push({index: i, count: c.executionCount, state: c.executionState || null,
                outputs, source: c.sharedModel.getSource().slice(0, 200)});
  }
  return {kernel: kernel ? kernel.status : null, cells, runAll: window.__nml_runall || null,
          busy: window.__nml_busy};
}"""

JS_KERNEL_EXEC = """async (code) => {
  const kernel = window.__nml_panel.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = msg => {
    const t = msg.header.msg_type;
    if (t === 'stream') out += msg.content.text;
    if (t === 'error') out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return out;
}"""

KERNEL_PROBE = """
import json as _j, sys as _s
try:
    import neuromodlab as _n
    _f = _n.__file__
except Exception as _e:
    _f = 'not importable: %r' % (_e,)
print(_j.dumps({'executable': _s.executable, 'prefix': _s.prefix, 'neuromodlab': _f}))
del _j, _s
"""

JS_RUN_ALL = """() => {
  window.__nml_runall = 'running';
  window.jupyterapp.commands.execute('notebook:run-all-cells')
    .then(r => { window.__nml_runall = 'done'; })
    .catch(e => { window.__nml_runall = 'failed: ' + e; });
}"""


@dataclass
class Control:
    kind: str  # "slider" | "dropdown"
    label: str
    locator: object
    direction: str = ""  # sliders: the arrow key that moves away from the nearer end


class NotebookPage:
    def __init__(self, page, server: LabServer):
        self.page = page
        self.server = server
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}")
                if m.type in ("error",) else None)
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))

    def open(self, rel_path: str, timeout: float = 120.0) -> dict:
        self.page.goto(f"{self.server.url}lab?reset&token={self.server.token}",
                       wait_until="domcontentloaded", timeout=timeout * 1000)
        self.page.wait_for_function("() => !!window.jupyterapp", timeout=timeout * 1000)
        self.page.evaluate(JS_WAIT_APP)
        return self.page.evaluate(JS_OPEN, rel_path)

    def dismiss_dialogs(self) -> list[str]:
        """Texts of any modal dialogs (kernel selection, errors); they are closed."""
        texts = []
        for dialog in self.page.locator(".jp-Dialog").all():
            texts.append(dialog.inner_text())
            self.page.keyboard.press("Escape")
        return texts

    def state(self) -> dict:
        return self.page.evaluate(JS_STATE)

    def kernel_info(self) -> dict:
        """Which interpreter the notebook's kernel runs, and where it imports neuromodlab
        from (asked without touching the notebook: no output, no execution count)."""
        text = self.page.evaluate(JS_KERNEL_EXEC, KERNEL_PROBE)
        try:
            return json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise AssertionError(f"kernel probe failed: {text!r}") from None

    @staticmethod
    def expected_widget_views(state: dict) -> list[int]:
        """Cell index of every widget output in the notebook model (one entry per output)."""
        return [c["index"] for c in state["cells"] for o in c["outputs"]
                if WIDGET_VIEW_MIME in (o.get("data") or {})]

    def wait_kernel_idle(self, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        st = self.state()
        while st["kernel"] != "idle":
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"kernel not idle after {timeout:.0f} s (status {st['kernel']})")
            time.sleep(0.25)
            st = self.state()
        return st

    def run_all(self, timeout: float = 300.0) -> dict:
        """Run all cells (the Run menu's command) and wait until every execution has replied
        and the kernel has been idle for a moment. Returns the final state."""
        self.page.evaluate(JS_RUN_ALL)
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            st = self.state()
            if st["kernel"] in ("dead", "autorestarting", "restarting"):
                raise AssertionError(f"the kernel died while running all cells ({st['kernel']})")
            if (st["runAll"] or "").startswith("failed"):
                raise AssertionError(f"run all cells {st['runAll']}")
            busy = (st["runAll"] == "running" or st["kernel"] != "idle"
                    or any(c["state"] == "running" for c in st["cells"]))
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                return st
            time.sleep(0.3)
        raise AssertionError(f"notebook still running after {timeout:.0f} s")

    # -- errors ---------------------------------------------------------------------------

    @staticmethod
    def model_errors(state: dict) -> list[str]:
        problems = []
        for c in state["cells"]:
            for out in c["outputs"]:
                if out.get("output_type") == "error":
                    problems.append(f"cell {c['index']}: {out.get('ename')}: {out.get('evalue')}")
                elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                    text = "".join(out.get("text", ""))
                    if re.search(ERROR_PATTERN, text):
                        problems.append(f"cell {c['index']} stderr: {text.strip()[:500]}")
        return problems

    def dom_errors(self, root=None) -> list[str]:
        """Error-looking stderr / error outputs rendered anywhere below ``root`` (the notebook
        by default), including inside widget Output areas, plus widgets that failed to load."""
        root = root or self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        problems = []
        stderr = root.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
        for text in stderr.all_inner_texts():
            if re.search(ERROR_PATTERN, text):
                problems.append("stderr/error output: " + text.strip()[:800])
        for text in root.locator(".jp-OutputArea-output").all_inner_texts():
            if "Error displaying widget" in text or "Loading widget..." in text:
                problems.append("widget did not render: " + text.strip()[:300])
        return problems

    # -- demos ----------------------------------------------------------------------------

    def widget_outputs(self):
        """Rendered widget views at the top level of cell outputs."""
        nb = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        # A widget view's output node has no data-mime-type; its child is the widget's root.
        # Outputs nested inside an Output widget are excluded.
        return nb.locator(".jp-Cell-outputArea > .jp-OutputArea-child > "
                          ".jp-OutputArea-output:has(> .jupyter-widgets)")

    def demos(self) -> list:
        found = []
        for out in self.widget_outputs().all():
            if out.locator(".widget-slider, .widget-dropdown").count():
                found.append(out)
        return found

    @staticmethod
    def controls(demo) -> list[Control]:
        controls = []
        for slider in demo.locator(".widget-slider").all():
            label = slider.locator(".widget-label").first.inner_text().strip()
            for k, handle in enumerate(slider.locator(".noUi-handle").all()):
                controls.append(Control("slider", label + (f"[{k}]" if k else ""), handle))
        for dropdown in demo.locator(".widget-dropdown").all():
            label = dropdown.locator(".widget-label").first.inner_text().strip()
            controls.append(Control("dropdown", label, dropdown.locator("select")))
        return controls

    @staticmethod
    def figure_signature(demo) -> str | None:
        """A digest of what the demo currently shows as figures: the bytes of every image
        (PNG/SVG data URLs), SVG markup, or canvas pixels; None if it shows no figure."""
        imgs = demo.locator("img").evaluate_all("els => els.map(e => e.src)")
        svgs = demo.locator("svg").evaluate_all("els => els.map(e => e.outerHTML)")
        canvases = demo.locator("canvas").evaluate_all(
            "els => els.map(e => { try { return e.toDataURL(); } catch (x) { return ''; } })")
        parts = [s for s in imgs + svgs + canvases if s]
        if not parts:
            return None
        h = hashlib.sha256()
        for p in parts:
            h.update(p.encode())
        return h.hexdigest()

    @staticmethod
    def image_bytes(demo) -> list[bytes]:
        out = []
        for src in demo.locator("img").evaluate_all("els => els.map(e => e.src)"):
            if src.startswith("data:") and ";base64," in src:
                out.append(base64.b64decode(src.split(",", 1)[1]))
        return out

    def busy_count(self) -> int:
        return self.page.evaluate("() => window.__nml_busy")

    def kernel_status(self) -> str | None:
        return self.page.evaluate(
            "() => { const s = window.__nml_panel.sessionContext;"
            " return s.session && s.session.kernel ? s.session.kernel.status : null; }")

    def wait_figure_change(self, demo, before: str, busy_before: int,
                           timeout: float = 90.0, reach_timeout: float = 30.0) -> str:
        """After a control moved: wait until the kernel has run the update (it went busy, is
        idle again) and the figure has settled; return its new signature. Fails fast when
        an error shows up in the demo, when the change never reaches the kernel, or when the
        settled figure equals ``before``."""
        t0 = time.monotonic()
        last, stable_since = None, time.monotonic()
        while time.monotonic() - t0 < timeout:
            problems = self.dom_errors(demo)
            if problems:
                raise AssertionError("error output in the demo:\n" + "\n".join(problems))
            sig = self.figure_signature(demo)
            if sig != last:
                last, stable_since = sig, time.monotonic()
            ran = self.busy_count() > busy_before
            if not ran and time.monotonic() - t0 > reach_timeout:
                raise AssertionError(
                    f"the kernel did not run anything within {reach_timeout:.0f} s "
                    "(the change never reached it)")
            if ran and self.kernel_status() == "idle":
                settled = time.monotonic() - stable_since
                if sig is not None and sig != before and settled > 0.7:
                    return sig
                if settled > 20.0:  # generous: a loaded 2-core machine can lag seconds
                    raise AssertionError("the kernel ran the update but the figure did not "
                                         "change" if sig is not None else
                                         "the kernel ran the update but no figure is shown")
            time.sleep(0.2)
        raise AssertionError(f"figure did not change within {timeout:.0f} s")

    def move(self, control: Control, step: int) -> str:
        """Move a control to another value; returns a description of the new value."""
        if control.kind == "dropdown":
            options = control.locator.evaluate(
                "s => Array.from(s.options).map(o => o.value)")
            current = control.locator.input_value()
            others = [o for o in options if o != current]
            if not others:
                raise AssertionError(f"dropdown {control.label!r} has a single option")
            target = others[step % len(others)] if len(others) > 1 else others[0]
            control.locator.select_option(target)
            return control.locator.evaluate("s => s.options[s.selectedIndex].text")
        # A slider: one keyboard step at a time, as a student would with the arrow keys,
        # towards the farther end so that successive moves reach new values.
        handle = control.locator
        now, lo, hi = (float(handle.get_attribute(a))
                       for a in ("aria-valuenow", "aria-valuemin", "aria-valuemax"))
        if not control.direction:
            control.direction = "ArrowRight" if hi - now >= now - lo else "ArrowLeft"
        if (control.direction == "ArrowRight" and now >= hi) or \
                (control.direction == "ArrowLeft" and now <= lo):
            control.direction = "ArrowLeft" if control.direction == "ArrowRight" else "ArrowRight"
        # The slider re-renders asynchronously (and a key press can be lost while the page is
        # busy): wait for the value to change, pressing once more if it has not after 3 s.
        for attempt in range(3):
            if attempt == 2:  # stuck at a snapping edge of its range: try the other way
                control.direction = ("ArrowLeft" if control.direction == "ArrowRight"
                                     else "ArrowRight")
            handle.focus()
            handle.press(control.direction)
            deadline = time.monotonic() + 3.0
            while (time.monotonic() < deadline
                   and float(handle.get_attribute("aria-valuenow")) == now):
                time.sleep(0.1)
            if float(handle.get_attribute("aria-valuenow")) != now:
                break
        readout = self.page.evaluate(
            "h => { const w = h.closest('.widget-slider');"
            " const r = w && w.querySelector('.widget-readout');"
            " return r ? r.textContent.trim() : null; }", handle.element_handle())
        if readout is None or readout == "":
            readout = handle.get_attribute("aria-valuetext") or handle.get_attribute(
                "aria-valuenow")
        if float(handle.get_attribute("aria-valuenow")) == now:
            raise AssertionError(f"slider {control.label!r} did not move from {now} "
                                 f"with {control.direction}")
        return readout


# ----------------------------------------------------------------------------------------------
# the whole check of one notebook

MOVES_PER_CONTROL = 2
FIGURE_TIMEOUT = 90.0  # s for one demo update (2 busy cores)
RUN_ALL_TIMEOUT = 420.0  # s for one tutorial (budget: ~2 min on 2 cores)


def check_notebook(nb: NotebookPage, rel_path: str, stem: str, log: list[str],
                   screenshot_dir: Path = SCREENSHOT_DIR) -> int:
    """Open ``rel_path`` (relative to the server's root), run all cells and exercise every
    interactive demo; raises AssertionError on the first problem. Appends progress to ``log``,
    saves ``<stem>_demo<k>.png`` per demo in ``screenshot_dir``; returns the number of demos."""
    t0 = time.monotonic()
    info = nb.open(rel_path)
    dialogs = nb.dismiss_dialogs()
    assert not dialogs, f"JupyterLab showed dialogs when opening {rel_path}: {dialogs}"
    assert info["kernel"] == "python3", f"notebook kernel is {info}, expected python3"
    nb.wait_kernel_idle(timeout=120)
    kinfo = nb.kernel_info()
    assert Path(kinfo["prefix"]) == Path(sys.prefix), \
        f"the kernel runs {kinfo['executable']}, not the venv's python ({venv_bin()})"
    assert kinfo["neuromodlab"].startswith(str(REPO)), \
        f"the kernel's neuromodlab is {kinfo['neuromodlab']}, not this checkout's"
    log.append(f"opened in {time.monotonic() - t0:.0f} s, kernel {kinfo['executable']}")

    state = nb.run_all(timeout=RUN_ALL_TIMEOUT)
    log.append(f"ran all cells in {time.monotonic() - t0:.0f} s")
    errors = nb.model_errors(state) + nb.dom_errors()
    assert not errors, f"{rel_path}: error output after running all cells:\n" + "\n".join(errors)
    not_run = [c["index"] for c in state["cells"] if c["count"] is None]
    assert not not_run, f"{rel_path}: code cells {not_run} did not run"

    expected = nb.expected_widget_views(state)
    rendered = nb.widget_outputs().count()
    assert rendered == len(expected), (
        f"{rel_path}: the kernel displayed {len(expected)} widget(s) (cells {expected}) but "
        f"{rendered} rendered: is the ipywidgets lab extension loaded?")

    demos = nb.demos()
    log.append(f"{len(demos)} interactive demo(s)")
    for k, demo in enumerate(demos, start=1):
        name = f"{stem} demo {k}"
        demo.scroll_into_view_if_needed()
        signature = nb.figure_signature(demo)
        assert signature is not None, \
            f"{name}: shows no figure before any control is touched (missing display?)"
        n_images = len(nb.image_bytes(demo))
        controls = nb.controls(demo)
        assert controls, f"{name}: no slider or dropdown found"
        for control in controls:
            for step in range(MOVES_PER_CONTROL):
                busy = nb.busy_count()
                value = nb.move(control, step)
                where = f"{name}, {control.kind} {control.label!r} -> {value}"
                try:
                    signature = nb.wait_figure_change(demo, signature, busy,
                                                      timeout=FIGURE_TIMEOUT)
                except AssertionError as exc:
                    raise AssertionError(f"{where}: {exc}") from None
                now = len(nb.image_bytes(demo))
                assert now == n_images, \
                    f"{where}: {now} images instead of {n_images} (figures pile up?)"
                log.append(f"  {where}: figure changed")
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        shot = screenshot_dir / f"{stem}_demo{k}.png"
        demo.screenshot(path=str(shot))
        log.append(f"  screenshot {shot}")

    errors = nb.model_errors(nb.state()) + nb.dom_errors()
    assert not errors, f"{rel_path}: error output after the demos:\n" + "\n".join(errors)
    log.append(f"done in {time.monotonic() - t0:.0f} s")
    return len(demos)
