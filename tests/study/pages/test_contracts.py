"""Every notebook keeps its contract with the runner (:mod:`qrnn_study.pages.contracts`): the parameters
its cell declares, the files it writes, and a page depends on every run whose results it reads."""

import ast

import pytest

from qrnn_study.cli import parameter_cell
from qrnn_study.model import ARMS as MODEL_ARMS
from qrnn_study.notebook import notebook_parameters
from qrnn_study.pages.contracts import ARMS, CONTRACTS, DEVICE_RUNS, RUNNER, SWEEP_RUNS
from qrnn_study.study_file import ROOT, read_study_file

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def test_every_notebook_has_a_contract():
    assert {p.stem for p in NOTEBOOKS} == set(CONTRACTS)


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_the_parameters_cell_declares_what_the_contract_says(name):
    declared = list(notebook_parameters(ROOT / "notebooks" / f"{name}.py"))
    contract = CONTRACTS[name]
    if contract.parameters is None:  # the training notebook: TrainConfig's fields
        expected = [node.targets[0].id for node in ast.parse(parameter_cell({n: None for n in RUNNER})).body]
    else:
        expected = [*RUNNER, *contract.parameters]
    assert declared == expected


@pytest.mark.parametrize("name", sorted(n for n, c in CONTRACTS.items() if c.parameters is not None))
def test_a_page_writes_the_files_its_contract_names(name):
    source = (ROOT / "notebooks" / f"{name}.py").read_text()
    module = ROOT / "qrnn_study" / "pages" / f"{name}.py"
    source += module.read_text() if module.exists() else ""
    for file in CONTRACTS[name].writes:
        assert f'"{file}"' in source, f"{name} does not write {file}"


def test_a_page_depends_on_every_run_whose_results_it_reads():
    spec = read_study_file(ROOT / "study.yml")
    for run in spec["runs"]:
        contract = CONTRACTS[run["notebook"].split("/")[-1].removesuffix(".py")]
        params = {k: v for block in (run.get("parameters") or {}).values() for k, v in block.items()}
        missing = contract.runs_read(params) - set(run.get("depends", []))
        assert not missing, f"{run['name']} reads {sorted(missing)} without depending on them"


def test_the_whole_study_pages_read_every_full_protocol_arm_and_sweep_of_the_model():
    assert set(ARMS) == {a.id for a in MODEL_ARMS if a.full}
    assert set(SWEEP_RUNS) == {a.id for a in MODEL_ARMS if a.swept == "lr"}
    assert set(DEVICE_RUNS) == {a.id for a in MODEL_ARMS if a.swept == "noise_scale"} <= set(CONTRACTS["device"].reads)
    for page in ("conclusions", "summary"):
        assert {*ARMS, *SWEEP_RUNS} <= set(CONTRACTS[page].reads), page


@pytest.mark.parametrize("name", sorted(n for n, c in CONTRACTS.items() if c.parameters is not None))
def test_a_page_notebook_is_parameters_calls_and_prose(name):
    """Its analysis lives in ``qrnn_study/pages/<name>.py``, tested in ``tests/study/pages/``: the notebook
    imports that module and defines no function or class of its own."""
    tree = ast.parse((ROOT / "notebooks" / f"{name}.py").read_text())
    assert (ROOT / "qrnn_study" / "pages" / f"{name}.py").exists()
    assert (ROOT / "tests" / "study" / "pages" / f"test_{name}.py").exists()
    imported = {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert f"qrnn_study.pages.{name}" in imported or any(i.startswith(f"qrnn_study.pages.{name}.") for i in imported)
    defined = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert not defined, f"{name} defines {defined}: move them to qrnn_study/pages/{name}.py and test them"
