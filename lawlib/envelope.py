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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import nn

from ._checks import check_generator, check_int, check_positive
from .models import count_parameters

__all__ = [
    "Calibration",
    "Interval",
    "MADRY_CAPACITY_SCALES",
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
]

#: The capacity scales of Madry et al. (2018), figure "effect of network capacity"
#: (MNIST).
MADRY_CAPACITY_SCALES: tuple[int, ...] = (1, 2, 4, 8, 16)


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
