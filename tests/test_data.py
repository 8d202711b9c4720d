"""Tests of lawlib.data: samplers, the memorization task, the error metrics and the
digits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

import lawlib
from lawlib import (
    linear_signal,
    load_digits,
    make_generator,
    mean_squared_error,
    memorization_task,
    partially_memorizes,
    random_signs,
    sample_gaussian,
    sample_sphere,
)

# Arguments that are not integers: floats (also integral ones), strings, None, booleans.
non_integers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
# Not a finite number >= 0.
bad_nonnegative = st.one_of(
    st.floats(max_value=-1e-12, allow_infinity=True),
    st.just(float("nan")),
    st.just(float("inf")),
    st.text(max_size=3).filter(lambda s: not _is_number(s)),
    st.none(),
)
# Not a finite number > 0.
bad_positive = st.one_of(bad_nonnegative, st.just(0.0), st.just(0))


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------- generators and seeding


def test_make_generator_is_seeded():
    a = torch.rand(5, generator=make_generator(3))
    b = torch.rand(5, generator=make_generator(3))
    c = torch.rand(5, generator=make_generator(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert make_generator(3).device == torch.device("cpu")


@given(seed=st.integers(max_value=-1))
def test_make_generator_rejects_negative_seed(seed):
    raises_naming("seed", make_generator, seed)


@given(seed=non_integers)
def test_make_generator_rejects_non_integer_seed(seed):
    raises_naming("seed", make_generator, seed)


def test_make_generator_rejects_seed_too_large_for_torch():
    # torch.Generator.manual_seed accepts 0 <= seed < 2**64; above that torch's own
    # error does not name `seed`.
    make_generator(2**64 - 1)
    raises_naming("seed", make_generator, 2**64)


@pytest.mark.parametrize("sampler", [sample_sphere, sample_gaussian])
def test_samplers_shape_dtype_and_seeding(sampler):
    x = sampler(7, 4, seed=11)
    assert x.shape == (7, 4) and x.dtype == torch.float32
    assert torch.equal(x, sampler(7, 4, seed=11))  # same seed -> same tensor
    assert not torch.equal(x, sampler(7, 4, seed=12))
    # An explicit generator is honoured: same as a seed of the same value, and it
    # advances.
    g = make_generator(11)
    first = sampler(7, 4, generator=g)
    second = sampler(7, 4, generator=g)
    assert torch.equal(first, x)
    assert not torch.equal(first, second)
    assert sampler(3, 2, seed=0, dtype=torch.float64).dtype == torch.float64


@given(n=st.integers(1, 40), d=st.integers(2, 40), seed=st.integers(0, 2**31))
def test_sample_sphere_unit_norm(n, d, seed):
    x = sample_sphere(n, d, seed=seed)
    assert x.shape == (n, d)
    assert torch.allclose(x.norm(dim=1), torch.ones(n), atol=1e-6, rtol=0)


def test_sample_sphere_is_rotation_invariant_in_mean_and_second_moment():
    # Uniform on S^{d-1}: E x = 0, E x x^T = I/d. Entry x_k has variance 1/d, and x_k^2
    # has variance (3/(d(d+2)) - 1/d^2) <= 2/d^2, so the empirical means below have
    # standard errors <= sqrt(1/(dn)) and sqrt(2/(d^2 n)); we allow 6 of them.
    n, d = 20000, 5
    x = sample_sphere(n, d, seed=1).double()
    assert (x.mean(0).abs() <= 6 * math.sqrt(1 / (d * n))).all()
    second = (x * x).mean(0)
    assert ((second - 1 / d).abs() <= 6 * math.sqrt(2 / (d * d * n))).all()


def test_sample_gaussian_mean_square_norm_is_one():
    # ||x||^2 = chi2_d / d has mean 1 and variance 2/d; the mean of n of them has
    # standard error sqrt(2/(dn)).
    n, d = 5000, 20
    x = sample_gaussian(n, d, seed=2).double()
    sq = (x * x).sum(1)
    assert abs(float(sq.mean()) - 1.0) <= 6 * math.sqrt(2 / (d * n))
    # Entries are N(0, 1/d): the empirical variance of all n*d entries is 1/d within 6
    # standard errors (var of x^2 is 2/d^2, so the SE of its mean is sqrt(2/(d^2 n d))).
    assert abs(float((x * x).mean()) - 1 / d) <= 6 * math.sqrt(2 / (d * d * n * d))


@given(n=st.integers(1, 200), seed=st.integers(0, 2**31))
def test_random_signs_values(n, seed):
    s = random_signs(n, seed=seed)
    assert s.shape == (n,) and s.dtype == torch.float32
    assert bool(((s == 1) | (s == -1)).all())
    assert torch.equal(s, random_signs(n, seed=seed))


def test_random_signs_balanced():
    # Mean of n Rademacher signs has standard error 1/sqrt(n).
    n = 10000
    s = random_signs(n, seed=5)
    assert abs(float(s.mean())) <= 6 / math.sqrt(n)
    assert set(s.unique().tolist()) == {-1.0, 1.0}


@pytest.mark.parametrize("sampler", [sample_sphere, sample_gaussian])
@given(n=st.integers(max_value=0))
def test_samplers_reject_bad_n(sampler, n):
    raises_naming("n", sampler, n, 3)


@pytest.mark.parametrize("sampler", [sample_sphere, sample_gaussian])
@given(d=st.integers(max_value=1))
def test_samplers_reject_bad_d(sampler, d):
    raises_naming("d", sampler, 3, d)


@pytest.mark.parametrize("sampler", [sample_sphere, sample_gaussian])
@given(value=non_integers)
def test_samplers_reject_non_integer_sizes(sampler, value):
    raises_naming("n", sampler, value, 3)
    raises_naming("d", sampler, 3, value)


@given(n=st.one_of(st.integers(max_value=0), non_integers))
def test_random_signs_rejects_bad_n(n):
    raises_naming("n", random_signs, n)


@pytest.mark.parametrize("sampler", [sample_sphere, sample_gaussian])
@pytest.mark.parametrize("bad", [0, "seed", np.random.default_rng(0)])
def test_samplers_reject_non_generator(sampler, bad):
    raises_naming("generator", sampler, 3, 3, generator=bad)
    raises_naming("generator", random_signs, 3, generator=bad)


# -------------------------------------------------------------------- memorization task


def test_memorization_task_structure():
    task = memorization_task(50, 6, 0.3, seed=4)
    assert task.x.shape == (50, 6) and task.n == 50 and task.d == 6
    assert task.signal.shape == task.noise.shape == task.y.shape == (50,)
    assert torch.equal(task.y, task.signal + task.noise)  # exactly, not approximately
    assert torch.equal(task.signal, task.x[:, 0])  # the signal g(x) = x_1
    assert task.sigma == 0.3
    # The inputs are the sampler's own output for the same seed (x is drawn first).
    assert torch.equal(task.x, sample_sphere(50, 6, seed=4))
    # Reproducible from the seed, and from an explicit generator.
    again = memorization_task(50, 6, 0.3, generator=make_generator(4))
    assert torch.equal(task.y, again.y) and torch.equal(task.x, again.x)


def test_memorization_task_sphere_rows_unit_norm():
    task = memorization_task(100, 8, 1.0, seed=0)
    assert torch.allclose(task.x.norm(dim=1), torch.ones(100), atol=1e-6, rtol=0)


def test_memorization_task_gaussian_noise_variance():
    # mean(z^2) for z ~ N(0, sigma^2) has mean sigma^2 and standard error sigma^2
    # sqrt(2/n).
    n, sigma = 20000, 0.7
    task = memorization_task(n, 3, sigma, seed=9)
    z = task.noise.double()
    assert abs(float((z * z).mean()) - sigma**2) <= 6 * sigma**2 * math.sqrt(2 / n)
    assert abs(float(z.mean())) <= 6 * sigma / math.sqrt(n)


def test_memorization_task_zero_noise():
    task = memorization_task(20, 4, 0.0, seed=1)
    assert torch.equal(task.noise, torch.zeros(20))
    assert torch.equal(task.y, task.x[:, 0])


def test_linear_signal_is_first_coordinate_copy():
    x = torch.randn(5, 3)
    s = linear_signal(x)
    assert torch.equal(s, x[:, 0])
    s[0] = 100.0
    assert x[0, 0] != 100.0  # a copy, not a view


@given(sigma=bad_nonnegative)
def test_memorization_task_rejects_bad_sigma(sigma):
    raises_naming("sigma", memorization_task, 10, 3, sigma)


@given(n=st.one_of(st.integers(max_value=1), non_integers))
def test_memorization_task_rejects_bad_n(n):
    raises_naming("n", memorization_task, n, 3, 0.1)


@given(d=st.one_of(st.integers(max_value=1), non_integers))
def test_memorization_task_rejects_bad_d(d):
    raises_naming("d", memorization_task, 10, d, 0.1)


# ------------------------------------------------------------------------ error metrics


def test_mean_squared_error_hand_values():
    assert mean_squared_error(
        torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 1.0, 1.0])
    ) == pytest.approx(5 / 3)
    assert (
        mean_squared_error(torch.tensor([0.5, -0.5]), torch.tensor([0.5, -0.5])) == 0.0
    )
    assert mean_squared_error([2.0, 0.0], [0.0, 0.0]) == pytest.approx(
        2.0
    )  # lists are accepted


def test_partially_memorizes_exact_cases():
    # sign noise z = ±σ, so that the noise floor (1/n) Σ z_i² is σ² exactly
    sigma = 0.5
    signal = sample_sphere(200, 5, seed=3)[:, 0]
    noise = sigma * random_signs(200, seed=3)
    y = signal + noise
    # Predicting y exactly: MSE 0 <= sigma^2 - eps for every eps in (0, sigma^2].
    assert partially_memorizes(y, y, sigma, sigma**2)
    assert partially_memorizes(y, y, sigma, 1e-6)
    # Predicting the signal alone: MSE = mean(z^2) = sigma^2 exactly with sign noise ->
    # fails for any eps > 0.
    assert mean_squared_error(signal, y) == pytest.approx(
        float((noise**2).mean()), rel=1e-6
    )
    assert mean_squared_error(signal, y) == pytest.approx(sigma**2, rel=1e-5)
    assert not partially_memorizes(signal, y, sigma, 1e-3)


def test_partially_memorizes_gaussian_noise_threshold():
    # The test passes exactly when eps <= sigma^2 - mse; with the signal as predictor
    # mse = mean(z^2).
    sigma = 1.0
    task = memorization_task(400, 5, sigma, seed=3)
    mse_signal = mean_squared_error(task.signal, task.y)
    assert mse_signal == pytest.approx(
        float((task.noise.double() ** 2).mean()), rel=1e-5
    )
    gap = sigma**2 - mse_signal
    if gap > 2e-4:
        assert partially_memorizes(task.signal, task.y, sigma, gap - 1e-4)
    assert not partially_memorizes(
        task.signal, task.y, sigma, min(max(gap, 0.0) + 1e-4, sigma**2)
    )
    # Halfway between signal and labels: MSE = mean(z^2)/4, which passes for eps =
    # sigma^2 - mse/4 - 1e-4 as soon as mean(z^2) is near sigma^2.
    half = task.signal + task.noise / 2
    assert mean_squared_error(half, task.y) == pytest.approx(mse_signal / 4, rel=1e-5)
    assert partially_memorizes(half, task.y, sigma, sigma**2 - mse_signal / 4 - 1e-4)
    assert not partially_memorizes(
        half, task.y, sigma, sigma**2 - mse_signal / 4 + 1e-4
    )


@given(epsilon=bad_positive)
def test_partially_memorizes_rejects_bad_epsilon(epsilon):
    y = torch.zeros(4)
    raises_naming("epsilon", partially_memorizes, y, y, 1.0, epsilon)


@given(epsilon=st.floats(1.0001, 1e6))
def test_partially_memorizes_rejects_epsilon_above_sigma_squared(epsilon):
    y = torch.zeros(4)
    raises_naming("epsilon", partially_memorizes, y, y, 1.0, epsilon)


@given(sigma=bad_positive)
def test_partially_memorizes_rejects_bad_sigma(sigma):
    y = torch.zeros(4)
    raises_naming("sigma", partially_memorizes, y, y, sigma, 0.1)


@given(n=st.integers(1, 6), m=st.integers(1, 6))
def test_mean_squared_error_rejects_length_mismatch(n, m):
    if n == m:
        return
    raises_naming("predictions", mean_squared_error, torch.zeros(n), torch.zeros(m))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_mean_squared_error_rejects_nonfinite(bad):
    good = torch.zeros(3)
    raises_naming("y", mean_squared_error, good, torch.tensor([0.0, bad, 0.0]))
    raises_naming(
        "predictions", mean_squared_error, torch.tensor([0.0, bad, 0.0]), good
    )


def test_mean_squared_error_rejects_wrong_rank():
    raises_naming("y", mean_squared_error, torch.zeros(3), torch.zeros(3, 1))
    raises_naming("predictions", mean_squared_error, torch.zeros(3, 1), torch.zeros(3))


def test_mean_squared_error_rejects_empty():
    # The mean of no errors is NaN, not an error level: empty labels must be refused.
    raises_naming("y", mean_squared_error, torch.zeros(0), torch.zeros(0))


# ----------------------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0)


def test_load_digits_shapes_and_values(digits):
    assert isinstance(digits, lawlib.DigitsData)
    n_train, n_test = digits.x_train.shape[0], digits.x_test.shape[0]
    assert n_train + n_test == 1797
    assert n_test == round(0.25 * 1797) == 449
    assert digits.x_train.shape == (n_train, 64) and digits.x_test.shape == (n_test, 64)
    assert digits.y_train.shape == (n_train,) and digits.y_test.shape == (n_test,)
    assert digits.y_train.dtype == torch.long
    for x in (digits.x_train, digits.x_test):
        assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert set(torch.cat([digits.y_train, digits.y_test]).tolist()) == set(range(10))
    assert digits.images_shape == (8, 8)


def test_load_digits_split_is_a_partition(digits):
    from sklearn.datasets import load_digits as sk_load

    bunch = sk_load()
    all_x = torch.cat([digits.x_train, digits.x_test]) * 16
    all_y = torch.cat([digits.y_train, digits.y_test])
    # Same multiset of (image, label) rows as scikit-learn's data set.
    ours = sorted(
        map(
            tuple, torch.cat([all_x, all_y[:, None].float()], 1).round().long().tolist()
        )
    )
    theirs = sorted(
        map(
            tuple,
            np.concatenate([bunch.data, bunch.target[:, None]], 1).astype(int).tolist(),
        )
    )
    assert ours == theirs


def test_load_digits_seeding_and_fraction(digits):
    again = load_digits(seed=0)
    assert torch.equal(again.x_test, digits.x_test) and torch.equal(
        again.y_train, digits.y_train
    )
    other = load_digits(seed=1)
    assert not torch.equal(other.y_test, digits.y_test)
    via_generator = load_digits(generator=make_generator(0))
    assert torch.equal(via_generator.x_train, digits.x_train)
    tenth = load_digits(0.1, seed=0)
    assert tenth.x_test.shape[0] == round(0.1 * 1797) == 180


@given(
    frac=st.one_of(
        st.floats(max_value=0.0),
        st.floats(min_value=1.0),
        st.just(float("nan")),
        st.none(),
    )
)
def test_load_digits_rejects_bad_fraction(frac):
    raises_naming("test_fraction", load_digits, frac)


@pytest.mark.parametrize("frac", [1e-4, 0.9999])
def test_load_digits_never_returns_an_empty_split(frac):
    # A fraction in (0, 1) that rounds to an empty train or test set must be refused,
    # not returned.
    try:
        data = load_digits(frac, seed=0)
    except ValueError as err:
        assert "test_fraction" in str(err)
    else:
        assert data.x_test.shape[0] >= 1 and data.x_train.shape[0] >= 1
