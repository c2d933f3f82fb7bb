"""complex64 is enough for training: shown on the seed's 8-qubit circuit, not assumed.

With 1,024 shots a probability's statistical error is about 1e-2 and FDSA's differences are about
1e-2 in size, so single precision's ~1e-7 relative error is far below both.
"""

import torch

from qrnn_core.quantum_layer import QuantumLayer
from qrnn_core.simulator import TorchSimulator

from ..conftest import random_angles


def test_complex64_probabilities_match_complex128_on_the_seed_circuit():
    angles = random_angles(8, 20, 55, seed=3, scale=3.2)
    p128 = TorchSimulator(8, dtype=torch.complex128).probabilities(angles)
    p64 = TorchSimulator(8, dtype=torch.complex64).probabilities(angles)
    assert p64.dtype == torch.float32
    assert (p64.double() - p128).abs().max() < 1e-5


def _estimate(estimator: str, dtype, **settings):
    from qrnn_core.estimators import make_estimator

    layer = QuantumLayer(TorchSimulator(8, dtype=dtype), make_estimator(estimator, **settings),
                         generator=torch.Generator().manual_seed(1), init_generator=torch.Generator().manual_seed(2))
    g = torch.Generator().manual_seed(3)
    x = torch.rand(1, 20, generator=g, dtype=torch.float64)
    grad_out = torch.randn(1, 20, 16, generator=g, dtype=torch.float64)
    (layer(x) * grad_out).sum().backward()
    return torch.cat([layer.weight.grad, layer.bias.grad])


def test_fdsa_and_spsa_estimates_match_in_complex64():
    for estimator, settings in (("fdsa", {"h": 0.1}), ("spsa", {"c": 0.1, "num_directions": 2})):
        g128 = _estimate(estimator, torch.complex128, **settings)
        g64 = _estimate(estimator, torch.complex64, **settings)
        assert ((g64 - g128).norm() / g128.norm()) < 1e-4, estimator
