"""torch.hub entry points: ``torch.hub.load(REPO_OR_DIR, "se_resnet50", pretrained=..., num_classes=...)``.

One entry per registered model (``torch.hub.list`` lists them). Building a network needs torch
alone; ``pretrained=`` / ``weights=`` load weights through :func:`senet.api.create_model`, which
also needs senet's other dependencies (safetensors, Pillow, PyYAML).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from senet.zoo import MODELS as _MODELS

dependencies = ["torch", "numpy"]


def _entry(name: str) -> Callable[..., Any]:
    def build(pretrained: bool | str = False, weights: str | None = None, **overrides: Any) -> Any:
        if pretrained or weights is not None:
            from senet.api import create_model  # the weights path: safetensors and friends

            return create_model(name, pretrained=pretrained, weights=weights, **overrides)
        return _MODELS.get(name).build(**overrides)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = _MODELS.get(name).doc or f"The registered senet model {name}."
    return build


for _name in _MODELS.names():
    globals()[_name] = _entry(_name)
