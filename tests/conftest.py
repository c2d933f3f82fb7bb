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


#: The longest test files, longest first (the whole tiny study and its book takes minutes): collected
#: first, so that with ``-n 2 --dist loadfile --no-loadscope-reorder`` (pyproject.toml: xdist would
#: otherwise order files by their number of tests) one worker starts the book at once while the other
#: takes the next, instead of one worker starting a long file last and the suite waiting on it alone.
LONG_FIRST = ("tests/study/test_study_book.py", "tests/core/test_train.py", "tests/study/test_runner.py",
              "tests/core/test_fidelity.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        return next((k for k, path in enumerate(LONG_FIRST) if item.nodeid.startswith(path) or
                     item.nodeid.startswith(path.removeprefix("tests/"))), len(LONG_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order
