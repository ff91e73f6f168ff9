"""senet: Squeeze-and-Excitation networks (Hu et al., TPAMI 2019) in PyTorch.

The public names below are imported on first use, so that ``import senet.zoo`` (models only:
torch alone) does not load the weights, data and configuration machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported now, not on first use: the function shares its name with its module, which would
# shadow it once any module imported senet.complexity (it needs only torch and the model table).
from senet.complexity import Complexity, complexity  # noqa: F401

__version__ = "0.1.0"

_EXPORTS = {
    "MODELS": "senet.registry",
    "UnknownNameError": "senet.registry",
    "register_model": "senet.registry",
    "SEConfig": "senet.layers.se",
    "SqueezeExcite": "senet.layers.se",
    "create_feature_extractor": "senet.api",
    "create_model": "senet.api",
    "list_models": "senet.api",
    "load_weights": "senet.api",
    "save_pretrained": "senet.api",
    "optimize": "senet.fast",
}
__all__ = sorted([*_EXPORTS, "Complexity", "complexity"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'senet' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
