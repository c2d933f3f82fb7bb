"""The PyTorch simulator against Qiskit Aer's exact density-matrix probabilities."""

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from qrnn_core.aer_backend import AerBackend
from qrnn_core.simulator import TorchSimulator

from ..conftest import cuda, random_angles


@pytest.mark.parametrize(
    "n, shape, seed",
    [(8, (20,), 0), (8, (3, 20), 1), (8, (2, 2, 5), 2), (6, (4, 7), 3), (4, (5, 11), 4), (2, (3, 4), 5)],
)
def test_probabilities_equal_aer_exact(n, shape, seed):
    sim = TorchSimulator(n)
    angles = random_angles(*shape, sim.n_angles, seed=seed)
    ours = sim(angles)
    aer = AerBackend(n)(angles)
    assert ours.shape == shape + (2 ** (n // 2),) and ours.dtype == torch.float64
    torch.testing.assert_close(ours, aer, atol=1e-10, rtol=0)


@pytest.mark.parametrize("n", [4, 8])
def test_rows_sum_to_one_and_are_probabilities(n):
    sim = TorchSimulator(n)
    p = sim(random_angles(16, 20, sim.n_angles, seed=7, scale=10.0))
    torch.testing.assert_close(p.sum(-1), torch.ones(16, 20, dtype=torch.float64), atol=1e-12, rtol=0)
    assert p.min() > -1e-14


def test_batch_entries_are_independent_of_their_neighbours():
    sim = TorchSimulator(8)
    angles = random_angles(6, 9, sim.n_angles, seed=8)
    together = sim(angles)
    alone = torch.stack([sim(a) for a in angles])
    torch.testing.assert_close(together, alone, atol=1e-13, rtol=0)


def test_zero_angles_never_flip_the_readout():
    sim = TorchSimulator(8)
    p = sim(torch.zeros(4, sim.n_angles))
    assert torch.equal(p[..., 0], torch.ones(4, dtype=torch.float64))


def test_complex64_agrees_with_complex128():
    angles = random_angles(3, 20, 55, seed=9)
    p64 = TorchSimulator(8, dtype=torch.complex64)(angles)
    p128 = TorchSimulator(8)(angles)
    assert p64.dtype == torch.float32
    torch.testing.assert_close(p64.double(), p128, atol=2e-5, rtol=0)


def test_autograd_reaches_the_angles():
    sim = TorchSimulator(4)
    angles = random_angles(2, 3, sim.n_angles, seed=10).requires_grad_()
    (sim(angles) * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    assert angles.grad is not None and angles.grad.abs().sum() > 0


def _chi2_homogeneity(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """Two-sample chi-square statistic over the categories seen, and its degrees of freedom."""
    seen = (a + b) > 0
    a, b = a[seen], b[seen]
    na, nb = a.sum(), b.sum()
    expected_a, expected_b = (a + b) * na / (na + nb), (a + b) * nb / (na + nb)
    stat = ((a - expected_a) ** 2 / expected_a).sum() + ((b - expected_b) ** 2 / expected_b).sum()
    return float(stat), int(seen.sum() - 1)


def test_shot_counts_agree_with_aer_shots():
    """Per step, our counts and Aer's mid-circuit-measured counts come from one distribution.

    Bound: the chi-square homogeneity statistic stays below chi2.ppf(1 - 1e-6, dof) at every step.
    The seeds are fixed, so this is deterministic, never flaky; with the bound at 1e-6 a wrong
    simulator (e.g. swapped readout bits) fails by orders of magnitude.
    """
    shots, T = 4096, 4
    angles = random_angles(T, 55, seed=11)
    ours = TorchSimulator(8)(angles, shots=shots, generator=torch.Generator().manual_seed(1))
    aer = AerBackend(8)(angles, shots=shots, generator=torch.Generator().manual_seed(2))
    for t in range(T):
        stat, dof = _chi2_homogeneity((ours[t] * shots).numpy(), (aer[t] * shots).numpy())
        assert stat < chi2.ppf(1 - 1e-6, dof), (t, stat, dof)
    # both are frequencies of whole counts
    assert torch.equal(ours * shots, (ours * shots).round())


def test_shots_are_reproducible_from_the_generator():
    sim = TorchSimulator(8)
    angles = random_angles(2, 5, 55, seed=12)
    a = sim(angles, shots=1024, generator=torch.Generator().manual_seed(3))
    b = sim(angles, shots=1024, generator=torch.Generator().manual_seed(3))
    c = sim(angles, shots=1024, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, 5, dtype=torch.float64))


@pytest.mark.parametrize(
    "angles, match",
    [
        (torch.zeros(5, 54), r"shape \(\.\.\., T, 55\)"),
        (torch.zeros(55), r"shape \(\.\.\., T, 55\)"),
        (torch.zeros(0, 55), "at least one step"),
        (torch.full((2, 55), float("nan")), "NaN"),
        (torch.zeros(2, 55, dtype=torch.complex128), "real"),
    ],
)
@pytest.mark.parametrize("backend", [TorchSimulator, AerBackend])
def test_bad_angles_raise(backend, angles, match):
    with pytest.raises(ValueError, match=match):
        backend(8)(angles)


@pytest.mark.parametrize("shots", [0, -5, 2.5, True])
@pytest.mark.parametrize("backend", [TorchSimulator, AerBackend])
def test_bad_shots_raise(backend, shots):
    with pytest.raises(ValueError, match="shots"):
        backend(8)(torch.zeros(2, 55), shots=shots, generator=torch.Generator())


def test_shots_need_a_generator():
    with pytest.raises(ValueError, match="generator"):
        TorchSimulator(8)(torch.zeros(2, 55), shots=10)


def test_bad_construction_raises():
    with pytest.raises(ValueError, match="n_qubits"):
        TorchSimulator(7)
    with pytest.raises(ValueError, match="n_qubits"):
        AerBackend(5)
    with pytest.raises(ValueError, match="unknown device"):
        TorchSimulator(8, device="tpu")
    with pytest.raises(ValueError, match="unknown Aer device"):
        AerBackend(8, device="QPU")
    with pytest.raises(ValueError, match="dtype"):
        TorchSimulator(8, dtype=torch.float64)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message where CUDA is absent")
def test_cuda_requested_without_cuda_raises():
    with pytest.raises(ValueError, match="CUDA is not available"):
        TorchSimulator(8, device="cuda")


def test_aer_gpu_requested_without_gpu_raises():
    from qrnn_core.aer_backend import aer_devices

    if "GPU" in aer_devices():
        pytest.skip("this Aer has a GPU")
    with pytest.raises(ValueError, match="GPU"):
        AerBackend(8, device="GPU")


@cuda
@pytest.mark.parametrize("dtype, tol", [(torch.complex128, 1e-12), (torch.complex64, 2e-5)])
def test_cuda_equals_cpu(dtype, tol):
    angles = random_angles(3, 20, 55, seed=13)
    on_gpu = TorchSimulator(8, dtype=dtype, device="cuda")(angles.cuda())
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu().double(), TorchSimulator(8)(angles), atol=tol, rtol=0)


@cuda
def test_cuda_shots_use_a_cuda_generator():
    sim = TorchSimulator(8, device="cuda")
    p = sim(torch.zeros(2, 55, device="cuda"), shots=100, generator=torch.Generator("cuda").manual_seed(0))
    assert p.device.type == "cuda"
    with pytest.raises(ValueError, match="generator"):
        sim(torch.zeros(2, 55, device="cuda"), shots=100, generator=torch.Generator().manual_seed(0))
