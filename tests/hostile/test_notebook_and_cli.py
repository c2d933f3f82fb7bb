"""Hostile notebook parameters, output folders, scheduler options and data files: one line each, the
same rules whichever way a run is reached (``train --out``, papermill ``-p``, the study)."""

import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from qrnn_study.__main__ import main
from qrnn_study.cli import ROOT, ParameterError, check_notebook_parameters
from qrnn_study.cluster import SchedulerUnreachable, scheduler_address
from qrnn_study.notebook import notebook_parameters

from .test_study_file import study_file

#: The training notebook's parameters as papermill sees them (its parameters cell), made tiny.
GOOD = {**notebook_parameters(ROOT / "notebooks" / "train.py"), "run_name": "r", "n_qubits": 2}


def parameters(tmp_path, **changes) -> dict:
    values = {**GOOD, "results_dir": str(tmp_path / "results"), **changes}
    return values


@pytest.mark.parametrize("changes, says", [
    ({"epochs": "two"}, "epochs must be an integer, got 'two' (parameter epochs = 'two')"),
    ({"epochs": -1}, "epochs must be >= 1, got -1 (parameter epochs = -1)"),
    ({"lr": float("nan")}, "lr must be a finite number, got nan (parameter lr = nan)"),
    ({"method": "adam"}, "method: 'adam' is not one of spsa, fdsa, parameter_shift, exact (parameter method = 'adam')"),
    ({"data_initial": "1,1,1"}, "data.initial must be three finite numbers"),
    ({"shots": 2**60}, "shots: 1152921504606846976 is more than a count can hold exactly"),
    ({"run_name": "../escape"}, "run_name '../escape' must be one folder name"),
    ({"run_name": ""}, "run_name '' must be one folder name"),
    ({"results_dir": "data"}, "results_dir/run_name data/r is inside the repository's source folder data/"),
    ({"results_dir": str(ROOT / "notebooks")}, "inside the repository's source folder notebooks/"),
])
def test_bad_notebook_parameters_stop_the_first_cell_in_one_line(tmp_path, monkeypatch, changes, says):
    monkeypatch.chdir(ROOT)  # papermill runs the notebook where it is called: a relative results_dir is the repo's
    with pytest.raises(ParameterError) as err:
        check_notebook_parameters(parameters(tmp_path, **changes))
    assert says in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "results").exists() and not (ROOT / "data" / "r").exists()


def test_good_notebook_parameters_give_the_config_and_folder(tmp_path):
    config, out = check_notebook_parameters(parameters(tmp_path))
    assert config.n_qubits == 2 and out == (tmp_path / "results" / "r").resolve() and not out.exists()


def test_papermill_refuses_a_results_dir_in_the_source_tree(tmp_path):
    """The notebook itself, as users type it: the refusal is its first cell's, nothing is written in data/."""
    before = sorted(p.name for p in (ROOT / "data").iterdir())
    proc = subprocess.run([sys.executable, "-m", "papermill", "notebooks/train.ipynb", str(tmp_path / "out.ipynb"),
                           "-p", "results_dir", "data", "-p", "epochs", "1", "-p", "n_qubits", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "ParameterError: results_dir/run_name data/train is inside the repository's source folder data/" \
        in proc.stderr, proc.stderr[-2000:]
    assert sorted(p.name for p in (ROOT / "data").iterdir()) == before


@pytest.mark.parametrize("out, says", [("data/run", "--out data/run is inside the repository's source folder data/"),
                                       ("book/generated/x", "inside the repository's source folder book/"),
                                       (".git/x", "inside the repository's source folder .git/")])
def test_train_out_obeys_the_same_rule(tmp_path, capsys, monkeypatch, out, says):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--out", out, "--epochs", "1", "--n-qubits", "2", "--quiet"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and says in err and err.count("\n") == 1
    assert not (ROOT / out).exists()


def test_a_symlink_into_the_source_tree_is_followed_and_refused(tmp_path, capsys):
    (tmp_path / "link").symlink_to(ROOT / "qrnn_core")
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--out", str(tmp_path / "link" / "run"), "--epochs", "1", "--n-qubits", "2", "--quiet"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "inside the repository's source folder qrnn_core/" in err
    assert not (ROOT / "qrnn_core" / "run").exists()


# -- scheduler options -----------------------------------------------------------------------------------


def run_cli(tmp_path, capsys, *extra) -> tuple[int, str, float]:
    path = study_file(tmp_path)
    t0 = time.monotonic()
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--study-file", str(path), "--profile", "tiny", "--only", "data", *extra])
    return exit_.value.code, capsys.readouterr().err, time.monotonic() - t0


def test_a_scheduler_file_that_does_not_appear_fails_within_the_timeout(tmp_path, capsys):
    code, err, seconds = run_cli(tmp_path, capsys, "--scheduler-file", str(tmp_path / "nope.json"),
                                 "--connect-timeout", "0.5")
    assert code == 2 and err.count("\n") == 1 and seconds < 5
    assert f"--scheduler-file {tmp_path / 'nope.json'}: no such file after 0.5 s" in err


def test_an_unreachable_scheduler_fails_within_the_timeout(tmp_path, capsys):
    with socket_closed_port() as port:
        code, err, seconds = run_cli(tmp_path, capsys, "--scheduler", f"tcp://127.0.0.1:{port}",
                                     "--connect-timeout", "1")
    assert code == 2 and err.count("\n") == 1 and seconds < 6, (err, seconds)
    assert f"cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}' within 1 s" in err


@pytest.mark.parametrize("content, says", [("{garbage", "not a Dask scheduler file (JSONDecodeError"),
                                           ('{"id": 1}', "not a Dask scheduler file (KeyError"),
                                           ('{"address": 8786}', "its address 8786 is not a string")])
def test_a_scheduler_file_that_is_not_one_is_named(tmp_path, content, says):
    (tmp_path / "s.json").write_text(content)
    with pytest.raises(SchedulerUnreachable, match=re.escape(says)):
        scheduler_address(str(tmp_path / "s.json"), 0.1)


@pytest.mark.parametrize("extra, says", [
    (["--scheduler", "tcp://127.0.0.1:1", "--scheduler-file", "x.json"],
     "argument --scheduler-file: not allowed with argument --scheduler"),
    (["--connect-timeout", "0"], "--connect-timeout must be a positive number of seconds, got 0.0"),
    (["--connect-timeout", "nan"], "--connect-timeout must be a positive number of seconds, got nan"),
    (["--jobs", "0"], "--jobs must be >= 1"),
    (["--scheduler", "not-an-address", "--connect-timeout", "1"], "cannot reach the Dask scheduler at 'not-an-address'"),
])
def test_bad_scheduler_options_are_refused(tmp_path, capsys, extra, says):
    code, err, _ = run_cli(tmp_path, capsys, *extra)
    assert code == 2 and says in err and err.count("\n") == 1, err
    assert not (tmp_path / "book" / "generated" / "tiny" / "data.ipynb").exists()


class socket_closed_port:
    """A local port nothing listens on (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def __exit__(self, *exc):
        return False


# -- data ------------------------------------------------------------------------------------------------


def test_a_changed_original_series_is_refused(tmp_path):
    from qrnn_core.data import ORIGINAL_SERIES, original_series

    fake = tmp_path / "series.npy"
    series = np.load(ORIGINAL_SERIES)
    series[0, 0] += 1e-9
    np.save(fake, series)
    with pytest.raises(ValueError, match="is not the original study's series"):
        original_series(fake)
    fake.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="is not the original study's series"):
        original_series(fake)


def test_results_json_of_a_page_run_garbled_is_named(tmp_path):
    from qrnn_study.results import read_results

    (tmp_path / "baselines").mkdir()
    (tmp_path / "baselines" / "baselines.json").write_text("{garbled")
    with pytest.raises(ValueError) as err:
        read_results(tmp_path, "baselines", "baselines.json")
    assert str(err.value) == (f"{tmp_path / 'baselines' / 'baselines.json'}: not JSON (Expecting property name "
                              "enclosed in double quotes, line 1 column 2): re-run baselines")
