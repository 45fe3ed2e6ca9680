"""The W1D2 Tutorial 5 demo (fixed points under a blended context) and its self-checks."""

import matplotlib

matplotlib.use("Agg")

import copy  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from neuromodlab import modulation  # noqa: E402
from neuromodlab.checks import CheckFailed  # noqa: E402
from neuromodlab.checks import dynamics as cd  # noqa: E402
from neuromodlab.experiments import load_pretrained  # noqa: E402
from neuromodlab.widgets import dynamics as wd  # noqa: E402


@pytest.fixture(scope="module")
def networks():
    torch.set_num_threads(1)
    models = {}
    for mech in ("excitability", "synaptic"):
        models[mech], taskset, _ = load_pretrained(mech, tasks=("go", "anti"), n_hidden=32,
                                                   return_info=True)
    return models, taskset


@pytest.fixture(scope="module")
def data(networks):
    models, taskset = networks
    return wd.precompute_interpolation(models, taskset, lambdas=(0.0, 0.5, 1.0), n_iter=30)


def test_precompute_shapes(data):
    for d in data.values():
        assert d["lambdas"] == [0.0, 0.5, 1.0]
        assert len(d["traj"]) == len(d["fp"]) == len(d["stable"]) == 3
        for fp, st in zip(d["fp"], d["stable"], strict=True):
            assert fp.ndim == 2 and fp.shape[1] == 2 and st.shape == (fp.shape[0],)


@pytest.mark.parametrize("mech", ["excitability", "synaptic"])
@pytest.mark.parametrize("l", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_show_interpolation(data, mech, l):  # noqa: E741
    fig = wd.show_interpolation(data, mech, l)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("PC 1") and ax.get_ylabel().startswith("PC 2")
    nearest = min(data[mech]["lambdas"], key=lambda v: abs(v - l))
    assert f"l = {nearest:.2f}" in ax.get_title()
    plt.close(fig)


@pytest.mark.parametrize("mech", ["excitability", "synaptic"])
@pytest.mark.parametrize("k", [0, 2])
def test_stable_fixed_point_is_where_the_network_settles(networks, data, mech, k):
    """Oracle independent of the fixed-point search: simulate the network from the end of the
    trial under the constant decision-period input for 30 s of model time; where it settles is
    the stable fixed point the demo shows (same PC coordinates)."""
    models, taskset = networks
    d = data[mech]
    assert d["n_fixed"][k] >= 1 and d["stable"][k].any()
    m64 = copy.deepcopy(models[mech]).double().eval()
    batch = taskset.sample(32, seed=0)  # precompute_interpolation's defaults
    inputs = batch.inputs[:, d["trial"]:d["trial"] + 1].double()
    c = modulation.mix_context(0, 1, d["lambdas"][k], 2, 1).double()
    hold = inputs[-1:].expand(1500, -1, -1)  # the last input, held
    with torch.no_grad():
        run = m64(torch.cat([inputs, hold]), c, noise=False)
    settled = d["pca"].transform(run.rates[-1]).numpy()[0]
    stable_points = d["fp"][k][d["stable"][k]]
    assert np.min(np.linalg.norm(stable_points - settled, axis=1)) < 1e-3
    assert np.allclose(d["traj"][k], d["pca"].transform(run.rates[:inputs.shape[0], 0]).numpy(),
                       atol=1e-5)  # the drawn trajectory is this trial under this context


def test_slider_stops_are_the_precomputed_blends(data):
    pytest.importorskip("ipywidgets")
    from ipywidgets import FloatSlider

    assert np.allclose(np.diff(wd.LAMBDAS), 0.1) and wd.LAMBDAS[-1] == 1.0
    plt.close("all")
    demo = wd.interpolation_demo(data)
    plt.close("all")
    slider = next(w for w in demo.widget.children if isinstance(w, FloatSlider))
    stops = np.arange(slider.min, slider.max + 1e-9, slider.step)
    assert np.allclose(stops, data["synaptic"]["lambdas"])  # every stop is a precomputed l


def test_references_pass_their_checks():
    cd.check_participation_ratio(cd.reference_participation_ratio)
    cd.check_principal_angles(cd.reference_principal_angles)
    cd.check_fixed_point_speed(cd.reference_fixed_point_speed)


def test_checks_catch_wrong_answers():
    with pytest.raises(CheckFailed):
        cd.check_participation_ratio(lambda lam: float((lam**2).sum() / lam.sum() ** 2))
    with pytest.raises(CheckFailed):  # forgets to orthonormalise
        cd.check_principal_angles(
            lambda A, B: torch.arccos(torch.linalg.svdvals(A.T @ B).clamp(0, 1)))
    with pytest.raises(CheckFailed):  # no factor 0.5
        cd.check_fixed_point_speed(lambda step, x: ((step(x) - x) ** 2).sum(-1))
    with pytest.raises(NotImplementedError):
        cd.check_fixed_point_speed(lambda step, x: (_ for _ in ()).throw(NotImplementedError))


def test_fixedpoint_figures():
    from neuromodlab.plotting import fixedpoints as pfp

    fig = pfp.plot_speed_descent([1.0, 0.1, 0.01])
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [1.0, 0.1, 0.01]
    pts = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    fig = pfp.plot_context_fixed_points(pts, torch.tensor([True, False]), ["go", "anti"],
                                        explained_variance_ratio=[0.5, 0.25])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["go context", "anti context"]
    assert ax.get_xlabel() == "PC 1 of rates (50% var.)"


def test_demo_shows_each_figure_once(data, monkeypatch):
    # A slider move must draw one figure, close it, and hand interact nothing to display
    # (a returned Figure would be displayed a second time under the inline one).
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(plt.get_fignums()))
    plt.close("all")
    demo = wd.interpolation_demo(data)
    shown.clear()
    controls = {w.description: w for w in demo.widget.children if hasattr(w, "description")}
    controls["l"].value = 0.5
    assert len(shown) == 1 and len(shown[0]) == 1  # one open figure when shown
    assert demo.widget.result is None
    assert plt.get_fignums() == []
