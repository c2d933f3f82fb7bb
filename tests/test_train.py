import json

import pytest
import torch

from qrnn_core.__main__ import main as cli
from qrnn_core.data import DataConfig, make_task
from qrnn_core.model import QRNN
from qrnn_core.train import TrainConfig, TrainingDiverged, config_replace, train

from .conftest import cuda

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
    assert len(metrics["val"]) == 4 and set(metrics["val"][0]) == {"epoch", "rmse_y", "rmse_z", "rmse_mean"}


def test_same_seed_same_metrics_and_resume_equals_uninterrupted(tmp_path, task):
    config = config_replace(SMALL, shots=64)  # shots too: every generator must be restored
    whole = run(tmp_path, "whole", config, task)
    again = run(tmp_path, "again", config, task)
    assert whole["train_rmse"] == again["train_rmse"] and whole["val"] == again["val"]
    run(tmp_path, "split", config_replace(config, epochs=1), task)
    resumed = run(tmp_path, "split", config, task)
    assert resumed["train_rmse"] == whole["train_rmse"] and resumed["val"] == whole["val"]
    a = torch.load(tmp_path / "whole" / "checkpoint_epoch2.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "split" / "checkpoint_epoch2.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_metrics_carry_config_versions_and_commit(tmp_path, task):
    run(tmp_path, "m", config_replace(SMALL, epochs=1), task)
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert TrainConfig.from_dict(metrics["config"]) == config_replace(SMALL, epochs=1)
    assert {"torch", "qiskit"} <= set(metrics["provenance"]["versions"])
    assert "git_commit" in metrics["provenance"] and len(metrics["train_rmse"][0]) == 12


def test_a_different_config_never_overwrites_a_run(tmp_path, task):
    run(tmp_path, "r", config_replace(SMALL, epochs=1), task)
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
    ],
)
def test_bad_config_fails_before_any_compute(tmp_path, changes, field):
    with pytest.raises(ValueError, match=field):
        train(config_replace(SMALL, **changes), tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists()


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, task, monkeypatch):
    run(tmp_path, "nan", config_replace(SMALL, epochs=1), task)
    good = (tmp_path / "nan" / "checkpoint_epoch1.pt").read_bytes()
    forward = QRNN.forward
    monkeypatch.setattr(QRNN, "forward", lambda self, x: forward(self, x) * float("nan"))
    with pytest.raises(TrainingDiverged, match="checkpoint_epoch1.pt"):
        run(tmp_path, "nan", SMALL, task)
    assert (tmp_path / "nan" / "checkpoint_epoch1.pt").read_bytes() == good
    assert not (tmp_path / "nan" / "checkpoint_epoch2.pt").exists()


def test_batches_run_as_one_batch(tmp_path, task):
    metrics = run(tmp_path, "b", config_replace(SMALL, method="fdsa", batch_size=4, epochs=1), task)
    assert len(metrics["train_rmse"][0]) == 3  # 12 sequences in batches of 4
    assert metrics["circuits"][0] == 3 * 4 * (1 + 2 * 2 * 27) + 1  # updates, then ONE validation sequence


def test_cli_builds_the_same_config(tmp_path):
    out = tmp_path / "cli"
    cli(["train", "--out", str(out), "--quiet", "--method", "spsa", "--epochs", "1", "--n-qubits", "4",
         "--train-sequences", "3", "--val-steps", "10", "--data-n-samples", "600", "--shots", "none"])
    saved = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert saved == config_replace(SMALL, epochs=1, train_sequences=3, val_steps=10)


def test_cli_rejects_a_bad_config(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli(["train", "--out", str(tmp_path / "x"), "--epochs", "0"])
    assert "epochs must be" in capsys.readouterr().err


@cuda
def test_training_on_cuda_matches_cpu(tmp_path, task):
    config = config_replace(SMALL, method="exact", epochs=1)
    cpu = run(tmp_path, "cpu", config, task)
    gpu = run(tmp_path, "gpu", config_replace(config, device="cuda"), task)
    assert gpu["train_rmse"][0] == pytest.approx(cpu["train_rmse"][0], abs=1e-9)
