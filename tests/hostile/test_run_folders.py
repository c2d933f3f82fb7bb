"""Run folders whose files disagree: `train` and the study decide on one verification
(:func:`qrnn_core.runfiles.verify_run`); a file behind its checkpoint is rebuilt from it, the file it
replaces kept as ``<name>.rejected``; a folder of another config is refused, nothing changed."""

import json
from pathlib import Path

import numpy as np
import torch

from qrnn_core.runfiles import verify_run
from qrnn_core.train import config_replace, train
from qrnn_study.coverage import training_done
from qrnn_study.study_file import Run, Study

from .conftest import TINY, files

PARAMETERS = {"method": "spsa", "n_qubits": 2, "epochs": 2, "train_sequences": 2, "val_steps": 10, "val_shots": 16,
              "data_n_samples": 600}


def study_done(folder: Path, parameters=PARAMETERS) -> bool:
    """The study runner's "done" decision for the training instance kept in ``folder``."""
    study = Study(output=folder.parent / "book", results=folder.parent, profile="tiny")
    return training_done(study, Run(folder.name, notebook=Path("train.py"), parameters=parameters))


def retrain(folder: Path, task, config=TINY) -> tuple[dict, list[str]]:
    said: list[str] = []
    return train(config, folder, progress=False, task=task, log=said.append), said


def edit_json(path: Path, change) -> bytes:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path.read_bytes()


def test_an_intact_run_is_done_for_both(run_copy, tiny_task):
    assert study_done(run_copy) and verify_run(run_copy, TINY, warn=print).done
    before = files(run_copy)
    _, said = retrain(run_copy, tiny_task)
    assert said == [f"{run_copy}: 2 epoch(s) already done (asked for 2): nothing to do"]
    assert files(run_copy) == before


def test_metrics_one_epoch_behind_the_checkpoint_is_rebuilt_not_trusted(run_copy, tiny_task):
    def drop_last_epoch(m):
        for k in ("val", "epoch_seconds", "val_seconds", "save_seconds", "circuits", "shots"):
            m[k] = m[k][:1]

    damaged = edit_json(run_copy / "metrics.json", drop_last_epoch)
    assert not study_done(run_copy)  # before: "done"
    metrics, said = retrain(run_copy, tiny_task)
    assert said[0] == (f"warning: {run_copy / 'metrics.json'}: holds 1 epoch(s), its checkpoint 2; rebuilt from "
                       "checkpoint_epoch2.pt (the file it replaced is kept as metrics.json.rejected)")
    assert "nothing to do" in said[1] and len(said) == 2  # repaired, not recomputed
    assert len(json.loads((run_copy / "metrics.json").read_text())["val"]) == 2 == len(metrics["val"])
    assert (run_copy / "metrics.json.rejected").read_bytes() == damaged
    assert study_done(run_copy)


def test_a_metrics_file_of_another_config_in_a_finished_run_is_not_nothing_to_do(run_copy, tiny_task):
    damaged = edit_json(run_copy / "metrics.json", lambda m: m["config"].update(n_qubits=4))
    assert not study_done(run_copy)
    _, said = retrain(run_copy, tiny_task)
    assert "metrics.json: records another config than its checkpoint (differs in n_qubits: n_qubits 4 here, " \
           "2 there); rebuilt from checkpoint_epoch2.pt" in said[0], said
    assert (run_copy / "metrics.json.rejected").read_bytes() == damaged and study_done(run_copy)


def test_a_config_json_of_another_config_is_rebuilt(run_copy, tiny_task):
    edit_json(run_copy / "config.json", lambda c: c.update(lr=0.5))
    assert not study_done(run_copy)
    _, said = retrain(run_copy, tiny_task)
    assert "config.json: records another config than its checkpoint (differs in lr" in said[0]
    assert json.loads((run_copy / "config.json").read_text())["lr"] is None and study_done(run_copy)


def test_numbers_changed_by_hand_are_caught(run_copy, tiny_task):
    edit_json(run_copy / "metrics.json", lambda m: m["val"][1]["sequence"]["exact"].update(rmse_mean=0.001))
    assert not study_done(run_copy)
    _, said = retrain(run_copy, tiny_task)
    assert "metrics.json: its numbers differ from its checkpoint's (val)" in said[0]


def test_a_truncated_trajectory_is_rebuilt(run_copy, tiny_task):
    path = run_copy / "trajectory.npz"
    path.write_bytes(path.read_bytes()[:50])
    assert not study_done(run_copy)
    _, said = retrain(run_copy, tiny_task)
    assert "trajectory.npz: unreadable (" in said[0] and study_done(run_copy)
    with np.load(path) as z:
        assert z["params"].shape[0] == 3


def test_a_crash_after_the_checkpoint_leaves_a_recoverable_folder(run_copy, tiny_task):
    """The checkpoint is written first: losing every later write of the epoch loses nothing."""
    for name in ("metrics.json", "trajectory.npz", "config.json"):
        (run_copy / name).unlink()
    assert not study_done(run_copy)
    _, said = retrain(run_copy, tiny_task)
    assert [line.split(": ", 2)[2] for line in said[:3]] == ["missing; rebuilt from checkpoint_epoch2.pt"] * 3
    assert [line.split(": ", 2)[1].rsplit("/", 1)[1] for line in said[:3]] == ["trajectory.npz", "metrics.json",
                                                                               "config.json"]
    assert "nothing to do" in said[3] and len(said) == 4
    assert study_done(run_copy)


def test_a_checkpoint_that_contradicts_itself_is_set_aside(run_copy, tiny_task, finished):
    path = run_copy / "checkpoint_epoch2.pt"
    state = torch.load(path, weights_only=True)
    state["epoch"] = 3  # claims an epoch its metrics do not hold
    torch.save(state, run_copy / "checkpoint_epoch3.pt")
    assert study_done(run_copy)  # the intact epoch-2 checkpoint still decides
    _, said = retrain(run_copy, tiny_task)
    assert "checkpoint_epoch3.pt contradicts itself" in said[0] and "nothing to do" in said[-1]
    assert (run_copy / "checkpoint_epoch3.pt.rejected").exists() and not (run_copy / "checkpoint_epoch3.pt").exists()


def test_a_renamed_checkpoint_is_not_trusted_and_the_run_is_redone(run_copy, tiny_task, finished):
    (run_copy / "checkpoint_epoch2.pt").rename(run_copy / "checkpoint_epoch5.pt")
    assert not study_done(run_copy)
    metrics, said = retrain(run_copy, tiny_task)
    assert "checkpoint_epoch5.pt holds epoch 2, its name says 5; resuming from a fresh start" in said[0]
    assert (run_copy / "checkpoint_epoch5.pt.rejected").exists()  # nothing lost
    assert metrics["val"] == json.loads((finished / "metrics.json").read_text())["val"]  # redone, bitwise
    assert study_done(run_copy)


def test_a_foreign_metrics_file_without_checkpoint_is_refused_and_kept(tmp_path, tiny_task, finished):
    folder = tmp_path / "run"
    folder.mkdir()
    metrics = json.loads((finished / "metrics.json").read_text())
    metrics["config"]["n_qubits"] = 4  # a 4-qubit run's results, copied into an empty folder
    (folder / "metrics.json").write_text(json.dumps(metrics))
    before = files(folder)
    assert not study_done(folder)
    try:
        retrain(folder, tiny_task)
    except ValueError as err:
        assert "holds a run with another config (differs in n_qubits)" in str(err)
    else:
        raise AssertionError("a folder holding another config's metrics was trained over")
    assert files(folder) == before


def test_fewer_epochs_asked_is_nothing_to_do_but_not_the_studys_done(run_copy, tiny_task):
    assert not study_done(run_copy, {**PARAMETERS, "epochs": 1})  # its config asks 1, the files hold 2
    _, said = retrain(run_copy, tiny_task, config_replace(TINY, epochs=1))
    assert "nothing to do" in said[0] and len(said) == 1


def test_a_checkpoint_name_without_an_epoch_is_set_aside(run_copy, tiny_task):
    (run_copy / "checkpoint_epochX.pt").write_bytes(b"not a checkpoint")
    assert study_done(run_copy)
    _, said = retrain(run_copy, tiny_task)
    assert "nothing to do" in said[-1]
