"""Networks used across the book.

* :func:`two_layer_relu` — f(x) = Σ_ℓ a_ℓ ReLU(⟨w_ℓ, x⟩ + b_ℓ), k neurons,
  the class F_k of Bubeck–Li–Nagaraj.
* :func:`mlp` — a ReLU multilayer perceptron.

Both are plain ``nn.Sequential`` chains, so :func:`lawlib.spectral_norm_product`
bounds them and ``sum(p.numel() for p in model.parameters())`` counts them.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ._checks import check_generator, check_int

__all__ = [
    "init_uniform_",
    "uniform_weights",
    "two_layer_relu",
    "mlp",
    "count_parameters",
]


def uniform_weights(
    shape: Sequence[int],
    fan_in: int,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """PyTorch's default initial law, U(−1/√fan_in, 1/√fan_in), drawn from
    ``generator``.

    Each entry is (2u − 1)/√fan_in with u ~ U[0, 1) from ``torch.rand`` (on the
    generator's device): the one initializer of the book's networks.
    """
    u = torch.rand(
        tuple(shape), generator=generator, device=generator.device, dtype=dtype
    )
    return (2 * u - 1) * (1.0 / fan_in**0.5)


def init_uniform_(model: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """Redraw every Linear and Conv2d weight and bias of ``model`` by
    :func:`uniform_weights`.

    fan_in is a layer's inputs per output (in_features, or channels × kernel size);
    weights then biases, layer by layer in module order. ``generator=None`` keeps
    PyTorch's own draw.
    """
    if generator is None:
        return model
    for layer in model.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            fan_in = layer.weight[0].numel()
            with torch.no_grad():
                for p in (layer.weight, layer.bias):
                    if p is not None:
                        w = uniform_weights(p.shape, fan_in, generator, p.dtype)
                        p.copy_(w.to(p.device))
    return model


def two_layer_relu(
    d: int,
    k: int,
    *,
    batch_norm: bool = False,
    output_bias: bool = False,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """The 2-layer ReLU network x ↦ Σ_{ℓ=1}^k a_ℓ ReLU(⟨w_ℓ, x⟩ + b_ℓ) (+ c if
    ``output_bias``).

    Parameters: k(d + 1) + k (+ 1). With ``batch_norm`` a ``BatchNorm1d(k)``
    sits between the linear layer and the ReLU, as in the experiments of
    Bubeck–Li–Nagaraj (section 5); it adds 2k parameters (its scale γ and shift β)
    and, in eval mode, acts on neuron ℓ as the affine map
    t ↦ γ_ℓ (t − μ_ℓ)/√(v_ℓ + 10⁻⁵) + β_ℓ. Weights drawn from ``generator`` when
    given.
    """
    d = check_int("d", d, minimum=1)
    k = check_int("k", k, minimum=1)
    check_generator("generator", generator)
    hidden: list[nn.Module] = [nn.Linear(d, k)] + (
        [nn.BatchNorm1d(k)] if batch_norm else []
    )
    model = nn.Sequential(
        *hidden, nn.ReLU(), nn.Linear(k, 1, bias=output_bias), nn.Flatten(0)
    )
    return init_uniform_(model, generator)


def mlp(
    d: int,
    widths: Sequence[int],
    out: int = 1,
    *,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """A ReLU network d → widths[0] → … → widths[-1] → out.

    For ``out == 1`` the output is flattened to shape (m,).
    """
    d = check_int("d", d, minimum=1)
    out = check_int("out", out, minimum=1)
    check_generator("generator", generator)
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise ValueError(f"widths must be a sequence of hidden widths, got {widths!r}")
    widths = list(widths)
    if len(widths) == 0:
        raise ValueError("widths must list at least one hidden width")
    layers: list[nn.Module] = []
    prev = d
    for i, w in enumerate(widths):
        w = check_int(f"widths[{i}]", w, minimum=1)
        layers += [nn.Linear(prev, w), nn.ReLU()]
        prev = w
    layers.append(nn.Linear(prev, out))
    if out == 1:
        layers.append(nn.Flatten(0))
    return init_uniform_(nn.Sequential(*layers), generator)


def count_parameters(model: nn.Module) -> int:
    """The number of parameters P of ``model``: every weight, frozen or not (all
    chapters).

    The law of robustness counts all the numbers that specify a member of the
    class, so a parameter that is not being trained right now still counts.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters())
