"""Typed configuration: frozen dataclasses whose fields are the options of every interface.

A field is declared once, with its type hint, its default and the docstring written under it
(``lr: float = 0.1`` then ``\"\"\"Base learning rate.\"\"\"``). From that one declaration come:

- the checks and conversions of :func:`coerce` (command-line strings and JSON/YAML/TOML values
  alike), whose errors name the key, the value and what was expected;
- ``key=value`` assignments with dotted keys into nested dataclasses (:func:`apply`), and whole
  nested mappings (:func:`merge`, the contents of a ``--config`` file);
- the command-line flags and their ``--help`` (:mod:`senet.cli_config`).

Nothing here knows a particular configuration: :class:`senet.train.TrainConfig`,
:class:`senet.data.DataConfig`, :class:`senet.SEConfig` and the commands' own options all use it.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import inspect
import json
import sys
import textwrap
import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from senet.errors import SenetError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

D = TypeVar("D")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(SenetError):
    """A configuration key or value that does not fit its dataclass field."""


# --------------------------------------------------------------------------- field metadata


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of dataclass ``cls`` (and of its bases), one line each."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):  # no source (frozen app, REPL): no help text
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


@functools.cache
def fields(cls: type) -> dict[str, Any]:
    """The init fields of dataclass ``cls`` with their resolved type hints (resolved once per class)."""
    hints = get_type_hints(cls, vars(sys.modules[cls.__module__]))
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def dataclass_of(hint: Any) -> type | None:
    """The dataclass in ``hint`` (``X`` or ``X | None``), else None."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    if get_origin(hint) in (Union, types.UnionType):
        found = [a for a in get_args(hint) if dataclasses.is_dataclass(a) and isinstance(a, type)]
        return found[0] if len(found) == 1 else None
    return None


def describe(hint: Any) -> str:
    """A short human name of a type hint: ``'sgd' | 'adamw'``, ``int | None``, ``tuple[float, ...]``."""
    if get_origin(hint) is Literal:
        return " | ".join(repr(a) for a in get_args(hint))
    if get_origin(hint) in (Union, types.UnionType):
        return " | ".join(describe(a) for a in get_args(hint))
    if hint is type(None):
        return "None"
    name = getattr(hint, "__name__", None)
    if name and not get_args(hint):
        return name
    return str(hint).replace("typing.", "")


# --------------------------------------------------------------------------- values


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Convert ``value`` (a command-line string or a JSON/YAML/TOML value) to the type ``hint`` of
    field ``key``; a value that does not fit is a :class:`ConfigError` naming key and value."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return _parse_json(value, key) if isinstance(value, str) else value
    if origin in (Union, types.UnionType):
        return _coerce_union(value, args, hint, key)
    if origin is Literal:
        for choice in args:
            if value == choice or (isinstance(value, str) and str(choice) == value):
                return choice
        raise ConfigError(f"{key}={value!r}: expected one of {', '.join(map(repr, args))}")
    if hint is bool:
        return _coerce_bool(value, key)
    if hint is int:
        return _coerce_int(value, key)
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
        return _coerce_tuple(value, args, key)
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        parsed = _parse_json(value, key) if isinstance(value, str) else value
        if not isinstance(parsed, Mapping):
            raise ConfigError(f"{key}={value!r}: expected a mapping of {hint.__name__} fields")
        return from_dict(hint, parsed, prefix=f"{key}.")
    raise ConfigError(f"{key}: unsupported field type {describe(hint)}")


def _coerce_union(value: Any, args: tuple[Any, ...], hint: Any, key: str) -> Any:
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
        if type(None) in args:
            return None
    errors = []
    for arg in (a for a in args if a is not type(None)):
        try:
            return coerce(value, arg, key)
        except ConfigError as err:
            errors.append(err)
    if len(errors) == 1:  # X | None: the error of X says more
        raise errors[0]
    raise ConfigError(f"{key}={value!r}: expected {describe(hint)}")


def _coerce_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ConfigError(f"{key}={value!r}: expected a boolean (true/false)")


def _coerce_int(value: Any, key: str) -> int:
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


def _coerce_tuple(value: Any, args: tuple[Any, ...], key: str) -> tuple[Any, ...]:
    items = _sequence(value, key)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(items))
    if len(items) != len(args):
        raise ConfigError(f"{key}={value!r}: expected {len(args)} values")
    return tuple(coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(items, args, strict=True)))


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
    if isinstance(value, (int, float)):
        return [value]
    raise ConfigError(f"{key}={value!r}: expected a comma-separated list")


# --------------------------------------------------------------------------- whole configurations


def unknown_key(cls: type, name: str, prefix: str) -> ConfigError:
    """The error for a key ``cls`` lacks: close names suggested, valid ones listed."""
    valid = sorted(fields(cls))
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(prefix + c for c in close)}?" if close else ""
    return ConfigError(
        f"unknown option {prefix + name!r}{hint} (valid: {', '.join(prefix + v for v in valid)})"
    )


def _build(cls: type[D], kwargs: dict[str, Any], prefix: str, replace_of: Any = None) -> D:
    try:
        return dataclasses.replace(replace_of, **kwargs) if replace_of is not None else cls(**kwargs)
    except (TypeError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"{prefix.rstrip('.') or cls.__name__}: {err}") from err


def from_dict(cls: type[D], values: Mapping[str, Any], prefix: str = "") -> D:
    """Build dataclass ``cls`` from a mapping of (possibly string) values; missing keys keep defaults."""
    hints = fields(cls)
    kwargs = {}
    for name, value in values.items():
        if name not in hints:
            raise unknown_key(cls, name, prefix)
        kwargs[name] = coerce(value, hints[name], prefix + name)
    return _build(cls, kwargs, prefix)


def merge(config: D, values: Mapping[str, Any], prefix: str = "") -> D:
    """A copy of ``config`` with the nested mapping ``values`` laid over it: a mapping given for a
    dataclass field edits that field's fields (starting from its default where it is None);
    every other value replaces the field. A ``--config`` file is applied this way."""
    cls = type(config)
    hints = fields(cls)
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name not in hints:
            raise unknown_key(cls, name, prefix)
        nested = dataclass_of(hints[name])
        current = getattr(config, name)
        if nested is not None and isinstance(value, Mapping):
            changes[name] = merge(current if current is not None else nested(), value, f"{prefix}{name}.")
        else:
            changes[name] = coerce(value, hints[name], prefix + name)
    return _build(cls, changes, prefix, replace_of=config)


def apply(config: D, assignments: Iterable[str] | Mapping[str, Any]) -> D:
    """A copy of ``config`` with ``key=value`` assignments; dotted keys reach nested dataclasses.

    Assignments to one nested dataclass are applied together, so ``data.dataset=mnist`` and
    ``data.root=...`` may be given in either order.

    >>> apply(cfg, ["lr=0.05", "data.augment=none", "model.se.reduction=8"])  # doctest: +SKIP
    """
    tree = nest(assignments)
    _check_paths(type(config), tree, "")
    return merge(config, tree)


def nest(assignments: Iterable[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Dotted ``key=value`` assignments as a nested mapping: ``{"data.root": x}`` -> ``{"data": {"root": x}}``."""
    pairs = assignments.items() if isinstance(assignments, Mapping) else map(split_assignment, assignments)
    tree: dict[str, Any] = {}
    for key, value in pairs:
        *parents, leaf = key.split(".")
        node = tree
        for i, part in enumerate(parents):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(
                    f"{'.'.join(parents[: i + 1])} is given both as a value and with sub-options"
                )
            node = child
        node[leaf] = value
    return tree


def _check_paths(cls: type, tree: Mapping[str, Any], prefix: str) -> None:
    """Dotted keys must follow dataclass fields: ``lr.x`` or ``data.sizee`` name what is wrong."""
    hints = fields(cls)
    for name, value in tree.items():
        if name not in hints:
            raise unknown_key(cls, name, prefix)
        if isinstance(value, dict):
            nested = dataclass_of(hints[name])
            if nested is None:
                raise ConfigError(
                    f"{prefix}{name} has no sub-options (got {prefix}{name}.{next(iter(value))})"
                )
            _check_paths(nested, value, f"{prefix}{name}.")


def split_assignment(assignment: str) -> tuple[str, str]:
    """``"lr=0.05"`` -> ``("lr", "0.05")``; anything else is an error showing the form."""
    key, sep, value = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {assignment!r} is not of the form KEY=VALUE (e.g. lr=0.05)")
    return key.strip(), value.strip()


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) dataclass: tuples become lists."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


# --------------------------------------------------------------------------- files

FILE_FORMATS = (".json", ".yaml", ".yml", ".toml")


def read_file(path: str | Path) -> dict[str, Any]:
    """A configuration file as a mapping: JSON, YAML (``.yaml``/``.yml``) or TOML, by its suffix."""
    path = Path(path)
    if path.suffix.lower() not in FILE_FORMATS:
        raise ConfigError(
            f"{path}: unknown configuration format {path.suffix!r}; use {', '.join(FILE_FORMATS)}"
        )
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the configuration ({err.strerror or err})") from None
    try:
        values = _parse_text(text, path.suffix.lower())
    except ValueError as err:  # JSONDecodeError, YAMLError and TOMLDecodeError all say where
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {err}") from None
    if not isinstance(values, dict):
        raise ConfigError(
            f"{path}: a configuration file holds a mapping of options, not {type(values).__name__}"
        )
    return values


def _parse_text(text: str, suffix: str) -> Any:
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        return tomllib.loads(text)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(str(err)) from None


def format_config(config: Any, fmt: Literal["json", "yaml"] = "json") -> str:
    """``config`` as a JSON or YAML document that :func:`read_file` reads back to the same value."""
    values = to_dict(config)
    if fmt == "yaml":
        return yaml.safe_dump(values, sort_keys=False)
    return json.dumps(values, indent=2) + "\n"


__all__ = [
    "ConfigError",
    "apply",
    "coerce",
    "field_docs",
    "fields",
    "format_config",
    "from_dict",
    "merge",
    "read_file",
    "to_dict",
]
