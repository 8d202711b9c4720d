"""Intrinsic dimension of a point cloud: how many coordinates the data really use.

The law of robustness is stated with the ambient dimension d, but real images lie near
much lower-dimensional sets. Three estimators, all from the data alone:

* :func:`pca_profile` / :func:`pca_components` — the *linear* dimension: the
  eigenvalues λ_1 ≥ λ_2 ≥ … of the sample covariance and the smallest m with
  (λ_1 + … + λ_m) / Σ_j λ_j ≥ a given fraction of the variance. Exact for data
  on an m-dimensional affine subspace; it overestimates curved data (a curve
  that winds through many directions needs many components).
* :func:`mle_dimension` — the maximum-likelihood estimator of Levina and
  Bickel (2004) from the distances T_1(x) ≤ … ≤ T_k(x) of each point to its k
  nearest neighbours. Locally the data look like a Poisson process of constant
  density on an m-dimensional set, which gives the local estimate

      m̂_k(x) = (k − 1) / S_k(x),   S_k(x) = Σ_{j=1}^{k−1} log(T_k(x) / T_j(x)).

  The points are combined by **averaging the inverses** (MacKay and Ghahramani, 2005),
  m̂_k = (k − 1) / mean_i S_k(x_i) — the default, ``average="inverse"``, the form Pope
  et al. (2021) use. Levina and Bickel's original ``average="mean"`` takes the mean of
  the m̂_k(x_i); it is biased upwards by the factor (k − 1)/(k − 2), because E[(k−1)/S]
  = (k−1)m/(k−2) when S ~ Gamma(k − 1, rate m) (the ImageNet chapter, exercise).
* :func:`twonn_dimension` — TwoNN (Facco et al., 2017): the ratio μ = T_2/T_1 of the two
  nearest-neighbour distances has the Pareto law P(μ > t) = t^{−m} under the same local
  model, i.e. log μ ~ Exp(m). The maximum-likelihood estimate is n / Σ_i log μ_i;
  ``method="mle"`` returns its bias-corrected variant m̂ = (n − 1) / Σ_i log μ_i
  (unbiased if the μ_i were independent, which they are only approximately), or the
  slope of −log(1 − F(μ)) against log μ through the origin after discarding the largest
  ``discard`` fraction of the μ_i (Facco et al.'s fit, ``method="fit"``).

The k-nearest-neighbour distances come from :func:`knn_distances`, that is
:func:`lawlib.geometry.nearest`: tiles of a matrix product, a running top-k, and the
candidates measured again from the differences, so the distances are exact.

:func:`load_mnist_if_available` downloads MNIST's IDX files with ``urllib`` and parses
them with :func:`read_idx` (no torchvision needed); it never hangs: it gives up at once
when ``LAWLIB_OFFLINE`` is set, and every network call has a timeout otherwise.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import torch

from ._checks import (
    check_choice,
    check_finite,
    check_int,
    check_points,
    check_positive,
    check_tensor,
)
from .device import float64_device
from .geometry import nearest

__all__ = [
    "AVERAGES",
    "ImageData",
    "MLEEstimate",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "PCAProfile",
    "TWONN_METHODS",
    "embedded_curve",
    "embedded_gaussian",
    "knn_distances",
    "load_mnist_if_available",
    "mle_dimension",
    "mle_dimension_curve",
    "mle_from_distances",
    "offline",
    "pca_components",
    "pca_profile",
    "read_idx",
    "twonn_dimension",
    "twonn_from_distances",
]

AVERAGES = ("inverse", "mean")
TWONN_METHODS = ("mle", "fit")


# ----------------------------------------------------------------------------- nearest
# neighbours


def knn_distances(x: torch.Tensor, k: int, chunk: int = 512) -> torch.Tensor:
    """The distances T_1(x_i) ≤ … ≤ T_k(x_i) from each row x_i to its k nearest
    *other* rows, shape (n, k).

    :func:`lawlib.geometry.nearest` (tiles of ``chunk`` rows through
    ‖x_i − x_j‖² = ‖x_i‖² + ‖x_j‖² − 2⟨x_i, x_j⟩, the point itself excluded by its
    index, so a duplicate row elsewhere counts, at distance 0); the candidates are
    measured again from the differences, so the distances carry no cancellation
    error. Device and dtype of ``x``.
    """
    x = check_points("x", x, min_points=2)
    n = x.shape[0]
    k = check_int("k", k, minimum=1)
    if k > n - 1:
        raise ValueError(
            f"k must be <= n - 1 = {n - 1} (each point has n - 1 neighbours), got {k}"
        )
    chunk = check_int("chunk", chunk, minimum=1)
    return nearest(x, k=k, chunk=chunk).distances


def _knn_without_duplicates(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """:func:`knn_distances`, refusing data with repeated rows (a zero distance breaks
    log(T_k / T_1)).
    """
    t = knn_distances(x, k, chunk=chunk)
    if bool((t[:, 0] <= 0).any()):
        raise ValueError(
            "x has duplicate rows (a zero nearest-neighbour distance); remove them "
            "first, "
            "e.g. with torch.unique(x, dim=0)"
        )
    return t


def _check_distances(distances: torch.Tensor, min_cols: int) -> torch.Tensor:
    t = check_tensor("distances", distances, ndim=2, min_rows=1, min_cols=min_cols)
    if bool((t < 0).any()):
        raise ValueError("distances must be >= 0 (they are neighbour distances)")
    if t.shape[1] > 1 and bool((t[:, 1:] < t[:, :-1]).any()):
        raise ValueError(
            "distances must be sorted in increasing order along each row (T_1 <= ... "
            "<= T_k)"
        )
    if bool((t[:, 0] <= 0).any()):
        raise ValueError(
            "distances has a zero nearest-neighbour distance: the points contain "
            "duplicates; "
            "remove them first, e.g. with torch.unique(x, dim=0)"
        )
    return t.to(float64_device(t.device), torch.float64)  # MPS has no float64: the CPU


# -----------------------------------------------------------------------------
# Levina–Bickel MLE


@dataclass(frozen=True)
class MLEEstimate:
    """A Levina–Bickel estimate: the pooled ``dimension``, the per-point ``local``
    estimates (k−1)/S_k(x_i).
    """

    dimension: float
    local: torch.Tensor
    k: int
    average: str


def mle_from_distances(
    distances: torch.Tensor, average: str = "inverse"
) -> MLEEstimate:
    """Levina–Bickel maximum-likelihood dimension from sorted neighbour distances (n,
    k), k ≥ 2.

    S_k(x_i) = Σ_{j<k} log(T_k(x_i)/T_j(x_i)); local estimate m̂(x_i) = (k −
    1)/S_k(x_i). ``average="inverse"`` (MacKay–Ghahramani, the default): m̂ = (k −
    1)/mean_i S_k(x_i), the harmonic mean of the local estimates. ``average="mean"``
    (Levina–Bickel's original): the arithmetic mean of the local estimates. the ImageNet
    chapter.
    """
    t = _check_distances(distances, min_cols=2)
    average = check_choice("average", average, AVERAGES)
    k = t.shape[1]
    s = torch.log(t[:, -1:] / t[:, :-1]).sum(dim=1)
    local = (k - 1) / s  # inf where all k distances tie
    if average == "inverse":
        mean_s = float(s.mean())
        if mean_s <= 0:
            raise ValueError(
                "distances: every point's k neighbour distances are all equal; the "
                "estimate is infinite"
            )
        dimension = (k - 1) / mean_s
    else:
        if bool((s <= 0).any()):
            raise ValueError(
                "distances: some point has k equal neighbour distances (local "
                "estimate infinite); "
                "use average='inverse' or a larger k"
            )
        dimension = float(local.mean())
    return MLEEstimate(float(dimension), local, k, average)


def mle_dimension(
    x: torch.Tensor, k: int = 10, *, average: str = "inverse", chunk: int = 512
) -> MLEEstimate:
    """Levina–Bickel MLE of the intrinsic dimension of the rows of ``x`` with k
    neighbours.

    See :func:`mle_from_distances` for the formula; the distances come from
    :func:`knn_distances`. Needs 2 ≤ k ≤ n − 1 and no duplicate rows.
    """
    x = check_points("x", x, min_points=3)
    k = check_int("k", k, minimum=2)
    average = check_choice("average", average, AVERAGES)
    return mle_from_distances(_knn_without_duplicates(x, k, chunk), average=average)


def mle_dimension_curve(
    x: torch.Tensor, ks: Sequence[int], *, average: str = "inverse", chunk: int = 512
) -> list[float]:
    """The MLE dimension for each k in ``ks``, from one k-nearest-neighbour search with
    k = max(ks).

    Estimates that move with k are a warning: small k sees noise, large k sees
    curvature.
    """
    x = check_points("x", x, min_points=3)
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__"):
        raise ValueError(f"ks must be a sequence of neighbour counts, got {ks!r}")
    ks = [check_int(f"ks[{i}]", k, minimum=2) for i, k in enumerate(ks)]
    if not ks:
        raise ValueError("ks must list at least one neighbour count")
    average = check_choice("average", average, AVERAGES)
    t = _knn_without_duplicates(x, max(ks), chunk)
    return [mle_from_distances(t[:, :k], average=average).dimension for k in ks]


# ----------------------------------------------------------------------------- TwoNN


def twonn_from_distances(
    distances: torch.Tensor, method: str = "mle", discard: float = 0.1
) -> float:
    """TwoNN dimension (Facco et al. 2017) from the two nearest-neighbour distances (n,
    ≥ 2) of n ≥ 2 points.

    μ_i = T_2(x_i)/T_1(x_i) is Pareto: P(μ > t) = t^{−m}, so log μ_i ~ Exp(m) and
    the maximum-likelihood estimate is n/Σ_i log μ_i. ``method="mle"`` returns the
    bias-corrected variant m̂ = (n − 1)/Σ_i log μ_i, unbiased if the μ_i were
    independent (Σ_i log μ_i ~ Gamma(n, m), E[1/Σ] = m/(n − 1)); they are only
    approximately so, since neighbourhoods overlap. ``method="fit"``: sort the μ_i, set
    F_i = i/n, keep the smallest ⌊(1 − ``discard``) n⌋ (never the last, where
    F = 1), and return the least-squares slope through the origin of
    y = −log(1 − F) against x = log μ: Σ x y / Σ x². the ImageNet chapter.
    """
    t = _check_distances(distances, min_cols=2)
    method = check_choice("method", method, TWONN_METHODS)
    discard = check_finite("discard", discard)
    if not 0 <= discard < 1:
        raise ValueError(f"discard must be in [0, 1), got {discard}")
    n = t.shape[0]
    if n < 2:
        raise ValueError(f"distances must have at least 2 rows (points), got {n}")
    log_mu = torch.log(t[:, 1] / t[:, 0])
    if method == "mle":
        total = float(log_mu.sum())
        if total <= 0:
            raise ValueError(
                "distances: T_2 = T_1 for every point; the TwoNN estimate is infinite"
            )
        return (n - 1) / total
    log_mu = log_mu.sort().values
    keep = min(int((1 - discard) * n), n - 1)
    if keep < 1:
        raise ValueError(f"discard = {discard} leaves no point to fit with n = {n}")
    f = torch.arange(1, keep + 1, dtype=torch.float64, device=t.device) / n
    xs, ys = log_mu[:keep], -torch.log1p(-f)
    denom = float((xs * xs).sum())
    if denom <= 0:
        raise ValueError(
            "distances: T_2 = T_1 for every point kept; the TwoNN fit is undefined"
        )
    return float((xs * ys).sum()) / denom


def twonn_dimension(
    x: torch.Tensor, *, method: str = "mle", discard: float = 0.1, chunk: int = 512
) -> float:
    """TwoNN intrinsic dimension of the rows of ``x`` (no duplicate rows); see
    :func:`twonn_from_distances`.
    """
    x = check_points("x", x, min_points=3)
    method = check_choice("method", method, TWONN_METHODS)
    return twonn_from_distances(
        _knn_without_duplicates(x, 2, chunk), method=method, discard=discard
    )


# ----------------------------------------------------------------------------- PCA


@dataclass(frozen=True)
class PCAProfile:
    """Eigenvalues of the sample covariance (descending, float64), their shares and
    cumulative shares.
    """

    variances: torch.Tensor
    ratios: torch.Tensor
    cumulative: torch.Tensor

    def components_for(self, fraction: float) -> int:
        """The smallest m with λ_1 + … + λ_m ≥ ``fraction`` · Σ_j λ_j, for 0 < fraction
        ≤ 1.
        """
        fraction = check_positive("fraction", fraction)
        if fraction > 1:
            raise ValueError(
                f"fraction must be <= 1 (a share of the variance), got {fraction}"
            )
        m = int((self.cumulative < fraction - 1e-12).sum()) + 1
        return min(m, self.cumulative.numel())


def pca_profile(x: torch.Tensor) -> PCAProfile:
    """The PCA variance profile of the rows of ``x``.

    λ_1 ≥ … ≥ λ_r, r = min(n, d), the eigenvalues of the sample covariance
    (1/(n−1)) Σ_i (x_i − x̄)(x_i − x̄)ᵀ, computed in float64 from the smaller of
    the d × d covariance and the n × n Gram matrix; ratios λ_j/Σλ and their
    cumulative sums. Raises ``ValueError`` for data with zero variance.
    """
    x = check_points("x", x, min_points=2)
    xc = x.detach().to(
        float64_device(x.device), torch.float64
    )  # MPS has no float64: the CPU
    xc = xc - xc.mean(dim=0)
    n, d = xc.shape
    gram = xc @ xc.T if n < d else xc.T @ xc
    eig = torch.linalg.eigvalsh(gram).flip(0).clamp_min(0) / (n - 1)
    total = float(eig.sum())
    if total <= 0:
        raise ValueError(
            "x has zero variance (all rows equal): no principal components"
        )
    ratios = eig / total
    return PCAProfile(eig, ratios, ratios.cumsum(0))


def pca_components(x: torch.Tensor, fraction: float = 0.95) -> int:
    """The number of principal components that carry ``fraction`` of the variance of
    ``x``.
    """
    fraction = check_positive("fraction", fraction)
    if fraction > 1:
        raise ValueError(
            f"fraction must be <= 1 (a share of the variance), got {fraction}"
        )
    return pca_profile(x).components_for(fraction)


# -----------------------------------------------------------------------------
# synthetic data of known dimension


def embedded_gaussian(
    n: int,
    intrinsic: int,
    ambient: int,
    *,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """n points z_i ~ N(0, I_m) (m = ``intrinsic``) mapped into R^D (D = ``ambient``) by
    a random isometry, plus noise.

    x_i = Q z_i + ``noise`` · g_i with Q (D × m) having orthonormal columns and
    g_i ~ N(0, I_D): an m-dimensional Gaussian on a random m-dimensional
    subspace. The test case of the estimators. Device of ``generator``.
    """
    n = check_int("n", n, minimum=2)
    intrinsic = check_int("intrinsic", intrinsic, minimum=1)
    ambient = check_int("ambient", ambient, minimum=1)
    if intrinsic > ambient:
        raise ValueError(f"intrinsic must be <= ambient = {ambient}, got {intrinsic}")
    noise = check_positive("noise", noise, allow_zero=True)
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    if not isinstance(g, torch.Generator):
        raise ValueError(
            f"generator must be a torch.Generator or None, got {type(g).__name__}"
        )
    q, _ = torch.linalg.qr(
        torch.randn(ambient, intrinsic, generator=g, device=g.device, dtype=dtype)
    )
    x = torch.randn(n, intrinsic, generator=g, device=g.device, dtype=dtype) @ q.T
    if noise > 0:
        x = x + noise * torch.randn(
            n, ambient, generator=g, device=g.device, dtype=dtype
        )
    return x


def embedded_curve(
    n: int,
    ambient: int,
    *,
    frequencies: int | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """n points on a closed curve in R^D (a 1-dimensional manifold that is far from any
    line), the ImageNet chapter.

    x(t) = Σ_{f=1}^{F} (a_f cos 2πft + b_f sin 2πft)/f with t uniform on [0, 1)
    and random a_f, b_f ~ N(0, I_D), F = ``frequencies`` (default D/2):
    its intrinsic dimension is 1, yet its variance is spread over up to 2F
    principal directions, so PCA overestimates it and the MLE does not.
    """
    n = check_int("n", n, minimum=2)
    ambient = check_int("ambient", ambient, minimum=2)
    frequencies = (
        max(1, ambient // 2)
        if frequencies is None
        else check_int("frequencies", frequencies, minimum=1)
    )
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    if not isinstance(g, torch.Generator):
        raise ValueError(
            f"generator must be a torch.Generator or None, got {type(g).__name__}"
        )
    t = torch.rand(n, 1, generator=g, device=g.device, dtype=dtype)
    f = torch.arange(1, frequencies + 1, device=g.device, dtype=dtype)
    a = (
        torch.randn(frequencies, ambient, generator=g, device=g.device, dtype=dtype)
        / f[:, None]
    )
    b = (
        torch.randn(frequencies, ambient, generator=g, device=g.device, dtype=dtype)
        / f[:, None]
    )
    phase = 2 * torch.pi * t * f[None, :]
    return torch.cos(phase) @ a + torch.sin(phase) @ b


# ----------------------------------------------------------------------------- MNIST,
# when it can be had


class ImageData(NamedTuple):
    """Flattened images ``x`` (n, pixels) in [0, 1], labels ``y`` and where they came
    from.
    """

    x: torch.Tensor
    y: torch.Tensor
    source: str


def offline() -> bool:
    """True when the environment variable ``LAWLIB_OFFLINE`` is set to anything but '',
    '0', 'false', 'no'.
    """
    return os.environ.get("LAWLIB_OFFLINE", "").strip().lower() not in (
        "",
        "0",
        "false",
        "no",
    )


#: Where MNIST's four IDX files are published (tried in order).
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MNIST_FILES = {
    True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IDX_TYPES = {
    0x08: torch.uint8,
    0x09: torch.int8,
    0x0B: torch.int16,
    0x0C: torch.int32,
    0x0D: torch.float32,
    0x0E: torch.float64,
}


def read_idx(data: bytes) -> torch.Tensor:
    """Parse an IDX file (the format of MNIST), gzip-compressed or not, into a tensor.

    Layout: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed
    byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of
    dimensions k, then k big-endian 32-bit sizes, then the values, big-endian.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError("data is not an IDX file (bad magic number)")
    dtype, ndim = _IDX_TYPES[data[2]], data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = data[4 + 4 * ndim :]
    itemsize = torch.empty((), dtype=dtype).element_size()
    count = math.prod(shape)
    if len(body) != count * itemsize:
        raise ValueError(
            f"data holds {len(body)} bytes of values, the header promises "
            f"{count * itemsize}"
        )
    if itemsize == 1:
        return torch.frombuffer(bytearray(body), dtype=dtype).reshape(shape)
    big = {
        torch.int16: ">i2",
        torch.int32: ">i4",
        torch.float32: ">f4",
        torch.float64: ">f8",
    }[dtype]
    import numpy as np

    return torch.from_numpy(
        np.frombuffer(body, dtype=big).astype(big[1:]).copy()
    ).reshape(shape)


def _fetch(name: str, folder: Path, mirrors: Sequence[str], timeout: float) -> bytes:
    """The bytes of one MNIST file: from ``folder`` if cached, else from the first
    mirror that answers.
    """
    cached = folder / name
    if cached.is_file():
        return cached.read_bytes()
    errors = []
    for mirror in mirrors:
        try:
            with urllib.request.urlopen(mirror + name, timeout=timeout) as response:
                data = response.read()
        except (OSError, ValueError) as err:  # URLError, timeouts, refused connections
            errors.append(f"{mirror}: {type(err).__name__}")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
        return data
    raise OSError("no MNIST mirror answered (" + "; ".join(errors) + ")")


def load_mnist_if_available(
    root: str | os.PathLike | None = None,
    *,
    train: bool = True,
    timeout: float = 10.0,
    verbose: bool = True,
    mirrors: Sequence[str] = MNIST_MIRRORS,
) -> ImageData | None:
    """MNIST (60,000 training or 10,000 test images, 28 × 28 → 784 pixels in [0, 1]) or
    ``None``.

    Downloads the two IDX files (images and labels) with ``urllib`` and parses them with
    :func:`read_idx`; no torchvision needed. Files are cached under ``root`` (default
    ``$LAWLIB_DATA`` or ``~/.cache/lawlib``) in ``MNIST/raw``. Every network call has a
    timeout of ``timeout`` seconds, so a missing network returns ``None`` quickly
    instead of hanging; so does ``LAWLIB_OFFLINE`` (:func:`offline`). With ``verbose``
    it says in one sentence what happened.
    """
    timeout = check_positive("timeout", timeout)

    def say(msg: str) -> None:
        if verbose:
            print(msg)

    if offline():
        say("MNIST was not downloaded (LAWLIB_OFFLINE is set).")
        return None
    root = Path(
        root
        if root is not None
        else os.environ.get("LAWLIB_DATA", Path.home() / ".cache" / "lawlib")
    )
    folder = root / "MNIST" / "raw"
    try:
        images, labels = (
            read_idx(_fetch(name, folder, mirrors, timeout))
            for name in MNIST_FILES[bool(train)]
        )
    except OSError:
        say(
            "MNIST could not be downloaded here: no mirror answered within "
            f"{timeout:g} s."
        )
        return None
    except ValueError as err:
        say(f"The MNIST files could not be read ({err}).")
        return None
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        say("The MNIST files have unexpected shapes; not using them.")
        return None
    x = images.reshape(images.shape[0], -1).to(torch.float32) / 255.0
    say(f"MNIST loaded: {x.shape[0]} images of {x.shape[1]} pixels.")
    return ImageData(x, labels.to(torch.long), "MNIST (IDX files)")
