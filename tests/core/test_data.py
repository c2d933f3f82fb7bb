import numpy as np
import pytest
import torch

from qrnn_core.data import DataConfig, lorenz_series, make_task


@pytest.fixture(scope="module")
def task():
    return make_task()


def test_seed_window_counts_and_shapes(task):
    assert task.train_x.shape == (1384, 20) and task.train_y.shape == (1384, 20, 2)
    assert task.val_x.shape == (2969,) and task.val_y.shape == (2969, 2)
    assert task.val_start == 6930 and task.series.shape == (9900, 3)
    assert task.train_x.dtype == torch.float64


def test_targets_are_y_z_one_step_ahead(task):
    s = task.series
    assert torch.equal(task.train_x[1], s[5:25, 0])  # every 5th window: window 1 starts at row 5
    assert torch.equal(task.train_y[1], s[6:26, 1:])
    assert torch.equal(task.val_x, s[6930:9899, 0]) and torch.equal(task.val_y, s[6931:9900, 1:])
    # the last training window starts inside the first 70 % of the 9,880 windows
    assert torch.equal(task.train_x[-1], s[6915:6935, 0])


def test_whole_series_scaling_and_train_only_scaling(task):
    assert torch.allclose(task.series.min(0).values, torch.zeros(3, dtype=torch.float64))
    assert torch.allclose(task.series.max(0).values, torch.ones(3, dtype=torch.float64))
    train_only = make_task(DataConfig(scaling="train"))
    span = train_only.series[: train_only.val_start]
    assert torch.allclose(span.min(0).values, torch.zeros(3, dtype=torch.float64))
    assert torch.allclose(span.max(0).values, torch.ones(3, dtype=torch.float64))


def test_integration_is_accurate():
    """The sampled trajectory satisfies the Lorenz equations (central differences, dt^2 error)."""
    c = DataConfig(n_samples=500)
    u = torch.from_numpy(lorenz_series(c))
    du = (u[2:] - u[:-2]) / (2 * c.dt)
    x, y, z = u[1:-1].T
    rhs = torch.stack([c.sigma * (y - x), x * (c.rho - z) - y, x * y - c.beta * z], 1)
    assert ((du - rhs).abs().max() / rhs.abs().max()) < 1e-2


@pytest.mark.parametrize(
    "changes, match",
    [({"window": 0}, "data.window"), ({"train_fraction": 1.0}, "data.train_fraction"),
     ({"scaling": "global"}, "data.scaling"), ({"dt": 0.0}, "data.dt"), ({"stride": 0}, "data.stride")],
)
def test_bad_data_config(changes, match):
    with pytest.raises(ValueError, match=match):
        make_task(DataConfig(**changes))


def test_spread_indices_are_distinct_evenly_spaced_and_reach_both_ends():
    from qrnn_core.data import spread_indices

    assert spread_indices(10, 4).tolist() == [0, 3, 6, 9]
    assert spread_indices(5, 1).tolist() == [0] and spread_indices(5, 5).tolist() == [0, 1, 2, 3, 4]
    idx = spread_indices(1384, 230)
    assert len(set(idx.tolist())) == 230 and idx[0] == 0 and idx[-1] == 1383
    assert set(np.diff(idx).tolist()) <= {6, 7}  # 1383 / 229 = 6.04: as even as integers allow
    for bad in (0, 1385):
        with pytest.raises(ValueError):
            spread_indices(1384, bad)
