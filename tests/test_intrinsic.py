"""Tests of lawlib.chapters.imagenet_envelope: exact answers on hand-made distances,
brute force, and data of known dimension."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

from lawlib import make_generator
from lawlib.chapters import imagenet_envelope as intrinsic
from lawlib.chapters.imagenet_envelope import (
    embedded_curve,
    embedded_gaussian,
    knn_distances,
    load_mnist_if_available,
    mle_dimension,
    mle_from_distances,
    pca_profile,
    twonn_dimension,
    twonn_from_distances,
)


@st.composite
def clouds(draw, min_n=3, max_n=30, max_d=5):
    """A random float64 cloud (n, d), a neighbour count 1 <= k <= n - 1 and a chunk
    size.
    """
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, max_d))
    x = torch.randn(
        n, d, generator=make_generator(draw(st.integers(0, 2**31))), dtype=torch.float64
    )
    k = draw(st.integers(1, n - 1))
    chunk = draw(
        st.one_of(st.sampled_from([1, n - 1, n, n + 5]), st.integers(1, n + 2))
    )
    return x, k, chunk


def poisson_distances(n: int, k: int, m: int, seed: int) -> torch.Tensor:
    """Neighbour distances of a Poisson process in dimension m: T_j = (E_1 + ... +
    E_j)^(1/m), E_i ~ Exp(1).
    """
    g = make_generator(seed)
    e = -torch.log(torch.rand(n, k, generator=g, dtype=torch.float64))
    return e.cumsum(dim=1) ** (1.0 / m)


# ----------------------------------------------------------------------------- k
# nearest neighbours


def test_knn_hand_example():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]], dtype=torch.float64)
    expected = torch.tensor(
        [[1.0, 3.0], [1.0, 2.0], [2.0, 3.0], [4.0, 6.0]], dtype=torch.float64
    )
    for chunk in (1, 2, 3, 4, 100):
        assert torch.equal(knn_distances(x, 2, chunk=chunk), expected)


def test_knn_duplicates_count_at_distance_zero_but_self_does_not():
    x = torch.tensor([[1.0, 1.0], [1.0, 1.0], [4.0, 5.0]], dtype=torch.float64)
    t = knn_distances(x, 2, chunk=1)
    assert t.tolist() == [[0.0, 5.0], [0.0, 5.0], [5.0, 5.0]]


@given(clouds())
def test_knn_matches_brute_force(case):
    x, k, chunk = case
    full = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
    full.fill_diagonal_(float("inf"))
    brute = full.sort(dim=1).values[:, :k]
    assert torch.allclose(knn_distances(x, k, chunk=chunk), brute, rtol=0, atol=1e-12)


def test_knn_distances_are_recomputed_exactly():
    # two far-apart pairs at distance 1e-4: ‖a‖² + ‖b‖² − 2<a, b> has an error ~ 1e-8
    # (eps · 1e8), the size of
    # the squared distance itself; the distances measured from the differences are exact
    x = torch.tensor(
        [[1e4, 0.0], [1e4, 1e-4], [-1e4, 0.0], [-1e4, 1e-4]], dtype=torch.float64
    )
    t = knn_distances(x, 1)
    assert torch.allclose(
        t[:, 0], torch.full((4,), 1e-4, dtype=torch.float64), rtol=1e-9, atol=0
    )


# -----------------------------------------------------------------------------
# Levina–Bickel


def test_mle_hand_value():
    # one point with neighbours at 1, 2, 3: S = log 3 + log(3/2) = log 4.5, local
    # estimate 2 / log 4.5
    t = torch.tensor(
        [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]], dtype=torch.float64
    )  # the second is a scaled copy
    for average in ("inverse", "mean"):
        est = mle_from_distances(t, average=average)
        assert est.k == 3 and est.average == average
        assert est.dimension == pytest.approx(2 / math.log(4.5), rel=1e-14)
        assert torch.allclose(
            est.local, torch.full((2,), 2 / math.log(4.5), dtype=torch.float64)
        )


def test_mle_line_with_unit_spacing():
    # T_j = j for j = 1..k: S = (k - 1) log k - log (k - 1)!
    for k in (2, 5, 10):
        t = torch.arange(1, k + 1, dtype=torch.float64)[None, :]
        s = (k - 1) * math.log(k) - math.lgamma(k)
        assert mle_from_distances(t).dimension == pytest.approx((k - 1) / s, rel=1e-13)


@given(st.integers(1, 40), st.integers(2, 12), st.integers(0, 2**31))
def test_inverse_average_is_the_harmonic_mean_and_never_exceeds_the_mean(n, k, seed):
    t = poisson_distances(n, k, 3, seed)
    inv, mean = mle_from_distances(t, "inverse"), mle_from_distances(t, "mean")
    assert inv.dimension == pytest.approx(1 / float((1 / inv.local).mean()), rel=1e-12)
    assert mean.dimension == pytest.approx(float(inv.local.mean()), rel=1e-12)
    assert inv.dimension <= mean.dimension * (
        1 + 1e-12
    )  # harmonic mean <= arithmetic mean


def test_poisson_model_inverse_average_is_consistent_mean_average_is_biased():
    # S ~ Gamma(k - 1, rate m): (k - 1)/mean S -> m, while mean (k - 1)/S -> m (k -
    # 1)/(k - 2)
    m, k = 3, 5
    t = poisson_distances(40_000, k, m, seed=1)
    assert mle_from_distances(t, "inverse").dimension == pytest.approx(m, rel=0.02)
    assert mle_from_distances(t, "mean").dimension == pytest.approx(
        m * (k - 1) / (k - 2), rel=0.03
    )


@given(st.floats(1e-3, 1e3), st.integers(0, 2**31))
def test_mle_is_invariant_under_scaling_and_rotation(c, seed):
    g = make_generator(seed)
    x = torch.randn(60, 4, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
    base = mle_dimension(x, 5).dimension
    assert mle_dimension(c * x, 5).dimension == pytest.approx(base, rel=1e-9)
    assert mle_dimension(x @ q + 7.0, 5).dimension == pytest.approx(base, rel=1e-9)


@pytest.mark.parametrize("m", [1, 2, 5])
def test_mle_recovers_the_dimension_of_an_embedded_gaussian(m):
    x = embedded_gaussian(3000, m, 30, generator=make_generator(m))
    t = knn_distances(x, 10)  # one search for all three estimates
    assert mle_from_distances(t).dimension == pytest.approx(m, rel=0.1)
    assert twonn_from_distances(t[:, :2]) == pytest.approx(m, rel=0.12)
    assert twonn_from_distances(t[:, :2], method="fit") == pytest.approx(m, rel=0.12)


def test_uniform_points_on_a_segment():
    x = torch.rand(4000, 1, generator=make_generator(3), dtype=torch.float64)
    assert mle_dimension(x, 10).dimension == pytest.approx(1.0, rel=0.05)


# ----------------------------------------------------------------------------- TwoNN


def test_twonn_mle_hand_value():
    # mu = e for all n points: sum of log mu = n, estimate (n - 1)/n
    n = 7
    t = torch.tensor([[1.0, math.e]] * n, dtype=torch.float64)
    assert twonn_from_distances(t) == pytest.approx((n - 1) / n, rel=1e-14)


@given(st.integers(10, 200), st.floats(0.5, 30), st.floats(0.0, 0.5))
def test_twonn_fit_is_exact_on_the_pareto_quantiles(n, m, discard):
    # mu_i = (1 - i/n)^(-1/m), i < n: then -log(1 - F_i) = m log mu_i exactly for every
    # kept point;
    # the n-th (largest) ratio is never kept (F = 1 there)
    i = torch.arange(1, n, dtype=torch.float64)
    mu = (1 - i / n) ** (-1.0 / m)
    mu = torch.cat([mu, 2 * mu[-1:]])
    t = torch.stack([torch.ones_like(mu), mu], dim=1)
    assert twonn_from_distances(t, method="fit", discard=discard) == pytest.approx(
        m, rel=1e-10
    )


def test_twonn_uses_only_the_first_two_distances():
    t = poisson_distances(500, 6, 4, seed=9)
    assert twonn_from_distances(t) == twonn_from_distances(t[:, :2])


# ----------------------------------------------------------------------------- PCA


def test_pca_hand_example():
    a, b = 2.0, 1.0
    x = torch.tensor([[a, 0.0], [-a, 0.0], [0.0, b], [0.0, -b]])
    p = pca_profile(x)
    assert torch.allclose(
        p.variances, torch.tensor([2 * a * a / 3, 2 * b * b / 3], dtype=torch.float64)
    )
    assert torch.allclose(p.ratios, torch.tensor([0.8, 0.2], dtype=torch.float64))
    assert p.components_for(0.5) == 1 and p.components_for(0.8) == 1
    assert p.components_for(0.8001) == 2 and p.components_for(1.0) == 2


@pytest.mark.parametrize("m", [1, 3, 7])
def test_pca_counts_the_dimension_of_a_subspace_exactly(m):
    x = embedded_gaussian(200, m, 20, generator=make_generator(m))
    p = pca_profile(x)
    assert p.components_for(1 - 1e-9) == m
    assert float(p.ratios[m:].sum()) < 1e-20 + 1e-12


@given(st.integers(2, 12), st.integers(2, 12), st.integers(0, 2**31))
def test_pca_matches_the_singular_values_whichever_side_is_smaller(n, d, seed):
    x = torch.randn(n, d, generator=make_generator(seed), dtype=torch.float64)
    p = pca_profile(x)
    xc = x - x.mean(dim=0)
    sv = torch.linalg.svdvals(xc) ** 2 / (n - 1)
    assert p.variances.numel() == min(n, d)
    assert torch.allclose(p.variances, sv, atol=1e-10)
    assert float(p.cumulative[-1]) == pytest.approx(1.0, abs=1e-12)


# ----------------------------------------------------------------------------- MNIST
# guard


def test_mnist_guard_offline(monkeypatch, capsys):
    monkeypatch.setenv("LAWLIB_OFFLINE", "1")
    assert load_mnist_if_available() is None
    assert "LAWLIB_OFFLINE" in capsys.readouterr().out
    assert load_mnist_if_available(verbose=False) is None
    assert capsys.readouterr().out == ""


def _idx(array, code: int, fmt: str) -> bytes:
    """An IDX file written by hand: magic (0, 0, type, ndim), big-endian sizes,
    big-endian values.
    """
    import struct

    header = bytes([0, 0, code, array.ndim]) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(fmt).tobytes()


def test_read_idx_uint8_gzip_and_int32():
    import gzip

    import numpy as np

    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = _idx(images, 0x08, "u1")
    assert raw[:4] == bytes([0, 0, 8, 3]) and len(raw) == 4 + 12 + 24
    for data in (raw, gzip.compress(raw)):
        t = intrinsic.read_idx(data)
        assert t.dtype == torch.uint8 and tuple(t.shape) == (2, 3, 4)
        assert t.flatten().tolist() == list(range(24))
    ints = np.array([[-1, 70000], [3, -5]], dtype=np.int32)
    t = intrinsic.read_idx(_idx(ints, 0x0C, ">i4"))
    assert t.dtype == torch.int32 and t.tolist() == [[-1, 70000], [3, -5]]


def test_read_idx_rejects_bad_files():
    import numpy as np

    with pytest.raises(ValueError, match="magic"):
        intrinsic.read_idx(b"\x01\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="header promises"):
        intrinsic.read_idx(_idx(np.zeros(5, dtype=np.uint8), 0x08, "u1")[:-1])
    with pytest.raises(ValueError, match="bytes"):
        intrinsic.read_idx("not bytes")


def test_mnist_from_cached_idx_files(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.delenv("LAWLIB_OFFLINE", raising=False)
    folder = tmp_path / "MNIST" / "raw"
    folder.mkdir(parents=True)
    images = (np.arange(3 * 28 * 28) % 256).astype(np.uint8).reshape(3, 28, 28)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(
        __import__("gzip").compress(_idx(images, 0x08, "u1"))
    )
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        _idx(np.array([7, 2, 1], dtype=np.uint8), 0x08, "u1")
    )
    data = load_mnist_if_available(tmp_path, train=False, mirrors=(), verbose=False)
    assert (
        data is not None
        and tuple(data.x.shape) == (3, 784)
        and data.y.tolist() == [7, 2, 1]
    )
    assert float(data.x.max()) == 1.0 and float(data.x[0, 1]) == pytest.approx(1 / 255)


def test_mnist_unreachable_returns_none_quickly(tmp_path, monkeypatch, capsys):
    import time

    monkeypatch.delenv("LAWLIB_OFFLINE", raising=False)
    start = time.perf_counter()
    data = load_mnist_if_available(
        tmp_path, mirrors=("http://127.0.0.1:9/",), timeout=2.0
    )
    assert data is None and time.perf_counter() - start < 10
    assert "could not be downloaded" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["", "0", "false", "no", "1", "yes"])
def test_offline_flag(monkeypatch, value):
    monkeypatch.setenv("LAWLIB_OFFLINE", value)
    assert intrinsic.offline() == (value in ("1", "yes"))


# ----------------------------------------------------------------------------- bad
# input


bad_numbers = st.sampled_from(
    [0, -1, -0.5, float("nan"), float("inf"), "three", None, [1.0]]
)


@given(st.sampled_from([0, -2, 1.5, "2", None, True, 50]))
def test_knn_bad_k(k):
    raises_naming("k", knn_distances, torch.randn(10, 2), k)


@given(st.sampled_from([0, -1, 2.5, "4", None]))
def test_knn_bad_chunk(chunk):
    raises_naming("chunk", knn_distances, torch.randn(10, 2), 2, chunk=chunk)


@given(st.sampled_from([1, 0, -3, 2.5, "10", None]))
def test_mle_bad_k(k):
    raises_naming("k", mle_dimension, torch.randn(20, 3), k)


@given(st.sampled_from(["median", "", None, 3]))
def test_bad_average(average):
    raises_naming("average", mle_dimension, torch.randn(20, 3), 5, average=average)
    raises_naming("average", mle_from_distances, torch.tensor([[1.0, 2.0]]), average)


@given(st.sampled_from(["unsorted", "negative", "zero_first", "one_col", "nan", "1d"]))
def test_bad_distances(kind):
    t = {
        "unsorted": [[2.0, 1.0]],
        "negative": [[-1.0, 1.0]],
        "zero_first": [[0.0, 1.0], [1.0, 2.0]],
        "one_col": [[1.0]],
        "nan": [[1.0, float("nan")]],
        "1d": [1.0, 2.0],
    }[kind]
    t = torch.tensor(t)
    raises_naming("distances", mle_from_distances, t)
    raises_naming("distances", twonn_from_distances, t)


@given(st.sampled_from(["mean", "", None]))
def test_twonn_bad_method(method):
    raises_naming("method", twonn_dimension, torch.randn(20, 3), method=method)


@given(st.sampled_from([-0.1, 1.0, 2.0, float("nan"), "a", None]))
def test_twonn_bad_discard(discard):
    raises_naming(
        "discard",
        twonn_from_distances,
        torch.tensor([[1.0, 2.0], [1.0, 3.0]]),
        "fit",
        discard,
    )


def test_pca_zero_variance():
    raises_naming("x", pca_profile, torch.ones(5, 3))


@given(
    st.sampled_from(
        [
            ("n", 1),
            ("intrinsic", 0),
            ("ambient", 0),
            ("intrinsic", 9),
            ("noise", -1.0),
            ("noise", float("nan")),
            ("generator", "seed"),
        ]
    )
)
def test_embedded_gaussian_bad_input(case):
    name, value = case
    kwargs = dict(n=10, intrinsic=2, ambient=5)
    kwargs[name] = value
    raises_naming(name, embedded_gaussian, **kwargs)


@given(
    st.sampled_from([("n", 0), ("ambient", 1), ("frequencies", 0), ("generator", 3)])
)
def test_embedded_curve_bad_input(case):
    name, value = case
    kwargs = dict(n=10, ambient=5)
    kwargs[name] = value
    raises_naming(name, embedded_curve, **kwargs)


@given(bad_numbers)
def test_mnist_bad_timeout(timeout):
    raises_naming("timeout", load_mnist_if_available, timeout=timeout)
