"""The W1D2 Tutorial 5 demo (fixed points under a blended context) and its self-checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from neuromodlab.checks import CheckFailed  # noqa: E402
from neuromodlab.checks import dynamics as cd  # noqa: E402
from neuromodlab.experiments import load_pretrained  # noqa: E402
from neuromodlab.widgets import dynamics as wd  # noqa: E402


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)
    models = {}
    for mech in ("excitability", "synaptic"):
        models[mech], taskset, _ = load_pretrained(mech, tasks=("go", "anti"), n_hidden=32,
                                                   return_info=True)
    return wd.precompute_interpolation(models, taskset, lambdas=(0.0, 0.5, 1.0), n_iter=30)


def test_precompute_shapes(data):
    for mech, d in data.items():
        assert d["lambdas"] == [0.0, 0.5, 1.0]
        assert len(d["traj"]) == len(d["fp"]) == len(d["stable"]) == 3
        for fp, st in zip(d["fp"], d["stable"]):
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
