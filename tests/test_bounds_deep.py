"""Tests of chapter 6's formulas in lawlib.bounds: hand values, inverse relations, brute
force, bad input.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from lawlib import (
    deep_rademacher_bound,
    deep_rademacher_bound_for_model,
    fit_rademacher_lower_bound,
    forced_depth,
    frobenius_bounds_from_spectral,
)

LOG2 = math.log(2)
bad_numbers = st.sampled_from([float("nan"), float("inf"), -1.0, "two", None])


# -------------------------------------------------------------------------- hand values


def test_fit_lower_bound_is_p_eps_over_two():
    assert fit_rademacher_lower_bound() == 0.5
    assert fit_rademacher_lower_bound(0.5, 0.25) == 0.0625
    assert fit_rademacher_lower_bound(epsilon=1.0, fraction=1.0) == 0.5


def test_deep_bound_hand_values():
    assert deep_rademacher_bound(64, 1.0, 2.0, 3) == pytest.approx(
        math.sqrt(6 * LOG2) + 1, rel=1e-14
    )
    assert deep_rademacher_bound(4, 3.0, [1.0, 2.0, 3.0]) == pytest.approx(
        3.0 * (math.sqrt(6 * LOG2) + 1) * 6 / 2, rel=1e-14
    )
    assert deep_rademacher_bound(9, 1.0, [2.0], D=1) == pytest.approx(
        (math.sqrt(2 * LOG2) + 1) * 2 / 3, rel=1e-14
    )


def test_frobenius_from_spectral_hand_values():
    assert frobenius_bounds_from_spectral(2.0, [8, 16, 16, 1]) == pytest.approx(
        [2 * math.sqrt(8), 8.0, 2.0]
    )
    assert frobenius_bounds_from_spectral(1.5, (3, 1)) == [1.5]


def test_forced_depth_hand_values():
    # the values the chapter's table and exercises use (M = 2, eps = p = 1/2, B = 1)
    assert [
        forced_depth(n, 1.0, 2.0, 0.5, 0.5)
        for n in (10**3, 10**4, 10**6, 10**9, 10**12)
    ] == [1, 3, 6, 10, 15]
    assert (
        forced_depth(10**4, 1.0, 1.0, 0.5, 0.5) == 96
    )  # ceil((12.5 - 1)^2 / (2 log 2))
    assert math.isinf(forced_depth(10**6, 1.0, 0.9, 0.5, 0.5))
    assert (
        forced_depth(1, 1.0, 0.5, 0.5, 0.5) == 1
    )  # target below the bound already at D = 1


# ------------------------------------------------------------ relations and brute force


def _brute_forced_depth(n, B, M, eps, p, cap=3000):
    target = p * eps / 2
    for D in range(1, cap + 1):
        if deep_rademacher_bound(n, B, M, D) >= target * (1 + 1e-12):
            return D
    return math.inf


@given(
    n=st.integers(1, 10**7),
    B=st.floats(0.2, 5),
    M=st.floats(0.2, 6),
    eps=st.floats(0.05, 1),
    p=st.floats(0.05, 1),
)
def test_forced_depth_is_the_first_depth_reaching_the_level(n, B, M, eps, p):
    D = forced_depth(n, B, M, epsilon=eps, fraction=p)
    brute = _brute_forced_depth(n, B, M, eps, p)
    if math.isfinite(brute):
        assert D == brute or (
            D == brute - 1
            and deep_rademacher_bound(n, B, M, int(D))
            == pytest.approx(p * eps / 2, rel=1e-9)
        )
    else:
        assert D > 3000
    if math.isfinite(D):
        assert deep_rademacher_bound(n, B, M, int(D)) >= p * eps / 2 * (1 - 1e-9)
        if D > 1:
            assert deep_rademacher_bound(n, B, M, int(D) - 1) < p * eps / 2 * (1 + 1e-9)


@given(n=st.integers(2, 10**9), M=st.floats(1.05, 5))
def test_forced_depth_monotone_in_n_and_M(n, M):
    assert forced_depth(n, 1.0, M) <= forced_depth(4 * n, 1.0, M)
    assert forced_depth(n, 1.0, M) >= forced_depth(n, 1.0, M * 1.5)
    # the leading term: D >= log(p eps sqrt(n) / (2 B)) / log M -
    # log(sqrt(2 D log 2) + 1) / log M
    D = forced_depth(n, 1.0, M)
    assert (
        D * math.log(M) + math.log(math.sqrt(2 * D * LOG2) + 1)
        >= math.log(0.5 * math.sqrt(n)) - 1e-9
    )


# -------------------------------------------------------- bounds from a model's weights


def _chain(weights, bias=False):
    layers = []
    for j, w in enumerate(weights):
        lin = nn.Linear(w.shape[1], w.shape[0], bias=bias).double()
        with torch.no_grad():
            lin.weight.copy_(w)
        layers.append(lin)
        if j < len(weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers, nn.Flatten(0))


def test_deep_bound_for_model_hand_value():
    net = _chain(
        [
            torch.ones(3, 2, dtype=torch.float64),
            torch.tensor([[1.0, 2.0, 2.0]], dtype=torch.float64),
        ]
    )
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=torch.float64)
    expected = 5.0 * (math.sqrt(4 * LOG2) + 1) * math.sqrt(6) * 3 / 2
    assert deep_rademacher_bound_for_model(net, x) == pytest.approx(expected, rel=1e-13)
    # it never exceeds the class bound with B = max ||x_i|| and M_j = ||W_j||_F
    assert deep_rademacher_bound_for_model(net, x) <= deep_rademacher_bound(
        2, 5.0, [math.sqrt(6), 3.0]
    )


# ---------------------------------------------------------------------------- bad input


# ---------------------------------------------- Bubeck-Sellke, section 3: deep networks


def test_deep_network_log_lipschitz_hand_values():
    from lawlib.bounds import deep_network_log_lipschitz

    # J = R (W Q p)^D: R = 2, W = 0.5, Q = 3, p = 100, D = 4 -> 2 * 150^4 =
    # 1,012,500,000
    assert math.isclose(
        math.exp(deep_network_log_lipschitz(100, 4, 0.5, 3, 2.0)),
        1_012_500_000.0,
        rel_tol=1e-12,
    )
    assert math.isclose(
        deep_network_log_lipschitz(10, 1), math.log(10.0), rel_tol=1e-15
    )


def test_deep_network_law_bound_hand_value():
    from lawlib.bounds import bubeck_sellke_bound, deep_network_law_bound

    # n = 10^6, d = 100, p = 10^4, D = 3, W = Q = R = 1, eps = 1/2, delta = 0.01, c = 1:
    # log(60 * 2 * 100 / 0.5) = log 24000 = 10.08580965, log J = 3 log 10^4 =
    # 27.63102112, denominator = 10^4 * 37.71683077 + log 400 = 377174.3 ;
    # sqrt(10^8 / 377174.3) = 16.28300 ; times 0.5 / 512 -> 0.0159013
    value = deep_network_law_bound(10**6, 100, 10**4, 3, 0.5)
    assert abs(value - 0.0159013) < 2e-7
    # the same number through Theorem 3 with diameter 2 W sqrt(p) = 200 and J = 10^12
    same = bubeck_sellke_bound(
        10**6, 100, 10**4, 0.5, weight_diameter=200.0, weight_lipschitz=1e12
    )
    assert math.isclose(value, same, rel_tol=1e-12)


def test_deep_network_law_bound_falls_like_one_over_sqrt_depth():
    from lawlib.bounds import deep_network_law_bound

    b = [deep_network_law_bound(10**6, 100, 10**4, D, 0.5) for D in (1, 4, 16, 64)]
    assert all(x > y for x, y in zip(b, b[1:]))
    # each factor 4 in depth divides the bound by at most 2 (the pure 1/sqrt(D) rate),
    # and by 2 as D grows
    ratios = [y / x for x, y in zip(b, b[1:])]
    assert all(0.5 < r < 1 for r in ratios) and ratios[-1] < 0.52


def test_deep_network_law_bound_validates():
    from lawlib.bounds import deep_network_law_bound, deep_network_log_lipschitz

    with pytest.raises(ValueError, match="depth"):
        deep_network_log_lipschitz(10, 0)
    with pytest.raises(ValueError, match="sharing"):
        deep_network_law_bound(100, 10, 10, 2, 0.5, sharing=0)
    with pytest.raises(ValueError, match="epsilon"):
        deep_network_law_bound(100, 10, 10, 2, 1.5)
