"""What each notebook and the study runner agree on, declared once: the parameters its ``parameters`` cell
declares, the study-file runs whose results it reads, and the files it writes into
``results_dir/run_name``. ``tests/study/pages/test_contracts.py`` checks every notebook against its
contract and every run of ``study.yml`` against its notebook's (a page depends on what it reads).

A read given as ``{name}`` is the run named by that parameter (the arm page reads its ``arm`` and
``twin``; the study file refuses one that names no training run); a file given as ``{profile}`` is named
after the profile. A page's analysis is its module ``qrnn_study/pages/<name>.py``, tested in
``tests/study/pages/test_<name>.py``: the notebook imports it and defines no function of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from qrnn_core.runfiles import DERIVED

from ..model import ARM_LABELS, DEVICE_ARMS, SWEEPS

#: Every run gets these from the runner (``profile``, the results folder, its own name).
RUNNER = ("profile", "results_dir", "run_name")
#: The full-protocol arms and the learning-rate sweeps (:mod:`qrnn_study.model`).
ARMS = tuple(ARM_LABELS)
SWEEP_RUNS = tuple(SWEEPS.values())
#: The device study's runs (one arm per noise scale each) and the noiseless arms the page sets beside them.
DEVICE_RUNS = tuple(a.id for a in DEVICE_ARMS)
NOISELESS_RUNS = tuple(a.noiseless for a in DEVICE_ARMS)


@dataclass(frozen=True)
class Contract:
    """One notebook's side of the agreement: ``parameters`` its parameters cell declares beyond
    :data:`RUNNER`, ``reads`` the runs whose results it reads, ``writes`` its files in ``results_dir/run_name``."""

    parameters: tuple[str, ...] | None = ()
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()

    def runs_read(self, parameters: dict) -> set[str]:
        """The runs a run of this notebook with ``parameters`` reads (``{name}`` filled in; None left out)."""
        out = set()
        for read in self.reads:
            name = parameters.get(read[1:-1]) if read.startswith("{") else read
            if name:
                out.add(name)
        return out


#: By notebook (``notebooks/<name>.py``). ``train``'s parameters are TrainConfig's (see ``qrnn_study.cli``).
CONTRACTS = {
    "data": Contract(("source", "n_samples", "window", "stride", "train_fraction", "scaling"), (), ("data.json",)),
    "circuit": Contract(("n_qubits", "steps", "sequences", "seed"), (), ("agreement.json",)),
    "gradients": Contract(("n_qubits", "steps", "seed", "spsa_draws", "fdsa_steps"), (), ("gradients.json",)),
    "fidelity": Contract(("shot_seeds", "checkpoints"), (), ("fidelity.json",)),
    "baselines": Contract(("seeds", "esn_candidates"), (), ("baselines.json", "baselines.csv")),
    "arm": Contract(("arm", "seeds", "twin"), ("{arm}", "{twin}"), ("validation.json", "validation.csv")),
    "sweep": Contract((), SWEEP_RUNS, ("sweep.json", "sweep.csv")),
    "budget": Contract(("equal_lr",), ("spsa-original-shots", "spsa-shots", "spsa-spall-shots", "fdsa-shots",
                                      "budget-spsa110", *SWEEP_RUNS, "baselines"),
                       ("equal_budget.json", "equal_budget.csv")),
    "timing": Contract(("repeats", "aer", "aer_fdsa", "qubit_counts", "n_qubits", "min_seconds", "epoch_methods",
                        "epoch_precision", "gpu_bench", "engine_qubits"), (), ("timing.json",)),
    "device": Contract(("backend", "qpu_backends", "n_qubits", "steps", "seed", "local_n_qubits", "local_steps",
                        "local_circuits", "rep_delay"), (*DEVICE_RUNS, *NOISELESS_RUNS, "baselines"),
                       ("device.json", "qpu.csv", "device_training.csv", "device_noise_effects.csv")),
    "conclusions": Contract(("control_seeds",), (*ARMS, *SWEEP_RUNS, "baselines", "timing"),
                            ("standing.json", "standing.csv", "readout-control.json", "readout-control.csv")),
    "summary": Contract((), (*ARMS, *SWEEP_RUNS, "baselines", "gradients", "fidelity", "timing", "conclusions"),
                        ("scorecard.json", "scorecard.csv", "key_figure.csv", "compute.json", "results-{profile}.zip")),
    # A training run's parameters are TrainConfig's fields (the cell is ``qrnn_study.cli.parameter_cell``);
    # its folder's files are qrnn_core's (besides its checkpoints).
    "train": Contract(None, (), DERIVED),
}
