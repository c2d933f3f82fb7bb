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


#: Test files that take minutes (the whole tiny study and its book): collected first, so that with
#: ``-n 2 --dist loadfile`` one worker starts them at once while the other takes everything else, instead
#: of one worker starting them last and the suite waiting on it alone.
LONG_FIRST = ("tests/study/test_study_book.py",)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not any(item.nodeid.startswith(path.removeprefix("tests/")) or
                                        item.nodeid.startswith(path) for path in LONG_FIRST))
