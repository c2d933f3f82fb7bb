"""qrnn_core: the seed's quantum recurrent network, its simulators, estimators and training."""

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
