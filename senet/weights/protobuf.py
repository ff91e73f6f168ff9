"""A minimal protocol-buffers wire-format reader (enough for Caffe's ``NetParameter``).

No generated classes: a message is read as a list of ``(field number, value)`` pairs, where a
value is an ``int`` (varint, fixed32/64 as raw unsigned) or a ``memoryview`` (length-delimited:
strings, sub-messages, packed arrays). Wire types: 0 varint, 1 fixed64, 2 length-delimited,
5 fixed32; groups (3, 4) are obsolete and rejected.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from senet.errors import WeightsFileError

Value = int | memoryview


class ProtobufError(WeightsFileError):
    """Bytes that are not a well-formed protobuf message."""


def read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    """(value, next position) of the base-128 varint at ``pos``."""
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ProtobufError(f"truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ProtobufError(f"varint longer than 10 bytes at byte {pos}")


def iter_fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, Value]]:
    """Yield ``(field number, wire type, value)`` for every field of one message."""
    view = memoryview(buf)
    pos = 0
    while pos < len(view):
        key, pos = read_varint(view, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(view, pos)
        elif wire == 1:
            value, pos = int.from_bytes(view[pos : pos + 8], "little"), pos + 8
        elif wire == 2:
            size, pos = read_varint(view, pos)
            value, pos = view[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = int.from_bytes(view[pos : pos + 4], "little"), pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire} for field {field} before byte {pos}")
        if pos > len(view):
            raise ProtobufError(f"field {field} runs past the end of its message ({pos} > {len(view)})")
        yield field, wire, value


def fields(buf: bytes | memoryview) -> dict[int, list[tuple[int, Value]]]:
    """All fields of one message grouped by number: ``{field: [(wire type, value), ...]}``."""
    out: dict[int, list[tuple[int, Value]]] = {}
    for field, wire, value in iter_fields(buf):
        out.setdefault(field, []).append((wire, value))
    return out


def as_string(entries: list[tuple[int, Value]] | None, default: str = "") -> str:
    """The last value of a string field (protobuf: the last one wins)."""
    return bytes(entries[-1][1]).decode("utf-8") if entries else default


def as_ints(entries: list[tuple[int, Value]] | None) -> list[int]:
    """A repeated integer field, packed (wire type 2) or not."""
    values: list[int] = []
    for wire, value in entries or []:
        if wire == 2:
            view, pos = value, 0
            while pos < len(view):
                v, pos = read_varint(view, pos)
                values.append(v)
        else:
            values.append(int(value))
    return values


def as_floats(entries: list[tuple[int, Value]] | None, *, double: bool = False) -> np.ndarray:
    """A repeated ``float`` (or, with ``double``, ``double``) field, packed or one fixed-size
    value per element, as float32 (float64)."""
    code, dtype = ("<d", "<f8") if double else ("<f", "<f4")
    width = 8 if double else 4
    parts = [
        np.frombuffer(value, dtype=dtype)
        if wire == 2
        else np.array(struct.unpack(code, int(value).to_bytes(width, "little")), dtype=dtype)
        for wire, value in entries or []
    ]
    out = np.concatenate(parts) if parts else np.zeros(0, dtype)
    return out.astype(np.float64 if double else np.float32)


def as_float(entries: list[tuple[int, Value]] | None, default: float) -> float:
    """The last value of a scalar ``float`` field (fixed32)."""
    if not entries:
        return default
    return struct.unpack("<f", int(entries[-1][1]).to_bytes(4, "little"))[0]
