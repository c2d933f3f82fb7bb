import json

import numpy as np

import pytest
import torch

from qrnn_core.data import DataConfig, make_task
from qrnn_core.model import QRNN
from qrnn_core.train import TrainConfig, TrainingDiverged, config_replace, train

from ..conftest import cuda

# Small runs: 4 qubits, a short series, a few sequences; the protocol is otherwise the seed's.
SMALL = TrainConfig(
    method="spsa", n_qubits=4, epochs=2, train_sequences=12, val_steps=30,
    data=DataConfig(n_samples=600),
)


@pytest.fixture(scope="module")
def task():
    return make_task(SMALL.data)


def run(tmp_path, name, config, task):
    return train(config, tmp_path / name, progress=False, task=task)


def test_short_run_lowers_the_training_loss(tmp_path, task):
    config = config_replace(SMALL, method="exact", lr=0.05, epochs=4)
    metrics = run(tmp_path, "exact", config, task)
    means = [sum(e) / len(e) for e in metrics["train_rmse"]]
    assert means[-1] < means[0], means
    assert len(metrics["val"]) == 4 and set(metrics["val"][0]) == {"epoch", "sequence", "windows"}
    for protocol in ("sequence", "windows"):
        assert set(metrics["val"][0][protocol]) == {"exact", "shots"}
        assert set(metrics["val"][0][protocol]["shots"]) == {"rmse_y", "rmse_z", "rmse_mean"}


def test_same_seed_same_metrics_and_resume_equals_uninterrupted(tmp_path, task):
    config = config_replace(SMALL, shots=64)  # shots too: every generator must be restored
    whole = run(tmp_path, "whole", config, task)
    again = run(tmp_path, "again", config, task)
    assert whole["train_rmse"] == again["train_rmse"] and whole["val"] == again["val"]
    run(tmp_path, "split", config_replace(config, epochs=1), task)
    resumed = run(tmp_path, "split", config, task)
    assert resumed["train_rmse"] == whole["train_rmse"] and resumed["val"] == whole["val"]
    a = torch.load(tmp_path / "whole" / "checkpoint_epoch2.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "split" / "checkpoint_epoch2.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a if k.endswith(("weight", "bias")))


def test_metrics_carry_config_versions_and_commit(tmp_path, task):
    run(tmp_path, "m", config_replace(SMALL, epochs=1), task)
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert TrainConfig.from_dict(metrics["config"]) == config_replace(SMALL, epochs=1)
    assert {"torch", "qiskit"} <= set(metrics["provenance"]["versions"])
    assert "git_commit" in metrics["provenance"]
    with np.load(tmp_path / "m" / "trajectory.npz") as z:
        assert z["train_rmse"].shape == (1, 12) and z["params"].shape == (2, 2 * 27 + 2 * 4 + 2)


def test_a_different_config_never_overwrites_a_run(tmp_path, task):
    run(tmp_path, "r", config_replace(SMALL, epochs=1), task)
    with pytest.raises(ValueError, match="differs in lr"):
        run(tmp_path, "r", config_replace(SMALL, epochs=1, lr=0.5), task)
    # the checkpoint carries its config: refused even without config.json on disk
    (tmp_path / "r" / "config.json").unlink()
    with pytest.raises(ValueError, match="differs in lr"):
        run(tmp_path, "r", config_replace(SMALL, epochs=1, lr=0.5), task)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"method": "adam"}, "method"),
        ({"backend": "qpu"}, "backend"),
        ({"epochs": 0}, "epochs"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -1e-3}, "lr"),
        ({"warmup": 20}, "warmup"),
        ({"data_window": 5}, "warmup"),
        ({"shots": 0}, "shots"),
        ({"batch_size": 0}, "batch_size"),
        ({"spsa_c": 0.0}, "c must be"),
        ({"method": "exact", "backend": "aer"}, "exact"),
        ({"train_sequences": 10**6}, "train_sequences: 1000000 windows asked"),
        ({"val_steps": 10**6}, "val_steps: 1000000 steps asked"),
        ({"data_source": "original", "data_n_samples": 9900, "data_rho": 20.0}, "data.rho: a setting of the generated"),
    ],
)
def test_bad_config_fails_before_any_compute(tmp_path, changes, field):
    with pytest.raises(ValueError, match=field):
        train(config_replace(SMALL, **changes), tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists()


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, task, monkeypatch):
    run(tmp_path, "nan", config_replace(SMALL, epochs=1), task)
    good = (tmp_path / "nan" / "checkpoint_epoch1.pt").read_bytes()
    assert "checkpoint_epoch1.pt" in str(list((tmp_path / "nan").iterdir()))
    forward = QRNN.forward
    monkeypatch.setattr(QRNN, "forward", lambda self, x: forward(self, x) * float("nan"))
    with pytest.raises(TrainingDiverged, match="checkpoint_epoch1.pt"):
        run(tmp_path, "nan", SMALL, task)
    assert (tmp_path / "nan" / "checkpoint_epoch1.pt").read_bytes() == good
    assert not (tmp_path / "nan" / "checkpoint_epoch2.pt").exists()


def test_batches_run_as_one_batch(tmp_path, task):
    metrics = run(tmp_path, "b", config_replace(SMALL, method="fdsa", batch_size=4, epochs=1), task)
    assert len(metrics["train_rmse"][0]) == 3  # 12 sequences in batches of 4
    # the updates, then the two validation protocols: ONE sequence and one 20-step window (30 steps)
    assert metrics["circuits"][0] == 3 * 4 * (1 + 2 * 2 * 27) + 1 + 1


@cuda
def test_training_on_cuda_matches_cpu(tmp_path, task):
    config = config_replace(SMALL, method="exact", epochs=1)
    cpu = run(tmp_path, "cpu", config, task)
    gpu = run(tmp_path, "gpu", config_replace(config, device="cuda"), task)
    assert gpu["train_rmse"][0] == pytest.approx(cpu["train_rmse"][0], abs=1e-9)


def test_fewer_epochs_than_done_changes_nothing(tmp_path, task):
    run(tmp_path, "f", config_replace(SMALL, epochs=2), task)
    before = {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()}
    said = []
    metrics = train(config_replace(SMALL, epochs=1), tmp_path / "f", progress=False, task=task, log=said.append)
    assert "2 epoch(s) already done" in said[0] and len(metrics["val"]) == 2
    assert {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()} == before


def interrupt_at_epoch(monkeypatch, epoch: int):
    """Make the run stop (as Ctrl-C would) when it validates ``epoch``."""
    import qrnn_core.train as train_module

    real = train_module.validate

    def validate(model, inputs, shots, generator, _calls=[]):
        _calls.append(1)
        if len(_calls) == epoch:
            raise KeyboardInterrupt
        return real(model, inputs, shots, generator)

    monkeypatch.setattr(train_module, "validate", validate)


def test_corrupt_latest_checkpoint_falls_back_and_resumes_bitwise(tmp_path, task, monkeypatch):
    config = config_replace(SMALL, shots=64, epochs=4)
    whole = run(tmp_path, "whole", config, task)
    with monkeypatch.context() as m:
        interrupt_at_epoch(m, 3)
        with pytest.raises(KeyboardInterrupt):
            run(tmp_path, "c", config, task)
    # epochs 1 and 2 are kept while running; truncate the newest
    latest = tmp_path / "c" / "checkpoint_epoch2.pt"
    latest.write_bytes(latest.read_bytes()[:100])
    said = []
    resumed = train(config, tmp_path / "c", progress=False, task=task, log=said.append)
    assert any("checkpoint_epoch2.pt" in s and "checkpoint_epoch1.pt" in s for s in said), said
    assert resumed["train_rmse"] == whole["train_rmse"] and resumed["val"] == whole["val"]


def test_garbled_metrics_are_rebuilt_from_the_checkpoint(tmp_path, task):
    first = run(tmp_path, "g", config_replace(SMALL, epochs=1), task)
    (tmp_path / "g" / "metrics.json").write_text("{garbled")
    again = run(tmp_path, "g", config_replace(SMALL, epochs=1), task)
    assert json.loads((tmp_path / "g" / "metrics.json").read_text())["val"] == first["val"] == again["val"]


class _Payload:
    """Unpickling this would create a file: a checkpoint must never run code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_crafted_checkpoint_runs_no_code(tmp_path, task):
    run(tmp_path, "evil", config_replace(SMALL, epochs=1), task)
    marker = tmp_path / "pwned"
    torch.save({"epoch": 1, "payload": _Payload(marker)}, tmp_path / "evil" / "checkpoint_epoch2.pt")
    said = []
    train(config_replace(SMALL, epochs=2), tmp_path / "evil", progress=False, task=task, log=said.append)
    assert not marker.exists()
    assert any("checkpoint_epoch2.pt is unreadable" in s for s in said)


def test_arms_with_one_seed_are_paired(task):
    from qrnn_core.train import build_model

    starts = []
    for changes in ({"method": "spsa"}, {"method": "fdsa", "shots": 64}, {"method": "exact", "lr": 0.007},
                    {"method": "spsa", "spsa_fixed_directions": True, "lr_schedule": "spall"}):
        model, gens = build_model(config_replace(SMALL, **changes))
        order = torch.randperm(12, generator=gens["shuffle"])
        starts.append((torch.cat([p.detach().reshape(-1) for p in model.parameters()]), order))
    for params, order in starts[1:]:
        assert torch.equal(params, starts[0][0]) and torch.equal(order, starts[0][1])
    other, gens = build_model(config_replace(SMALL, seed=7))
    assert not torch.equal(torch.cat([p.detach().reshape(-1) for p in other.parameters()]), starts[0][0])


def test_a_page_building_a_model_by_seed_starts_where_the_runs_of_that_seed_start():
    # The gradients page builds its model with make_model(generators(seed)): the same initial values.
    from qrnn_core.estimators import FDSA
    from qrnn_core.simulator import TorchSimulator
    from qrnn_core.train import build_model, generators, make_model

    run, _ = build_model(config_replace(SMALL, method="fdsa", precision="complex128"))
    page = make_model(TorchSimulator(SMALL.n_qubits), FDSA(), generators(SMALL.seed))
    for a, b in zip(run.parameters(), page.parameters(), strict=True):
        assert torch.equal(a, b)


def test_spall_gain_schedule():
    from qrnn_core.train import spall_factor

    f = spall_factor(config_replace(SMALL, lr_schedule="spall", epochs=10), 1384)  # A = 1,384
    assert f(0) == 1.0
    assert f(13839) == pytest.approx(((1 + 1384) / (13840 + 1384)) ** 0.602)
    assert spall_factor(SMALL, 1384)(500) == 1.0


def test_a_spall_run_at_the_default_a_is_not_extended(tmp_path, task):
    # A is a tenth of the run's updates: more epochs would change the gains already applied
    spall = config_replace(SMALL, epochs=1, lr_schedule="spall")
    run(tmp_path, "s", spall, task)
    with pytest.raises(ValueError, match="cannot be extended to 2"):
        run(tmp_path, "s", config_replace(spall, epochs=2), task)
    explicit = config_replace(spall, spall_a=5.0)
    run(tmp_path, "e", explicit, task)
    assert len(run(tmp_path, "e", config_replace(explicit, epochs=2), task)["val"]) == 2


@pytest.mark.parametrize("method", ["spsa", "fdsa", "parameter_shift", "exact"])
def test_circuits_per_update_count_what_the_estimator_plans(method):
    from qrnn_core.circuit import n_angles
    from qrnn_core.estimators import ShiftPlan, make_estimator
    from qrnn_core.train import step_gates

    config = config_replace(SMALL, method=method, spsa_directions=3)
    estimator = make_estimator(method, **config.estimator_settings())
    theta = torch.zeros(2 * n_angles(config.n_qubits), dtype=torch.float64)
    if method == "exact":
        planned = 0  # autograd through the forward
    else:
        plan = estimator.plan(theta, update=0, generator=torch.Generator().manual_seed(0), state={},
                              steps=config.data.window, gates=step_gates(config.n_qubits))
        planned = len(plan.step) if isinstance(plan, ShiftPlan) else len(plan.rows)
    assert config.circuits_per_update() == 1 + planned


def test_an_overflowing_learning_rate_names_epoch_and_update(tmp_path, task):
    with pytest.raises(TrainingDiverged, match=r"epoch 1, update \d+"):
        run(tmp_path, "big", config_replace(SMALL, method="exact", lr=1e308), task)


def test_two_trainings_cannot_share_a_folder(tmp_path, task):
    import fcntl

    from qrnn_core.train import RunLocked

    (tmp_path / "l").mkdir()
    with open(tmp_path / "l" / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(RunLocked, match="in use by another training"):
            run(tmp_path, "l", SMALL, task)


def _rows_of(windows: torch.Tensor, task) -> np.ndarray:
    """The series row each window ``(S, W)`` starts at (its x values are found in the series)."""
    x = task.series[:-1, 0].numpy()
    every = np.lib.stride_tricks.sliding_window_view(x, windows.shape[1])
    return np.array([int(np.flatnonzero((every == w).all(1))[0]) for w in windows.numpy()])


@pytest.mark.parametrize("k", [60, 230])
def test_a_reduced_budget_trains_on_windows_spread_over_the_whole_training_span(k):
    """The sweep's and the equal-budget runs' k windows come from the whole training span, as an epoch of
    the deck's does, not from its first rows (the run-in of the trajectory)."""
    from qrnn_core.train import training_windows

    task = make_task(DataConfig(source="original", n_samples=9900))
    config = TrainConfig(train_sequences=k, data=DataConfig(source="original", n_samples=9900))
    x, y = training_windows(config, task)
    assert x.shape == (k, 20) and y.shape == (k, 20, 2)
    rows = _rows_of(x, task)
    covered = rows.max() + x.shape[1] - rows.min()  # rows from the first window's start to the last's end
    assert covered >= 0.8 * task.val_start, (covered, task.val_start)
    assert len(set(rows.tolist())) == k
    first = training_windows(config_replace(config, train_windows="first"), task)[0]
    assert _rows_of(first, task).max() < 0.2 * task.val_start  # the old meaning: the start of the span only


def test_a_config_recorded_before_train_windows_reads_as_the_first_k():
    recorded = config_replace(SMALL).to_dict()
    del recorded["train_windows"]
    assert TrainConfig.from_dict(recorded).train_windows == "first"
    assert TrainConfig.from_dict(SMALL.to_dict()).train_windows == "spread"


# ---- device noise (qrnn_core.noisy_kernel) --------------------------------------------------------
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"noise_device": "FakeNowhere"}, "noise_device: unknown backend 'FakeNowhere': choose one of .*FakeMarrakesh"),
        ({"noise_device": "FakeMarrakesh", "noise_scale": -0.5}, "noise_scale must be >= 0, got -0.5"),
        ({"noise_device": "FakeMarrakesh", "noise_scale": float("nan")}, "noise_scale must be a finite number, got nan"),
        ({"noise_device": "FakeMarrakesh", "noise_scale": float("inf")}, "noise_scale must be a finite number, got inf"),
        ({"noise_device": "FakeMarrakesh", "noise_layout": (0, 1, 2, 40)},
         r"noise_layout: layout \(0, 1, 2, 40\) does not fit fake_marrakesh"),
        ({"noise_device": "FakeMarrakesh", "noise_layout": (0, 1, 2.5, 3)}, "noise_layout: .* not a list of physical qubits"),
        ({"noise_scale": 2.0}, "noise_scale: 2.0 has no effect without noise_device"),
        ({"noise_layout": (0, 1, 2, 3)}, "noise_layout: .* has no effect without noise_device"),
        ({"noise_device": "FakeMarrakesh", "backend": "torch"}, "noise_device: the device noise runs on backend 'kernel'"),
    ],
)
def test_bad_device_noise_is_refused_before_any_compute(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        train(config_replace(SMALL, **changes), tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists()


def test_device_noise_builds_the_noisy_engine_and_trains(tmp_path, task):
    from qrnn_core.noisy_kernel import NoisyKernelSimulator
    from qrnn_core.train import build_model

    config = config_replace(SMALL, method="exact", epochs=1, noise_device="FakeMarrakesh", noise_scale=0.5,
                            noise_layout=(1.0, 2.0, 3.0, 4.0))  # as the CLI reads it
    assert config.noise_layout == (1, 2, 3, 4)
    model, _ = build_model(config)
    backend = model.quantum.backend
    assert isinstance(backend, NoisyKernelSimulator)
    assert (backend.noise.backend, backend.noise.scale, backend.noise.layout) == ("FakeMarrakesh", 0.5, (1, 2, 3, 4))
    noisy = run(tmp_path, "noisy", config, task)
    plain = run(tmp_path, "plain", config_replace(SMALL, method="exact", epochs=1), task)
    assert noisy["train_rmse"] != plain["train_rmse"]
    recorded = json.loads((tmp_path / "noisy" / "metrics.json").read_text())["config"]
    assert TrainConfig.from_dict(recorded) == config  # the layout comes back from JSON as the same tuple
    same = run(tmp_path, "noisy", config, task)  # a finished run is found, not redone
    assert same["train_rmse"] == noisy["train_rmse"]
