"""The quantum layer's gradients: each estimator against the exact one (TorchConnector-style)."""

import math

import pytest
import torch

from qrnn_core.aer_backend import AerBackend
from qrnn_core.estimators import FDSA, SPSA
from qrnn_core.quantum_layer import QuantumLayer, angles_from
from qrnn_core.simulator import TorchSimulator

from ..conftest import cuda

N_QUBITS, T, B = 4, 5, 2


def make_case(estimator, backend=None, seed=0, **kwargs):
    backend = backend or TorchSimulator(N_QUBITS)
    layer = QuantumLayer(
        backend,
        estimator,
        generator=torch.Generator().manual_seed(seed + 1),
        init_generator=torch.Generator().manual_seed(seed + 2),
        **kwargs,
    )
    g = torch.Generator().manual_seed(seed + 3)
    x = torch.rand(B, T, generator=g, dtype=torch.float64)
    grad_out = torch.randn(B, T, backend.n_outcomes, generator=g, dtype=torch.float64)
    return layer, x, grad_out


def gradient(layer, x, grad_out):
    layer.zero_grad()
    (layer(x) * grad_out).sum().backward()
    return torch.cat([layer.weight.grad, layer.bias.grad])


def exact_gradient(seed=0):
    return gradient(*make_case("exact", seed=seed))


def test_forward_is_the_backends_probabilities():
    layer, x, _ = make_case("spsa")
    expected = layer.backend(angles_from(x, layer.weight, layer.bias))
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), expected, rtol=0, atol=0)


def test_seed_initialisation_ranges():
    layer = QuantumLayer(TorchSimulator(8), "spsa", generator=torch.Generator(), init_generator=torch.Generator().manual_seed(0))
    assert layer.weight.shape == (55,) and layer.weight.abs().max() <= math.pi
    assert layer.bias.abs().max() <= math.pi / 2 and layer.weight.dtype == torch.float64


def test_exact_passes_gradcheck():
    layer, x, _ = make_case("exact")
    w = layer.weight.detach().clone().requires_grad_()
    b = layer.bias.detach().clone().requires_grad_()
    sim = layer.backend
    assert torch.autograd.gradcheck(lambda w, b: sim(angles_from(x, w, b)), (w, b))


def test_parameter_shift_equals_exact():
    layer, x, g = make_case("parameter_shift")
    torch.testing.assert_close(gradient(layer, x, g), exact_gradient(), rtol=0, atol=1e-8)
    # 2 circuits per rotation angle, 4 per CRX angle, per step and sequence
    assert layer.costs[-1].circuits == B * T * (2 * 24 + 4 * 3)


def test_fdsa_error_falls_as_h_squared():
    exact = exact_gradient()
    hs = [0.2, 0.1, 0.05]
    errors = []
    for h in hs:
        layer, x, g = make_case(FDSA(h=h))
        errors.append((gradient(layer, x, g) - exact).norm().item())
    slopes = [math.log(errors[i] / errors[i + 1]) / math.log(hs[i] / hs[i + 1]) for i in range(2)]
    assert all(1.8 < s < 2.2 for s in slopes), (errors, slopes)
    assert layer.costs[-1].circuits == B * 2 * 2 * 27


def test_spsa_mean_over_many_directions_approaches_exact():
    """One SPSA estimate with M directions is the mean of M single-direction estimates.

    Each component of a single Rademacher estimate has variance sum_{j != i} g_j^2 <= |g|^2, so
    the mean's error has expected norm <= |g| sqrt(P / M); we allow 3x that (plus the O(c^2) bias,
    negligible at c = 1e-3). Seeds are fixed: deterministic, never flaky.
    """
    M, P = 5000, 2 * 27
    exact = exact_gradient()
    layer, x, g = make_case(SPSA(c=1e-3, num_directions=M))
    err = (gradient(layer, x, g) - exact).norm().item()
    assert err < 3 * exact.norm().item() * math.sqrt(P / M), err
    assert layer.costs[-1].circuits == B * 2 * M


def test_spsa_is_reproducible_from_its_generator():
    a = gradient(*make_case("spsa", seed=5))
    b = gradient(*make_case("spsa", seed=5))
    layer, x, g = make_case("spsa", seed=5)
    first, second = gradient(layer, x, g), gradient(layer, x, g)
    assert torch.equal(a, b) and torch.equal(a, first)
    assert not torch.allclose(first, second)  # the generator advanced: new directions


def test_spsa_fixed_directions_stay_in_their_span():
    layer, x, g = make_case(SPSA(fixed_directions=True))
    grads = []
    for k in range(4):
        gx = torch.rand(B, T, dtype=torch.float64, generator=torch.Generator().manual_seed(10 + k))
        grads.append(gradient(layer, gx, g))
    span = layer.estimator_state["fixed_directions"]  # (2, P), drawn at the first update
    basis, _ = torch.linalg.qr(span.T)
    for grad in grads:
        residual = grad - basis @ (basis.T @ grad)
        assert residual.norm() < 1e-12 * grad.norm()
    assert torch.linalg.matrix_rank(torch.stack(grads)) == 2


def test_spsa_schedule_shrinks_c():
    layer, x, g = make_case(SPSA(c=0.1, gamma=0.101))
    for _ in range(3):
        gradient(layer, x, g)
    assert layer.updates == 3 and layer.estimator.c_at(layer.updates) < 0.1


@pytest.mark.parametrize("estimator", ["spsa", "fdsa", "parameter_shift"])
def test_estimators_run_on_aer(estimator):
    aer_layer, x, g = make_case(estimator, backend=AerBackend(N_QUBITS))
    torch_layer, _, _ = make_case(estimator)
    # Aer's exact probabilities equal ours to ~1e-15, so every estimate agrees too
    torch.testing.assert_close(gradient(aer_layer, x, g), gradient(torch_layer, x, g), rtol=0, atol=1e-9)


def test_estimators_with_shots():
    layer, x, g = make_case("spsa", shots=256, shot_generator=torch.Generator().manual_seed(0))
    grad = gradient(layer, x, g)
    assert torch.isfinite(grad).all() and layer.costs[-1].shots == B * 4 * 256


def test_exact_refuses_backends_it_cannot_differentiate():
    with pytest.raises(ValueError, match="exact estimator needs"):
        QuantumLayer(AerBackend(4), "exact")
    with pytest.raises(ValueError, match="exact estimator needs"):
        QuantumLayer(TorchSimulator(4), "exact", shots=100)


def test_spsa_needs_a_generator():
    with pytest.raises(ValueError, match="generator"):
        QuantumLayer(TorchSimulator(4), "spsa")


@cuda
@pytest.mark.parametrize("estimator", ["exact", "fdsa", "parameter_shift"])
def test_layer_on_cuda_matches_cpu(estimator):
    gpu_layer, x, g = make_case(estimator, backend=TorchSimulator(N_QUBITS, device="cuda"))
    cpu_layer, _, _ = make_case(estimator)
    torch.testing.assert_close(gradient(gpu_layer, x, g), gradient(cpu_layer, x, g), rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "x, says",
    [
        (torch.zeros(1, 0), "at least one time step"),
        (torch.zeros(0, 5), "at least one sequence"),
        (torch.zeros(1, 5, dtype=torch.complex128), "x must be a real tensor"),
        ("abc", "x must be a real tensor"),
        ([["a"]], "x must be a real tensor"),
    ],
)
def test_bad_layer_input_is_refused_naming_x(x, says):
    layer = QuantumLayer(TorchSimulator(4), "exact")
    with pytest.raises(ValueError, match=says):
        layer(x)


def test_bad_layer_construction_is_refused():
    with pytest.raises(ValueError, match="backend must be a simulator"):
        QuantumLayer(None, "fdsa")
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        QuantumLayer(TorchSimulator(4), "fdsa", shots=-5)


def test_parameter_shift_gives_the_input_gradient_and_black_boxes_refuse_it():
    layer, x, g = make_case("parameter_shift")
    x = x.clone().requires_grad_(True)
    (layer(x) * g).sum().backward()
    exact, xe, ge = make_case("exact")
    xe = xe.clone().requires_grad_(True)
    (exact(xe) * ge).sum().backward()
    torch.testing.assert_close(x.grad, xe.grad, rtol=1e-9, atol=1e-12)
    for name in ("spsa", "fdsa"):
        layer, x, g = make_case(name)
        with pytest.raises(ValueError, match=f"{name} estimates no gradient for the layer's input x"):
            layer(x.clone().requires_grad_(True))


def test_the_estimator_state_travels_with_the_state_dict():
    layer, x, g = make_case(SPSA(fixed_directions=True))
    gradient(layer, x, g)
    other, _, _ = make_case(SPSA(fixed_directions=True), seed=9)
    other.load_state_dict(layer.state_dict())
    assert torch.equal(other.estimator_state["fixed_directions"], layer.estimator_state["fixed_directions"])
    assert other.updates == layer.updates == 1
