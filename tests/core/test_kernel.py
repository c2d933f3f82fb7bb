"""The compiled kernel against Qiskit Aer and the PyTorch reference; its adjoint gradient; bad input."""

import numpy as np
import pytest
import torch

from qrnn_core.aer_backend import AerBackend
from qrnn_core.kernel import KernelSimulator
from qrnn_core.quantum_layer import QuantumLayer
from qrnn_core.simulator import TorchSimulator

from ..conftest import random_angles


@pytest.mark.parametrize("n", [2, 4, 6, 8])
def test_probabilities_equal_aer_exact(n):
    sim = KernelSimulator(n)
    angles = random_angles(2, 4, sim.n_angles, seed=n)
    ours = sim(angles)
    assert ours.shape == (2, 4, 2 ** (n // 2)) and ours.dtype == torch.float64
    torch.testing.assert_close(ours, AerBackend(n)(angles), atol=1e-10, rtol=0)


@pytest.mark.parametrize("n", [10, 12])
def test_probabilities_equal_the_pytorch_reference_at_larger_sizes(n):
    sim = KernelSimulator(n)
    angles = random_angles(1, 2, sim.n_angles, seed=n)
    torch.testing.assert_close(sim(angles), TorchSimulator(n)(angles), atol=1e-12, rtol=0)


def test_any_batch_shape_and_one_circuit_alone_agree():
    sim = KernelSimulator(4)
    angles = random_angles(2, 3, 5, sim.n_angles, seed=1)
    together = sim(angles)
    assert together.shape == (2, 3, 5, 4)
    torch.testing.assert_close(together[1, 2], sim(angles[1, 2]), atol=1e-14, rtol=0)


def test_complex64_agrees_with_complex128_to_its_precision():
    T = 20
    angles = random_angles(3, T, 55, seed=9)
    p64 = KernelSimulator(8, dtype=torch.complex64)(angles)
    p128 = KernelSimulator(8)(angles)
    assert p64.dtype == torch.float32
    # rounding of float32 (eps 1.2e-7) growing at most linearly over the T steps, a few ulps a step
    atol = 8 * T * torch.finfo(torch.float32).eps
    torch.testing.assert_close(p64.double(), p128, atol=atol, rtol=0)


def test_shots_are_the_same_draws_as_the_pytorch_simulator():
    angles = random_angles(3, 5, 27, seed=2)
    ours = KernelSimulator(4)(angles, shots=1024, generator=torch.Generator().manual_seed(7))
    ref = TorchSimulator(4)(angles, shots=1024, generator=torch.Generator().manual_seed(7))
    assert torch.equal(ours, ref)


def test_the_adjoint_gradient_passes_gradcheck():
    sim = KernelSimulator(4)
    angles = random_angles(2, 3, sim.n_angles, seed=3).requires_grad_()
    assert torch.autograd.gradcheck(sim, (angles,), eps=1e-6, atol=1e-8)


@pytest.mark.parametrize("n", [2, 6, 8])
def test_the_adjoint_gradient_equals_autograd_through_the_pytorch_reference(n):
    kernel, ref = KernelSimulator(n), TorchSimulator(n)
    angles = random_angles(2, 5, kernel.n_angles, seed=4)
    g = torch.randn(2, 5, kernel.n_outcomes, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    a = angles.clone().requires_grad_()
    (ref(a) * g).sum().backward()
    torch.testing.assert_close(kernel.vjp(angles, g), a.grad, atol=1e-10, rtol=0)
    b = angles.clone().requires_grad_()  # the same through probabilities and autograd
    (kernel(b) * g).sum().backward()
    torch.testing.assert_close(b.grad, a.grad, atol=1e-10, rtol=0)


def test_the_exact_estimator_on_the_kernel_equals_the_parameter_shift_rule():
    def layer_grads(estimator):
        layer = QuantumLayer(KernelSimulator(4), estimator, init_generator=torch.Generator().manual_seed(0))
        x = torch.rand(2, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        g = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        (layer(x) * g).sum().backward()
        return torch.cat([layer.weight.grad, layer.bias.grad])

    torch.testing.assert_close(layer_grads("exact"), layer_grads("parameter_shift"), atol=1e-10, rtol=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_qubits": 3}, "n_qubits must be an even integer from 2 to 12 for the kernel, got 3"),
     ({"n_qubits": 14}, "from 2 to 12 for the kernel, got 14"),
     ({"n_qubits": 0}, "got 0"),
     ({"n_qubits": "8"}, "got '8'"),
     ({"n_qubits": True}, "got True"),
     ({"dtype": torch.float32}, "dtype must be torch.complex128 or torch.complex64, got torch.float32")],
)
def test_bad_construction_is_refused_in_one_line(kwargs, match):
    with pytest.raises(ValueError, match=match) as err:
        KernelSimulator(**kwargs)
    assert "\n" not in str(err.value)


def test_a_batch_too_large_for_memory_is_refused_before_any_compute(monkeypatch):
    import qrnn_core.kernel as kernel

    monkeypatch.setattr(kernel, "_available_memory", lambda: 2**20)
    monkeypatch.setattr(kernel, "_ALWAYS_FITS", 0)  # a small machine: every batch is checked
    sim = KernelSimulator(4)
    with pytest.raises(ValueError, match=r"a batch of 1000 circuits of 20 steps needs about .* \(allowed: at most \d+ "
                                         r"circuits") as err:
        sim(torch.zeros(1000, 20, sim.n_angles))
    assert "\n" not in str(err.value)


def test_bad_angles_and_shots_are_refused():
    sim = KernelSimulator(4)
    with pytest.raises(ValueError, match=r"angles must have shape \(\.\.\., T, 27\)"):
        sim(torch.zeros(3, 26))
    with pytest.raises(ValueError, match="generator"):
        sim(torch.zeros(3, 27), shots=10)
    with pytest.raises(ValueError, match="grad_probs must have shape"):
        sim.vjp(torch.zeros(3, 27), torch.zeros(3, 5))


@pytest.mark.parametrize("n", [2, 4, 6, 8, 10, 12])
def test_the_compiled_preparation_equals_the_torch_preparation(n):
    sim = KernelSimulator(n)
    angles = random_angles(3, 4, sim.n_angles, seed=20 + n) * 10  # a few turns: every branch of the angles
    torch.testing.assert_close(sim._prepare_fast(angles), sim._prepare(angles), atol=1e-12, rtol=0)


def test_tiles_and_one_circuit_at_a_time_agree_forward_and_adjoint():
    sim = KernelSimulator(6)
    angles = random_angles(20, 4, sim.n_angles, seed=11)  # 20 circuits: tiles of 10 (or 20)
    g = torch.randn(20, 4, sim.n_outcomes, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    alone = torch.cat([sim(angles[i:i + 1]) for i in range(20)])
    torch.testing.assert_close(sim(angles), alone, atol=1e-14, rtol=0)
    alone = torch.cat([sim.vjp(angles[i:i + 1], g[i:i + 1]) for i in range(20)])
    torch.testing.assert_close(sim.vjp(angles, g), alone, atol=1e-12, rtol=0)


def test_the_float32_tiles_agree_with_complex128_to_complex64_precision():
    # Batches of multi-circuit tiles run complex64 in float32 (KernelSimulator._tile_dtype); batches
    # of a few circuits (the test above) in float64.
    T = 20
    sim64 = KernelSimulator(8, dtype=torch.complex64)
    angles = random_angles(24, T, sim64.n_angles, seed=13)
    assert sim64._tile_dtype(24) == np.float32 and sim64._tile_dtype(3) == np.float64
    p64 = sim64(angles)
    assert p64.dtype == torch.float32 and p64.shape == (24, T, 16)
    torch.testing.assert_close(p64.double(), KernelSimulator(8)(angles), atol=8 * T * torch.finfo(torch.float32).eps,
                               rtol=0)


@pytest.mark.parametrize("n", [4, 8])
def test_the_upper_triangle_tiles_equal_one_circuit_at_a_time(n):
    # The tiles' forward computes only the upper triangle of each Hermitian state (then mirrors it);
    # the one-circuit path computes whole matrices.
    sim = KernelSimulator(n)
    angles = random_angles(12, 5, sim.n_angles, seed=30 + n)
    alone = torch.cat([sim(angles[i:i + 1]) for i in range(12)])
    torch.testing.assert_close(sim(angles), alone, atol=1e-12, rtol=0)
