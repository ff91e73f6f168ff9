"""Wall-clock fast paths for SE networks (inference code only): BN folding, fused SE ops, ``optimize``.

``optimize`` (in :mod:`senet.fast.inference`) is imported lazily so that :mod:`senet.models.blocks` can use :mod:`senet.fast.ops`
without an import cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["optimize"]


def __getattr__(name: str) -> Any:
    if name == "optimize":
        from senet.fast.inference import optimize

        return optimize
    raise AttributeError(f"module 'senet.fast' has no attribute {name!r}")
