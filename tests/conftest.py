import pytest
import torch

_no_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def cuda(test):
    """A test that needs a CUDA device: marked ``cuda`` (``pytest -m cuda`` on a GPU machine), skipped elsewhere."""
    return pytest.mark.cuda(_no_cuda(test))


def random_angles(*shape, seed: int, scale: float = 3.2) -> torch.Tensor:
    """Uniform angles in (-scale, scale), float64, from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.rand(*shape, generator=g, dtype=torch.float64) - 1) * scale
