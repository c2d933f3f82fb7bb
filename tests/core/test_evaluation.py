"""The two validation protocols, checked against a computation by hand on a small task and model."""

import math

import pytest
import torch

from qrnn_core.data import DataConfig, make_task
from qrnn_core.evaluation import validate, validation_inputs
from qrnn_core.train import TrainConfig, build_model

WARMUP = 5


@pytest.fixture(scope="module")
def task():
    return make_task(DataConfig(n_samples=600))  # validation span: pairs 420..598


@pytest.fixture(scope="module")
def model():
    return build_model(TrainConfig(method="exact", n_qubits=4, seed=3))[0]


def test_the_windows_are_every_stride_th_window_of_the_validation_span(task):
    s, stride, window = task.series, 5, 20
    starts = range(task.val_start, len(s) - 1 - window + 1, stride)  # pairs x_t -> (y, z)_{t+1}, t < 599
    assert task.val_windows_x.shape == (len(starts), window) and len(starts) == 32
    for k, t in enumerate(starts):
        assert torch.equal(task.val_windows_x[k], s[t : t + window, 0])
        assert torch.equal(task.val_windows_y[k], s[t + 1 : t + window + 1, 1:])
    assert task.val_windows_x[0][0] == task.val_x[0]  # the first window starts where the sequence does


@torch.no_grad()
def test_both_protocols_equal_a_hand_computation(task, model):
    got = validate(model, validation_inputs(task, warmup=WARMUP), shots=None, generator=None)["scores"]

    # Windows: each window run alone from a fresh memory; errors of steps 5..19 of every window pooled.
    errors = torch.cat([(model(x[None])[0, WARMUP:] - y[WARMUP:])
                        for x, y in zip(task.val_windows_x, task.val_windows_y)])
    assert errors.shape == (32 * (20 - WARMUP), 2)
    y_hand, z_hand = (math.sqrt(errors[:, k].pow(2).mean().item()) for k in (0, 1))
    windows = got["windows"]["exact"]
    assert windows["rmse_y"] == pytest.approx(y_hand, rel=1e-12)
    assert windows["rmse_z"] == pytest.approx(z_hand, rel=1e-12)
    assert windows["rmse_mean"] == pytest.approx((y_hand + z_hand) / 2, rel=1e-12)

    # The deck's protocol: one sequence over the whole span, every step scored, memory carried through.
    seq_errors = model(task.val_x[None])[0] - task.val_y
    sequence = got["sequence"]["exact"]
    assert sequence["rmse_y"] == pytest.approx(math.sqrt(seq_errors[:, 0].pow(2).mean().item()), rel=1e-12)
    assert sequence["rmse_z"] == pytest.approx(math.sqrt(seq_errors[:, 1].pow(2).mean().item()), rel=1e-12)
    # Not the same measure: a window forgets what came before it, the sequence does not.
    assert sequence["rmse_mean"] != pytest.approx(windows["rmse_mean"], rel=1e-6)


@torch.no_grad()
def test_shot_scores_come_from_their_own_generator(task, model):
    inputs = validation_inputs(task, warmup=WARMUP)

    def scored(seed):
        return validate(model, inputs, shots=64, generator=torch.Generator().manual_seed(seed))["scores"]

    a, b, c = scored(1), scored(1), scored(2)
    assert a == b and a != c  # reproducible from the generator alone
    for protocol in ("sequence", "windows"):
        assert a[protocol]["exact"] == scored(2)[protocol]["exact"]  # the exact scores draw nothing
        assert math.isfinite(a[protocol]["shots"]["rmse_mean"])


def test_a_prefix_of_the_span_keeps_its_windows_and_refuses_more_steps_than_it_has(task):
    inputs = validation_inputs(task, warmup=WARMUP, val_steps=40)
    assert inputs["sequence"][0].shape == (1, 40) and inputs["windows"][0].shape == (2, 20)
    with pytest.raises(ValueError, match="val_steps: 1000 steps asked, the validation span has 179"):
        validation_inputs(task, warmup=WARMUP, val_steps=1000)
