import shutil

import pytest

from qrnn_core.data import DataConfig, make_task
from qrnn_core.train import TrainConfig, train

#: The smallest run that has every file: 2 qubits, 2 windows, 2 epochs.
TINY = TrainConfig(method="spsa", n_qubits=2, epochs=2, train_sequences=2, val_steps=10, val_shots=16,
                   data=DataConfig(n_samples=600))


@pytest.fixture(scope="session")
def tiny_task():
    return make_task(TINY.data)


@pytest.fixture(scope="session")
def finished(tmp_path_factory, tiny_task):
    """A finished run of TINY (trained once per session; copy it before changing it)."""
    out = tmp_path_factory.mktemp("finished") / "run"
    train(TINY, out, progress=False, task=tiny_task, log=lambda line: None)
    return out


@pytest.fixture
def run_copy(finished, tmp_path):
    """A fresh copy of the finished run, to damage."""
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    return out


def files(folder):
    """{name: bytes} of a folder: what 'nothing was lost' compares."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != ".lock"}
