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
        "quick": dict(hidden=256, epochs=400, lr=1e-2, random_epochs=400, attack_steps=40, bisection_steps=12,
                      n_attack=300, n_knn=40, n_radii=33, widget_radii=16),
        "full": dict(hidden=1024, epochs=1500, lr=1e-2, random_epochs=1500, attack_steps=200, bisection_steps=16,
                     n_attack=449, n_knn=300, n_radii=65, widget_radii=31),
    },
    # Chapter 1: the memorization model and high-dimensional geometry.
    "memorization": {
        "quick": dict(n=2000, dims=(2, 5, 10, 50, 200, 1000), n_pairs=20000, n_trials=2000),
        "full": dict(n=20000, dims=(2, 5, 10, 50, 200, 1000, 5000), n_pairs=200000, n_trials=20000),
    },
    # Chapter 2: minimum pairwise distances against the cap bound; the McShane extension.
    "kirszbraun": {
        "quick": dict(ns=(100, 300, 1000, 3000, 10000), dims=(20, 50, 100, 500), gamma=0.01,
                      cap_dims=(10, 50, 200), n_cap_pairs=100000, n_hist=1500, dims_hist=(10, 100, 1000),
                      n_mc=1000, d_mc=100, ns_lip=(100, 300, 1000, 3000), n_fresh=1000, n_starts=32, ascent_steps=20),
        "full": dict(ns=(100, 1000, 10000, 100000), dims=(20, 50, 100, 500, 2000), gamma=0.01,
                     cap_dims=(10, 50, 200, 500), n_cap_pairs=1000000, n_hist=5000, dims_hist=(10, 100, 1000, 5000),
                     n_mc=10000, d_mc=500, ns_lip=(100, 1000, 10000, 30000), n_fresh=1000, n_starts=256, ascent_steps=100),
    },
    # Chapter 3: Baum's network at n = 1000, d = 50; same-width networks trained by Adam; Lip against n.
    "baum": {
        "quick": dict(n=1000, d=50, n_fresh=1000, ascent_starts=200, ascent_steps=30, train_steps=3000, train_lr=1e-2,
                      train_tol=1e-3, sweep_d=20, sweep_ns=(100, 200, 400, 800), sweep_seeds=1, width_n=200, width_d=10),
        "full": dict(n=1000, d=50, n_fresh=1000, ascent_starts=1000, ascent_steps=200, train_steps=20000, train_lr=1e-2,
                     train_tol=1e-3, sweep_d=50, sweep_ns=(250, 500, 1000, 2000, 4000, 8000), sweep_seeds=3,
                     width_n=1000, width_d=50),
    },
    # Chapter 4: RBF and neuron-per-point memorizers, their Lipschitz constants as n grows, the table.
    "rbf": {
        "quick": dict(d=200, ns=(100, 300, 1000, 3000), n_table=500, d_table=100, train_steps=3000, train_lr=1e-2,
                      n_fresh=1000, n_starts=32, ascent_steps=20),
        "full": dict(d=1000, ns=(100, 1000, 10000, 30000), n_table=5000, d_table=500, train_steps=20000, train_lr=3e-3,
                     n_fresh=1000, n_starts=256, ascent_steps=100),
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
        try:
            dev_type = torch.device(device).type if device is not None else "cpu"
        except (RuntimeError, TypeError):
            raise ValueError(f"device must be a torch.device or a device name, got {device!r}") from None
        name = "full" if dev_type == "cuda" else "quick"
    choice = check_choice("scale", name, SCALE_NAMES)
    return Scale(choice, MappingProxyType({ch: dict(p[choice]) for ch, p in PRESETS.items()}))
