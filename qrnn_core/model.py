"""The QRNN model: ``Linear(1, n_angles) -> quantum layer -> Linear(2**(n/2), 2)``."""

from __future__ import annotations

import math

import torch
from torch import nn

from .quantum_layer import QuantumLayer


class QRNN(nn.Module):
    """The seed's model. ``x (B, T)`` -> predictions ``(B, T, 2)`` of ``(y, z)`` one step ahead.

    The quantum layer holds the input layer's ``w``, ``b`` (trained by its estimator); the output
    layer ``Linear(R, 2)`` gets exact autograd gradients. Initialisation as in the seed: output
    weights ~ U(-sqrt(6/16)*2, +sqrt(6/16)*2), i.e. U(-1.22, 1.22) for 16 outcomes, biases 0.5.
    """

    def __init__(self, quantum: QuantumLayer, init_generator: torch.Generator | None = None):
        super().__init__()
        self.quantum = quantum
        R = quantum.backend.n_outcomes
        self.readout = nn.Linear(R, 2, dtype=torch.float64)
        bound = math.sqrt(6 / R) * 2
        with torch.no_grad():
            self.readout.weight.uniform_(-bound, bound, generator=init_generator)
            self.readout.bias.fill_(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.quantum(x))
