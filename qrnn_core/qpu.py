"""QPU time of training on a device, and the circuits of one update run as a device would run them.

QPU time (IBM's accounting: the time the QPU is locked for a job; circuits run shot by shot, with the
repetition delay after every circuit on every shot; per-job overheads are not public constants and
are left out)::

    circuit   = T * (layer + measure + reset)          one T-step circuit, seconds
    update    = circuits_per_update * shots * (circuit + rep_delay)
    epoch     = updates_per_epoch * update
    run       = epochs * epoch

``layer`` is the critical path of one step's device gates scheduled as soon as possible (each qubit
busy for its own gates; the CRX chain is sequential), ``measure`` and ``reset`` the backend's
durations of the readout (the mid-circuit ``measure_2``/``reset_2`` where calibrated), ``rep_delay``
the backend's default (250 us on IBM's Heron devices) unless given. All times in seconds.

The circuits of an update become primitive-unified blocs (PUBs) for ``SamplerV2``: the device
circuit with parameters, laid on its physical qubits, and one row of angles per circuit. They run
offline in qiskit-ibm-runtime's local testing mode (Aer with the fake backend's noise model), and
their counts are compared with given per-step distributions by a chi-square test.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .circuit import n_angles
from .device import DEFAULT_BACKEND, DeviceNoise, check_layout, device_circuit, device_noise, fake_backend
from .estimators import make_estimator

#: Estimators and their settings as the study names them, for the QPU-time table.
ESTIMATOR_RUNS = {
    "spsa": ("spsa", {}),
    "spsa (as originally run)": ("spsa", {"fixed_directions": True}),
    "fdsa": ("fdsa", {}),
    "parameter_shift": ("parameter_shift", {}),
    "exact": ("exact", {}),
}


# --------------------------------------------------------------------------------------------------
# Pure arithmetic
# --------------------------------------------------------------------------------------------------
def layer_duration(ops) -> float:
    """Critical path (s) of gates scheduled as soon as possible: ``ops`` are ``(qubits, duration)``
    in circuit order; a gate starts when all its qubits are free."""
    free: dict[int, float] = {}
    for qubits, duration in ops:
        start = max((free.get(q, 0.0) for q in qubits), default=0.0)
        for q in qubits:
            free[q] = start + duration
    return max(free.values(), default=0.0)


def circuit_duration(layer: float, measure: float, reset: float, n_steps: int) -> float:
    """One ``n_steps``-step circuit (s): each step its gate layer, then the readout's measure and reset."""
    return n_steps * (layer + measure + reset)


def qpu_time(circuit: float, *, shots: int, circuits: int, rep_delay: float = 250e-6) -> float:
    """QPU seconds to run ``circuits`` circuits of ``circuit`` seconds ``shots`` times each."""
    return circuits * shots * (circuit + rep_delay)


def circuits_per_update(estimator: str, n_qubits: int = 8, window: int = 20, **settings) -> int | None:
    """Circuits one update runs on a device, the forward included (as ``TrainConfig.circuits_per_update``).

    None for ``exact``: reverse-mode autograd needs the state inside the simulation, which a device
    never returns, so it cannot run on one.
    """
    if estimator == "exact":
        return None
    from .train import step_gates

    est = make_estimator(estimator, **settings)
    return 1 + est.circuits(n_params=2 * n_angles(n_qubits), steps=window, gates=step_gates(n_qubits))


def noise_circuit_duration(noise: DeviceNoise, n_steps: int) -> float:
    """The T-step circuit's duration (s) from the backend's gate, measure and reset durations."""
    ops = [(op.qubits, op.duration) for g in noise.gates for op in g.ops]
    return circuit_duration(layer_duration(ops), max(q.measure for q in noise.qubits),
                            max(q.reset for q in noise.qubits), n_steps)


def qpu_time_table(backends=(DEFAULT_BACKEND, "FakeKingston"), n_qubits: int = 8, n_steps: int = 20, *,
                   shots: int = 1024, updates_per_epoch: int = 1384, epochs: int = 10,
                   rep_delay: float | None = None) -> list[dict]:
    """QPU time per update, epoch and run for each backend and estimator (rows of a table).

    Each row: ``backend``, ``estimator``, ``circuit_s`` (one circuit), ``circuits`` (per update, None
    where the estimator cannot run on a device), ``update_s``, ``epoch_h``, ``run_h`` (None likewise).
    ``rep_delay``: seconds, default each backend's own.
    """
    rows = []
    for name in backends:
        noise = device_noise(name, n_qubits, scale=0.0)
        delay = fake_backend(name).default_rep_delay if rep_delay is None else rep_delay
        circuit = noise_circuit_duration(noise, n_steps)
        for label, (estimator, settings) in ESTIMATOR_RUNS.items():
            circuits = circuits_per_update(estimator, n_qubits, n_steps, **settings)
            update = None if circuits is None else qpu_time(circuit, shots=shots, circuits=circuits, rep_delay=delay)
            rows.append({"backend": name, "estimator": label, "circuit_s": circuit, "rep_delay_s": delay,
                         "circuits": circuits, "update_s": update,
                         "epoch_h": None if update is None else update * updates_per_epoch / 3600,
                         "run_h": None if update is None else update * updates_per_epoch * epochs / 3600})
    return rows


# --------------------------------------------------------------------------------------------------
# PUBs, local testing mode, chi-square
# --------------------------------------------------------------------------------------------------
def update_pubs(angles, *, backend: str = DEFAULT_BACKEND, layout=None, shots: int = 1024) -> list[tuple]:
    """The circuits of one update as one PUB ``(isa_circuit, values, shots)`` for ``SamplerV2``.

    ``angles``: ``(C, T, n_angles)`` floats, one angle sequence per circuit (e.g. the ``2P + 1``
    sequences of one FDSA window). The circuit is the measured device circuit
    (:func:`qrnn_core.device.device_circuit`) laid on ``layout``'s physical qubits of the backend;
    ``values`` is ``(C, n_parameters)`` in the circuit's parameter order.
    """
    from qiskit import transpile

    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim != 3:
        raise ValueError(f"angles must have shape (circuits, steps, n_angles), got {angles.shape}")
    n_steps, k = angles.shape[1:]
    n = (k + 1) // 7
    if 7 * n - 1 != k:
        raise ValueError(f"angles' last axis must be 7 n - 1 for n qubits, got {k}")
    dev = fake_backend(backend)
    layout = check_layout(dev, n, layout)
    noise = device_noise(backend, n, layout=layout, scale=0.0)
    circuit = device_circuit(noise, n_steps, readout="measure")
    # Already in the device's gates: level 0 only places it on the physical qubits.
    isa = transpile(circuit, dev, initial_layout=list(layout), optimization_level=0)
    columns = [(int(p.vector.name[1:]), p.index) for p in isa.parameters]
    values = np.stack([angles[:, t, i] for t, i in columns], axis=-1)
    return [(isa, values, int(shots))]


def _cut_target(target, qubits: tuple[int, ...]):
    """``target`` restricted to its physical ``qubits`` (renumbered 0, 1, ... in that order): every
    instruction's calibrated properties on those qubits, and their T1, T2 and frequencies."""
    from qiskit.transpiler import Target

    index = {q: i for i, q in enumerate(qubits)}
    cut = Target(num_qubits=len(qubits), dt=target.dt, granularity=target.granularity, min_length=target.min_length,
                 pulse_alignment=target.pulse_alignment, acquire_alignment=target.acquire_alignment,
                 qubit_properties=[target.qubit_properties[q] for q in qubits] if target.qubit_properties else None)
    for name in target.operation_names:
        op = target.operation_from_name(name)
        if isinstance(op, type):  # a global instruction given by its class (control flow): no properties
            cut.add_instruction(op, name=name)
            continue
        props = {qargs: p for qargs, p in target[name].items() if qargs is None or set(qargs) <= index.keys()}
        if props:
            cut.add_instruction(op, {None if q is None else tuple(index[i] for i in q): p for q, p in props.items()},
                                name=name)
    return cut


@functools.lru_cache(maxsize=None)
def _local_simulator(backend: str, qubits: tuple[int, ...]):
    """Aer with the fake backend's noise model on its physical ``qubits`` alone (what local testing mode builds
    per run, cut to the qubits a PUB uses: the whole 156-qubit model takes ~10 s to build and as long again to
    copy, which local testing mode does for every run; the cut one, well under a second)."""
    from qiskit.providers import BackendV2, Options
    from qiskit_aer import AerSimulator

    class Cut(BackendV2):
        def __init__(self, target, name):
            super().__init__(name=name)
            self._cut = target

        @property
        def target(self):
            return self._cut

        @property
        def max_circuits(self):
            return None

        @classmethod
        def _default_options(cls):
            return Options()

        def run(self, run_input, **options):
            raise NotImplementedError("only its noise model is used")

    dev = fake_backend(backend)
    return AerSimulator.from_backend(Cut(_cut_target(dev.target, qubits), f"{dev.name} on qubits {list(qubits)}"))


def _compact(isa):
    """The PUB's circuit ``isa`` (on the device's physical qubits) on its used qubits alone, renumbered in
    increasing order, and those physical qubits."""
    from qiskit import QuantumCircuit, QuantumRegister

    used = sorted({isa.find_bit(q).index for inst in isa.data for q in inst.qubits})
    index = {q: i for i, q in enumerate(used)}
    out = QuantumCircuit(QuantumRegister(len(used), "q"), *isa.cregs, global_phase=isa.global_phase)
    for inst in isa.data:
        out.append(inst.operation, [index[isa.find_bit(q).index] for q in inst.qubits], inst.clbits)
    return out, tuple(used)


def run_local(pubs, *, backend: str = DEFAULT_BACKEND, seed: int) -> list[np.ndarray]:
    """Run ``pubs`` with ``SamplerV2`` in local testing mode on the fake backend (offline), its noise model
    cut to the qubits the PUBs use (the same errors, durations and readout on those qubits).

    Returns per PUB the counts ``(C, T, 2**(n//2))`` int64: circuit, step, outcome ``s`` (bit ``k`` is
    readout qubit ``k``). ``seed`` seeds Aer's sampling.
    """
    from qiskit_ibm_runtime import SamplerV2

    compact = [(_compact(pub[0]), *pub[1:]) for pub in pubs]
    qubits = {used for (_, used), *_ in compact}
    if len(qubits) != 1:
        raise ValueError(f"pubs must use the same physical qubits, got {sorted(qubits)}")
    sampler = SamplerV2(mode=_local_simulator(backend, qubits.pop()),
                        options={"simulator": {"seed_simulator": int(seed)}})
    result = sampler.run([(circuit, *rest) for (circuit, _), *rest in compact]).result()
    out = []
    for pub, res in zip(pubs, result):
        data = res.data
        T = sum(1 for name in pub[0].cregs)
        C = len(pub[1])
        R = 2 ** pub[0].cregs[0].size
        counts = np.zeros((C, T, R), dtype=np.int64)
        for t in range(T):
            bits = getattr(data, f"c{t}")
            for c in range(C):
                for s, m in bits.get_int_counts(c).items():
                    counts[c, t, s] = m
        out.append(counts)
    return out


def chi_square(counts, probabilities, *, min_expected: float = 5.0) -> dict:
    """Pearson's chi-square test of per-step counts against per-step distributions.

    ``counts``: ``(..., T, R)`` integers; ``probabilities``: the same shape (or broadcastable), each
    row summing to 1. Per row, the outcomes with expected count below ``min_expected`` are pooled
    into one cell (so the chi-square approximation holds); the rows' statistics and degrees of
    freedom add up (independent shots). Returns ``statistic``, ``dof``, ``p_value``.
    """
    from scipy.stats import chi2

    counts = np.asarray(counts, dtype=np.float64)
    probabilities = np.broadcast_to(np.asarray(probabilities, dtype=np.float64), counts.shape)
    statistic, dof = 0.0, 0
    for obs, p in zip(counts.reshape(-1, counts.shape[-1]), probabilities.reshape(-1, counts.shape[-1])):
        expected = obs.sum() * p / p.sum()
        small = expected < min_expected
        o = np.append(obs[~small], obs[small].sum())
        e = np.append(expected[~small], expected[small].sum())
        keep = e > 0
        o, e = o[keep], e[keep]
        if len(e) < 2:
            continue
        statistic += float(((o - e) ** 2 / e).sum())
        dof += len(e) - 1
    return {"statistic": statistic, "dof": dof, "p_value": float(chi2.sf(statistic, dof)) if dof else math.nan}
