"""The QRNN circuit run through Qiskit Aer, with the TorchSimulator's interface.

Two ways, chosen per call by ``shots`` exactly as for :class:`~qrnn_core.simulator.TorchSimulator`:

* ``shots=None``: exact per-step probabilities, the density-matrix method with a
  ``save_probabilities`` of the readout register in place of each step's measurement;
* ``shots=k``: the original's way, ``k`` shots with mid-circuit measurement into one register per step,
  returning each step's ``counts / k``.

Each circuit is built from :func:`~qrnn_core.circuit.build_sequence_circuit`, transpiled once per
``(T, way)`` and cached; a call binds all its sequences in ONE ``run`` (Aer's parameter binds).
``device="GPU"`` needs ``qiskit-aer-gpu`` (instead of ``qiskit-aer``, never both) and a GPU.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .circuit import build_sequence_circuit, build_step_block, check_n_qubits, n_angles, n_outcomes
from .validation import check_angles, check_generator, check_shots


def aer_devices() -> tuple[str, ...]:
    """Devices this Qiskit Aer build can use, e.g. ``("CPU",)`` or ``("CPU", "GPU")``."""
    from qiskit_aer import AerSimulator

    return tuple(AerSimulator().available_devices())


class AerBackend:
    """Per-step readout probabilities from Qiskit Aer.

    Parameters
    ----------
    n_qubits : even number of qubits (8 in the seed).
    device : ``"CPU"`` or ``"GPU"`` (GPU runs use the seed's ``batched_shots_gpu``).
    """

    def __init__(self, n_qubits: int = 8, *, device: str = "CPU"):
        self.n_qubits = check_n_qubits(n_qubits)
        device = str(device).upper()
        if device not in ("CPU", "GPU"):
            raise ValueError(f"unknown Aer device {device!r}: use 'CPU' or 'GPU'")
        if device not in aer_devices():
            raise ValueError(
                f"Aer device {device!r} is not available (this qiskit-aer offers {aer_devices()}); "
                "GPU needs qiskit-aer-gpu and an NVIDIA GPU"
            )
        self.device = device
        self.block = build_step_block(self.n_qubits)  # the step it runs (drives the shift rules)
        self.n_angles = n_angles(self.n_qubits)
        self.n_outcomes = n_outcomes(self.n_qubits)
        self._compiled: dict[tuple[int, bool], tuple] = {}

    def probabilities(
        self,
        angles,
        *,
        shots: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Same contract as :meth:`TorchSimulator.probabilities` (float64, on the CPU).

        With ``shots``, Aer's ``seed_simulator`` is drawn from ``generator``, so a seeded generator
        gives reproducible counts.
        """
        angles = check_angles(angles, self.n_angles, torch.device("cpu"), torch.float64)
        shots = check_shots(shots)
        seed = None
        if shots is not None:
            check_generator(generator, torch.device("cpu"))
            seed = int(torch.randint(0, 2**31 - 1, (), generator=generator))
        batch, T = angles.shape[:-2], angles.shape[-2]
        flat = angles.detach().reshape(math.prod(batch), T, self.n_angles).numpy()
        circuit, simulator, params = self._compile(T, exact=shots is None)
        # Bound here rather than with Aer's parameter_binds: Aer 0.18 binds a parameterised native
        # crx wrongly (its counts disagree with assign_parameters and with the exact methods).
        bound = [circuit.assign_parameters(dict(zip(params, seq.ravel().tolist()))) for seq in flat]
        options = {"shots": 1} if shots is None else {"shots": shots, "seed_simulator": seed}
        result = simulator.run(bound, **options).result()
        if not result.success:
            raise RuntimeError(f"Aer run failed: {result.status}")
        out = np.empty((flat.shape[0], T, self.n_outcomes))
        for n in range(flat.shape[0]):
            if shots is None:
                data = result.data(n)
                for t in range(T):
                    out[n, t] = data[f"p{t}"]
            else:
                out[n] = _per_step_frequencies(result.get_counts(n), T, self.n_outcomes, shots)
        return torch.from_numpy(out).reshape(batch + (T, self.n_outcomes))

    __call__ = probabilities

    def _compile(self, T: int, exact: bool):
        """The transpiled ``T``-step circuit, its simulator, and its parameters in angle order."""
        key = (T, exact)
        if key not in self._compiled:
            from qiskit import transpile
            from qiskit_aer import AerSimulator

            options = {"device": self.device}
            if exact:
                options["method"] = "density_matrix"
            elif self.device == "GPU":
                options["batched_shots_gpu"] = True
            simulator = AerSimulator(**options)
            circuit = build_sequence_circuit(
                self.n_qubits, T, readout="probabilities" if exact else "measure"
            )
            # params[t * n_angles + i] is step t's angle i, matching angles.reshape(T * n_angles).
            params = sorted(circuit.parameters, key=lambda p: (int(p.vector.name[1:]), p.index))
            compiled = transpile(circuit, simulator, optimization_level=0)
            self._compiled[key] = (compiled, simulator, params)
        return self._compiled[key]


def _per_step_frequencies(counts: dict[str, int], T: int, R: int, shots: int) -> np.ndarray:
    """Aer counts over ``T`` registers (key ``"c{T-1} ... c1 c0"``) -> ``(T, R)`` frequencies."""
    freq = np.zeros((T, R))
    for key, c in counts.items():
        registers = key.split()
        for t in range(T):
            freq[t, int(registers[T - 1 - t], 2)] += c
    return freq / shots
