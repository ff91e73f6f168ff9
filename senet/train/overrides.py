"""Typed ``key=value`` overrides of configuration dataclasses (``--set lr=0.05``, ``data.root=...``).

One small coercion routine serves both the command line (strings) and ``config.json`` (JSON
values): each value is converted to its field's type hint, and an unknown field or an ill-typed
value is a :class:`ConfigError` that names the field, the value and what was expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
from collections.abc import Iterable
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

D = TypeVar("D")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A configuration key or value that does not fit its dataclass field."""


def _describe(hint: Any) -> str:
    if get_origin(hint) is Literal:
        return " | ".join(repr(a) for a in get_args(hint))
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Convert ``value`` (a CLI string or a JSON value) to the type ``hint`` of field ``key``."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return _parse_json(value, key) if isinstance(value, str) else value
    if origin in (Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(value, arg, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}={value!r}: expected {_describe(hint)}")
    if origin is Literal:
        for choice in args:
            if value == choice or (isinstance(value, str) and str(choice) == value):
                return choice
        raise ConfigError(f"{key}={value!r}: expected one of {', '.join(map(repr, args))}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"{key}={value!r}: expected a boolean (true/false)")
    if hint is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}={value!r}: expected an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value))
        except ValueError:
            raise ConfigError(f"{key}={value!r}: expected an integer") from None
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            raise ConfigError(f"{key}={value!r}: expected a number") from None
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}={value!r}: expected a string")
    if origin is tuple:
        items = _sequence(value, key)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(items))
        if len(items) != len(args):
            raise ConfigError(f"{key}={value!r}: expected {len(args)} values")
        return tuple(coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(items, args, strict=True)))
    if origin is dict:
        parsed = _parse_json(value, key) if isinstance(value, str) else value
        if not isinstance(parsed, dict):
            raise ConfigError(f'{key}={value!r}: expected a JSON object such as {{"drop_rate": 0.2}}')
        return dict(parsed)
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        parsed = _parse_json(value, key) if isinstance(value, str) else value
        if not isinstance(parsed, dict):
            raise ConfigError(f"{key}={value!r}: expected a JSON object of {hint.__name__} fields")
        return from_dict(hint, parsed, prefix=f"{key}.")
    raise ConfigError(f"{key}: unsupported field type {_describe(hint)}")


def _parse_json(value: str, key: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ConfigError(f"{key}={value!r}: expected JSON") from None


def _sequence(value: Any, key: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            parsed = _parse_json(text, key)
            if isinstance(parsed, list):
                return parsed
        return [v.strip() for v in text.split(",") if v.strip()]
    raise ConfigError(f"{key}={value!r}: expected a comma-separated list")


def _fields(cls: type) -> dict[str, Any]:
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _unknown(cls: type, name: str, prefix: str) -> ConfigError:
    valid = sorted(_fields(cls))
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(prefix + c for c in close)}?" if close else ""
    return ConfigError(
        f"unknown option {prefix + name!r}{hint} (valid: {', '.join(prefix + v for v in valid)})"
    )


def from_dict(cls: type[D], values: dict[str, Any], prefix: str = "") -> D:
    """Build dataclass ``cls`` from a dict of (possibly string) values; missing keys keep defaults."""
    fields = _fields(cls)
    kwargs = {}
    for name, value in values.items():
        if name not in fields:
            raise _unknown(cls, name, prefix)
        kwargs[name] = coerce(value, fields[name], prefix + name)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{prefix or cls.__name__}: {err}") from err


def apply(config: D, assignments: Iterable[str] | dict[str, Any]) -> D:
    """A copy of ``config`` with ``key=value`` assignments; dotted keys reach nested dataclasses.

    Assignments to one nested dataclass are applied together, so ``data.dataset=mnist`` and
    ``data.root=...`` may be given in either order.

    >>> apply(cfg, ["lr=0.05", "data.augment=none"])  # doctest: +SKIP
    """
    pairs = assignments.items() if isinstance(assignments, dict) else map(_split, assignments)
    return _assign(config, [(key.split("."), value) for key, value in pairs], "")


def _split(assignment: str) -> tuple[str, str]:
    key, sep, value = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {assignment!r} is not of the form KEY=VALUE (e.g. lr=0.05)")
    return key.strip(), value.strip()


def _assign(config: Any, items: list[tuple[list[str], Any]], prefix: str) -> Any:
    cls = type(config)
    fields = _fields(cls)
    changes: dict[str, Any] = {}
    nested: dict[str, list[tuple[list[str], Any]]] = {}
    for path, value in items:
        name = path[0]
        if name not in fields:
            raise _unknown(cls, name, prefix)
        key = prefix + name
        if len(path) == 1:
            changes[name] = coerce(value, fields[name], key)
            continue
        current = changes.get(name, getattr(config, name))
        if isinstance(current, dict):
            changes[name] = _set_nested(current, path[1:], _parse_scalar(value))
        elif dataclasses.is_dataclass(current):
            nested.setdefault(name, []).append((path[1:], value))
        else:
            raise ConfigError(f"{key} has no sub-options (got {prefix}{'.'.join(path)})")
    for name, sub in nested.items():
        changes[name] = _assign(changes.get(name, getattr(config, name)), sub, prefix + name + ".")
    try:
        return dataclasses.replace(config, **changes)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{prefix or cls.__name__}: {err}") from err


def _set_nested(mapping: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of ``mapping`` with ``value`` at ``path`` (``se.bias`` -> ``{"se": {"bias": ...}}``)."""
    out = dict(mapping)
    if len(path) == 1:
        out[path[0]] = value
    else:
        inner = out.get(path[0])
        out[path[0]] = _set_nested(inner if isinstance(inner, dict) else {}, path[1:], value)
    return out


def _parse_scalar(value: Any) -> Any:
    """A free-form value (model overrides): JSON if it parses (numbers, booleans, objects), else text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) dataclass: tuples become lists."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


__all__ = ["ConfigError", "apply", "coerce", "from_dict", "to_dict"]
