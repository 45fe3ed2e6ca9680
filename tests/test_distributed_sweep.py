"""Distributed sweeps (issue 7): the ensembles of an experiment trained on Dask workers give
exactly the numbers of the local run; local runs are the documented ensembles; clear errors
for a missing Dask, a bad or unreachable scheduler and conflicting options."""

import dataclasses
import operator
import socket
import subprocess
import sys

import pytest
import torch

from neuromodlab.__main__ import main
from neuromodlab.ensemble import Ensemble, fit_ensemble
from neuromodlab.experiments import distributed as nd
from neuromodlab.experiments.ambiguity import AmbiguityConfig, run_ambiguity
from neuromodlab.experiments.dynamics import DynamicsConfig, run_dynamics
from neuromodlab.experiments.initialisation import (
    InitialisationConfig,
    InitResult,
    run_initialisation,
)
from neuromodlab.experiments.packing import PackingConfig, PackingRun, run_packing
from neuromodlab.experiments.reproduce import reproduce
from neuromodlab.experiments.results import results_equal

distributed = pytest.importorskip("distributed")

# tiny sweeps: a few seconds of training in all
PACKING = PackingConfig.quick(max_steps=20, eval_every=10)  # 2 sizes x 3 mechanisms: 6 units
INIT = InitialisationConfig.quick(max_steps=20, eval_every=10)
AMBIGUITY = AmbiguityConfig.quick(mechanisms=("rule", "synaptic"), max_steps=20, eval_every=10,
                                  n_hidden=8)


@pytest.fixture(scope="module")
def client():
    # processes=True: the units really cross a process boundary (pickling, fresh torch state)
    with nd.local_cluster(2) as c:
        yield c


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _network_records(result):
    return [dataclasses.replace(r, wall_time_s=0.0) for r in result.networks]


def _assert_same_networks(a: dict, b: dict):
    assert a.keys() == b.keys()
    for mech in a:
        for (ma, ha), (mb, hb) in zip(a[mech], b[mech], strict=True):
            sa, sb = ma.state_dict(), mb.state_dict()
            assert sa.keys() == sb.keys()
            assert all(torch.equal(sa[k], sb[k]) for k in sa), mech
            assert (ha.loss, ha.performance, ha.steps_to_criterion) == (
                hb.loss, hb.performance, hb.steps_to_criterion)


# ---------------------------------------------------------------- distributed == local
@pytest.mark.slow
def test_packing_sweep_on_a_local_cluster_equals_the_local_sweep(client):
    local = run_packing(PACKING, quiet=True)
    with distributed.get_task_stream(client) as stream:
        remote = run_packing(PACKING, quiet=True, client=client)
    assert remote.runs == local.runs  # every float, bit for bit
    assert list(remote.wall_time_s) == list(local.wall_time_s)  # same (mechanism, N) order
    assert remote.capacity_table() == local.capacity_table()
    assert remote.info.backend == "ensemble on dask" and local.info.backend == "ensemble"
    assert len(stream.data) == len(PACKING.mechanisms) * len(PACKING.n_hidden)
    assert len({t["worker"] for t in stream.data}) == 2  # spread over both workers


@pytest.mark.slow
def test_initialisation_sweep_on_a_local_cluster_equals_the_local_sweep(client):
    local = run_initialisation(INIT, quiet=True)
    remote = run_initialisation(INIT, quiet=True, client=client)
    assert remote.runs == local.runs
    assert results_equal(remote.summary()["success"], local.summary()["success"])


@pytest.mark.slow
def test_ambiguity_on_a_local_cluster_equals_the_local_run(client):
    local = run_ambiguity(AMBIGUITY, quiet=True)
    remote = run_ambiguity(AMBIGUITY, quiet=True, client=client)
    _assert_same_networks(local.trained, remote.trained)
    assert _network_records(remote) == _network_records(local)
    assert results_equal(remote.curves, local.curves)
    assert results_equal(remote.metrics, local.metrics)


@pytest.mark.slow
def test_dynamics_on_a_local_cluster_equals_the_local_run(client):
    config = DynamicsConfig.quick(mechanisms=("excitability",), max_steps=20, eval_every=10,
                                  n_hidden=8, fp_iters=20)
    local = run_dynamics(config, quiet=True)
    remote = run_dynamics(config, quiet=True, client=client)
    assert _network_records(remote) == _network_records(local)
    assert results_equal(remote.per_network, local.per_network)


@pytest.mark.slow
def test_reproduce_with_a_client_writes_the_local_numbers(client, tmp_path):
    here = reproduce(tmp_path / "local", "quick", experiments=("initialisation",), quiet=True,
                     jobs=1)
    there = reproduce(tmp_path / "dask", "quick", experiments=("initialisation",), quiet=True,
                      client=client)
    assert there["experiments"]["initialisation"]["status"] == "done"
    summaries = [r["experiments"]["initialisation"]["summary"] for r in (here, there)]
    for s in summaries:
        s.pop("wall_time_s")
    assert results_equal(summaries[0], summaries[1])  # NaN medians where none reached
    local_runs = _init_runs(tmp_path / "local")  # the full result objects written to data/
    assert local_runs and _init_runs(tmp_path / "dask") == local_runs


def _init_runs(out):
    return InitResult.load(out / "data" / "initialisation.json").runs


@pytest.mark.slow
def test_command_line_dask_workers(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["reproduce", "--quick", "--only", "initialisation", "--out", str(out),
                 "--dask-workers", "2"]) == 0
    assert "ensembles train on the Dask cluster at tcp://" in capsys.readouterr().out
    local = reproduce(tmp_path / "local", "quick", experiments=("initialisation",), quiet=True,
                      jobs=1)
    assert local["experiments"]["initialisation"]["status"] == "done"
    assert _init_runs(out) == _init_runs(tmp_path / "local")


@pytest.mark.slow
def test_scheduler_address_string_connects_and_closes(client):
    before = len(client.nthreads())
    remote = run_initialisation(INIT, quiet=True, client=client.scheduler.address)
    assert remote.runs == run_initialisation(INIT, quiet=True).runs
    assert len(client.nthreads()) == before  # the borrowed cluster is left running


@pytest.mark.slow
def test_a_failing_unit_raises_its_error(client):
    units = [nd.Unit(operator.truediv, (1, 2), "fine"), nd.Unit(operator.truediv, (1, 0), "bad")]
    with pytest.raises(ZeroDivisionError):
        nd.run_units(units, client)
    assert nd.run_units(units[:1], client) == [0.5]


# ---------------------------------------------------------------- local runs unchanged
def test_local_packing_is_the_documented_ensemble_fit():
    """The local path = one fit_ensemble per (mechanism, N) with the seeds of the design."""
    c = PackingConfig.quick(mechanisms=("synaptic",), matched=(), n_hidden=(8,), max_steps=20,
                            eval_every=10)
    members = [(k, s) for k in c.task_counts for s in c.seeds]
    ens = Ensemble(c.model_config("synaptic", 8), [s for _, s in members])
    hists = fit_ensemble(ens, c.taskset(), c.train_config(8), quiet=True, data="pooled",
                         train_seeds=[1000 * s + k for k, s in members],
                         member_tasks=[list(c.tasks[:k]) for k, _ in members])
    expected = [PackingRun("synaptic", 8, k, s, c.params_per_task("synaptic", 8), h.reached,
                           h.steps[-1], h.steps_to_criterion,
                           {t: float(v[-1]) for t, v in h.performance.items()})
                for (k, s), h in zip(members, hists, strict=True)]
    assert run_packing(c, quiet=True).runs == expected


def test_local_ambiguity_networks_are_the_ensemble_members():
    c = dataclasses.replace(AMBIGUITY, mechanisms=("rule",))
    ts = c.taskset()
    from neuromodlab.modulation import ModelConfig

    ens = Ensemble(ModelConfig("rule", ts.n_in, ts.n_out, ts.K, **c.model_kwargs()), c.seeds)
    hists = fit_ensemble(ens, ts, c.train_config(c.seeds[0]), quiet=True, data="own",
                         train_seeds=list(c.seeds))
    expected = {"rule": [(ens.member(e), h) for e, h in enumerate(hists)]}
    _assert_same_networks(run_ambiguity(c, quiet=True).trained, expected)


def test_local_run_units_keeps_order_and_needs_no_dask():
    units = [nd.Unit(operator.add, (k, 1), f"u{k}") for k in range(3)]
    seen = []
    assert nd.run_units(units, None, lambda k, u: seen.append(u.label)) == [1, 2, 3]
    assert seen == ["u0", "u1", "u2"]


def test_library_imports_and_runs_locally_without_dask():
    code = ("import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
            "import neuromodlab, neuromodlab.__main__\n"
            "from neuromodlab.experiments import packing, initialisation, ambiguity, reproduce\n"
            "from neuromodlab.experiments.distributed import run_units, Unit, DaskNotInstalled\n"
            "assert run_units([Unit(abs, (-2,), 'a')]) == [2]\n"
            "from neuromodlab.experiments.distributed import connect\n"
            "try:\n"
            "    with connect('tcp://127.0.0.1:1'):\n"
            "        pass\n"
            "except DaskNotInstalled as err:\n"
            "    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert 'pip install -e ".[dask]"' in out.stdout


# ---------------------------------------------------------------- errors
def test_missing_dask_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(nd.DaskNotInstalled, match=r'pip install -e "\.\[dask\]"'):
        run_packing(PACKING, quiet=True, client="tcp://127.0.0.1:8786")
    assert main(["reproduce", "--quick", "--out", str(tmp_path / "o"), "--quiet",
                 "--dask-workers", "2"]) == 2
    assert '.[dask]' in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unreachable_scheduler_is_reported_within_the_timeout(monkeypatch, tmp_path, capsys):
    import time

    monkeypatch.setattr(nd, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.perf_counter()
    with pytest.raises(nd.SchedulerUnreachable, match=f"no Dask scheduler answered at "
                                                       f"'{address}' within 1 s"):
        run_packing(PACKING, quiet=True, client=address)
    assert time.perf_counter() - t0 < 15
    assert main(["reproduce", "--quick", "--out", str(tmp_path / "o"), "--quiet",
                 "--scheduler", address]) == 2
    assert "no Dask scheduler answered" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written


def test_malformed_address_and_wrong_client_type():
    with pytest.raises(ValueError, match="not a Dask scheduler address.*tcp://host:8786"):
        run_initialisation(INIT, quiet=True, client="no-port-here")
    with pytest.raises(TypeError, match="client must be None, a dask.distributed Client"):
        run_initialisation(INIT, quiet=True, client=8786)


def test_conflicting_command_line_options(tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["reproduce", "--quick", "--out", out, "--quiet", "--scheduler",
                 "tcp://127.0.0.1:8786", "--jobs", "2"]) == 2
    assert "use jobs=1" in capsys.readouterr().err
    assert main(["reproduce", "--quick", "--out", out, "--quiet", "--dask-workers", "0"]) == 2
    assert "--dask-workers must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one way to reach Dask at a time
        main(["reproduce", "--quick", "--out", out, "--scheduler", "tcp://h:1",
              "--dask-workers", "2"])
    assert not (tmp_path / "o").exists()


def test_reproduce_rejects_jobs_with_a_client(tmp_path):
    with pytest.raises(ValueError, match="jobs=2 runs packing and initialisation"):
        reproduce(tmp_path / "o", "quick", jobs=2, client="tcp://127.0.0.1:8786")
    assert not (tmp_path / "o").exists()


class _Cluster:
    def __init__(self, nthreads):
        self._n = nthreads

    def nthreads(self):
        return self._n


def test_worker_warnings():
    with pytest.warns(UserWarning, match="no workers yet"):
        nd._check_workers(_Cluster({}))
    with pytest.warns(UserWarning, match="--nthreads 1"):
        nd._check_workers(_Cluster({"a": 1, "b": 4}))
