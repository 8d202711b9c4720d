"""The ImageNet back-of-the-envelope: from the law of robustness to a parameter count.

The universal law of robustness says that, for a class of P
parameters, fitting noisy data below the noise level with an O(1)-Lipschitz
function needs, up to constants and logarithmic factors, P ≳ n · d. It is a
*lower bound*, proved for isoperimetric covariates; it says nothing about
which d to use for real images. The back-of-the-envelope replaces d by an
**effective dimension** d_eff. Bubeck and Sellke (2021, section 1.1) only
guess that d_eff lies between 15 and 150 for MNIST; *calibrating* it as
d_eff = P / n on a data set where the size of good robust models is known is
the method of the lecture slides the book follows:

* :func:`effective_dimension` — d_eff = P / n  (P parameters, n samples;
  d_eff in "coordinates per sample");
* :func:`predicted_parameters` — P = n · d_eff (parameters);
* :func:`dimension_ratio` — d / d_eff (dimensionless: how many times smaller
  the effective dimension is than the pixel count d);
* :func:`envelope_parameters` — P = n · d / ratio, the same with the ratio;
* :func:`calibrate` / :class:`Calibration` — all of these as intervals, from a
  range of parameter counts, and :meth:`Calibration.predict` to carry the
  calibrated ratio to another data set.

The MNIST calibration uses the network family of Madry et al. (2018), built
here as torch modules (:func:`madry_mnist_cnn`) so that its parameter counts
are *computed*, not typed in. :func:`reference_models` builds a few well-known
architectures (ResNet-50, wide ResNets, Vision Transformers) on the ``meta``
device — shapes without memory — and counts them the same way.

Intrinsic dimension of a point cloud: how many coordinates the data really use.

The law of robustness is stated with the ambient dimension d, but real images lie near
much lower-dimensional sets. Three estimators, all from the data alone:

* :func:`pca_profile` (:meth:`PCAProfile.components_for`) — the *linear* dimension: the
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
from typing import Any, NamedTuple, Sequence

import torch
from torch import nn

from .._checks import (
    check_choice,
    check_finite,
    check_generator,
    check_int,
    check_points,
    check_positive,
    check_tensor,
)
from ..device import float64_device
from ..geometry import nearest
from ..models import count_parameters

__all__ = [
    "Calibration",
    "Interval",
    "ModelSize",
    "VisionTransformer",
    "calibrate",
    "dimension_ratio",
    "effective_dimension",
    "envelope_parameters",
    "image_dimension",
    "madry_mnist_cnn",
    "madry_mnist_parameter_count",
    "predicted_parameters",
    "reference_models",
    "resnet_imagenet",
    "vision_transformer",
    "wide_resnet_cifar",
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
    "mle_from_distances",
    "offline",
    "pca_profile",
    "read_idx",
    "twonn_dimension",
    "twonn_from_distances",
]


# ----------------------------------------------------------------------- the arithmetic


def image_dimension(height: int, width: int, channels: int = 1) -> int:
    """d = height · width · channels: the number of input coordinates of an image."""
    height = check_int("height", height, minimum=1)
    width = check_int("width", width, minimum=1)
    channels = check_int("channels", channels, minimum=1)
    return height * width * channels


def effective_dimension(parameters: float, n: float) -> float:
    """d_eff = P / n: the dimension that makes P = n · d_eff, the law's count, hold
    exactly.

    ``parameters`` P > 0 (a count of parameters), ``n`` > 0 (a count of
    samples). The result is in coordinates per sample; it is a calibration,
    not a measurement of the data.
    """
    parameters = check_positive("parameters", parameters)
    n = check_positive("n", n)
    return parameters / n


def predicted_parameters(n: float, d_eff: float) -> float:
    """P = n · d_eff parameters: the law of robustness's count for O(1)-Lipschitz fits,
    with d → d_eff.
    """
    n = check_positive("n", n)
    d_eff = check_positive("d_eff", d_eff)
    return n * d_eff


def dimension_ratio(d: float, d_eff: float) -> float:
    """d / d_eff: how many times the pixel count exceeds the effective dimension
    (dimensionless, the ImageNet chapter).
    """
    d = check_positive("d", d)
    d_eff = check_positive("d_eff", d_eff)
    return d / d_eff


def envelope_parameters(n: float, d: float, ratio: float) -> float:
    """P = n · d / ratio: the back-of-the-envelope count when d_eff = d / ratio.

    With the slides' ratio 100: MNIST (n = 6·10⁴, d = 784) gives ≈ 4.7·10⁵, ImageNet
    (n = 1.4·10⁷, d = 2·10⁵) gives 2.8·10¹⁰.
    """
    n = check_positive("n", n)
    d = check_positive("d", d)
    ratio = check_positive("ratio", ratio)
    return n * d / ratio


@dataclass(frozen=True)
class Interval:
    """A closed interval [low, high] of positive numbers
    (a range of parameter counts, dimensions or ratios).
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        low = check_positive("low", self.low)
        high = check_positive("high", self.high)
        if low > high:
            raise ValueError(f"low must be <= high, got low = {low}, high = {high}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def __contains__(self, value: float) -> bool:
        return self.low <= float(value) <= self.high

    @property
    def geometric_mean(self) -> float:
        """√(low · high), the middle of the interval on a log scale."""
        return math.sqrt(self.low * self.high)

    @property
    def decades(self) -> float:
        """log₁₀(high / low): the width of the interval in orders of magnitude."""
        return math.log10(self.high / self.low)


def _interval(name: str, value: float | Sequence[float]) -> Interval:
    if isinstance(value, Interval):
        return value
    if isinstance(value, (str, bytes)):
        raise ValueError(
            f"{name} must be a number or a (low, high) pair, got {value!r}"
        )
    if hasattr(value, "__iter__"):
        values = list(value)
        if len(values) != 2:
            raise ValueError(
                f"{name} must be a number or a (low, high) pair, got {len(values)} "
                "values"
            )
        low, high = (check_positive(name, v) for v in values)
        if low > high:
            raise ValueError(
                f"{name} must be a (low, high) pair with low <= high, got ({low}, "
                f"{high})"
            )
        return Interval(low, high)
    v = check_positive(name, value)
    return Interval(v, v)


@dataclass(frozen=True)
class Calibration:
    """What a data set (n samples in dimension d) and the sizes P of good robust models
    on it imply.

    ``effective_dimension`` = P/n and ``ratio`` = d/d_eff = n·d/P, each an
    :class:`Interval` (the ratio's ends come from the opposite ends of P).
    """

    n: float
    d: float
    parameters: Interval
    effective_dimension: Interval
    ratio: Interval

    def predict(self, n: float, d: float) -> Interval:
        """P = n · d / ratio over the calibrated ratio interval: the prediction for
        another data set.
        """
        n = check_positive("n", n)
        d = check_positive("d", d)
        return Interval(n * d / self.ratio.high, n * d / self.ratio.low)


def calibrate(n: float, d: float, parameters: float | Sequence[float]) -> Calibration:
    """Calibrate the effective dimension on a data set of n samples in dimension d.

    ``parameters`` is the size P of good robust models, a number or a
    (low, high) pair. Returns d_eff = P/n and d/d_eff = n·d/P as intervals.
    """
    n = check_positive("n", n)
    d = check_positive("d", d)
    p = _interval("parameters", parameters)
    deff = Interval(p.low / n, p.high / n)
    return Calibration(n, d, p, deff, Interval(d / deff.high, d / deff.low))


# ----------------------------------------------------- the MNIST family of Madry et al.


def _init_uniform_(model: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """PyTorch's default law U(−1/√fan_in, 1/√fan_in) for every conv/linear weight and
    bias, drawn from ``generator``.
    """
    if generator is None:
        return model
    for layer in model.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            fan_in = layer.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in)
            with torch.no_grad():
                for p in (layer.weight, layer.bias):
                    if p is not None:
                        u = torch.rand(
                            p.shape,
                            generator=generator,
                            device=generator.device,
                            dtype=p.dtype,
                        )
                        p.copy_((2 * u - 1).to(p.device) * bound)
    return model


def madry_mnist_cnn(
    scale: int = 1,
    *,
    kernel_size: int = 5,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> nn.Sequential:
    """The MNIST network of Madry et al. (2018) at capacity scale s.

    The paper's initial network (s = 1) has a convolutional layer with 2
    filters, another with 4 filters and a fully connected hidden layer of 64
    units, each convolution followed by 2×2 max-pooling; capacity scale s
    multiplies the filters and the hidden units by s. The paper does not state
    the kernel size: 5×5 kernels and "SAME" padding (stride 1) are those of the
    released model (the ``mnist_challenge`` code), which is the s = 16 member
    (32 and 64 filters, 1024 hidden units), and are *assumed* for s = 1 … 8.
    The inference barely matters: the two convolutions hold under 2% of the
    parameters at every scale (200 s² + 56 s of 12744 s² + 760 s + 10).
    Input: flattened images (m, 784); output: 10 logits.

        (m, 784) → 1×28×28 → conv5×5, 2s → ReLU → pool → 2s×14×14
                 → conv5×5, 4s → ReLU → pool → 4s×7×7 → fc 64s → ReLU → fc 10

    Parameters: 12744 s² + 760 s + 10 for 5×5 kernels
    (:func:`madry_mnist_parameter_count`).
    """
    scale = check_int("scale", scale, minimum=1)
    kernel_size = check_int("kernel_size", kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd (for 'same' padding), got {kernel_size}"
        )
    check_generator("generator", generator)
    c1, c2, h = 2 * scale, 4 * scale, 64 * scale
    pad = kernel_size // 2
    model = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, c1, kernel_size, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, kernel_size, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(7 * 7 * c2, h),
        nn.ReLU(),
        nn.Linear(h, 10),
    )
    if device is not None:
        model = model.to(device)
    return _init_uniform_(model, generator)


def madry_mnist_parameter_count(scale: int, kernel_size: int = 5) -> int:
    """The parameter count of :func:`madry_mnist_cnn` at capacity scale s, in closed
    form.

    conv 1: k²·2s + 2s; conv 2: k²·2s·4s + 4s; fc 1: 49·4s·64s + 64s; fc 2: 64s·10 + 10.
    For k = 5: 12744 s² + 760 s + 10, i.e. 13,514 at s = 1, 206,954 at s = 4 and
    3,274,634 at s = 16.
    """
    s = check_int("scale", scale, minimum=1)
    k = check_int("kernel_size", kernel_size, minimum=1)
    return (
        (k * k * 2 * s + 2 * s)
        + (k * k * 2 * s * 4 * s + 4 * s)
        + (49 * 4 * s * 64 * s + 64 * s)
        + (64 * s * 10 + 10)
    )


# ------------------------------------------------------------- well-known architectures


class _Bottleneck(nn.Module):
    """ResNet bottleneck: 1×1 → 3×3 (stride) → 1×1 (×4 channels), batch norms,
    projection shortcut when needed.
    """

    def __init__(self, inplanes: int, planes: int, width: int, stride: int) -> None:
        super().__init__()
        out = planes * 4
        self.body = nn.Sequential(
            nn.Conv2d(inplanes, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, out, 1, bias=False),
            nn.BatchNorm2d(out),
        )
        self.shortcut = (
            nn.Sequential(
                nn.Conv2d(inplanes, out, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out),
            )
            if stride != 1 or inplanes != out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet_imagenet(
    layers: Sequence[int] = (3, 4, 6, 3),
    *,
    width_per_group: int = 64,
    num_classes: int = 1000,
    device: torch.device | str = "meta",
) -> nn.Module:
    """A bottleneck ResNet for 224×224 ImageNet images, laid out as torchvision's
    (He et al. 2016), the ImageNet chapter.

    ``layers = (3, 4, 6, 3)`` is ResNet-50 (25,557,032 parameters);
    ``width_per_group = 128`` gives Wide ResNet-50-2 (Zagoruyko and Komodakis 2016).
    Built on ``device`` ("meta" by default: shapes only, no memory).
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise ValueError(f"layers must be a sequence of 4 block counts, got {layers!r}")
    layers = [check_int(f"layers[{i}]", v, minimum=1) for i, v in enumerate(layers)]
    if len(layers) != 4:
        raise ValueError(
            f"layers must list 4 block counts (one per stage), got {len(layers)}"
        )
    width_per_group = check_int("width_per_group", width_per_group, minimum=1)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    with torch.device(device):
        stem = [
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        ]
        blocks: list[nn.Module] = []
        inplanes = 64
        for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), layers)):
            width = planes * width_per_group // 64
            for i in range(count):
                blocks.append(
                    _Bottleneck(
                        inplanes, planes, width, 2 if (i == 0 and stage > 0) else 1
                    )
                )
                inplanes = planes * 4
        head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inplanes, num_classes)]
        return nn.Sequential(*stem, *blocks, *head)


class _WideBasic(nn.Module):
    """Pre-activation wide block: BN → ReLU → 3×3 conv (stride) → BN → ReLU → 3×3 conv,
    1×1 shortcut when shapes change.
    """

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = (
            nn.BatchNorm2d(cin),
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        )
        self.bn2, self.conv2 = (
            nn.BatchNorm2d(cout),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        )
        self.shortcut = (
            nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            if (cin != cout or stride != 1)
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.bn1(x))
        out = self.conv2(torch.relu(self.bn2(self.conv1(a))))
        return out + (self.shortcut(a) if self.shortcut is not None else x)


def wide_resnet_cifar(
    depth: int = 28,
    widen: int = 10,
    *,
    num_classes: int = 10,
    device: torch.device | str = "meta",
) -> nn.Module:
    """WRN-depth-widen for 32×32 CIFAR images (Zagoruyko and Komodakis 2016), the
    ImageNet chapter.

    A 3×3 stem of 16 channels, three stages of N = (depth − 4)/6 pre-activation
    blocks of widths 16·widen, 32·widen, 64·widen (strides 1, 2, 2), a final
    BN-ReLU, global pooling and a linear layer. WRN-28-10 is the usual robust
    CIFAR-10 model; WRN-34-10 matches the wide network of Madry et al. (2018)
    (five residual units of 160, 320, 640 filters); WRN-70-16 is the largest of
    Gowal et al. (2020). Built on ``device`` ("meta" by default).
    """
    depth = check_int("depth", depth, minimum=10)
    if (depth - 4) % 6:
        raise ValueError(f"depth must be 6N + 4 (N blocks per stage), got {depth}")
    widen = check_int("widen", widen, minimum=1)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    n_blocks = (depth - 4) // 6
    widths = (16 * widen, 32 * widen, 64 * widen)
    with torch.device(device):
        layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, padding=1, bias=False)]
        cin = 16
        for stage, w in enumerate(widths):
            for i in range(n_blocks):
                layers.append(_WideBasic(cin, w, 2 if (i == 0 and stage > 0) else 1))
                cin = w
        layers += [
            nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(cin, num_classes),
        ]
        return nn.Sequential(*layers)


class VisionTransformer(nn.Module):
    """A ViT classifier (Dosovitskiy et al. 2021) with torchvision's parameterisation.

    Patch embedding (a p×p convolution of stride p), a class token, learned
    position embeddings for (image/p)² + 1 tokens, ``depth`` pre-norm encoder
    layers (multi-head attention with ``heads`` heads, an MLP of width
    ``mlp_dim`` with GELU), a final layer norm and a linear head.
    """

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_dim: int,
        num_classes: int,
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.conv_proj = nn.Conv2d(3, dim, patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        tokens = (image_size // patch_size) ** 2 + 1
        self.pos_embedding = nn.Parameter(torch.zeros(1, tokens, dim))
        layer = nn.TransformerEncoderLayer(
            dim,
            heads,
            mlp_dim,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.conv_proj(x).flatten(2).transpose(1, 2)  # (m, tokens − 1, dim)
        z = (
            torch.cat([self.class_token.expand(z.shape[0], -1, -1), z], dim=1)
            + self.pos_embedding
        )
        return self.head(self.ln(self.encoder(z))[:, 0])


def vision_transformer(
    image_size: int = 224,
    patch_size: int = 16,
    dim: int = 768,
    depth: int = 12,
    heads: int = 12,
    mlp_dim: int = 3072,
    *,
    num_classes: int = 1000,
    device: torch.device | str = "meta",
) -> VisionTransformer:
    """Build a :class:`VisionTransformer`; the defaults are ViT-B/16 at 224×224
    (86,567,656 parameters), the ImageNet chapter.

    ViT-L/16: dim 1024, depth 24, heads 16, mlp 4096. ViT-H/14: patch 14, dim
    1280, depth 32, heads 16, mlp 5120 (Dosovitskiy et al. 2021, table 1).
    Built on ``device`` ("meta" by default).
    """
    image_size = check_int("image_size", image_size, minimum=1)
    patch_size = check_int("patch_size", patch_size, minimum=1)
    if patch_size > image_size:
        raise ValueError(
            f"patch_size must be <= image_size = {image_size}, got {patch_size}"
        )
    dim = check_int("dim", dim, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    heads = check_int("heads", heads, minimum=1)
    if dim % heads:
        raise ValueError(f"heads must divide dim = {dim}, got {heads}")
    mlp_dim = check_int("mlp_dim", mlp_dim, minimum=1)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    with torch.device(device):
        return VisionTransformer(
            image_size, patch_size, dim, depth, heads, mlp_dim, num_classes
        )


@dataclass(frozen=True)
class ModelSize:
    """A model's parameter count: ``computed`` by building it here, or cited
    (``computed`` False).
    """

    name: str
    dataset: str
    parameters: int
    computed: bool
    note: str


#: (name, data set, builder, keyword arguments, note) of the architectures the ImageNet
#: chapter builds and counts.
_REFERENCE: tuple[tuple[str, str, Any, dict, str], ...] = (
    (
        "WRN-28-10",
        "CIFAR-10",
        wide_resnet_cifar,
        dict(depth=28, widen=10),
        "common robust CIFAR-10 model",
    ),
    (
        "WRN-34-10",
        "CIFAR-10",
        wide_resnet_cifar,
        dict(depth=34, widen=10),
        "wide net of Madry et al. (2018)",
    ),
    (
        "WRN-70-16",
        "CIFAR-10",
        wide_resnet_cifar,
        dict(depth=70, widen=16),
        "largest of Gowal et al. (2020)",
    ),
    (
        "ResNet-50",
        "ImageNet",
        resnet_imagenet,
        dict(),
        "standard robust ImageNet baseline",
    ),
    (
        "WRN-50-2",
        "ImageNet",
        resnet_imagenet,
        dict(width_per_group=128),
        "wide ResNet-50",
    ),
    ("ViT-B/16", "ImageNet", vision_transformer, dict(), "Dosovitskiy et al. (2021)"),
    (
        "ViT-L/16",
        "ImageNet",
        vision_transformer,
        dict(dim=1024, depth=24, heads=16, mlp_dim=4096),
        "Dosovitskiy et al. (2021)",
    ),
    (
        "ViT-H/14",
        "ImageNet",
        vision_transformer,
        dict(patch_size=14, dim=1280, depth=32, heads=16, mlp_dim=5120),
        "Dosovitskiy et al. (2021)",
    ),
)


def reference_models(device: torch.device | str = "meta") -> list[ModelSize]:
    """Build the reference architectures on ``device`` ("meta": no memory) and count
    them.

    Returns one :class:`ModelSize` per architecture, counted with
    :func:`lawlib.count_parameters` (every weight, batch-norm scales and
    shifts included; running statistics are buffers, not parameters).
    """
    out = []
    for name, dataset, builder, kwargs, note in _REFERENCE:
        model = builder(**kwargs, device=device)
        out.append(ModelSize(name, dataset, count_parameters(model), True, note))
        del model
    return out


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
