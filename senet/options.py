"""Command-line options generated from configuration dataclasses (one mechanism for every command).

:func:`add_options` turns every field of a dataclass, nested ones included, into a flag whose
help is the field's docstring: ``--lr``, ``--data.root``, ``--model.se.reduction``. Values stay
strings until :func:`resolve` applies them with :func:`senet.config.apply`, so the command line,
``--set KEY=VALUE``, ``--config FILE`` and ``config.json`` share one set of checks and errors.
A field marked ``field(metadata={"positional": True})`` becomes a positional argument.

Order of precedence in :func:`resolve`: the base (a recipe, a checkpoint's configuration),
then ``--config FILE``, then the flags, then every ``--set``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, get_args, get_origin

from senet.config import (
    ConfigError,
    apply,
    dataclass_of,
    describe,
    field_docs,
    fields,
    format_config,
    from_dict,
    merge,
    nest,
    read_file,
    split_assignment,
)

D = TypeVar("D")
PREFIX = "option:"  # argparse destinations of generated flags: "option:data.root"


def flag_name(path: str) -> str:
    """``data.input_size`` -> ``--data.input-size``."""
    return "--" + path.replace("_", "-")


def _metavar(hint: Any) -> str:
    inner = [a for a in get_args(hint) if a is not type(None)] if dataclass_of(hint) is None else []
    core = inner[0] if len(inner) == 1 and get_origin(hint) is not Literal else hint
    if get_origin(core) is Literal:
        return "{" + ",".join(str(a) for a in get_args(core)) + "}"
    if get_origin(core) is tuple:
        return "V1,V2,..."
    return {int: "INT", float: "FLOAT", str: "TEXT", bool: "BOOL"}.get(core, "VALUE")


def _help(path: str, doc: str, hint: Any, default: Any) -> str:
    """The field's documentation, then ``[key: type = default]`` (the key as --set and files name it)."""
    shown = "none" if default is None else default
    if isinstance(default, tuple):
        shown = ",".join(map(str, default)) or "()"
    elif isinstance(default, str):
        shown = repr(default)
    return f"{doc} [{path}: {describe(hint)} = {shown}]".strip().replace("%", "%%")


def add_options(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    aliases: Mapping[str, Sequence[str]] | None = None,
    exclude: Sequence[str] = (),
    title: str | None = None,
    _prefix: str = "",
) -> None:
    """One flag per field of dataclass ``cls`` (nested dataclasses in argument groups of their own).

    ``aliases`` maps a dotted key to extra flag names (``{"data.root": ["--data-root"]}``);
    ``exclude`` lists dotted keys that the command sets itself.
    """
    aliases = aliases or {}
    group = parser.add_argument_group(title or f"{cls.__name__} options") if _prefix or title else parser
    docs = field_docs(cls)
    specs = {f.name: f for f in dataclasses.fields(cls)}
    nested: list[tuple[str, type]] = []
    for name, hint in fields(cls).items():
        path = _prefix + name
        if path in exclude:
            continue
        sub = dataclass_of(hint)
        if sub is not None:
            nested.append((path, sub))
        else:
            _add_leaf(group, path, specs[name], hint, docs.get(name, ""), aliases.get(path, ()))
    for path, sub in nested:
        doc = docs.get(path.rsplit(".", 1)[-1], "")
        title = f"{path} ({sub.__name__}): {doc}" if doc else f"{path} ({sub.__name__})"
        add_options(parser, sub, aliases=aliases, exclude=exclude, title=title, _prefix=path + ".")


def _add_leaf(
    group: Any, path: str, spec: dataclasses.Field, hint: Any, doc: str, aliases: Sequence[str]
) -> None:
    """The flag (or positional argument) of one field; its value stays a string until resolved."""
    required = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
    default = None if spec.default is dataclasses.MISSING else spec.default
    if spec.default_factory is not dataclasses.MISSING:
        default = spec.default_factory()
    text = _help(path, doc, hint, default)
    if spec.metadata.get("positional"):
        if get_origin(hint) is tuple:
            nargs: str | None = "+" if required else "*"
        else:
            nargs = None if required else "?"
        group.add_argument(
            PREFIX + path, nargs=nargs, metavar=path.upper(), help=text, default=argparse.SUPPRESS
        )
        return
    kwargs: dict[str, Any] = {"dest": PREFIX + path, "default": argparse.SUPPRESS, "help": text}
    if hint is bool:
        kwargs.update(nargs="?", const="true", metavar="BOOL")
    else:
        kwargs.update(metavar=_metavar(hint))
    group.add_argument(flag_name(path), *aliases, **kwargs)


def add_file_options(parser: argparse.ArgumentParser, what: str = "configuration") -> None:
    """``--config FILE`` (JSON, YAML or TOML), ``--print-config [json|yaml]`` and ``--set KEY=VALUE``."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help=f"a whole {what} as JSON, YAML or TOML (a run's config.json reproduces it); flags given "
        "beside it override its values",
    )
    parser.add_argument(
        "--print-config",
        nargs="?",
        const="json",
        choices=("json", "yaml"),
        default=None,
        help=f"print the resolved {what} (JSON or YAML, readable by --config) and exit",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set any option by its dotted key, e.g. --set lr=0.05 --set model.se.reduction=8 "
        "(repeatable; applied last)",
    )


def given(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """The generated options present on the command line, as ``(dotted key, raw value)`` pairs."""
    return [(key[len(PREFIX) :], value) for key, value in vars(args).items() if key.startswith(PREFIX)]


def build(args: argparse.Namespace, cls: type[D]) -> D:
    """A command's options dataclass ``cls`` from the flags given (the others keep their defaults);
    a field without a default that was not given is an error naming its flag."""
    values = nest(dict(given(args)))
    for spec in dataclasses.fields(cls):
        required = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        if required and spec.name not in values:
            raise ConfigError(f"{flag_name(spec.name)} is required")
    return from_dict(cls, values)


def resolve(args: argparse.Namespace, base: D) -> D:
    """``base``, then ``--config FILE``, then the generated flags, then ``--set``: the typed result."""
    config = base
    if getattr(args, "config", None):
        config = merge(config, read_file(args.config))
    pairs = given(args) + [split_assignment(s) for s in getattr(args, "overrides", [])]
    return apply(config, dict(pairs)) if pairs else config


def print_config_and_exit(args: argparse.Namespace, config: Any) -> bool:
    """With ``--print-config``, write ``config`` to stdout and return True (the caller exits)."""
    fmt: Literal["json", "yaml"] | None = getattr(args, "print_config", None)
    if not fmt:
        return False
    sys.stdout.write(format_config(config, fmt))
    return True


__all__ = ["ConfigError", "add_file_options", "add_options", "flag_name", "given", "resolve"]
