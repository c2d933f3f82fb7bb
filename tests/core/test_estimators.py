"""The estimators' maths on its own: shift rules, SPSA's combination, settings."""

import math

import pytest
import torch

from qrnn_core.estimators import (
    FDSA,
    SPSA,
    central_difference,
    directional_estimate,
    make_estimator,
    rademacher,
    shift_rule,
)


@pytest.mark.parametrize("gate, freqs", [("rx", (1.0,)), ("rz", (1.0,)), ("crx", (0.5, 1.0))])
def test_shift_rule_is_exact_for_the_gates_trig_polynomials(gate, freqs):
    """f(a) = c0 + sum over the gate's frequencies of (cos, sin) terms: the rule gives f' exactly."""
    g = torch.Generator().manual_seed(0)
    coeffs = torch.randn(1 + 2 * len(freqs), generator=g, dtype=torch.float64)

    def f(a):
        out = coeffs[0]
        for k, w in enumerate(freqs):
            out = out + coeffs[1 + 2 * k] * math.cos(w * a) + coeffs[2 + 2 * k] * math.sin(w * a)
        return out

    def df(a):
        out = 0.0
        for k, w in enumerate(freqs):
            out = out - coeffs[1 + 2 * k] * w * math.sin(w * a) + coeffs[2 + 2 * k] * w * math.cos(w * a)
        return out

    shifts, coefs = shift_rule(gate)
    for a in (-2.0, 0.3, 1.7):
        estimate = sum(c * f(a + s) for s, c in zip(shifts, coefs))
        assert abs(float(estimate) - float(df(a))) < 1e-12


def test_shift_rule_unknown_gate():
    with pytest.raises(ValueError, match="no shift rule"):
        shift_rule("h")


def test_rademacher_entries_and_reproducibility():
    a = rademacher(3, 110, torch.Generator().manual_seed(1))
    b = rademacher(3, 110, torch.Generator().manual_seed(1))
    assert a.shape == (3, 110) and a.dtype == torch.float64
    assert set(a.unique().tolist()) == {-1.0, 1.0} and torch.equal(a, b)


def test_directional_estimate_with_all_coordinate_directions_is_the_central_difference():
    P, c = 7, 0.1
    s_plus = torch.randn(P, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    s_minus = torch.randn(P, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    spsa = directional_estimate(s_plus, s_minus, torch.eye(P, dtype=torch.float64), c)
    torch.testing.assert_close(spsa, central_difference(s_plus, s_minus, c), rtol=0, atol=1e-15)


def test_directional_estimate_with_rademacher_is_spalls_formula():
    K, P, c = 2, 5, 0.1
    deltas = rademacher(K, P, torch.Generator().manual_seed(4))
    s_plus, s_minus = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.5, -1.0], dtype=torch.float64)
    spall = sum((s_plus[k] - s_minus[k]) / (2 * c) / deltas[k] for k in range(K)) / K
    torch.testing.assert_close(directional_estimate(s_plus, s_minus, deltas, c), spall)


def test_spsa_schedule_and_names():
    assert SPSA().c_at(10) == 0.1
    assert SPSA(c=0.2, gamma=0.101).c_at(9) == pytest.approx(0.2 / 10**0.101)
    assert make_estimator("spsa", num_directions=3) == SPSA(num_directions=3)
    assert make_estimator("fdsa", h=0.05) == FDSA(h=0.05)
    assert make_estimator("parameter_shift").name == "parameter_shift"
    assert make_estimator("exact").name == "exact"


@pytest.mark.parametrize(
    "name, settings, match",
    [
        ("spsa", {"c": 0}, "c must be a positive number"),
        ("spsa", {"c": -0.1}, "c must be a positive number"),
        ("spsa", {"c": float("nan")}, "c must be a positive number"),
        ("spsa", {"num_directions": 0}, "num_directions must be an integer >= 1"),
        ("spsa", {"num_directions": 1.5}, "num_directions must be an integer >= 1"),
        ("spsa", {"gamma": -1}, "gamma"),
        ("fdsa", {"h": 0}, "h must be a positive number"),
        ("fdsa", {"h": -1e-3}, "h must be a positive number"),
        ("fdsa", {"c": 0.1}, "bad settings for estimator 'fdsa'"),
        ("adam", {}, "unknown estimator 'adam'"),
    ],
)
def test_bad_settings_raise(name, settings, match):
    with pytest.raises(ValueError, match=match):
        make_estimator(name, **settings)


def test_every_estimator_offers_the_protocol():
    """What the quantum layer asks of an estimator is declared (estimators.Estimator), never found by isinstance."""
    from qrnn_core.estimators import ESTIMATOR_CLASSES

    for name, cls in ESTIMATOR_CLASSES.items():
        assert cls.name == name and isinstance(cls.differentiates_backend, bool)
        assert callable(cls.circuits)
        assert cls.differentiates_backend or callable(getattr(cls, "plan", None)), name
