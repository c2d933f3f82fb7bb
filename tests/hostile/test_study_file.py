"""A hostile study file: every value checked when the file is read, by TrainConfig's own rules and
messages, one line naming the file, the key and its line (exit status 2, nothing written)."""

import pytest

from qrnn_study.__main__ import main
from qrnn_study.study_file import ROOT, StudyFileError, load_study

#: A small study file of its own (line numbers below count from its first line).
STUDY = """\
output: {tmp}/book/generated
results: {tmp}/results
profiles:
  tiny:
    description: tests
    seeds: [1929, 1930]
x-train:
  tiny: &tiny {{epochs: 2, train_sequences: 2, val_steps: 10, n_qubits: 2, val_shots: 16}}
runs:
  - name: data
    notebook: {root}/notebooks/data.py
  - name: arm
    notebook: {root}/notebooks/train.py
    seeds: {{tiny: 1}}
    parameters:
      common: {{method: spsa}}
      tiny: *tiny
  - name: sweep
    notebook: {root}/notebooks/train.py
    seeds: {{tiny: 1}}
    sweep: {{lr: {{tiny: [0.007, 0.02]}}}}
    parameters:
      tiny: {{<<: *tiny, method: fdsa}}
"""


def study_file(tmp_path, old: str = "", new: str = ""):
    text = STUDY.format(tmp=tmp_path, root=ROOT)
    assert old in text, old
    path = tmp_path / "study.yml"
    path.write_text(text.replace(old, new, 1))
    return path


def refused(tmp_path, capsys, path) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--study-file", str(path), "--profile", "tiny"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "results").exists() and not (tmp_path / "book").exists()
    return err.strip().removeprefix("python -m qrnn_study run: error: ")


def test_the_base_file_is_accepted(tmp_path):
    study = load_study(study_file(tmp_path), "tiny")
    assert [r.name for r in study.runs if r.trains] == ["arm@1929", "sweep-lr0.007@1929", "sweep-lr0.02@1929"]


@pytest.mark.parametrize("old, new, says", [
    ("epochs: 2,", 'epochs: "two",', "study.yml: runs[1] ('arm').parameters.tiny.epochs: epochs must be an integer, "
                                     "got 'two' (line 8)"),
    ("epochs: 2,", "epochs: -1,", "study.yml: runs[1] ('arm').parameters.tiny.epochs: epochs must be >= 1, got -1 "
                                  "(line 8)"),
    ("epochs: 2,", "epochs: 2.5,", "epochs must be an integer, got 2.5 (line 8)"),
    ("epochs: 2,", "epochs: yes,", "epochs must be an integer, got True (line 8)"),
    ("common: {method: spsa}", "common: {method: spsa, lr: .nan}",
     "study.yml: runs[1] ('arm').parameters.common.lr: lr must be a finite number, got nan (line 16)"),
    ("common: {method: spsa}", "common: {method: adam}",
     "study.yml: runs[1] ('arm').parameters.common.method: method: 'adam' is not one of spsa, fdsa, parameter_shift, "
     "exact (line 16)"),
    ("n_qubits: 2,", "n_qubits: 3,", "runs[1] ('arm').parameters.tiny.n_qubits: n_qubits must be an even integer"),
    ("val_shots: 16", "val_shots: 0", "parameters.tiny.val_shots: val_shots must be >= 1, got 0 (line 8)"),
    ("common: {method: spsa}", "common: {method: spsa, data_window: 3}",
     "parameters.common.data_window: data.window (3) must be longer than warmup (5)"),
    ("common: {method: spsa}", "common: {method: spsa, epoch: 3}",
     "runs[1] ('arm').parameters.common.epoch: unknown parameter 'epoch' of the training notebook (line 16)"),
    ("common: {method: spsa}", "common: {method: spsa, results_dir: qrnn_core}",
     "parameters.common.results_dir: results_dir is set by the runner, not the study file (line 16)"),
    ("common: {method: spsa}", "common: {method: spsa, seed: 7}", "seed is set by the runner"),
    ("[0.007, 0.02]", "[0.007, 0.0070000001]",
     "study.yml: runs[2] ('sweep').sweep.lr.tiny: 0.007 and 0.0070000001 both name the arm 'sweep-lr0.007': make the "
     "values differ in their first 6 significant digits (line 21)"),
    ("[0.007, 0.02]", "[0.007, -1]", "runs[2] ('sweep').sweep.lr.tiny: lr must be a positive number, got -1 (line 21)"),
    ("[0.007, 0.02]", "[.inf]", "runs[2] ('sweep').sweep.lr.tiny: lr must be a finite number, got inf (line 21)"),
    ("[0.007, 0.02]", "[0.007, true]", "sweep.lr.tiny[1]: True is not of type 'number'"),
    ("seeds: [1929, 1930]", "seeds: [1929, 99999999999999999999]",
     "study.yml: profiles.tiny.seeds[1]: seed must be in [0, 9223372036853775807], got 99999999999999999999 (line 6)"),
    ("seeds: [1929, 1930]", "seeds: [1929, 1929]", "profiles.tiny.seeds: [1929, 1929] has non-unique elements (line 6)"),
    ("seeds: [1929, 1930]", "seeds: [1929, 1930", "study.yml: line 7, column 8: YAML syntax: expected ',' or ']', "
                                                  "but got ':'"),
    ("    seeds: {tiny: 1}\n    parameters", "    seeds: {tiny: 1}\n\tparameters", "study.yml: line 15, column 1: YAML "
                                                                                  "syntax: found character '\\t'"),
    ("epochs: 2,", "epochs: 2, epochs: 3,",
     "study.yml: x-train.tiny.epochs: key 'epochs' is typed twice in one mapping (YAML would keep the last) (line 8)"),
    ("profiles:", f"results: {ROOT / 'qrnn_core'}\nprofiles:",  # a second `results` YAML would silently keep
     "study.yml: results: key 'results' is typed twice in one mapping (YAML would keep the last) (line 2)"),
    ("name: data", "name: Data", "runs[0] ('Data').name: 'Data' does not match"),
    ("notebook: " + str(ROOT) + "/notebooks/data.py", "notebook: ../../etc/passwd", "no notebook '../../etc/passwd'"),
])
def test_a_bad_value_is_refused_naming_file_key_and_line(tmp_path, capsys, old, new, says):
    assert says in refused(tmp_path, capsys, study_file(tmp_path, old, new))


def test_a_results_folder_inside_the_source_is_refused(tmp_path, capsys):
    path = study_file(tmp_path, f"results: {tmp_path}/results", f"results: {ROOT / 'qrnn_core'}")
    says = refused(tmp_path, capsys, path)
    assert says.startswith("study.yml: results: results ") and "inside the repository's source folder qrnn_core/" \
        in says and says.endswith("(line 2)")
    assert not (ROOT / "qrnn_core" / "tiny").exists()


@pytest.mark.parametrize("text, says", [("", "(top level): None is not of type 'object'"),
                                        ("\x00garbage", "study.yml: YAML: unacceptable character #x0000"),
                                        ("- a\n- b\n", "(top level): ['a', 'b'] is not of type 'object' (line 1)"),
                                        ("a: &x [*x]\n", "study.yml:")])
def test_a_file_that_is_not_a_study_is_refused(tmp_path, capsys, text, says):
    path = tmp_path / "study.yml"
    path.write_text(text)
    assert says in refused(tmp_path, capsys, path)


def test_a_missing_or_binary_study_file_is_refused(tmp_path, capsys):
    assert "study.yml: cannot be read" in refused(tmp_path, capsys, tmp_path / "study.yml")
    (tmp_path / "study.yml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StudyFileError, match="study.yml: "):
        load_study(tmp_path / "study.yml", "tiny")
