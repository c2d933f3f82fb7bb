"""The install step's kernel compilation covers every engine path the study trains with."""

from qrnn_core.train import TrainConfig
from qrnn_study.study_file import load_study
from qrnn_tools.compile_kernels import PATHS


def test_every_method_and_engine_the_paper_profile_trains_with_is_compiled_at_install():
    trained = set()
    for run in load_study(profile="paper").runs:
        if run.notebook.name == "train.py":
            p = run.parameters
            trained.add((p.get("method", "spsa"), p.get("noise_device") is not None))
    covered = {(p["method"], "noise_device" in p) for p in PATHS}
    assert trained and trained <= covered
    for p in PATHS:
        TrainConfig(epochs=1, train_sequences=2, val_steps=40, n_qubits=4, val_shots=64, **p).check()
