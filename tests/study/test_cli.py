"""The command line's bad-input table: one line, exit status 2, nothing written."""

import json

import pytest

from qrnn_study.__main__ import main as cli
from qrnn_study.cli import ROOT
from qrnn_core.train import TrainConfig, config_replace

from ..core.test_train import SMALL

BASE = ["--epochs", "1", "--n-qubits", "4", "--train-sequences", "2", "--val-steps", "10",
        "--data-n-samples", "600", "--quiet"]


@pytest.mark.parametrize(
    "args, says",
    [
        (["--data-transient", "nan"], "--data-transient must be a finite number"),
        (["--data-dt", "inf"], "--data-dt must be a finite number"),
        (["--backend", "torch", "--device", "cuda"], "--device: device 'cuda' requested but CUDA is not available"),
        (["--backend", "torch", "--device", "tpu"], "--device: unknown device 'tpu'"),
        (["--device", "cuda"], "--device: backend 'kernel' runs on the cpu only, got 'cuda'"),
        (["--backend", "aer", "--device", "GPU"], "--device: Aer GPU is not available here"),
        (["--backend", "torch", "--n-qubits", "40"], "--n-qubits: 40 qubits need about"),
        (["--n-qubits", "40"], "--n-qubits: backend 'kernel' takes 2 to 12 qubits, got 40"),
        (["--n-qubits", "5"], "--n-qubits must be an even integer"),
        (["--shots", "99999999999999999999"], "--shots: 99999999999999999999 is more than a count can hold"),
        (["--seed", "-3"], "--seed must be >= 0"),
        (["--seed", str(2**64)], "--seed must be in"),
        (["--spsa-c", "0"], "--spsa-c must be a positive number"),
        (["--fdsa-h", "-1"], "--fdsa-h must be a positive number"),
        (["--method", "adam"], "--method: 'adam' is not one of spsa, fdsa"),
        (["--precision", "complex32"], "--precision: 'complex32' is not one of"),
        (["--epochs", "abc"], "argument --epochs: 'abc' is not a valid int"),
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--lr", "-1"], "lr must be a positive number"),
        (["--data-source", "mars"], "--data-source must be one of generated, original"),
        (["--method", "exact", "--shots", "64"], "method 'exact' needs backend 'kernel' or 'torch' with shots None"),
    ],
)
def test_bad_options_are_refused_in_one_line(tmp_path, capsys, args, says):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        cli(["train", "--out", str(out), *BASE, *args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert says in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not out.exists()


@pytest.mark.parametrize("where, says", [("", "--out is empty"), ("file", "is a file, not a folder"),
                                         ("source", "inside the repository's source folder qrnn_core/"),
                                         ("readonly", "cannot be written")])
def test_bad_out_folders_are_refused(tmp_path, capsys, where, says):
    target = {"": "", "file": str(tmp_path / "f.txt"), "source": str(ROOT / "qrnn_core" / "runs"),
              "readonly": str(tmp_path / "ro" / "run")}[where]
    (tmp_path / "f.txt").write_text("x")
    (tmp_path / "ro").mkdir(mode=0o500)
    if where == "readonly":
        import os

        if os.access(tmp_path / "ro", os.W_OK):  # root ignores the mode: nothing to test
            pytest.skip("running as root: every folder is writable")
    with pytest.raises(SystemExit) as exit_:
        cli(["train", "--out", target, *BASE])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and says in err and err.count("\n") == 1
    assert not (ROOT / "qrnn_core" / "runs").exists()


def test_a_run_with_another_config_is_refused_naming_fields(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["train", "--out", str(out), *BASE]) == 0
    config = (out / "config.json").read_text()
    with pytest.raises(SystemExit) as exit_:
        cli(["train", "--out", str(out), *BASE, "--lr", "0.5", "--spsa-c", "0.2"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "differs in lr, spsa_c" in err
    assert (out / "config.json").read_text() == config


def test_ctrl_c_says_how_to_resume(tmp_path, capsys, monkeypatch):
    import qrnn_core.train as train_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train", interrupted)
    assert cli(["train", "--out", str(tmp_path / "run"), *BASE]) == 130
    assert capsys.readouterr().err == "interrupted after epoch 0; re-run the same command to resume\n"


def test_help_shows_a_sentence_and_the_choices_for_every_option(capsys):
    with pytest.raises(SystemExit):
        cli(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Gradient estimator of the 110 input-layer parameters. One of: spsa, fdsa, parameter_shift, exact." in text
    assert "(default: spsa)" in text and "One of: generated, original." in text
    assert text.count("(default:") >= 30


def test_resume_prints_the_epoch(tmp_path, capsys):
    out = tmp_path / "run"
    cli(["train", "--out", str(out), *BASE])
    cli(["train", "--out", str(out), *BASE[:1], "2", *BASE[2:]])
    assert "resuming from epoch 1" in capsys.readouterr().out
    assert len(json.loads((out / "metrics.json").read_text())["val"]) == 2


def test_the_gpu_benchmark_says_plainly_when_there_is_no_gpu():
    import subprocess
    import sys

    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here: make gpu-check runs the real thing")
    proc = subprocess.run([sys.executable, "-m", "qrnn_study", "bench", "--gpu"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and "no CUDA device here" in proc.stderr


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
