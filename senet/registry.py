"""A registry of named entries; :data:`MODELS` holds one :class:`ModelEntry` per model name.

``create_model`` and ``list_models`` look names up here. The built-in table is
:mod:`senet.zoo` (one row per SE / plain pair); :func:`register_model` adds a user's builder.
An entry answers "what is this model's default SEConfig / plain twin / input size" without
building a network: ``MODELS.get(name).config.se``, ``.twin``, ``.input_size``.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from torch import nn

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., nn.Module])


class UnknownNameError(KeyError):
    """A name that is not registered; the message suggests the closest registered names."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class Registry(Generic[T]):
    """Named entries of one kind; registering a name twice is refused."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, entry: T, name: str | None = None) -> T:
        """Register ``entry`` under ``name`` (default: its ``name`` or ``__name__``); a decorator too."""
        key = name or getattr(entry, "name", None) or entry.__name__  # type: ignore[attr-defined]
        if key in self._entries:
            raise ValueError(f"{self.kind} {key!r} is already registered")
        self._entries[key] = entry
        return entry

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}{hint} (`senet.list_models()` lists all)"
            ) from None

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching the shell-style ``pattern``, sorted."""
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: how to build it and what is known about it without building it."""

    name: str
    """The registered name, e.g. ``"se_resnet50"``."""
    build: Callable[..., nn.Module]
    """``build(**overrides)``: the network; an unknown override is a ``TypeError`` naming it."""
    config: Any = None
    """The family's frozen configuration preset (e.g. a ``ResNetConfig``) with its default ``se``
    (an ``SEConfig``, or None for a plain network); None for a user-registered callable."""
    family: type[nn.Module] | None = None
    """The network class ``build`` instantiates from ``config`` (None for a user callable)."""
    twin: str | None = None
    """The name of the same network with / without SE blocks (None: no twin registered)."""
    input_size: int = 224
    """The side of the input its figures are quoted at (Inception-ResNet-v2 299, CIFAR 32)."""
    doc: str = ""
    """One line: what it is and the paper's figures for it (e.g. "Table 2: 3.87 GFLOPs")."""

    def __call__(self, **overrides: Any) -> nn.Module:
        return self.build(**overrides)


MODELS: Registry[ModelEntry] = Registry("model")


def register_model(
    builder: F, name: str | None = None, *, twin: str | None = None, input_size: int = 224
) -> F:
    """Register a user's ``builder(**overrides) -> nn.Module`` under ``name`` (default: its
    ``__name__``) so that ``create_model(name)`` builds it; usable as a decorator. Returns ``builder``."""
    key = name or builder.__name__
    doc = (builder.__doc__ or "").strip().split("\n")[0]
    MODELS.register(ModelEntry(key, builder, twin=twin, input_size=input_size, doc=doc))
    return builder
