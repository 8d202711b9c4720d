"""Tests of lawlib.geometry against brute force (torch.pdist, the full Gram matrix,
torch.cdist).
"""

from __future__ import annotations

import math

import pytest
import torch
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

from lawlib import (
    PairExtreme,
    make_generator,
    max_inner_product,
    min_pairwise_distance,
    sample_pair_inner_products,
    sample_sphere,
)


@st.composite
def clouds(draw, min_n=2, max_n=24, max_d=6):
    """A random float64 point cloud (n, d) and a chunk size among 1, n−1, n, > n, or
    anything in between.
    """
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, max_d))
    seed = draw(st.integers(0, 2**31))
    x = torch.randn(n, d, generator=make_generator(seed), dtype=torch.float64)
    chunk = draw(
        st.one_of(
            st.sampled_from([1, max(n - 1, 1), n, n + 1, 3 * n]), st.integers(1, n + 2)
        )
    )
    return x, chunk


def brute_min_distance(x: torch.Tensor) -> float:
    return float(torch.pdist(x).min())


def brute_max_inner(x: torch.Tensor) -> float:
    gram = x @ x.T
    n = x.shape[0]
    iu = torch.triu_indices(n, n, offset=1)
    return float(gram[iu[0], iu[1]].max())


# ----------------------------------------------------------------------------- hand
# examples


def test_min_distance_hand_example():
    x = torch.tensor([[0.0], [3.0], [10.0]])
    for chunk in (1, 2, 3, 4, 1024):
        r = min_pairwise_distance(x, chunk=chunk)
        assert isinstance(r, PairExtreme)
        assert (r.value, r.i, r.j) == (3.0, 0, 1)
    # Move the close pair to the end: 10, 0, 3 -> pair (1, 2).
    r = min_pairwise_distance(torch.tensor([[10.0], [0.0], [3.0]]), chunk=1)
    assert (r.value, r.i, r.j) == (3.0, 1, 2)


def test_max_inner_product_hand_example():
    x = torch.tensor([[1.0], [2.0], [3.0]])
    for chunk in (1, 2, 3, 5):
        r = max_inner_product(x, chunk=chunk)
        assert (r.value, r.i, r.j) == (6.0, 1, 2)
    # Diagonal entries (<x_i, x_i> = 4 for the longest point) are never counted.
    r = max_inner_product(torch.tensor([[2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    assert (r.value, r.i, r.j) == (0.0, 0, 1)


def test_two_points():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert min_pairwise_distance(x) == PairExtreme(5.0, 0, 1)
    assert max_inner_product(x) == PairExtreme(0.0, 0, 1)


def test_duplicate_points_have_distance_zero():
    x = torch.tensor([[1.0, 2.0], [5.0, 5.0], [1.0, 2.0], [9.0, 0.0]])
    r = min_pairwise_distance(x, chunk=1)
    assert (r.value, r.i, r.j) == (0.0, 0, 2)


# ----------------------------------------------------------------------------- brute
# force, all chunk sizes


@given(clouds())
def test_min_pairwise_distance_matches_pdist(cloud):
    x, chunk = cloud
    r = min_pairwise_distance(x, chunk=chunk)
    truth = brute_min_distance(x)
    assert r.value == pytest.approx(truth, rel=1e-9, abs=1e-12)
    assert 0 <= r.i < r.j < x.shape[0]
    assert float((x[r.i] - x[r.j]).norm()) == pytest.approx(r.value, rel=1e-12, abs=0)


@given(clouds())
def test_max_inner_product_matches_gram(cloud):
    x, chunk = cloud
    r = max_inner_product(x, chunk=chunk)
    truth = brute_max_inner(x)
    assert r.value == pytest.approx(truth, rel=1e-9, abs=1e-12)
    assert 0 <= r.i < r.j < x.shape[0]
    assert float(x[r.i] @ x[r.j]) == pytest.approx(r.value, rel=1e-9, abs=1e-12)


@given(clouds(max_n=16))
def test_chunk_size_does_not_change_the_answer(cloud):
    x, _ = cloud
    n = x.shape[0]
    ref_d, ref_i = min_pairwise_distance(x, chunk=n), max_inner_product(x, chunk=n)
    for chunk in range(1, n + 2):
        assert min_pairwise_distance(x, chunk=chunk).value == pytest.approx(
            ref_d.value, rel=1e-9, abs=1e-12
        )
        assert max_inner_product(x, chunk=chunk).value == pytest.approx(
            ref_i.value, rel=1e-9, abs=1e-12
        )


def test_float32_sphere_matches_float64_brute_force():
    # The book's use: points on the sphere in float32. The returned value must be the
    # minimum distance
    # of the float32 points (computed exactly in float64), also in low dimension where
    # the closest pair
    # is much closer than sqrt(float32 eps) ~ 3e-4.
    for d, n in [(2, 2000), (3, 1500), (10, 1000)]:
        x = sample_sphere(n, d, seed=d)
        r = min_pairwise_distance(x, chunk=256)
        truth = brute_min_distance(x.double())
        assert r.value == pytest.approx(truth, rel=1e-3), (
            f"d={d}: got {r.value}, brute force {truth}"
        )


def test_min_distance_is_translation_invariant_in_float32():
    # Two candidate pairs, at distances 1.0 and 1.2, far from the origin: the answer
    # must be 1.0.
    x = torch.tensor([[3e3, 1e3], [3e3 + 1.2, 1e3], [1e3, 3e3], [1e3, 3e3 + 1.0]])
    r = min_pairwise_distance(x)
    assert r.value == pytest.approx(1.0, rel=1e-4)
    assert (r.i, r.j) == (2, 3)


# -----------------------------------------------------------------------------
# sample_pair_inner_products


@given(n=st.integers(2, 12), n_pairs=st.integers(1, 300), seed=st.integers(0, 2**31))
def test_sample_pair_inner_products_never_pairs_a_point_with_itself(n, n_pairs, seed):
    # Orthonormal points: <x_i, x_i> = 1 but <x_i, x_j> = 0 for i != j, so any self-pair
    # would show as a 1.
    x = torch.eye(n)
    t = sample_pair_inner_products(x, n_pairs, generator=make_generator(seed))
    assert t.shape == (n_pairs,)
    assert bool((t == 0).all())


def test_sample_pair_inner_products_covers_all_pairs():
    # Points 1, 2, 3, 4 on a line: <x_i, x_j> = i * j identifies the unordered pair, and
    # every pair appears
    # (never a square i * i).
    n = 4
    x = torch.arange(1.0, n + 1)[:, None]
    t = sample_pair_inner_products(x, 2000, generator=make_generator(0))
    assert set(t.tolist()) == {
        float(i * j) for i in range(1, n + 1) for j in range(1, n + 1) if i != j
    }


def test_sample_pair_inner_products_seeding():
    x = sample_sphere(50, 4, seed=0)
    a = sample_pair_inner_products(x, 100, generator=make_generator(7))
    b = sample_pair_inner_products(x, 100, generator=make_generator(7))
    c = sample_pair_inner_products(x, 100, generator=make_generator(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(
        sample_pair_inner_products(x, 100), sample_pair_inner_products(x, 100)
    )


@pytest.mark.parametrize("d", [3, 10, 50])
def test_sample_pair_inner_products_moments_on_sphere(d):
    # t = <x_i, x_j> for independent uniform points on S^{d-1}: E t = 0, E t^2 = 1/d,
    # Var t^2 < 2/d^2.
    # With n = 4000 points and m = 4000 random pairs, pairs rarely share a point, so the
    # standard errors
    # are ~ sqrt(1/(d m)) for the mean and sqrt(2/(d^2 m)) for the mean square; allow 6
    # of them.
    n, m = 4000, 4000
    x = sample_sphere(n, d, seed=d).double()
    t = sample_pair_inner_products(x, m, generator=make_generator(1))
    assert abs(float(t.mean())) <= 6 * math.sqrt(1 / (d * m))
    assert abs(float((t * t).mean()) - 1 / d) <= 6 * math.sqrt(2 / (d * d * m))
    assert bool((t.abs() <= 1 + 1e-12).all())


# ----------------------------------------------------------------------------- bad
# input


point_functions = [min_pairwise_distance, max_inner_product]


@pytest.mark.parametrize("fn", point_functions)
@given(
    shape=st.one_of(
        st.tuples(st.integers(0, 5)),
        st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    )
)
def test_wrong_rank_raises(fn, shape):
    raises_naming("x", fn, torch.zeros(shape))


@pytest.mark.parametrize("fn", [min_pairwise_distance, max_inner_product])
@given(d=st.integers(1, 4))
def test_fewer_than_two_points_raises(fn, d):
    raises_naming("x", fn, torch.zeros(1, d))
    raises_naming("x", fn, torch.zeros(0, d))
    raises_naming("x", sample_pair_inner_products, torch.zeros(1, d), 5)


@pytest.mark.parametrize("fn", point_functions)
@given(
    bad=st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    i=st.integers(0, 3),
    k=st.integers(0, 1),
)
def test_nonfinite_entries_raise(fn, bad, i, k):
    x = torch.randn(4, 2)
    x[i, k] = bad
    raises_naming("x", fn, x)


@pytest.mark.parametrize("fn", [min_pairwise_distance, max_inner_product])
@given(
    chunk=st.one_of(
        st.integers(max_value=0), st.floats(), st.text(max_size=2), st.none()
    )
)
def test_bad_chunk_raises(fn, chunk):
    raises_naming("chunk", fn, torch.randn(5, 2), chunk=chunk)


@given(n_pairs=st.one_of(st.integers(max_value=0), st.floats(), st.none()))
def test_bad_n_pairs_raises(n_pairs):
    raises_naming("n_pairs", sample_pair_inner_products, torch.randn(5, 2), n_pairs)


def test_non_tensor_input_is_converted_or_refused():
    # Nested lists are accepted (converted); an object that is not array-like is refused
    # naming x.
    assert min_pairwise_distance([[0.0], [3.0], [10.0]]).value == 3.0
    raises_naming("x", min_pairwise_distance, object())


def test_bad_generator_raises():
    raises_naming(
        "generator", sample_pair_inner_products, torch.randn(5, 2), 3, generator=42
    )


@given(clouds(max_n=40), st.integers(1, 64))
def test_small_tiles_give_the_brute_force_answer(cloud, tile_bytes):
    # Tiles of a few columns: the sweep crosses many tiles per row block and finds the
    # partner at the end.
    from lawlib import geometry

    x, chunk = cloud
    old = geometry.TILE_BYTES
    geometry.TILE_BYTES = tile_bytes * x.element_size()
    try:
        r, s = min_pairwise_distance(x, chunk=chunk), max_inner_product(x, chunk=chunk)
    finally:
        geometry.TILE_BYTES = old
    assert r.value == pytest.approx(brute_min_distance(x), rel=1e-9, abs=1e-12)
    assert (
        float((x[r.i] - x[r.j]).norm()) == pytest.approx(r.value, rel=1e-12, abs=0)
        and r.i < r.j
    )
    assert s.value == pytest.approx(brute_max_inner(x), rel=1e-9, abs=1e-12)
    assert (
        float(x[s.i] @ x[s.j]) == pytest.approx(s.value, rel=1e-9, abs=1e-12)
        and s.i < s.j
    )


# ----------------------------------------------------------------------------- the
# kernel


def brute_knn(x: torch.Tensor, y: torch.Tensor | None, k: int, p: float = 2.0):
    """The k smallest distances per row from the full torch.cdist matrix (float64)."""
    ref = x if y is None else y
    full = torch.cdist(
        x.double(), ref.double(), p=p, compute_mode="donot_use_mm_for_euclid_dist"
    )
    if y is None:
        full.fill_diagonal_(math.inf)
    return full.topk(k, dim=1, largest=False).values


@st.composite
def knn_cases(draw):
    n = draw(st.integers(2, 30))
    m = draw(st.integers(1, 30))
    d = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**31))
    g = make_generator(seed)
    # integer coordinates: many exact ties and duplicate points
    x = torch.randint(-2, 3, (n, d), generator=g).to(torch.float32)
    y = None if draw(st.booleans()) else torch.randn(m, d, generator=g)
    avail = n - 1 if y is None else m
    k = draw(st.integers(1, max(1, min(avail, 6))))
    p = draw(st.sampled_from([1.0, 2.0, 3.0, math.inf]))
    rows = draw(st.sampled_from([1, 2, 7, 64]))
    tile = draw(st.sampled_from([1, 5, 64, 1 << 20]))
    return x, y, k, p, rows, tile


@given(knn_cases())
def test_nearest_matches_cdist_brute_force(case):
    from lawlib import geometry

    x, y, k, p, rows, tile = case
    old = geometry.TILE_BYTES
    geometry.TILE_BYTES = tile * x.element_size()
    try:
        got = geometry.nearest(x, y, k, p=p, chunk=rows)
    finally:
        geometry.TILE_BYTES = old
    want = brute_knn(x, y, k, p)
    torch.testing.assert_close(got.distances.double(), want, rtol=1e-6, atol=1e-6)
    # the indices point at rows at those distances, never at the row itself
    ref = x if y is None else y
    again = torch.linalg.vector_norm(
        x.double()[:, None, :] - ref.double()[got.indices], ord=p, dim=2
    )
    torch.testing.assert_close(again, want, rtol=1e-6, atol=1e-6)
    if y is None:
        assert not bool((got.indices == torch.arange(x.shape[0])[:, None]).any())


def test_nearest_float64_recheck_finds_the_true_neighbour():
    # Far from the origin, ‖a‖² + ‖b‖² − 2⟨a, b⟩ in float32 cannot tell these
    # neighbours apart (gaps 1e-4 at norm 1e3); the recheck from the differences can.
    g = make_generator(3)
    base = torch.randn(1, 8, generator=g, dtype=torch.float64) * 1e3
    x64 = base + 1e-3 * torch.randn(200, 8, generator=g, dtype=torch.float64)
    x = x64.float()
    got = lawlib_nearest(x, k=3)
    want = brute_knn(x, None, 3)
    torch.testing.assert_close(got.distances.double(), want, rtol=1e-6, atol=1e-9)


def lawlib_nearest(*args, **kwargs):
    from lawlib.geometry import nearest

    return nearest(*args, **kwargs)


def test_nearest_is_differentiable_in_x():
    g = make_generator(0)
    ref, x = torch.randn(20, 3, generator=g), torch.randn(5, 3, generator=g)
    x.requires_grad_(True)
    d = lawlib_nearest(x, ref, 1).distances[:, 0]
    d.sum().backward()
    j = torch.cdist(x.detach(), ref).argmin(dim=1)
    want = (x.detach() - ref[j]) / d.detach()[:, None]
    torch.testing.assert_close(x.grad, want)


def test_nearest_rejects_bad_arguments():
    x = torch.randn(5, 2)
    raises_naming("k", lawlib_nearest, x, None, 5)
    raises_naming("y", lawlib_nearest, x, torch.randn(3, 3))
    raises_naming("p", lawlib_nearest, x, None, 1, p=0.5)
    raises_naming("chunk", lawlib_nearest, x, None, 1, chunk=0)


def test_pair_tiles_cover_the_upper_triangle_once():
    from lawlib import geometry

    x = torch.randn(23, 4, generator=make_generator(1), dtype=torch.float64)
    old = geometry.TILE_BYTES
    geometry.TILE_BYTES = 35 * x.element_size()
    try:
        seen = torch.zeros(23, 23)
        for i0, j0, blk in geometry.pair_tiles(
            x, metric="half_sq", rows=4, upper=True, fill=math.nan
        ):
            want = (x[i0 : i0 + blk.shape[0]] @ x[j0 : j0 + blk.shape[1]].T) - 0.5 * (
                x[j0 : j0 + blk.shape[1]] ** 2
            ).sum(1)
            keep = ~torch.isnan(blk)
            torch.testing.assert_close(blk[keep], want[keep])
            seen[i0 : i0 + blk.shape[0], j0 : j0 + blk.shape[1]] += keep.double()
    finally:
        geometry.TILE_BYTES = old
    assert torch.equal(seen, torch.ones(23, 23).triu(1))


def test_sample_pair_inner_products_same_values_as_one_gather():
    # Blocks change nothing: the same generator gives the values of the one-shot
    # formula.
    x = sample_sphere(50, 7, seed=2)
    got = sample_pair_inner_products(x, 1000, generator=make_generator(5))
    g = make_generator(5)
    i = torch.randint(0, 50, (1000,), generator=g)
    j = (i + torch.randint(1, 50, (1000,), generator=g)) % 50
    assert torch.equal(got, (x[i] * x[j]).sum(dim=1))


def test_sample_pair_inner_products_memory_is_bounded():
    # 10⁵ pairs in d = 256: one gather would allocate 2 × 100 MB; the blocks stay
    # within TILE_BYTES (plus the 24 bytes a pair of indices and the output).
    from torch.profiler import ProfilerActivity, profile

    from lawlib import geometry

    x = torch.randn(500, 256, generator=make_generator(0))
    n_pairs = 100_000
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        sample_pair_inner_products(x, n_pairs, generator=make_generator(1))
    largest = max(e.cpu_memory_usage for e in prof.events())
    assert largest <= geometry.TILE_BYTES + 8 * n_pairs


def test_kernel_on_a_device_without_float64(monkeypatch):
    # A stand-in for MPS: the float64 recheck moves to the CPU, or runs in float32.
    import lawlib.device

    monkeypatch.setattr(lawlib.device, "lacks_float64", lambda device: True)
    x = torch.randn(60, 3, generator=make_generator(4))
    got = lawlib_nearest(x, k=2)
    torch.testing.assert_close(got.distances.double(), brute_knn(x, None, 2))
    r = min_pairwise_distance(x)
    assert r.value == pytest.approx(brute_min_distance(x.double()), rel=1e-6)


def test_pair_tiles_leave_autograd_alone():
    from lawlib.geometry import pair_tiles

    x = torch.randn(10, 2, requires_grad=True)
    for _, _, blk in pair_tiles(x, rows=2):
        assert torch.is_grad_enabled() and not blk.requires_grad
        break
    assert torch.is_grad_enabled()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_threaded_sweep_gives_the_same_answers_and_restores_threads(threads):
    # On a CPU with several torch threads the row tiles are shared among Python
    # threads with single-threaded BLAS: the same extremes, partners and
    # neighbours as brute force, and the torch thread count is restored.
    from lawlib import geometry

    x = torch.randn(300, 4, generator=make_generator(5), dtype=torch.float64)
    old_threads, old_bytes = torch.get_num_threads(), geometry.TILE_BYTES
    torch.set_num_threads(threads)
    geometry.TILE_BYTES = 64 * x.element_size()  # many row tiles of 8 rows
    try:
        r = min_pairwise_distance(x, chunk=8)
        s = max_inner_product(x, chunk=8)
        nn = geometry.nearest(x, k=3, chunk=8)
        assert torch.get_num_threads() == threads
    finally:
        geometry.TILE_BYTES = old_bytes
        torch.set_num_threads(old_threads)
    assert r.value == pytest.approx(brute_min_distance(x), rel=1e-12)
    assert r.value == pytest.approx(float((x[r.i] - x[r.j]).norm()), rel=1e-12)
    assert s.value == pytest.approx(brute_max_inner(x), rel=1e-12)
    assert s.value == pytest.approx(float(x[s.i] @ x[s.j]), rel=1e-12)
    assert torch.allclose(nn.distances, brute_knn(x, None, 3), rtol=1e-12)


def test_threaded_sweep_reraises_and_restores_threads():
    from lawlib import geometry

    x = torch.randn(64, 3, generator=make_generator(6))
    old_threads = torch.get_num_threads()
    torch.set_num_threads(2)

    def body(i0, j0, blk):
        if i0 > 0:
            raise RuntimeError("boom")

    try:
        with pytest.raises(RuntimeError, match="boom"):
            geometry._for_tiles(x, body, rows=4, upper=True)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old_threads)
