"""A real device's noise, as data, for the QRNN circuit; and Aer's independent reference of it.

Where the numbers come from
---------------------------
qiskit-ibm-runtime's calibrated fake backends (``FakeMarrakesh`` by default, any other by name). The
seed's step block (:func:`qrnn_core.circuit.build_step_block`) is placed on a line of ``n``
connected physical qubits (logical qubit ``i`` on ``layout[i]``, so the CRX chain needs no swap) and
each of its logical gates is translated on its own to the device's basis at optimization level 1:
``RZ`` stays virtual (no duration, no error), ``RX`` becomes ``rz sx rz sx rz`` and ``CRX`` two
``cz`` with four ``sx`` on its target. Translating gate by gate keeps the step's structure: every
device gate belongs to one logical gate of :mod:`qrnn_core.program`.

The noise model (as Aer's ``NoiseModel.from_backend`` builds it, plus what it leaves out)
-----------------------------------------------------------------------------------------
* after each device gate, a depolarizing channel whose probability makes the gate's average
  infidelity, together with the relaxation during the gate, equal the calibrated gate error;
* thermal relaxation (T1, T2) of the gate's qubits during the gate (no thermal excitation);
* the memory qubits idle while the readout qubits are measured and reset: relaxation and dephasing
  for ``measure + reset`` seconds each step (from the mid-circuit ``measure_2``/``reset_2`` where
  the calibration has them);
* readout assignment error ``p(1|0)``, ``p(0|1)`` of each readout qubit (classical, on the outcome);
* reset error: the reset leaves ``|1>`` with probability ``e``. The calibrations give no reset error;
  a device reset is a measurement and a conditional ``X``, so it fails when the measurement
  misassigns: ``e = (p(1|0) + p(0|1)) / 2`` of the measurement it uses.

A noise scale ``s`` multiplies every error rate: gate, readout and reset errors by ``s``, the
relaxation rates ``1/T1`` and ``1/T_phi`` by ``s`` (so ``T1`` and ``T2`` are divided by ``s``);
``s = 0`` is noiseless. Times are in seconds throughout.

The study's engine simulates it (:class:`qrnn_core.noisy_kernel.NoisyKernelSimulator`, its gradient
included); :func:`reference_probabilities` is Aer's independent reference it is tested against.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass, replace

import numpy as np

from .circuit import build_step_block, check_n_qubits, memory_qubits, n_angles, n_outcomes, readout_qubits
from .program import Gate, read_step_program

#: The default backend: Heron r2, the device of the hardware reference (Connerty et al. 2025).
DEFAULT_BACKEND = "FakeMarrakesh"
#: The noise sources, each of which the reference can switch on alone.
NOISE_SOURCES = ("gates", "relaxation", "idle", "readout", "reset")
_BASIS_CANDIDATES = ("rz", "sx", "x", "cz", "ecr", "cx")


# --------------------------------------------------------------------------------------------------
# Backends, layouts, checks
# --------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def fake_backend_names() -> tuple[str, ...]:
    """Names of qiskit-ibm-runtime's calibrated fake backends (BackendV2), sorted."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return tuple(sorted(name for name, cls in vars(fake_provider).items()
                        if name.startswith("Fake") and inspect.isclass(cls) and issubclass(cls, FakeBackendV2)
                        and name != "FakeFractionalBackend"))


@functools.lru_cache(maxsize=None)
def fake_backend(name: str = DEFAULT_BACKEND):
    """The fake backend called ``name``; an unknown name is refused with the list of available ones."""
    if name not in fake_backend_names():
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(fake_backend_names())}")
    from qiskit_ibm_runtime import fake_provider

    return getattr(fake_provider, name)()


def check_noise_scale(scale) -> float:
    """``scale`` as a float if it is a finite number >= 0, else a ValueError naming it."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating, np.integer)):
        raise ValueError(f"noise scale must be a finite number >= 0, got {scale!r}")
    if not math.isfinite(scale) or scale < 0:
        raise ValueError(f"noise scale must be a finite number >= 0, got {scale!r}")
    return float(scale)


def find_line(edges, n: int) -> tuple[int, ...] | None:
    """The first simple path of ``n`` qubits on an undirected coupling graph, or None.

    ``edges``: pairs of physical qubits. Depth-first from the lowest-numbered qubit, neighbours in
    increasing order, so the answer is deterministic (on heavy-hex devices ``0, 1, ..., n-1``).
    """
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        if a != b:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
    for q in neighbours:
        neighbours[q] = sorted(set(neighbours[q]))

    def extend(path: list[int]) -> list[int] | None:
        if len(path) == n:
            return path
        for q in neighbours.get(path[-1], []):
            if q not in path:
                found = extend(path + [q])
                if found:
                    return found
        return None

    for start in sorted(neighbours):
        found = extend([start])
        if found:
            return tuple(found)
    return None


def check_layout(backend, n_qubits: int, layout=None) -> tuple[int, ...]:
    """The physical qubits of logical qubits ``0..n-1``: ``layout`` checked, or the first line found.

    A layout must be ``n`` distinct physical qubits of the device with each consecutive pair coupled
    (the CRX chain runs along it); otherwise a ValueError naming it.
    """
    n = check_n_qubits(n_qubits)
    edges = {tuple(sorted(e)) for e in backend.coupling_map.get_edges()}
    if layout is None:
        line = find_line(sorted(edges), n)
        if line is None:
            raise ValueError(f"{backend.name} has no line of {n} connected qubits")
        return line
    try:
        layout = tuple(int(q) for q in layout)
    except (TypeError, ValueError):
        raise ValueError(f"layout must be {n} physical qubits, got {layout!r}") from None
    if (len(layout) != n or len(set(layout)) != n or any(not 0 <= q < backend.num_qubits for q in layout)
            or any(tuple(sorted(p)) not in edges for p in zip(layout, layout[1:]))):
        raise ValueError(f"layout {layout} does not fit {backend.name}: need {n} distinct qubits "
                         f"of 0..{backend.num_qubits - 1}, each coupled to the next")
    return layout


# --------------------------------------------------------------------------------------------------
# Single-qubit and n-qubit channels (pure numpy)
# --------------------------------------------------------------------------------------------------
_PAULIS = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)


def thermal_relaxation_kraus(t1: float, t2: float, time: float) -> np.ndarray:
    """Kraus operators ``(4, 2, 2)`` complex128 of relaxation for ``time`` seconds (no excitation).

    Amplitude damping ``gamma = 1 - exp(-time/T1)`` followed by pure dephasing at rate
    ``1/T_phi = 1/T2 - 1/(2 T1)``, so that ``|1><1|`` decays as ``exp(-time/T1)`` and the coherence
    as ``exp(-time/T2)``. ``T2`` above ``2 T1`` is truncated to ``2 T1`` (as Aer does); ``inf``
    means no decay of that kind.
    """
    t2 = min(t2, 2 * t1)
    gamma = 1 - math.exp(-time / t1) if time > 0 else 0.0
    rate_phi = (1 / t2 - 1 / (2 * t1)) if time > 0 else 0.0
    lam = math.exp(-time * max(rate_phi, 0.0))  # extra coherence factor of the pure dephasing
    damping = [np.array([[1, 0], [0, math.sqrt(1 - gamma)]]), np.array([[0, math.sqrt(gamma)], [0, 0]])]
    dephasing = [np.array([[1, 0], [0, lam]]), np.array([[0, 0], [0, math.sqrt(1 - lam**2)]])]
    return np.array([p @ d for p in dephasing for d in damping], dtype=np.complex128)


def depolarizing_kraus(p: float, n_qubits: int = 1) -> np.ndarray:
    """Kraus operators ``(4**n, 2**n, 2**n)`` of ``rho -> (1 - p) rho + p tr(rho) I / 2**n``.

    ``p`` in ``[0, 4**n / (4**n - 1)]`` (the upper end is the uniform Pauli channel).
    """
    d2 = 4**n_qubits
    paulis = [np.array([[1.0]], dtype=complex)]
    for _ in range(n_qubits):
        paulis = [np.kron(a, b) for a in paulis for b in _PAULIS]
    weights = np.full(d2, p / d2)
    weights[0] = 1 - p * (d2 - 1) / d2
    return np.array([math.sqrt(max(w, 0.0)) * P for w, P in zip(weights, paulis)])


def apply_kraus(rho: np.ndarray, kraus: np.ndarray) -> np.ndarray:
    """``sum_k K rho K^dagger`` for ``rho (d, d)`` and ``kraus (m, d, d)``."""
    return np.einsum("kij,jl,kml->im", kraus, rho, kraus.conj())


def process_fidelity(kraus: np.ndarray) -> float:
    """Process (entanglement) fidelity with the identity: ``sum_k |tr K_k|^2 / d^2``."""
    d = kraus.shape[-1]
    return float(np.sum(np.abs(np.trace(kraus, axis1=1, axis2=2)) ** 2) / d**2)


def average_gate_fidelity(kraus: np.ndarray) -> float:
    """Average gate fidelity with the identity, ``(d F_pro + 1) / (d + 1)``."""
    d = kraus.shape[-1]
    return (d * process_fidelity(kraus) + 1) / (d + 1)


def depolarizing_from_gate_error(error: float, relax_fidelities, n_qubits: int) -> float:
    """The depolarizing probability that, with the relaxation, gives the gate error (Aer's rule).

    ``relax_fidelities``: the process fidelity of each qubit's relaxation during the gate (the
    gate's relaxation is their tensor product). Solves ``1 - F_avg(depol ∘ relax) = error``:
    ``p = d (F_relax - F) / (d F_relax - 1)`` with ``F = 1 - error``; 0 where the relaxation alone
    already explains the error, capped at ``4**n / (4**n - 1)``.
    """
    d = 2**n_qubits
    f_relax = (d * math.prod(relax_fidelities) + 1) / (d + 1)
    error = min(error, d / (d + 1))
    if error <= 1 - f_relax:
        return 0.0
    return min(d * (error - (1 - f_relax)) / (d * f_relax - 1), 4**n_qubits / (4**n_qubits - 1))


def readout_matrix(p10: float, p01: float) -> np.ndarray:
    """Assignment matrix ``A[observed, prepared]`` (2, 2) float64 from ``p(1|0)`` and ``p(0|1)``."""
    return np.array([[1 - p10, p01], [p10, 1 - p01]])


def apply_readout_error(probabilities: np.ndarray, matrices) -> np.ndarray:
    """Per-step outcome distributions ``(..., 2**k)`` seen through each readout bit's matrix.

    ``matrices[k]`` is bit ``k``'s :func:`readout_matrix` (outcome ``s = sum_k b_k 2**k``); the bits
    misassign independently, so the full matrix is their tensor product.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    k = len(matrices)
    shape = probabilities.shape[:-1]
    # Axis j of the reshaped array is bit k-1-j (C order puts the most significant bit first).
    p = probabilities.reshape(shape + (2,) * k)
    for bit, A in enumerate(matrices):
        axis = len(shape) + k - 1 - bit
        p = np.moveaxis(np.tensordot(A, p, axes=([1], [axis])), 0, axis)
    return p.reshape(probabilities.shape)


# --------------------------------------------------------------------------------------------------
# The noise model as data
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Relaxation:
    """Relaxation of one (logical) qubit for ``duration`` seconds with scaled ``t1``, ``t2`` (s)."""

    qubit: int
    t1: float
    t2: float
    duration: float

    def kraus(self) -> np.ndarray:
        """Its Kraus operators (4, 2, 2), see :func:`thermal_relaxation_kraus`."""
        return thermal_relaxation_kraus(self.t1, self.t2, self.duration)


@dataclass(frozen=True)
class DeviceOp:
    """One device gate: ``name`` (``rz sx x cz ...``) on logical ``qubits``, its angle (``param``: a
    float, an expression in the template's ``a``, or None), ``duration`` (s), ``error`` (calibrated,
    unscaled), the ``depolarizing`` probability after it and the ``relaxation`` of its qubits during it
    (both scaled)."""

    name: str
    qubits: tuple[int, ...]
    param: object
    duration: float
    error: float
    depolarizing: float
    relaxation: tuple[Relaxation, ...]


@dataclass(frozen=True)
class GateNoise:
    """A logical gate of the block (:class:`qrnn_core.program.Gate`), its device gates in order, and
    the channels to apply after it when the simulator works on logical gates: ``depolarizing_1q``
    ``(qubit, p)`` (the 1q device gates' probabilities composed, ``1 - prod(1 - p_i)``),
    ``depolarizing_2q`` (the 2q ones composed, on the gate's pair; 0 for 1q gates), and the
    ``relaxation`` of each qubit for the time device gates act on it."""

    gate: Gate
    ops: tuple[DeviceOp, ...]
    depolarizing_1q: tuple[tuple[int, float], ...]
    depolarizing_2q: float
    relaxation: tuple[Relaxation, ...]


@dataclass(frozen=True)
class QubitCalibration:
    """One logical qubit's calibration (unscaled): its ``physical`` qubit, ``t1``/``t2`` (s), readout
    ``p10`` = p(1|0) and ``p01`` = p(0|1), ``measure``/``reset`` durations (s), ``reset_error``."""

    physical: int
    t1: float
    t2: float
    p10: float
    p01: float
    measure: float
    reset: float
    reset_error: float


@dataclass(frozen=True)
class DeviceNoise:
    """The QRNN step's noise on a device, for a simulator to consume (times in seconds).

    ``gates``: every logical gate of the step block in circuit order with its channels
    (:class:`GateNoise`); ``idle``: each memory qubit's relaxation during the step's measurement and
    reset; ``readout``: per readout bit ``k`` its ``(p(1|0), p(0|1))``; ``reset_error``: per readout
    bit the probability that its reset leaves ``|1>``. All scaled by ``scale``; ``qubits`` keeps the
    unscaled calibration. ``measure_name``/``reset_name`` say which calibration was used (the
    mid-circuit ``measure_2``/``reset_2`` where the backend has them).
    """

    backend: str
    n_qubits: int
    layout: tuple[int, ...]
    scale: float
    measure_name: str
    reset_name: str
    qubits: tuple[QubitCalibration, ...]
    gates: tuple[GateNoise, ...]
    idle: tuple[Relaxation, ...]
    readout: tuple[tuple[float, float], ...]
    reset_error: tuple[float, ...]
    sources: tuple[str, ...] = NOISE_SOURCES

    @property
    def idle_duration(self) -> float:
        """Seconds the memory qubits wait each step while the readout is measured and reset."""
        return max(q.measure for q in self.qubits) + max(q.reset for q in self.qubits)

    def readout_matrices(self) -> list[np.ndarray]:
        """Per readout bit its assignment matrix (:func:`readout_matrix`)."""
        return [readout_matrix(*pq) for pq in self.readout]

    def only(self, *sources: str) -> "DeviceNoise":
        """The same model with every source not in ``sources`` (of :data:`NOISE_SOURCES`) switched off.

        The depolarizing probabilities stay those of the full model (the part of each gate error the
        relaxation does not explain), so the sources add up to the whole.
        """
        unknown = sorted(set(sources) - set(NOISE_SOURCES))
        if unknown:
            raise ValueError(f"unknown noise source(s) {unknown}: choose from {', '.join(NOISE_SOURCES)}")
        off = lambda r: replace(r, duration=0.0)  # noqa: E731
        gates = []
        for g in self.gates:
            ops = tuple(replace(op, depolarizing=op.depolarizing if "gates" in sources else 0.0,
                                relaxation=op.relaxation if "relaxation" in sources else tuple(map(off, op.relaxation)))
                        for op in g.ops)
            gates.append(replace(
                g, ops=ops,
                depolarizing_1q=g.depolarizing_1q if "gates" in sources else tuple((q, 0.0) for q, _ in g.depolarizing_1q),
                depolarizing_2q=g.depolarizing_2q if "gates" in sources else 0.0,
                relaxation=g.relaxation if "relaxation" in sources else tuple(map(off, g.relaxation))))
        return replace(
            self, gates=tuple(gates), sources=tuple(s for s in NOISE_SOURCES if s in sources),
            idle=self.idle if "idle" in sources else tuple(map(off, self.idle)),
            readout=self.readout if "readout" in sources else tuple((0.0, 0.0) for _ in self.readout),
            reset_error=self.reset_error if "reset" in sources else tuple(0.0 for _ in self.reset_error))


def _basis(target) -> list[str]:
    return [g for g in _BASIS_CANDIDATES if g in target.operation_names]


@functools.lru_cache(maxsize=None)
def _gate_template(name: str, basis: tuple[str, ...]):
    """How the device decomposes one logical gate: ``(parameter a, [(name, qubits, param), ...])``.

    Translated alone at optimization level 1 (1q runs merged within the gate, never across gates).
    """
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit import Parameter

    a = Parameter("a")
    qc = QuantumCircuit(2)
    getattr(qc, name)(a, *((0, 1) if name.startswith("c") else (0,)))
    out = transpile(qc, basis_gates=list(basis), optimization_level=1)
    ops = [(i.operation.name, tuple(out.find_bit(q).index for q in i.qubits),
            i.operation.params[0] if i.operation.params else None) for i in out.data]
    return a, ops


def _instruction(target, name: str, physical: tuple[int, ...]):
    props = target[name]
    return props.get(physical) or props.get(physical[::-1])


def device_noise(backend: str = DEFAULT_BACKEND, n_qubits: int = 8, *, layout=None, scale: float = 1.0) -> DeviceNoise:
    """The step block's :class:`DeviceNoise` on ``backend`` (a fake backend's name).

    ``layout``: physical qubit of each logical qubit (default: the first line, :func:`check_layout`);
    ``scale``: noise scale ``s >= 0`` (module docstring). Bad input is refused before any compute.
    """
    scale = check_noise_scale(scale)
    n = check_n_qubits(n_qubits)
    dev = fake_backend(backend)
    layout = check_layout(dev, n, layout)
    target = dev.target
    props = dev.properties()
    measure_name = "measure_2" if "measure_2" in target.operation_names else "measure"
    reset_name = "reset_2" if "reset_2" in target.operation_names else "reset"

    qubits = []
    for p in layout:
        qp = target.qubit_properties[p]
        t2 = min(qp.t2, 2 * qp.t1)
        m = target[measure_name][(p,)]
        if measure_name == "measure":  # the calibration's asymmetric assignment errors
            p10, p01 = props.qubit_property(p, "prob_meas1_prep0")[0], props.qubit_property(p, "prob_meas0_prep1")[0]
        else:  # measure_2 has one (symmetric) error
            p10 = p01 = m.error
        r = target[reset_name][(p,)]
        reset_error = r.error if r.error is not None else (p10 + p01) / 2
        qubits.append(QubitCalibration(p, qp.t1, t2, p10, p01, m.duration, r.duration, reset_error))

    def scaled_t(q: int) -> tuple[float, float]:
        c = qubits[q]
        return (c.t1 / scale, c.t2 / scale) if scale > 0 else (math.inf, math.inf)

    def relax(q: int, duration: float) -> Relaxation:
        return Relaxation(q, *scaled_t(q), duration)

    basis = tuple(_basis(target))
    program = read_step_program(build_step_block(n))
    gate_noise = []
    for gate in program.gates:
        a, template = _gate_template(gate.name, basis)
        ops = []
        for name, local, param in template:
            q = tuple(gate.qubits[i] for i in local)
            inst = _instruction(target, name, tuple(layout[i] for i in q))
            duration, error = (inst.duration or 0.0), (inst.error or 0.0)
            relaxation = tuple(relax(i, duration) for i in q) if duration > 0 else ()
            fids = [process_fidelity(r.kraus()) for r in relaxation] or [1.0]
            depol = depolarizing_from_gate_error(min(scale * error, 1.0), fids, len(q)) if error > 0 else 0.0
            ops.append(DeviceOp(name, q, param, duration, error, depol, relaxation))
        one = {q: 1.0 for q in gate.qubits}
        two = 1.0
        for op in ops:
            if len(op.qubits) == 1:
                one[op.qubits[0]] *= 1 - op.depolarizing
            else:
                two *= 1 - op.depolarizing
        busy = {q: sum(op.duration for op in ops if q in op.qubits) for q in gate.qubits}
        gate_noise.append(GateNoise(
            gate, tuple(ops), tuple((q, 1 - f) for q, f in one.items()),
            1 - two if len(gate.qubits) == 2 else 0.0, tuple(relax(q, busy[q]) for q in gate.qubits)))

    idle = max(c.measure for c in qubits) + max(c.reset for c in qubits)
    readout = readout_qubits(n)
    return DeviceNoise(
        backend=backend, n_qubits=n, layout=layout, scale=scale,
        measure_name=measure_name, reset_name=reset_name, qubits=tuple(qubits), gates=tuple(gate_noise),
        idle=tuple(relax(q, idle) for q in memory_qubits(n)),
        readout=tuple((min(scale * qubits[q].p10, 0.5), min(scale * qubits[q].p01, 0.5)) for q in readout),
        reset_error=tuple(min(scale * qubits[q].reset_error, 0.5) for q in readout))


# --------------------------------------------------------------------------------------------------
# The independent reference: the device circuit under Aer's density-matrix method
# --------------------------------------------------------------------------------------------------
def _bind(param, a, value):
    """A template angle with its parameter ``a`` set to ``value`` (a float or a circuit Parameter)."""
    if param is None or not hasattr(param, "parameters"):
        return param
    if param.parameters:
        bound = param.assign(a, value)
        return float(bound) if not bound.parameters else bound
    return float(param)


def op_angle(noise: DeviceNoise, gate_name: str, param) -> tuple[float, float]:
    """A device op's angle as ``(coef, const)``: ``coef * θ + const`` in its logical gate's angle ``θ``
    (``coef = 0`` for a constant angle; ``param`` a :class:`DeviceOp`'s). The device translates each
    rotation into fixed gates and ``rz`` angles affine in ``θ``; anything else is refused."""
    a = _gate_template(gate_name, tuple(_basis_of(noise)))[0]
    const = _bind(param, a, 0.0)
    coef = _bind(param, a, 1.0) - const
    if not isinstance(const, float) or abs(_bind(param, a, 2.0) - (2 * coef + const)) > 1e-12:
        raise ValueError(f"angle {param} of {gate_name} is not affine in the gate's angle")
    return coef, const


def device_circuit(noise: DeviceNoise, n_steps: int, angles=None, *, readout: str = "probabilities"):
    """The ``n_steps``-step circuit in the device's gates, on ``n`` logical qubits.

    ``angles``: ``(T, n_angles)`` floats to bind, or None for parameters ``θ{t}[i]`` (step ``t``,
    angle ``i``, as :func:`qrnn_core.circuit.build_sequence_circuit`). ``readout="probabilities"``:
    a ``save_probabilities`` ``p{t}`` of the readout qubits before each reset, and (with the ``idle``
    source on) an explicit ``Delay`` of the measure+reset duration on every memory qubit;
    ``readout="measure"``: a measurement into register ``c{t}`` (the device's own idling then applies).
    """
    from qiskit.circuit import ClassicalRegister, ParameterVector, QuantumCircuit, QuantumRegister

    if readout not in ("probabilities", "measure"):
        raise ValueError(f"readout must be 'probabilities' or 'measure', got {readout!r}")
    n = noise.n_qubits
    k = n_angles(n)
    if angles is not None:
        angles = np.asarray(angles, dtype=np.float64)
        if angles.shape != (n_steps, k):
            raise ValueError(f"angles must have shape ({n_steps}, {k}), got {angles.shape}")
    qc = QuantumCircuit(QuantumRegister(n, "q"), name=f"qrnn_{n_steps}_steps_{noise.backend}")
    memory, readout_q = memory_qubits(n), readout_qubits(n)
    templates = {g.gate.name: _gate_template(g.gate.name, tuple(_basis_of(noise)))[0] for g in noise.gates}
    for t in range(n_steps):
        theta = angles[t] if angles is not None else ParameterVector(f"θ{t}", k)
        for g in noise.gates:
            a = templates[g.gate.name]
            for op in g.ops:
                param = _bind(op.param, a, theta[g.gate.angle])
                qc.append(_operation(op.name, param), list(op.qubits))
        if readout == "probabilities":
            from qiskit_aer.library import SaveProbabilities

            qc.append(SaveProbabilities(len(readout_q), label=f"p{t}"), readout_q)
            if "idle" in noise.sources:
                for q in memory:
                    qc.delay(noise.idle_duration, q, unit="s")
        else:
            creg = ClassicalRegister(len(readout_q), f"c{t}")
            qc.add_register(creg)
            qc.measure(readout_q, list(creg))
        qc.reset(readout_q)
    return qc


def _basis_of(noise: DeviceNoise) -> list[str]:
    return _basis(fake_backend(noise.backend).target)


def _operation(name: str, param):
    from qiskit.circuit.library import get_standard_gate_name_mapping

    gate = get_standard_gate_name_mapping()[name]
    if param is None:
        return gate
    return type(gate)(param)


def aer_noise_model(noise: DeviceNoise):
    """Aer's ``NoiseModel`` of ``noise``, built from its numbers with Aer's own channels.

    After each device gate ``depolarizing_error(p).compose(thermal_relaxation_error ...)`` (Aer's
    order: depolarize, then relax); after each readout reset an ``X`` with the reset error. Readout
    error is not in it: the reference applies it to the saved distributions.

    Each error goes to Aer as ONE Kraus channel (the same channel): Aer keeps a mixture error's
    terms only where their probability exceeds 1e-10 (``QuantumError::set_circuits``, without
    renormalising), and the composed mixtures here have terms of 1e-14 to 1e-10 (a two-qubit
    depolarizing term times a relaxation term): as mixtures they moved the per-step distributions
    by up to 1e-9, as Kraus channels they are exact.
    """
    from qiskit.quantum_info import Kraus
    from qiskit_aer.noise import NoiseModel, QuantumError, depolarizing_error, pauli_error, thermal_relaxation_error

    model = NoiseModel(basis_gates=sorted({op.name for g in noise.gates for op in g.ops}))
    seen = set()
    for g in noise.gates:
        for op in g.ops:
            if (op.name, op.qubits) in seen:
                continue
            seen.add((op.name, op.qubits))
            error = None
            if op.depolarizing > 0:
                error = depolarizing_error(op.depolarizing, len(op.qubits))
            relax = None
            for r in op.relaxation:
                if r.duration > 0 and math.isfinite(r.t1):
                    e = thermal_relaxation_error(r.t1, r.t2, r.duration)
                    relax = e if relax is None else relax.expand(e)
            if relax is not None and len(op.relaxation) == len(op.qubits):
                error = relax if error is None else error.compose(relax)
            if error is not None:
                model.add_quantum_error(QuantumError(Kraus(error)), op.name, list(op.qubits))
    for q, e in zip(readout_qubits(noise.n_qubits), noise.reset_error):
        if e > 0:
            model.add_quantum_error(QuantumError(Kraus(pauli_error([("X", e), ("I", 1 - e)]))), "reset", [q])
    return model


def reference_probabilities(noise: DeviceNoise, angles) -> np.ndarray:
    """Per-step readout distributions ``(T, 2**(n//2))`` float64 of the device circuit under ``noise``.

    Aer's density-matrix method on :func:`device_circuit` (``angles``: ``(T, n_angles)``), the
    memory's idling as ``Delay`` instructions that Aer's ``RelaxationNoisePass`` turns into thermal
    relaxation, then each readout bit's assignment error applied to the exact distributions.
    Outcome ``s = sum_k b_k 2**k`` for readout qubit ``k``.
    """
    from qiskit.circuit import Delay
    from qiskit.transpiler import PassManager
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise.passes import RelaxationNoisePass

    angles = np.asarray(angles, dtype=np.float64)
    T = angles.shape[0]
    qc = device_circuit(noise, T, angles)
    if "idle" in noise.sources and noise.scale > 0:
        t1s = [noise.qubits[q].t1 / noise.scale for q in range(noise.n_qubits)]
        t2s = [noise.qubits[q].t2 / noise.scale for q in range(noise.n_qubits)]
        qc = PassManager([RelaxationNoisePass(t1s, t2s, op_types=[Delay])]).run(qc)
    result = AerSimulator(method="density_matrix", noise_model=aer_noise_model(noise)).run(qc, shots=1).result()
    if not result.success:
        raise RuntimeError(f"Aer run failed: {result.status}")
    data = result.data(0)
    out = np.array([data[f"p{t}"] for t in range(T)], dtype=np.float64)
    if "readout" in noise.sources:
        out = apply_readout_error(out, noise.readout_matrices())
    return out


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total-variation distance ``0.5 sum |p - q|`` over the last axis."""
    return 0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(axis=-1)


def noise_source_table(backend: str = DEFAULT_BACKEND, n_qubits: int = 8, n_steps: int = 20, *,
                       generator: np.random.Generator, layout=None, scale: float = 1.0,
                       shots: int = 1024, probabilities=None) -> list[dict]:
    """How far each noise source moves the per-step distributions: rows ``{"noise", "mean_tvd"}``.

    Random angles uniform in ``[-pi, pi)`` from ``generator``; the mean over steps of the TVD of the
    per-step distributions with each source alone, the sources added one by one, and all together,
    from the noiseless distributions; last, the TVD of a ``shots``-shot estimate of the noiseless
    ones (shot noise, for scale). ``probabilities(noise, angles) -> (T, R)`` computes them: Aer's
    reference (:func:`reference_probabilities`) by default, or the study's engine
    (:func:`qrnn_core.noisy_kernel.engine_probabilities`).
    """
    probabilities = probabilities or reference_probabilities
    noise = device_noise(backend, n_qubits, layout=layout, scale=scale)
    angles = generator.uniform(-np.pi, np.pi, (n_steps, n_angles(n_qubits)))
    exact = probabilities(noise.only(), angles)
    rows = []
    for source in NOISE_SOURCES:
        rows.append({"noise": f"{source} alone",
                     "mean_tvd": float(total_variation(probabilities(noise.only(source), angles), exact).mean())})
    for i in range(2, len(NOISE_SOURCES) + 1):
        sources = NOISE_SOURCES[:i]
        label = "all" if i == len(NOISE_SOURCES) else " + ".join(sources)
        rows.append({"noise": label,
                     "mean_tvd": float(total_variation(probabilities(noise.only(*sources), angles), exact).mean())})
    counts = np.array([generator.multinomial(shots, p / p.sum()) for p in exact])
    rows.append({"noise": f"{shots} shots, noiseless", "mean_tvd": float(total_variation(counts / shots, exact).mean())})
    return rows
