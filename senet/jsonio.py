"""Strict JSON for the files senet writes (``metrics.jsonl``, ``result.json``): no ``NaN`` or ``Infinity``.

Python's :func:`json.dumps` writes non-finite floats as the tokens ``NaN`` / ``Infinity``, which are not
JSON (other readers reject them). :func:`strict_json` refuses them instead and names where they are.
"""

from __future__ import annotations

import json
import math
from typing import Any

from senet.errors import SenetError


class NonFiniteJSONError(SenetError):
    """A value to be written as JSON holds NaN or an infinity; the message names its keys."""


def strict_json(obj: Any, *, indent: int | None = None) -> str:
    """``json.dumps(obj)`` refusing NaN and infinities with a :class:`NonFiniteJSONError` naming them."""
    try:
        return json.dumps(obj, indent=indent, allow_nan=False)
    except ValueError:
        where = non_finite_keys(obj)
        if not where:
            raise
        raise NonFiniteJSONError(
            f"not written: non-finite value(s) at {', '.join(where)} cannot be stored as JSON"
        ) from None


def non_finite_keys(obj: Any, prefix: str = "") -> list[str]:
    """Dotted keys (``a.b``, ``rows[2]``) of the NaN / infinite floats inside ``obj``."""
    if isinstance(obj, float):
        return [] if math.isfinite(obj) else [f"{prefix or 'value'}={obj}"]
    if isinstance(obj, dict):
        items = ((f"{prefix}.{k}" if prefix else str(k), v) for k, v in obj.items())
    elif isinstance(obj, list | tuple):
        items = ((f"{prefix}[{i}]", v) for i, v in enumerate(obj))
    else:
        return []
    return [key for name, value in items for key in non_finite_keys(value, name)]
