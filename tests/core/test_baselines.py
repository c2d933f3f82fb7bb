"""The baselines on small synthetic series with known answers, and that validation data never fits them."""

import numpy as np
import pytest
import torch

from qrnn_core import baselines as B
from qrnn_core.data import DataConfig, LorenzTask, make_task
from qrnn_core.evaluation import validation_inputs

LAG = 2  # the quadratic target's delay


def task_from_series(series: np.ndarray, window: int = 20, train_fraction: float = 0.7, stride: int = 5) -> LorenzTask:
    """:func:`qrnn_core.data.make_task`'s cuts of an arbitrary scaled ``(n, 3)`` series."""
    series = torch.as_tensor(series, dtype=torch.float64)
    n = len(series)
    val_start = int(round(train_fraction * n))
    x, yz = series[:-1, 0], series[1:, 1:]
    starts = torch.arange(0, int(train_fraction * (len(x) - window + 1)), stride)
    index = starts[:, None] + torch.arange(window)
    val_index = torch.arange(val_start, len(x) - window + 1, stride)[:, None] + torch.arange(window)
    return LorenzTask(series=series, train_x=x[index], train_y=yz[index], val_x=x[val_start:], val_y=yz[val_start:],
                      val_windows_x=x[val_index], val_windows_y=yz[val_index], val_start=val_start,
                      scale_min=torch.zeros(3, dtype=torch.float64), scale_max=torch.ones(3, dtype=torch.float64))


def synthetic_series(n: int = 1200, seed: int = 0) -> np.ndarray:
    """x: sines plus noise; y(t+1) = 2 x(t) + 1; z(t+1) = 0.5 x(t)^2 - 0.3 x(t) x(t-2) + 0.2 x(t-2) + 0.1."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = 0.5 + 0.2 * np.sin(0.21 * t) + 0.15 * np.sin(0.037 * t + 1) + 0.1 * rng.uniform(-1, 1, n)
    s = np.zeros((n, 3))
    s[:, 0] = x
    s[1:, 1] = 2 * x[:-1] + 1
    lag = x[np.maximum(t - LAG, 0)]
    s[1:, 2] = (0.5 * x * x - 0.3 * x * lag + 0.2 * lag + 0.1)[:-1]
    s[0, 1:] = s[1, 1:]
    return s


def corrupted(task: LorenzTask, seed: int = 1) -> LorenzTask:
    """The same series with every row of the validation span replaced by noise."""
    s = task.series.numpy().copy()
    s[task.val_start:] = np.random.default_rng(seed).uniform(-5, 5, s[task.val_start:].shape)
    return task_from_series(s)


@pytest.fixture(scope="module")
def task():
    return task_from_series(synthetic_series())


@pytest.fixture
def small_esn_grid(monkeypatch):
    monkeypatch.setattr(B, "ESN_SR", (0.9,))
    monkeypatch.setattr(B, "ESN_LR", (0.5, 1.0))
    monkeypatch.setattr(B, "ESN_INPUT_SCALING", (0.3,))
    monkeypatch.setattr(B, "ESN_UNITS", 60)
    monkeypatch.setattr(B.make_reservoir, "__defaults__", (60,))


def test_task_builder_matches_make_task():
    original = make_task(DataConfig(source="original"))
    rebuilt = task_from_series(original.series.numpy())
    for name in ("train_x", "train_y", "val_x", "val_y", "val_windows_x", "val_windows_y"):
        assert torch.equal(getattr(rebuilt, name), getattr(original, name)), name
    starts, wx, _ = B.training_windows(original)
    assert len(starts) == 1382 and starts[-1] + 20 < original.val_start  # the last two reach the validation span
    assert np.array_equal(wx, original.train_x[:1382].numpy())


def test_forms_use_only_the_training_span(task):
    forms = B.fitting_forms(task)
    x, yz = B.training_pairs(task)
    assert len(x) == task.val_start - 1
    r = B.split_row(task)
    seq = forms["sequence"]
    assert seq["fit"][0].x.shape == (1, r) and seq["score"].x.shape == (1, len(x) - r) and seq["score"].first == 0
    segments = seq["all"][1]
    assert segments.x.shape[1] == B.WASHOUT and np.isclose(segments.weight * len(segments.x), 1)
    starts, wx, wy = B.training_windows(task)
    assert (starts + wx.shape[1] < task.val_start).all()
    fit, score = B.window_split(task, starts, wx.shape[1])
    assert (starts[fit] + wx.shape[1] <= r).all() and (starts[score] >= r).all()


def test_ridge_matches_sklearn_and_reservoirpy():
    sklearn = pytest.importorskip("sklearn.linear_model")
    from reservoirpy.nodes import Ridge

    rng = np.random.default_rng(0)
    X, Y, w = rng.normal(size=(200, 7)), rng.normal(size=(200, 2)), rng.uniform(0.1, 2, 200)
    coef, b = B.ridge_path(X, Y, [0.3])[0]
    ref = sklearn.Ridge(alpha=0.3).fit(X, Y)
    assert np.allclose(coef, ref.coef_.T) and np.allclose(b, ref.intercept_)
    rp = Ridge(ridge=0.3).fit(X, Y)
    assert np.allclose(coef, rp.Wout) and np.allclose(b, rp.bias)
    coef, b = B.ridge_path(X, Y, [0.3], w)[0]
    ref = sklearn.Ridge(alpha=0.3).fit(X, Y, sample_weight=w)
    assert np.allclose(coef, ref.coef_.T) and np.allclose(b, ref.intercept_)


def test_mean_is_the_training_mean_and_scores_the_spread(task):
    predictors, settings = B.fit_mean(task)
    out = B.evaluate(predictors, task)
    m = task.series[1:task.val_start, 1:].mean(0)
    assert np.allclose([settings["mean_y"], settings["mean_z"]], m.numpy())
    direct = (task.val_y - m).pow(2).mean(0).sqrt()
    assert np.allclose([out["sequence"]["exact"]["rmse_y"], out["sequence"]["exact"]["rmse_z"]], direct.numpy())
    assert np.allclose(direct.numpy(), task.val_y.std(0).numpy(), rtol=0.1)  # about the targets' spread
    scored = task.val_windows_y[:, B.WARMUP:]
    direct = (scored - m).pow(2).reshape(-1, 2).mean(0).sqrt()
    assert np.isclose(out["windows"]["exact"]["rmse_y"], direct[0].item())


def test_linear_recovers_an_exactly_linear_target(task):
    predictors, settings = B.fit_linear(task)
    out = B.evaluate(predictors, task)
    assert np.isclose(settings["slope_y"], 2) and np.isclose(settings["intercept_y"], 1)
    for protocol in ("sequence", "windows"):
        assert out[protocol]["exact"]["rmse_y"] < 1e-10
        assert out[protocol]["exact"]["rmse_z"] > 1e-3  # the quadratic, delayed z is not linear in x(t)


def test_ngrc_features_delays_and_padding():
    x = np.arange(1.0, 11.0)[None]
    F = B.ngrc_features(x, k=3, s=2)
    assert F.shape == (1, 10, 3 + 6)
    assert np.array_equal(F[0, :, 1], [1, 1, 1, 2, 3, 4, 5, 6, 7, 8])  # x(t-2), first value repeated
    assert np.array_equal(F[0, 6], [7, 5, 3, 49, 35, 21, 25, 15, 9])


def test_ngrc_recovers_a_quadratic_target_with_delay(task):
    predictors, settings = B.fit_ngrc(task)
    out = B.evaluate(predictors, task)
    for protocol in ("sequence", "windows"):
        hp = settings[protocol]
        assert LAG in [j * hp["s"] for j in range(hp["k"])], hp
    assert out["windows"]["exact"]["rmse_mean"] < 1e-4  # scored steps have their true history
    linear = B.evaluate(B.fit_linear(task)[0], task)
    # the sequence's first LAG steps are padded: small, not zero
    assert out["sequence"]["exact"]["rmse_mean"] < 0.1 * linear["sequence"]["exact"]["rmse_mean"]


def test_reservoir_states_are_reservoirpys():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (4, 30))
    res = B.reservoirpy_reservoir(3, 0.9, 0.4, 1.5, units=50)
    fast = B.make_reservoir(3, 0.9, 0.4, 1.5, units=50)
    assert np.allclose(fast.W.toarray(), res.W.toarray(), atol=1e-14)
    ours = B.reservoir_states(fast, x)
    res.reset()
    assert np.allclose(ours, res.run(x[:, :, None]), atol=1e-12)  # a fresh state per row
    res.reset()
    assert np.allclose(ours[2], res.run(x[2][:, None]), atol=1e-12)


def test_esn_learns_the_linear_target_on_both_protocols(task, small_esn_grid):
    chosen = B.select_esn(task)
    out = B.evaluate(B.fit_esn(task, 5, chosen), task)
    mean = B.evaluate(B.fit_mean(task)[0], task)
    for protocol in ("sequence", "windows"):
        assert out[protocol]["exact"]["rmse_y"] < 0.1 * mean[protocol]["exact"]["rmse_y"]
        assert out[protocol]["exact"]["rmse_mean"] < mean[protocol]["exact"]["rmse_mean"]


def test_the_esn_chooses_among_the_candidates_given(task, small_esn_grid):
    only = [{"sr": 0.9, "lr": 1.0, "input_scaling": 0.3}]
    chosen = B.select_esn(task, grid=only)
    assert all({k: c[k] for k in only[0]} == only[0] for c in chosen.values())
    assert {k: B.select_esn(task)["sequence"][k] for k in only[0]} in B.esn_grid()  # by default, the whole grid


def test_validation_span_never_fits_or_chooses(task, small_esn_grid):
    bad = corrupted(task)
    assert not torch.equal(bad.train_x, task.train_x)  # the last windows reach the validation span
    probe = np.random.default_rng(2).uniform(0, 1, (3, 40))
    for fit in (B.fit_mean, B.fit_linear, B.fit_ngrc):
        (p_good, s_good), (p_bad, s_bad) = fit(task), fit(bad)
        assert s_good == s_bad
        for protocol in ("sequence", "windows"):
            assert np.array_equal(p_good[protocol](probe), p_bad[protocol](probe))
    chosen = B.select_esn(task)
    assert chosen == B.select_esn(bad)
    good, worse = B.fit_esn(task, 7, chosen), B.fit_esn(bad, 7, chosen)
    assert np.array_equal(good["sequence"](probe), worse["sequence"](probe))
    assert B.evaluate(good, bad)["sequence"]["exact"]["rmse_y"] > 1  # the corrupted span is what gets scored


def test_qesn_uses_the_initial_circuit_and_scores_both_protocols_exact_and_with_shots(task):
    out = B.qesn(task, 1929, shots=1024)
    model, _, _ = B.qesn_model(1929)
    from qrnn_core.train import TrainConfig, build_model

    reference, _ = build_model(TrainConfig(seed=1929, precision="complex64"))
    x = task.val_windows_x[:3]
    with torch.no_grad():
        assert torch.equal(model.quantum(x), reference.quantum(x))
    mean = B.evaluate(B.fit_mean(task)[0], task)
    for protocol in ("sequence", "windows"):
        assert set(out[protocol]) == {"exact", "shots", "shots_exact_readout"}
        assert out[protocol]["shots"] != out[protocol]["exact"]
    assert out["windows"]["exact"]["rmse_y"] < mean["windows"]["exact"]["rmse_y"]
    again = B.qesn(task, 1929, shots=1024)
    assert again == out  # seeded: exactly reproducible
    # the readout's fit sees only training windows
    _, wx, _ = B.training_windows(task)
    probs = B.circuit_probabilities(model, wx)
    _, wx_bad, _ = B.training_windows(corrupted(task))
    assert np.array_equal(wx, wx_bad)
    coef, b, best = B.fit_window_readout(task, probs)
    assert best == out["selected"]["windows"]["exact"] and coef.shape == (16, 2)
    inputs = validation_inputs(task, warmup=B.WARMUP)
    assert inputs["windows"][2] == B.WARMUP and inputs["sequence"][2] == 0


def test_qesn_sequence_readout_chooses_washout_and_alpha_on_the_training_span_only(task):
    """The sequence readout's washout and ridge penalty come from the time-ordered 80/20 split of the
    training span: corrupting the validation span changes neither, and the readout beats the mean."""
    out, bad = B.qesn(task, 1930, shots=None), B.qesn(corrupted(task), 1930, shots=None)
    chosen = out["selected"]["sequence"]["exact"]
    assert chosen["washout"] in B.QESN_WASHOUTS and chosen["alpha"] in B.ALPHAS
    assert out["selected"] == bad["selected"]
    mean = B.evaluate(B.fit_mean(task)[0], task)
    for protocol in ("sequence", "windows"):
        assert out[protocol]["exact"]["rmse_mean"] < mean[protocol]["exact"]["rmse_mean"], protocol


def test_sequence_form_is_time_ordered_and_its_washout_sets_the_transient(task):
    x, _ = B.training_pairs(task)
    r = B.split_row(task)
    for washout in (25, 100):
        form = B.sequence_form(task, washout)
        long_fit, transient = form["fit"]
        assert long_fit.x.shape == (1, r) and long_fit.first == washout
        assert transient.x.shape[1] == washout and transient.x.max() <= x[:r].max()
        assert np.array_equal(form["score"].x[0], x[r:])  # scored on what follows the fitted rows
    with pytest.raises(ValueError, match="too short"):
        B.sequence_form(task, r)


def test_beats_mean_compares_every_baseline_with_the_training_mean():
    entry = lambda v: {p: {"exact": {"rmse_mean": v}} for p in ("sequence", "windows")}  # noqa: E731
    results = {"mean": entry(0.18), "linear": entry(0.14), "qesn": {**entry(0.1), "sequence": {"exact": {"rmse_mean": 0.5}}}}
    assert B.beats_mean(results) == {("linear", "sequence"): True, ("linear", "windows"): True,
                                     ("qesn", "sequence"): False, ("qesn", "windows"): True}


def test_run_baselines_is_json_able_with_seed_means(task, small_esn_grid, monkeypatch):
    import json

    calls = []
    monkeypatch.setattr(B, "qesn", lambda task, s, shots: calls.append(s) or {
        "seed": s, "selected": {p: {"exact": {"alpha": 1.0, "washout": 5, "heldout_rmse_mean": 0.1}}
                                for p in ("sequence", "windows")},
        **{p: {"exact": {"rmse_y": s, "rmse_z": 0.0, "rmse_mean": s / 2}} for p in ("sequence", "windows")}})
    out = B.run_baselines(task, seeds=[1, 3], shots=None)
    json.dumps(out)
    assert set(out) == {"mean", "linear", "ngrc", "esn", "qesn"} and calls == [1, 3]
    for name, entry in out.items():
        assert set(entry["sequence"]["exact"]) == {"rmse_y", "rmse_z", "rmse_mean"}, name
        assert "windows" in entry and "settings" in entry
    assert out["qesn"]["sequence"]["exact"]["rmse_y"] == 2
    assert np.isclose(out["qesn"]["std"]["windows"]["exact"]["rmse_y"], np.std([1, 3], ddof=1))
    assert len(out["esn"]["per_seed"]) == 2 and out["esn"]["settings"]["seeds"] == [1, 3]


def test_a_circuit_given_to_the_qesn_replaces_the_initial_one_and_nothing_else(task):
    """The readout control's model: the seed's circuit with ``circuit``'s leading entries as its ``w`` and
    ``b``; its own initial entries give back the QESN exactly, other entries another circuit."""
    from qrnn_core.train import _parameter_vector

    model, _, _ = B.qesn_model(1929)
    initial = _parameter_vector(model)
    same, _, _ = B.qesn_model(1929, initial)
    assert np.array_equal(_parameter_vector(same), initial)
    moved = initial.copy()
    moved[:110] += 0.05
    moved[110:] = np.nan  # the readout's entries are not read
    other, _, _ = B.qesn_model(1929, moved)
    assert np.array_equal(_parameter_vector(other)[:110], moved[:110])
    assert np.array_equal(_parameter_vector(other)[110:], initial[110:])
    x = task.val_windows_x[:2].numpy()
    assert not np.allclose(B.circuit_probabilities(other, x), B.circuit_probabilities(model, x))
    assert B.qesn(task, 1929, shots=None, circuit=initial) == B.qesn(task, 1929, shots=None)
    small, _, _ = B.qesn_model(1929, np.zeros(64), n_qubits=4)  # a 4-qubit run's circuit: 54 of them
    assert all(not p.any() for p in small.quantum.parameters())


@pytest.mark.parametrize("params, says", [(np.zeros(20), "needs 110 finite parameters; got 20"),
                                          (np.full(144, np.inf), "110 of the first 110 not finite")])
def test_a_circuit_of_the_wrong_size_or_not_finite_is_refused_naming_it(params, says):
    with pytest.raises(ValueError, match=says):
        B.qesn_model(1929, params)
