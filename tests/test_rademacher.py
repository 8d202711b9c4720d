"""Tests of lawlib.chapters.weight_bounded: exact complexities of small classes, and the
optimisation-based lower estimate."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from helpers import raises_naming, randn
from hypothesis import given
from hypothesis import strategies as st

from lawlib import deep_rademacher_bound, make_generator, sample_sphere
from lawlib.chapters.weight_bounded import (
    estimate_rademacher,
    finite_class_rademacher,
    linear_class_rademacher,
)

# -------------------------------------------------------------- finite classes, exactly


def test_finite_class_hand_values():
    # one function: E sigma = 0
    assert (
        abs(
            finite_class_rademacher(
                torch.tensor([[1.0, -2.0, 3.0]], dtype=torch.float64)
            ).value
        )
        < 1e-15
    )
    # {f, -f} with f = (1, 1): E |s1 + s2| / 2 = (2 + 0 + 0 + 2) / 4 / 2
    assert finite_class_rademacher(
        torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    ).value == pytest.approx(0.5, rel=1e-15)
    # every labelling of 8 points (lemma of chapter 6): exactly 1
    every = torch.tensor(list(itertools.product((-1.0, 1.0), repeat=8)))
    r = finite_class_rademacher(every)
    assert (
        r.exact and r.value == 1.0 and r.std_error == 0.0 and r.signs.shape == (256, 8)
    )


@given(
    K=st.integers(1, 6),
    n=st.integers(1, 9),
    seed=st.integers(0, 2**31),
    c=st.floats(0, 5),
)
def test_finite_class_exact_properties(K, n, seed, c):
    v = randn(K, n, seed=seed)
    base = finite_class_rademacher(v).value
    brute = sum(
        max(float((torch.tensor(s, dtype=v.dtype) * row).sum()) for row in v)
        for s in itertools.product((-1.0, 1.0), repeat=n)
    ) / (2**n * n)
    assert base == pytest.approx(brute, rel=1e-9, abs=1e-12)
    assert finite_class_rademacher(c * v).value == pytest.approx(
        c * base, rel=1e-9, abs=1e-12
    )  # homogeneous
    bigger = torch.cat([v, randn(2, n, seed=seed + 1)])
    assert (
        finite_class_rademacher(bigger).value >= base - 1e-12
    )  # monotone in the class
    assert (
        base <= float(v.abs().mean(dim=1).max()) + 1e-12
    )  # at most sup (1/n) sum |f(x_i)|


def test_monte_carlo_agrees_with_the_exact_value():
    v = randn(5, 10, seed=3)
    exact = finite_class_rademacher(v)
    mc = finite_class_rademacher(v, n_draws=20000, generator=make_generator(1))
    assert not mc.exact and mc.std_error > 0
    assert abs(mc.value - exact.value) < 5 * mc.std_error


# ------------------------------------------------------------------------- linear class


def test_linear_class_hand_values():
    n = 9
    assert linear_class_rademacher(
        torch.eye(n, dtype=torch.float64), radius=3.0
    ).value == pytest.approx(1.0, rel=1e-14)
    x = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    assert linear_class_rademacher(x, radius=2.0).value == pytest.approx(
        10.0, rel=1e-15
    )  # W ||x||, n = 1


@given(
    n=st.integers(1, 10),
    d=st.integers(1, 5),
    seed=st.integers(0, 2**31),
    W=st.floats(0.01, 10),
)
def test_linear_class_matches_its_definition_and_jensen(n, d, seed, W):
    x = randn(n, d, seed=seed)
    r = linear_class_rademacher(x, radius=W)
    direct = sum(
        float((torch.tensor(s, dtype=x.dtype) @ x).norm())
        for s in itertools.product((-1.0, 1.0), repeat=n)
    )
    assert r.value == pytest.approx(W * direct / (2**n * n), rel=1e-9)
    assert r.value <= W * float(x.norm()) / n * (
        1 + 1e-12
    )  # Jensen: (W/n) (sum ||x_i||^2)^(1/2)


# ------------------------------------------------------ the optimisation-based estimate


def test_depth_one_estimate_reaches_the_explicit_supremum():
    x = sample_sphere(30, 5, generator=make_generator(2), dtype=torch.float64)
    r = estimate_rademacher(
        x, 1, 4, 2.5, n_draws=6, steps=200, lr=0.02, generator=make_generator(3)
    )
    explicit = 2.5 * (r.signs @ x).norm(dim=1) / 30
    assert torch.allclose(r.values, explicit, rtol=1e-6, atol=0)
    assert r.value == pytest.approx(float(explicit.mean()), rel=1e-6)
    assert r.std_error == pytest.approx(float(explicit.std() / math.sqrt(6)), rel=1e-5)


@given(
    seed=st.integers(0, 2**31),
    D=st.integers(2, 4),
    M=st.floats(0.5, 3),
    norm=st.sampled_from(["frobenius", "spectral"]),
)
def test_estimate_is_a_lower_estimate(seed, D, M, norm):
    x = sample_sphere(12, 3, generator=make_generator(seed), dtype=torch.float64)
    r = estimate_rademacher(
        x, D, 6, M, norm=norm, n_draws=4, steps=30, generator=make_generator(seed + 1)
    )
    assert bool((r.values >= 0).all())  # the zero network belongs to the class
    # every value is attained by a member of the class, whose outputs are at most Lip *
    # ||x|| <= M^D
    assert bool((r.values <= M**D * (1 + 1e-9)).all())
    if (
        norm == "frobenius"
        # the cited bound holds for the average over all signs; per draw it is not a
        # bound
    ):
        assert r.value <= deep_rademacher_bound(12, 1.0, M, D) * 2


def test_homogeneity_in_the_norm_bound():
    x = sample_sphere(16, 3, generator=make_generator(4), dtype=torch.float64)
    one = estimate_rademacher(
        x, 3, 5, 1.0, n_draws=4, steps=40, generator=make_generator(5)
    )
    three = estimate_rademacher(
        x, 3, 5, 3.0, n_draws=4, steps=40, generator=make_generator(5)
    )
    assert torch.equal(one.signs, three.signs)
    assert torch.allclose(three.values, 27 * one.values, rtol=1e-12)


# ---------------------------------------------------------------------------- bad input


def test_bad_input_is_named():
    raises_naming("values", finite_class_rademacher, torch.ones(4))
    raises_naming(
        "values", finite_class_rademacher, torch.tensor([[1.0, float("nan")]])
    )
    raises_naming(
        "n_draws", finite_class_rademacher, torch.ones(2, 17)
    )  # exact needs n <= 16
    raises_naming("n_draws", finite_class_rademacher, torch.ones(2, 3), 0)
    raises_naming("generator", finite_class_rademacher, torch.ones(2, 3), 5, 123)
    raises_naming("x", linear_class_rademacher, torch.ones(4))
    raises_naming("x", estimate_rademacher, torch.ones(4), 2, 3, 1.0)
    raises_naming("depth", estimate_rademacher, torch.ones(4, 2), 0, 3, 1.0)
    raises_naming("width", estimate_rademacher, torch.ones(4, 2), 3, [3], 1.0)
    raises_naming("norm", estimate_rademacher, torch.ones(4, 2), 2, 3, 1.0, norm="l2")
    raises_naming("steps", estimate_rademacher, torch.ones(4, 2), 2, 3, 1.0, steps=-1)
    raises_naming(
        "restarts", estimate_rademacher, torch.ones(4, 2), 2, 3, 1.0, restarts=0
    )
    raises_naming(
        "generator", estimate_rademacher, torch.ones(4, 2), 2, 3, 1.0, generator="seed"
    )


@given(bad=st.sampled_from([0, -1.0, float("nan"), float("inf"), "x", None]))
def test_bad_positive_numbers_are_named(bad):
    raises_naming("radius", linear_class_rademacher, torch.ones(3, 2), bad)
    raises_naming("max_norm", estimate_rademacher, torch.ones(3, 2), 2, 3, bad)
    raises_naming("lr", estimate_rademacher, torch.ones(3, 2), 2, 3, 1.0, lr=bad)


@given(n_draws=st.sampled_from([0, -5, 2.5, "10"]))
def test_bad_draw_counts_are_named(n_draws):
    raises_naming(
        "n_draws", estimate_rademacher, torch.ones(3, 2), 2, 3, 1.0, n_draws=n_draws
    )
    raises_naming("n_draws", linear_class_rademacher, torch.ones(3, 2), 1.0, n_draws)
