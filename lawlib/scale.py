"""Scale presets: the one place every experiment takes its sizes from.

Two scales exist. ``quick`` keeps each chapter under about a minute on two CPU
cores (it is what CI runs); ``full`` reproduces the papers' sizes on one GPU.
The scale is chosen by the argument to :func:`get_scale`, else the
environment variable ``LAWLIB_SCALE``, else by the device: ``quick`` on a CPU
and ``full`` on a GPU.

Sizes are grouped by chapter. A chapter reads its block with
``scale["memorization"].n_max`` (attribute access on a read-only namespace).
To add an experiment, add its sizes to :data:`PRESETS` under both scales.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Any

import torch

from ._checks import check_choice

SCALE_NAMES = ("quick", "full")

#: Sizes of every experiment, per chapter, per scale.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # Chapter 0: a small network on scikit-learn's digits, attacked by PGD.
    "intro": {
        "quick": dict(hidden=256, epochs=400, attack_steps=40, n_attack=300),
        "full": dict(hidden=1024, epochs=1500, attack_steps=200, n_attack=360),
    },
    # Chapter 1: the memorization model and high-dimensional geometry.
    "memorization": {
        "quick": dict(n=2000, dims=(2, 5, 10, 50, 200, 1000), n_pairs=20000, n_trials=200),
        "full": dict(n=20000, dims=(2, 5, 10, 50, 200, 1000, 5000), n_pairs=200000, n_trials=2000),
    },
}


class ScaleError(ValueError):
    """Raised for an unknown scale name or chapter key."""


@dataclass(frozen=True)
class Scale:
    """A named scale (``quick`` or ``full``) and the sizes it gives each chapter."""

    name: str
    presets: MappingProxyType = field(repr=False)

    def __getitem__(self, chapter: str) -> SimpleNamespace:
        """The sizes for ``chapter`` as a namespace, e.g. ``scale["memorization"].n``."""
        if chapter not in self.presets:
            raise ScaleError(f"chapter must be one of {', '.join(sorted(self.presets))}; got {chapter!r}")
        return SimpleNamespace(**self.presets[chapter])

    @property
    def is_full(self) -> bool:
        return self.name == "full"


def get_scale(name: str | None = None, device: torch.device | str | None = None) -> Scale:
    """Return the :class:`Scale` to run at.

    ``name`` if given, else ``$LAWLIB_SCALE``, else ``full`` when ``device`` is
    a GPU (cuda) and ``quick`` otherwise. An unknown name raises ``ValueError``
    naming ``scale``.
    """
    if name is None:
        name = os.environ.get("LAWLIB_SCALE") or None
    if name is None:
        dev_type = torch.device(device).type if device is not None else "cpu"
        name = "full" if dev_type == "cuda" else "quick"
    choice = check_choice("scale", name, SCALE_NAMES)
    return Scale(choice, MappingProxyType({ch: dict(p[choice]) for ch, p in PRESETS.items()}))
