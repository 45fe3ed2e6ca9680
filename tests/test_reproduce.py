"""`python -m neuromodlab reproduce`: output-folder safety, files written, same seed -> same
numbers."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from neuromodlab.__main__ import main
from neuromodlab.experiments.reproduce import OutputError, prepare_output

ROOT = Path(__file__).resolve().parents[1]


def _numbers(d):
    """results.json without wall times, versions and file lists (what must be reproducible)."""
    if isinstance(d, dict):
        return {k: _numbers(v) for k, v in d.items()
                if k not in ("wall_time_s", "wall_time", "versions", "command", "platform",
                             "torch_threads", "info")}
    if isinstance(d, list):
        return [_numbers(v) for v in d]
    return d


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("repro") / "results"
    assert main(["reproduce", "--quick", "--out", str(out), "--quiet", "--seed", "3",
                 "--jobs", "2"]) == 0
    return out


def test_quick_run_writes_report_results_and_figures(quick_run):
    out = quick_run
    results = json.loads((out / "results.json").read_text())
    report = (out / "report.md").read_text()
    assert results["mode"] == "quick" and results["seed"] == 3
    assert set(results["experiments"]) == {"ambiguity", "packing", "initialisation",
                                           "dynamics"}
    for name in ("ambiguity", "dynamics"):
        exp = results["experiments"][name]
        assert exp["status"] == "done" and exp["wall_time_s"] > 0
        assert exp["seeds"] and min(exp["seeds"]) >= 3  # --seed shifts the seeds
        assert (out / "data" / f"{name}.json").exists()
    assert results["wall_time_s"]["total"] > 0 and results["versions"]["torch"]
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert any(p.startswith("ambiguity_blend") for p in pngs)
    assert "dynamics_interpolation.png" in pngs
    for png in pngs:  # every figure is embedded in the report
        assert f"figures/{png}" in report
    assert "Vedovati & Ching" in report and "inspired by" in report
    for f in results["files"]:
        assert (out / f).exists(), f


@pytest.mark.slow
def test_same_seed_same_numbers(quick_run, tmp_path):
    """A rerun into the previous output folder is allowed and gives identical numbers, with
    one process (the first run used two)."""
    first = json.loads((quick_run / "results.json").read_text())
    assert main(["reproduce", "--quick", "--out", str(quick_run), "--quiet", "--seed",
                 "3", "--jobs", "1"]) == 0
    second = json.loads((quick_run / "results.json").read_text())
    assert _numbers(first) == _numbers(second)


def test_existing_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("precious")
    assert main(["reproduce", "--quick", "--out", str(target), "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert target.read_text() == "precious"


def test_unrelated_folder_is_refused_and_left_alone(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["reproduce", "--quick", "--out", str(tmp_path), "--quiet"]) == 2
    assert "other files" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with pytest.raises(OutputError):
        prepare_output(tmp_path)


def test_bad_arguments(tmp_path, capsys):
    assert main(["reproduce", "--quick", "--out", str(tmp_path / "o"), "--seed", "-1",
                 "--quiet"]) == 2
    assert "seed" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--only", "nope", "--quiet"]) == 2
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--jobs", "0", "--quiet"]) == 2
    assert not (tmp_path / "o").exists()  # nothing written on bad arguments
    with pytest.raises(SystemExit):
        main(["reproduce", "--quick", "--full"])


def test_module_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "neuromodlab", "reproduce", "--help"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    for flag in ("--quick", "--full", "--out", "--seed", "--quiet"):
        assert flag in out


def test_a_failing_experiment_does_not_lose_the_others(tmp_path, monkeypatch, capsys):
    from neuromodlab.experiments import reproduce as rep

    real = rep._run_plugin

    def broken(name, *args, **kwargs):
        if name == "packing":
            raise RuntimeError("simulated crash")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(rep, "_run_plugin", broken)
    out = tmp_path / "r"
    code = main(["reproduce", "--quick", "--out", str(out), "--quiet", "--jobs", "1",
                 "--only", "packing,initialisation"])
    assert code == 1 and "packing failed" in capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert results["experiments"]["packing"]["status"] == "failed"
    assert "simulated crash" in results["experiments"]["packing"]["reason"]
    assert results["experiments"]["initialisation"]["status"] == "done"
    assert "simulated crash" in (out / "data" / "packing_error.txt").read_text()
    assert "**Failed**" in (out / "report.md").read_text()
