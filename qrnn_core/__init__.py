"""qrnn_core: the science of the study, readable alone: the original course project's quantum recurrent
network (circuit, exact PyTorch simulator, Aer backend), its gradient estimators, the Lorenz task, the
model, training, the two validation protocols, the baselines and the fidelity check against the
original's own checkpoints. It imports neither :mod:`qrnn_study` (the study machinery) nor
:mod:`qrnn_tools` (the benchmark and the browser check), which both use it."""

from .circuit import (
    build_sequence_circuit,
    build_step_block,
    memory_qubits,
    n_angles,
    n_outcomes,
    readout_qubits,
)
from .simulator import TorchSimulator

__all__ = [
    "TorchSimulator",
    "build_sequence_circuit",
    "build_step_block",
    "memory_qubits",
    "n_angles",
    "n_outcomes",
    "readout_qubits",
]
