"""The noisy engine: against Aer's density-matrix reference, the noiseless kernel at s = 0, its
differentiable formulation and finite differences; the backend interface; bad input."""

import math

import numpy as np
import pytest
import torch

from qrnn_core import device as d
from qrnn_core.kernel import KernelSimulator
from qrnn_core.noisy_kernel import NoisyKernelSimulator, engine_probabilities
from qrnn_core.noisy_torch import probabilities as torch_probabilities
from qrnn_core.quantum_layer import QuantumLayer

from ..conftest import random_angles


@pytest.fixture(scope="module")
def engines():
    """The engine for FakeMarrakesh at n = 4 and 8, scales 0, 0.5, 1 (built once)."""
    return {(n, s): NoisyKernelSimulator(d.device_noise("FakeMarrakesh", n, scale=s)) for n in (4, 8) for s in (0.0, 0.5, 1.0)}


@pytest.mark.parametrize("n,scale", [(4, 1.0), (4, 0.5), (8, 1.0), (8, 0.5)])
def test_equals_aers_density_matrix_reference(engines, n, scale):
    sim = engines[(n, scale)]
    angles = random_angles(4, sim.n_angles, seed=10 + n)
    ours = sim(angles)
    assert ours.shape == (4, 2 ** (n // 2)) and ours.dtype == torch.float64
    ref = d.reference_probabilities(sim.noise, angles.numpy())
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-10, rtol=0)
    assert np.abs(ref - KernelSimulator(n)(angles).numpy()).max() > 1e-3  # the noise is there


@pytest.mark.parametrize("source", d.NOISE_SOURCES)
def test_each_noise_source_alone_equals_aer(engines, source):
    noise = engines[(4, 1.0)].noise.only(source)
    angles = random_angles(3, noise.n_qubits * 7 - 1, seed=20).numpy()
    np.testing.assert_allclose(engine_probabilities(noise, angles), d.reference_probabilities(noise, angles),
                               atol=1e-12, rtol=0)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_scale_zero_is_the_noiseless_kernel(n):
    angles = random_angles(2, 6, 7 * n - 1, seed=n)
    for dtype, atol in ((torch.complex128, 1e-13), (torch.complex64, 1e-6)):
        sim = NoisyKernelSimulator.on("FakeMarrakesh", n, scale=0, dtype=dtype)
        ours = sim(angles)
        assert ours.dtype == (torch.float64 if dtype == torch.complex128 else torch.float32)
        torch.testing.assert_close(ours.double(), KernelSimulator(n)(angles), atol=atol, rtol=0)


def test_another_device_and_layout():
    """FakeBoston (Heron r3: mid-circuit measure_2/reset_2) on a line that does not start at 0."""
    backend = d.fake_backend("FakeBoston")
    layout = d.find_line(sorted(tuple(e) for e in backend.coupling_map.get_edges() if min(e) >= 20), 4)
    sim = NoisyKernelSimulator.on("FakeBoston", 4, layout=layout, scale=2.0)
    assert sim.noise.layout == layout and sim.noise.measure_name == "measure_2"
    angles = random_angles(3, sim.n_angles, seed=3)
    np.testing.assert_allclose(sim(angles).numpy(), d.reference_probabilities(sim.noise, angles.numpy()),
                               atol=1e-10, rtol=0)


def test_the_torch_formulation_equals_the_compiled_forward_and_adjoint(engines):
    for n, batch, steps in ((4, 3, 5), (8, 1, 3)):  # n = 8 small: its torch formulation is the slow one
        sim = engines[(n, 1.0)]
        angles = random_angles(batch, steps, sim.n_angles, seed=n)
        g = torch.randn(batch, steps, sim.n_outcomes, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
        a = angles.clone().requires_grad_()
        probs = torch_probabilities(sim.step, a)
        (probs * g).sum().backward()
        torch.testing.assert_close(probs.detach(), sim(angles), atol=1e-14, rtol=0)
        torch.testing.assert_close(sim.vjp(angles, g), a.grad, atol=1e-13, rtol=0)
        b = angles.clone().requires_grad_()  # the same through probabilities and autograd
        (sim(b) * g).sum().backward()
        torch.testing.assert_close(b.grad, a.grad, atol=1e-13, rtol=0)


def test_the_gradient_equals_central_differences(engines):
    sim = engines[(4, 1.0)]
    angles = random_angles(2, 3, sim.n_angles, seed=5)
    g = torch.randn(2, 3, sim.n_outcomes, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    grad = sim.vjp(angles, g)
    direction = torch.randn(angles.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)

    def central(eps):
        return float(((sim(angles + eps * direction) - sim(angles - eps * direction)) * g).sum()) / (2 * eps)

    fd = (4 * central(5e-4) - central(1e-3)) / 3  # Richardson: the difference's error is O(eps**4)
    assert abs(float((grad * direction).sum()) - fd) < 1e-10
    a = angles[:1, :2].clone().requires_grad_()
    assert torch.autograd.gradcheck(sim, (a,), eps=1e-6, atol=1e-8)


def test_backend_interface_shapes_batches_and_shots(engines):
    sim = engines[(4, 1.0)]
    angles = random_angles(2, 3, 5, sim.n_angles, seed=1)
    together = sim(angles)
    assert together.shape == (2, 3, 5, 4)
    torch.testing.assert_close(together[1, 2], sim(angles[1, 2]), atol=1e-15, rtol=0)
    torch.testing.assert_close(together.sum(-1), torch.ones(2, 3, 5, dtype=torch.float64), atol=1e-13, rtol=0)
    shots = sim(angles, shots=1024, generator=torch.Generator().manual_seed(3))
    from qrnn_core.simulator import sample_frequencies

    assert torch.equal(shots, sample_frequencies(together, 1024, torch.Generator().manual_seed(3)))
    with pytest.raises(ValueError, match="generator"):
        sim(angles, shots=10)


def test_trains_through_the_quantum_layer(engines):
    """The exact estimator differentiates the noisy model; SPSA draws shots from it."""
    sim = engines[(4, 0.5)]
    x = torch.rand(2, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    g = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    exact = QuantumLayer(sim, "exact", init_generator=torch.Generator().manual_seed(0))
    (exact(x) * g).sum().backward()
    assert exact.weight.grad.abs().sum() > 0
    spsa = QuantumLayer(sim, "spsa", shots=1024, generator=torch.Generator().manual_seed(4),
                        shot_generator=torch.Generator().manual_seed(5), init_generator=torch.Generator().manual_seed(0))
    (spsa(x) * g).sum().backward()
    assert torch.isfinite(spsa.weight.grad).all()


def test_noise_source_table_on_the_engine_agrees_with_aer():
    kwargs = dict(n_qubits=4, n_steps=4, shots=1024)
    ours = d.noise_source_table(generator=np.random.default_rng(0), probabilities=engine_probabilities, **kwargs)
    aers = d.noise_source_table(generator=np.random.default_rng(0), **kwargs)
    assert [r["noise"] for r in ours] == [r["noise"] for r in aers]
    for a, b in zip(ours, aers):
        assert a["mean_tvd"] == pytest.approx(b["mean_tvd"], abs=1e-12), a["noise"]


def test_bad_input_is_refused_before_compute():
    with pytest.raises(ValueError, match="unknown backend 'FakeNowhere': choose one of .*FakeMarrakesh"):
        NoisyKernelSimulator.on("FakeNowhere")
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match=f"noise scale must be a finite number >= 0, got {bad}"):
            NoisyKernelSimulator.on(scale=bad)
    with pytest.raises(ValueError, match=r"layout \(0, 1, 2, 40\) does not fit fake_marrakesh"):
        NoisyKernelSimulator.on(n_qubits=4, layout=(0, 1, 2, 40))
    with pytest.raises(ValueError, match="must be a DeviceNoise"):
        NoisyKernelSimulator("FakeMarrakesh")
    with pytest.raises(ValueError, match="dtype"):
        NoisyKernelSimulator(d.device_noise(n_qubits=2), dtype=torch.float64)
    with pytest.raises(ValueError, match="angles must have shape"):
        NoisyKernelSimulator(d.device_noise(n_qubits=2))(torch.zeros(3, 5))
