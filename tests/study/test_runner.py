"""The study engine: the study file's schema, seeds, staleness, the lock, Dask (local and a real
cluster with a killed worker), failures and papermill as users type it. The book built from a tiny
study is in ``test_study_book.py`` (a file of its own, so that the two run on separate workers).

These run notebooks in Jupyter kernels; the ``tiny`` profile keeps each to seconds.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from qrnn_study.results import training_circuits
from qrnn_study.keys import Inputs
from qrnn_study.drive import StudyLocked, run_study, study_lock
from qrnn_study.notebook import notebook_parameters, read_notebook
from qrnn_study.plan import dry_run, plan, submission_order
from qrnn_study.study_file import ROOT, load_study, write_toc

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def tiny_study(tmp: Path, runs=None, overrides=None) -> Path:
    """A copy of study.yml writing into ``tmp`` (notebooks from the repository), optionally cut down to
    ``runs`` and with ``overrides`` {run: {param: value}} in the tiny profile."""
    spec = yaml.safe_load((ROOT / "study.yml").read_text())
    spec["output"], spec["results"] = str(tmp / "book" / "generated"), str(tmp / "results")
    keep = []
    for r in spec["runs"]:
        if runs is not None and r["name"] not in runs:
            continue
        r["notebook"] = str(ROOT / r["notebook"])
        r["depends"] = [d for d in r.get("depends", []) if runs is None or d in runs]
        r.setdefault("parameters", {}).setdefault("tiny", {}).update((overrides or {}).get(r["name"], {}))
        keep.append(r)
    spec["runs"] = keep
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "study.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "qrnn_study", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


# -- notebooks -----------------------------------------------------------------------------------------


def test_every_notebook_is_in_the_study_and_has_a_parameters_cell():
    listed = {Path(r.notebook).name for r in load_study(profile="tiny").runs}
    assert listed == {p.name for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        assert notebook_parameters(path), path.name


def test_ipynb_twins_match_their_py_notebooks():
    """papermill runs the .ipynb twins directly; they must say what the .py notebooks say."""
    for path in NOTEBOOKS:
        twin = path.with_suffix(".ipynb")
        assert twin.exists(), f"{twin.name} is missing: run `make notebooks`"
        a = [(c.cell_type, c.source) for c in read_notebook(path).cells]
        b = [(c.cell_type, c.source) for c in nbformat.read(twin, as_version=4).cells]
        assert a == b, f"{twin.name} differs from {path.name}: run `make notebooks`"


def test_the_train_notebook_parameters_derive_from_the_config():
    from qrnn_study.cli import parameter_cell

    cell = next(c for c in read_notebook(ROOT / "notebooks" / "train.py").cells
                if "parameters" in c.metadata.get("tags", []))
    assert cell.source == parameter_cell({"profile": "quick", "results_dir": "results/quick", "run_name": "train"})
    # papermill reads each parameter and its help from this cell: a line it cannot parse (an "=" in a
    # help text) loses that parameter's help and prints a warning at every run.
    from papermill.translators import PythonTranslator

    names = [p.name for p in PythonTranslator.inspect(cell)]
    assert names == [line.split(" = ")[0] for line in cell.source.splitlines()]


def test_papermill_runs_a_notebook_as_users_type_it(tmp_path):
    out = tmp_path / "out.ipynb"
    proc = subprocess.run([str(Path(sys.executable).parent / "papermill"), str(ROOT / "notebooks" / "train.ipynb"),
                           str(out), "-p", "method", "fdsa", "-p", "epochs", "1", "-p", "n_qubits", "4",
                           "-p", "train_sequences", "2", "-p", "val_steps", "20", "-p", "results_dir",
                           str(tmp_path / "results")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((tmp_path / "results" / "train" / "metrics.json").read_text())
    assert metrics["config"]["method"] == "fdsa" and len(metrics["val"]) == 1


# -- the study file ---------------------------------------------------------------------------------


def _broken(tmp_path, change) -> Path:
    spec = yaml.safe_load((ROOT / "study.yml").read_text())
    for r in spec["runs"]:
        r["notebook"] = str(ROOT / r["notebook"])
    change(spec)
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _run(spec, name):
    return next(r for r in spec["runs"] if r["name"] == name)


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda s: _run(s, "circuit").update(paramters=_run(s, "circuit").pop("parameters")),
         "runs[1] ('circuit'): unknown key 'paramters'"),
        (lambda s: _run(s, "circuit")["parameters"].update(fast={}),
         "runs[1] ('circuit').parameters.fast: unknown profile 'fast'"),
        (lambda s: _run(s, "gradients").update(name="data"), "runs[2] ('data').name: duplicate run name 'data'"),
        (lambda s: _run(s, "circuit").update(notebook="notebooks/nope.py"),
         "runs[1] ('circuit').notebook: no notebook 'notebooks/nope.py'"),
        (lambda s: _run(s, "data").update(depends=["summary"]), "runs: dependency cycle"),
        (lambda s: _run(s, "data").update(depends=["ghost"]), "runs[0] ('data').depends: unknown run 'ghost'"),
        (lambda s: s.update(profile={}), "(top level): unknown key 'profile'"),
        (lambda s: s["profiles"]["tiny"].pop("seeds"), "profiles.tiny: 'seeds' is a required property"),
        (lambda s: _run(s, "sweep-fdsa").update(sweep={"lr": {"fast": [0.1]}}),
         "runs[15] ('sweep-fdsa').sweep.lr.fast: unknown profile 'fast'"),
        (lambda s: _run(s, "sweep-fdsa").pop("seeds"), "runs[15] ('sweep-fdsa'): 'seeds' is a dependency of 'sweep'"),
        (lambda s: _run(s, "timing").update(exclusive=["fast"]), "runs[37] ('timing').exclusive: unknown profile 'fast'"),
        (lambda s: _run(s, "sweep-fdsa").update(sweep={"lr": {}, "shots": {}}),
         "runs[15] ('sweep-fdsa').sweep: {'lr': {}, 'shots': {}} has too many properties"),
        (lambda s: (_run(s, "budget").update(name="sweep-fdsa-lr2"), _run(s, "sweep-fdsa").update(sweep={"lr": {"tiny": [2]}})),
         "runs[15] ('sweep-fdsa').sweep: the swept arm 'sweep-fdsa-lr2' is also a run's name"),
    ],
)
def test_a_bad_study_file_is_refused_in_one_line(tmp_path, capsys, change, says):
    from qrnn_study.__main__ import main

    path = _broken(tmp_path, change)
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--study-file", str(path), "--profile", "tiny"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert f"study.yml: {says}" in err and err.count("\n") == 1, err
    assert not (tmp_path / "results").exists()


def test_the_command_line_refuses_a_bad_study_file_without_a_traceback(tmp_path):
    path = _broken(tmp_path, lambda s: _run(s, "data").update(depends=["ghost"]))
    proc = cli("run", "--study-file", str(path), "--profile", "tiny")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_unknown_profile_and_run_are_refused(capsys):
    from qrnn_study.__main__ import main

    for args, says in ((["--profile", "fast"], "unknown profile 'fast'"),
                       (["--profile", "tiny", "--only", "nope"], "no run named 'nope'")):
        with pytest.raises(SystemExit) as exit_:
            main(["run", *args])
        assert exit_.value.code == 2 and says in capsys.readouterr().err


def test_seeds_expand_into_paired_instances_in_dependency_order():
    study = load_study(profile="paper")
    names = [r.name for r in study.runs]
    assert [n for n in names if n.startswith("fdsa-exact@")] == [f"fdsa-exact@{s}" for s in range(1929, 1934)]  # the first 5
    assert len([n for n in names if n.startswith("spsa-shots@")]) == 10
    spsa = next(r for r in study.runs if r.name == "spsa-shots@1931")
    assert spsa.parameters["seed"] == 1931 and spsa.parameters["run_name"] == "spsa-shots@1931"
    assert spsa.parameters["results_dir"] == "results/paper"
    page = next(r for r in study.runs if r.name == "arm-fdsa-exact")
    assert set(page.depends) == {f"fdsa-exact@{s}" for s in range(1929, 1934)}
    summary = names.index("summary")  # listed before the arm pages in no particular order: the graph decides
    assert all(names.index(d) < summary for d in next(r for r in study.runs if r.name == "summary").depends)


def test_pages_that_report_the_whole_study_depend_on_every_training_run():
    # They state how much of the study is finished (partial_warning, compute_table): a run they do not
    # depend on could progress without their being re-run.
    study = load_study(profile="paper")
    training = {r.name for r in study.runs if r.trains}
    for page in ("summary", "conclusions"):
        assert training <= set(next(r for r in study.runs if r.name == page).depends), page


def test_training_starts_seed_by_seed_costliest_first_after_the_pages():
    runs = submission_order(load_study(profile="paper").runs)
    trains = [r for r in runs if r.trains]
    assert not any(r.trains for r in runs[: len(runs) - len(trains)])  # pages first
    seeds = [r.seed for r in trains]
    assert seeds == sorted(seeds)  # every arm's first seed before any arm's second: finished seeds stay paired
    first = [r for r in trains if r.seed == 1929]
    assert first[0].family in ("fdsa-shots", "fdsa-exact")  # 10 epochs x 221 circuits an update: the longest
    cost = [training_circuits(r.parameters) for r in first]
    assert cost == sorted(cost, reverse=True)


def test_a_profile_may_run_none_of_a_seeded_run(tmp_path):
    study = load_study(tiny_study(tmp_path), profile="tiny")
    assert not [r for r in study.runs if r.arm == "fdsa-exact"]
    assert "arm-fdsa-exact" not in {r.name for r in study.runs}  # its page has nothing to show: left out
    toc = write_toc(study, ROOT / "book").read_text()  # and out of the profile's book
    assert "generated/tiny/arm-fdsa-exact" not in toc and "generated/tiny/arm-fdsa-shots" in toc
    assert "generated/tiny/data" in toc  # a page that depends on nothing stays


def test_a_sweep_is_one_paired_arm_per_value():
    study = load_study(profile="paper")
    fdsa = [r for r in study.runs if r.family == "sweep-fdsa"]
    assert len(fdsa) == 5 * 3 and len({r.arm for r in fdsa}) == 5
    one = next(r for r in fdsa if r.name == "sweep-fdsa-lr0.001@1930")
    assert one.arm == "sweep-fdsa-lr0.001" and one.point == {"lr": 0.001} and one.seed == 1930
    assert one.parameters["lr"] == 0.001 and one.parameters["run_name"] == one.name
    page = next(r for r in study.runs if r.name == "sweep")
    assert {r.name for r in study.runs if r.family in ("sweep-spsa", "sweep-fdsa", "sweep-oracle")} == set(page.depends)
    plain = next(r for r in study.runs if r.name == "fdsa-shots@1929")
    assert plain.family == plain.arm == "fdsa-shots" and plain.point is None


def test_only_brings_stale_dependencies_up_to_date(tmp_path):
    study = load_study(tiny_study(tmp_path, runs=["fdsa-shots", "arm-fdsa-shots", "data"]), "tiny")
    _, todo = plan(study, only="arm-fdsa-shots")
    seeds = {r.name for r in study.runs if r.name.startswith("fdsa-shots@")}
    assert seeds and {r.name for r in todo} == {"arm-fdsa-shots"} | seeds
    _, todo = plan(study, only="fdsa-shots")
    assert {r.name for r in todo} == seeds


def test_a_second_study_process_is_refused(tmp_path):
    study = load_study(tiny_study(tmp_path, runs=["data"]), "tiny")
    with study_lock(study):
        with pytest.raises(StudyLocked, match="another `run` of the study is running profile 'tiny'"):
            run_study(study, progress=False)


def test_the_key_follows_imported_modules_not_tools():
    from qrnn_study.keys import module_closure

    files = {p.relative_to(ROOT).as_posix() for p in module_closure(
        "from qrnn_core.train import train\nimport qrnn_study.report\nfrom qrnn_study import figures")}
    assert {"qrnn_core/train.py", "qrnn_core/simulator.py", "qrnn_core/estimators.py", "qrnn_core/data.py",
            "qrnn_study/report.py", "qrnn_core/provenance.py",  # across packages
            "qrnn_study/figures.py", "qrnn_study/analysis.py"} <= files  # a module imported by name, and its relative imports
    assert not {"qrnn_tools/book_check.py", "qrnn_tools/bench.py", "qrnn_study/drive.py", "qrnn_study/plan.py"} & files


def test_keys_hash_the_science_not_the_command_line():
    """An edit to the command line changes no key; an edit to the simulator changes every training run's."""
    study = load_study(profile="tiny")
    inputs, _ = plan(study)
    for name, items in ((n, i.items) for n, i in inputs.items()):
        assert "module qrnn_study/cli.py" not in items and "module qrnn_study/__main__.py" not in items, name
    for r in study.runs:
        if r.trains:
            assert {"module qrnn_core/simulator.py", "module qrnn_core/train.py", "lock", "parameters"} <= set(
                inputs[r.name].items), r.name
    one = next(r.name for r in study.runs if r.trains)
    edited = Inputs(inputs[one].items | {"module qrnn_core/simulator.py": "0" * 64})
    assert edited.key != inputs[one].key and edited.changed(inputs[one]) == ["module qrnn_core/simulator.py"]


def test_a_dry_run_says_what_would_run_and_why_and_computes_nothing(tmp_path):
    """Before any run (after the whole tiny study: tests/study/test_study_book.py)."""
    study = load_study(tiny_study(tmp_path, runs=["data", "spsa-spall-shots"]), "tiny")
    text = dry_run(study)
    assert "2 of 2 runs out of date" in text and "no result" in text and "total:" in text, text
    assert not (tmp_path / "results" / "tiny" / "data").exists() and not list((tmp_path / "book").rglob("*.ipynb"))


# -- running ----------------------------------------------------------------------------------------


def test_failures_are_reported_by_run_and_cell_the_rest_goes_on_and_a_run_alone_has_every_core(tmp_path):
    """One study with every kind of trouble, run as users type it (one cluster for them all): a training
    instance that fails, a page failing in a cell, a kernel that dies, and beside them a run marked
    ``exclusive`` (it computes on every core, the others on one) and pages that succeed."""
    path = tiny_study(tmp_path, runs=["data", "spsa-shots", "circuit"],
                      # more windows than the data holds: a failure only the run itself meets (a bad value such
                      # as method adam is refused when the study file is read: tests/hostile)
                      overrides={"spsa-shots": {"train_sequences": 100000}, "circuit": {"steps": "boom"}})
    header = '# %% tags=["parameters"]\nprofile = "tiny"\nresults_dir = "x"\nrun_name = "x"\n\n'
    (tmp_path / "dies.py").write_text(header + "# %%\nimport os\nos._exit(1)\n")
    (tmp_path / "threads.py").write_text(header + "# %%\nimport os, pathlib, torch\n"
                                         "pathlib.Path(results_dir, run_name).mkdir(parents=True, exist_ok=True)\n"
                                         "pathlib.Path(results_dir, run_name, 'threads').write_text("
                                         "str(torch.get_num_threads()))\n")
    spec = yaml.safe_load(path.read_text())
    spec["runs"] += [{"name": "dies", "notebook": str(tmp_path / "dies.py")},
                     {"name": "alone", "notebook": str(tmp_path / "threads.py"), "exclusive": True},
                     {"name": "beside", "notebook": str(tmp_path / "threads.py")}]
    path.write_text(yaml.safe_dump(spec))
    study = load_study(path, "tiny")
    proc = cli("run", "--study-file", str(path), "--profile", "tiny", "--jobs", "2")
    text = proc.stdout
    assert proc.returncode == 1, text[-3000:] + proc.stderr[-2000:]
    failed = [line for line in text.splitlines() if line.startswith("FAILED: ")]
    assert len(failed) == 2 + sum(r.name.startswith("spsa-shots@") for r in study.runs), text[-3000:]
    assert "spsa-shots@1929 (" in text and "train.py" in text and "failed" in text
    assert "circuit (" in text and "failed in cell" in text  # a page: by its cell
    assert "train_sequences: 100000 windows asked" in text
    assert "FAILED: dies (" in text and "DeadKernelError" in text, text[-3000:]
    generated = tmp_path / "book" / "generated" / "tiny"
    assert (generated / "data.ipynb").exists() and (generated / "circuit.failed.ipynb").exists()
    threads = {f.parent.name: int(f.read_text()) for f in (tmp_path / "results").rglob("threads")}
    assert threads == {"alone": os.cpu_count(), "beside": 1}


def test_long_work_reports_its_epochs_and_what_training_is_left(tmp_path, monkeypatch):
    import qrnn_study.drive as study_module
    from qrnn_study.drive import epochs_done, training_left

    study = load_study(tiny_study(tmp_path, runs=["spsa-spall-shots"], overrides={"spsa-spall-shots": {"epochs": 3}}), "tiny")
    (run,) = study.runs
    assert epochs_done(study, run) == 0 and training_left(study) == (
        "training left: 3 epoch(s) of 1 run(s), not yet projected (no epoch has run)")
    monkeypatch.setattr(study_module, "PROGRESS_POLL", 0.05)  # looks often enough to see every epoch land
    said = []
    assert run_study(study, jobs=1, log=said.append) == 0
    text = "\n".join(said)
    assert epochs_done(study, run) == 3 and f"{run.name}: done in" in text, text
    assert "training left: 3 epoch(s) of 1 run(s), not yet projected" in text  # at the start
    assert "training left: 0 epoch(s) of 0 run(s), about 0.0 worker-hours at the recorded rates" in text  # after
    epochs = [line.split("] ")[1] for line in said if "finished" in line]
    assert epochs == sorted(set(epochs)) and set(epochs) <= {f"{run.name}: epoch {k} of 3 finished" for k in (1, 2, 3)}

    # A folder made from other inputs counts for nothing (its run starts afresh), however many epochs it holds;
    # one made from today's counts the epochs it lacks, while its run goes on.
    from qrnn_study.plan import Plan, plan

    steps = plan(study)
    record = tmp_path / "results" / "tiny" / run.name / "inputs.json"
    today = record.read_text()
    made_elsewhere = json.loads(today)
    made_elsewhere["inputs"]["notebook"] = "0" * 64
    record.write_text(json.dumps(made_elsewhere))
    stale = Plan(steps.inputs, [run], {run.name: "inputs changed: notebook"})
    assert training_left(study, stale, {run.name}).startswith("training left: 3 epoch(s) of 1 run(s)")
    record.write_text(today)
    metrics = tmp_path / "results" / "tiny" / run.name / "metrics.json"
    recorded = json.loads(metrics.read_text())
    metrics.write_text(json.dumps(recorded | {"val": recorded["val"][:1]}))  # as after its first epoch
    assert training_left(study, stale, {run.name}).startswith("training left: 2 epoch(s) of 1 run(s)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _results(folder: Path) -> dict:
    out = {}
    for m in sorted(folder.glob("*/metrics.json")):
        d = json.loads(m.read_text())
        out[m.parent.name] = (d["val"], np.load(m.parent / "trajectory.npz")["train_rmse"].tolist())
    return out


def test_the_local_cluster_keeps_glibc_malloc_defaults():
    """Dask's MALLOC_TRIM_THRESHOLD_ makes the simulator 2.3x slower: the study's workers do not get it."""
    from qrnn_study.cluster import client_for
    from qrnn_study.execute import MALLOC_TRIM

    client, cluster = client_for(1, None, None)
    try:
        assert set(client.run(lambda: os.environ.get(MALLOC_TRIM)).values()) == {None}
    finally:
        client.close()
        cluster.close()


def test_a_real_cluster_gives_the_local_results_even_when_a_worker_is_killed(tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1; one worker SIGKILLed mid-run."""
    runs = ["spsa-original-shots", "fdsa-shots"]
    overrides = {r: {"epochs": 6, "train_sequences": 8} for r in runs}
    from qrnn_core.train import train
    from qrnn_study.cli import config_from_parameters

    import torch

    local = tmp_path / "local" / "results" / "tiny"  # the same instances, trained here on one thread as workers do
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for r in load_study(tiny_study(tmp_path / "local", runs, overrides), "tiny").runs:
            train(config_from_parameters(r.parameters), local / r.name, progress=False, log=lambda _: None)
    finally:
        torch.set_num_threads(threads)
    bin_dir = Path(sys.executable).parent
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        time.sleep(3)
        for _ in range(2):
            procs.append(subprocess.Popen([str(bin_dir / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                           "--no-nanny", "--no-dashboard"], env=env, cwd=ROOT,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(4)
        remote = tmp_path / "remote"
        study = tiny_study(remote, runs, overrides)
        runner = subprocess.Popen([sys.executable, "-m", "qrnn_study", "run", "--study-file", str(study), "--profile",
                                   "tiny", "--scheduler", f"tcp://127.0.0.1:{port}"], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # kill a worker once a training has written its first checkpoint
        deadline = time.time() + 240
        while time.time() < deadline and not list((remote / "results" / "tiny").glob("*/checkpoint_epoch1.pt")):
            time.sleep(0.2)
        procs[1].send_signal(signal.SIGKILL)
        out, _ = runner.communicate(timeout=480)
        assert runner.returncode == 0, out[-3000:]
    finally:
        for p in procs:
            p.kill()
    assert _results(remote / "results" / "tiny") == _results(local)


def test_a_run_is_timed_alone_in_the_profiles_its_exclusive_lists():
    timing = {p: next(r for r in load_study(profile=p).runs if r.name == "timing").exclusive for p in ("paper", "tiny")}
    assert timing == {"paper": True, "tiny": False}
